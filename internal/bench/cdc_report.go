package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// percentile is the nearest-rank p-th percentile of the durations (p in
// 0..100; 0 for none).
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// cdcSummary is the medians of one pair, apply mode and mode over its runs.
type cdcSummary struct {
	pair, apply, mode string
	runs              int
	changes           int64
	offered           float64
	sourceRate, rate  float64
	samples           int
	p50, p99, max     time.Duration
	foreign           float64 // max over runs
}

func medianDuration(d []time.Duration) time.Duration {
	f := make([]float64, len(d))
	for i, v := range d {
		f[i] = float64(v)
	}
	return time.Duration(median(f))
}

// summaries are the CDC results' medians, in the order they ran.
func (rep *CDCReport) summaries() []*cdcSummary {
	var out []*cdcSummary
	groups := map[[3]string][]*CDCResult{}
	for _, r := range rep.Results {
		k := [3]string{r.Pair, r.Apply, r.Mode}
		if groups[k] == nil {
			out = append(out, &cdcSummary{pair: r.Pair, apply: r.Apply, mode: r.Mode})
		}
		groups[k] = append(groups[k], r)
	}
	for _, s := range out {
		rs := groups[[3]string{s.pair, s.apply, s.mode}]
		var src, rate []float64
		var p50, p99, mx []time.Duration
		for _, r := range rs {
			src, rate = append(src, r.SourceRate), append(rate, r.ChangesPerSec())
			p50, p99, mx = append(p50, r.P50), append(p99, r.P99), append(mx, r.Max)
			s.samples += r.Samples
			s.foreign = max(s.foreign, r.CoresForeign)
		}
		s.runs, s.changes, s.offered = len(rs), rs[0].Changes, rs[0].Offered
		s.sourceRate, s.rate = median(src), median(rate)
		s.p50, s.p99, s.max = medianDuration(p50), medianDuration(p99), medianDuration(mx)
	}
	return out
}

// limit is the median changes/s of a limit (0 when not measured).
func (rep *CDCReport) limit(k key) float64 {
	if s := summarize(rep.Limits)[k]; s != nil {
		return s.rps
	}
	return 0
}

func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%d", d.Milliseconds())
}

// cdcTarget is a figure the issue asks for.
type cdcTarget struct {
	what  string
	value string
	met   bool
}

func (rep *CDCReport) targets() []cdcTarget {
	var out []cdcTarget
	staging, pipelined := rep.limit(limitStaging(rep.Config.ApplyBatch)), rep.limit(limitPipeline)
	for _, s := range rep.summaries() {
		switch {
		case s.mode == "backlog" && s.apply == "batch" && staging > 0:
			want, what := 0.9, "batch apply ≥ 0.9× the staging-apply limit"
			if rep.Config.Hot > 0 {
				want, what = 1.0, "batch apply > 1.0× the staging-apply limit (hot rows)"
			}
			out = append(out, cdcTarget{fmt.Sprintf("%s %s", s.pair, what), ratio(s.rate, staging), s.rate/staging >= want})
		case s.mode == "backlog" && s.apply == "transactional" && pipelined > 0:
			out = append(out, cdcTarget{s.pair + " transactional apply ≥ 2× the pipelined row-at-a-time limit", ratio(s.rate, pipelined), s.rate/pipelined >= 2})
		case s.mode == "rate" && s.offered >= 10_000 && s.samples > 0:
			out = append(out, cdcTarget{fmt.Sprintf("%s %s p99 commit-to-commit < 2 s at an offered %.0f changes/s", s.pair, s.apply, s.offered),
				s.p99.Round(time.Millisecond).String(), s.p99 < 2*time.Second})
		}
	}
	return out
}

// limitKeys are the limits in the order they are shown.
func (rep *CDCReport) limitKeys() []key {
	return []key{limitDecode, limitStaging(rep.Config.ApplyBatch), limitTx100, limitPipeline, limitRow}
}

// Print writes the figures: Godwit's runs with their ratios to the limits,
// the limits, then the targets.
func (rep *CDCReport) Print(w io.Writer) {
	c := rep.Config
	fmt.Fprintf(w, "\nGodwit CDC, %d changes a run on a %d-row table (%d clients, %d changes a transaction, %s, hot rows %d), median of %d run(s)\n",
		c.Changes, c.Rows, c.Clients, c.TxSize, c.Mix, c.Hot, c.Runs)
	staging, pipelined := rep.limit(limitStaging(c.ApplyBatch)), rep.limit(limitPipeline)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pair\tapply\tmode\toffered/s\tsource/s\tapplied changes/s\tp50 ms\tp99 ms\tmax ms\tsampled tx\t/staging\t/pipelined\tforeign cores\t")
	for _, s := range rep.summaries() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.0f\t%.0f\t%s\t%s\t%s\t%d\t%s\t%s\t%.2f\t\n", s.pair, s.apply, s.mode, offered(s.offered), s.sourceRate, s.rate,
			ms(s.p50), ms(s.p99), ms(s.max), s.samples, ratio(s.rate, staging), ratio(s.rate, pipelined), s.foreign)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nLimits (stock PostgreSQL tools, same run):")
	sums := summarize(rep.Limits)
	for _, k := range rep.limitKeys() {
		if s := sums[k]; s != nil {
			fmt.Fprintf(w, "  %-70s %8.0f changes/s  (foreign cores %.2f)\n", k.String(), s.rps, s.foreign)
		}
	}
	fmt.Fprintln(w, "\n(backlog: changes made while the task is stopped, then timed from the resume to the last target commit; live and rate: the workload runs")
	fmt.Fprintln(w, " while the task runs, timed from its start to the last target commit. Latency: source COMMIT returned to the target commit of the rows.)")
	fmt.Fprintln(w, "\nTargets:")
	for _, t := range rep.targets() {
		fmt.Fprintf(w, "  %-92s %8s  %s\n", t.what, t.value, metOrMissed(t.met))
	}
}

// Markdown returns the figures as Markdown tables, for docs/performance.md.
func (rep *CDCReport) Markdown() string {
	c := rep.Config
	staging, pipelined := rep.limit(limitStaging(c.ApplyBatch)), rep.limit(limitPipeline)
	var b strings.Builder
	b.WriteString("| pair | apply | mode | offered/s | source/s | applied changes/s | p50 ms | p99 ms | ÷ staging limit | ÷ pipelined row limit |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range rep.summaries() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.0f | %.0f | %s | %s | %s | %s |\n", s.pair, s.apply, s.mode, offered(s.offered), s.sourceRate, s.rate,
			ms(s.p50), ms(s.p99), ratio(s.rate, staging), ratio(s.rate, pipelined))
	}
	b.WriteString("\n| limit (same run) | changes/s |\n|---|---:|\n")
	sums := summarize(rep.Limits)
	for _, k := range rep.limitKeys() {
		if s := sums[k]; s != nil {
			fmt.Fprintf(&b, "| %s | %.0f |\n", k.String(), s.rps)
		}
	}
	return b.String()
}
