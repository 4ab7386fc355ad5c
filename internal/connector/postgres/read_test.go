package postgres_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/postgres"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// Rows committed after OpenSnapshot are not seen, on any session of the
// snapshot, while they are seen by a new snapshot.
func TestSnapshotConsistency(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE "Order Items" (id bigint PRIMARY KEY, v text)`,
		`INSERT INTO "Order Items" SELECT g, 'v' || g FROM generate_series(1, 1000) g`)
	c := open(t, pg, db, connector.RoleSource)
	tb := sourceTable(t, c, "public", "Order Items")
	snap := snapshot(t, c, 2)

	pg.Exec(t, db, `INSERT INTO "Order Items" SELECT g, 'late' FROM generate_series(1001, 1500) g`,
		`UPDATE "Order Items" SET v = 'changed' WHERE id <= 10`,
		`DELETE FROM "Order Items" WHERE id BETWEEN 500 AND 509`)

	// Two reads at once, so that both sessions are used.
	var wg sync.WaitGroup
	results := make([][]record.Row, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Go(func() {
			results[i], _, errs[i] = tryRead(testCtx(t), snap, &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}, BatchRows: 100})
		})
	}
	wg.Wait()
	for i, rows := range results {
		if errs[i] != nil {
			t.Fatalf("read %d: %v", i, errs[i])
		}
		if len(rows) != 1000 || rows[0][1] != "v1" || rows[999][0] != int64(1000) {
			t.Errorf("read %d: %d rows, first %v, last %v", i, len(rows), rows[0], rows[len(rows)-1])
		}
	}
	fresh := snapshot(t, c, 1)
	rows, _ := readAll(t, fresh, &connector.ReadRequest{Table: tb})
	if len(rows) != 1490 {
		t.Errorf("a new snapshot sees %d rows, want 1490", len(rows))
	}
}

// OpenSnapshotAt joins a snapshot exported by another session; it stays
// usable after the exporter's transaction ends.
func TestOpenSnapshotAt(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE t (id int PRIMARY KEY)`, `INSERT INTO t SELECT generate_series(1, 10)`)
	ctx := testCtx(t)
	exporter := client(t, pg, db)
	if _, err := exporter.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ"); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := exporter.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	pg.Exec(t, db, `INSERT INTO t SELECT generate_series(11, 20)`)
	c := open(t, pg, db, connector.RoleSource)
	tb := sourceTable(t, c, "public", "t")
	snap, err := c.OpenSnapshotAt(ctx, name, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if _, err := exporter.Exec(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	pg.Exec(t, db, `INSERT INTO t SELECT generate_series(21, 30)`)
	for i := 0; i < 3; i++ {
		rows, _ := readAll(t, snap, &connector.ReadRequest{Table: tb})
		if len(rows) != 10 {
			t.Fatalf("read %d: %d rows, want the exporter's 10", i, len(rows))
		}
	}
	if _, err := c.OpenSnapshotAt(ctx, "00000003-0000001B-1'; DROP TABLE t; --", 1); !errors.Is(err, postgres.ErrBadValue) {
		t.Errorf("a bad snapshot name: %v", err)
	}
}

func TestReadFiltersRangesResume(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE "select" ("Order ID" int, "line" int, "where" text, amount numeric(10,2), at timestamptz, d date,
			PRIMARY KEY ("Order ID", "line"))`,
		`INSERT INTO "select" SELECT g / 10, g % 10, CASE WHEN g % 7 = 0 THEN NULL ELSE 'w' || g END, g * 1.5,
			TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * interval '1 hour', DATE '2024-01-01' + g
			FROM generate_series(0, 999) g`)
	c := open(t, pg, db, connector.RoleSource)
	tb := sourceTable(t, c, "public", "select")
	snap := snapshot(t, c, 2)
	key := []string{"Order ID", "line"}
	count := func(req *connector.ReadRequest) int {
		t.Helper()
		req.Table = tb
		rows, _ := readAll(t, snap, req)
		return len(rows)
	}
	filter := func(col string, conds ...record.Condition) []record.Filter {
		return []record.Filter{{Column: col, Conditions: conds}}
	}
	cases := []struct {
		name    string
		filters []record.Filter
		want    int
	}{
		{"eq", filter("Order ID", record.Condition{Op: record.OpEq, Value: "5"}), 10},
		{"noteq", filter("line", record.Condition{Op: record.OpNotEq, Value: "0"}), 900},
		{"lte", filter("amount", record.Condition{Op: record.OpLte, Value: "15.00"}), 11},
		{"ste", filter("amount", record.Condition{Op: "ste", Value: "15"}), 11},
		{"gte", filter("at", record.Condition{Op: record.OpGte, Value: "2024-02-11 15:00:00+00"}), 1000 - 999},
		{"between", filter("d", record.Condition{Op: record.OpBetween, Start: "2024-01-11", End: "2024-01-20"}), 10},
		{"notbetween", filter("Order ID", record.Condition{Op: record.OpNotBetween, Start: "10", End: "89"}), 200},
		{"null", filter("where", record.Condition{Op: record.OpNull}), 143},
		{"notnull", filter("where", record.Condition{Op: record.OpNotNull}), 857},
		{"or", filter("Order ID", record.Condition{Op: record.OpEq, Value: "1"}, record.Condition{Op: record.OpEq, Value: "2"}), 20},
		{"and", append(filter("Order ID", record.Condition{Op: record.OpLte, Value: "9"}), filter("line", record.Condition{Op: record.OpEq, Value: "3"})...), 10},
		{"quote in value", filter("where", record.Condition{Op: record.OpEq, Value: `w1' OR 'a'='a`}), 0},
		{"backslash in value", filter("where", record.Condition{Op: record.OpEq, Value: `w1\`}), 0},
		{"longer than the column type", filter("amount", record.Condition{Op: record.OpEq, Value: "1.500"}), 1},
	}
	for _, tc := range cases {
		if got := count(&connector.ReadRequest{Filters: tc.filters}); got != tc.want {
			t.Errorf("filter %s: %d rows, want %d", tc.name, got, tc.want)
		}
	}
	if _, _, err := tryRead(testCtx(t), snap, &connector.ReadRequest{Table: tb, Filters: filter("nope", record.Condition{Op: record.OpNull})}); !errors.Is(err, postgres.ErrNoSuchColumn) {
		t.Errorf("filter on a missing column: %v", err)
	}
	if _, _, err := tryRead(testCtx(t), snap, &connector.ReadRequest{Table: tb, Filters: filter("where", record.Condition{Op: "like", Value: "x"})}); !errors.Is(err, postgres.ErrBadValue) {
		t.Errorf("unknown operator: %v", err)
	}

	// Range on the composite key: canonical bounds and user-written ones.
	rng := &record.Range{Columns: key, From: record.Row{int64(10), int64(5)}, To: record.Row{"20", "5"}}
	rows, _ := readAll(t, snap, &connector.ReadRequest{Table: tb, Range: rng, OrderBy: key, Columns: key})
	if len(rows) != 100 || !slices.Equal(rows[0], record.Row{int64(10), int64(5)}) || !slices.Equal(rows[99], record.Row{int64(20), int64(4)}) {
		t.Errorf("range: %d rows, %v .. %v", len(rows), rows[0], rows[len(rows)-1])
	}
	// Text order, as the server compares; NULLs are never in a range.
	var textWant int
	if err := client(t, pg, db).QueryRow(testCtx(t), `SELECT count(*) FROM "select" WHERE "where" >= 'w5'`).Scan(&textWant); err != nil {
		t.Fatal(err)
	}
	if n := count(&connector.ReadRequest{Range: &record.Range{Columns: []string{"where"}, From: record.Row{"w5"}}}); n != textWant {
		t.Errorf("open range on text: %d rows, want %d", n, textWant)
	}
	if n := count(&connector.ReadRequest{Range: &record.Range{Columns: []string{"at"}, To: record.Row{utc(2024, 1, 1, 10, 0, 0, 0)}}}); n != 10 {
		t.Errorf("range on timestamptz: %d", n)
	}

	// OrderBy and After: resume after a key, descending data order.
	rows, _ = readAll(t, snap, &connector.ReadRequest{Table: tb, Columns: []string{"line", "Order ID"}, OrderBy: key, After: record.Row{int64(98), int64(7)}})
	if len(rows) != 12 || !slices.Equal(rows[0], record.Row{int64(8), int64(98)}) || !slices.Equal(rows[11], record.Row{int64(9), int64(99)}) {
		t.Errorf("after: %d rows %v", len(rows), rows)
	}
	rows, _ = readAll(t, snap, &connector.ReadRequest{Table: tb, Columns: []string{"line"}, OrderBy: []string{"line", "Order ID"}, After: record.Row{"9", "98"}})
	if len(rows) != 1 {
		t.Errorf("after with text values: %d rows", len(rows))
	}
	// Range, filter and After together.
	rows, _ = readAll(t, snap, &connector.ReadRequest{Table: tb, Columns: key, OrderBy: key,
		Range:   &record.Range{Columns: key, From: record.Row{int64(50), int64(0)}, To: record.Row{int64(60), int64(0)}},
		Filters: filter("line", record.Condition{Op: record.OpGte, Value: "5"}),
		After:   record.Row{int64(55), int64(7)}})
	if len(rows) != 2+4*5 {
		t.Errorf("range+filter+after: %d rows", len(rows))
	}
	for i := 1; i < len(rows); i++ {
		a, b := rows[i-1], rows[i]
		if a[0].(int64) > b[0].(int64) || a[0] == b[0] && a[1].(int64) >= b[1].(int64) {
			t.Fatalf("not in key order: %v then %v", a, b)
		}
	}

	// BatchRows bounds batches.
	_, sizes := readAll(t, snap, &connector.ReadRequest{Table: tb, BatchRows: 300})
	if !slices.Equal(sizes, []int{300, 300, 300, 100}) {
		t.Errorf("batches %v", sizes)
	}
	_, sizes = readAll(t, snap, &connector.ReadRequest{Table: tb})
	if !slices.Equal(sizes, []int{1000}) {
		t.Errorf("default batches %v", sizes)
	}
	_, sizes = readAll(t, snap, &connector.ReadRequest{Table: tb, Filters: filter("line", record.Condition{Op: record.OpEq, Value: "42"})})
	if len(sizes) != 0 {
		t.Errorf("no rows: batches %v", sizes)
	}

	// fn's error stops the read and is returned; the snapshot goes on.
	stop := errors.New("stop")
	calls := 0
	err := snap.Read(testCtx(t), &connector.ReadRequest{Table: tb, BatchRows: 10}, func([]record.Row) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("fn error: %v after %d calls", err, calls)
	}
	if n := count(&connector.ReadRequest{}); n != 1000 {
		t.Errorf("after a stopped read: %d rows", n)
	}
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	if err := snap.Read(ctx, &connector.ReadRequest{Table: tb}, func([]record.Row) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

// Limited LOB mode cuts text, json and bytea values to LOBMaxBytes bytes
// (never inside a character) and leaves bounded types alone.
func TestReadLOBTruncation(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE lobs (id int PRIMARY KEY, tx text, j jsonb, js json, b bytea, vc varchar(100))`,
		`INSERT INTO lobs VALUES (1, repeat('é', 100), '{"k": "0123456789"}', '[1, 2, 3, 4, 5]', decode(repeat('ab', 100), 'hex'), repeat('x', 100)),
			(2, 'short', '{}', '1', '\x01', 'y')`)
	c := open(t, pg, db, connector.RoleSource)
	tb := sourceTable(t, c, "public", "lobs")
	rows, _ := readAll(t, snapshot(t, c, 1), &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}, LOBMaxBytes: 9})
	r := rows[0]
	if s := r[1].(string); s != strings.Repeat("é", 4) || !utf8.ValidString(s) {
		t.Errorf("text cut to %q", s)
	}
	if r[2] != `{"k": "01` || r[3] != "[1, 2, 3," {
		t.Errorf("json cut to %q, %q", r[2], r[3])
	}
	if b := r[4].([]byte); len(b) != 9 || b[0] != 0xab {
		t.Errorf("bytea cut to %x", b)
	}
	if len(r[5].(string)) != 100 {
		t.Errorf("varchar(100) was cut")
	}
	if !slices.EqualFunc(rows[1], record.Row{int64(2), "short", "{}", "1", []byte{1}, "y"}, sameValue) {
		t.Errorf("short values: %v", rows[1])
	}
}

// Split points on an integer key, a composite key and a text key are
// ascending and distinct, and the ranges they make cover every row once.
func TestSplitPoints(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db,
		`CREATE TABLE ints (id bigint PRIMARY KEY)`,
		`INSERT INTO ints SELECT g * 3 - 5000 FROM generate_series(1, 10000) g`,
		`CREATE TABLE comp (a int, b text, PRIMARY KEY (a, b))`,
		`INSERT INTO comp SELECT g % 3, 'k' || g FROM generate_series(1, 5000) g`,
		`CREATE TABLE "Text Keys" ("the key" text PRIMARY KEY)`,
		`INSERT INTO "Text Keys" SELECT md5(g::text) FROM generate_series(1, 5000) g`,
		`CREATE TABLE huge (id int PRIMARY KEY)`,
		`INSERT INTO huge VALUES (-2147483648), (2147483647)`,
		`CREATE TABLE tiny (k text PRIMARY KEY)`, `INSERT INTO tiny VALUES ('a'), ('b')`,
		`CREATE TABLE empty (id int PRIMARY KEY)`,
		`ANALYZE`)
	c := open(t, pg, db, connector.RoleSource)
	tables, err := c.Tables(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	snap := snapshot(t, c, 2)
	for _, tc := range []struct {
		table  string
		n      int
		want   int // boundaries
		approx bool
	}{
		{"ints", 8, 7, false},
		{"comp", 4, 3, true},
		{"Text Keys", 10, 9, true},
		{"huge", 4, 3, false},
		{"tiny", 4, 1, false},
		{"empty", 4, 0, false},
	} {
		tb := tableNamed(t, tables, "public", tc.table)
		key := tb.PrimaryKey
		points, err := snap.SplitPoints(testCtx(t), tb, key, tc.n)
		if err != nil {
			t.Fatalf("%s: %v", tc.table, err)
		}
		if len(points) != tc.want {
			t.Errorf("%s: %d split points, want %d: %v", tc.table, len(points), tc.want, points)
		}
		all, _ := readAll(t, snap, &connector.ReadRequest{Table: tb, Columns: key, OrderBy: key})
		var seen []record.Row
		var sizes []int
		bounds := append(append([]record.Row{nil}, points...), nil)
		for i := 0; i+1 < len(bounds); i++ {
			rows, _ := readAll(t, snap, &connector.ReadRequest{Table: tb, Columns: key, OrderBy: key,
				Range: &record.Range{Columns: key, From: bounds[i], To: bounds[i+1]}})
			if len(rows) == 0 && tc.table != "huge" && len(all) > 0 {
				t.Errorf("%s: segment %d is empty", tc.table, i)
			}
			sizes = append(sizes, len(rows))
			seen = append(seen, rows...)
		}
		if len(seen) != len(all) || !slices.EqualFunc(seen, all, func(a, b record.Row) bool { return slices.EqualFunc(a, b, sameValue) }) {
			t.Errorf("%s: segments hold %d rows, the table %d", tc.table, len(seen), len(all))
		}
		if tc.approx {
			for _, s := range sizes {
				if even := len(all) / tc.n; s < even/2 || s > even*2 {
					t.Errorf("%s: uneven segments %v", tc.table, sizes)
					break
				}
			}
		}
	}
	if pts, _ := snap.SplitPoints(testCtx(t), tableNamed(t, tables, "public", "ints"), []string{"id"}, 1); pts != nil {
		t.Errorf("n=1: %v", pts)
	}
}

// Reading a large table keeps the heap small: the reader holds a batch,
// not the table.
func TestReadBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("500k rows")
	}
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE big (id bigint PRIMARY KEY, n int, s varchar(64), body text, amount numeric(12,2), at timestamptz, ok boolean, doc jsonb)`,
		`INSERT INTO big SELECT g, g % 1000, 'name ' || g, repeat(md5(g::text), 3), g / 7.0, now(), g % 2 = 0, '{"k": 1}'
			FROM generate_series(1, 500000) g`)
	c := open(t, pg, db, connector.RoleSource)
	tb := sourceTable(t, c, "public", "big")
	snap := snapshot(t, c, 1)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	total, batches := 0, 0
	err := snap.Read(testCtx(t), &connector.ReadRequest{Table: tb, BatchRows: 10000}, func(rows []record.Row) error {
		total += len(rows)
		batches++
		if batches%5 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total != 500000 {
		t.Fatalf("%d rows", total)
	}
	growth := int64(peak) - int64(base)
	t.Logf("heap in use: %d MiB before, peak %d MiB (the table is %d MiB)", base>>20, peak>>20, tb.BytesEstimate>>20)
	if growth > 64<<20 {
		t.Errorf("the heap grew by %d MiB reading the table", growth>>20)
	}
}

// A snapshot session's reads are gathered while a COPY streams rows
// (ReadRaw, Read), and only then: its other statements are not delayed.
func TestSnapshotGathersCopies(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE g (id bigint PRIMARY KEY, body text)`,
		`INSERT INTO g SELECT n, repeat(md5(n::text), 4) FROM generate_series(1, 20000) n`)
	c := open(t, pg, db, connector.RoleSource)
	tb := sourceTable(t, c, "public", "g")
	snap := snapshot(t, c, 1)
	ps := snap.(*postgres.Snapshot)

	rows := 0
	for _, b := range rawAll(t, snap, &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}}) {
		rows += b.Rows
	}
	afterRaw, on := postgres.SnapshotGathering(ps)
	if rows != 20000 || afterRaw == 0 || on {
		t.Fatalf("ReadRaw: %d rows, %d pauses, still gathering %v; want 20000 rows, pauses, not gathering", rows, afterRaw, on)
	}
	if _, err := snap.SplitPoints(testCtx(t), tb, []string{"id"}, 4); err != nil {
		t.Fatal(err)
	}
	if p, _ := postgres.SnapshotGathering(ps); p != afterRaw {
		t.Errorf("SplitPoints paused %d times; only COPYs of rows gather", p-afterRaw)
	}
	rows = 0
	err := snap.Read(testCtx(t), &connector.ReadRequest{Table: tb}, func(r []record.Row) error { rows += len(r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	afterRead, on := postgres.SnapshotGathering(ps)
	if rows != 20000 || afterRead == afterRaw || on {
		t.Errorf("Read: %d rows, %d pauses, still gathering %v; want 20000 rows, pauses, not gathering", rows, afterRead-afterRaw, on)
	}
}

// With FailTasksOnLobTruncation, a LOB value longer than LOBMaxBytes fails
// the read (decoded and raw) instead of being cut; values that fit pass
// whole.
func TestReadFailOnLOBTruncation(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE fits (id int PRIMARY KEY, tx text, b bytea)`,
		`INSERT INTO fits VALUES (1, repeat('é', 4), decode(repeat('ab', 9), 'hex')), (2, 'short', '\x01')`,
		`CREATE TABLE long_text (id int PRIMARY KEY, tx text)`, `INSERT INTO long_text VALUES (1, 'ok'), (2, repeat('é', 5))`,
		`CREATE TABLE long_bytes (id int PRIMARY KEY, b bytea)`, `INSERT INTO long_bytes VALUES (1, decode(repeat('ab', 10), 'hex'))`,
		`CREATE TABLE long_json (id int PRIMARY KEY, j jsonb)`, `INSERT INTO long_json VALUES (1, '{"k": "0123456789"}')`)
	ep := endpoint(pg, db, connector.RoleSource)
	ep.Settings = map[string]any{"FailTasksOnLobTruncation": true}
	conn, err := postgres.New(ep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := conn.(*postgres.Conn)
	snap := snapshot(t, c, 1)
	ctx := testCtx(t)

	tb := sourceTable(t, c, "public", "fits")
	rows, _ := readAll(t, snap, &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}, LOBMaxBytes: 9})
	if rows[0][1] != strings.Repeat("é", 4) || len(rows[0][2].([]byte)) != 9 {
		t.Errorf("values that fit: %v", rows[0])
	}
	if b := rawAll(t, snap, &connector.ReadRequest{Table: tb, LOBMaxBytes: 9}); len(b) != 1 || b[0].Rows != 2 {
		t.Errorf("raw read of values that fit: %d batches", len(b))
	}
	// A jsonb value is cut, or refused, by the decoding client alone (a raw
	// read copies JSON whole).
	req := &connector.ReadRequest{Table: sourceTable(t, c, "public", "long_json"), OrderBy: []string{"id"}, LOBMaxBytes: 9}
	if _, _, err := tryRead(ctx, snap, req); err == nil || !strings.Contains(err.Error(), "FailTasksOnLobTruncation") || !strings.Contains(err.Error(), `"j"`) {
		t.Errorf("long_json: Read: %v, want the LOB limit error naming \"j\"", err)
	}
	for name, col := range map[string]string{"long_text": `"tx"`, "long_bytes": `"b"`} {
		tb := sourceTable(t, c, "public", name)
		req := &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}, LOBMaxBytes: 9}
		if _, _, err := tryRead(ctx, snap, req); err == nil || !strings.Contains(err.Error(), "FailTasksOnLobTruncation") || !strings.Contains(err.Error(), col) {
			t.Errorf("%s: Read: %v, want the LOB limit error naming %s", name, err, col)
		}
		err := snap.(connector.RawSnapshot).ReadRaw(ctx, req, func(*connector.RawBatch) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "FailTasksOnLobTruncation") || !strings.Contains(err.Error(), col) {
			t.Errorf("%s: ReadRaw: %v, want the LOB limit error naming %s", name, err, col)
		}
	}
}
