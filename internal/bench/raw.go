package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// The raw limits ("anchors"): the stock clients moving the same table, as
// ../shared/bench/pg_copy.sh and maria_pg.sh time them, measured here in the
// same sitting as Godwit's own load.

// runPipe runs `src | dst` with a kernel pipe between the two processes
// (nothing of this process sits in the stream) and fails if either fails,
// like bash -o pipefail.
func runPipe(src, dst *exec.Cmd) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	var srcErr, dstErr bytes.Buffer
	src.Stdout, src.Stderr = w, &srcErr
	dst.Stdin, dst.Stderr = r, &dstErr
	if dst.Stdout == nil {
		dst.Stdout = &dstErr
	}
	if err := src.Start(); err != nil {
		r.Close()
		w.Close()
		return err
	}
	if err := dst.Start(); err != nil {
		w.Close()
		r.Close()
		src.Process.Kill()
		src.Wait()
		return err
	}
	// The children hold their ends now.
	w.Close()
	r.Close()
	errSrc := src.Wait()
	errDst := dst.Wait()
	var errs []error
	if errSrc != nil {
		errs = append(errs, fmt.Errorf("%s: %w: %s", cmdName(src), errSrc, strings.TrimSpace(srcErr.String())))
	}
	if errDst != nil {
		errs = append(errs, fmt.Errorf("%s: %w: %s", cmdName(dst), errDst, strings.TrimSpace(dstErr.String())))
	}
	return errors.Join(errs...)
}

// runPipes runs several pipes at once and waits for all.
func runPipes(pipes [][2]*exec.Cmd) error {
	errs := make([]error, len(pipes))
	var wg sync.WaitGroup
	for i, p := range pipes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = runPipe(p[0], p[1])
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// runCmd runs a command with its output discarded (stdout to out when given).
func runCmd(cmd *exec.Cmd) error {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", cmdName(cmd), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// runToDevNull runs a command with its standard output on /dev/null, as
// `cmd > /dev/null` does (no copy through this process).
func runToDevNull(cmd *exec.Cmd) error {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	cmd.Stdout = null
	return runCmd(cmd)
}

// streamBytes runs a command and counts the bytes of its standard output
// (untimed: the size of a stream, for MB/s).
func streamBytes(cmd *exec.Cmd) (int64, error) {
	var c countingWriter
	cmd.Stdout = &c
	err := runCmd(cmd)
	return c.n, err
}

func cmdName(cmd *exec.Cmd) string {
	name := cmd.Path
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	for _, a := range cmd.Args[1:] {
		if strings.HasPrefix(a, "-p") && len(a) > 2 { // a password
			continue
		}
		if strings.Contains(a, "SELECT") || strings.Contains(a, "COPY") || strings.Contains(a, "LOAD") {
			return name + " " + abbreviate(a)
		}
	}
	return name
}

// pgPipeSQL is the two halves of a PostgreSQL → PostgreSQL COPY pipe of the
// query (the whole table when empty).
func pgPipeSQL(query, format string) (out, in string) {
	src := "t"
	if query != "" {
		src = "(" + query + ")"
	}
	return fmt.Sprintf("COPY %s TO STDOUT (FORMAT %s)", src, format), fmt.Sprintf("COPY t FROM STDIN (FORMAT %s)", format)
}

// pgPipe is `psql src COPY TO STDOUT | psql dst COPY FROM STDIN`.
func (b *bencher) pgPipe(ctx context.Context, query, format string) [2]*exec.Cmd {
	out, in := pgPipeSQL(query, format)
	return [2]*exec.Cmd{b.pgSrc.psql(ctx, out), b.pgDst.psql(ctx, in)}
}

// pgSplitQueries cuts the table into n key ranges or n block (ctid) ranges,
// as pg_copy.sh's pipe_Nstreams_pkrange / _ctidrange do.
func (b *bencher) pgSplitQueries(ctx context.Context, split string, n int) ([]string, error) {
	var maxID, pages int64
	if err := b.pgSrc.queryRow(ctx, "SELECT max(id), pg_relation_size('t') / current_setting('block_size')::int FROM t", &maxID, &pages); err != nil {
		return nil, err
	}
	qs := make([]string, n)
	for i := range n {
		if split == "pk" {
			lo, hi := maxID*int64(i)/int64(n)+1, maxID*int64(i+1)/int64(n)
			qs[i] = fmt.Sprintf("SELECT * FROM t WHERE id BETWEEN %d AND %d", lo, hi)
			continue
		}
		lo, hi := pages*int64(i)/int64(n), pages*int64(i+1)/int64(n)
		if i == n-1 {
			hi = pages + 1000000
		}
		qs[i] = fmt.Sprintf("SELECT * FROM t WHERE ctid >= '(%d,0)'::tid AND ctid < '(%d,0)'::tid", lo, hi)
	}
	return qs, nil
}

// resetPGDst recreates the target table and checkpoints both PostgreSQL
// servers (pg_copy.sh's reset_dst and its CHECKPOINT before each round).
func (b *bencher) resetPGDst(ctx context.Context, v pgVariant) error {
	if b.pgSrc != nil {
		if err := b.pgSrc.checkpoint(ctx); err != nil {
			return err
		}
	}
	if err := pgCreateTable(ctx, b.pgDst, v); err != nil {
		return err
	}
	return b.pgDst.checkpoint(ctx)
}

// resetMariaDst recreates the MariaDB target table (maria_pg.sh's reset_maria_dst).
func (b *bencher) resetMariaDst(ctx context.Context) error {
	if b.pgSrc != nil {
		if err := b.pgSrc.checkpoint(ctx); err != nil {
			return err
		}
	}
	if err := mariaCreateTable(ctx, b.maria, mariaDstDB); err != nil {
		return err
	}
	return b.maria.exec(ctx, "", "FLUSH TABLES")
}

// checkPGDst checks the PostgreSQL target's row count and records the size
// of its table's indexes in rec.
func (b *bencher) checkPGDst(ctx context.Context, rec *Record) error {
	n, err := b.pgDst.count(ctx)
	if err == nil && n != b.cfg.Rows {
		err = fmt.Errorf("the PostgreSQL target has %d rows, expected %d", n, b.cfg.Rows)
	}
	if err == nil {
		err = b.pgDst.queryRow(ctx, "SELECT pg_indexes_size('t')", &rec.IndexBytes)
	}
	return err
}

// checkPGDstKey checks that the target table ends with its primary key.
func (b *bencher) checkPGDstKey(ctx context.Context) error {
	var key string
	err := b.pgDst.queryRow(ctx, "SELECT coalesce((SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 't'::regclass AND contype = 'p'), '')", &key)
	if err == nil && key != "PRIMARY KEY (id)" {
		err = fmt.Errorf("the PostgreSQL target's table ends with key %q, not PRIMARY KEY (id)", key)
	}
	return err
}

func (b *bencher) checkMariaDst(ctx context.Context) error {
	n, err := b.maria.count(ctx, mariaDstDB)
	if err == nil && n != b.cfg.Rows {
		err = fmt.Errorf("the MariaDB target has %d rows, expected %d", n, b.cfg.Rows)
	}
	return err
}

// measure is one timed raw run: prepare (untimed), wait for a quiet
// machine, time fn with the CPU window around it, verify (untimed), which
// may add what it finds to the record.
func (b *bencher) measure(ctx context.Context, k key, run int, bytes int64, prepare, fn func() error, verify func(*Record) error) (*Record, error) {
	if prepare != nil {
		if err := prepare(); err != nil {
			return nil, fmt.Errorf("%s: prepare: %w", k, err)
		}
	}
	b.watch.waitQuiet(ctx, b.cfg.QuietCores, b.cfg.QuietMaxWait, b.logf)
	m := b.watch.mark()
	t0 := time.Now()
	err := fn()
	secs := time.Since(t0).Seconds()
	ours, foreign, cpu := b.watch.breakdown(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k, err)
	}
	rec := &Record{Suite: k.suite, Test: k.test, Variant: k.variant, Run: run, Rows: b.cfg.Rows, Bytes: bytes,
		Secs: secs, CoresOurs: ours, CoresForeign: foreign, CPU: cpu}
	if verify != nil {
		if err := verify(rec); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	return rec, nil
}

// The anchors. Each returns its record; the key is the shared scripts' name.

func (b *bencher) pgPipe1(ctx context.Context, run int, v pgVariant) (*Record, error) {
	k := key{"pg_copy", "pipe_1stream", "binary/" + string(v)}
	return b.measure(ctx, k, run, b.bytes[streamPGBinary],
		func() error { return b.resetPGDst(ctx, v) },
		func() error {
			p := b.pgPipe(ctx, "", "binary")
			return runPipe(p[0], p[1])
		},
		func(r *Record) error { return b.checkPGDst(ctx, r) })
}

// pgPipeThenPK is the heap-only load followed by ADD PRIMARY KEY: the
// load-then-index way to end with the primary key in place (pg_copy.sh
// times it with two more indexes as pipe_1stream_then_index).
func (b *bencher) pgPipeThenPK(ctx context.Context, run int) (*Record, error) {
	k := key{"pg_copy", "pipe_1stream_then_pk", "binary/noidx+pk"}
	return b.measure(ctx, k, run, b.bytes[streamPGBinary],
		func() error { return b.resetPGDst(ctx, variantNoIdx) },
		func() error {
			p := b.pgPipe(ctx, "", "binary")
			if err := runPipe(p[0], p[1]); err != nil {
				return err
			}
			return runCmd(b.pgDst.psql(ctx, "ALTER TABLE t ADD PRIMARY KEY (id)"))
		},
		func(r *Record) error { return b.checkPGDst(ctx, r) })
}

func (b *bencher) pgPipeSplit(ctx context.Context, run int, split string, v pgVariant) (*Record, error) {
	par := b.cfg.Par
	k := key{"pg_copy", fmt.Sprintf("pipe_%dstreams_%srange", par, split), "binary/" + string(v)}
	var qs []string
	return b.measure(ctx, k, run, b.bytes[streamPGBinary],
		func() error {
			var err error
			if qs, err = b.pgSplitQueries(ctx, split, par); err != nil {
				return err
			}
			return b.resetPGDst(ctx, v)
		},
		func() error {
			pipes := make([][2]*exec.Cmd, len(qs))
			for i, q := range qs {
				pipes[i] = b.pgPipe(ctx, q, "binary")
			}
			return runPipes(pipes)
		},
		func(r *Record) error { return b.checkPGDst(ctx, r) })
}

func (b *bencher) mariaToPG(ctx context.Context, run int) (*Record, error) {
	k := key{"maria_pg", "maria_to_pg_pipe", "batch|copy/pk"}
	return b.measure(ctx, k, run, b.bytes[streamMariaBatch],
		func() error { return b.resetPGDst(ctx, variantPK) },
		func() error {
			return runPipe(b.maria.client(ctx, mariaSrcDB, "--batch", "--quick", "--skip-column-names", "-e", mariaSelect),
				b.pgDst.psql(ctx, "COPY t FROM STDIN (FORMAT text, NULL 'NULL')"))
		},
		func(r *Record) error { return b.checkPGDst(ctx, r) })
}

func (b *bencher) pgToMaria(ctx context.Context, run int, binlog bool) (*Record, error) {
	variant, pre := "binlog_on", ""
	if !binlog {
		variant, pre = "binlog_off", "SET SESSION sql_log_bin=0; "
	}
	k := key{"maria_pg", "pg_to_maria_load_data_local", variant}
	return b.measure(ctx, k, run, b.bytes[streamPGMariaShaped],
		func() error { return b.resetMariaDst(ctx) },
		func() error {
			return runPipe(b.pgSrc.psql(ctx, "COPY ("+pgSelectForMaria+") TO STDOUT"),
				b.maria.client(ctx, mariaDstDB, "--local-infile=1", "-e", pre+"LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE t"))
		},
		func(*Record) error { return b.checkMariaDst(ctx) })
}

func (b *bencher) pgToDevNull(ctx context.Context, run int) (*Record, error) {
	k := key{"pg_copy", "src_copy_to_devnull", "text"}
	return b.measure(ctx, k, run, b.bytes[streamPGText],
		func() error { return b.pgSrc.checkpoint(ctx) },
		func() error { return runToDevNull(b.pgSrc.psql(ctx, "COPY t TO STDOUT (FORMAT text)")) },
		nil)
}

// Streams whose sizes give the MB/s figures.
const (
	streamPGBinary      = "pg binary COPY"
	streamPGText        = "pg text COPY"
	streamPGMariaShaped = "pg text COPY shaped for MariaDB"
	streamMariaBatch    = "mariadb --batch"
)

// measureStreams measures, untimed, the size of each stream the pairs use.
func (b *bencher) measureStreams(ctx context.Context, need map[string]bool) error {
	cmds := map[string]func() *exec.Cmd{
		streamPGBinary:      func() *exec.Cmd { return b.pgSrc.psql(ctx, "COPY t TO STDOUT (FORMAT binary)") },
		streamPGText:        func() *exec.Cmd { return b.pgSrc.psql(ctx, "COPY t TO STDOUT (FORMAT text)") },
		streamPGMariaShaped: func() *exec.Cmd { return b.pgSrc.psql(ctx, "COPY ("+pgSelectForMaria+") TO STDOUT") },
		streamMariaBatch: func() *exec.Cmd {
			return b.maria.client(ctx, mariaSrcDB, "--batch", "--quick", "--skip-column-names", "-e", mariaSelect)
		},
	}
	for _, name := range []string{streamPGBinary, streamPGText, streamPGMariaShaped, streamMariaBatch} {
		if !need[name] {
			continue
		}
		n, err := streamBytes(cmds[name]())
		if err != nil {
			return fmt.Errorf("size of the %s stream: %w", name, err)
		}
		b.bytes[name] = n
		b.logf("%s stream: %d bytes (%.0f bytes/row)", name, n, float64(n)/float64(b.cfg.Rows))
	}
	return nil
}
