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

const benchUsage = `Usage: godwit bench full-load [flags]

Starts throwaway PostgreSQL (source and target, two servers) and MariaDB
servers from the installed binaries, generates the table of
../shared/bench/lib.sh, measures the raw pipes of the stock clients (psql,
mariadb) and then Godwit's own full load of the same table, driven through
the DMS API with the Go SDK, in the same run. Prints rows/s, MB/s, the ratio
to the raw pipe and the peak RSS of this process.

Flags:
`

func benchCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "full-load" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, benchUsage+"  run \"godwit bench full-load --help\"\n")
			return nil
		}
		fmt.Fprint(stderr, benchUsage+"  run \"godwit bench full-load --help\"\n")
		return errors.New("bench: the only benchmark is full-load")
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
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of each Godwit run to `PREFIX`.<pair>.run<N>.pprof")
	fs.StringVar(&cfg.MemProfile, "memprofile", "", "write an allocation profile after each Godwit run to `PREFIX`.<pair>.run<N>.pprof")
	fs.StringVar(&cfg.TaskSettings, "task-settings", "", "ReplicationTaskSettings JSON sent with every task (default: none, DMS's defaults)")
	fs.StringVar(&cfg.PGSharedBuffers, "pg-shared-buffers", cfg.PGSharedBuffers, "shared_buffers of the PostgreSQL servers")
	fs.Int64Var(&cfg.MariaBufferPool, "maria-buffer-pool", cfg.MariaBufferPool, "innodb_buffer_pool_size of the MariaDB server, in bytes")
	fs.Float64Var(&cfg.QuietCores, "quiet-cores", cfg.QuietCores, "before each measurement, wait for other processes to use fewer cores than this")
	fs.DurationVar(&cfg.QuietMaxWait, "quiet-max-wait", cfg.QuietMaxWait, "longest wait for a quiet machine")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the work directory (Godwit's data directory and log)")
	markdown := fs.Bool("markdown", false, "also print the figures as a Markdown table")
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	cfg.Pairs = nil
	for _, p := range strings.Split(pairs, ",") {
		if p = strings.TrimSpace(p); p != "" {
			cfg.Pairs = append(cfg.Pairs, p)
		}
	}
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
