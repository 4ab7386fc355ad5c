package mysql_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/mysql"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

func TestReadFiltersRangesOrder(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, `CREATE TABLE f (
		id int PRIMARY KEY, g int NOT NULL, n decimal(30,10), s varchar(20), d date, big bigint unsigned,
		txt text, bin blob, UNIQUE KEY (g, id))`,
		`INSERT INTO f VALUES
		(1, 1, 1.5, 'a', '2024-01-01', 1, 'ééé', x'010203'),
		(2, 1, 2.25, 'b', '2024-01-02', 18446744073709551615, 'short', x'04'),
		(3, 1, NULL, NULL, NULL, NULL, NULL, NULL),
		(4, 2, 12345678901234567890.0000000001, 'd', '2024-02-01', 4, '😀😀', x''),
		(5, 2, -1, 'e', '2024-03-01', 5, 'x', x'05'),
		(6, 3, 0, 'f', '2023-12-31', 6, 'y', x'06')`)
	c := openConn(t, my, db, connector.RoleSource, nil)
	tb := findTable(t, c, db, "f")
	ctx := testCtx(t)
	snap, err := c.OpenSnapshot(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()

	ids := func(req *connector.ReadRequest) string {
		t.Helper()
		req.Table = tb
		if req.Columns == nil {
			req.Columns = []string{"id"}
		}
		var out []any
		for _, r := range readSnap(t, snap, req) {
			out = append(out, r[0])
		}
		return fmt.Sprint(out)
	}
	cond := func(col string, cs ...record.Condition) record.Filter {
		return record.Filter{Column: col, Conditions: cs}
	}
	eq := func(v string) record.Condition { return record.Condition{Op: record.OpEq, Value: v} }
	id := []string{"id"}
	for _, tc := range []struct {
		name string
		req  connector.ReadRequest
		want string
	}{
		{"eq", connector.ReadRequest{Filters: []record.Filter{cond("s", eq("b"))}}, "[2]"},
		{"noteq excludes NULL", connector.ReadRequest{Filters: []record.Filter{cond("s", record.Condition{Op: record.OpNotEq, Value: "b"})}, OrderBy: id}, "[1 4 5 6]"},
		{"lte decimal exact", connector.ReadRequest{Filters: []record.Filter{cond("n", record.Condition{Op: record.OpLte, Value: "1.5"})}, OrderBy: id}, "[1 5 6]"},
		{"ste", connector.ReadRequest{Filters: []record.Filter{cond("n", record.Condition{Op: "ste", Value: "0"})}, OrderBy: id}, "[5 6]"},
		{"gte beyond double precision", connector.ReadRequest{Filters: []record.Filter{cond("n", record.Condition{Op: record.OpGte, Value: "12345678901234567890.0000000001"})}}, "[4]"},
		{"gt-ish on unsigned max", connector.ReadRequest{Filters: []record.Filter{cond("big", record.Condition{Op: record.OpGte, Value: "18446744073709551615"})}}, "[2]"},
		{"between dates", connector.ReadRequest{Filters: []record.Filter{cond("d", record.Condition{Op: record.OpBetween, Start: "2024-01-02", End: "2024-02-01"})}, OrderBy: id}, "[2 4]"},
		{"notbetween", connector.ReadRequest{Filters: []record.Filter{cond("id", record.Condition{Op: record.OpNotBetween, Start: "2", End: "5"})}, OrderBy: id}, "[1 6]"},
		{"null", connector.ReadRequest{Filters: []record.Filter{cond("s", record.Condition{Op: record.OpNull})}}, "[3]"},
		{"notnull", connector.ReadRequest{Filters: []record.Filter{cond("d", record.Condition{Op: record.OpNotNull})}, OrderBy: id}, "[1 2 4 5 6]"},
		{"OR within, AND across", connector.ReadRequest{Filters: []record.Filter{
			cond("s", eq("a"), eq("e"), eq("f")), cond("g", record.Condition{Op: record.OpLte, Value: "2"})}, OrderBy: id}, "[1 5]"},
		{"range", connector.ReadRequest{Range: &record.Range{Columns: id, From: record.Row{int64(2)}, To: record.Row{int64(5)}}, OrderBy: id}, "[2 3 4]"},
		{"range open below", connector.ReadRequest{Range: &record.Range{Columns: id, To: record.Row{int64(3)}}, OrderBy: id}, "[1 2]"},
		{"range open above", connector.ReadRequest{Range: &record.Range{Columns: id, From: record.Row{int64(5)}}, OrderBy: id}, "[5 6]"},
		{"range with text bounds", connector.ReadRequest{Range: &record.Range{Columns: id, From: record.Row{"5"}}, OrderBy: id}, "[5 6]"},
		{"composite range is a row-value range", connector.ReadRequest{Range: &record.Range{Columns: []string{"g", "id"},
			From: record.Row{int64(1), int64(2)}, To: record.Row{int64(2), int64(5)}}, OrderBy: []string{"g", "id"}}, "[2 3 4]"},
		{"range skips NULLs", connector.ReadRequest{Range: &record.Range{Columns: []string{"s"}, From: record.Row{""}}, OrderBy: id}, "[1 2 4 5 6]"},
		{"after", connector.ReadRequest{After: record.Row{int64(4)}, OrderBy: id}, "[5 6]"},
		{"after composite", connector.ReadRequest{After: record.Row{int64(1), int64(3)}, OrderBy: []string{"g", "id"}}, "[4 5 6]"},
		{"after within range", connector.ReadRequest{After: record.Row{int64(2)}, OrderBy: id,
			Range: &record.Range{Columns: id, From: record.Row{int64(1)}, To: record.Row{int64(5)}}}, "[3 4]"},
		{"order by other column", connector.ReadRequest{OrderBy: []string{"s"}, Filters: []record.Filter{cond("s", record.Condition{Op: record.OpNotNull})}}, "[1 2 4 5 6]"},
	} {
		if got := ids(&tc.req); got != tc.want {
			t.Errorf("%s: ids %s, want %s", tc.name, got, tc.want)
		}
	}

	// Column subsets in the asked order; LOBs cut at LOBMaxBytes on a
	// character boundary.
	rows := readSnap(t, snap, &connector.ReadRequest{Table: tb, Columns: []string{"bin", "txt", "id"}, OrderBy: id, LOBMaxBytes: 2})
	got := fmt.Sprintf("%q", rows)
	want := fmt.Sprintf("%q", []record.Row{
		{[]byte{1, 2}, "é", int64(1)}, {[]byte{4}, "sh", int64(2)}, {nil, nil, int64(3)},
		{[]byte{}, "", int64(4)}, {[]byte{5}, "x", int64(5)}, {[]byte{6}, "y", int64(6)}})
	if got != want {
		t.Errorf("LOB truncation: %s, want %s", got, want)
	}
	rows = readSnap(t, snap, &connector.ReadRequest{Table: tb, Columns: []string{"txt"}, Range: &record.Range{Columns: id, From: record.Row{int64(4)}, To: record.Row{int64(5)}}, LOBMaxBytes: 5})
	if fmt.Sprint(rows) != "[[😀]]" {
		t.Errorf("4-byte characters cut at 5 bytes = %q", rows)
	}

	// Batches of BatchRows, rows in order.
	var sizes []int
	err = snap.Read(ctx, &connector.ReadRequest{Table: tb, OrderBy: id, BatchRows: 4}, func(rows []record.Row) error {
		sizes = append(sizes, len(rows))
		return nil
	})
	if err != nil || !reflect.DeepEqual(sizes, []int{4, 2}) {
		t.Errorf("batches %v, %v", sizes, err)
	}

	for _, bad := range []connector.ReadRequest{
		{Table: tb, Columns: []string{"nope"}},
		{Table: tb, Filters: []record.Filter{cond("nope", eq("1"))}},
		{Table: tb, Filters: []record.Filter{cond("id", record.Condition{Op: "like", Value: "1"})}},
		{Table: tb, Filters: []record.Filter{cond("id", eq("one"))}},
		{Table: tb, Filters: []record.Filter{cond("n", eq("1; DROP TABLE f"))}},
		{Table: tb, After: record.Row{int64(1)}},
	} {
		err := snap.Read(ctx, &bad, func([]record.Row) error { return nil })
		if !errors.Is(err, mysql.ErrUnsupported) {
			t.Errorf("Read(%+v) = %v, want ErrUnsupported", bad, err)
		}
	}
}

func TestSplitPoints(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db,
		"CREATE TABLE ints (id bigint PRIMARY KEY)",
		"INSERT INTO ints SELECT seq * 10 FROM seq_1_to_10000",
		"CREATE TABLE comp (a varchar(10), b int, PRIMARY KEY (a, b))",
		"INSERT INTO comp SELECT CONCAT('k', seq % 7), seq FROM seq_1_to_12000",
		"CREATE TABLE tiny (id int PRIMARY KEY)", "INSERT INTO tiny VALUES (1), (2), (3)",
		"CREATE TABLE ubig (id bigint unsigned PRIMARY KEY)",
		"INSERT INTO ubig SELECT 18446744073709551615 - seq FROM seq_0_to_4999",
	)
	c := openConn(t, my, db, connector.RoleSource, nil)
	ctx := testCtx(t)
	snap, err := c.OpenSnapshot(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()

	ints := findTable(t, c, db, "ints")
	pts, err := snap.SplitPoints(ctx, ints, []string{"id"}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(pts) != "[[25007] [50005] [75003]]" {
		t.Errorf("integer split points = %v", pts)
	}

	ubig := findTable(t, c, db, "ubig")
	pts, err = snap.SplitPoints(ctx, ubig, []string{"id"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(pts) != "[[18446744073709549116]]" {
		t.Errorf("unsigned split points = %v", pts)
	}

	comp := findTable(t, c, db, "comp")
	// Counted, not cut by InnoDB's estimate of the fresh table (which
	// varies by ±10%): the estimate's own case is below.
	comp.RowsEstimate = 0
	pts, err = snap.SplitPoints(ctx, comp, []string{"a", "b"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 2 {
		t.Fatalf("composite split points = %v", pts)
	}
	// The segments they cut hold about a third of the rows each.
	var bounds []record.Row
	bounds = append(bounds, nil)
	bounds = append(bounds, pts...)
	bounds = append(bounds, nil)
	for i := 0; i+1 < len(bounds); i++ {
		n := len(readSnap(t, snap, &connector.ReadRequest{Table: comp, Columns: []string{"b"},
			Range: &record.Range{Columns: []string{"a", "b"}, From: bounds[i], To: bounds[i+1]}}))
		if n < 3900 || n > 4100 {
			t.Errorf("segment %d has %d rows, want ~4000 (bounds %v)", i, n, pts)
		}
	}

	// A table estimated large enough is cut by its estimate, not counted:
	// estimated at twice its 12,000 rows, its one split point in 3 is the
	// 8,000th key.
	est := *comp
	est.RowsEstimate = 24000
	pts2, err := snap.SplitPoints(ctx, &est, []string{"a", "b"}, 3)
	if err != nil || len(pts2) != 1 {
		t.Fatalf("composite split points from the estimate = %v, %v; want one", pts2, err)
	}
	if n := len(readSnap(t, snap, &connector.ReadRequest{Table: comp, Columns: []string{"b"},
		Range: &record.Range{Columns: []string{"a", "b"}, To: pts2[0]}})); n != 7999 {
		t.Errorf("%d rows before the split point from the estimate, want 7999", n)
	}

	tiny := findTable(t, c, db, "tiny")
	if pts, err := snap.SplitPoints(ctx, tiny, []string{"id"}, 4); err != nil || len(pts) != 0 {
		t.Errorf("small table split points = %v, %v; want none", pts, err)
	}
}
