package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// Family is the engine family of PostgreSQL targets.
func (c *Conn) Family() string { return Engine }

// DefaultSchema is empty: a table lands in a schema named like its source
// schema, created when missing.
func (c *Conn) DefaultSchema() string { return "" }

// target returns the catalog view of a target table (cached until the next
// PrepareTable of the table).
func (c *Conn) target(ctx context.Context, pg *pgx.Conn, t *record.Table) (*relation, error) {
	key := [2]string{t.Schema, t.Name}
	c.targetsMu.Lock()
	rel := c.targets[key]
	c.targetsMu.Unlock()
	if rel != nil {
		return rel, nil
	}
	rel, err := lookupRelation(ctx, pg, t.Schema, t.Name)
	if err != nil {
		return nil, err
	}
	c.targetsMu.Lock()
	if c.targets == nil {
		c.targets = map[[2]string]*relation{}
	}
	c.targets[key] = rel
	c.targetsMu.Unlock()
	return rel, nil
}

func (c *Conn) forgetTarget(t *record.Table) {
	c.targetsMu.Lock()
	delete(c.targets, [2]string{t.Schema, t.Name})
	c.targetsMu.Unlock()
}

// PrepareTable readies the target table: creates its schema when missing,
// then keeps (DO_NOTHING), drops and creates (DROP_AND_CREATE) or truncates
// (TRUNCATE_BEFORE_LOAD) it, creating it when it does not exist.
func (c *Conn) PrepareTable(ctx context.Context, t *record.Table, prep connector.TablePrep, deferPK bool) error {
	switch prep {
	case connector.PrepDoNothing, connector.PrepDropAndCreate, connector.PrepTruncate:
	default:
		return fmt.Errorf("%w: TargetTablePrepMode %q", ErrInvalidConfig, prep)
	}
	pg, err := c.data.acquire(ctx, c)
	if err != nil {
		return err
	}
	defer c.data.release(pg)
	c.forgetTarget(t)
	name := quoteTable(t.Schema, t.Name)
	doing := "preparing " + name
	if err := ensureSchema(ctx, pg, t.Schema); err != nil {
		return classify(ctx, pg, doing, err)
	}
	var exists bool
	if err := pg.QueryRow(ctx, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", name).Scan(&exists); err != nil {
		return classify(ctx, pg, doing, err)
	}
	var stmts []string
	switch {
	case prep == connector.PrepDropAndCreate:
		stmts = append(stmts, "DROP TABLE IF EXISTS "+name+" CASCADE")
	case exists && prep == connector.PrepTruncate:
		stmts = append(stmts, "TRUNCATE TABLE "+name)
	case exists:
		return nil
	}
	if !exists || prep == connector.PrepDropAndCreate {
		ddl, err := createTable(ctx, pg, t, deferPK)
		if err != nil {
			return classify(ctx, pg, doing, err)
		}
		stmts = append(stmts, ddl)
	}
	err = pgx.BeginFunc(ctx, pg, func(tx pgx.Tx) error {
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	return classify(ctx, pg, doing, err)
}

// ensureSchema creates the schema if it does not exist. Tables of one
// schema are prepared concurrently, so losing the race to create it is
// fine.
func ensureSchema(ctx context.Context, pg *pgx.Conn, schema string) error {
	var exists bool
	if err := pg.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err := pg.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(schema))
	if isSQLState(err, sqlstateUniqueViolation) || isSQLState(err, sqlstateDuplicateSchema) {
		return nil
	}
	return err
}

// createTable is the CREATE TABLE of t: a column keeps its native type when
// it is a PostgreSQL type the target knows, else gets the type its Kind maps
// to; NOT NULL as the source; the primary key unless deferred.
func createTable(ctx context.Context, pg *pgx.Conn, t *record.Table, deferPK bool) (string, error) {
	known, err := knownTypes(ctx, pg, t)
	if err != nil {
		return "", err
	}
	defs := make([]string, 0, len(t.Columns)+1)
	for _, col := range t.Columns {
		def := quoteIdent(col.Name) + " " + columnType(col, known)
		if !col.Nullable {
			def += " NOT NULL"
		}
		defs = append(defs, def)
	}
	if len(t.PrimaryKey) > 0 && !deferPK {
		defs = append(defs, "PRIMARY KEY ("+quoteIdents(t.PrimaryKey)+")")
	}
	return "CREATE TABLE " + quoteTable(t.Schema, t.Name) + " (\n\t" + strings.Join(defs, ",\n\t") + "\n)", nil
}

// columnType is the type a target column gets: its native type when it is
// a PostgreSQL type the target knows, else the type its Kind maps to.
func columnType(col record.Column, known map[string]bool) string {
	if col.Type.Engine == Engine && known[col.Type.Native] {
		return col.Type.Native
	}
	return targetType(col.Type)
}

// knownTypes says which of t's native PostgreSQL types exist on the target
// (an enum, a domain or an extension's type may not).
func knownTypes(ctx context.Context, pg *pgx.Conn, t *record.Table) (map[string]bool, error) {
	var natives []string
	for _, col := range t.Columns {
		if col.Type.Engine == Engine && col.Type.Native != "" {
			natives = append(natives, col.Type.Native)
		}
	}
	known := map[string]bool{}
	if len(natives) == 0 {
		return known, nil
	}
	rows, err := pg.Query(ctx, "SELECT n, pg_catalog.to_regtype(n) IS NOT NULL FROM unnest($1::text[]) n", natives)
	if err == nil {
		for rows.Next() {
			var n string
			var ok bool
			if err = rows.Scan(&n, &ok); err != nil {
				break
			}
			known[n] = ok
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	if err == nil {
		return known, nil
	}
	if isConnectionLoss(ctx, pg, err) || ctx.Err() != nil {
		return nil, err
	}
	// A name to_regtype cannot parse: ask one at a time.
	slog.DebugContext(ctx, "postgres: checking native types one by one", "err", err)
	for _, n := range natives {
		var ok bool
		if pg.QueryRow(ctx, "SELECT pg_catalog.to_regtype($1) IS NOT NULL", n).Scan(&ok) == nil {
			known[n] = ok
		}
	}
	return known, nil
}

// Load writes rows into t with one COPY, which is one transaction: all of
// them or none. Values are encoded in binary for the target columns'
// types; a table with a column binary COPY cannot fill (an array, an
// interval, a value only the server can parse) is loaded as text COPY.
func (c *Conn) Load(ctx context.Context, t *record.Table, rows []record.Row) error {
	return c.load(ctx, t, rows, nil)
}

// LoadStream writes the batches next returns into t with one COPY, one
// transaction, as Load does one batch. A value that only text COPY takes,
// met in binary, ends that COPY cleanly before its row, and a text COPY
// goes on from there: the load is then two transactions, and a failure of
// the second leaves the first committed (the engine clears what lies
// beyond its recorded progress when it resumes).
func (c *Conn) LoadStream(ctx context.Context, t *record.Table, next func() ([]record.Row, error)) error {
	first, err := nextRows(next)
	if err != nil || first == nil {
		return err
	}
	return c.load(ctx, t, first, func() ([]record.Row, error) { return nextRows(next) })
}

// load is Load of rows, then of the batches more returns when it is set.
func (c *Conn) load(ctx context.Context, t *record.Table, rows []record.Row, more func() ([]record.Row, error)) error {
	if len(rows) == 0 {
		return nil
	}
	pg, err := c.data.acquire(ctx, c)
	if err != nil {
		return err
	}
	defer c.data.release(pg)
	name := quoteTable(t.Schema, t.Name)
	rel, err := c.target(ctx, pg, t)
	if err != nil {
		return classify(ctx, pg, "loading "+name, err)
	}
	names := make([]string, len(t.Columns))
	kinds := make([]record.Kind, len(t.Columns))
	for i, col := range t.Columns {
		names[i], kinds[i] = col.Name, col.Type.Kind
	}
	plans, err := rel.plansFor(names)
	if err != nil {
		return err
	}
	encs := make([]encoder, len(plans))
	useBinary := true
	for i, p := range plans {
		encs[i] = encoderFor(p.base)
		useBinary = useBinary && binaryFits(kinds[i], encs[i])
	}
	stmt := "COPY " + name + " (" + quoteIdents(names) + ") FROM STDIN"
	if useBinary {
		src := &copySource{rows: rows, more: more, encs: encs, kinds: kinds, binary: true, stopAtText: more != nil}
		err := copyIn(ctx, pg, stmt+" (FORMAT binary)", src, t)
		switch {
		case errors.Is(err, errNeedText):
			// One batch: it goes again, whole, as text.
		case err != nil || !src.textAt:
			return err
		default:
			rows, more = src.rows[src.next:], src.more
		}
	}
	return copyIn(ctx, pg, stmt, &copySource{rows: rows, more: more, encs: encs, kinds: kinds}, t)
}

// nextRows is the next non-empty batch of next (nil at the end).
func nextRows(next func() ([]record.Row, error)) ([]record.Row, error) {
	for {
		rows, err := next()
		if err != nil || rows == nil {
			return nil, err
		}
		if len(rows) > 0 {
			return rows, nil
		}
	}
}

// copyIn runs one COPY FROM STDIN and classifies its failure.
func copyIn(ctx context.Context, pg *pgx.Conn, stmt string, src *copySource, t *record.Table) error {
	_, err := pg.PgConn().CopyFrom(ctx, src, stmt)
	if src.moreErr != nil {
		return src.moreErr
	}
	if src.err != nil && ctx.Err() == nil && !pg.IsClosed() {
		if errors.Is(src.err, errNeedText) {
			return errNeedText
		}
		col := ""
		if src.errCol >= 0 {
			col = fmt.Sprintf(", column %s", quoteIdent(t.Columns[src.errCol].Name))
		}
		return fmt.Errorf("%w: %s: row %d of the batch%s: %w", ErrRowRejected, quoteTable(t.Schema, t.Name), src.errRow+1, col, src.err)
	}
	if err == nil {
		return nil
	}
	return classifyLoad(ctx, pg, "loading "+quoteTable(t.Schema, t.Name), err)
}

// classifyLoad wraps a data or integrity error of the target with
// ErrRowRejected, others as classify does.
func classifyLoad(ctx context.Context, pg *pgx.Conn, doing string, err error) error {
	var pgErr *pgconn.PgError
	if ctx.Err() == nil && errors.As(err, &pgErr) && len(pgErr.Code) == 5 &&
		(pgErr.Code[:2] == sqlstateClassData || pgErr.Code[:2] == sqlstateClassIntegrity) {
		msg := pgErr.Message
		if pgErr.Detail != "" {
			msg += " (" + pgErr.Detail + ")"
		}
		if pgErr.Where != "" {
			msg += " at " + pgErr.Where
		}
		return fmt.Errorf("%w: %s: %s (SQLSTATE %s): %w", ErrRowRejected, doing, msg, pgErr.Code, err)
	}
	return classify(ctx, pg, doing, err)
}

// DeleteRange deletes the rows of t inside r (all rows when r is nil).
func (c *Conn) DeleteRange(ctx context.Context, t *record.Table, r *record.Range) error {
	pg, err := c.data.acquire(ctx, c)
	if err != nil {
		return err
	}
	defer c.data.release(pg)
	name := quoteTable(t.Schema, t.Name)
	rel, err := c.target(ctx, pg, t)
	if err != nil {
		return classify(ctx, pg, "deleting from "+name, err)
	}
	where, err := whereClause(rel, filterSpec{rng: r})
	if err != nil {
		return err
	}
	_, err = pg.Exec(ctx, "DELETE FROM "+name+where)
	return classify(ctx, pg, "deleting from "+name, err)
}

// FinishTable adds the primary key a deferPK preparation left out, unless
// the table already has one.
func (c *Conn) FinishTable(ctx context.Context, t *record.Table, deferPK bool) error {
	if !deferPK || len(t.PrimaryKey) == 0 {
		return nil
	}
	pg, err := c.data.acquire(ctx, c)
	if err != nil {
		return err
	}
	defer c.data.release(pg)
	name := quoteTable(t.Schema, t.Name)
	var has bool
	err = pg.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index
		WHERE indrelid = pg_catalog.to_regclass($1) AND indisprimary)`, name).Scan(&has)
	if err != nil || has {
		return classify(ctx, pg, "adding the primary key of "+name, err)
	}
	_, err = pg.Exec(ctx, "ALTER TABLE "+name+" ADD PRIMARY KEY ("+quoteIdents(t.PrimaryKey)+")")
	if err != nil {
		return classifyLoad(ctx, pg, "adding the primary key of "+name, err)
	}
	c.forgetTarget(t)
	return nil
}
