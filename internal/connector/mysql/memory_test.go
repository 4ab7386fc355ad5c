package mysql_test

import (
	"runtime"
	"testing"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// A read of a table far larger than the bound keeps the heap bounded: rows
// are streamed and batches reuse their memory. Not parallel: it measures
// the process's heap.
func TestReadBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 500k rows")
	}
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE big (id bigint PRIMARY KEY, pad char(100) NOT NULL)",
		"INSERT INTO big SELECT seq, REPEAT(CHAR(65 + seq % 26), 100) FROM seq_1_to_500000")
	c := openConn(t, my, db, connector.RoleSource, nil)
	tb := findTable(t, c, db, "big")
	ctx := testCtx(t)
	snap, err := c.OpenSnapshot(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	n, last := 0, int64(0)
	err = snap.Read(ctx, &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}, BatchRows: 10000}, func(rows []record.Row) error {
		for _, r := range rows {
			id := r[0].(int64)
			if id != last+1 || len(r[1].(string)) != 100 {
				t.Fatalf("row %v after %d", r[0], last)
			}
			last = id
		}
		n += len(rows)
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 500000 {
		t.Fatalf("read %d rows", n)
	}
	const bound = 40 << 20 // the rows as Go values would take ~85 MB
	t.Logf("heap in use: %d MB before, %d MB at peak", base>>20, peak>>20)
	if peak-base > bound {
		t.Errorf("heap grew by %d MB reading 500k rows, want at most %d MB", (peak-base)>>20, bound>>20)
	}
}
