package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Bounds of the statements apply keeps prepared on a session, in number
// and in parameters (a multi-row statement and its plan are large; a task
// with many tables would otherwise keep hundreds of them on every
// session). Beyond either, the least recently used are deallocated down to
// half of both.
const (
	applyMaxPrepared       = 200
	applyMaxPreparedParams = 100_000
)

// applySessionKey is where a session's apply state lives in its
// pgconn.PgConn CustomData.
const applySessionKey = "godwit/apply"

// pgApplySession is what apply keeps on a data session between calls: its
// prepared statements by table and shape, and what probe found out about
// each table.
type pgApplySession struct {
	stmts  map[string]*pgApplyPrepared
	params int // of the statements in stmts
	probed map[string]pgApplyProbe
	clock  uint64
	names  uint64
}

// pgApplyProbe is what apply found out about a table's shape on the
// target (applyTable.upsert and reorder).
type pgApplyProbe struct{ upsert, reorder bool }

// pgApplyPrepared is a prepared statement and the target column each of
// its parameters carries.
type pgApplyPrepared struct {
	sd   *pgconn.StatementDescription
	cols []int
	used uint64
}

// applySessionOf returns the apply state of pg, made on first use.
func applySessionOf(pg *pgx.Conn) *pgApplySession {
	data := pg.PgConn().CustomData()
	s, _ := data[applySessionKey].(*pgApplySession)
	if s == nil {
		s = &pgApplySession{stmts: map[string]*pgApplyPrepared{}, probed: map[string]pgApplyProbe{}}
		data[applySessionKey] = s
	}
	return s
}

// begin starts a call: it advances the clock and, when the session holds
// too many statements, deallocates the least recently used half (in one
// round trip, outside any transaction).
func (s *pgApplySession) begin(ctx context.Context, pg *pgx.Conn) error {
	s.clock++
	if len(s.stmts) <= applyMaxPrepared && s.params <= applyMaxPreparedParams {
		return nil
	}
	all := make([]string, 0, len(s.stmts))
	for sql := range s.stmts {
		all = append(all, sql)
	}
	slices.SortFunc(all, func(a, b string) int { return cmp.Compare(s.stmts[a].used, s.stmts[b].used) })
	var b strings.Builder
	for _, sql := range all {
		if len(s.stmts) <= applyMaxPrepared/2 && s.params <= applyMaxPreparedParams/2 {
			break
		}
		p := s.stmts[sql]
		fmt.Fprintf(&b, "DEALLOCATE %s;", quoteIdent(p.sd.Name))
		s.params -= len(p.sd.ParamOIDs)
		delete(s.stmts, sql)
	}
	return pg.PgConn().Exec(ctx, b.String()).Close()
}

// prepare returns the statement of shape key (a table's signature and
// the shape), building its SQL, parameter columns and parameter types (nil:
// the server infers them) with build and preparing it on the session the
// first time.
func (s *pgApplySession) prepare(ctx context.Context, pg *pgx.Conn, key string, build func() (string, []int, []uint32)) (*pgApplyPrepared, error) {
	if p := s.stmts[key]; p != nil {
		p.used = s.clock
		return p, nil
	}
	sql, cols, oids := build()
	s.names++
	name := fmt.Sprintf("godwit_apply_%d", s.names)
	sd, err := pg.PgConn().Prepare(ctx, name, sql, oids)
	if err != nil {
		var pe *pgconn.PrepareError
		if errors.As(err, &pe) && pe.ParseComplete {
			// The statement exists though its description failed.
			_ = pg.PgConn().Exec(ctx, "DEALLOCATE "+quoteIdent(name)).Close()
		}
		return nil, err
	}
	p := &pgApplyPrepared{sd: sd, cols: cols, used: s.clock}
	s.stmts[key] = p
	s.params += len(sd.ParamOIDs)
	return p, nil
}
