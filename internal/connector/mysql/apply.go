package mysql

// Change apply (connector.ChangeApplier) on a MySQL or MariaDB target.
//
// ApplyTransactions keeps the source's order and applies each change
// idempotently (package applyplan says how each becomes row operations), in
// one transaction on one session. Statements carry their values as
// literals, written the way Load's multi-row INSERTs write them, and
// consecutive operations of one kind on one table become one statement: a
// run of upserts is one multi-row INSERT ... ON DUPLICATE KEY UPDATE (rows
// of one statement are applied in order, so a key may repeat), a run of
// deletes one DELETE ... WHERE key IN (...). A slice of small transactions
// of one table is then a few statements, each one round trip. (The data
// sessions do not enable multi-statements, so unlike PostgreSQL's
// pipeline, statements of different tables or kinds are one round trip
// each.)
//
// ApplyBatch folds the changes into net changes per table and key and
// applies each table's through a temporary staging table: LOAD DATA LOCAL
// (or multi-row INSERTs where the server refuses local files), one
// multi-table DELETE of the keys that go and one INSERT ... SELECT ... ON
// DUPLICATE KEY UPDATE of the final rows (apply_batch.go).
//
// A truncate is a DELETE of every row: TRUNCATE TABLE would commit the
// transaction, and a foreign key referencing the table refuses it.
//
// An update that does not carry every value (Unchanged values, from a
// PostgreSQL source) of a row missing on the target changes nothing; unlike
// on PostgreSQL it is not logged, since MySQL counts changed rows, not
// found ones.
//
// Tables without a key get plain inserts; updates and deletes change one
// row equal (<=>) to the old row in every column (LIMIT 1). Replaying such
// changes after a crash can duplicate rows, as DMS documents for tables
// without a primary key.
//
// ON DUPLICATE KEY UPDATE acts on whichever unique index a row collides
// with: as with DMS, a target with both a primary key and another unique
// key may see a row updated through the wrong one.

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/applyplan"
	"github.com/godwit-dms/godwit/internal/record"
)

var (
	_ connector.ChangeApplier = (*Conn)(nil)
	_ connector.BatchPreparer = (*Conn)(nil)
)

// applyMaxRows bounds the rows of one multi-row statement.
const applyMaxRows = 1000

// ApplyTransactions applies txs in order inside one target transaction.
func (c *Conn) ApplyTransactions(ctx context.Context, tables map[string]*connector.TargetTable, txs []*record.Transaction) error {
	changes, tabs, err := applyplan.Resolve(ctx, applyEngine, tables, txs, c.newApplyTable())
	if err != nil || len(changes) == 0 {
		return err
	}
	return c.onSession(ctx, tabs, nil, func(a *myApply) error {
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
	b, err := applyplan.Prepare(ctx, applyEngine, tables, txs, c.newApplyTable())
	if err != nil {
		return nil, err
	}
	return &myBatch{c: c, Batch: b}, nil
}

// myBatch is a batch prepared for apply (applyplan.Prepare).
type myBatch struct {
	c *Conn
	*applyplan.Batch[*applyTable]
}

// Apply implements connector.PreparedBatch.
func (b *myBatch) Apply(ctx context.Context) error {
	if len(b.Segs) == 0 {
		return nil
	}
	return b.c.onSession(ctx, b.Tabs, b.Segs, func(a *myApply) error {
		return a.runBatch(ctx, b.Segs, b.Staged)
	})
}

// newApplyTable makes the per-call state of each target table of one call,
// numbered in order of appearance, as far as it needs no session
// (onSession binds the rest).
func (c *Conn) newApplyTable() func(tt *connector.TargetTable) (*applyTable, error) {
	n := 0
	return func(tt *connector.TargetTable) (*applyTable, error) {
		t := tt.Target
		db, err := c.targetDatabase(t)
		if err != nil {
			return nil, err
		}
		n++
		tab := &applyTable{index: n, db: db, name: qualified(db, t.Name)}
		if err := tab.Init(tt, tableLabel(db, t.Name), applyEngine); err != nil {
			return nil, err
		}
		return tab, nil
	}
}

// onSession runs run in one transaction on a data session, once tabs are
// bound to their target tables on it; with segs (batch apply), the
// staging tables of their net changes are made first, outside the
// transaction, since some servers refuse CREATE TEMPORARY TABLE inside one
// (GTID consistency), and dropped after.
func (c *Conn) onSession(ctx context.Context, tabs []*applyTable, segs []*applySegment, run func(*myApply) error) error {
	pool, err := c.dataDB()
	if err != nil {
		return err
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		return myApplyError(ctx, "", err)
	}
	defer conn.Close()
	a := &myApply{c: c, conn: conn}
	for _, tab := range tabs {
		if err := a.bind(ctx, tab); err != nil {
			return err
		}
	}
	if segs != nil {
		if err := a.createStages(ctx, segs); err != nil {
			return err
		}
		defer a.dropStages()
	}
	if a.tx, err = conn.BeginTx(ctx, nil); err != nil {
		return myApplyError(ctx, "", err)
	}
	if a.limit, err = c.insertLimit(ctx, a.tx); err == nil {
		err = run(a)
	}
	if err != nil {
		_ = a.tx.Rollback()
		return err
	}
	return myApplyError(ctx, "", a.tx.Commit())
}

// applyTable is a target table of one apply call.
type applyTable struct {
	applyplan.Table
	index int
	db    string
	name  string // `db`.`table`
	cols  []encCol
	// decimal: the target column is DECIMAL (an exact number is compared
	// as a bare literal); json: a MySQL JSON column (compared as JSON).
	decimal, json []bool
	// upsert: a unique index on the key makes ON DUPLICATE KEY UPDATE an
	// upsert; without one an upsert is a delete and an insert.
	upsert bool
	// stage is the staging table of batch apply, once created; staged
	// says it holds rows of an earlier segment.
	stage  string
	staged bool
}

// myApply is the state of one apply call.
type myApply struct {
	c    *Conn
	conn *sql.Conn
	tx   *sql.Tx
	// stages are the tables with a staging table.
	stages []*applyTable
	limit  int // statement size bound
	buf    []byte
}

// bind completes tab's state with what the session knows of its target
// table: the columns' types and whether a unique index is on the key.
func (a *myApply) bind(ctx context.Context, tab *applyTable) error {
	t := tab.T
	types, err := a.c.targetColumns(ctx, tab.db, t.Name)
	if err != nil {
		return err
	}
	tab.cols = make([]encCol, len(t.Columns))
	tab.decimal = make([]bool, len(t.Columns))
	tab.json = make([]bool, len(t.Columns))
	for i, col := range t.Columns {
		dt, ok := types[col.Name]
		if !ok {
			return fmt.Errorf("%w: column %q is not in the target table %s", ErrUnsupported, col.Name, tab.Label)
		}
		tab.cols[i] = encCol{name: col.Name, kind: col.Type.Kind, bit: dt == "bit"}
		tab.decimal[i] = dt == "decimal"
		tab.json[i] = dt == "json"
	}
	if tab.Keyed() {
		if tab.upsert, err = a.uniqueKey(ctx, tab); err != nil {
			return err
		}
	}
	return nil
}

// uniqueKey reports whether the target table has a unique index on exactly
// the key columns.
func (a *myApply) uniqueKey(ctx context.Context, tab *applyTable) (bool, error) {
	rows, err := a.conn.QueryContext(ctx, `SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0`, tab.db, tab.T.Name)
	if err != nil {
		return false, myApplyError(ctx, tab.Label, err)
	}
	defer rows.Close()
	indexes := map[string][]string{}
	for rows.Next() {
		var index string
		var col sql.NullString
		if err := rows.Scan(&index, &col); err != nil {
			return false, myApplyError(ctx, tab.Label, err)
		}
		indexes[index] = append(indexes[index], col.String)
	}
	if err := rows.Err(); err != nil {
		return false, myApplyError(ctx, tab.Label, err)
	}
	key := make([]string, len(tab.KeyIdx))
	for i, k := range tab.KeyIdx {
		key[i] = tab.T.Columns[k].Name
	}
	slices.Sort(key)
	for _, cols := range indexes {
		slices.Sort(cols)
		if slices.Equal(cols, key) {
			return true, nil
		}
	}
	return false, nil
}

// myApplyError wraps a statement's failure: a refused row as ErrRowRejected
// with the table and the server's message, a broken session as
// ErrConnectionLost.
func myApplyError(ctx context.Context, label string, err error) error {
	if err == nil {
		return nil
	}
	doing := "applying changes"
	if label != "" {
		doing += " to " + label
	}
	err = classify(ctx, doing, err, 0)
	if re, ok := err.(*RowError); ok {
		// Which table the refused row was for; its place in a statement
		// is no batch row of the caller's.
		re.Row = -1
		return fmt.Errorf("%s: %w", doing, re)
	}
	return err
}

// exec runs one statement of tab.
func (a *myApply) exec(ctx context.Context, tab *applyTable, stmt []byte) error {
	_, err := a.tx.ExecContext(ctx, string(stmt))
	return myApplyError(ctx, tab.Label, err)
}

// valueError is a value the client cannot write: the row is rejected.
func (tab *applyTable) valueError(err error) error {
	return fmt.Errorf("applying changes to %s: %w", tab.Label, &RowError{Row: -1, Message: err.Error()})
}

// appendRow appends (v1, v2, ...) of a whole row.
func (tab *applyTable) appendRow(b []byte, row record.Row) ([]byte, error) {
	b = append(b, '(')
	for i, v := range row {
		if i > 0 {
			b = append(b, ", "...)
		}
		var err error
		if b, err = tab.appendValue(b, i, v); err != nil {
			return b, err
		}
	}
	return append(b, ')'), nil
}

// appendValue appends v as the literal of column i.
func (tab *applyTable) appendValue(b []byte, i int, v any) ([]byte, error) {
	if v == record.Unchanged {
		return b, tab.valueError(fmt.Errorf("column %q: a value the source did not send", tab.cols[i].name))
	}
	b, err := appendSQL(b, tab.cols[i], v)
	if err != nil {
		return b, tab.valueError(err)
	}
	return b, nil
}

// appendCompare appends "col = v" (or col <=> v with nullSafe): an exact
// number bare for a DECIMAL column, so that MySQL compares decimals, not
// doubles; a value of a JSON column as JSON.
func (tab *applyTable) appendCompare(b []byte, i int, v any, nullSafe bool) ([]byte, error) {
	b = append(b, quoteIdent(tab.cols[i].name)...)
	if nullSafe {
		b = append(b, " <=> "...)
	} else {
		b = append(b, " = "...)
	}
	if s, ok := v.(string); ok && tab.decimal[i] && isDecimalLiteral(s) {
		return append(b, s...), nil
	}
	if tab.json[i] && v != nil {
		b = append(b, "CAST("...)
		b, err := tab.appendValue(b, i, v)
		return append(b, " AS JSON)"...), err
	}
	return tab.appendValue(b, i, v)
}

// appendKeyMatch appends the condition that the key equals row's key.
func (tab *applyTable) appendKeyMatch(b []byte, row record.Row) ([]byte, error) {
	for j, k := range tab.KeyIdx {
		if j > 0 {
			b = append(b, " AND "...)
		}
		var err error
		if b, err = tab.appendCompare(b, k, row[k], false); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (tab *applyTable) columnList() string {
	names := make([]string, len(tab.cols))
	for i, c := range tab.cols {
		names[i] = quoteIdent(c.name)
	}
	return strings.Join(names, ", ")
}

// upsertAction is the ON DUPLICATE KEY UPDATE clause.
func (tab *applyTable) upsertAction() string {
	var sets []string
	for i, c := range tab.cols {
		if !tab.IsKey[i] {
			q := quoteIdent(c.name)
			sets = append(sets, q+" = VALUES("+q+")")
		}
	}
	if len(sets) == 0 {
		q := quoteIdent(tab.cols[tab.KeyIdx[0]].name)
		sets = append(sets, q+" = "+q)
	}
	return " ON DUPLICATE KEY UPDATE " + strings.Join(sets, ", ")
}

// runOps applies row operations in order.
func (a *myApply) runOps(ctx context.Context, ops []applyOp) error {
	for i := 0; i < len(ops); {
		op := ops[i]
		tab := op.Tab
		var err error
		switch op.Kind {
		case applyplan.Upsert, applyplan.Insert, applyplan.Delete:
			j := i + 1
			var seen map[string]bool
			if op.Kind == applyplan.Upsert && !tab.upsert {
				// Delete then insert: a key must not repeat.
				seen = map[string]bool{tab.KeyOf(op.Row): true}
			}
			for j < len(ops) && ops[j].Kind == op.Kind && ops[j].Tab == tab {
				if seen != nil {
					k := tab.KeyOf(ops[j].Row)
					if seen[k] {
						break
					}
					seen[k] = true
				}
				j++
			}
			err = a.runRun(ctx, ops[i:j])
			i = j
		default:
			err = a.runOne(ctx, op)
			i++
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// runRun applies a run of operations of one kind on one table with
// multi-row statements.
func (a *myApply) runRun(ctx context.Context, run []applyOp) error {
	tab := run[0].Tab
	switch run[0].Kind {
	case applyplan.Delete:
		keys := make([]record.Row, len(run))
		for i, op := range run {
			keys[i] = op.Key
		}
		return a.deleteKeys(ctx, tab, keys)
	case applyplan.Upsert:
		rows := make([]record.Row, len(run))
		for i, op := range run {
			rows[i] = op.Row
		}
		if tab.upsert {
			return a.insertRows(ctx, tab, rows, tab.upsertAction())
		}
		if err := a.deleteKeys(ctx, tab, rows); err != nil {
			return err
		}
		return a.insertRows(ctx, tab, rows, "")
	default:
		rows := make([]record.Row, len(run))
		for i, op := range run {
			rows[i] = op.Row
		}
		return a.insertRows(ctx, tab, rows, "")
	}
}

// insertRows inserts rows with multi-row INSERTs ending with tail.
func (a *myApply) insertRows(ctx context.Context, tab *applyTable, rows []record.Row, tail string) error {
	head := "INSERT INTO " + tab.name + " (" + tab.columnList() + ") VALUES "
	var row []byte
	n := 0
	b := a.buf[:0]
	for _, r := range rows {
		var err error
		if row, err = tab.appendRow(row[:0], r); err != nil {
			return err
		}
		if n > 0 && (len(b)+len(row)+len(tail) > a.limit || n == applyMaxRows) {
			if err := a.exec(ctx, tab, append(b, tail...)); err != nil {
				return err
			}
			b, n = b[:0], 0
		}
		if n == 0 {
			b = append(b, head...)
		} else {
			b = append(b, ", "...)
		}
		b = append(b, row...)
		n++
	}
	a.buf = b
	if n == 0 {
		return nil
	}
	return a.exec(ctx, tab, append(b, tail...))
}

// deleteKeys deletes the rows with the keys of rows.
func (a *myApply) deleteKeys(ctx context.Context, tab *applyTable, rows []record.Row) error {
	head := "DELETE FROM " + tab.name + " WHERE "
	single := len(tab.KeyIdx) == 1
	if single {
		head += quoteIdent(tab.cols[tab.KeyIdx[0]].name) + " IN ("
	}
	var term []byte
	n := 0
	b := a.buf[:0]
	flush := func() error {
		if single {
			b = append(b, ')')
		}
		err := a.exec(ctx, tab, b)
		b, n = b[:0], 0
		return err
	}
	for _, r := range rows {
		var err error
		term = term[:0]
		if single {
			k := tab.KeyIdx[0]
			if s, ok := r[k].(string); ok && tab.decimal[k] && isDecimalLiteral(s) {
				term = append(term, s...)
			} else if term, err = tab.appendValue(term, k, r[k]); err != nil {
				return err
			}
		} else {
			term = append(term, '(')
			if term, err = tab.appendKeyMatch(term, r); err != nil {
				return err
			}
			term = append(term, ')')
		}
		if n > 0 && (len(b)+len(term) > a.limit || n == applyMaxRows) {
			if err := flush(); err != nil {
				return err
			}
		}
		switch {
		case n == 0:
			b = append(b, head...)
		case single:
			b = append(b, ", "...)
		default:
			b = append(b, " OR "...)
		}
		b = append(b, term...)
		n++
	}
	if n > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	a.buf = b
	return nil
}

// runOne applies an operation that is a statement of its own.
func (a *myApply) runOne(ctx context.Context, op applyOp) error {
	tab := op.Tab
	b := a.buf[:0]
	defer func() { a.buf = b }()
	var err error
	switch op.Kind {
	case applyplan.Truncate:
		return a.exec(ctx, tab, append(b, "DELETE FROM "+tab.name...))
	case applyplan.ClearKey:
		// The derived table (an aggregate, never merged) lets the
		// statement read the table it deletes from.
		b = append(b, "DELETE FROM "+tab.name+" WHERE "...)
		if b, err = tab.appendKeyMatch(b, op.Row); err != nil {
			return err
		}
		b = append(b, " AND (SELECT godwit_old.n FROM (SELECT COUNT(*) AS n FROM "+tab.name+" WHERE "...)
		if b, err = tab.appendKeyMatch(b, op.Key); err != nil {
			return err
		}
		b = append(b, ") AS godwit_old) > 0"...)
		return a.exec(ctx, tab, b)
	case applyplan.Update, applyplan.UpdateRow:
		b = append(b, "UPDATE "+tab.name+" SET "...)
		n := 0
		for i, v := range op.Row {
			if v == record.Unchanged || op.Kind == applyplan.Update && tab.IsKey[i] && !op.KeyChanged {
				continue
			}
			if n > 0 {
				b = append(b, ", "...)
			}
			n++
			b = append(b, quoteIdent(tab.cols[i].name)+" = "...)
			if b, err = tab.appendValue(b, i, v); err != nil {
				return err
			}
		}
		if n == 0 {
			return nil
		}
		b = append(b, " WHERE "...)
		if op.Kind == applyplan.Update {
			if b, err = tab.appendKeyMatch(b, op.Key); err != nil {
				return err
			}
			return a.exec(ctx, tab, b)
		}
		if b, err = tab.appendRowMatch(b, op.Key); err != nil {
			return err
		}
		return a.exec(ctx, tab, append(b, " LIMIT 1"...))
	case applyplan.DeleteRow:
		b = append(b, "DELETE FROM "+tab.name+" WHERE "...)
		if b, err = tab.appendRowMatch(b, op.Key); err != nil {
			return err
		}
		return a.exec(ctx, tab, append(b, " LIMIT 1"...))
	}
	return fmt.Errorf("applying changes to %s: unexpected operation %d", tab.Label, op.Kind)
}

// appendRowMatch appends the condition that every column equals (<=>) the
// old row's value (those it has).
func (tab *applyTable) appendRowMatch(b []byte, row record.Row) ([]byte, error) {
	n := 0
	for i, v := range row {
		if v == record.Unchanged {
			continue
		}
		if n > 0 {
			b = append(b, " AND "...)
		}
		n++
		var err error
		if b, err = tab.appendCompare(b, i, v, true); err != nil {
			return b, err
		}
	}
	if n == 0 {
		b = append(b, "TRUE"...)
	}
	return b, nil
}
