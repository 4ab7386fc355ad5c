package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/godwit-dms/godwit/internal/connector/applyplan"
	"github.com/godwit-dms/godwit/internal/record"
)

// Limits of the pipeline of transactional apply.
const (
	// applyPipeStatements bounds the statements sent in one round trip.
	applyPipeStatements = 1000
	// applyPipeBytes bounds the parameter bytes sent in one round trip.
	applyPipeBytes = 4 << 20
	// applyMaxRows bounds the rows of one multi-row statement.
	applyMaxRows = 64
	// applyMaxArrayRows bounds the rows of one statement of arrays.
	applyMaxArrayRows = 1000
	// applyMaxParams is the protocol's limit on parameters.
	applyMaxParams = 65535
)

// pgApplyPipe collects statements for one round trip (one Sync): the
// server runs them in order and stops at the first error.
type pgApplyPipe struct {
	batch  pgconn.Batch
	labels []string // the table of each statement, for errors
	expect []int64  // rows each statement must change (logged when fewer); -1 = any
	bytes  int

	spans []pgApplySpan
	buf   []byte
	vals  [][]byte
	fmts  []int16
}

type pgApplySpan struct {
	start, end int
	null       bool
}

func (p *pgApplyPipe) reset() {
	p.batch = pgconn.Batch{}
	p.labels, p.expect, p.bytes = p.labels[:0], p.expect[:0], 0
}

// queueSQL queues a statement without parameters.
func (a *pgApply) queueSQL(ctx context.Context, sql, label string) error {
	return a.queueSQLExpect(ctx, sql, label, -1)
}

// queueSQLExpect queues a statement without parameters that must change
// expect rows (fewer is logged).
func (a *pgApply) queueSQLExpect(ctx context.Context, sql, label string, expect int64) error {
	p := &a.pipe
	p.batch.ExecParams(sql, nil, nil, nil, nil)
	p.labels = append(p.labels, label)
	p.expect = append(p.expect, expect)
	return a.maybeFlush(ctx)
}

// exec queues the prepared statement s with values, one per parameter:
// in binary when the column's encoder can write the value, else as the
// text PostgreSQL reads. expect is the number of rows it must change
// (fewer is logged), -1 for any.
func (a *pgApply) exec(ctx context.Context, tab *applyTable, s *pgApplyStmt, values []any, expect int64) error {
	p := &a.pipe
	p.buf, p.spans = p.buf[:0], p.spans[:0]
	p.fmts = p.fmts[:0]
	for i, v := range values {
		col := s.cols[i]
		start := len(p.buf)
		var format int16
		switch {
		case v == nil:
			p.spans = append(p.spans, pgApplySpan{null: true})
			p.fmts = append(p.fmts, 0)
			continue
		case v == record.Unchanged:
			return fmt.Errorf("applying changes to %s: column %s: %w: a value the source did not send", tab.name, quoteIdent(tab.T.Columns[col].Name), ErrBadValue)
		}
		var err error
		if s.bin[i] {
			p.buf, err = appendBinaryData(p.buf, tab.encs[col], tab.kinds[col], v)
			format = 1
			if errors.Is(err, errNeedText) {
				p.buf, err, format = p.buf[:start], nil, 0
			}
		}
		if err == nil && format == 0 {
			var text string
			text, err = valueText(v, tab.kinds[col])
			p.buf = append(p.buf, text...)
		}
		if err != nil {
			return fmt.Errorf("%w: applying changes to %s: column %s: %w", ErrRowRejected, tab.name, quoteIdent(tab.T.Columns[col].Name), err)
		}
		p.spans = append(p.spans, pgApplySpan{start: start, end: len(p.buf)})
		p.fmts = append(p.fmts, format)
	}
	p.vals = p.vals[:0]
	for _, sp := range p.spans {
		if sp.null {
			p.vals = append(p.vals, nil)
		} else {
			p.vals = append(p.vals, p.buf[sp.start:sp.end:sp.end])
		}
	}
	// The batch copies the values into its buffer.
	p.batch.ExecPrepared(s.sd.Name, p.vals, p.fmts, nil)
	p.labels = append(p.labels, tab.name)
	p.expect = append(p.expect, expect)
	p.bytes += len(p.buf)
	return a.maybeFlush(ctx)
}

func (a *pgApply) maybeFlush(ctx context.Context) error {
	if len(a.pipe.labels) >= applyPipeStatements || a.pipe.bytes >= applyPipeBytes {
		return a.flush(ctx)
	}
	return nil
}

// flush sends the queued statements and reads their results: one round
// trip.
func (a *pgApply) flush(ctx context.Context) error {
	p := &a.pipe
	if len(p.labels) == 0 {
		return nil
	}
	mrr := a.pg.PgConn().ExecBatch(ctx, &p.batch)
	i := 0
	for mrr.NextResult() {
		tag, _ := mrr.ResultReader().Close()
		if i < len(p.expect) && p.expect[i] >= 0 && tag.RowsAffected() < p.expect[i] {
			slog.WarnContext(ctx, "postgres apply: rows to update not found on the target (an update that does not carry every value cannot insert them)",
				"table", p.labels[i], "missing", p.expect[i]-tag.RowsAffected())
		}
		i++
	}
	err := mrr.Close()
	label := ""
	if i < len(p.labels) {
		label = p.labels[i]
	}
	p.reset()
	if err != nil {
		return applyError(ctx, a.pg, label, err)
	}
	return nil
}

// runOps applies row operations in one transaction.
func (a *pgApply) runOps(ctx context.Context, ops []applyOp) error {
	if err := a.queueSQL(ctx, "BEGIN", ""); err != nil {
		return err
	}
	if err := a.queueOps(ctx, ops); err != nil {
		return err
	}
	if err := a.queueSQL(ctx, "COMMIT", ""); err != nil {
		return err
	}
	return a.flush(ctx)
}

// queueOps queues the statements of ops: runs of upserts (distinct keys),
// of deletes or of inserts of one table become multi-row statements
// (applyplan.Runs; on a table where nothing else can tell, upserts and
// deletes of different rows are gathered across the source's statements).
func (a *pgApply) queueOps(ctx context.Context, ops []applyOp) error {
	for _, run := range applyplan.Runs(ops, func(tab *applyTable) bool { return tab.reorder }) {
		var err error
		switch run[0].Kind {
		case applyplan.Upsert, applyplan.Insert, applyplan.Delete:
			err = a.queueRun(ctx, run)
		default:
			err = a.queueOne(ctx, run[0])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// queueRun queues a run of operations of one kind on one table: as
// statements taking one array per column (unnest), or, for tables with a
// column binary arrays cannot carry, as multi-row statements of
// power-of-two row counts.
func (a *pgApply) queueRun(ctx context.Context, run []applyOp) error {
	tab, kind := run[0].Tab, run[0].Kind
	arrays := tab.arrays
	if kind == applyplan.Delete {
		arrays = tab.keyArrays
	}
	if !arrays {
		return a.queueRunValues(ctx, run)
	}
	for len(run) > 0 {
		chunk := run[:min(len(run), applyMaxArrayRows)]
		run = run[len(chunk):]
		err := a.queueArrays(ctx, chunk)
		if errors.Is(err, errNeedText) {
			// A value only the server's text input reads.
			err = a.queueRunValues(ctx, chunk)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// queueRunValues queues a run as multi-row statements of power-of-two row
// counts, with a parameter per value.
func (a *pgApply) queueRunValues(ctx context.Context, run []applyOp) error {
	tab, kind := run[0].Tab, run[0].Kind
	perRow := len(tab.T.Columns)
	if kind == applyplan.Delete {
		perRow = len(tab.KeyIdx)
	}
	limit := min(applyMaxRows, applyMaxParams/max(perRow, 1))
	for len(run) > 0 {
		n := 1
		for n*2 <= min(len(run), limit) {
			n *= 2
		}
		chunk := run[:n]
		run = run[n:]
		var err error
		switch {
		case kind == applyplan.Delete:
			err = a.queueDelete(ctx, tab, chunk, false)
		case kind == applyplan.Upsert && tab.upsert:
			err = a.queueRows(ctx, tab, chunk, "u", pgUpsertSQL)
		case kind == applyplan.Upsert:
			// No unique index on the key: delete, then insert.
			if err = a.queueDelete(ctx, tab, chunk, true); err == nil {
				err = a.queueRows(ctx, tab, chunk, "i", pgInsertSQL)
			}
		default:
			err = a.queueRows(ctx, tab, chunk, "i", pgInsertSQL)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// queueRows queues the multi-row statement (upsert or insert) of chunk.
func (a *pgApply) queueRows(ctx context.Context, tab *applyTable, chunk []applyOp, kind string, build func(*applyTable, int) (string, []int)) error {
	n := len(chunk)
	s, err := a.stmt(ctx, tab, fmt.Sprint(kind, n), func() (string, []int, []uint32) {
		sql, cols := build(tab, n)
		return sql, cols, nil
	})
	if err != nil {
		return applyError(ctx, a.pg, tab.name, err)
	}
	values := make([]any, 0, n*len(tab.T.Columns))
	for _, op := range chunk {
		values = append(values, op.Row...)
	}
	return a.exec(ctx, tab, s, values, -1)
}

// queueDelete queues the delete of the keys of chunk: the old keys, or
// (ofRows) the keys of the new rows.
func (a *pgApply) queueDelete(ctx context.Context, tab *applyTable, chunk []applyOp, ofRows bool) error {
	n := len(chunk)
	s, err := a.stmt(ctx, tab, fmt.Sprint("d", n), func() (string, []int, []uint32) {
		sql, cols := pgDeleteSQL(tab, n)
		return sql, cols, nil
	})
	if err != nil {
		return applyError(ctx, a.pg, tab.name, err)
	}
	values := make([]any, 0, n*len(tab.KeyIdx))
	for _, op := range chunk {
		row := op.Key
		if ofRows {
			row = op.Row
		}
		for _, k := range tab.KeyIdx {
			values = append(values, row[k])
		}
	}
	return a.exec(ctx, tab, s, values, -1)
}

// queueOne queues an operation that is a statement of its own.
func (a *pgApply) queueOne(ctx context.Context, op applyOp) error {
	tab := op.Tab
	switch op.Kind {
	case applyplan.Truncate:
		return a.queueSQL(ctx, "TRUNCATE "+tab.name, tab.name)
	case applyplan.ClearKey:
		s, err := a.stmt(ctx, tab, "c", func() (string, []int, []uint32) {
			sql, cols := pgClearKeySQL(tab)
			return sql, cols, nil
		})
		if err != nil {
			return applyError(ctx, a.pg, tab.name, err)
		}
		values := make([]any, 0, 2*len(tab.KeyIdx))
		for _, k := range tab.KeyIdx {
			values = append(values, op.Row[k])
		}
		for _, k := range tab.KeyIdx {
			values = append(values, op.Key[k])
		}
		return a.exec(ctx, tab, s, values, -1)
	case applyplan.Update:
		set := make([]bool, len(op.Row))
		some := false
		for i, v := range op.Row {
			set[i] = v != record.Unchanged && (!tab.IsKey[i] || op.KeyChanged)
			some = some || set[i]
		}
		if !some {
			return nil
		}
		s, err := a.stmt(ctx, tab, applyShapeKey("U", set, nil), func() (string, []int, []uint32) {
			sql, cols := pgUpdateSQL(tab, set)
			return sql, cols, nil
		})
		if err != nil {
			return applyError(ctx, a.pg, tab.name, err)
		}
		values := make([]any, 0, len(s.cols))
		for i, on := range set {
			if on {
				values = append(values, op.Row[i])
			}
		}
		for _, k := range tab.KeyIdx {
			values = append(values, op.Key[k])
		}
		return a.exec(ctx, tab, s, values, 1)
	case applyplan.UpdateRow, applyplan.DeleteRow:
		var set []bool
		if op.Kind == applyplan.UpdateRow {
			set = make([]bool, len(op.Row))
			some := false
			for i, v := range op.Row {
				set[i] = v != record.Unchanged
				some = some || set[i]
			}
			if !some {
				return nil
			}
		}
		cond := make([]uint8, len(op.Key))
		for i, v := range op.Key {
			switch v {
			case record.Unchanged:
				cond[i] = pgCondSkip
			case nil:
				cond[i] = pgCondNull
			default:
				cond[i] = pgCondEq
			}
		}
		kind := "D"
		if set != nil {
			kind = "R"
		}
		s, err := a.stmt(ctx, tab, applyShapeKey(kind, set, cond), func() (string, []int, []uint32) {
			sql, cols := pgRowSQL(tab, set, cond)
			return sql, cols, nil
		})
		if err != nil {
			return applyError(ctx, a.pg, tab.name, err)
		}
		values := make([]any, 0, len(s.cols))
		for i, on := range set {
			if on {
				values = append(values, op.Row[i])
			}
		}
		for i, c := range cond {
			if c == pgCondEq {
				values = append(values, op.Key[i])
			}
		}
		expect := int64(-1)
		if set != nil {
			expect = 1
		}
		return a.exec(ctx, tab, s, values, expect)
	}
	return fmt.Errorf("applying changes to %s: unexpected operation %d", tab.name, op.Kind)
}

// applyShapeKey names a statement shape from its kind, the columns it sets
// and its conditions on the old row.
func applyShapeKey(kind string, set []bool, cond []uint8) string {
	var b strings.Builder
	b.WriteString(kind)
	b.WriteByte(':')
	for _, on := range set {
		if on {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	b.WriteByte(':')
	for _, c := range cond {
		b.WriteByte('0' + c)
	}
	return b.String()
}
