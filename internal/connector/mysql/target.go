package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// Family is the engine family of this target: a source column of the
// MySQL family keeps its native type.
func (c *Conn) Family() string { return engineFamily }

// DefaultSchema is "": a source schema becomes a database of the same name
// on the target (created when missing), unless the endpoint sends every
// table to its DatabaseName (TargetDbType specific-database).
func (c *Conn) DefaultSchema() string { return "" }

// targetDatabase is the database t is loaded into.
func (c *Conn) targetDatabase(t *record.Table) (string, error) {
	if c.cfg.TargetDbType == TargetSpecificDatabase && c.cfg.Database != "" {
		return c.cfg.Database, nil
	}
	if t.Schema == "" {
		if c.cfg.Database != "" {
			return c.cfg.Database, nil
		}
		return "", fmt.Errorf("%w: table %q has no schema and the endpoint no DatabaseName", ErrUnsupported, t.Name)
	}
	return t.Schema, nil
}

// targetSession is what writing to target table t takes: its database,
// the server's flavor and the pool.
func (c *Conn) targetSession(ctx context.Context, t *record.Table) (string, serverFlavor, *sql.DB, error) {
	db, err := c.targetDatabase(t)
	if err != nil {
		return "", serverFlavor{}, nil, err
	}
	f, err := c.flavor(ctx)
	if err != nil {
		return "", serverFlavor{}, nil, err
	}
	pool, err := c.dataDB()
	return db, f, pool, err
}

// PrepareTable creates the database if missing, then per prep keeps
// (DO_NOTHING), drops and re-creates (DROP_AND_CREATE) or empties
// (TRUNCATE_BEFORE_LOAD) the table, creating it when missing: InnoDB,
// utf8mb4, columns typed per TYPES.md, the primary key and unique keys
// inline unless deferPK.
func (c *Conn) PrepareTable(ctx context.Context, t *record.Table, prep connector.TablePrep, deferPK bool) error {
	db, f, pool, err := c.targetSession(ctx, t)
	if err != nil {
		return err
	}
	label := tableLabel(db, t.Name)
	if _, err := pool.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteIdent(db)+" CHARACTER SET utf8mb4"); err != nil {
		return classify(ctx, "creating database "+db, err, 0)
	}
	var n int
	if err := pool.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
		db, t.Name).Scan(&n); err != nil {
		return classify(ctx, "looking for table "+label, err, 0)
	}
	exists := n > 0
	c.forgetTargetColumns(db, t.Name)
	name := qualified(db, t.Name)
	switch prep {
	case connector.PrepDoNothing, "":
		if exists {
			return nil
		}
	case connector.PrepDropAndCreate:
		if exists {
			if _, err := pool.ExecContext(ctx, "DROP TABLE IF EXISTS "+name); err != nil {
				return classify(ctx, "dropping "+label, err, 0)
			}
		}
	case connector.PrepTruncate:
		if exists {
			_, err := pool.ExecContext(ctx, "TRUNCATE TABLE "+name)
			if errIsMySQL(err, erTruncateFKReferenced) {
				// Referenced by a foreign key: TRUNCATE is refused, DELETE is not.
				_, err = pool.ExecContext(ctx, "DELETE FROM "+name)
			}
			return classify(ctx, "truncating "+label, err, 0)
		}
	default:
		return fmt.Errorf("%w: table preparation mode %q", ErrUnsupported, prep)
	}
	ddl, err := createTableSQL(f, db, t, !deferPK)
	if err != nil {
		return err
	}
	if _, err := pool.ExecContext(ctx, ddl); err != nil {
		return classify(ctx, "creating "+label, err, 0)
	}
	return nil
}

// createTableSQL is the CREATE TABLE of t in db.
func createTableSQL(f serverFlavor, db string, t *record.Table, withKeys bool) (string, error) {
	if len(t.Columns) == 0 {
		return "", fmt.Errorf("%w: table %s has no columns", ErrUnsupported, t.QualifiedName())
	}
	defs := columnDefs(f, t)
	var b strings.Builder
	b.WriteString("CREATE TABLE ")
	b.WriteString(qualified(db, t.Name))
	b.WriteString(" (\n")
	pk := map[string]bool{}
	for _, n := range t.PrimaryKey {
		pk[n] = true
	}
	for i, col := range t.Columns {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString("  ")
		b.WriteString(quoteIdent(col.Name))
		b.WriteString(" ")
		b.WriteString(defs[i].sql())
		if !col.Nullable || pk[col.Name] {
			b.WriteString(" NOT NULL")
		} else {
			b.WriteString(" NULL")
		}
	}
	if withKeys {
		for _, k := range keyClauses(t) {
			b.WriteString(",\n  ")
			b.WriteString(k.sql)
		}
	}
	b.WriteString("\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
	return b.String(), nil
}

// keyClause is a PRIMARY KEY or UNIQUE KEY clause.
type keyClause struct {
	sql     string
	cols    string // the quoted column list
	primary bool
}

// keyClauses are the PRIMARY KEY and UNIQUE KEY clauses of t.
func keyClauses(t *record.Table) []keyClause {
	var out []keyClause
	if len(t.PrimaryKey) > 0 {
		cols := joinQuoted(t.PrimaryKey)
		out = append(out, keyClause{sql: "PRIMARY KEY (" + cols + ")", cols: cols, primary: true})
	}
	for i, uk := range t.UniqueKeys {
		if slices.Equal(uk, t.PrimaryKey) || len(uk) == 0 {
			continue
		}
		cols := joinQuoted(uk)
		out = append(out, keyClause{sql: fmt.Sprintf("UNIQUE KEY %s (%s)", quoteIdent(fmt.Sprintf("uk_%d", i+1)), cols), cols: cols})
	}
	return out
}

// columnDefs types the columns of t for the target, then fits them into
// InnoDB's limits: key columns of LOB types, or too long for a 3072-byte
// key, become VARCHAR/VARBINARY of their share of the key; when the
// VARCHAR/VARBINARY columns exceed the 65,535-byte row, the longest
// non-key ones become TEXT/BLOB.
func columnDefs(f serverFlavor, t *record.Table) []colDef {
	defs := make([]colDef, len(t.Columns))
	index := map[string]int{}
	for i, c := range t.Columns {
		defs[i] = targetType(c.Type, f)
		index[c.Name] = i
	}
	isKey := map[int]bool{}
	keys := append([][]string{t.PrimaryKey}, t.UniqueKeys...)
	for _, k := range keys {
		var variable []int
		total := 0
		for _, n := range k {
			i, ok := index[n]
			if !ok {
				continue
			}
			isKey[i] = true
			switch d := defs[i]; d.class {
			case classTextLOB, classBinaryLOB:
				variable = append(variable, i)
				total += maxKeyBytes + 1
			case classVarChar, classVarBinary:
				variable = append(variable, i)
				total += d.rowBytes() - 2
			}
		}
		if total <= maxKeyBytes || len(variable) == 0 {
			continue
		}
		share := maxKeyBytes / len(variable)
		for _, i := range variable {
			d := defs[i]
			switch {
			case d.class == classTextLOB || (d.class == classVarChar && 4*d.n > share):
				collate := d.collate
				if collate == "" {
					collate = binCollation(f)
				}
				defs[i] = colDef{base: fmt.Sprintf("varchar(%d)", share/4), collate: collate, class: classVarChar, n: share / 4}
			case d.class == classBinaryLOB || (d.class == classVarBinary && d.n > share):
				defs[i] = colDef{base: fmt.Sprintf("varbinary(%d)", share), class: classVarBinary, n: share}
			}
		}
	}
	for {
		total, longest := 0, -1
		for i, d := range defs {
			total += d.rowBytes()
			if d.rowBytes() > 0 && !isKey[i] && (longest < 0 || d.rowBytes() > defs[longest].rowBytes()) {
				longest = i
			}
		}
		if total <= maxRowBytes || longest < 0 {
			break
		}
		d := defs[longest]
		if d.class == classVarChar {
			defs[longest] = colDef{base: "text", collate: d.collate, class: classTextLOB}
			if d.n > maxTextChars {
				defs[longest].base = "mediumtext"
			}
		} else {
			defs[longest] = colDef{base: "blob", class: classBinaryLOB}
		}
	}
	return defs
}

// FinishTable adds the primary key and unique keys a deferred-PK load left
// out. Keys that already exist (a finished table finished again) are kept.
func (c *Conn) FinishTable(ctx context.Context, t *record.Table, deferPK bool) error {
	if !deferPK {
		return nil
	}
	db, err := c.targetDatabase(t)
	if err != nil {
		return err
	}
	pool, err := c.dataDB()
	if err != nil {
		return err
	}
	existing, err := indexColumns(ctx, pool, db, t.Name)
	if err != nil {
		return err
	}
	for _, k := range keyClauses(t) {
		if existing[k.cols] && !k.primary {
			continue // a unique index on these columns is already there
		}
		_, err := pool.ExecContext(ctx, "ALTER TABLE "+qualified(db, t.Name)+" ADD "+k.sql)
		if err != nil && !errIsMySQL(err, erMultiplePriKey, erDupKeyName) {
			return classify(ctx, "adding "+k.sql+" to "+tableLabel(db, t.Name), err, 0)
		}
	}
	return nil
}

// indexColumns returns the column lists (joinQuoted) of the unique indexes
// of db.table.
func indexColumns(ctx context.Context, pool *sql.DB, db, table string) (map[string]bool, error) {
	rows, err := pool.QueryContext(ctx, `SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX`, db, table)
	if err != nil {
		return nil, classify(ctx, "reading the keys of "+tableLabel(db, table), err, 0)
	}
	defer rows.Close()
	cols := map[string][]string{}
	for rows.Next() {
		var name string
		var col sql.NullString
		if err := rows.Scan(&name, &col); err != nil {
			return nil, classify(ctx, "reading the keys of "+tableLabel(db, table), err, 0)
		}
		cols[name] = append(cols[name], col.String)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(ctx, "reading the keys of "+tableLabel(db, table), err, 0)
	}
	out := map[string]bool{}
	for _, c := range cols {
		out[joinQuoted(c)] = true
	}
	return out, nil
}

// DeleteRange deletes the rows of t inside r (all rows when r is nil).
func (c *Conn) DeleteRange(ctx context.Context, t *record.Table, r *record.Range) error {
	db, err := c.targetDatabase(t)
	if err != nil {
		return err
	}
	pool, err := c.dataDB()
	if err != nil {
		return err
	}
	w := newWhere(t)
	if err := w.rangeOf(r); err != nil {
		return err
	}
	_, err = pool.ExecContext(ctx, "DELETE FROM "+qualified(db, t.Name)+w.sql(), w.args...)
	return classify(ctx, "deleting a range of "+tableLabel(db, t.Name), err, 0)
}

// targetColumns returns the DATA_TYPE of each column of db.table, cached
// until the table is prepared again.
func (c *Conn) targetColumns(ctx context.Context, db, table string) (map[string]string, error) {
	key := db + "\x00" + table
	c.mu.Lock()
	cols, ok := c.targetCols[key]
	c.mu.Unlock()
	if ok {
		return cols, nil
	}
	pool, err := c.dataDB()
	if err != nil {
		return nil, err
	}
	rows, err := pool.QueryContext(ctx, "SELECT COLUMN_NAME, LOWER(DATA_TYPE) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", db, table)
	if err != nil {
		return nil, classify(ctx, "reading the columns of "+tableLabel(db, table), err, 0)
	}
	defer rows.Close()
	cols = map[string]string{}
	for rows.Next() {
		var n string
		var dt sql.NullString
		if err := rows.Scan(&n, &dt); err != nil {
			return nil, classify(ctx, "reading the columns of "+tableLabel(db, table), err, 0)
		}
		cols[n] = dt.String
	}
	if err := rows.Err(); err != nil {
		return nil, classify(ctx, "reading the columns of "+tableLabel(db, table), err, 0)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("loading %s: the table does not exist on the target", tableLabel(db, table))
	}
	c.mu.Lock()
	if c.targetCols == nil {
		c.targetCols = map[string]map[string]string{}
	}
	c.targetCols[key] = cols
	c.mu.Unlock()
	return cols, nil
}

func (c *Conn) forgetTargetColumns(db, table string) {
	c.mu.Lock()
	delete(c.targetCols, db+"\x00"+table)
	c.mu.Unlock()
}
