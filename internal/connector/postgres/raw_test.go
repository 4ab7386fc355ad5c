package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/postgres"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// rawAll reads req with ReadRaw and returns the batches.
func rawAll(t testing.TB, snap connector.Snapshot, req *connector.ReadRequest) []*connector.RawBatch {
	t.Helper()
	rs, ok := snap.(connector.RawSnapshot)
	if !ok {
		t.Fatalf("%T is not a RawSnapshot", snap)
	}
	var out []*connector.RawBatch
	err := rs.ReadRaw(testCtx(t), req, func(b *connector.RawBatch) error {
		out = append(out, b)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadRaw: %v", err)
	}
	return out
}

// tableMD5 is the md5 of every row's text, in id order.
func tableMD5(t testing.TB, conn *pgx.Conn, table string) (string, int) {
	t.Helper()
	var sum *string
	var n int
	err := conn.QueryRow(testCtx(t), fmt.Sprintf(`SELECT md5(string_agg(t::text, ',' ORDER BY id)), count(*) FROM %s t`, table)).Scan(&sum, &n)
	if err != nil {
		t.Fatal(err)
	}
	if sum == nil {
		return "", n
	}
	return *sum, n
}

// rawTypeCases are the columns of TestReadTypes that can go through the
// raw path (a composite column cannot), plus arrays and a large bytea.
func rawTypeCases() []typeCase {
	var out []typeCase
	for _, tc := range typeCases {
		if tc.col != "comp" {
			out = append(out, tc)
		}
	}
	return append(out,
		typeCase{col: "narr", typ: "numeric(10,3)[]", values: [3]string{"'{1.5,NULL,-2}'", "NULL", "'{}'"}},
		typeCase{col: "jarr", typ: "jsonb[]", values: [3]string{`ARRAY['{"a":1}'::jsonb, 'null']`, "NULL", "'{}'"}},
		typeCase{col: "uarr", typ: "uuid[]", values: [3]string{"ARRAY[gen_random_uuid()]", "NULL", "'{}'"}},
		typeCase{col: "tsv", typ: "tsvector", values: [3]string{"to_tsvector('simple', 'a fat cat')", "NULL", "''"}},
		typeCase{col: "mr", typ: "int8multirange", values: [3]string{"'{[1,3),[7,9)}'", "NULL", "'{}'"}},
		typeCase{col: "big", typ: "bytea", values: [3]string{`decode(repeat('00ff7f', 5000), 'hex')`, "NULL", `'\x'`}},
		typeCase{col: "bird", typ: "text", values: [3]string{"repeat('🐦𝄞', 100)", "NULL", "'é'"}},
	)
}

// A table with every type the connector reads goes from one database to
// another through ReadRaw and LoadRaw; both hold the same rows, byte for
// byte as the servers print them (±infinity included, which Read clamps).
func TestRawRoundTripTypes(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, dstDB := pg.NewDatabase(t), pg.NewDatabase(t)
	cases := rawTypeCases()
	ddl := `CREATE TABLE typed (id int PRIMARY KEY`
	cols := "id"
	for _, tc := range cases {
		ddl += ", " + tc.col + " " + tc.typ
		cols += ", " + tc.col
	}
	types := []string{`CREATE TYPE mood AS ENUM ('sad', 'ok', 'very happy')`, `CREATE DOMAIN posint AS integer CHECK (VALUE > 0)`}
	stmts := append(slices.Clone(types), ddl+")")
	for r := 0; r < 3; r++ {
		ins := fmt.Sprintf("INSERT INTO typed VALUES (%d", r+1)
		for _, tc := range cases {
			ins += ", " + tc.values[r]
		}
		stmts = append(stmts, ins+")")
	}
	// 2,403 rows: the three, then copies of them under other ids.
	stmts = append(stmts, `INSERT INTO typed SELECT r.id + 3 * g, `+strings.TrimPrefix(cols, "id, ")+` FROM typed r, generate_series(1, 800) g`)
	pg.Exec(t, srcDB, stmts...)
	pg.Exec(t, dstDB, types...)

	src := open(t, pg, srcDB, connector.RoleSource)
	dst := open(t, pg, dstDB, connector.RoleTarget)
	if src.RawFamily() != "postgres-binary-copy" || dst.RawFamily() != src.RawFamily() {
		t.Fatalf("RawFamily %q", src.RawFamily())
	}
	tb := sourceTable(t, src, "public", "typed")
	ctx := testCtx(t)
	if err := dst.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	colTypes := `SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = 'typed'::regclass AND attnum > 0 ORDER BY attnum`
	srcConn, dstConn := client(t, pg, srcDB), client(t, pg, dstDB)
	if s, d := queryStrings(t, srcConn, colTypes), queryStrings(t, dstConn, colTypes); !slices.EqualFunc(s, d, slices.Equal) {
		t.Fatalf("target types differ:\n%v\n%v", s, d)
	}

	snap := snapshot(t, src, 1)
	if rc, ok := snap.(connector.RawCopier); !ok || rc.RawFamily() != src.RawFamily() {
		t.Errorf("the snapshot's RawFamily: %v", ok)
	}
	batches := rawAll(t, snap, &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}, BatchRows: 500})
	var sizes []int
	for _, b := range batches {
		sizes = append(sizes, b.Rows)
		if err := dst.LoadRaw(ctx, tb, b); err != nil {
			t.Fatalf("LoadRaw: %v", err)
		}
	}
	if !slices.Equal(sizes, []int{500, 500, 500, 500, 403}) {
		t.Errorf("batches %v", sizes)
	}
	wantSum, wantN := tableMD5(t, srcConn, "typed")
	gotSum, gotN := tableMD5(t, dstConn, "typed")
	if gotSum != wantSum || gotN != wantN || wantN != 2403 {
		t.Errorf("target %s (%d rows), source %s (%d rows)", gotSum, gotN, wantSum, wantN)
	}
	// Infinity went through as it is.
	if got := queryStrings(t, dstConn, `SELECT d::text, ts::text FROM typed WHERE id = 3`); got[0][0] != "infinity" || got[0][1] != "infinity" {
		t.Errorf("infinity loaded as %v", got)
	}
}

// rawCheck reads req with Read and with ReadRaw and compares: the same
// batch sizes, each LastKey equal to the key of the batch's last row as
// Read gives it, and the raw batches loaded with LoadRaw equal to the
// decoded rows loaded with Load.
func rawCheck(t *testing.T, name string, snap connector.Snapshot, dst *postgres.Conn, dstConn *pgx.Conn, req *connector.ReadRequest) {
	t.Helper()
	ctx := testCtx(t)
	cols := req.Columns
	if cols == nil {
		for _, c := range req.Table.Columns {
			cols = append(cols, c.Name)
		}
	}
	// The key first, then the columns, so that the key is known even
	// when the columns leave it out.
	withKey := *req
	withKey.Columns = append(slices.Clone(req.OrderBy), cols...)
	rows, sizes := readAll(t, snap, &withKey)
	t.Logf("%s: %d rows in batches %v", name, len(rows), sizes)
	batches := rawAll(t, snap, req)
	var rawSizes []int
	for _, b := range batches {
		rawSizes = append(rawSizes, b.Rows)
	}
	if !slices.Equal(rawSizes, sizes) {
		t.Errorf("%s: raw batches %v, Read's %v", name, rawSizes, sizes)
	}
	nk := len(req.OrderBy)
	last := -1
	for i, b := range batches {
		if i >= len(sizes) {
			break
		}
		last += sizes[i]
		want := rows[last][:nk]
		if nk == 0 {
			want = nil
		}
		if !slices.EqualFunc(b.LastKey, want, sameValue) || len(b.LastKey) != len(want) {
			t.Errorf("%s: batch %d LastKey %v, want %v", name, i, b.LastKey, want)
		}
	}

	// The target tables: the read columns with their source types.
	raw := &record.Table{Schema: "public", Name: "raw " + name}
	for _, c := range cols {
		for _, col := range req.Table.Columns {
			if col.Name == c {
				raw.Columns = append(raw.Columns, col)
			}
		}
	}
	dec := *raw
	dec.Name = "dec " + name
	decoded := make([]record.Row, len(rows))
	for i, r := range rows {
		decoded[i] = r[nk:]
	}
	for _, tb := range []*record.Table{raw, &dec} {
		if err := dst.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range batches {
		if err := dst.LoadRaw(ctx, raw, b); err != nil {
			t.Fatalf("%s: LoadRaw: %v", name, err)
		}
	}
	if len(decoded) > 0 {
		if err := dst.Load(ctx, &dec, decoded); err != nil {
			t.Fatalf("%s: Load: %v", name, err)
		}
	}
	agg := func(tb *record.Table) string {
		var s *string
		q := fmt.Sprintf(`SELECT string_agg(t::text, ';' ORDER BY t::text) FROM %s t`, pgx.Identifier{tb.Schema, tb.Name}.Sanitize())
		if err := dstConn.QueryRow(ctx, q).Scan(&s); err != nil {
			t.Fatal(err)
		}
		if s == nil {
			return ""
		}
		return *s
	}
	if r, d := agg(raw), agg(&dec); r != d {
		t.Errorf("%s: rows loaded raw differ from the decoded ones:\nraw %.300s\ndec %.300s", name, r, d)
	}
}

// Batches split at BatchRows; LastKey is the key of each batch's last row
// as Read gives it, for integer, composite, text and converted (inet,
// money) keys, whether the key columns are read or not; ranges, filters
// and After select the rows Read selects.
func TestRawBatchesKeysRanges(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, dstDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB,
		`CREATE TABLE ints (id int PRIMARY KEY, v text, n numeric(8,2))`,
		`INSERT INTO ints SELECT g, CASE WHEN g % 5 = 0 THEN NULL ELSE 'v' || g END, g / 7.0 FROM generate_series(1, 1000) g`,
		`CREATE TABLE comp ("Order ID" bigint, "line" text, at timestamptz, PRIMARY KEY ("Order ID", "line"))`,
		`INSERT INTO comp SELECT g / 10, 'l' || (g % 10), TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(0, 999) g`,
		`CREATE TABLE texts (k text PRIMARY KEY, u uuid, b bytea)`,
		`INSERT INTO texts SELECT md5(g::text) || 'é🐦', md5(g::text)::uuid, decode(md5(g::text), 'hex') FROM generate_series(1, 777) g`,
		`CREATE TABLE conv (ip inet, m money, at timestamptz, v int, PRIMARY KEY (ip, m))`,
		`INSERT INTO conv SELECT ('10.0.' || (g / 256) || '.' || (g % 256))::inet, (g % 3)::money, TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * interval '1 second', g
			FROM generate_series(0, 599) g`)
	src := open(t, pg, srcDB, connector.RoleSource)
	dst := open(t, pg, dstDB, connector.RoleTarget)
	dstConn := client(t, pg, dstDB)
	snap := snapshot(t, src, 2)
	ints, comp := sourceTable(t, src, "public", "ints"), sourceTable(t, src, "public", "comp")
	texts, conv := sourceTable(t, src, "public", "texts"), sourceTable(t, src, "public", "conv")
	filter := func(col string, op record.Op, v string) []record.Filter {
		return []record.Filter{{Column: col, Conditions: []record.Condition{{Op: op, Value: v}}}}
	}
	id := []string{"id"}
	ck := []string{"Order ID", "line"}
	cases := []struct {
		name string
		req  connector.ReadRequest
	}{
		{"ints", connector.ReadRequest{Table: ints, OrderBy: id, BatchRows: 300}},
		{"ints default batch", connector.ReadRequest{Table: ints, OrderBy: id}},
		{"ints batch of one", connector.ReadRequest{Table: ints, OrderBy: id, BatchRows: 1, Range: &record.Range{Columns: id, From: record.Row{int64(10)}, To: record.Row{int64(15)}}}},
		{"ints exact batches", connector.ReadRequest{Table: ints, OrderBy: id, BatchRows: 250}},
		{"ints no order", connector.ReadRequest{Table: ints, BatchRows: 400}},
		{"ints range", connector.ReadRequest{Table: ints, OrderBy: id, BatchRows: 70, Range: &record.Range{Columns: id, From: record.Row{int64(100)}, To: record.Row{"400"}}}},
		{"ints after", connector.ReadRequest{Table: ints, OrderBy: id, BatchRows: 70, After: record.Row{int64(777)}}},
		{"ints filter", connector.ReadRequest{Table: ints, OrderBy: id, BatchRows: 33, Filters: filter("v", record.OpNull, "")}},
		{"ints key not read", connector.ReadRequest{Table: ints, Columns: []string{"n", "v"}, OrderBy: id, BatchRows: 128}},
		{"ints nothing", connector.ReadRequest{Table: ints, OrderBy: id, After: record.Row{int64(1000)}}},
		{"comp", connector.ReadRequest{Table: comp, OrderBy: ck, BatchRows: 300}},
		{"comp columns reordered", connector.ReadRequest{Table: comp, Columns: []string{"at", "line", "Order ID"}, OrderBy: ck, BatchRows: 99}},
		{"comp range after filter", connector.ReadRequest{Table: comp, OrderBy: ck, BatchRows: 7,
			Range:   &record.Range{Columns: ck, From: record.Row{int64(20), "l5"}, To: record.Row{int64(60), "l0"}},
			After:   record.Row{int64(30), "l3"},
			Filters: filter("at", record.OpGte, "2024-01-01 00:05:00+00")}},
		{"texts", connector.ReadRequest{Table: texts, OrderBy: []string{"k"}, BatchRows: 100}},
		{"texts range", connector.ReadRequest{Table: texts, OrderBy: []string{"k"}, BatchRows: 50, Range: &record.Range{Columns: []string{"k"}, From: record.Row{"4"}, To: record.Row{"c"}}}},
		{"texts by uuid", connector.ReadRequest{Table: texts, Columns: []string{"b", "k"}, OrderBy: []string{"u"}, BatchRows: 64}},
		{"conv", connector.ReadRequest{Table: conv, OrderBy: []string{"ip", "m"}, BatchRows: 128}},
		{"conv after", connector.ReadRequest{Table: conv, Columns: []string{"v", "m"}, OrderBy: []string{"ip", "m"}, BatchRows: 50, After: record.Row{"10.0.1.7", "1.00"}}},
	}
	for _, tc := range cases {
		rawCheck(t, tc.name, snap, dst, dstConn, &tc.req)
	}

	// fn's error stops the read and is returned; the snapshot goes on.
	stop := errors.New("stop")
	calls := 0
	err := snap.(connector.RawSnapshot).ReadRaw(testCtx(t), &connector.ReadRequest{Table: ints, BatchRows: 10}, func(*connector.RawBatch) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("fn error: %v after %d calls", err, calls)
	}
	if got := rawAll(t, snap, &connector.ReadRequest{Table: ints}); len(got) != 1 || got[0].Rows != 1000 || got[0].LastKey != nil {
		t.Errorf("after a stopped read: %d batches", len(got))
	}
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	if err := snap.(connector.RawSnapshot).ReadRaw(ctx, &connector.ReadRequest{Table: ints}, func(*connector.RawBatch) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
	if err := snap.(connector.RawSnapshot).ReadRaw(testCtx(t), &connector.ReadRequest{Table: ints, Columns: []string{"nope"}}, func(*connector.RawBatch) error { return nil }); !errors.Is(err, postgres.ErrNoSuchColumn) {
		t.Errorf("a missing column: %v", err)
	}
}

// A batch the target refuses (a check constraint) is ErrRowRejected and
// leaves nothing on the target; the next batch loads on the same loader.
func TestRawRejectedBatch(t *testing.T) {
	dst, tb, batches, count := rawRejectSetup(t, 150)
	ctx := testCtx(t)
	if err := dst.LoadRaw(ctx, tb, batches[0]); err != nil {
		t.Fatal(err)
	}
	err := dst.LoadRaw(ctx, tb, batches[1])
	if !errors.Is(err, postgres.ErrRowRejected) || !errors.Is(err, connector.ErrRowRejected) || errors.Is(err, postgres.ErrConnectionLost) ||
		!strings.Contains(err.Error(), "23514") {
		t.Errorf("a refused row: %v, want ErrRowRejected (23514)", err)
	}
	if got := count(); got != "100 100" {
		t.Errorf("after the rejected batch: %s rows", got)
	}
	if err := dst.LoadRaw(ctx, tb, batches[2]); err != nil {
		t.Fatalf("the next batch: %v", err)
	}
	// A batch loaded twice breaks the primary key: rejected too.
	if err := dst.LoadRaw(ctx, tb, batches[2]); !errors.Is(err, postgres.ErrRowRejected) {
		t.Errorf("duplicate keys: %v", err)
	}
	if got := count(); got != "200 300" {
		t.Errorf("at the end: %s rows", got)
	}
	// An empty batch does nothing.
	if err := dst.LoadRaw(ctx, tb, &connector.RawBatch{}); err != nil {
		t.Errorf("an empty batch: %v", err)
	}
}

// A session that broke under LoadRaw is ErrConnectionLost, and the next
// call works on a new one.
func TestRawLoadConnectionLost(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, dstDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE t (id bigint PRIMARY KEY)`, `INSERT INTO t SELECT generate_series(1, 30)`)
	src := open(t, pg, srcDB, connector.RoleSource)
	dst := open(t, pg, dstDB, connector.RoleTarget)
	tb := sourceTable(t, src, "public", "t")
	batches := rawAll(t, snapshot(t, src, 1), &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}, BatchRows: 10})
	ctx := testCtx(t)
	if err := dst.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	if err := dst.LoadRaw(ctx, tb, batches[0]); err != nil {
		t.Fatal(err)
	}
	pg.Exec(t, dstDB, fmt.Sprintf(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' AND application_name = 'godwit'`, dstDB))
	err := dst.LoadRaw(ctx, tb, batches[1])
	if !errors.Is(err, postgres.ErrConnectionLost) || errors.Is(err, postgres.ErrRowRejected) {
		t.Errorf("load on a terminated session: %v", err)
	}
	if err := dst.LoadRaw(ctx, tb, batches[2]); err != nil {
		t.Errorf("load after reconnecting: %v", err)
	}
	if got := queryStrings(t, client(t, pg, dstDB), `SELECT count(*) FROM t`)[0][0]; got != "20" {
		t.Errorf("%s rows", got)
	}
}

// What cannot go through in binary is refused with ErrRawUnsupported
// (errors.ErrUnsupported) before anything is read or written: composite
// values and arrays of user-defined types (their binary form names type
// OIDs of the source), types without binary I/O, LOB truncation, a target
// column of another type.
func TestRawUnsupported(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, dstDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TYPE mood AS ENUM ('sad', 'ok')`, `CREATE TYPE pair AS (n int, s text)`,
		`CREATE TABLE t (id int PRIMARY KEY, m mood, ms mood[], p pair, s text, n int)`,
		`INSERT INTO t VALUES (1, 'ok', '{sad}', ROW(1, 'x'), 's', 1)`,
		`CREATE TABLE acl (id int, a aclitem[])`, `INSERT INTO acl SELECT 1, relacl FROM pg_class WHERE relacl IS NOT NULL LIMIT 1`)
	src := open(t, pg, srcDB, connector.RoleSource)
	dst := open(t, pg, dstDB, connector.RoleTarget)
	tb := sourceTable(t, src, "public", "t")
	snap := snapshot(t, src, 1).(connector.RawSnapshot)
	ctx := testCtx(t)
	for _, tc := range []struct {
		name string
		req  connector.ReadRequest
	}{
		{"no binary I/O", connector.ReadRequest{Table: sourceTable(t, src, "public", "acl")}},
		{"enum array", connector.ReadRequest{Table: tb, Columns: []string{"id", "ms"}}},
		{"composite", connector.ReadRequest{Table: tb, Columns: []string{"p", "id"}}},
		{"whole table", connector.ReadRequest{Table: tb}},
	} {
		calls := 0
		err := snap.ReadRaw(ctx, &tc.req, func(*connector.RawBatch) error { calls++; return nil })
		if !errors.Is(err, postgres.ErrRawUnsupported) || !errors.Is(err, errors.ErrUnsupported) || calls != 0 {
			t.Errorf("%s: %v after %d batches, want ErrRawUnsupported", tc.name, err, calls)
		}
		t.Logf("%s: %v", tc.name, err)
	}
	// Limited LOB mode cuts text as the stream passes.
	if b := rawAll(t, snap.(connector.Snapshot), &connector.ReadRequest{Table: tb, Columns: []string{"id", "s"}, LOBMaxBytes: 4}); len(b) != 1 ||
		!bytes.Contains(b[0].Data, []byte("s")) {
		t.Errorf("LOB truncation: %v", b)
	}
	// An enum and LOB truncation without a LOB column are fine.
	if b := rawAll(t, snap.(connector.Snapshot), &connector.ReadRequest{Table: tb, Columns: []string{"id", "m", "n"}, LOBMaxBytes: 100}); len(b) != 1 || b[0].Rows != 1 {
		t.Errorf("enum: %v", b)
	}

	// The target's n is bigint, the source's integer.
	batches := rawAll(t, snap.(connector.Snapshot), &connector.ReadRequest{Table: tb, Columns: []string{"id", "n"}, OrderBy: []string{"id"}})
	pg.Exec(t, dstDB, `CREATE TABLE t (id int PRIMARY KEY, n bigint)`)
	tgt := &record.Table{Schema: "public", Name: "t", Columns: []record.Column{tb.Columns[0], tb.Columns[5]}}
	if err := dst.LoadRaw(ctx, tgt, batches[0]); !errors.Is(err, postgres.ErrRawUnsupported) || errors.Is(err, postgres.ErrRowRejected) {
		t.Errorf("another target type: %v", err)
	}
	// A batch of other columns than the table's.
	if err := dst.LoadRaw(ctx, &record.Table{Schema: "public", Name: "t", Columns: tgt.Columns[:1]}, batches[0]); err == nil {
		t.Errorf("a batch with more columns than the table: no error")
	}
	if got := queryStrings(t, client(t, pg, dstDB), `SELECT count(*) FROM t`)[0][0]; got != "0" {
		t.Errorf("%s rows written", got)
	}
}

// Limited LOB mode cuts text and bytea values passing through the raw
// path as Read cuts them: to LOBMaxBytes bytes, never inside a character;
// JSON and bounded types go whole. The key of a batch's last row is read
// from the cut tuple, as Read gives it.
func TestRawLOBTruncation(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, dstDB := pg.NewDatabase(t), pg.NewDatabase(t)
	ddl := `CREATE TABLE lobs (id int PRIMARY KEY, tx text, j jsonb, b bytea, vc varchar(100), k text)`
	pg.Exec(t, srcDB, ddl,
		`INSERT INTO lobs VALUES (1, repeat('é', 100), '{"k": "0123456789"}', decode(repeat('ab', 100), 'hex'), repeat('x', 100), 'key1'),
			(2, 'short', '{}', '\x01', 'y', NULL), (3, NULL, NULL, NULL, NULL, repeat('z', 20))`)
	pg.Exec(t, dstDB, ddl)
	src := open(t, pg, srcDB, connector.RoleSource)
	dst := open(t, pg, dstDB, connector.RoleTarget)
	tb := sourceTable(t, src, "public", "lobs")
	batches := rawAll(t, snapshot(t, src, 1), &connector.ReadRequest{Table: tb, OrderBy: []string{"id", "k"}, LOBMaxBytes: 9, BatchRows: 1})
	if len(batches) != 3 || fmt.Sprint(batches[2].LastKey) != "[3 zzzzzzzzz]" {
		t.Fatalf("%d batches, last key %v", len(batches), batches[len(batches)-1].LastKey)
	}
	tgt := &record.Table{Schema: "public", Name: "lobs", Columns: tb.Columns}
	for _, b := range batches {
		if err := dst.LoadRaw(testCtx(t), tgt, b); err != nil {
			t.Fatal(err)
		}
	}
	got := queryStrings(t, client(t, pg, dstDB), `SELECT id::text, coalesce(tx, '-'), coalesce(j::text, '-'), coalesce(encode(b, 'hex'), '-'), coalesce(length(vc)::text, '-'), coalesce(k, '-') FROM lobs ORDER BY id`)
	want := [][]string{
		{"1", strings.Repeat("é", 4), `{"k": "0123456789"}`, strings.Repeat("ab", 9), "100", "key1"},
		{"2", "short", "{}", "01", "1", "-"},
		{"3", "-", "-", "-", "-", "zzzzzzzzz"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("target rows\n got %v\nwant %v", got, want)
	}
}

// LoadRawStream takes batches until next returns nil, in one COPY and one
// transaction: a row refused in a later batch, or an error of next, leaves
// nothing of the earlier batches on the target; empty batches are skipped.
func TestRawLoadStream(t *testing.T) {
	dst, tb, batches, count := rawRejectSetup(t, 250)
	ctx := testCtx(t)
	// stream returns the batches in turn, then nil (or err).
	stream := func(err error, bs ...*connector.RawBatch) func() (*connector.RawBatch, error) {
		return func() (*connector.RawBatch, error) {
			if len(bs) == 0 {
				return nil, err
			}
			b := bs[0]
			bs = bs[1:]
			return b, nil
		}
	}
	// The third batch holds a refused row: the first two go too.
	err := dst.LoadRawStream(ctx, tb, stream(nil, batches[0], batches[1], batches[2]))
	if !errors.Is(err, postgres.ErrRowRejected) {
		t.Errorf("a refused row in the third batch: %v, want ErrRowRejected", err)
	}
	if got := count(); got != "0 0" {
		t.Errorf("after the rejected stream: %s rows", got)
	}
	// next's error fails the load, and nothing is committed.
	stop := errors.New("stop")
	if err := dst.LoadRawStream(ctx, tb, stream(stop, batches[0], batches[1])); !errors.Is(err, stop) {
		t.Errorf("next's error: %v", err)
	}
	if got := count(); got != "0 0" {
		t.Errorf("after next's error: %s rows", got)
	}
	// Two batches and an empty one between them: one load.
	if err := dst.LoadRawStream(ctx, tb, stream(nil, batches[0], &connector.RawBatch{}, batches[1])); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != "200 200" {
		t.Errorf("after two batches: %s rows", got)
	}
	// No batch at all: nothing to do.
	if err := dst.LoadRawStream(ctx, tb, stream(nil)); err != nil {
		t.Errorf("no batch: %v", err)
	}
}

// rawRejectSetup makes a source table t of 300 rows whose row bad the
// target's t refuses (a check constraint), and reads it in three raw
// batches of 100; count reports the target's row count and largest id.
func rawRejectSetup(t *testing.T, bad int) (dst *postgres.Conn, tb *record.Table, batches []*connector.RawBatch, count func() string) {
	t.Helper()
	pg := testenv.Postgres(t)
	srcDB, dstDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE t (id bigint PRIMARY KEY, v int, s text)`,
		fmt.Sprintf(`INSERT INTO t SELECT g, CASE WHEN g = %d THEN -1 ELSE g END, 's' || g FROM generate_series(1, 300) g`, bad))
	pg.Exec(t, dstDB, `CREATE TABLE t (id bigint PRIMARY KEY, v int CHECK (v > 0), s text)`)
	src := open(t, pg, srcDB, connector.RoleSource)
	dst = open(t, pg, dstDB, connector.RoleTarget)
	tb = sourceTable(t, src, "public", "t")
	batches = rawAll(t, snapshot(t, src, 1), &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}, BatchRows: 100})
	if len(batches) != 3 {
		t.Fatalf("%d batches", len(batches))
	}
	conn := client(t, pg, dstDB)
	count = func() string {
		return queryStrings(t, conn, `SELECT count(*)::text || ' ' || coalesce(max(id), 0) FROM t`)[0][0]
	}
	return dst, tb, batches, count
}
