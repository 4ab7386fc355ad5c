package s3_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// benchTable is the benchmark shape: bigint pk, ints, varchar(64), ~100-byte
// text, numeric, timestamptz, boolean, jsonb.
func benchTable() *record.Table {
	return &record.Table{Schema: "bench", Name: "rows", PrimaryKey: []string{"id"}, Columns: []record.Column{
		col("id", record.KindInt64), col("a", record.KindInt32), col("b", record.KindInt64),
		{Name: "name", Type: record.Type{Kind: record.KindString, Length: 64}, Nullable: true},
		col("body", record.KindText), numCol("amount", 12, 2), col("at", record.KindTimestampTZ),
		col("ok", record.KindBool), col("doc", record.KindJSON),
	}}
}

// benchRows generates batches of benchTable rows, reusing one batch.
type benchRows struct {
	n     int64
	batch []record.Row
	body  string
	base  time.Time
}

func newBenchRows(size int) *benchRows {
	g := &benchRows{batch: make([]record.Row, size), base: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	for i := range g.batch {
		g.batch[i] = make(record.Row, 9)
	}
	g.body = strings.Repeat("lorem ipsum dolor sit amet, ", 4)[:100]
	return g
}

func (g *benchRows) next() []record.Row {
	for _, r := range g.batch {
		g.n++
		n := g.n
		r[0] = n
		r[1] = n % 1000
		r[2] = n * 7919
		r[3] = "name-" + strconv.FormatInt(n, 10)
		r[4] = g.body
		r[5] = strconv.FormatInt(n%100000, 10) + ".25"
		r[6] = g.base.Add(time.Duration(n) * time.Millisecond)
		r[7] = n%2 == 0
		r[8] = `{"k": ` + strconv.FormatInt(n, 10) + `, "tag": "x"}`
	}
	return g.batch
}

// benchmarkLoad loads 200,000 rows per iteration and reports rows/s.
func benchmarkLoad(b *testing.B, settings map[string]any) {
	const rows, batch = 200000, 10000
	tbl := benchTable()
	root := b.TempDir()
	c := openTarget(b, root, settings)
	gen := newBenchRows(batch)
	// The values are generated once per batch outside the timer.
	batches := make([][]record.Row, rows/batch)
	for i := range batches {
		src := gen.next()
		batches[i] = make([]record.Row, len(src))
		for j, r := range src {
			batches[i][j] = append(record.Row(nil), r...)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.PrepareTable(bg, tbl, connector.PrepTruncate, false); err != nil {
			b.Fatal(err)
		}
		for _, rs := range batches {
			if err := c.Load(bg, tbl, rs); err != nil {
				b.Fatal(err)
			}
		}
		if err := c.FinishTable(bg, tbl, false); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkLoadCSV(b *testing.B) { benchmarkLoad(b, nil) }

func BenchmarkLoadCSVGzip(b *testing.B) { benchmarkLoad(b, map[string]any{"CompressionType": "GZIP"}) }

func BenchmarkLoadParquet(b *testing.B) { benchmarkLoad(b, map[string]any{"DataFormat": "parquet"}) }

func BenchmarkLoadParquetGzip(b *testing.B) {
	benchmarkLoad(b, map[string]any{"DataFormat": "parquet", "CompressionType": "GZIP"})
}
