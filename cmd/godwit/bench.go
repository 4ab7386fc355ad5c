package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/godwit-dms/godwit/internal/bench"
)

const benchUsage = `Usage: godwit bench full-load|cdc [flags]

  full-load  the full load beside the raw COPY pipes (below)
  cdc        change processing beside the CDC limits ("godwit bench cdc --help")

godwit bench full-load [flags]

Starts throwaway PostgreSQL (source and target, two servers) and MariaDB
servers from the installed binaries, generates the table of
../shared/bench/lib.sh, measures the raw pipes of the stock clients (psql,
mariadb) and then Godwit's own full load of the same table, driven through
the DMS API with the Go SDK, in the same run. Prints rows/s, MB/s, the ratio
to the raw pipe and the peak RSS of this process.

Flags:
`

func benchCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "cdc" {
		return benchCDCCmd(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "full-load" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, benchUsage+"  run \"godwit bench full-load --help\"\n")
			return nil
		}
		fmt.Fprint(stderr, benchUsage+"  run \"godwit bench full-load --help\"\n")
		return errors.New("bench: the benchmarks are full-load and cdc")
	}
	cfg := bench.DefaultConfig()
	fs := flag.NewFlagSet("bench full-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var pairs string
	fs.Int64Var(&cfg.Rows, "rows", cfg.Rows, "rows in the source table")
	fs.IntVar(&cfg.Runs, "runs", cfg.Runs, "repetitions of every measurement (medians are reported)")
	fs.StringVar(&pairs, "pairs", strings.Join(bench.PairNames, ","), "comma-separated pairs to measure")
	fs.IntVar(&cfg.Par, "par", cfg.Par, "streams of the split raw PostgreSQL pipes")
	fs.StringVar(&cfg.Out, "out", "", "append the results to this results.tsv (../shared/bench format)")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of each Godwit run to `PREFIX`.<pair>.<variant>.run<N>.pprof")
	fs.StringVar(&cfg.MemProfile, "memprofile", "", "write an allocation profile after each Godwit run to `PREFIX`.<pair>.<variant>.run<N>.pprof")
	fs.StringVar(&cfg.TaskSettings, "task-settings", "", "ReplicationTaskSettings JSON sent with every task (default: none, DMS's defaults; when set, pg-pg's second load, with CreatePkAfterFullLoad, is not run)")
	environmentFlags(fs, &cfg.Environment)
	markdown := fs.Bool("markdown", false, "also print the figures as a Markdown table")
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
	}
	if done, err := parseFlags(fs, args[1:]); done || err != nil {
		return err
	}
	cfg.Pairs = bench.SplitList(pairs)
	cfg.Log = stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	began := time.Now()
	rep, err := bench.Run(ctx, cfg)
	if rep != nil && len(rep.Records) > 0 {
		rep.Print(stdout)
		if *markdown {
			fmt.Fprint(stdout, "\n"+rep.Markdown())
		}
	}
	fmt.Fprintf(stderr, "bench: %s in all\n", time.Since(began).Round(time.Second))
	return err
}

const benchCDCUsage = `Usage: godwit bench cdc [flags]

Starts throwaway PostgreSQL (source and target) and MariaDB servers, runs a
pgbench-style mixed workload of row changes on the source and measures a
Godwit cdc task (driven through the DMS API) applying them to PostgreSQL,
with transactional and batch apply, beside the limits of the stock tools
measured in the same run (pg_recvlogical decoding, COPY into a staging table
+ UPDATE ... FROM, pgbench row-at-a-time). Modes: backlog (changes made while
the task is stopped, then the catch-up timed), live (workload unpaced while
the task runs) and rate (workload paced at --rate; p50/p99 source-commit to
target-commit latency).

Flags:
`

func benchCDCCmd(args []string, stdout, stderr io.Writer) error {
	cfg := bench.DefaultCDCConfig()
	fs := flag.NewFlagSet("bench cdc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pairs, applies, modes := strings.Join(cfg.Pairs, ","), strings.Join(cfg.Applies, ","), strings.Join(cfg.Modes, ",")
	fs.Int64Var(&cfg.Rows, "rows", cfg.Rows, "initial rows of the source table")
	fs.Int64Var(&cfg.Changes, "changes", cfg.Changes, "row changes of each measured run")
	fs.IntVar(&cfg.Runs, "runs", cfg.Runs, "repetitions of every measurement (medians are reported)")
	fs.StringVar(&pairs, "pairs", pairs, "comma-separated pairs to measure")
	fs.StringVar(&applies, "apply", applies, "comma-separated apply modes (transactional, batch)")
	fs.StringVar(&modes, "modes", modes, "comma-separated modes (backlog, live, rate)")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "offered changes/s of the rate mode")
	fs.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent workload sessions on the source")
	fs.IntVar(&cfg.TxSize, "tx-size", cfg.TxSize, "row changes per source transaction")
	fs.StringVar(&cfg.Mix, "mix", cfg.Mix, "the workload's changes in percent")
	fs.IntVar(&cfg.Hot, "hot", 0, "when > 0, every update goes to one of this many rows (net changes collapse in batch apply)")
	fs.IntVar(&cfg.ApplyBatch, "apply-batch", cfg.ApplyBatch, "rows per batch of the staging-apply limit")
	fs.DurationVar(&cfg.LimitSecs, "limit-time", cfg.LimitSecs, "duration of each pgbench limit")
	fs.BoolVar(&cfg.NoLimits, "no-limits", false, "skip the limits")
	fs.DurationVar(&cfg.TargetStall, "target-stall", 0, "hold an exclusive lock on the target table for this long from each backlog run's resume")
	fs.StringVar(&cfg.TaskSettings, "task-settings", "", "ReplicationTaskSettings JSON sent with every task (BatchApplyEnabled is set by --apply)")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of each timed Godwit window to `PREFIX`.<pair>.<apply>.<mode>.run<N>.pprof")
	environmentFlags(fs, &cfg.Environment)
	markdown := fs.Bool("markdown", false, "also print the figures as Markdown tables")
	fs.Usage = func() {
		fmt.Fprint(stderr, benchCDCUsage)
		fs.PrintDefaults()
	}
	if done, err := parseFlags(fs, args); done || err != nil {
		return err
	}
	cfg.Pairs, cfg.Applies, cfg.Modes = bench.SplitList(pairs), bench.SplitList(applies), bench.SplitList(modes)
	cfg.Log = stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	began := time.Now()
	rep, err := bench.RunCDC(ctx, cfg)
	if rep != nil && (len(rep.Results) > 0 || len(rep.Limits) > 0) {
		rep.Print(stdout)
		if *markdown {
			fmt.Fprint(stdout, "\n"+rep.Markdown())
		}
	}
	fmt.Fprintf(stderr, "bench: %s in all\n", time.Since(began).Round(time.Second))
	return err
}

// environmentFlags are the flags of the benchmark servers, the quiet wait and the work directory.
func environmentFlags(fs *flag.FlagSet, env *bench.Environment) {
	fs.StringVar(&env.PGSharedBuffers, "pg-shared-buffers", env.PGSharedBuffers, "shared_buffers of the PostgreSQL servers")
	fs.Int64Var(&env.MariaBufferPool, "maria-buffer-pool", env.MariaBufferPool, "innodb_buffer_pool_size of the MariaDB server, in bytes")
	fs.Float64Var(&env.QuietCores, "quiet-cores", env.QuietCores, "before each measurement, wait for other processes to use fewer cores than this")
	fs.DurationVar(&env.QuietMaxWait, "quiet-max-wait", env.QuietMaxWait, "longest wait for a quiet machine")
	fs.BoolVar(&env.Keep, "keep", false, "keep the work directory (Godwit's data directory and log)")
}

// parseFlags parses args; done is true after --help. Arguments left over
// are an error.
func parseFlags(fs *flag.FlagSet, args []string) (done bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, err
	}
	if fs.NArg() > 0 {
		return false, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return false, nil
}
