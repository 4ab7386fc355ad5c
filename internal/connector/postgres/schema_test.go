package postgres_test

import (
	"slices"
	"testing"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

func TestTables(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db,
		`CREATE SCHEMA "Sales Dept"`,
		`CREATE TYPE "Sales Dept".mood AS ENUM ('sad', 'ok', 'very happy')`,
		`CREATE DOMAIN "Sales Dept".posint AS integer NOT NULL CHECK (VALUE > 0)`,
		`CREATE DOMAIN "Sales Dept".code AS varchar(12)`,
		`CREATE TABLE "Sales Dept"."Order Items" (
			"Order ID" bigint, "line" int, "select" text NOT NULL, "we""ird" numeric(10, 2),
			PRIMARY KEY ("line", "Order ID"))`,
		`CREATE TABLE "Sales Dept"."select" (a int, b text, c int, d int, e int, f int)`,
		`CREATE UNIQUE INDEX sel_bc ON "Sales Dept"."select" (c, b)`,
		`CREATE UNIQUE INDEX sel_a ON "Sales Dept"."select" (a) INCLUDE (d)`,
		`ALTER TABLE "Sales Dept"."select" ALTER COLUMN a SET NOT NULL`,
		`CREATE UNIQUE INDEX sel_partial ON "Sales Dept"."select" (e) WHERE e > 0`,
		`CREATE UNIQUE INDEX sel_expr ON "Sales Dept"."select" ((f + 1))`,
		`CREATE TABLE public.nokey (x int, y text)`,
		`CREATE TABLE public.measures (id int, at date NOT NULL, v real, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)`,
		`CREATE TABLE public.measures_2023 PARTITION OF public.measures FOR VALUES FROM ('2023-01-01') TO ('2024-01-01')`,
		`CREATE TABLE public.measures_2024 PARTITION OF public.measures FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`,
		`CREATE TABLE public.typed (
			id serial PRIMARY KEY, m "Sales Dept".mood, p "Sales Dept".posint, c "Sales Dept".code,
			ints int[], names varchar(20)[], moods "Sales Dept".mood[], vc varchar, ch char(3))`,
		`CREATE TABLE public.parent (id int)`,
		`CREATE TABLE public.child () INHERITS (public.parent)`,
		`INSERT INTO public.nokey SELECT g, 'x' FROM generate_series(1, 1000) g`,
		`INSERT INTO public.measures SELECT g, DATE '2023-06-01' + (g % 400), g FROM generate_series(1, 3000) g`,
		`ANALYZE public.nokey`,
		`INSERT INTO public.parent VALUES (1), (2)`,
		`INSERT INTO public.child VALUES (3)`,
	)
	c := open(t, pg, db, connector.RoleSource)
	ctx := testCtx(t)
	schemas, err := c.Schemas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(schemas, []string{"Sales Dept", "public"}) {
		t.Errorf("Schemas = %q", schemas)
	}
	tables, err := c.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range tables {
		names = append(names, tb.QualifiedName())
	}
	want := []string{"Sales Dept.Order Items", "Sales Dept.select", "public.child", "public.measures", "public.nokey", "public.parent", "public.typed"}
	if !slices.Equal(names, want) {
		t.Fatalf("tables = %q, want %q", names, want)
	}

	oi := tableNamed(t, tables, "Sales Dept", "Order Items")
	checkColumns(t, oi, []colWant{
		{"Order ID", record.KindInt64, "bigint", false},
		{"line", record.KindInt32, "integer", false},
		{"select", record.KindText, "text", false},
		{`we"ird`, record.KindNumeric, "numeric(10,2)", true},
	})
	if !slices.Equal(oi.PrimaryKey, []string{"line", "Order ID"}) {
		t.Errorf("primary key = %q, want key order", oi.PrimaryKey)
	}
	if n := oi.Column(`we"ird`); n.Type.Precision != 10 || n.Type.Scale != 2 {
		t.Errorf("numeric(10,2) = %+v", n.Type)
	}

	sel := tableNamed(t, tables, "Sales Dept", "select")
	if len(sel.PrimaryKey) != 0 {
		t.Errorf("select: primary key %q", sel.PrimaryKey)
	}
	// Unique keys: all NOT NULL first; no INCLUDE column, partial or
	// expression index.
	if len(sel.UniqueKeys) != 2 || !slices.Equal(sel.UniqueKeys[0], []string{"a"}) || !slices.Equal(sel.UniqueKeys[1], []string{"c", "b"}) {
		t.Errorf("select: unique keys %q", sel.UniqueKeys)
	}
	if k := sel.Key(); !slices.Equal(k, []string{"a"}) {
		t.Errorf("select: Key() = %q", k)
	}

	nk := tableNamed(t, tables, "public", "nokey")
	if nk.Key() != nil || nk.RowsEstimate != 1000 || nk.BytesEstimate <= 0 {
		t.Errorf("nokey: key %q, rows %d, bytes %d", nk.Key(), nk.RowsEstimate, nk.BytesEstimate)
	}

	// The partitioned table is one table, estimated over its partitions
	// (never analyzed: counted).
	ms := tableNamed(t, tables, "public", "measures")
	if ms.RowsEstimate != 3000 || ms.BytesEstimate <= 0 || !slices.Equal(ms.PrimaryKey, []string{"id", "at"}) {
		t.Errorf("measures: rows %d, bytes %d, key %q", ms.RowsEstimate, ms.BytesEstimate, ms.PrimaryKey)
	}
	// Inheritance: the parent's estimate is its own rows.
	if p := tableNamed(t, tables, "public", "parent"); p.RowsEstimate != 2 {
		t.Errorf("parent: rows %d", p.RowsEstimate)
	}

	ty := tableNamed(t, tables, "public", "typed")
	checkColumns(t, ty, []colWant{
		{"id", record.KindInt32, "integer", false},
		{"m", record.KindEnum, `"Sales Dept".mood`, true},
		{"p", record.KindInt32, `"Sales Dept".posint`, false},
		{"c", record.KindString, `"Sales Dept".code`, true},
		{"ints", record.KindArray, "integer[]", true},
		{"names", record.KindArray, "character varying(20)[]", true},
		{"moods", record.KindArray, `"Sales Dept".mood[]`, true},
		{"vc", record.KindText, "character varying", true},
		{"ch", record.KindString, "character(3)", true},
	})
	if m := ty.Column("m").Type; !slices.Equal(m.EnumValues, []string{"sad", "ok", "very happy"}) || m.Length != 10 {
		t.Errorf("enum: %+v", m)
	}
	if c := ty.Column("c").Type; c.Length != 12 {
		t.Errorf("domain over varchar(12): %+v", c)
	}
	if a := ty.Column("ints").Type; a.Elem == nil || a.Elem.Kind != record.KindInt32 {
		t.Errorf("int[]: %+v", a)
	}
	if a := ty.Column("names").Type; a.Elem == nil || a.Elem.Kind != record.KindString || a.Elem.Length != 20 {
		t.Errorf("varchar(20)[]: %+v", a.Elem)
	}
	if a := ty.Column("moods").Type; a.Elem == nil || a.Elem.Kind != record.KindEnum || len(a.Elem.EnumValues) != 3 {
		t.Errorf("mood[]: %+v", a.Elem)
	}
	if ch := ty.Column("ch").Type; ch.Length != 3 {
		t.Errorf("char(3): %+v", ch)
	}
	for _, col := range ty.Columns {
		if col.Type.Engine != "postgres" {
			t.Errorf("%s: engine %q", col.Name, col.Type.Engine)
		}
	}
}

type colWant struct {
	name     string
	kind     record.Kind
	native   string
	nullable bool
}

func checkColumns(t *testing.T, tb *record.Table, want []colWant) {
	t.Helper()
	if len(tb.Columns) != len(want) {
		t.Fatalf("%s: %d columns, want %d: %+v", tb.QualifiedName(), len(tb.Columns), len(want), tb.Columns)
	}
	for i, w := range want {
		c := tb.Columns[i]
		if c.Name != w.name || c.Type.Kind != w.kind || c.Type.Native != w.native || c.Nullable != w.nullable {
			t.Errorf("%s column %d = {%q %v %q nullable=%v}, want {%q %v %q nullable=%v}",
				tb.QualifiedName(), i+1, c.Name, c.Type.Kind, c.Type.Native, c.Nullable, w.name, w.kind, w.native, w.nullable)
		}
	}
}
