package bench

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/testenv"
)

// BenchmarkFullLoad is `godwit bench full-load` under go test:
//
//	GODWIT_BENCH_ROWS=200000 go test ./internal/bench -run '^$' -bench FullLoad -benchtime 1x
//
// It reports, per pair, Godwit's rows/s and its ratio to the raw pipe
// measured in the same run (b.N runs, medians). GODWIT_BENCH_PAIRS limits
// the pairs (comma-separated).
func BenchmarkFullLoad(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Rows = 200_000
	if v := os.Getenv("GODWIT_BENCH_ROWS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			b.Fatalf("GODWIT_BENCH_ROWS: %v", err)
		}
		cfg.Rows = n
	}
	if v := os.Getenv("GODWIT_BENCH_PAIRS"); v != "" {
		cfg.Pairs = SplitList(v)
	}
	cfg.Runs = b.N
	cfg.QuietMaxWait = 5 * time.Second
	cfg.Log = testLog{b}
	b.ResetTimer()
	rep, err := Run(context.Background(), cfg)
	b.StopTimer()
	if errors.Is(err, testenv.ErrNotInstalled) && os.Getenv("CI") != "true" {
		b.Skip(err)
	}
	if err != nil {
		b.Fatal(err)
	}
	sums := summarize(rep.Records)
	for _, p := range rep.Pairs {
		o, a := sums[p.Ours], sums[p.Anchors[p.Primary].key]
		if o == nil || a == nil {
			continue
		}
		b.ReportMetric(o.rps, p.Name+"-rows/s")
		b.ReportMetric(o.rps/a.rps, p.Name+"-ratio")
		b.ReportMetric(float64(o.peakRSS)/(1<<20), p.Name+"-peakRSS-MiB")
	}
	b.ReportMetric(0, "ns/op")
}

type testLog struct{ b *testing.B }

func (l testLog) Write(p []byte) (int, error) {
	l.b.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
