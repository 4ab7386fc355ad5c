package postgres_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/postgres"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// A whole-table raw read (or ReadPositioned) allowed to come in storage
// order comes in ctid order with each batch's Position; the snapshot says where a read in key
// order can take over: only where every row stored before is below the
// batch's last key and every row stored after above it.
func TestRawStorageOrder(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB := pg.NewDatabase(t)
	pg.Exec(t, srcDB,
		`CREATE TABLE up (id int PRIMARY KEY, v text)`,
		`INSERT INTO up SELECT g, 'v' || g FROM generate_series(1, 1000) g`,
		`CREATE TABLE down (id int PRIMARY KEY, v text)`,
		`INSERT INTO down SELECT g, 'v' || g FROM generate_series(1000, 1, -1) g`,
		`CREATE TABLE comp (a int, b text, PRIMARY KEY (a, b))`,
		`INSERT INTO comp SELECT g / 10, 'b' || (g % 10) FROM generate_series(0, 999) g`)
	src := open(t, pg, srcDB, connector.RoleSource)
	snap := snapshot(t, src, 2)
	chk := snap.(connector.StorageOrderChecker)
	up, down, comp := sourceTable(t, src, "public", "up"), sourceTable(t, src, "public", "down"), sourceTable(t, src, "public", "comp")
	id := []string{"id"}
	// After the snapshot, row 10 moves to the end of the table (too long
	// for its full page): this snapshot does not see it, the next one does.
	pg.Exec(t, srcDB, `UPDATE up SET v = repeat('x', 500) WHERE id = 10`)

	ordered := func(name string, tab *record.Table, key []string, last record.Row, pos string, want bool) {
		t.Helper()
		got, err := chk.KeysOrderedThrough(testCtx(t), tab, key, last, pos)
		if err != nil || got != want {
			t.Errorf("%s: KeysOrderedThrough(%v, %q) = %v, %v; want %v", name, last, pos, got, err, want)
		}
	}
	batches := rawAll(t, snap, &connector.ReadRequest{Table: up, OrderBy: id, BatchRows: 100, StorageOrder: true})
	if len(batches) != 10 {
		t.Fatalf("up: %d batches", len(batches))
	}
	prev := ""
	for k, b := range batches {
		if fmt.Sprint(b.LastKey) != fmt.Sprint(record.Row{int64(100 * (k + 1))}) || b.Position == "" || b.Position == prev {
			t.Fatalf("up batch %d: last key %v, position %q after %q", k, b.LastKey, b.Position, prev)
		}
		prev = b.Position
		ordered(fmt.Sprintf("up batch %d", k), up, id, b.LastKey, b.Position, true)
	}
	// Decoded rows come the same way, each batch with the same position;
	// a plain Read ignores StorageOrder.
	var positions []string
	err := snap.(connector.PositionedReader).ReadPositioned(testCtx(t), &connector.ReadRequest{Table: up, OrderBy: id, BatchRows: 100, StorageOrder: true},
		func(rows []record.Row, pos string) error {
			if len(rows) != 100 || len(rows[99]) != 2 || fmt.Sprint(rows[99][0]) != fmt.Sprint(batches[len(positions)].LastKey[0]) {
				return fmt.Errorf("batch %d: %d rows, the last %v", len(positions), len(rows), rows[len(rows)-1])
			}
			positions = append(positions, pos)
			return nil
		})
	if err != nil || len(positions) != 10 || positions[3] != batches[3].Position {
		t.Fatalf("ReadPositioned: %v, positions %q", err, positions)
	}
	var lasts []any
	err = snap.Read(testCtx(t), &connector.ReadRequest{Table: down, OrderBy: id, BatchRows: 100, StorageOrder: true}, func(rows []record.Row) error {
		lasts = append(lasts, rows[len(rows)-1][0])
		return nil
	})
	if err != nil || len(lasts) != 10 || fmt.Sprint(lasts[0]) != "100" {
		t.Fatalf("Read of down with StorageOrder: %v, last keys %v", err, lasts)
	}
	ordered("a key below a row read", up, id, record.Row{int64(99)}, batches[0].Position, false)
	ordered("a key above a row not read", up, id, record.Row{int64(101)}, batches[0].Position, false)
	ordered("a broken position", up, id, batches[0].LastKey, "unordered", false)
	ordered("not a position", up, id, batches[0].LastKey, "(1,2); DROP TABLE up", false)

	batches = rawAll(t, snap, &connector.ReadRequest{Table: down, OrderBy: id, BatchRows: 100, StorageOrder: true})
	if len(batches) != 10 || fmt.Sprint(batches[0].LastKey) != "[901]" {
		t.Fatalf("down: %d batches, the first up to %v", len(batches), batches[0].LastKey)
	}
	ordered("down", down, id, batches[0].LastKey, batches[0].Position, false)

	ck := []string{"a", "b"}
	batches = rawAll(t, snap, &connector.ReadRequest{Table: comp, OrderBy: ck, BatchRows: 250, StorageOrder: true})
	if len(batches) != 4 || fmt.Sprint(batches[1].LastKey) != "[49 b9]" {
		t.Fatalf("comp: %d batches, the second up to %v", len(batches), batches[1].LastKey)
	}
	ordered("comp", comp, ck, batches[1].LastKey, batches[1].Position, true)
	ordered("comp, a key between rows", comp, ck, record.Row{"49", "b8"}, batches[1].Position, false)

	// The next snapshot has row 10 at the end: up is no longer in key order.
	snap2 := snapshot(t, src, 1)
	batches = rawAll(t, snap2, &connector.ReadRequest{Table: up, OrderBy: id, BatchRows: 100, StorageOrder: true})
	if fmt.Sprint(batches[0].LastKey) != "[101]" {
		t.Fatalf("up after the update: the first batch ends at %v", batches[0].LastKey)
	}
	if ok, err := snap2.(connector.StorageOrderChecker).KeysOrderedThrough(testCtx(t), up, id, batches[0].LastKey, batches[0].Position); ok || err != nil {
		t.Errorf("up after the update: KeysOrderedThrough = %v, %v", ok, err)
	}

	// A range, a resumed read or a filter comes in key order, without positions.
	for name, req := range map[string]*connector.ReadRequest{
		"range": {Table: up, OrderBy: id, BatchRows: 100, StorageOrder: true, Range: &record.Range{Columns: id, From: record.Row{int64(1)}}},
		"after": {Table: up, OrderBy: id, BatchRows: 100, StorageOrder: true, After: record.Row{int64(0)}},
		"filter": {Table: up, OrderBy: id, BatchRows: 100, StorageOrder: true,
			Filters: []record.Filter{{Column: "id", Conditions: []record.Condition{{Op: record.OpGte, Value: "1"}}}}},
	} {
		batches = rawAll(t, snap2, req)
		if len(batches) != 10 || fmt.Sprint(batches[0].LastKey) != "[100]" || batches[0].Position != "" {
			t.Errorf("%s: %d batches, the first up to %v at %q", name, len(batches), batches[0].LastKey, batches[0].Position)
		}
	}
}

// A table cut by StorageSplitPoints reads back, part by part (raw or
// decoded, with a filter), as every row exactly once, each part in storage
// order; a place that is not one is refused before anything is read, and a
// partitioned table is not cut.
func TestStorageSplit(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB := pg.NewDatabase(t)
	pg.Exec(t, srcDB,
		`CREATE TABLE big (id int PRIMARY KEY, v text)`,
		`INSERT INTO big SELECT g, repeat('v', 100) FROM generate_series(1, 3000) g`,
		`DELETE FROM big WHERE id % 7 = 0`,
		`CREATE TABLE parted (id int PRIMARY KEY) PARTITION BY RANGE (id)`,
		`CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100000)`,
		`INSERT INTO parted SELECT g FROM generate_series(1, 3000) g`)
	src := open(t, pg, srcDB, connector.RoleSource)
	snap := snapshot(t, src, 2)
	sp := snap.(connector.StorageSplitter)
	big, parted := sourceTable(t, src, "public", "big"), sourceTable(t, src, "public", "parted")
	id := []string{"id"}

	places, err := sp.StorageSplitPoints(testCtx(t), big, 3)
	if err != nil || len(places) != 2 || places[0] == places[1] {
		t.Fatalf("StorageSplitPoints(big, 3) = %q, %v; want two places", places, err)
	}
	parts := []*record.StorageRange{{To: places[0]}, {From: places[0], To: places[1]}, {From: places[1]}}
	filter := []record.Filter{{Column: "id", Conditions: []record.Condition{{Op: record.OpGte, Value: "100"}}}}
	for _, filtered := range []bool{false, true} {
		want := 3000 - 3000/7
		if filtered {
			want = 2901 - (2999/7 - 99/7)
		}
		seen := map[int64]int{}
		for k, part := range parts {
			req := &connector.ReadRequest{Table: big, OrderBy: id, BatchRows: 500, Stored: part}
			if filtered {
				req.Filters = filter
			}
			var rawRows int
			prev := ""
			for _, b := range rawAll(t, snap, req) {
				rawRows += b.Rows
				if b.Position == "" || b.Position == prev {
					t.Errorf("part %d: batch at %q after %q", k, b.Position, prev)
				}
				prev = b.Position
			}
			var decoded int
			err := snap.Read(testCtx(t), req, func(rows []record.Row) error {
				for _, r := range rows {
					seen[r[0].(int64)]++
					if len(r) != 2 {
						return fmt.Errorf("a row of %d values", len(r))
					}
				}
				decoded += len(rows)
				return nil
			})
			if err != nil || decoded != rawRows || decoded == 0 {
				t.Errorf("part %d (filtered %v): Read %d rows, %v; ReadRaw %d rows", k, filtered, decoded, err, rawRows)
			}
		}
		if len(seen) != want {
			t.Errorf("filtered %v: the parts held %d rows, want %d", filtered, len(seen), want)
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("row %d read %d times", k, n)
			}
		}
	}

	bad := &connector.ReadRequest{Table: big, OrderBy: id, Stored: &record.StorageRange{From: "(1,0)'::tid OR true --"}}
	if err := snap.Read(testCtx(t), bad, func([]record.Row) error { return nil }); !errors.Is(err, postgres.ErrBadValue) {
		t.Errorf("a place that is not one: %v, want ErrBadValue", err)
	}
	if places, err := sp.StorageSplitPoints(testCtx(t), parted, 3); err != nil || len(places) != 0 {
		t.Errorf("StorageSplitPoints(parted) = %q, %v; want none", places, err)
	}
	bad = &connector.ReadRequest{Table: parted, Stored: &record.StorageRange{To: "(1,0)"}}
	if err := snap.Read(testCtx(t), bad, func([]record.Row) error { return nil }); !errors.Is(err, postgres.ErrBadValue) {
		t.Errorf("a partitioned table read by place: %v, want ErrBadValue", err)
	}
}
