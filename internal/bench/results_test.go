package bench

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// The lines must be what ../shared/bench/ratios.sh and summarize.sh read.
func TestAppendTSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r", "results.tsv")
	r := &Record{At: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Suite: "ours", Test: "full_load_pg_pg", Variant: "pk",
		Run: 1, Rows: 2000000, Bytes: 560000000, Secs: 20, CoresOurs: 1.5, CoresForeign: 0.04}
	for range 2 {
		if err := appendTSV(path, []*Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	line := "2025-01-02T03:04:05Z\tours\tfull_load_pg_pg\tpk\t1\t2000000\t560000000\t20.000\t100000\t28.0\t1.50\t0.04"
	want := tsvHeader + "\n" + line + "\n" + line + "\n"
	if string(b) != want {
		t.Fatalf("results.tsv:\n%s\nwant:\n%s", b, want)
	}
	if n := len(strings.Split(line, "\t")); n != 12 {
		t.Fatalf("%d columns", n)
	}
}

func TestTableMappings(t *testing.T) {
	for _, m := range []string{tableMappings("public", ""), tableMappings("bench", "public")} {
		var v struct {
			Rules []map[string]any `json:"rules"`
		}
		if err := json.Unmarshal([]byte(m), &v); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
	}
	if !strings.Contains(tableMappings("bench", "public"), `"value":"public"`) {
		t.Fatal("no rename")
	}
	if strings.Contains(tableMappings("public", "public"), "rename") {
		t.Fatal("a rename to the same schema")
	}
}

// Every pair's ours and anchors are named as ../shared/bench/ratios.map names them.
func TestPairsMatchRatiosMap(t *testing.T) {
	want := map[string][2]key{
		"pg-pg":    {{"ours", "full_load_pg_pg", "pk"}, {"pg_copy", "pipe_1stream", "binary/pk"}},
		"maria-pg": {{"ours", "full_load_maria_pg", "pk"}, {"maria_pg", "maria_to_pg_pipe", "batch|copy/pk"}},
		"pg-maria": {{"ours", "full_load_pg_maria", "pk"}, {"maria_pg", "pg_to_maria_load_data_local", "binlog_on"}},
		"pg-s3":    {{"ours", "full_load_pg_file", "csv"}, {"pg_copy", "src_copy_to_devnull", "text"}},
	}
	ps := pairs(2)
	if len(ps) != len(PairNames) {
		t.Fatalf("%d pairs, %d names", len(ps), len(PairNames))
	}
	for _, name := range PairNames {
		p := ps[name]
		if p == nil {
			t.Fatalf("no pair %s", name)
		}
		if p.Ours != want[name][0] || p.Anchors[p.Primary].key != want[name][1] {
			t.Errorf("%s: %v vs %v, want %v", name, p.Ours, p.Anchors[p.Primary].key, want[name])
		}
	}
	if k := ps["pg-pg"].Anchors[4].key; k.test != "pipe_2streams_ctidrange" || k.variant != "binary/pk" {
		t.Errorf("ctid anchor %v", k)
	}
}

func TestReportTargets(t *testing.T) {
	ps := pairs(2)
	rep := &Report{Rows: 100, Runs: 1, Pairs: []*Pair{ps["pg-pg"]}}
	add := func(k key, secs float64, rss int64) {
		rep.Records = append(rep.Records, &Record{Suite: k.suite, Test: k.test, Variant: k.variant, Run: 1, Rows: 100, Bytes: 1e6, Secs: secs, PeakRSS: rss})
	}
	add(ps["pg-pg"].Ours, 1, 100<<20)
	add(ps["pg-pg"].Anchors[0].key, 0.95, 0) // single pipe: ratio 0.95, met
	add(ps["pg-pg"].Anchors[4].key, 0.8, 0)  // ctid split: ratio 0.8, missed
	add(ps["pg-pg"].Alt.key, 0.75, 120<<20)  // with the key after the load: 0.8/0.75, met
	add(ps["pg-pg"].Anchors[1].key, 0.5, 0)  // heap only: not a variant that ends with the key
	var b strings.Builder
	rep.Print(&b)
	out := b.String()
	for _, s := range []string{"0.95  met", "0.80  MISSED (best: pipe_2streams_ctidrange binary/pk", "120 MiB  met",
		"CreatePkAfterFullLoad (DROP_AND_CREATE)             1.07  met (best: pipe_2streams_ctidrange binary/pk"} {
		if !strings.Contains(out, s) {
			t.Errorf("report lacks %q:\n%s", s, out)
		}
	}
	md := rep.Markdown()
	if !strings.Contains(md, "| pg-pg | 100 | 1.0 | 100 | pg_copy pipe_1stream binary/pk | 105 | 1.1 | 0.95 |") ||
		!strings.Contains(md, "| pg-pg with CreatePkAfterFullLoad | 133 | 1.3 | 120 | pg_copy pipe_1stream binary/pk | 105 | 1.1 | 1.27 |") ||
		strings.Contains(md, "| pg-pg with CreatePkAfterFullLoad | 133 | 1.3 | 120 | pg_copy pipe_1stream binary/noidx") {
		t.Errorf("markdown:\n%s", md)
	}
}
