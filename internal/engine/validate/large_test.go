package validate_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/postgres"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/engine/fullload"
	"github.com/godwit-dms/godwit/internal/engine/validate"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// peakHeap samples the heap while fn runs and returns the highest
// HeapAlloc above what was in use before.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak.Load() {
				peak.Store(ms.HeapAlloc - base)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	fn()
	close(done)
	wg.Wait()
	return peak.Load()
}

// A 200k-row table (about 90 MB a side) is compared in one partition with
// a few MB of heap: both sides stream, whatever the partition size.
func TestLargeTableBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("large table")
	}
	const rows = 200_000
	for _, tc := range []struct{ name, key string }{
		{"integer key", "g"},
		{"text key", "lpad(g::text, 8, '0')"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keyType := "bigint"
			if strings.Contains(tc.key, "lpad") {
				keyType = "text"
			}
			p := newPGPair(t, fmt.Sprintf(`CREATE TABLE big (id %s PRIMARY KEY, n int, payload text)`, keyType))
			load := fmt.Sprintf(`INSERT INTO big SELECT %s, g, repeat(md5(g::text), 12) FROM generate_series(1, %d) g`, tc.key, rows)
			p.pg.Exec(t, p.srcDB, load)
			p.pg.Exec(t, p.tgtDB, load, `UPDATE big SET n = -1 WHERE n = 123456`)
			job := p.job(t, "big", func(s *tasksettings.ValidationSettings) { s.PartitionSize = 10_000_000; s.ThreadCount = 1 })
			var res validate.Result
			var err error
			peak := peakHeap(func() { res, err = validate.Table(testCtx(t), job) })
			checkResult(t, res, err, validate.Result{State: validate.StateMismatched, Compared: rows, Failed: 1})
			t.Logf("peak heap above the baseline: %.1f MB", float64(peak)/(1<<20))
			if peak > 48<<20 {
				t.Errorf("peak heap %.1f MB: the comparison is not streaming", float64(peak)/(1<<20))
			}
		})
	}
}

// checksumConn gives a PostgreSQL connector's snapshots the optional
// PartitionChecksummer capability, the way the connector could: a digest
// query per partition. (Here on a separate session, which is enough for
// tables that do not change during the test.)
type checksumConn struct {
	*postgres.Conn
	dsn   string
	sums  *atomic.Int64
	reads *atomic.Int64
}

func (c checksumConn) OpenSnapshot(ctx context.Context, sessions int) (connector.Snapshot, error) {
	snap, err := c.Conn.OpenSnapshot(ctx, sessions)
	if err != nil {
		return nil, err
	}
	return &checksumSnap{Snapshot: snap, c: c}, nil
}

type checksumSnap struct {
	connector.Snapshot
	c checksumConn
}

func (s *checksumSnap) Read(ctx context.Context, req *connector.ReadRequest, fn func([]record.Row) error) error {
	s.c.reads.Add(1)
	return s.Snapshot.Read(ctx, req, fn)
}

func (s *checksumSnap) PartitionChecksum(ctx context.Context, t *record.Table, cols []string, r *record.Range) (string, int64, error) {
	s.c.sums.Add(1)
	quote := func(n string) string { return pgx.Identifier{n}.Sanitize() }
	lit := func(v any) string { return "'" + strings.ReplaceAll(fullload.KeyText(v), "'", "''") + "'" }
	var list, keys []string
	for _, c := range cols {
		list = append(list, quote(c))
	}
	where := []string{"true"}
	for i, k := range r.Columns {
		keys = append(keys, quote(k))
		where = append(where, quote(k)+" IS NOT NULL")
		if r.From != nil {
			where = append(where, quote(k)+" >= "+lit(r.From[i]))
		}
		if r.To != nil {
			where = append(where, quote(k)+" < "+lit(r.To[i]))
		}
	}
	q := fmt.Sprintf(`SELECT count(*), coalesce(md5(string_agg(md5(ROW(%s)::text), '' ORDER BY %s)), '') FROM %s WHERE %s`,
		strings.Join(list, ", "), strings.Join(keys, ", "), pgx.Identifier{t.Schema, t.Name}.Sanitize(), strings.Join(where, " AND "))
	conn, err := pgx.Connect(ctx, s.c.dsn)
	if err != nil {
		return "", 0, err
	}
	defer conn.Close(ctx)
	var n int64
	var sum string
	err = conn.QueryRow(ctx, q).Scan(&n, &sum)
	return sum, n, err
}

func TestChecksumFastPath(t *testing.T) {
	p := newPGPair(t, wideDDL)
	p.pg.Exec(t, p.srcDB, fmt.Sprintf(wideRows, 3000))
	p.pg.Exec(t, p.tgtDB, fmt.Sprintf(wideRows, 3000))
	var sums, reads atomic.Int64
	job := p.job(t, "items", func(s *tasksettings.ValidationSettings) { s.PartitionSize = 500 })
	job.Source = checksumConn{Conn: p.src, dsn: p.pg.DSN(p.srcDB), sums: &sums, reads: &reads}
	job.Target = checksumConn{Conn: p.tgt, dsn: p.pg.DSN(p.tgtDB), sums: &sums, reads: &reads}

	res, err := validate.Table(testCtx(t), job)
	checkResult(t, res, err, validate.Result{State: validate.StateValidated, Compared: 3000})
	if sums.Load() == 0 || sums.Load()%2 != 0 || reads.Load() != 0 {
		t.Fatalf("%d checksums and %d row reads; want checksums only", sums.Load(), reads.Load())
	}
	parts := sums.Load() / 2

	// A difference sends its partition, and only it, to the row comparison.
	p.pg.Exec(t, p.tgtDB, `UPDATE items SET seen = seen + interval '1 microsecond' WHERE id = 1234`)
	sums.Store(0)
	res, err = validate.Table(testCtx(t), job)
	checkResult(t, res, err, validate.Result{State: validate.StateMismatched, Compared: 3000, Failed: 1})
	if sums.Load() != 2*parts || reads.Load() != 2 {
		t.Fatalf("%d checksums and %d row reads; want %d and 2", sums.Load(), reads.Load(), 2*parts)
	}
	fs := pgFailures(t, p.pg, p.tgtDB, "public")
	if len(fs) != 1 || fs[0].Key != `{"key": ["1234"]}` || !strings.Contains(fs[0].Details, "'seen'") {
		t.Fatalf("failures = %+v", fs)
	}

	// Not eligible: with collation handling the checksums are not used.
	sums.Store(0)
	job.Settings.HandleCollationDiff = true
	if _, err := validate.Table(testCtx(t), job); err != nil {
		t.Fatal(err)
	}
	if sums.Load() != 0 {
		t.Fatalf("%d checksums with HandleCollationDiff", sums.Load())
	}
}

// BenchmarkTable measures rows validated per second, PostgreSQL to
// PostgreSQL, default settings (PartitionSize 10000, ThreadCount 5).
// GODWIT_VALIDATE_BENCH_ROWS sets the table size (default 1,000,000).
func BenchmarkTable(b *testing.B) {
	rows := 1_000_000
	if s := os.Getenv("GODWIT_VALIDATE_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		rows = n
	}
	for _, tc := range []struct{ name, keyType, key string }{
		{"int_key", "bigint", "g"},
		{"text_key", "text", "lpad(g::text, 10, '0')"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			pg := testenv.Postgres(b)
			p := newPGPair(b, fmt.Sprintf(`CREATE TABLE bench (id %s PRIMARY KEY, name varchar(64), amount numeric(12,2),
				seen timestamptz, flag boolean, score double precision, note text)`, tc.keyType))
			load := fmt.Sprintf(`INSERT INTO bench SELECT %s, 'customer ' || g, g * 0.01, timestamptz '2024-01-01' + g * interval '1 second',
				g %% 2 = 0, g / 3.0, md5(g::text) FROM generate_series(1, %d) g`, tc.key, rows)
			pg.Exec(b, p.srcDB, load, "ANALYZE bench")
			pg.Exec(b, p.tgtDB, load, "ANALYZE bench")
			job := p.job(b, "bench", nil)
			job.Log = slog.New(slog.DiscardHandler)
			b.ResetTimer()
			for b.Loop() {
				res, err := validate.Table(context.Background(), job)
				if err != nil || res.State != validate.StateValidated || res.Compared != int64(rows) {
					b.Fatalf("%+v %v", res, err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
