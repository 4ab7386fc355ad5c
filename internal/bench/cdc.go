package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
	"github.com/jackc/pgx/v5"
)

// The CDC benchmark (`godwit bench cdc`): a pgbench-style mixed workload on
// the source, applied by a Godwit cdc task driven through the DMS API as
// for the full load, beside the limits of pg_cdc.sh measured in the same
// run (cdc_limits.go).
//
// Latency is measured from outside Godwit: the workload writes each source
// transaction's sequence number into the version column of the rows it
// writes and remembers when its COMMIT returned; the PostgreSQL target runs
// with track_commit_timestamp, so pg_xact_commit_timestamp(xmin) of a
// target row is the time of the target commit that wrote it. A row
// overwritten by a later transaction keeps only the later one, and deleted
// rows keep none: the sample is the source transactions whose rows are
// still theirs at the end (the late ones, the most delayed when the task
// falls behind).

// CDCConfig is one CDC benchmark.
type CDCConfig struct {
	Rows    int64    // initial rows of the source table
	Changes int64    // row changes of each measured run
	Runs    int      // repetitions; medians are reported
	Pairs   []string // of CDCPairNames
	Applies []string // of CDCApplyNames
	Modes   []string // of CDCModeNames
	// Rate is the offered changes/s of the rate mode.
	Rate float64
	// The workload: clients (concurrent source sessions), changes per
	// source transaction, the mix ("update=70,insert=20,delete=10") and,
	// when Hot > 0, the number of rows all updates go to.
	Clients, TxSize int
	Mix             string
	Hot             int
	// ApplyBatch is the staging apply limit's rows per batch; LimitSecs is
	// how long each pgbench limit runs. NoLimits skips the limits.
	ApplyBatch int
	LimitSecs  time.Duration
	NoLimits   bool
	// TargetStall, when set, holds an exclusive lock on the target table
	// for this long from the resume of each backlog run: the catch-up
	// then starts with a stalled target, as after a target hiccup.
	TargetStall time.Duration
	// TaskSettings, when set, is a ReplicationTaskSettings document sent
	// with every task, TargetMetadata.BatchApplyEnabled set by the apply
	// mode.
	TaskSettings string
	// CPUProfile, when set, is a file name prefix: Godwit's timed windows
	// are profiled into <prefix>.<pair>.<apply>.<mode>.run<N>.pprof.
	CPUProfile string
	Environment
}

// The CDC benchmark's pairs, apply modes and measurement modes.
var (
	CDCPairNames  = []string{"pg-pg", "maria-pg"}
	CDCApplyNames = []string{"transactional", "batch"}
	CDCModeNames  = []string{"backlog", "live", "rate"}
)

// DefaultCDCConfig has the defaults.
func DefaultCDCConfig() CDCConfig {
	return CDCConfig{Rows: 1_000_000, Changes: 200_000, Runs: 1, Pairs: CDCPairNames, Applies: CDCApplyNames, Modes: CDCModeNames,
		Rate: 10_000, Clients: 4, TxSize: 10, Mix: "update=70,insert=20,delete=10", ApplyBatch: 10_000, LimitSecs: 10 * time.Second,
		Environment: defaultEnvironment()}
}

// CDCResult is one measured Godwit run.
type CDCResult struct {
	Pair, Apply, Mode string
	Run               int
	Changes           int64
	// Secs is the time to apply them: from the task's resume (backlog) or
	// the workload's start (live, rate) to the last target commit.
	Secs float64
	// Offered is the rate asked of the workload (0: unpaced), SourceRate
	// what the source committed.
	Offered, SourceRate float64
	// Latencies, source COMMIT to target commit, of the sampled
	// transactions (live and rate modes).
	Samples                 int
	P50, P99, Max           time.Duration
	CoresOurs, CoresForeign float64
	// CPU is the CPU seconds of each of our components in the window.
	CPU map[string]float64
}

// ChangesPerSec is changes applied over seconds.
func (r *CDCResult) ChangesPerSec() float64 {
	if r.Secs <= 0 {
		return 0
	}
	return float64(r.Changes) / r.Secs
}

// CDCReport is the outcome of a CDC benchmark.
type CDCReport struct {
	Config  CDCConfig
	Results []*CDCResult
	Limits  []*Record
}

// cdcRun is the state of a CDC benchmark.
type cdcRun struct {
	*bencher
	cfg CDCConfig
	mix cdcMix
	rep *CDCReport
}

// RunCDC runs the CDC benchmark. The servers, Godwit and the work directory
// are gone when it returns (unless Keep).
func RunCDC(ctx context.Context, cfg CDCConfig) (rep *CDCReport, err error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Rows < 1 || cfg.Changes < 1 || cfg.Runs < 1 || cfg.Clients < 1 || cfg.TxSize < 1 || cfg.ApplyBatch < 1 {
		return nil, errors.New("rows, changes, runs, clients, tx-size and apply-batch must be at least 1")
	}
	mix, err := parseMix(cfg.Mix)
	if err != nil {
		return nil, err
	}
	for _, l := range []struct {
		what       string
		got, known []string
	}{{"pair", cfg.Pairs, CDCPairNames}, {"apply mode", cfg.Applies, CDCApplyNames}, {"mode", cfg.Modes, CDCModeNames}} {
		if len(l.got) == 0 {
			return nil, fmt.Errorf("no %s selected", l.what)
		}
		for _, g := range l.got {
			if !slices.Contains(l.known, g) {
				return nil, fmt.Errorf("unknown %s %q (known: %s)", l.what, g, strings.Join(l.known, ", "))
			}
		}
	}
	needPGSrc, needMaria := slices.Contains(cfg.Pairs, "pg-pg"), slices.Contains(cfg.Pairs, "maria-pg")
	b := &bencher{cfg: Config{Rows: cfg.Rows, Runs: cfg.Runs, Environment: cfg.Environment},
		bytes: map[string]int64{}}
	r := &cdcRun{bencher: b, cfg: cfg, mix: mix, rep: &CDCReport{Config: cfg}}
	if b.tools, err = findTools(needMaria); err != nil {
		return nil, err
	}
	for _, tool := range []string{"pgbench", "pg_recvlogical"} {
		if !cfg.NoLimits && !isExecutable(b.pgTool(tool)) {
			return nil, fmt.Errorf("%s not found next to %s (the limits need it; --no-limits skips them)", tool, b.tools.psql)
		}
	}
	if b.workDir, err = os.MkdirTemp("", "godwit-bench-cdc-"); err != nil {
		return nil, err
	}
	defer func() { b.removeWorkDir(cfg.Keep, err) }()
	defer b.closeServers()
	// The target's commit timestamps give the latency.
	if err := b.startServers(ctx, needPGSrc, true, needMaria, [2]string{"track_commit_timestamp", "on"}); err != nil {
		return nil, err
	}
	began := time.Now()
	if needPGSrc {
		if err := pgFill(ctx, b.pgSrc, cfg.Rows); err != nil {
			return nil, fmt.Errorf("generate the PostgreSQL table: %w", err)
		}
	}
	if needMaria {
		if err := mariaFill(ctx, b.maria, cfg.Rows); err != nil {
			return nil, fmt.Errorf("generate the MariaDB table: %w", err)
		}
	}
	b.logf("generated %d rows in %s", cfg.Rows, time.Since(began).Round(time.Millisecond))
	b.logf("workload: %d changes a run, %d clients, %d changes a transaction, %s, hot rows %d", cfg.Changes, cfg.Clients, cfg.TxSize, mix, cfg.Hot)

	logName, stopOurs, err := b.startOurs(ctx)
	if err != nil {
		return nil, err
	}
	defer stopOurs(&err)

	// The workloads live as long as their source tables.
	loads := map[string]*workload{}
	if needPGSrc {
		loads["pg-pg"] = newWorkload(cfg.Rows, cfg.Clients, cfg.TxSize, cfg.Hot, mix, func(ctx context.Context, syncCommit bool) (workloadClient, error) {
			return newPGClient(ctx, b.pgSrc.dsn(), syncCommit)
		})
	}
	if needMaria {
		loads["maria-pg"] = newWorkload(cfg.Rows, cfg.Clients, cfg.TxSize, cfg.Hot, mix, func(ctx context.Context, _ bool) (workloadClient, error) {
			return newMariaClient(ctx, b.maria.srv.DSN(mariaSrcDB))
		})
	}
	for run := 1; run <= cfg.Runs; run++ {
		b.logf("---- run %d/%d", run, cfg.Runs)
		if !cfg.NoLimits {
			if err := r.loadTarget(ctx, cfg.Pairs[0]); err != nil {
				return r.rep, err
			}
			recs, err := b.applyLimits(ctx, run, cfg.Changes, cfg.ApplyBatch, cfg.LimitSecs)
			for _, rec := range recs {
				r.addLimit(rec)
			}
			if err != nil {
				return r.rep, err
			}
		}
		for _, pair := range cfg.Pairs {
			for _, apply := range cfg.Applies {
				if err := r.runTask(ctx, pair, apply, run, loads[pair]); err != nil {
					return r.rep, fmt.Errorf("%s %s: %w (log: %s)", pair, apply, err, logName)
				}
			}
		}
	}
	return r.rep, nil
}

func (r *cdcRun) addLimit(rec *Record) {
	rec.At = time.Now()
	r.logRecord(rec)
	r.rep.Limits = append(r.rep.Limits, rec)
}

// loadTarget makes the target's t a copy of the pair's source table with
// the stock clients (untimed), as a full load would leave it.
func (r *cdcRun) loadTarget(ctx context.Context, pair string) error {
	if err := pgCreateTable(ctx, r.pgDst, variantPK); err != nil {
		return err
	}
	var err error
	if pair == "pg-pg" {
		p := r.pgPipe(ctx, "", "binary")
		err = runPipe(p[0], p[1])
	} else {
		err = runPipe(r.maria.client(ctx, mariaSrcDB, "--batch", "--quick", "--skip-column-names", "-e", mariaSelect),
			r.pgDst.psql(ctx, "COPY t FROM STDIN (FORMAT text, NULL 'NULL')"))
	}
	if err != nil {
		return fmt.Errorf("load the target: %w", err)
	}
	return r.pgDst.exec(ctx, "VACUUM (ANALYZE) t", "CHECKPOINT")
}

// runTask runs the modes of one pair and apply mode on a fresh cdc task:
// the target is loaded, the task started from now, then each mode measured.
func (r *cdcRun) runTask(ctx context.Context, pair, apply string, run int, w *workload) error {
	if err := r.loadTarget(ctx, pair); err != nil {
		return err
	}
	src, tgt, mappings, err := r.endpoints(ctx, pair)
	if err != nil {
		return err
	}
	settings, err := cdcTaskSettings(r.cfg.TaskSettings, apply == "batch")
	if err != nil {
		return err
	}
	arn, err := r.g.createTask(ctx, fmt.Sprintf("bench-cdc-%s-%s-%d", pair, apply, run), types.MigrationTypeValueCdc, src, tgt, mappings, settings)
	if err != nil {
		return err
	}
	defer r.g.deleteTask(context.WithoutCancel(ctx), arn)
	if err := r.g.startTask(ctx, arn, types.StartReplicationTaskTypeValueStartReplication); err != nil {
		return err
	}
	if err := r.waitCapturing(ctx, arn); err != nil {
		return err
	}
	for _, mode := range r.cfg.Modes {
		res := &CDCResult{Pair: pair, Apply: apply, Mode: mode, Run: run}
		var err error
		if mode == "backlog" {
			err = r.backlog(ctx, arn, w, res)
		} else {
			rate := 0.0
			if mode == "rate" {
				rate = r.cfg.Rate
			}
			err = r.live(ctx, arn, w, rate, res)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
		r.logf("  godwit   %-8s %-13s %-7s run%-2d %8.2fs %8.0f changes/s (source %.0f/s, offered %s)%s  cores ours %.2f foreign %.2f",
			pair, apply, mode, run, res.Secs, res.ChangesPerSec(), res.SourceRate, offered(res.Offered), latencyText(res), res.CoresOurs, res.CoresForeign)
		r.logf("           CPU seconds: %s", formatCPU(res.CPU))
		r.rep.Results = append(r.rep.Results, res)
	}
	if err := r.g.stopTask(ctx, arn); err != nil {
		return err
	}
	return r.checkConverged(ctx, pair)
}

func offered(rate float64) string {
	if rate <= 0 {
		return "unpaced"
	}
	return fmt.Sprintf("%.0f/s", rate)
}

func latencyText(res *CDCResult) string {
	if res.Samples == 0 {
		return ""
	}
	return fmt.Sprintf(", latency p50 %s p99 %s max %s (%d tx sampled)", res.P50.Round(time.Millisecond), res.P99.Round(time.Millisecond),
		res.Max.Round(time.Millisecond), res.Samples)
}

// waitCapturing waits until the task runs and has a recovery checkpoint
// (its slot or binlog position exists: changes from now on are captured).
func (r *cdcRun) waitCapturing(ctx context.Context, arn string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		task, err := r.g.waitStatus(ctx, arn, "running")
		if err != nil {
			return err
		}
		if aws.ToString(task.RecoveryCheckpoint) != "" {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the running task has no recovery checkpoint")
		}
		time.Sleep(pollEvery)
	}
}

// waitApplied waits until the task has applied want changes in all.
func (r *cdcRun) waitApplied(ctx context.Context, arn string, want int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for i := 0; ; i++ {
		n, err := r.g.appliedChanges(ctx, arn)
		if err != nil {
			return err
		}
		if n >= want {
			return nil
		}
		if i%20 == 19 { // a failed task applies nothing more
			if _, err := r.g.waitStatus(ctx, arn, "running"); err != nil {
				return err
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d changes applied after %s", n, want, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// applyWait is how long a run may take to be applied: generous, for a
// slow machine (a hundred changes a second).
func (r *cdcRun) applyWait() time.Duration {
	return time.Minute + time.Duration(r.cfg.Changes/100)*time.Second
}

// backlog stops the task, makes the changes (with synchronous_commit off
// on PostgreSQL, untimed), and times the resumed task catching up. On a
// PostgreSQL source the decode limit reads the same changes first.
func (r *cdcRun) backlog(ctx context.Context, arn string, w *workload, res *CDCResult) error {
	if err := r.g.stopTask(ctx, arn); err != nil {
		return err
	}
	before, err := r.g.appliedChanges(ctx, arn)
	if err != nil {
		return err
	}
	decode := res.Pair == "pg-pg" && !r.cfg.NoLimits
	if decode {
		if err := r.prepareDecodeLimit(ctx); err != nil {
			return err
		}
	}
	wr, err := w.run(ctx, r.cfg.Changes, 0, false)
	if err != nil {
		return err
	}
	res.Changes, res.SourceRate = wr.changes, float64(wr.changes)/wr.finished.Sub(wr.began).Seconds()
	r.logf("  backlog of %d changes made in %s (%.0f changes/s)", wr.changes, wr.finished.Sub(wr.began).Round(time.Millisecond), res.SourceRate)
	if decode {
		rec, err := r.decodeLimit(ctx, res.Run, wr.changes)
		if err != nil {
			return err
		}
		r.addLimit(rec)
	}
	return r.timed(ctx, res, func() (time.Time, error) {
		if r.cfg.TargetStall > 0 {
			if err := r.stallTarget(ctx, r.cfg.TargetStall); err != nil {
				return time.Time{}, err
			}
		}
		t0 := time.Now()
		if err := r.g.startTask(ctx, arn, types.StartReplicationTaskTypeValueResumeProcessing); err != nil {
			return t0, err
		}
		return t0, r.waitApplied(ctx, arn, before+wr.changes, r.applyWait())
	}, func(t0 time.Time) error {
		end, _, err := r.targetCommits(ctx, wr)
		if err != nil {
			return err
		}
		res.Secs = end.Sub(t0).Seconds()
		return nil
	})
}

// stallTarget locks the target's t for d, in the background.
func (r *cdcRun) stallTarget(ctx context.Context, d time.Duration) error {
	conn, err := pgx.Connect(ctx, r.pgDst.dsn())
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE"); err != nil {
		conn.Close(ctx)
		return err
	}
	go func() {
		time.Sleep(d)
		conn.Exec(context.WithoutCancel(ctx), "COMMIT")
		conn.Close(context.WithoutCancel(ctx))
	}()
	r.logf("  the target table is locked for %s", d)
	return nil
}

// live times the workload running while the task runs, paced at rate
// changes/s (0: as fast as the clients go), with synchronous commits;
// throughput and latencies come from the target's commit timestamps.
func (r *cdcRun) live(ctx context.Context, arn string, w *workload, rate float64, res *CDCResult) error {
	before, err := r.g.appliedChanges(ctx, arn)
	if err != nil {
		return err
	}
	res.Offered = rate
	var wr *workloadRun
	return r.timed(ctx, res, func() (time.Time, error) {
		var err error
		if wr, err = w.run(ctx, r.cfg.Changes, rate, true); err != nil {
			return time.Time{}, err
		}
		return wr.began, r.waitApplied(ctx, arn, before+wr.changes, r.applyWait())
	}, func(t0 time.Time) error {
		res.Changes, res.SourceRate = wr.changes, float64(wr.changes)/wr.finished.Sub(wr.began).Seconds()
		end, lat, err := r.targetCommits(ctx, wr)
		if err != nil {
			return err
		}
		res.Secs = end.Sub(t0).Seconds()
		res.Samples = len(lat)
		res.P50, res.P99, res.Max = percentile(lat, 50), percentile(lat, 99), percentile(lat, 100)
		return nil
	})
}

// timed waits for a quiet machine, then runs fn with the CPU window (and
// the CPU profile) around it; after reads the target (untimed). fn returns
// when its clock started.
func (r *cdcRun) timed(ctx context.Context, res *CDCResult, fn func() (time.Time, error), after func(t0 time.Time) error) error {
	r.watch.waitQuiet(ctx, r.cfg.QuietCores, r.cfg.QuietMaxWait, r.logf)
	var prof *os.File
	if r.cfg.CPUProfile != "" {
		var err error
		if prof, err = os.Create(fmt.Sprintf("%s.%s.%s.%s.run%d.pprof", r.cfg.CPUProfile, res.Pair, res.Apply, res.Mode, res.Run)); err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(prof); err != nil {
			prof.Close()
			return err
		}
	}
	m := r.watch.mark()
	t0, err := fn()
	res.CoresOurs, res.CoresForeign, res.CPU = r.watch.breakdown(m)
	if prof != nil {
		pprof.StopCPUProfile()
		if cerr := prof.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return err
	}
	return after(t0)
}

// targetCommits reads, from the target's rows the workload run wrote, the
// last target commit and the latency of each sampled source transaction
// (its COMMIT's return to the target commit of its rows).
func (r *cdcRun) targetCommits(ctx context.Context, wr *workloadRun) (last time.Time, lat []time.Duration, err error) {
	conn, err := pgx.Connect(ctx, r.pgDst.dsn())
	if err != nil {
		return last, nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, "SELECT version, max(pg_xact_commit_timestamp(xmin)) FROM t WHERE version >= $1 AND version < $2 GROUP BY version",
		wr.base, wr.base+int64(wr.txs))
	if err != nil {
		return last, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		var at *time.Time
		if err := rows.Scan(&v, &at); err != nil {
			return last, nil, err
		}
		if at == nil {
			return last, nil, errors.New("the target has no commit timestamp for a row (track_commit_timestamp off?)")
		}
		if at.After(last) {
			last = *at
		}
		if c := wr.commits[v-wr.base]; !c.IsZero() {
			lat = append(lat, at.Sub(c))
		}
	}
	if err := rows.Err(); err != nil {
		return last, nil, err
	}
	if last.IsZero() {
		return last, nil, errors.New("no target row carries the run's versions")
	}
	return last, lat, nil
}

// checkConverged compares the source's and the target's tables: row
// count, and the sums of version and qty (what the workload changes).
func (r *cdcRun) checkConverged(ctx context.Context, pair string) error {
	const q = "SELECT count(*), CAST(coalesce(sum(version), 0) AS %s), CAST(coalesce(sum(qty), 0) AS %[1]s) FROM t"
	var src, dst [3]string
	var err error
	if pair == "pg-pg" {
		err = r.pgSrc.queryRow(ctx, fmt.Sprintf(q, "text"), &src[0], &src[1], &src[2])
	} else {
		err = r.maria.queryRow(ctx, mariaSrcDB, fmt.Sprintf(q, "char"), &src[0], &src[1], &src[2])
	}
	if err != nil {
		return err
	}
	if err := r.pgDst.queryRow(ctx, fmt.Sprintf(q, "text"), &dst[0], &dst[1], &dst[2]); err != nil {
		return err
	}
	if src != dst {
		return fmt.Errorf("the target differs from the source: rows, sum(version), sum(qty) %v on the source, %v on the target", src, dst)
	}
	r.logf("  target converged: %s rows", dst[0])
	return nil
}

// cdcTaskSettings is the task settings document user (may be empty) with
// TargetMetadata.BatchApplyEnabled set to batch.
func cdcTaskSettings(user string, batch bool) (string, error) {
	doc := map[string]any{}
	if user != "" {
		if err := json.Unmarshal([]byte(user), &doc); err != nil {
			return "", fmt.Errorf("--task-settings: %w", err)
		}
	}
	tm, _ := doc["TargetMetadata"].(map[string]any)
	if tm == nil {
		tm = map[string]any{}
	}
	tm["BatchApplyEnabled"] = batch
	doc["TargetMetadata"] = tm
	b, err := json.Marshal(doc)
	return string(b), err
}
