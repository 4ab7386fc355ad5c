package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// tsvHeader is the header of ../shared/bench's results.tsv.
const tsvHeader = "ts\tsuite\ttest\tvariant\trun\trows\tbytes\tsecs\trows_per_s\tmb_per_s\tcores_ours\tcores_foreign"

// key names a measurement as results.tsv and ratios.map do.
type key struct{ suite, test, variant string }

func (k key) String() string { return k.suite + " " + k.test + " " + k.variant }

// Record is one timed run: a line of results.tsv, and for Godwit's own
// runs the peak RSS and the engine's view of the load.
type Record struct {
	At                      time.Time
	Suite, Test, Variant    string
	Run                     int
	Rows, Bytes             int64
	Secs                    float64
	CoresOurs, CoresForeign float64
	// CPU is the CPU seconds of each of our components during the run:
	// "self" (this process: Godwit and the SDK client, or the psql/mariadb
	// clients of a raw pipe) and each database server with its backends.
	CPU map[string]float64
	// IndexBytes is the size of the target table's indexes after a run
	// into PostgreSQL (0: none, or another target): a load into a table
	// with its key in several key ranges leaves a larger index than one
	// stream or a key built after the load.
	IndexBytes int64

	// Godwit runs only.
	PeakRSS    int64  // bytes
	RSSHow     string // how the peak was measured
	TableSecs  float64
	Settings   string // task settings sent (empty: the defaults)
	ProfileOut string
}

func (r *Record) key() key { return key{r.Suite, r.Test, r.Variant} }

// RowsPerSec is rows over seconds.
func (r *Record) RowsPerSec() float64 {
	if r.Secs <= 0 {
		return 0
	}
	return float64(r.Rows) / r.Secs
}

// MBPerSec is the stream's bytes (10^6) over seconds.
func (r *Record) MBPerSec() float64 {
	if r.Secs <= 0 {
		return 0
	}
	return float64(r.Bytes) / 1e6 / r.Secs
}

// TSV is the record as a results.tsv line (lib.sh's record format).
func (r *Record) TSV() string {
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%d\t%d\t%d\t%.3f\t%.0f\t%.1f\t%.2f\t%.2f",
		r.At.UTC().Format("2006-01-02T15:04:05Z"), r.Suite, r.Test, r.Variant, r.Run, r.Rows, r.Bytes,
		r.Secs, r.RowsPerSec(), r.MBPerSec(), r.CoresOurs, r.CoresForeign)
}

// appendTSV appends lines to a results.tsv, writing the header first when
// the file is new or empty.
func appendTSV(path string, recs []*Record) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err == nil && st.Size() == 0 {
		_, err = fmt.Fprintln(f, tsvHeader)
	}
	for _, r := range recs {
		if err != nil {
			break
		}
		_, err = fmt.Fprintln(f, r.TSV())
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// median of the values (the mean of the middle two for an even count).
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// summary is the medians of one measurement over its runs.
type summary struct {
	k            key
	runs         int
	rows, bytes  int64
	secs, rps    float64
	mbs          float64
	foreign      float64 // max over runs
	peakRSS      int64   // max over runs
	tableSecs    float64
	profileFiles []string
}

func summarize(recs []*Record) map[key]*summary {
	groups := map[key][]*Record{}
	for _, r := range recs {
		groups[r.key()] = append(groups[r.key()], r)
	}
	out := map[key]*summary{}
	for k, rs := range groups {
		s := &summary{k: k, runs: len(rs), rows: rs[0].Rows, bytes: rs[0].Bytes}
		var secs, rps, mbs, ts []float64
		for _, r := range rs {
			secs = append(secs, r.Secs)
			rps = append(rps, r.RowsPerSec())
			mbs = append(mbs, r.MBPerSec())
			ts = append(ts, r.TableSecs)
			s.foreign = max(s.foreign, r.CoresForeign)
			s.peakRSS = max(s.peakRSS, r.PeakRSS)
			if r.ProfileOut != "" {
				s.profileFiles = append(s.profileFiles, r.ProfileOut)
			}
		}
		s.secs, s.rps, s.mbs, s.tableSecs = median(secs), median(rps), median(mbs), median(ts)
		out[k] = s
	}
	return out
}

// Report is the outcome of a benchmark.
type Report struct {
	Rows     int64
	Runs     int
	Pairs    []*Pair
	Records  []*Record
	Settings string
	Notes    []string
}

// target is a ratio the issue asks for, of the pair's Godwit load (with
// alt, of its Alt load).
type target struct {
	pair   string
	what   string
	anchor func(p *Pair, sums map[key]*summary) (*summary, string)
	min    float64
	alt    bool
}

// bestWithPK is the fastest anchor whose target ends with its primary key.
func bestWithPK(p *Pair, s map[key]*summary) (*summary, string) {
	var best *summary
	for _, a := range p.Anchors {
		if a.endsWithPK && s[a.key] != nil && (best == nil || s[a.key].rps > best.rps) {
			best = s[a.key]
		}
	}
	if best == nil {
		return nil, ""
	}
	return best, best.k.test + " " + best.k.variant
}

// ours is the summary of p's Godwit load the target is about (nil: not
// measured).
func (t target) ours(p *Pair, sums map[key]*summary) *summary {
	for _, l := range p.loads(sums) {
		if l.alt == t.alt {
			return l.ours
		}
	}
	return nil
}

// primary is the pair's primary anchor.
func primary(p *Pair, s map[key]*summary) (*summary, string) { return s[p.Anchors[p.Primary].key], "" }

var targets = []target{
	{"pg-pg", "PG→PG ≥ 0.9× the single raw pipe (binary COPY into a table with its PK)", primary, 0.9, false},
	{"pg-pg", "PG→PG ≥ 1.0× the best raw variant that ends with the PK in place", bestWithPK, 1.0, false},
	{"pg-pg", "  the same, Godwit with CreatePkAfterFullLoad (DROP_AND_CREATE)", bestWithPK, 1.0, true},
	{"maria-pg", "MariaDB→PG ≥ 0.9× its raw pipe (mariadb --batch | COPY)", primary, 0.9, false},
}

// rssLimit is the memory target.
const rssLimit = 256 << 20

// Print writes the figures: one line per pair with its primary anchor, the
// other anchors below it, then the targets.
func (rep *Report) Print(w io.Writer) {
	sums := summarize(rep.Records)
	fmt.Fprintf(w, "\nGodwit full load, %d rows, median of %d run(s)", rep.Rows, rep.Runs)
	if rep.Settings != "" {
		fmt.Fprintf(w, ", task settings %s", rep.Settings)
	} else {
		fmt.Fprint(w, ", default task settings")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pair\tours rows/s\tours MB/s\tours s\tpeak RSS MiB\traw limit rows/s\traw MB/s\tratio\tforeign cores\traw limit (anchor)\t")
	for _, r := range rep.rows(sums) {
		o, s := r.ours, r.anchor
		if r.first {
			fmt.Fprintf(tw, "%s\t%.0f\t%.1f\t%.2f\t%s\t", r.name, o.rps, o.mbs, o.secs, mib(o.peakRSS))
		} else {
			fmt.Fprint(tw, "\t\t\t\t\t")
		}
		fmt.Fprintf(tw, "%.0f\t%.1f\t%.2f\t%.2f/%.2f\t%s\t\n", s.rps, s.mbs, o.rps/s.rps, o.foreign, s.foreign, s.k.test+" "+s.k.variant)
	}
	tw.Flush()
	fmt.Fprintln(w, "\n(MB/s is the anchor's stream size over the time, so the MB/s and rows/s ratios agree; foreign cores = max CPU used by other processes during our run / the anchor's run.)")

	fmt.Fprintln(w, "\nTargets:")
	for _, t := range targets {
		p := rep.pair(t.pair)
		if p == nil {
			continue
		}
		o := t.ours(p, sums)
		a, name := t.anchor(p, sums)
		if o == nil || a == nil {
			continue
		}
		ratio := o.rps / a.rps
		fmt.Fprintf(w, "  %-75s %.2f  %s", t.what, ratio, metOrMissed(ratio >= t.min))
		if name != "" {
			fmt.Fprintf(w, " (best: %s, %.0f rows/s)", name, a.rps)
		}
		fmt.Fprintln(w)
	}
	var peak int64
	for _, p := range rep.Pairs {
		for _, l := range p.loads(sums) {
			peak = max(peak, l.ours.peakRSS)
		}
	}
	if peak > 0 {
		fmt.Fprintf(w, "  %-75s %s MiB  %s\n", "RSS under 256 MB (whole process: Godwit server, engine and SDK client)", mib(peak), metOrMissed(peak < rssLimit))
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

func metOrMissed(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func (rep *Report) pair(name string) *Pair {
	for _, p := range rep.Pairs {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Markdown returns the figures as a Markdown table, for docs/performance.md.
func (rep *Report) Markdown() string {
	sums := summarize(rep.Records)
	var b strings.Builder
	b.WriteString("| pair | ours rows/s | ours MB/s | peak RSS MiB | anchor (raw pipe) | raw rows/s | raw MB/s | ratio |\n")
	b.WriteString("|---|---:|---:|---:|---|---:|---:|---:|\n")
	for _, r := range rep.rows(sums) {
		o, s := r.ours, r.anchor
		if r.first {
			fmt.Fprintf(&b, "| %s | %.0f | %.1f | %s ", r.name, o.rps, o.mbs, mib(o.peakRSS))
		} else {
			b.WriteString("| | | | ")
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.1f | %.2f |\n", s.k.suite+" "+s.k.test+" "+s.k.variant, s.rps, s.mbs, o.rps/s.rps)
	}
	return b.String()
}

// row is a line of the report: one of Godwit's loads beside one anchor
// (first: the load's first line).
type row struct {
	name         string
	ours, anchor *summary
	first        bool
}

// rows are the report's lines: per pair, each Godwit load with each anchor
// measured (Alt with the anchors that end with the key only).
func (rep *Report) rows(sums map[key]*summary) []row {
	var out []row
	for _, p := range rep.Pairs {
		for _, l := range p.loads(sums) {
			first := true
			for _, a := range p.orderedAnchors() {
				s := sums[a.key]
				if s == nil || l.alt && !a.endsWithPK {
					continue
				}
				out = append(out, row{name: l.name, ours: l.ours, anchor: s, first: first})
				first = false
			}
		}
	}
	return out
}

// load is one of a pair's Godwit loads in a report.
type load struct {
	name string
	ours *summary
	alt  bool
}

// loads are the pair's Godwit loads that were measured: Ours, then Alt
// (its rows compared with the anchors that end with the key only).
func (p *Pair) loads(sums map[key]*summary) []load {
	var out []load
	if o := sums[p.Ours]; o != nil {
		out = append(out, load{name: p.Name, ours: o})
	}
	if p.Alt != nil && sums[p.Alt.key] != nil {
		out = append(out, load{name: p.Name + " " + p.Alt.label, ours: sums[p.Alt.key], alt: true})
	}
	return out
}
