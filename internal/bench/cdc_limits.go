package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The CDC limits, measured like ../shared/bench/pg_cdc.sh does with the
// stock PostgreSQL tools, in the same sitting as Godwit's runs:
//
//   - decode: pg_recvlogical draining a pgoutput slot that holds the
//     workload's changes (to /dev/null);
//   - staging apply: the target absorbing distinct-row updates as COPY into a
//     temporary staging table plus one UPDATE ... FROM per batch (psql);
//   - row at a time: pgbench updating one row per statement, 100 statements
//     per transaction with and without libpq's pipeline mode, and one per
//     autocommit transaction.

// Limit keys (suite pg_cdc, as results.tsv names them).
var (
	limitDecode   = key{"pg_cdc", "decode_pg_recvlogical", "pgoutput_v1"}
	limitTx100    = key{"pg_cdc", "apply_pgbench", "row_tx100"}
	limitPipeline = key{"pg_cdc", "apply_pgbench", "row_tx100_pipelined"}
	limitRow      = key{"pg_cdc", "apply_pgbench", "row_autocommit_synccommit_on"}
)

func limitStaging(batch int) key {
	return key{"pg_cdc", "apply_copy_staging", fmt.Sprintf("update_from_batch%d", batch)}
}

// pgTool is a PostgreSQL client program next to psql.
func (b *bencher) pgTool(name string) string { return filepath.Join(filepath.Dir(b.tools.psql), name) }

// pgEnv is the environment of a PostgreSQL client program.
func (p *pgSide) env() []string {
	return append(os.Environ(), "PGPASSWORD="+p.srv.Password, "PGTZ=UTC", "PGSSLMODE=disable")
}

// psqlFile is psql running a script file on the benchmark database.
func (p *pgSide) psqlFile(ctx context.Context, path string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, p.psqlB, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", p.conninfo(), "-f", path)
	cmd.Env = p.env()
	return cmd
}

// The slot and publication the decode limit reads.
const (
	rawSlot = "godwit_bench_raw"
	rawPub  = "godwit_bench_raw"
)

// prepareDecodeLimit creates the slot the decode limit drains; it must
// exist before the changes it is to read are made.
func (b *bencher) prepareDecodeLimit(ctx context.Context) error {
	var n int
	if err := b.pgSrc.queryRow(ctx, "SELECT count(*) FROM pg_publication WHERE pubname = '"+rawPub+"'", &n); err != nil {
		return err
	}
	if n == 0 {
		if err := b.pgSrc.exec(ctx, "CREATE PUBLICATION "+rawPub+" FOR TABLE t"); err != nil {
			return err
		}
	}
	return b.pgSrc.exec(ctx, "SELECT pg_create_logical_replication_slot('"+rawSlot+"', 'pgoutput')")
}

// decodeLimit times pg_recvlogical reading every change the slot holds
// (changes of them) up to a logical message written now, then drops the slot.
func (b *bencher) decodeLimit(ctx context.Context, run int, changes int64) (*Record, error) {
	var endpos string
	if err := b.pgSrc.queryRow(ctx, "SELECT pg_logical_emit_message(false, 'godwit-bench', 'end')::text", &endpos); err != nil {
		return nil, err
	}
	defer b.pgSrc.exec(context.WithoutCancel(ctx), "SELECT pg_drop_replication_slot('"+rawSlot+"')")
	rec, err := b.measure(ctx, limitDecode, run, 0, nil, func() error {
		cmd := exec.CommandContext(ctx, b.pgTool("pg_recvlogical"), "-d", b.pgSrc.conninfo(), "--slot", rawSlot, "--start", "--no-loop",
			"--endpos", endpos, "-o", "proto_version=1", "-o", "publication_names="+rawPub, "-f", os.DevNull)
		cmd.Env = b.pgSrc.env()
		return runCmd(cmd)
	}, nil)
	if rec != nil {
		rec.Rows = changes
	}
	return rec, err
}

// setAll is the SET list of an update that writes every non-key column
// from the row s.
const setAll = "account_id = s.account_id, qty = s.qty, version = s.version, code = s.code, note = s.note, amount = s.amount, created_at = s.created_at, active = s.active, attrs = s.attrs"

// stagingLimit times n distinct-row updates applied to the target's t in
// batches of batch rows: each batch is COPYed into a temporary table and
// applied with one UPDATE ... FROM, in its own transaction.
func (b *bencher) stagingLimit(ctx context.Context, run int, n int64, batch int) (*Record, error) {
	dir := filepath.Join(b.workDir, "staging")
	script := filepath.Join(dir, "apply.sql")
	var chunks int
	rec, err := b.measure(ctx, limitStaging(batch), run, 0,
		func() error {
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			var err error
			if chunks, err = b.writeStagingChunks(ctx, dir, n, batch); err != nil {
				return err
			}
			f, err := os.Create(script)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(f)
			fmt.Fprintln(w, "CREATE TEMP TABLE stg (LIKE t);")
			for i := range chunks {
				fmt.Fprintf(w, "BEGIN;\nTRUNCATE stg;\n\\copy stg FROM '%s'\nUPDATE t SET %s FROM stg s WHERE t.id = s.id;\nCOMMIT;\n",
					filepath.Join(dir, fmt.Sprintf("chunk%05d.tsv", i)), setAll)
			}
			if err := w.Flush(); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			return b.pgDst.exec(ctx, "VACUUM t", "CHECKPOINT")
		},
		func() error { return runToDevNull(b.pgDst.psqlFile(ctx, script)) }, nil)
	if rec != nil {
		rec.Rows = n
	}
	return rec, err
}

// writeStagingChunks writes n changed rows of the target's t, in random
// order, as text COPY files of batch rows each; it returns how many.
func (b *bencher) writeStagingChunks(ctx context.Context, dir string, n int64, batch int) (int, error) {
	cmd := b.pgDst.psql(ctx, fmt.Sprintf(`COPY (SELECT id, account_id + 1, qty + 1, version + 1, 'S-' || md5(id::text), note, amount + 1, now(), NOT active, attrs
		FROM t ORDER BY random() LIMIT %d) TO STDOUT`, n))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var (
		f      *os.File
		w      *bufio.Writer
		chunks int
		lines  int
		werr   error
	)
	closeChunk := func() {
		if f != nil {
			if err := w.Flush(); err != nil && werr == nil {
				werr = err
			}
			if err := f.Close(); err != nil && werr == nil {
				werr = err
			}
			f = nil
		}
	}
	for sc.Scan() && werr == nil {
		if lines%batch == 0 {
			closeChunk()
			if f, werr = os.Create(filepath.Join(dir, fmt.Sprintf("chunk%05d.tsv", chunks))); werr != nil {
				break
			}
			w = bufio.NewWriter(f)
			chunks++
		}
		w.Write(sc.Bytes())
		w.WriteByte('\n')
		lines++
	}
	closeChunk()
	if werr == nil {
		werr = sc.Err()
	}
	if err := cmd.Wait(); err != nil && werr == nil {
		werr = fmt.Errorf("%w: %s", err, stderr.String())
	}
	if werr == nil && int64(lines) != n {
		werr = fmt.Errorf("the staging changes have %d rows, expected %d", lines, n)
	}
	return chunks, werr
}

// pgbenchUpdate is one pgbench single-row update of every non-key column
// of a random row (variable v).
func pgbenchUpdate(v string) string {
	return fmt.Sprintf("\\set %[1]s random(1, :nrows)\nUPDATE t SET account_id = :%[1]s %% 100000, qty = qty + 1, version = version + 1, code = 'P-' || :%[1]s, note = 'pgbench ' || :%[1]s || repeat('y', 90), amount = amount + 1, created_at = now(), active = NOT active, attrs = '{\"k\": 2, \"tag\": \"pgbench\"}' WHERE id = :%[1]s;\n", v)
}

var tpsLine = regexp.MustCompile(`(?m)^tps = ([0-9.]+)`)

// pgbenchLimit runs pgbench on the target for secs with one client: the
// script changes perTx rows per transaction; the record's rows are the
// changes made, so rows/s is changes/s.
func (b *bencher) pgbenchLimit(ctx context.Context, run int, k key, script string, perTx int, secs int) (*Record, error) {
	path := filepath.Join(b.workDir, k.variant+".pgbench")
	var out strings.Builder
	rec, err := b.measure(ctx, k, run, 0,
		func() error {
			if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
				return err
			}
			return b.pgDst.exec(ctx, "VACUUM t", "CHECKPOINT")
		},
		func() error {
			cmd := exec.CommandContext(ctx, b.pgTool("pgbench"), "-n", "-M", "prepared", "-c", "1", "-j", "1", "-T", strconv.Itoa(secs),
				"-f", path, "-D", fmt.Sprintf("nrows=%d", b.cfg.Rows), b.pgDst.conninfo())
			cmd.Env = b.pgDst.env()
			cmd.Stdout = &out
			return runCmd(cmd)
		}, nil)
	if err != nil {
		return nil, err
	}
	m := tpsLine.FindStringSubmatch(out.String())
	if m == nil {
		return nil, fmt.Errorf("%s: no tps in the pgbench output: %s", k, out.String())
	}
	tps, _ := strconv.ParseFloat(m[1], 64)
	rec.Rows, rec.Secs = int64(tps*float64(perTx)*float64(secs)), float64(secs)
	return rec, nil
}

// applyLimits measures the target's apply limits on its table t (changed
// by them: the caller loads it again afterwards).
func (b *bencher) applyLimits(ctx context.Context, run int, changes int64, batch int, secs time.Duration) ([]*Record, error) {
	var recs []*Record
	n := min(changes, b.cfg.Rows)
	r, err := b.stagingLimit(ctx, run, n, batch)
	if err != nil {
		return nil, err
	}
	recs = append(recs, r)
	var hundred strings.Builder
	for i := range 100 {
		hundred.WriteString(pgbenchUpdate(fmt.Sprintf("id%d", i)))
	}
	s := max(int(secs.Seconds()), 1)
	for _, l := range []struct {
		k      key
		script string
	}{
		{limitTx100, "BEGIN;\n" + hundred.String() + "COMMIT;\n"},
		{limitPipeline, "\\startpipeline\n" + hundred.String() + "\\endpipeline\n"},
	} {
		if r, err = b.pgbenchLimit(ctx, run, l.k, l.script, 100, s); err != nil {
			return recs, err
		}
		recs = append(recs, r)
	}
	if r, err = b.pgbenchLimit(ctx, run, limitRow, pgbenchUpdate("id"), 1, s); err != nil {
		return recs, err
	}
	return append(recs, r), nil
}
