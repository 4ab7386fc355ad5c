package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/record"
)

// countCap bounds the exact count that stands in for statistics of a table
// never analyzed; beyond it the planner's estimate is used.
const countCap = 1_000_000

// Schemas lists the user schemas of the endpoint's database.
func (c *Conn) Schemas(ctx context.Context) ([]string, error) {
	pg, err := c.data.acquire(ctx, c)
	if err != nil {
		return nil, err
	}
	defer c.data.release(pg)
	rows, err := pg.Query(ctx, `
SELECT n.nspname FROM pg_catalog.pg_namespace n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
	AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
ORDER BY 1`)
	if err != nil {
		return nil, classify(ctx, pg, "listing schemas", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, classify(ctx, pg, "listing schemas", err)
}

// Tables returns the user tables of the endpoint's database: ordinary and
// partitioned tables (a partitioned table is read through its parent; its
// partitions are not listed), with columns in order, keys and estimates.
func (c *Conn) Tables(ctx context.Context) ([]*record.Table, error) {
	pg, err := c.data.acquire(ctx, c)
	if err != nil {
		return nil, err
	}
	defer c.data.release(pg)
	rels, err := readRelations(ctx, pg, "", true)
	if err != nil {
		return nil, classify(ctx, pg, "reading the tables", err)
	}
	out := make([]*record.Table, len(rels))
	for i, r := range rels {
		out[i] = r.table
	}
	return out, nil
}

// relation is a table found in the catalog.
type relation struct {
	oid      uint32
	table    *record.Table
	plans    []colPlan
	needsCnt bool
	// only: an ordinary table, read with ONLY so that rows of inheritance
	// children (listed as tables of their own) are not read twice. A
	// partitioned table is read whole.
	only bool
	// plain: an ordinary table (relkind r), whose rows have a place
	// (ctid) that no other row of the relation has within a snapshot.
	plain bool
}

// from is the FROM item that reads the relation's own rows.
func (r *relation) from() string {
	if r.only {
		return "ONLY " + quoteTable(r.table.Schema, r.table.Name)
	}
	return quoteTable(r.table.Schema, r.table.Name)
}

// readRelations reads tables with their columns' read plans. With
// relFilter ("schema"."table" quoted) only that table; withKeys adds keys
// and estimates.
func readRelations(ctx context.Context, pg *pgx.Conn, relFilter string, withKeys bool) ([]*relation, error) {
	var version int
	if err := pg.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return nil, err
	}
	// Estimates: reltuples and pg_table_size, summed over the leaf
	// partitions of a partitioned table. A table never vacuumed or analyzed
	// (reltuples -1 since PostgreSQL 14, 0 with relpages 0 before) is
	// counted instead.
	estimates := "greatest(c.reltuples, 0)::float8, pg_catalog.pg_table_size(c.oid), c.reltuples <= 0 AND c.relpages = 0 OR c.relkind = 'p'"
	if version >= 120000 {
		estimates = `
	CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(greatest(l.reltuples, 0)), 0)::float8
		FROM pg_catalog.pg_partition_tree(c.oid) pt JOIN pg_catalog.pg_class l ON l.oid = pt.relid WHERE pt.isleaf)
		ELSE greatest(c.reltuples, 0)::float8 END,
	CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(pg_catalog.pg_table_size(pt.relid)), 0)::int8
		FROM pg_catalog.pg_partition_tree(c.oid) pt WHERE pt.isleaf)
		ELSE pg_catalog.pg_table_size(c.oid) END,
	CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(bool_or(l.reltuples < 0 OR l.reltuples = 0 AND l.relpages = 0), false)
		FROM pg_catalog.pg_partition_tree(c.oid) pt JOIN pg_catalog.pg_class l ON l.oid = pt.relid WHERE pt.isleaf)
		ELSE c.reltuples < 0 OR c.reltuples = 0 AND c.relpages = 0 END`
	}
	q := `
SELECT c.oid, n.nspname, c.relname, c.relkind::text, ` + estimates + `
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE ` + userTables + ` AND NOT c.relispartition`
	var args []any
	if relFilter != "" {
		q = `
SELECT c.oid, n.nspname, c.relname, c.relkind::text, 0::float8, 0::int8, false
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = pg_catalog.to_regclass($1)`
		args = append(args, relFilter)
	}
	rows, err := pg.Query(ctx, q+" ORDER BY 2, 3", args...)
	if err != nil {
		return nil, err
	}
	var rels []*relation
	byOID := map[uint32]*relation{}
	var oids []uint32
	for rows.Next() {
		r := &relation{table: &record.Table{}}
		var tuples float64
		var kind string
		if err := rows.Scan(&r.oid, &r.table.Schema, &r.table.Name, &kind, &tuples, &r.table.BytesEstimate, &r.needsCnt); err != nil {
			rows.Close()
			return nil, err
		}
		r.only = kind != "p"
		r.plain = kind == "r"
		r.table.RowsEstimate = int64(tuples)
		rels = append(rels, r)
		byOID[r.oid] = r
		oids = append(oids, r.oid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(rels) == 0 {
		return nil, nil
	}
	if err := readColumns(ctx, pg, oids, byOID); err != nil {
		return nil, err
	}
	if !withKeys {
		return rels, nil
	}
	if err := readKeys(ctx, pg, oids, byOID); err != nil {
		return nil, err
	}
	for _, r := range rels {
		if r.needsCnt {
			n, err := countRows(ctx, pg, r)
			if err != nil {
				return nil, err
			}
			r.table.RowsEstimate = n
		}
	}
	return rels, nil
}

// readColumns fills the columns and read plans of rels.
func readColumns(ctx context.Context, pg *pgx.Conn, oids []uint32, byOID map[uint32]*relation) error {
	rows, err := pg.Query(ctx, `
SELECT a.attrelid, a.attname, a.atttypid, a.atttypmod, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`, oids)
	if err != nil {
		return err
	}
	type col struct {
		rel     uint32
		name    string
		typ     uint32
		mod     int32
		native  string
		notNull bool
	}
	var cols []col
	var typeOIDs []uint32
	for rows.Next() {
		var c col
		if err := rows.Scan(&c.rel, &c.name, &c.typ, &c.mod, &c.native, &c.notNull); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, c)
		typeOIDs = append(typeOIDs, c.typ)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	tc := typeCache{}
	if err := tc.loadTypes(ctx, pg, typeOIDs); err != nil {
		return err
	}
	for _, c := range cols {
		r := byOID[c.rel]
		p := tc.plan(c.name, c.typ, c.mod, c.native)
		p.notNull = p.notNull || c.notNull
		r.plans = append(r.plans, p)
		r.table.Columns = append(r.table.Columns, record.Column{Name: c.name, Type: p.typ, Nullable: !p.notNull})
	}
	return nil
}

// readKeys fills the primary and unique keys of rels: unique indexes
// without predicate or expression, key columns only (not INCLUDE ones).
// Unique keys whose columns are all NOT NULL come first.
func readKeys(ctx context.Context, pg *pgx.Conn, oids []uint32, byOID map[uint32]*relation) error {
	rows, err := pg.Query(ctx, `
SELECT i.indrelid, i.indisprimary, ic.relname,
	ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
		JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
		WHERE k.ord <= i.indnkeyatts ORDER BY k.ord),
	NOT EXISTS (SELECT 1 FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
		JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
		WHERE k.ord <= i.indnkeyatts AND NOT a.attnotnull)
FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = ANY($1::oid[]) AND i.indisunique AND i.indisvalid
	AND i.indpred IS NULL AND i.indexprs IS NULL
ORDER BY i.indrelid, i.indisprimary DESC, 5 DESC, ic.relname`, oids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			rel         uint32
			primary     bool
			index       string
			cols        []string
			allNotNulls bool
		)
		if err := rows.Scan(&rel, &primary, &index, &cols, &allNotNulls); err != nil {
			return err
		}
		t := byOID[rel].table
		switch {
		case len(cols) == 0:
		case primary:
			t.PrimaryKey = cols
		case !slices.ContainsFunc(t.UniqueKeys, func(k []string) bool { return slices.Equal(k, cols) }):
			t.UniqueKeys = append(t.UniqueKeys, cols)
		}
	}
	return rows.Err()
}

// countRows counts r's rows up to countCap; at the cap it takes the
// planner's estimate if that is larger.
func countRows(ctx context.Context, pg *pgx.Conn, r *relation) (int64, error) {
	name := r.from()
	var n int64
	err := pg.QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM (SELECT FROM %s LIMIT %d) s", name, countCap)).Scan(&n)
	if err != nil || n < countCap {
		return n, err
	}
	var plan string
	if err := pg.QueryRow(ctx, "EXPLAIN SELECT FROM "+name).Scan(&plan); err != nil {
		return n, err
	}
	// "Seq Scan on t  (cost=0.00..1.00 rows=1000 width=0)"
	if _, after, ok := strings.Cut(plan, " rows="); ok {
		var est int64
		if _, err := fmt.Sscan(strings.Fields(after)[0], &est); err == nil && est > n {
			n = est
		}
	}
	return n, nil
}

// lookupRelation reads the columns and plans of the table schema.name.
func lookupRelation(ctx context.Context, pg *pgx.Conn, schema, name string) (*relation, error) {
	rels, err := readRelations(ctx, pg, quoteTable(schema, name), false)
	if err != nil {
		return nil, err
	}
	if len(rels) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchTable, quoteTable(schema, name))
	}
	return rels[0], nil
}

// planFor returns the plan of column name of r.
func (r *relation) planFor(name string) (*colPlan, error) {
	for i := range r.plans {
		if r.plans[i].name == name {
			return &r.plans[i], nil
		}
	}
	return nil, fmt.Errorf("%w: %q in %s", ErrNoSuchColumn, name, quoteTable(r.table.Schema, r.table.Name))
}
