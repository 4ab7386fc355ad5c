package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/godwit-dms/godwit/internal/record"
)

// Schemas lists the user databases (only the endpoint's DatabaseName when
// it names one).
func (c *Conn) Schemas(ctx context.Context) ([]string, error) {
	db, err := c.dataDB()
	if err != nil {
		return nil, err
	}
	q := "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN (" + systemSchemas + ")"
	var args []any
	if c.cfg.Database != "" {
		q += " AND SCHEMA_NAME = ?"
		args = append(args, c.cfg.Database)
	}
	rows, err := db.QueryContext(ctx, q+" ORDER BY SCHEMA_NAME", args...)
	if err != nil {
		return nil, classify(ctx, "listing databases", err, 0)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, classify(ctx, "listing databases", err, 0)
		}
		out = append(out, s)
	}
	return out, classify(ctx, "listing databases", rows.Err(), 0)
}

// Tables returns every base table of the user databases (of the endpoint's
// DatabaseName when it names one): columns in ordinal order with their
// types (TYPES.md), the primary key, unique keys (those on NOT NULL columns
// first) and the catalog's row and size estimates.
func (c *Conn) Tables(ctx context.Context) ([]*record.Table, error) {
	return c.tables(ctx, c.cfg.Database)
}

// tables reads the base tables of database, or of every user database
// when it is "".
func (c *Conn) tables(ctx context.Context, database string) ([]*record.Table, error) {
	f, err := c.flavor(ctx)
	if err != nil {
		return nil, err
	}
	db, err := c.dataDB()
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, classify(ctx, "opening a session", err, 0)
	}
	defer conn.Close()
	cat := catalogQuery{conn: conn, database: database}

	tables := map[tableKey]*record.Table{}
	var order []tableKey
	err = cat.each(ctx, "listing tables",
		"SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(TABLE_ROWS, 0), COALESCE(DATA_LENGTH, 0) FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'",
		func(rows *sql.Rows) error {
			t := &record.Table{}
			if err := rows.Scan(&t.Schema, &t.Name, &t.RowsEstimate, &t.BytesEstimate); err != nil {
				return err
			}
			k := tableKey{t.Schema, t.Name}
			tables[k] = t
			order = append(order, k)
			return nil
		})
	if err != nil {
		return nil, err
	}

	jsonCols := map[tableKey]map[string]bool{}
	if f.mariaDB {
		// MariaDB's JSON is LONGTEXT with a column CHECK (json_valid(`col`))
		// named after the column.
		err = cat.each(ctx, "reading check constraints",
			"SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CHECK_CLAUSE LIKE 'json_valid(%'",
			func(rows *sql.Rows) error {
				var k tableKey
				var name, clause string
				if err := rows.Scan(&k.db, &k.table, &name, &clause); err != nil {
					return err
				}
				if clause == "json_valid("+quoteIdent(name)+")" {
					if jsonCols[k] == nil {
						jsonCols[k] = map[string]bool{}
					}
					jsonCols[k][name] = true
				}
				return nil
			}, "CONSTRAINT_SCHEMA")
		if err != nil {
			return nil, err
		}
	}

	err = cat.each(ctx, "reading columns",
		`SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, LOWER(DATA_TYPE), COLUMN_TYPE, IS_NULLABLE,
			COALESCE(CHARACTER_MAXIMUM_LENGTH, 0), COALESCE(NUMERIC_PRECISION, 0), COALESCE(NUMERIC_SCALE, 0),
			COALESCE(DATETIME_PRECISION, 0)
		FROM information_schema.COLUMNS WHERE 1 = 1`,
		func(rows *sql.Rows) error {
			var k tableKey
			var name, nullable string
			var sc sourceColumn
			if err := rows.Scan(&k.db, &k.table, &name, &sc.dataType, &sc.columnType, &nullable,
				&sc.charLen, &sc.precision, &sc.scale, &sc.dtPrec); err != nil {
				return err
			}
			t := tables[k]
			if t == nil { // a view
				return nil
			}
			sc.json = jsonCols[k][name]
			t.Columns = append(t.Columns, record.Column{Name: name, Type: recordType(sc), Nullable: nullable == "YES"})
			return nil
		}, "TABLE_SCHEMA", "TABLE_NAME", "ORDINAL_POSITION")
	if err != nil {
		return nil, err
	}

	type index struct {
		k      tableKey
		name   string
		cols   []string
		prefix bool
	}
	var indexes []*index
	byName := map[string]*index{}
	err = cat.each(ctx, "reading keys",
		"SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS WHERE NON_UNIQUE = 0",
		func(rows *sql.Rows) error {
			var k tableKey
			var name string
			var col sql.NullString
			var sub sql.NullInt64
			if err := rows.Scan(&k.db, &k.table, &name, &col, &sub); err != nil {
				return err
			}
			id := k.db + "\x00" + k.table + "\x00" + name
			ix := byName[id]
			if ix == nil {
				ix = &index{k: k, name: name}
				byName[id] = ix
				indexes = append(indexes, ix)
			}
			if !col.Valid { // MySQL functional key part: not a column key
				ix.prefix = true
				return nil
			}
			ix.cols = append(ix.cols, col.String)
			ix.prefix = ix.prefix || sub.Valid
			return nil
		}, "TABLE_SCHEMA", "TABLE_NAME", "INDEX_NAME", "SEQ_IN_INDEX")
	if err != nil {
		return nil, err
	}
	for _, ix := range indexes {
		t := tables[ix.k]
		if t == nil {
			continue
		}
		if ix.name == "PRIMARY" {
			t.PrimaryKey = ix.cols
			continue
		}
		if !ix.prefix {
			t.UniqueKeys = append(t.UniqueKeys, ix.cols)
		}
	}

	out := make([]*record.Table, 0, len(order))
	for _, k := range order {
		t := tables[k]
		sort.SliceStable(t.UniqueKeys, func(i, j int) bool {
			return !hasNullable(t, t.UniqueKeys[i]) && hasNullable(t, t.UniqueKeys[j])
		})
		out = append(out, t)
	}
	return out, nil
}

func hasNullable(t *record.Table, cols []string) bool {
	for _, n := range cols {
		if c := t.Column(n); c == nil || c.Nullable {
			return true
		}
	}
	return false
}

// catalogQuery runs information_schema queries limited to the user
// databases (or the endpoint's database).
type catalogQuery struct {
	conn     *sql.Conn
	database string
}

// each runs q, which must end in a WHERE clause, restricted to the user
// databases on schemaCol (the first orderBy column, else TABLE_SCHEMA) and
// ordered by orderBy.
func (cq catalogQuery) each(ctx context.Context, doing, q string, fn func(*sql.Rows) error, orderBy ...string) error {
	schemaCol := "TABLE_SCHEMA"
	if len(orderBy) > 0 {
		schemaCol = orderBy[0]
	} else {
		orderBy = []string{"TABLE_SCHEMA", "TABLE_NAME"}
	}
	var args []any
	q += " AND " + schemaCol + " NOT IN (" + systemSchemas + ")"
	if cq.database != "" {
		q += " AND " + schemaCol + " = ?"
		args = append(args, cq.database)
	}
	q += " ORDER BY " + strings.Join(orderBy, ", ")
	rows, err := cq.conn.QueryContext(ctx, q, args...)
	if err != nil {
		return classify(ctx, doing, err, 0)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return classify(ctx, doing, err, 0)
		}
	}
	if err := rows.Err(); err != nil {
		return classify(ctx, doing, err, 0)
	}
	return nil
}

// qualified is `db`.`table`.
func qualified(db, table string) string { return quoteIdent(db) + "." + quoteIdent(table) }

func tableLabel(db, table string) string { return fmt.Sprintf("%s.%s", db, table) }
