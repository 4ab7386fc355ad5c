// Package bench measures Godwit's full load against the physical limits of
// the same machine: it starts throwaway PostgreSQL and MariaDB servers
// (internal/testenv, reconfigured like ../shared/bench/lib.sh), generates the
// shared scripts' table, times the raw pipes of the stock clients (psql,
// mariadb) and then Godwit's own full load of the same table, driven through
// the DMS API with the Go SDK as a user would, in the same sitting. It
// reports rows/s, MB/s, the ratio to the raw pipe and the process's peak
// RSS, and appends lines in the shared results.tsv format.
package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
)

// Config is one benchmark.
type Config struct {
	Rows  int64    // rows in the source table
	Runs  int      // repetitions of every measurement; medians are reported
	Pairs []string // of PairNames
	Par   int      // streams of the split raw pipes (lib.sh's PAR)
	// Out, when set, is a results.tsv the lines are appended to.
	Out string
	// CPUProfile / MemProfile, when set, are file name prefixes: Godwit's
	// runs are profiled into <prefix>.<pair>.<variant>.run<N>.pprof.
	CPUProfile, MemProfile string
	// TaskSettings is the ReplicationTaskSettings document sent with every
	// task; empty sends none (DMS's defaults).
	TaskSettings string
	Environment
}

// Environment is what the benchmarks have in common: their servers, the
// quiet machine they wait for, their work directory and their log.
type Environment struct {
	// Server memory, as lib.sh's PG_SHARED_BUFFERS and MARIA_BUFFER_POOL.
	PGSharedBuffers string
	MariaBufferPool int64
	// Wait up to QuietMaxWait before each measurement for other processes
	// to use fewer than QuietCores cores (lib.sh's wait_quiet).
	QuietCores   float64
	QuietMaxWait time.Duration
	// Keep keeps the work directory (Godwit's data dir and log).
	Keep bool
	// Log receives progress lines.
	Log io.Writer
}

// defaultEnvironment has the shared scripts' server memory.
func defaultEnvironment() Environment {
	return Environment{PGSharedBuffers: "512MB", MariaBufferPool: 1 << 30, QuietCores: 0.3, QuietMaxWait: 30 * time.Second, Log: os.Stderr}
}

// SplitList splits a comma-separated list, dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// PairNames are the pairs the benchmark knows, in the order they run.
var PairNames = []string{"pg-pg", "maria-pg", "pg-maria", "pg-s3"}

// DefaultConfig has the shared scripts' defaults.
func DefaultConfig() Config {
	return Config{Rows: 2_000_000, Runs: 1, Pairs: PairNames, Par: 2, Environment: defaultEnvironment()}
}

// Pair is a source → target pair: Godwit's measurement and its anchors.
type Pair struct {
	Name    string
	Ours    key
	Anchors []anchor
	Primary int // index of the anchor ratios.map pairs Ours with

	// Alt, when set, is a second Godwit load of the pair with other task
	// settings, run after Ours when the benchmark is given none.
	Alt *alt

	pgSrc, pgDst, maria bool
	stream              string // the stream whose size gives Godwit's MB/s
	// ours runs Godwit's load of the pair: Ours, or with a, a's.
	ours func(ctx context.Context, b *bencher, run int, a *alt) (*Record, error)
}

// alt is a Godwit load with task settings of its own.
type alt struct {
	key      key
	label    string // what the settings do, for the report
	settings string
}

// pkAfterLoad is the task settings of a load that creates the table and
// adds its primary key after the rows, as pipe_1stream_then_pk does: the
// rows go into a table without indexes, in parts of the source's storage
// side by side.
const pkAfterLoad = `{"FullLoadSettings":{"TargetTablePrepMode":"DROP_AND_CREATE","CreatePkAfterFullLoad":true}}`

type anchor struct {
	key        key
	endsWithPK bool // the target ends with its primary key in place
	run        func(ctx context.Context, b *bencher, run int) (*Record, error)
}

// orderedAnchors is the primary anchor, then the others.
func (p *Pair) orderedAnchors() []anchor {
	out := []anchor{p.Anchors[p.Primary]}
	for i, a := range p.Anchors {
		if i != p.Primary {
			out = append(out, a)
		}
	}
	return out
}

func pairs(par int) map[string]*Pair {
	split := func(kind string) anchor {
		return anchor{key: key{"pg_copy", fmt.Sprintf("pipe_%dstreams_%srange", par, kind), "binary/pk"}, endsWithPK: true,
			run: func(ctx context.Context, b *bencher, run int) (*Record, error) {
				return b.pgPipeSplit(ctx, run, kind, variantPK)
			}}
	}
	return map[string]*Pair{
		"pg-pg": {
			Name: "pg-pg", Ours: key{"ours", "full_load_pg_pg", "pk"}, pgSrc: true, pgDst: true, stream: streamPGBinary,
			Anchors: []anchor{
				{key: key{"pg_copy", "pipe_1stream", "binary/pk"}, endsWithPK: true,
					run: func(ctx context.Context, b *bencher, run int) (*Record, error) { return b.pgPipe1(ctx, run, variantPK) }},
				{key: key{"pg_copy", "pipe_1stream", "binary/noidx"},
					run: func(ctx context.Context, b *bencher, run int) (*Record, error) {
						return b.pgPipe1(ctx, run, variantNoIdx)
					}},
				{key: key{"pg_copy", "pipe_1stream_then_pk", "binary/noidx+pk"}, endsWithPK: true,
					run: func(ctx context.Context, b *bencher, run int) (*Record, error) { return b.pgPipeThenPK(ctx, run) }},
				split("pk"),
				split("ctid"),
			},
			ours: func(ctx context.Context, b *bencher, run int, a *alt) (*Record, error) {
				return b.oursToPG(ctx, "pg-pg", run, a)
			},
			Alt: &alt{key: key{"ours", "full_load_pg_pg", "pk_after_load"}, label: "with CreatePkAfterFullLoad", settings: pkAfterLoad},
		},
		"maria-pg": {
			Name: "maria-pg", Ours: key{"ours", "full_load_maria_pg", "pk"}, maria: true, pgDst: true, stream: streamMariaBatch,
			Anchors: []anchor{{key: key{"maria_pg", "maria_to_pg_pipe", "batch|copy/pk"}, endsWithPK: true,
				run: func(ctx context.Context, b *bencher, run int) (*Record, error) { return b.mariaToPG(ctx, run) }}},
			ours: func(ctx context.Context, b *bencher, run int, a *alt) (*Record, error) {
				return b.oursToPG(ctx, "maria-pg", run, a)
			},
		},
		"pg-maria": {
			Name: "pg-maria", Ours: key{"ours", "full_load_pg_maria", "pk"}, pgSrc: true, maria: true, stream: streamPGMariaShaped,
			Anchors: []anchor{
				{key: key{"maria_pg", "pg_to_maria_load_data_local", "binlog_on"}, endsWithPK: true,
					run: func(ctx context.Context, b *bencher, run int) (*Record, error) { return b.pgToMaria(ctx, run, true) }},
				{key: key{"maria_pg", "pg_to_maria_load_data_local", "binlog_off"}, endsWithPK: true,
					run: func(ctx context.Context, b *bencher, run int) (*Record, error) { return b.pgToMaria(ctx, run, false) }},
			},
			ours: func(ctx context.Context, b *bencher, run int, _ *alt) (*Record, error) {
				return b.oursToMaria(ctx, run)
			},
		},
		"pg-s3": {
			Name: "pg-s3", Ours: key{"ours", "full_load_pg_file", "csv"}, pgSrc: true, stream: streamPGText,
			Anchors: []anchor{{key: key{"pg_copy", "src_copy_to_devnull", "text"},
				run: func(ctx context.Context, b *bencher, run int) (*Record, error) { return b.pgToDevNull(ctx, run) }}},
			ours: func(ctx context.Context, b *bencher, run int, _ *alt) (*Record, error) { return b.oursToS3(ctx, run) },
		},
	}
}

// bencher is the state of one benchmark.
type bencher struct {
	cfg     Config
	tools   tools
	workDir string
	pgSrc   *pgSide
	pgDst   *pgSide
	maria   *mariaSide
	g       *godwit
	watch   *cpuWatch
	bytes   map[string]int64
	logMu   sync.Mutex
}

func (b *bencher) logf(format string, args ...any) {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	fmt.Fprintf(b.cfg.Log, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (b *bencher) logRecord(r *Record) {
	extra := ""
	if r.Suite == "ours" {
		extra = fmt.Sprintf("  peak RSS %s MiB, table %.2fs", mib(r.PeakRSS), r.TableSecs)
	}
	if r.IndexBytes > 0 {
		extra += fmt.Sprintf("  indexes %s MiB", mib(r.IndexBytes))
	}
	b.logf("  %-8s %-28s %-16s run%-2d %8.2fs %8.0f rows/s %6.1f MB/s  cores ours %.2f foreign %.2f%s",
		r.Suite, r.Test, r.Variant, r.Run, r.Secs, r.RowsPerSec(), r.MBPerSec(), r.CoresOurs, r.CoresForeign, extra)
	b.logf("           CPU seconds: %s", formatCPU(r.CPU))
}

// Run runs the benchmark and returns its report. The servers, Godwit and
// the work directory are gone when it returns (unless Keep).
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Rows < 1 || cfg.Runs < 1 || cfg.Par < 1 {
		return nil, errors.New("rows, runs and par must be at least 1")
	}
	all := pairs(cfg.Par)
	var selected []*Pair
	for _, name := range cfg.Pairs {
		p, ok := all[name]
		if !ok {
			return nil, fmt.Errorf("unknown pair %q (known: %s)", name, strings.Join(PairNames, ", "))
		}
		if !slices.ContainsFunc(selected, func(q *Pair) bool { return q.Name == name }) {
			selected = append(selected, p)
		}
	}
	if len(selected) == 0 {
		return nil, errors.New("no pair selected")
	}
	var needPGSrc, needPGDst, needMaria bool
	for _, p := range selected {
		needPGSrc, needPGDst, needMaria = needPGSrc || p.pgSrc, needPGDst || p.pgDst, needMaria || p.maria
	}
	b := &bencher{cfg: cfg, bytes: map[string]int64{}}
	if b.tools, err = findTools(needMaria); err != nil {
		return nil, err
	}
	if b.workDir, err = os.MkdirTemp("", "godwit-bench-"); err != nil {
		return nil, err
	}
	defer func() { b.removeWorkDir(cfg.Keep, err) }()
	defer b.closeServers()
	if err := b.startServers(ctx, needPGSrc, needPGDst, needMaria); err != nil {
		return nil, err
	}

	// The source tables, filled concurrently (two different servers).
	began := time.Now()
	var wg sync.WaitGroup
	var fillErr [2]error
	if needPGSrc {
		wg.Add(1)
		go func() { defer wg.Done(); fillErr[0] = pgFill(ctx, b.pgSrc, cfg.Rows) }()
	}
	if needMaria && slices.ContainsFunc(selected, func(p *Pair) bool { return p.Name == "maria-pg" }) {
		wg.Add(1)
		go func() { defer wg.Done(); fillErr[1] = mariaFill(ctx, b.maria, cfg.Rows) }()
	}
	wg.Wait()
	if err := errors.Join(fillErr[:]...); err != nil {
		return nil, fmt.Errorf("generate the table: %w", err)
	}
	b.logf("generated %d rows in %s", cfg.Rows, time.Since(began).Round(time.Millisecond))
	if needPGSrc {
		var heap, idx string
		if err := b.pgSrc.queryRow(ctx, "SELECT pg_size_pretty(pg_table_size('t')), pg_size_pretty(pg_indexes_size('t'))", &heap, &idx); err == nil {
			b.logf("source table: %s heap+toast, %s pk", heap, idx)
		}
	}
	need := map[string]bool{}
	for _, p := range selected {
		need[p.stream] = true
	}
	if err := b.measureStreams(ctx, need); err != nil {
		return nil, err
	}

	// Warm-up, not recorded: the first big load on a fresh instance also
	// creates WAL segments (pg_copy.sh does the same).
	if needPGDst && needPGSrc {
		if err := b.resetPGDst(ctx, variantPK); err != nil {
			return nil, err
		}
		p := b.pgPipe(ctx, "", "binary")
		if err := runPipe(p[0], p[1]); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
		b.logf("warm-up load done")
	}

	logName, stopOurs, err := b.startOurs(ctx)
	if err != nil {
		return nil, err
	}
	defer stopOurs(&err)

	rep = &Report{Rows: cfg.Rows, Runs: cfg.Runs, Pairs: selected, Settings: cfg.TaskSettings}
	for run := 1; run <= cfg.Runs; run++ {
		b.logf("---- run %d/%d", run, cfg.Runs)
		for _, p := range selected {
			for _, a := range p.Anchors {
				r, err := a.run(ctx, b, run)
				if err != nil {
					return rep, err
				}
				r.At = time.Now()
				b.logRecord(r)
				rep.Records = append(rep.Records, r)
			}
			// Godwit's loads: Ours as in every sitting before, then Alt, so
			// that Alt's table (created by the task) never precedes Ours.
			loads := []*alt{nil}
			if p.Alt != nil && cfg.TaskSettings == "" {
				loads = append(loads, p.Alt)
			}
			for _, a := range loads {
				r, err := p.ours(ctx, b, run, a)
				if err != nil {
					name := p.Name
					if a != nil {
						name += " " + a.label
					}
					return rep, fmt.Errorf("%s: godwit: %w (log: %s)", name, err, logName)
				}
				r.At = time.Now()
				b.logRecord(r)
				rep.Records = append(rep.Records, r)
			}
		}
	}
	if cfg.Out != "" {
		if err := appendTSV(cfg.Out, rep.Records); err != nil {
			return rep, fmt.Errorf("write %s: %w", cfg.Out, err)
		}
		b.logf("%d lines appended to %s", len(rep.Records), cfg.Out)
	}
	return rep, nil
}

// removeWorkDir removes the work directory, unless keep or the run failed.
func (b *bencher) removeWorkDir(keep bool, failed error) {
	if keep || failed != nil {
		b.logf("work directory kept: %s", b.workDir)
		return
	}
	os.RemoveAll(b.workDir)
}

// startServers starts the servers needed, one after the other (they
// compete for the same cores), pgdst with the extra settings, and logs
// their settings; closeServers stops them.
func (b *bencher) startServers(ctx context.Context, needPGSrc, needPGDst, needMaria bool, dstExtra ...[2]string) error {
	b.watch = &cpuWatch{servers: b.serverPIDs}
	began := time.Now()
	var err error
	if needPGSrc {
		if b.pgSrc, err = startPG(ctx, "pgsrc", b.cfg.PGSharedBuffers, b.tools.psql); err != nil {
			return err
		}
	}
	if needPGDst {
		if b.pgDst, err = startPG(ctx, "pgdst", b.cfg.PGSharedBuffers, b.tools.psql, dstExtra...); err != nil {
			return err
		}
	}
	if needMaria {
		if b.maria, err = startMaria(ctx, b.cfg.MariaBufferPool, b.tools.mariadb); err != nil {
			return err
		}
	}
	b.logf("servers up in %s: %s", time.Since(began).Round(time.Millisecond), b.describeServers())
	for _, p := range []*pgSide{b.pgSrc, b.pgDst} {
		if p != nil {
			b.logf("%s settings: %s", p.name, p.settings(ctx))
		}
	}
	if b.maria != nil {
		b.logf("mariadb settings: %s", b.maria.settings(ctx))
	}
	return nil
}

// startOurs starts Godwit with its data directory and log in the work
// directory and creates its replication instance; stop ends both, setting
// *err to the failure to stop unless it holds one already.
func (b *bencher) startOurs(ctx context.Context) (logName string, stop func(err *error), err error) {
	logf, err := os.Create(filepath.Join(b.workDir, "godwit.log"))
	if err != nil {
		return "", nil, err
	}
	if b.g, err = startGodwit(ctx, filepath.Join(b.workDir, "data"), logf); err != nil {
		logf.Close()
		return "", nil, err
	}
	stop = func(err *error) {
		if cerr := b.g.close(); cerr != nil && *err == nil {
			*err = cerr
		}
		logf.Close()
	}
	if err := b.g.createInstance(ctx); err != nil {
		stop(&err)
		return "", nil, err
	}
	return logf.Name(), stop, nil
}

func (b *bencher) serverPIDs() map[string]int {
	pids := map[string]int{}
	for _, p := range []*pgSide{b.pgSrc, b.pgDst} {
		if p != nil {
			if pid := p.srv.PID(); pid > 0 {
				pids[p.name] = pid
			}
		}
	}
	if b.maria != nil {
		if pid := b.maria.srv.PID(); pid > 0 {
			pids["mariadb"] = pid
		}
	}
	return pids
}

func (b *bencher) describeServers() string {
	var parts []string
	for _, p := range []*pgSide{b.pgSrc, b.pgDst} {
		if p != nil {
			parts = append(parts, fmt.Sprintf("%s 127.0.0.1:%d", p.name, p.srv.Port))
		}
	}
	if b.maria != nil {
		parts = append(parts, fmt.Sprintf("mariadb 127.0.0.1:%d", b.maria.srv.Port))
	}
	return strings.Join(parts, ", ")
}

func (b *bencher) closeServers() {
	for _, p := range []*pgSide{b.pgSrc, b.pgDst} {
		if p != nil {
			if err := p.srv.Close(); err != nil {
				b.logf("stop %s: %v", p.name, err)
			}
		}
	}
	if b.maria != nil {
		if err := b.maria.srv.Close(); err != nil {
			b.logf("stop mariadb: %v", err)
		}
	}
}

// Godwit's runs.

// endpoints returns the source and target endpoint ARNs of a pair and the
// task's table mappings, creating the endpoints on first use.
func (b *bencher) endpoints(ctx context.Context, pair string) (src, tgt, mappings string, err error) {
	g := b.g
	pgEP := func(p *pgSide, typ types.ReplicationEndpointTypeValue) (string, error) {
		return g.endpoint(ctx, p.name, dbEndpoint("postgres", typ, p.srv.Host, p.srv.Port, p.srv.User, p.srv.Password, pgDB))
	}
	mariaEP := func(name, db string, typ types.ReplicationEndpointTypeValue) (string, error) {
		s := b.maria.srv
		return g.endpoint(ctx, name, dbEndpoint("mariadb", typ, s.Host, s.Port, s.User, s.Password, db))
	}
	var e1, e2 error
	switch pair {
	case "pg-pg":
		src, e1 = pgEP(b.pgSrc, types.ReplicationEndpointTypeValueSource)
		tgt, e2 = pgEP(b.pgDst, types.ReplicationEndpointTypeValueTarget)
		mappings = tableMappings("public", "")
	case "maria-pg":
		src, e1 = mariaEP("mariasrc", mariaSrcDB, types.ReplicationEndpointTypeValueSource)
		tgt, e2 = pgEP(b.pgDst, types.ReplicationEndpointTypeValueTarget)
		mappings = tableMappings(mariaSrcDB, "public")
	case "pg-maria":
		src, e1 = pgEP(b.pgSrc, types.ReplicationEndpointTypeValueSource)
		tgt, e2 = mariaEP("mariadst", mariaDstDB, types.ReplicationEndpointTypeValueTarget)
		mappings = tableMappings("public", mariaDstDB)
	case "pg-s3":
		src, e1 = pgEP(b.pgSrc, types.ReplicationEndpointTypeValueSource)
		tgt, e2 = g.endpoint(ctx, "lake", &dmssdk.CreateEndpointInput{EngineName: aws.String("s3"), EndpointType: types.ReplicationEndpointTypeValueTarget,
			S3Settings: &types.S3Settings{BucketName: aws.String(s3Bucket), BucketFolder: aws.String(s3Folder),
				ServiceAccessRoleArn: aws.String("arn:aws:iam::000000000000:role/dms-bench")}})
		mappings = tableMappings("public", "")
	default:
		return "", "", "", fmt.Errorf("unknown pair %q", pair)
	}
	return src, tgt, mappings, errors.Join(e1, e2)
}

// The local bucket and folder of the S3 target.
const (
	s3Bucket = "bench"
	s3Folder = "pg"
)

// oursRun times one Godwit full load: the task is created (untimed), then
// the clock runs from StartReplicationTask until DescribeReplicationTasks
// says stopped, with the RSS sampler, the CPU window and the profiles
// around exactly that.
// With a, the load is a's, with a's task settings.
func (b *bencher) oursRun(ctx context.Context, p *Pair, a *alt, run int, prepare func() error, verify func(*Record) error) (*Record, error) {
	src, tgt, mappings, err := b.endpoints(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	if err := prepare(); err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	k, settings := p.Ours, b.cfg.TaskSettings
	if a != nil {
		k, settings = a.key, a.settings
	}
	arn, err := b.g.createTask(ctx, fmt.Sprintf("bench-%s-%d", p.Name, run), types.MigrationTypeValueFullLoad, src, tgt, mappings, settings)
	if err != nil {
		return nil, err
	}
	defer b.g.deleteTask(context.WithoutCancel(ctx), arn)
	b.watch.waitQuiet(ctx, b.cfg.QuietCores, b.cfg.QuietMaxWait, b.logf)

	rec := &Record{Suite: k.suite, Test: k.test, Variant: k.variant, Run: run, Rows: b.cfg.Rows,
		Bytes: b.bytes[p.stream], Settings: settings}
	var cpuFile *os.File
	if b.cfg.CPUProfile != "" {
		rec.ProfileOut = fmt.Sprintf("%s.%s.%s.run%d.pprof", b.cfg.CPUProfile, p.Name, k.variant, run)
		if cpuFile, err = os.Create(rec.ProfileOut); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(cpuFile); err != nil {
			cpuFile.Close()
			return nil, err
		}
	}
	rss := startRSS()
	m := b.watch.mark()
	t0 := time.Now()
	_, runErr := b.g.runTask(ctx, arn)
	rec.Secs = time.Since(t0).Seconds()
	rec.CoresOurs, rec.CoresForeign, rec.CPU = b.watch.breakdown(m)
	rec.PeakRSS, rec.RSSHow = rss.Stop()
	if cpuFile != nil {
		pprof.StopCPUProfile()
		if err := cpuFile.Close(); err != nil && runErr == nil {
			runErr = err
		}
	}
	if b.cfg.MemProfile != "" {
		if err := writeHeapProfile(fmt.Sprintf("%s.%s.%s.run%d.pprof", b.cfg.MemProfile, p.Name, k.variant, run)); err != nil && runErr == nil {
			runErr = err
		}
	}
	if runErr != nil {
		return nil, runErr
	}
	ts, err := b.g.tableStats(ctx, arn)
	if err != nil {
		return nil, err
	}
	if ts.FullLoadRows != b.cfg.Rows {
		return nil, fmt.Errorf("the table statistics say %d rows loaded, expected %d", ts.FullLoadRows, b.cfg.Rows)
	}
	if ts.FullLoadStartTime != nil && ts.FullLoadEndTime != nil {
		rec.TableSecs = ts.FullLoadEndTime.Sub(*ts.FullLoadStartTime).Seconds()
	}
	if err := verify(rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// formatCPU lists CPU seconds by component, this process first.
func formatCPU(secs map[string]float64) string {
	names := make([]string, 0, len(secs))
	for k := range secs {
		if k != selfName {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	names = append([]string{selfName}, names...)
	parts := make([]string, 0, len(names))
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, secs[k]))
	}
	return strings.Join(parts, ", ")
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// oursToPG loads into the PostgreSQL target's table t, recreated with its
// primary key before the run exactly as for the raw pipe; the task's
// default TargetTablePrepMode (TRUNCATE_BEFORE_LOAD) keeps it (a's
// settings may create it again). The table ends with its key either way.
func (b *bencher) oursToPG(ctx context.Context, pair string, run int, a *alt) (*Record, error) {
	p := pairs(b.cfg.Par)[pair]
	return b.oursRun(ctx, p, a, run,
		func() error { return b.resetPGDst(ctx, variantPK) },
		func(r *Record) error { return errors.Join(b.checkPGDst(ctx, r), b.checkPGDstKey(ctx)) })
}

func (b *bencher) oursToMaria(ctx context.Context, run int) (*Record, error) {
	p := pairs(b.cfg.Par)["pg-maria"]
	return b.oursRun(ctx, p, nil, run,
		func() error { return b.resetMariaDst(ctx) },
		func(*Record) error { return b.checkMariaDst(ctx) })
}

// oursToS3 loads CSV files into a local bucket in Godwit's data directory
// (the same disk as the servers); the folder is emptied before each run.
func (b *bencher) oursToS3(ctx context.Context, run int) (*Record, error) {
	p := pairs(b.cfg.Par)["pg-s3"]
	dir := filepath.Join(b.g.dataDir, "buckets", s3Bucket, s3Folder)
	return b.oursRun(ctx, p, nil, run,
		func() error {
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			return b.pgSrc.checkpoint(ctx)
		},
		func(*Record) error {
			n, files, err := countLines(filepath.Join(dir, "public", "t"))
			if err == nil && n != b.cfg.Rows {
				err = fmt.Errorf("the bucket holds %d lines in %d files, expected %d rows", n, files, b.cfg.Rows)
			}
			return err
		})
}

// countLines counts the newlines of the files in dir (the dataset has no
// newline inside a value, so a line is a row).
func countLines(dir string) (lines int64, files int, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, err
	}
	buf := make([]byte, 1<<20)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return 0, files, err
		}
		files++
		for {
			n, rerr := f.Read(buf)
			lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				f.Close()
				return lines, files, rerr
			}
		}
		f.Close()
	}
	return lines, files, nil
}
