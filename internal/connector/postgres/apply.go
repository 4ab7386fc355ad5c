package postgres

// Change apply (connector.ChangeApplier) on a PostgreSQL target.
//
// ApplyTransactions keeps the source's order and applies each change
// idempotently (package applyplan says how each becomes row operations). The
// operations are sent as prepared statements with binary parameters
// (encoded like Load's COPY), pipelined as with pgx.Batch: one round trip
// carries up to applyPipeStatements statements, BEGIN and COMMIT included,
// so a slice of small transactions usually costs one round trip.
// On a table whose key is its only unique index, with no trigger, rule or
// reference to itself and keys of integers or text (applyTable.reorder),
// the upserts and deletes of one stretch of the call are gathered per kind,
// each key keeping its order (applyplan.Runs).
// Consecutive operations of one kind on one table become one statement: a
// run of upserts (distinct keys) is one INSERT ... SELECT * FROM unnest($1,
// ...) ON CONFLICT DO UPDATE taking an array per column (apply_arrays.go),
// a run of deletes one DELETE ... WHERE key = ANY($1); tables whose types
// arrays cannot carry use multi-row VALUES statements of power-of-two row
// counts. Prepared statements stay on the session between calls, per table
// and shape, within a bound (apply_session.go).
//
// ApplyBatch folds the changes into net changes per table and key and
// applies each table's with COPY into a temporary staging table, one
// set-based DELETE of the keys that go (deleted rows, old keys of key
// changes) and one INSERT ... SELECT ... ON CONFLICT DO UPDATE of the final
// rows (apply_batch.go).
//
// Both run in one target transaction: a rejected row (a data or integrity
// error, SQLSTATE classes 21, 22, 23) fails the call with ErrRowRejected
// naming the statement's table, and nothing of it is committed.
//
// Tables without a key (TargetTable.Key empty) get plain inserts; updates
// and deletes change the first row equal to the old row in every column
// (ctid = (SELECT ctid ... LIMIT 1)), so identical rows are told apart by
// nothing but their number. Replaying such changes after a crash can
// duplicate rows, as DMS documents for tables without a primary key.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/applyplan"
	"github.com/godwit-dms/godwit/internal/record"
)

var (
	_ connector.ChangeApplier = (*Conn)(nil)
	_ connector.BatchPreparer = (*Conn)(nil)
)

// ApplyTransactions applies txs in order inside one target transaction.
func (c *Conn) ApplyTransactions(ctx context.Context, tables map[string]*connector.TargetTable, txs []*record.Transaction) error {
	changes, tabs, err := applyplan.Resolve(ctx, applyEngine, tables, txs, newApplyTable())
	if err != nil || len(changes) == 0 {
		return err
	}
	return c.onSession(ctx, tabs, func(a *pgApply) error {
		return a.runOps(ctx, applyplan.Ops(ctx, applyEngine, changes))
	})
}

// ApplyBatch applies the net effect of txs per table and key with
// set-based statements, in one target transaction.
func (c *Conn) ApplyBatch(ctx context.Context, tables map[string]*connector.TargetTable, txs []*record.Transaction) error {
	return connector.ApplyPrepared(ctx, c, tables, txs)
}

// PrepareBatch implements connector.BatchPreparer: the changes are
// resolved and folded into net changes, and the staging rows built
// (applyplan.Prepare), without a session.
func (c *Conn) PrepareBatch(ctx context.Context, tables map[string]*connector.TargetTable, txs []*record.Transaction) (connector.PreparedBatch, error) {
	b, err := applyplan.Prepare(ctx, applyEngine, tables, txs, newApplyTable())
	if err != nil {
		return nil, err
	}
	return &pgBatch{c: c, Batch: b}, nil
}

// newApplyTable makes the per-call state of each target table of one call,
// numbered in order of appearance, as far as it needs no session
// (onSession binds the rest).
func newApplyTable() func(tt *connector.TargetTable) (*applyTable, error) {
	n := 0
	return func(tt *connector.TargetTable) (*applyTable, error) {
		n++
		t := tt.Target
		tab := &applyTable{index: n, name: quoteTable(t.Schema, t.Name), stmts: map[string]*pgApplyStmt{}}
		if err := tab.Init(tt, tab.name, applyEngine); err != nil {
			return nil, err
		}
		return tab, nil
	}
}

// onSession runs run on a data session, once tabs are bound to their
// relations on it (bind, probe); a failure rolls back what run left open.
func (c *Conn) onSession(ctx context.Context, tabs []*applyTable, run func(*pgApply) error) error {
	pg, err := c.data.acquire(ctx, c)
	if err != nil {
		return err
	}
	defer c.data.release(pg)
	a := &pgApply{c: c, pg: pg, sess: applySessionOf(pg)}
	if err := a.sess.begin(ctx, pg); err != nil {
		return classify(ctx, pg, "applying changes", err)
	}
	for _, tab := range tabs {
		if err := a.bind(ctx, tab); err != nil {
			return err
		}
		if err := a.probe(ctx, tab); err != nil {
			return err
		}
	}
	if err := run(a); err != nil {
		a.abort()
		return err
	}
	return nil
}

// applyTable is a target table of one apply call.
type applyTable struct {
	applyplan.Table
	index int    // order of appearance in the call
	name  string // quoted schema.name
	rel   *relation
	encs  []encoder
	kinds []record.Kind
	oids  []uint32 // per column: its type, domains resolved
	// cmpText is, per column, how a value of the old row is compared:
	// "" with the column's own equality, else as text, with this
	// expression of the column (the one Read selects it with: its
	// text or output; json, which has no equality, as its text).
	cmpText []string
	// upsert: an INSERT ... ON CONFLICT (key) finds a unique index on
	// the key; without one, an upsert is a delete and an insert.
	upsert bool
	// reorder: upserts and deletes of different rows may run in another
	// order than the source's within one target transaction (applyplan.Runs):
	// the key's is the table's only unique index, and no trigger, rule or
	// reference to the table itself could see the order.
	reorder bool
	// arrOIDs is, per column, the array type of its type when binary
	// arrays of it can be sent (0 when not); arrays (keyArrays) says all
	// columns (the key columns) can.
	arrOIDs           []uint32
	arrays, keyArrays bool
	// sig identifies the table's shape on the session: the relation (a
	// table prepared again is another) and the columns written.
	sig   string
	stmts map[string]*pgApplyStmt
	// stage is the staging table of batch apply, once created.
	stage string
}

// pgApply is the state of one apply call on one session.
type pgApply struct {
	c    *Conn
	pg   *pgx.Conn
	sess *pgApplySession
	pipe pgApplyPipe
}

// bind completes tab's state with what the session knows of its relation:
// the columns' types and encoders, and the shape key of its statements.
func (a *pgApply) bind(ctx context.Context, tab *applyTable) error {
	t := tab.T
	rel, err := a.c.target(ctx, a.pg, t)
	if err != nil {
		return classify(ctx, a.pg, "applying changes to "+tab.name, err)
	}
	names := make([]string, len(t.Columns))
	for i, col := range t.Columns {
		names[i] = col.Name
	}
	plans, err := rel.plansFor(names)
	if err != nil {
		return err
	}
	tab.rel = rel
	tab.sig = fmt.Sprintf("%d/%p/%q/%v", rel.oid, rel, names, tab.KeyIdx)
	tab.encs = make([]encoder, len(plans))
	tab.kinds = make([]record.Kind, len(plans))
	tab.oids = make([]uint32, len(plans))
	tab.cmpText = make([]string, len(plans))
	tab.arrOIDs = make([]uint32, len(plans))
	tab.arrays, tab.keyArrays = true, true
	for i, p := range plans {
		tab.encs[i] = encoderFor(p.base)
		tab.kinds[i] = t.Columns[i].Type.Kind
		tab.oids[i] = p.base.oid
		if binaryFits(tab.kinds[i], tab.encs[i]) {
			tab.arrOIDs[i] = pgArrayOIDs[p.base.oid]
		}
		if tab.arrOIDs[i] == 0 {
			tab.arrays = false
			tab.keyArrays = tab.keyArrays && !tab.IsKey[i]
		}
		q := quoteIdent(p.name)
		switch {
		case p.read == readOutput:
			tab.cmpText[i] = "pg_catalog.format('%s', " + q + ")"
		case p.read == readText || p.base.oid == oidJSON:
			tab.cmpText[i] = q + "::text"
		}
	}
	return nil
}

// probe finds out whether ON CONFLICT can name the key of a keyed table:
// without a unique index on the key (or with a deferrable one only), it
// cannot, and upserts become deletes and inserts. The planner decides (an
// EXPLAIN of an INSERT ... ON CONFLICT). With one, it also finds out
// whether the table allows reordering (applyTable.reorder). The session
// keeps the answers until the table is prepared again.
func (a *pgApply) probe(ctx context.Context, tab *applyTable) error {
	if !tab.Keyed() {
		return nil
	}
	key := tab.sig
	if p, known := a.sess.probed[key]; known {
		tab.upsert, tab.reorder = p.upsert, p.reorder
		return nil
	}
	nulls := strings.TrimSuffix(strings.Repeat("NULL, ", len(tab.KeyIdx)), ", ")
	err := a.pg.PgConn().Exec(ctx, "EXPLAIN INSERT INTO "+tab.name+" ("+pgKeyList(tab)+") VALUES ("+nulls+") ON CONFLICT ("+pgKeyList(tab)+") DO NOTHING").Close()
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		tab.upsert = true
	case errors.As(err, &pgErr) && (pgErr.Code == applyStateNoArbiter || pgErr.Code == applyStateUnsupported):
		tab.upsert = false
	default:
		return applyError(ctx, a.pg, tab.name, err)
	}
	if tab.upsert {
		// One unique index (the key's), on a plain table, with nothing
		// that runs per row or refers back to the table, and key columns
		// whose equality is the equality of their values as Godwit keys
		// them (integers, text of a deterministic collation): a row the
		// target finds equal to another under a key Godwit tells apart
		// (citext, numeric scales, uuid spellings) must not be reordered.
		keyCols := make([]string, len(tab.KeyIdx))
		for i, k := range tab.KeyIdx {
			keyCols[i] = tab.T.Columns[k].Name
		}
		err := a.pg.QueryRow(ctx, `SELECT c.relkind = 'r'
			AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute at LEFT JOIN pg_catalog.pg_collation co ON co.oid = at.attcollation
				WHERE at.attrelid = c.oid AND at.attname = ANY($2::text[])
				AND (at.atttypid NOT IN (20, 21, 23, 25, 1043) OR NOT coalesce(co.collisdeterministic, true)))
			AND (SELECT count(*) FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND (i.indisunique OR i.indisexclusion)) = 1
			AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal)
			AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r WHERE r.ev_class = c.oid)
			AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint f WHERE f.contype = 'f' AND f.conrelid = c.oid AND f.confrelid = c.oid)
			FROM pg_catalog.pg_class c WHERE c.oid = $1`, tab.rel.oid, keyCols).Scan(&tab.reorder)
		if err != nil {
			return applyError(ctx, a.pg, tab.name, err)
		}
	}
	a.sess.probed[key] = pgApplyProbe{upsert: tab.upsert, reorder: tab.reorder}
	return nil
}

// abort rolls back the transaction a failed call left open; the session
// is closed when that fails too.
func (a *pgApply) abort() {
	pg := a.pg
	if pg.IsClosed() || pg.PgConn().TxStatus() == 'I' {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := pg.Exec(ctx, "ROLLBACK"); err != nil {
		closeQuietly(pg)
	}
}

// applyError wraps a statement's failure: a data or integrity error as
// ErrRowRejected with the table and the server's message, a broken
// session as ErrConnectionLost.
func applyError(ctx context.Context, pg *pgx.Conn, label string, err error) error {
	doing := "applying changes"
	if label != "" {
		doing += " to " + label
	}
	var pgErr *pgconn.PgError
	if ctx.Err() == nil && errors.As(err, &pgErr) && pgErr.Code == applyStateCardinality {
		return fmt.Errorf("%w: %s: %s (SQLSTATE %s): %w", ErrRowRejected, doing, pgErr.Message, pgErr.Code, err)
	}
	return classifyLoad(ctx, pg, doing, err)
}

// SQLSTATE codes of apply.
const (
	applyStateNoArbiter   = "42P10" // ON CONFLICT names no unique index
	applyStateUnsupported = "0A000" // ON CONFLICT on a deferrable constraint
	applyStateCardinality = "21000" // ON CONFLICT DO UPDATE hit a row twice
)

// pgApplyStmt is a prepared statement shape of one table: its SQL, the
// column each parameter carries, and which parameters go in binary.
type pgApplyStmt struct {
	sd   *pgconn.StatementDescription
	cols []int
	bin  []bool
}

// stmt returns the prepared statement of shape key, building its SQL (and
// the column of each parameter) with build the first time on the session.
func (a *pgApply) stmt(ctx context.Context, tab *applyTable, key string, build func() (string, []int, []uint32)) (*pgApplyStmt, error) {
	if s := tab.stmts[key]; s != nil {
		return s, nil
	}
	p, err := a.sess.prepare(ctx, a.pg, tab.sig+"\x00"+key, build)
	if err != nil {
		return nil, err
	}
	sd, cols := p.sd, p.cols
	if len(sd.ParamOIDs) != len(cols) {
		return nil, fmt.Errorf("preparing an apply statement of %s: %d parameters, expected %d", tab.name, len(sd.ParamOIDs), len(cols))
	}
	s := &pgApplyStmt{sd: sd, cols: cols, bin: make([]bool, len(cols))}
	for i, col := range cols {
		// Binary only when the server expects the column's own type (not a
		// domain over it, nor text for a comparison as text), or an
		// array of it.
		s.bin[i] = (sd.ParamOIDs[i] == tab.oids[col] || sd.ParamOIDs[i] == tab.arrOIDs[col] && tab.arrOIDs[col] != 0) && tab.encs[col] != encNone
	}
	tab.stmts[key] = s
	return s, nil
}

// pgColumnList is the quoted column list of tab.
func pgColumnList(tab *applyTable) string {
	names := make([]string, len(tab.T.Columns))
	for i, col := range tab.T.Columns {
		names[i] = quoteIdent(col.Name)
	}
	return strings.Join(names, ", ")
}

// pgValuesList writes n rows of parameters for every column.
func pgValuesList(b *strings.Builder, tab *applyTable, n int, cols []int) []int {
	p := len(cols)
	for r := 0; r < n; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i := range tab.T.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			p++
			fmt.Fprintf(b, "$%d", p)
			cols = append(cols, i)
		}
		b.WriteByte(')')
	}
	return cols
}

// pgUpsertSQL is the upsert of n rows by key.
func pgUpsertSQL(tab *applyTable, n int) (string, []int) {
	var b strings.Builder
	b.WriteString("INSERT INTO " + tab.name + " (" + pgColumnList(tab) + ") VALUES ")
	cols := pgValuesList(&b, tab, n, nil)
	b.WriteString(" ON CONFLICT (" + pgKeyList(tab) + ")")
	b.WriteString(pgConflictAction(tab))
	return b.String(), cols
}

// pgConflictAction is the DO UPDATE (or DO NOTHING) of an upsert.
func pgConflictAction(tab *applyTable) string {
	var sets []string
	for i, col := range tab.T.Columns {
		if !tab.IsKey[i] {
			q := quoteIdent(col.Name)
			sets = append(sets, q+" = EXCLUDED."+q)
		}
	}
	if len(sets) == 0 {
		return " DO NOTHING"
	}
	return " DO UPDATE SET " + strings.Join(sets, ", ")
}

func pgKeyList(tab *applyTable) string {
	names := make([]string, len(tab.KeyIdx))
	for i, k := range tab.KeyIdx {
		names[i] = quoteIdent(tab.T.Columns[k].Name)
	}
	return strings.Join(names, ", ")
}

// pgInsertSQL is the plain insert of n rows.
func pgInsertSQL(tab *applyTable, n int) (string, []int) {
	var b strings.Builder
	b.WriteString("INSERT INTO " + tab.name + " (" + pgColumnList(tab) + ") VALUES ")
	cols := pgValuesList(&b, tab, n, nil)
	return b.String(), cols
}

// pgDeleteSQL deletes the rows of n keys.
func pgDeleteSQL(tab *applyTable, n int) (string, []int) {
	var b strings.Builder
	var cols []int
	b.WriteString("DELETE FROM " + tab.name + " WHERE ")
	if len(tab.KeyIdx) == 1 {
		k := tab.KeyIdx[0]
		b.WriteString(quoteIdent(tab.T.Columns[k].Name))
		if n == 1 {
			b.WriteString(" = $1")
			return b.String(), []int{k}
		}
		b.WriteString(" IN (")
		for r := 0; r < n; r++ {
			if r > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", r+1)
			cols = append(cols, k)
		}
		b.WriteByte(')')
		return b.String(), cols
	}
	b.WriteString("(" + pgKeyList(tab) + ") IN (")
	for r := 0; r < n; r++ {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, k := range tab.KeyIdx {
			if j > 0 {
				b.WriteString(", ")
			}
			cols = append(cols, k)
			fmt.Fprintf(&b, "$%d", len(cols))
		}
		b.WriteByte(')')
	}
	b.WriteByte(')')
	return b.String(), cols
}

// pgClearKeySQL deletes the row with the new key ($1...) when the row
// with the old key (the next parameters) exists.
func pgClearKeySQL(tab *applyTable) (string, []int) {
	var b strings.Builder
	cols := slices.Clone(tab.KeyIdx)
	cols = append(cols, tab.KeyIdx...)
	b.WriteString("DELETE FROM " + tab.name + " WHERE ")
	for j, k := range tab.KeyIdx {
		if j > 0 {
			b.WriteString(" AND ")
		}
		fmt.Fprintf(&b, "%s = $%d", quoteIdent(tab.T.Columns[k].Name), j+1)
	}
	b.WriteString(" AND EXISTS (SELECT FROM " + tab.name + " WHERE ")
	for j, k := range tab.KeyIdx {
		if j > 0 {
			b.WriteString(" AND ")
		}
		fmt.Fprintf(&b, "%s = $%d", quoteIdent(tab.T.Columns[k].Name), len(tab.KeyIdx)+j+1)
	}
	b.WriteByte(')')
	return b.String(), cols
}

// pgUpdateSQL sets the columns of set on the row with the old key.
func pgUpdateSQL(tab *applyTable, set []bool) (string, []int) {
	var b strings.Builder
	var cols []int
	b.WriteString("UPDATE " + tab.name + " SET ")
	for i, on := range set {
		if !on {
			continue
		}
		if len(cols) > 0 {
			b.WriteString(", ")
		}
		cols = append(cols, i)
		fmt.Fprintf(&b, "%s = $%d", quoteIdent(tab.T.Columns[i].Name), len(cols))
	}
	b.WriteString(" WHERE ")
	for j, k := range tab.KeyIdx {
		if j > 0 {
			b.WriteString(" AND ")
		}
		cols = append(cols, k)
		fmt.Fprintf(&b, "%s = $%d", quoteIdent(tab.T.Columns[k].Name), len(cols))
	}
	return b.String(), cols
}

// Conditions on a column of the old row (tables without a key).
const (
	pgCondSkip = iota // the value is unknown (Unchanged)
	pgCondNull
	pgCondEq
)

// pgRowSQL updates (set non-nil) or deletes the first row that matches
// the conditions cond on each column.
func pgRowSQL(tab *applyTable, set []bool, cond []uint8) (string, []int) {
	var b strings.Builder
	var cols []int
	if set != nil {
		b.WriteString("UPDATE " + tab.name + " SET ")
		for i, on := range set {
			if !on {
				continue
			}
			if len(cols) > 0 {
				b.WriteString(", ")
			}
			cols = append(cols, i)
			fmt.Fprintf(&b, "%s = $%d", quoteIdent(tab.T.Columns[i].Name), len(cols))
		}
	} else {
		b.WriteString("DELETE FROM " + tab.name)
	}
	id := "ctid"
	if !tab.rel.only {
		// A partitioned table: ctid is unique within a partition only.
		id = "(tableoid, ctid)"
	}
	b.WriteString(" WHERE " + id + " = (SELECT " + strings.Trim(id, "()") + " FROM " + tab.name)
	n := 0
	for i, c := range cond {
		if c == pgCondSkip {
			continue
		}
		if n == 0 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		n++
		q := quoteIdent(tab.T.Columns[i].Name)
		switch {
		case c == pgCondNull:
			b.WriteString(q + " IS NULL")
		case tab.cmpText[i] != "":
			cols = append(cols, i)
			fmt.Fprintf(&b, "%s = $%d::text", tab.cmpText[i], len(cols))
		default:
			cols = append(cols, i)
			fmt.Fprintf(&b, "%s = $%d", q, len(cols))
		}
	}
	b.WriteString(" LIMIT 1)")
	return b.String(), cols
}
