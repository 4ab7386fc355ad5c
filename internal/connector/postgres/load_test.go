package postgres_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/postgres"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// queryStrings runs q and returns its rows as text (NULL as "NULL").
func queryStrings(t *testing.T, conn *pgx.Conn, q string, args ...any) [][]string {
	t.Helper()
	rows, err := conn.Query(testCtx(t), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				row[i] = "NULL"
			} else {
				row[i] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// outputs is the output-function text of every column of table, by id.
func outputs(t *testing.T, conn *pgx.Conn, table *record.Table) [][]string {
	t.Helper()
	var cols []string
	for _, c := range table.Columns {
		q := pgx.Identifier{c.Name}.Sanitize()
		cols = append(cols, fmt.Sprintf("CASE WHEN num_nulls(%s) = 1 THEN 'NULL' ELSE format('%%s', %s) END", q, q))
	}
	return queryStrings(t, conn, "SELECT "+strings.Join(cols, ", ")+" FROM "+pgx.Identifier{table.Schema, table.Name}.Sanitize()+" ORDER BY 1")
}

// PostgreSQL to PostgreSQL: every type read from a source is loaded into a
// table the loader creates, and reads back the same with psql's text.
// Types that do not exist on the target (an enum, a domain, a composite
// type) are created from their kind.
func TestLoadRoundTripNative(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, dstDB := pg.NewDatabase(t), pg.NewDatabase(t)
	ddl := `CREATE TABLE typed (id int PRIMARY KEY`
	for _, tc := range typeCases {
		ddl += ", " + tc.col + " " + tc.typ
	}
	stmts := []string{`CREATE TYPE mood AS ENUM ('sad', 'ok', 'very happy')`, `CREATE DOMAIN posint AS integer CHECK (VALUE > 0)`,
		`CREATE TYPE pair AS (n int, s text)`, ddl + ")"}
	for r := 0; r < 3; r++ {
		ins := fmt.Sprintf("INSERT INTO typed VALUES (%d", r+1)
		for _, tc := range typeCases {
			ins += ", " + tc.values[r]
		}
		stmts = append(stmts, ins+")")
	}
	pg.Exec(t, srcDB, stmts...)
	pg.Exec(t, dstDB, `CREATE DOMAIN posint AS integer CHECK (VALUE > 0)`) // this one exists on the target

	src := open(t, pg, srcDB, connector.RoleSource)
	dst := open(t, pg, dstDB, connector.RoleTarget)
	tb := sourceTable(t, src, "public", "typed")
	rows, _ := readAll(t, snapshot(t, src, 1), &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}})
	target := *tb
	target.Schema = "Target Schema"
	ctx := testCtx(t)
	if err := dst.PrepareTable(ctx, &target, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	if err := dst.Load(ctx, &target, rows); err != nil {
		t.Fatal(err)
	}

	// Column types on the target.
	types := queryStrings(t, client(t, pg, dstDB), `SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = '"Target Schema".typed'::regclass AND attnum > 0 ORDER BY attnum`)
	fallback := map[string]string{"e": "character varying(10)", "comp": "text", "dom": "posint"}
	for i, tc := range typeCases {
		want := tb.Columns[i+1].Type.Native
		if f, ok := fallback[tc.col]; ok {
			want = f
		}
		if got := types[i+1][1]; got != want {
			t.Errorf("%s: target type %q, want %q", tc.col, got, want)
		}
	}

	got := outputs(t, client(t, pg, dstDB), &target)
	want := outputs(t, client(t, pg, srcDB), tb)
	// ±infinity is clamped on read (TYPES.md).
	clamped := map[string]string{"d": "9999-12-31", "dneg": "0001-01-01", "ts": "9999-12-31 23:59:59.999999", "ts0": "0001-01-01 00:00:00"}
	for r := range want {
		for i, tc := range typeCases {
			w := want[r][i+1]
			if c, ok := clamped[tc.col]; ok && r == 2 {
				w = c
			}
			if got[r][i+1] != w {
				t.Errorf("row %d %s %s: target has %q, source %q", r+1, tc.col, tc.typ, got[r][i+1], w)
			}
		}
	}
	// And a second load of the same rows is refused by the primary key.
	if err := dst.Load(ctx, &target, rows); !errors.Is(err, postgres.ErrRowRejected) {
		t.Errorf("duplicate keys: %v", err)
	}
}

// kindCase is one column of a non-PostgreSQL source: its type, the
// PostgreSQL type the loader creates, a value and its text on the target.
type kindCase struct {
	col      string
	typ      record.Type
	pgType   string
	value    any
	wantText string
}

var mysqlKinds = []kindCase{
	{"b", record.Type{Kind: record.KindBool, Native: "tinyint(1)"}, "boolean", true, "t"},
	{"i2", record.Type{Kind: record.KindInt16, Native: "smallint"}, "smallint", int64(-32768), "-32768"},
	{"i4", record.Type{Kind: record.KindInt32, Native: "int"}, "integer", int64(2147483647), "2147483647"},
	{"i8", record.Type{Kind: record.KindInt64, Native: "bigint"}, "bigint", int64(math.MinInt64), "-9223372036854775808"},
	{"u8", record.Type{Kind: record.KindUint64, Native: "bigint unsigned"}, "numeric(20,0)", uint64(math.MaxUint64), "18446744073709551615"},
	{"n", record.Type{Kind: record.KindNumeric, Precision: 30, Scale: 10, Native: "decimal(30,10)"}, "numeric(30,10)", "-12345678901234567890.0123456789", "-12345678901234567890.0123456789"},
	{"nn", record.Type{Kind: record.KindNumeric, Native: "decimal"}, "numeric", "0.000100", "0.000100"},
	{"f4", record.Type{Kind: record.KindFloat32, Native: "float"}, "real", float64(float32(3.4028235e38)), "3.4028235e+38"},
	{"f8", record.Type{Kind: record.KindFloat64, Native: "double"}, "double precision", 0.30000000000000004, "0.30000000000000004"},
	{"f8z", record.Type{Kind: record.KindFloat64, Native: "double"}, "double precision", math.Copysign(0, -1), "-0"},
	{"s", record.Type{Kind: record.KindString, Length: 20, Native: "varchar(20)"}, "character varying(20)", "héllo 🐦\t\\ 'q'", "héllo 🐦\t\\ 'q'"},
	{"tx", record.Type{Kind: record.KindText, Native: "longtext"}, "text", "line1\nline2\r\n", "line1\nline2\r\n"},
	{"by", record.Type{Kind: record.KindBytes, Length: 16, Native: "varbinary(16)"}, "bytea", []byte{0, 1, 0xfe}, `\x0001fe`},
	{"bl", record.Type{Kind: record.KindBlob, Native: "longblob"}, "bytea", []byte("\\blob\x00"), `\x5c626c6f6200`},
	{"d", record.Type{Kind: record.KindDate, Native: "date"}, "date", utc(1000, 1, 1, 0, 0, 0, 0), "1000-01-01"},
	{"tm", record.Type{Kind: record.KindTime, Precision: 6, Native: "time(6)"}, "time(6) without time zone", "23:59:59.000001", "23:59:59.000001"},
	{"tm0", record.Type{Kind: record.KindTime, Native: "time"}, "time(0) without time zone", "12:00:00", "12:00:00"},
	{"ts", record.Type{Kind: record.KindTimestamp, Precision: 6, Native: "datetime(6)"}, "timestamp(6) without time zone", utc(2038, 1, 19, 3, 14, 7, 999999), "2038-01-19 03:14:07.999999"},
	{"ts3", record.Type{Kind: record.KindTimestamp, Precision: 3, Native: "datetime(3)"}, "timestamp(3) without time zone", utc(2020, 2, 29, 0, 0, 0, 123000), "2020-02-29 00:00:00.123"},
	{"tz", record.Type{Kind: record.KindTimestampTZ, Precision: 6, Native: "timestamp(6)"}, "timestamp(6) with time zone", utc(1970, 1, 1, 0, 0, 0, 1), "1970-01-01 00:00:00.000001+00"},
	{"j", record.Type{Kind: record.KindJSON, Native: "json"}, "text", `{"b": [1, 2], "a": "🐦"}`, `{"b": [1, 2], "a": "🐦"}`},
	{"u", record.Type{Kind: record.KindUUID, Native: "uuid"}, "uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	{"e", record.Type{Kind: record.KindEnum, EnumValues: []string{"small", "medium"}, Native: "enum('small','medium')"}, "character varying(6)", "medium", "medium"},
	{"a", record.Type{Kind: record.KindArray, Native: "json"}, "text", "[1,2]", "[1,2]"},
	{"iv", record.Type{Kind: record.KindInterval, Native: "varchar(64)"}, "text", "P1DT2H", "P1DT2H"},
	{"e0", record.Type{Kind: record.KindEnum, Native: "set"}, "character varying", "x", "x"},
	{"slong", record.Type{Kind: record.KindString, Length: 20000000, Native: "varchar"}, "text", "y", "y"},
	{"nodd", record.Type{Kind: record.KindNumeric, Precision: 5, Scale: 7, Native: "decimal"}, "numeric", "0.0000123", "0.0000123"},
	{"unk", record.Type{Kind: record.KindUnknown, Native: "geometry"}, "text", "POINT(1 2)", "POINT(1 2)"},
}

// A MySQL source: every Kind gets the PostgreSQL type DMS maps it to and
// its value reads back from the target with psql's text.
func TestLoadRoundTripKinds(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	dst := open(t, pg, db, connector.RoleTarget)
	tb := &record.Table{Schema: "shop", Name: "Order Items", PrimaryKey: []string{"id"},
		Columns: []record.Column{{Name: "id", Type: record.Type{Kind: record.KindInt32, Native: "int", Engine: "mysql"}}}}
	vals := record.Row{int64(1)}
	nulls := record.Row{int64(2)}
	for _, kc := range mysqlKinds {
		typ := kc.typ
		typ.Engine = "mysql"
		tb.Columns = append(tb.Columns, record.Column{Name: kc.col, Type: typ, Nullable: true})
		vals = append(vals, kc.value)
		nulls = append(nulls, nil)
	}
	ctx := testCtx(t)
	if err := dst.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	if err := dst.Load(ctx, tb, []record.Row{vals, nulls}); err != nil {
		t.Fatal(err)
	}
	conn := client(t, pg, db)
	types := queryStrings(t, conn, `SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute
		WHERE attrelid = 'shop."Order Items"'::regclass AND attnum > 0 ORDER BY attnum`)
	if types[0][1] != "integer" || types[0][2] != "true" {
		t.Errorf("id: %v", types[0])
	}
	for i, kc := range mysqlKinds {
		if got := types[i+1][1]; got != kc.pgType {
			t.Errorf("%v (%s): target type %q, want %q", kc.typ.Kind, kc.col, got, kc.pgType)
		}
	}
	got := outputs(t, conn, tb)
	for i, kc := range mysqlKinds {
		if got[0][i+1] != kc.wantText {
			t.Errorf("%v (%s): target has %q, want %q", kc.typ.Kind, kc.col, got[0][i+1], kc.wantText)
		}
		if got[1][i+1] != "NULL" {
			t.Errorf("%v (%s): NULL loaded as %q", kc.typ.Kind, kc.col, got[1][i+1])
		}
	}
	if pk := queryStrings(t, conn, `SELECT count(*) FROM pg_index WHERE indrelid = 'shop."Order Items"'::regclass AND indisprimary`); pk[0][0] != "1" {
		t.Errorf("no primary key")
	}
}

// A value of a shape only the server parses (into a table that already
// exists with other types) is loaded through text COPY.
func TestLoadTextFallback(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE t (id int PRIMARY KEY, iv interval, arr int[], n int, d date, f real, ts timestamptz, v varchar(30), by bytea)`)
	dst := open(t, pg, db, connector.RoleTarget)
	str := record.Type{Kind: record.KindString}
	tb := &record.Table{Schema: "public", Name: "t", Columns: []record.Column{
		{Name: "id", Type: record.Type{Kind: record.KindInt64}}, {Name: "iv", Type: str}, {Name: "arr", Type: str},
		{Name: "n", Type: str}, {Name: "d", Type: str}, {Name: "f", Type: str}, {Name: "ts", Type: str}, {Name: "v", Type: record.Type{Kind: record.KindTimestamp}}, {Name: "by", Type: str}}}
	ctx := testCtx(t)
	if err := dst.PrepareTable(ctx, tb, connector.PrepDoNothing, false); err != nil {
		t.Fatal(err)
	}
	rows := []record.Row{
		{int64(1), "1 day 02:00:00", "{1,2,3}", "42", "2024-05-06", "NaN", "2024-01-01 00:00:00+02", utc(2024, 1, 1, 0, 0, 0, 0), "a\\b"},
		{int64(2), nil, nil, nil, nil, nil, nil, nil, nil},
	}
	if err := dst.Load(ctx, tb, rows); err != nil {
		t.Fatal(err)
	}
	got := outputs(t, client(t, pg, db), tb)
	want := [][]string{{"1", "1 day 02:00:00", "{1,2,3}", "42", "2024-05-06", "NaN", "2023-12-31 22:00:00+00", "2024-01-01 00:00:00", `\x615c62`}, {"2", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	// The binary encoder meeting a string where it wants a number also
	// falls back.
	tb.Columns[0].Type.Kind = record.KindInt64
	tb.Columns[3].Type.Kind = record.KindInt64
	if err := dst.Load(ctx, tb, []record.Row{{int64(3), nil, nil, "7", nil, nil, nil, nil, nil}}); err != nil {
		t.Fatal(err)
	}
}

func TestPrepareTable(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	dst := open(t, pg, db, connector.RoleTarget)
	conn := client(t, pg, db)
	ctx := testCtx(t)
	i8 := record.Type{Kind: record.KindInt64, Native: "bigint", Engine: "postgres"}
	tb := &record.Table{Schema: "New Schema", Name: "select", PrimaryKey: []string{"Key"},
		Columns: []record.Column{{Name: "Key", Type: i8}, {Name: "v", Type: record.Type{Kind: record.KindString, Length: 5}, Nullable: true}}}
	columns := func() string {
		return fmt.Sprint(queryStrings(t, conn, `SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute
			WHERE attrelid = to_regclass('"New Schema"."select"') AND attnum > 0 AND NOT attisdropped ORDER BY attnum`))
	}
	rowCount := func() string {
		return queryStrings(t, conn, `SELECT count(*) FROM "New Schema"."select"`)[0][0]
	}
	// DO_NOTHING creates a missing table (and schema).
	if err := dst.PrepareTable(ctx, tb, connector.PrepDoNothing, false); err != nil {
		t.Fatal(err)
	}
	if got := columns(); got != "[[Key bigint true] [v character varying(5) false]]" {
		t.Errorf("created: %s", got)
	}
	if err := dst.Load(ctx, tb, []record.Row{{int64(1), "a"}, {int64(2), nil}}); err != nil {
		t.Fatal(err)
	}
	// DO_NOTHING keeps the table and its rows, whatever t says.
	other := *tb
	other.Columns = append(slices.Clone(tb.Columns), record.Column{Name: "extra", Type: i8})
	if err := dst.PrepareTable(ctx, &other, connector.PrepDoNothing, false); err != nil {
		t.Fatal(err)
	}
	if rowCount() != "2" || !strings.Contains(columns(), "[v character varying(5) false]]") {
		t.Errorf("DO_NOTHING changed the table: %s, %s rows", columns(), rowCount())
	}
	// TRUNCATE_BEFORE_LOAD empties it and keeps its shape.
	if err := dst.PrepareTable(ctx, &other, connector.PrepTruncate, false); err != nil {
		t.Fatal(err)
	}
	if rowCount() != "0" || strings.Contains(columns(), "extra") {
		t.Errorf("TRUNCATE_BEFORE_LOAD: %s, %s rows", columns(), rowCount())
	}
	// DROP_AND_CREATE makes it anew, even with a view on it.
	if err := dst.Load(ctx, tb, []record.Row{{int64(1), "a"}}); err != nil {
		t.Fatal(err)
	}
	pg.Exec(t, db, `CREATE VIEW "New Schema".v AS SELECT * FROM "New Schema"."select"`)
	if err := dst.PrepareTable(ctx, &other, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	if rowCount() != "0" || !strings.Contains(columns(), "[extra bigint true]") {
		t.Errorf("DROP_AND_CREATE: %s, %s rows", columns(), rowCount())
	}
	// The loader sees the new shape.
	if err := dst.Load(ctx, &other, []record.Row{{int64(1), "a", int64(3)}}); err != nil {
		t.Fatal(err)
	}
	// TRUNCATE_BEFORE_LOAD creates a missing table.
	missing := *tb
	missing.Name = "Order Items"
	if err := dst.PrepareTable(ctx, &missing, connector.PrepTruncate, false); err != nil {
		t.Fatal(err)
	}
	if got := queryStrings(t, conn, `SELECT to_regclass('"New Schema"."Order Items"') IS NOT NULL`); got[0][0] != "true" {
		t.Error("TRUNCATE_BEFORE_LOAD did not create a missing table")
	}
	if err := dst.PrepareTable(ctx, tb, "SOMETHING", false); !errors.Is(err, postgres.ErrInvalidConfig) {
		t.Errorf("bad mode: %v", err)
	}
	// Many tables of one new schema at once.
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			t := *tb
			t.Schema, t.Name = "concurrent", fmt.Sprint("t", i)
			errs <- dst.PrepareTable(ctx, &t, connector.PrepDropAndCreate, false)
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// A row the target refuses fails the whole batch with ErrRowRejected;
// nothing of it is written, and the loader goes on with the next batch.
func TestLoadRejectedRow(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	dst := open(t, pg, db, connector.RoleTarget)
	ctx := testCtx(t)
	tb := &record.Table{Schema: "public", Name: "t", PrimaryKey: []string{"id"}, Columns: []record.Column{
		{Name: "id", Type: record.Type{Kind: record.KindInt16}},
		{Name: "v", Type: record.Type{Kind: record.KindString, Length: 3}},
		{Name: "n", Type: record.Type{Kind: record.KindNumeric, Precision: 4, Scale: 2}, Nullable: true},
		{Name: "s", Type: record.Type{Kind: record.KindText}, Nullable: true},
	}}
	if err := dst.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	conn := client(t, pg, db)
	for _, tc := range []struct {
		name string
		bad  record.Row
		want string
	}{
		{"too long", record.Row{int64(2), "abcd", nil, nil}, "22001"},
		{"NOT NULL", record.Row{int64(2), nil, nil, nil}, "23502"},
		{"duplicate key", record.Row{int64(9), "x", nil, nil}, "23505"},
		{"numeric overflow", record.Row{int64(2), "x", "123.45", nil}, "22003"},
		{"NUL in text", record.Row{int64(2), "x", nil, "a\x00b"}, "22021"},
		{"invalid UTF-8", record.Row{int64(2), "x", nil, "a\xffb"}, "22021"},
		{"out of range for smallint", record.Row{int64(70000), "x", nil, nil}, "smallint"},
		{"not a number", record.Row{int64(2), "x", "12x", nil}, "not a decimal number"},
	} {
		pg.Exec(t, db, "TRUNCATE t", "INSERT INTO t VALUES (9, 'pre')")
		batch := []record.Row{{int64(1), "ok", "1.5", "first"}, tc.bad, {int64(3), "ok", nil, nil}}
		err := dst.Load(ctx, tb, batch)
		if !errors.Is(err, postgres.ErrRowRejected) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrRowRejected mentioning %s", tc.name, err, tc.want)
		}
		if errors.Is(err, postgres.ErrConnectionLost) {
			t.Errorf("%s: classified as a lost connection", tc.name)
		}
		if got := queryStrings(t, conn, "SELECT string_agg(id::text, ',') FROM t")[0][0]; got != "9" {
			t.Errorf("%s: rows %s after the rejected batch", tc.name, got)
		}
		// The same session loads the next batch.
		if err := dst.Load(ctx, tb, []record.Row{{int64(1), "ok", nil, nil}}); err != nil {
			t.Fatalf("%s: the next batch: %v", tc.name, err)
		}
	}
}

// A session that broke is reported as ErrConnectionLost, and the next call
// works on a new one.
func TestLoadConnectionLost(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	dst := open(t, pg, db, connector.RoleTarget)
	ctx := testCtx(t)
	tb := &record.Table{Schema: "public", Name: "t", Columns: []record.Column{{Name: "id", Type: record.Type{Kind: record.KindInt64}}}}
	if err := dst.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	if err := dst.Load(ctx, tb, []record.Row{{int64(1)}}); err != nil {
		t.Fatal(err)
	}
	pg.Exec(t, db, fmt.Sprintf(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' AND application_name = 'godwit'`, db))
	time.Sleep(100 * time.Millisecond)
	err := dst.Load(ctx, tb, []record.Row{{int64(2)}})
	if !errors.Is(err, postgres.ErrConnectionLost) || errors.Is(err, postgres.ErrRowRejected) {
		t.Errorf("load on a terminated session: %v", err)
	}
	if err := dst.Load(ctx, tb, []record.Row{{int64(3)}}); err != nil {
		t.Errorf("load after reconnecting: %v", err)
	}
	if got := queryStrings(t, client(t, pg, db), "SELECT string_agg(id::text, ',' ORDER BY id) FROM t"); got[0][0] != "1,3" {
		t.Errorf("rows %v", got)
	}
}

func TestDeleteRange(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	dst := open(t, pg, db, connector.RoleTarget)
	ctx := testCtx(t)
	tb := &record.Table{Schema: "public", Name: "Order Lines", PrimaryKey: []string{"Order", "line"}, Columns: []record.Column{
		{Name: "Order", Type: record.Type{Kind: record.KindInt64}},
		{Name: "line", Type: record.Type{Kind: record.KindString, Length: 10}},
	}}
	if err := dst.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	var rows []record.Row
	for o := range 10 {
		for _, l := range []string{"a", "b", "c"} {
			rows = append(rows, record.Row{int64(o), l})
		}
	}
	if err := dst.Load(ctx, tb, rows); err != nil {
		t.Fatal(err)
	}
	conn := client(t, pg, db)
	count := func() string { return queryStrings(t, conn, `SELECT count(*) FROM "Order Lines"`)[0][0] }
	// [(3,'b'), (5,'b')): 3b 3c 4a 4b 4c 5a.
	if err := dst.DeleteRange(ctx, tb, &record.Range{Columns: tb.PrimaryKey, From: record.Row{int64(3), "b"}, To: record.Row{"5", "b"}}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != "24" {
		t.Errorf("%s rows left, want 24", n)
	}
	if err := dst.DeleteRange(ctx, tb, &record.Range{Columns: []string{"Order"}, From: record.Row{int64(8)}}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != "18" {
		t.Errorf("%s rows left, want 18", n)
	}
	if err := dst.DeleteRange(ctx, tb, nil); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != "0" {
		t.Errorf("%s rows left, want 0", n)
	}
}

func TestDeferredPrimaryKey(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	dst := open(t, pg, db, connector.RoleTarget)
	ctx := testCtx(t)
	tb := &record.Table{Schema: "public", Name: "t", PrimaryKey: []string{"b", "a"}, Columns: []record.Column{
		{Name: "a", Type: record.Type{Kind: record.KindInt64}}, {Name: "b", Type: record.Type{Kind: record.KindText}}}}
	conn := client(t, pg, db)
	pk := func() string {
		return fmt.Sprint(queryStrings(t, conn, `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 't'::regclass AND contype = 'p'`))
	}
	if err := dst.PrepareTable(ctx, tb, connector.PrepDropAndCreate, true); err != nil {
		t.Fatal(err)
	}
	if got := pk(); got != "[]" {
		t.Errorf("primary key before the load: %s", got)
	}
	if err := dst.Load(ctx, tb, []record.Row{{int64(1), "x"}, {int64(2), "x"}}); err != nil {
		t.Fatal(err)
	}
	if err := dst.FinishTable(ctx, tb, true); err != nil {
		t.Fatal(err)
	}
	if got := pk(); got != "[[PRIMARY KEY (b, a)]]" {
		t.Errorf("primary key after: %s", got)
	}
	if err := dst.FinishTable(ctx, tb, true); err != nil {
		t.Errorf("a second FinishTable: %v", err)
	}
	// Duplicates make the deferred key fail as rejected rows.
	if err := dst.PrepareTable(ctx, tb, connector.PrepDropAndCreate, true); err != nil {
		t.Fatal(err)
	}
	if err := dst.Load(ctx, tb, []record.Row{{int64(1), "x"}, {int64(1), "x"}}); err != nil {
		t.Fatal(err)
	}
	if err := dst.FinishTable(ctx, tb, true); !errors.Is(err, postgres.ErrRowRejected) {
		t.Errorf("duplicates: %v", err)
	}
	if err := dst.FinishTable(ctx, tb, false); err != nil {
		t.Errorf("without deferPK: %v", err)
	}
}

func TestDialect(t *testing.T) {
	var d connector.TargetDialect = postgres.NewConn(postgres.Config{})
	if d.Family() != "postgres" || d.DefaultSchema() != "" {
		t.Errorf("Family %q, DefaultSchema %q", d.Family(), d.DefaultSchema())
	}
}

// LoadStream takes batches until next returns nil, in one binary COPY. A
// value only text COPY takes, in a later batch, ends the binary COPY before
// its row and a text COPY goes on from it: every row arrives once. A row
// the target refuses fails the load, and nothing of its COPY stays; next's
// error fails it too.
func TestLoadStream(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	dst := open(t, pg, db, connector.RoleTarget)
	ctx := testCtx(t)
	tb := &record.Table{Schema: "public", Name: "t", PrimaryKey: []string{"id"}, Columns: []record.Column{
		{Name: "id", Type: record.Type{Kind: record.KindInt64}},
		{Name: "n", Type: record.Type{Kind: record.KindInt64}, Nullable: true},
	}}
	if err := dst.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	conn := client(t, pg, db)
	state := func() string {
		return queryStrings(t, conn, `SELECT count(*)::text || ' ' || coalesce(sum(n), 0) FROM t`)[0][0]
	}
	// batches makes k batches of 100 rows from id from (n = id); edit
	// changes a row before it is handed out.
	batches := func(from, k int, edit func(record.Row)) func() ([]record.Row, error) {
		return func() ([]record.Row, error) {
			if k == 0 {
				return nil, nil
			}
			k--
			rows := make([]record.Row, 100)
			for i := range rows {
				rows[i] = record.Row{int64(from), int64(from)}
				if edit != nil {
					edit(rows[i])
				}
				from++
			}
			return rows, nil
		}
	}
	// Row 250 carries its n as a string: binary stops there, text goes on.
	err := dst.LoadStream(ctx, tb, batches(1, 3, func(r record.Row) {
		if r[0] == int64(250) {
			r[1] = "250"
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := state(); got != "300 45150" {
		t.Errorf("after the stream with a text value: %s (rows, sum)", got)
	}
	// A duplicate key in the second batch: nothing of the COPY stays.
	pg.Exec(t, db, "TRUNCATE t", "INSERT INTO t VALUES (150, 0)")
	if err := dst.LoadStream(ctx, tb, batches(1, 3, nil)); !errors.Is(err, postgres.ErrRowRejected) {
		t.Errorf("a duplicate key: %v, want ErrRowRejected", err)
	}
	if got := state(); got != "1 0" {
		t.Errorf("after the rejected stream: %s", got)
	}
	// next's error fails the load, and nothing is committed.
	stop := errors.New("stop")
	more := batches(1000, 2, nil)
	n := 0
	err = dst.LoadStream(ctx, tb, func() ([]record.Row, error) {
		if n++; n == 3 {
			return nil, stop
		}
		return more()
	})
	if !errors.Is(err, stop) {
		t.Errorf("next's error: %v", err)
	}
	if got := state(); got != "1 0" {
		t.Errorf("after next's error: %s", got)
	}
}

// The AfterConnectScript runs on the sessions that load: with
// session_replication_role = replica a trigger that refuses every row does
// not fire. Without the script the same load is refused.
func TestLoadAfterConnectScript(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE t (id int PRIMARY KEY, v text)`,
		`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'refused by trigger'; END$$`,
		`CREATE TRIGGER refuse BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION refuse()`)
	tb := sourceTable(t, open(t, pg, db, connector.RoleSource), "public", "t")
	rows := []record.Row{{int32(1), "a"}, {int32(2), "b"}}
	ctx := testCtx(t)

	if err := open(t, pg, db, connector.RoleTarget).Load(ctx, tb, rows); err == nil || !strings.Contains(err.Error(), "refused by trigger") {
		t.Fatalf("load without the script: %v, want the trigger's refusal", err)
	}
	ep := endpoint(pg, db, connector.RoleTarget)
	ep.ExtraConnectionAttributes = "afterConnectScript=SET session_replication_role = replica"
	c, err := postgres.New(ep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.(*postgres.Conn).Load(ctx, tb, rows); err != nil {
		t.Fatalf("load with the script: %v", err)
	}
	if got := queryStrings(t, client(t, pg, db), `SELECT count(*)::text FROM t`)[0][0]; got != "2" {
		t.Fatalf("%s rows on the target, want 2", got)
	}
}
