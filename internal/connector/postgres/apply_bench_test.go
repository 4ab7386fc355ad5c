package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/postgres"
	"github.com/godwit-dms/godwit/internal/record"
)

// applyBenchChanges is the size of the apply benchmarks' workloads.
const applyBenchChanges = 100_000

// applyBenchTarget is a target database holding a full load of the
// benchmark table (bench_test.go): the connector, the table and the rows
// loaded, and the database's DSN.
//
// The server runs with the durability of the physical-limit suite
// (shared/bench pg_cdc.sh: fsync, full-page writes and synchronous commit
// on, 8 GB of WAL between checkpoints) while the benchmark runs: a commit
// costs what it costs in production. The reference benchmarks below run
// the same way, so that ratios can be taken in one run.
func applyBenchTarget(b *testing.B) (*postgres.Conn, *record.Table, []record.Row, string) {
	pg, tb, batches := benchLoadRows(b)
	db := pg.NewDatabase(b)
	pg.Exec(b, db, "ALTER SYSTEM SET fsync = on", "ALTER SYSTEM SET full_page_writes = on", "ALTER SYSTEM SET synchronous_commit = on",
		"ALTER SYSTEM SET max_wal_size = '8GB'", "ALTER SYSTEM SET checkpoint_timeout = '30min'", "SELECT pg_reload_conf()")
	b.Cleanup(func() {
		pg.Exec(b, "postgres", "ALTER SYSTEM RESET ALL", "SELECT pg_reload_conf()")
	})
	dst := open(b, pg, db, connector.RoleTarget)
	ctx := testCtx(b)
	if err := dst.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
		b.Fatal(err)
	}
	var rows []record.Row
	for _, batch := range batches {
		if err := dst.Load(ctx, tb, batch); err != nil {
			b.Fatal(err)
		}
		rows = append(rows, batch...)
	}
	pg.Exec(b, db, "VACUUM ANALYZE bench", "CHECKPOINT")
	return dst, tb, rows, pg.DSN(db)
}

// applyClient is a plain pgx session on dsn.
func applyClient(b *testing.B, dsn string) *pgx.Conn {
	conn, err := pgx.Connect(testCtx(b), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// changed is row with new values in every column but the key.
func applyChanged(row record.Row, n int) record.Row {
	out := slices.Clone(row)
	out[1] = out[1].(int64) + 1
	out[2] = int64(n)
	out[3] = fmt.Sprintf("changed name %d", n)
	out[5] = fmt.Sprintf("%d.%02d", n%100000, n%100)
	out[6] = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Millisecond)
	out[7] = n%2 == 0
	out[8] = fmt.Sprintf(`{"k": %d, "tag": "apply"}`, n)
	return out
}

// updateWorkload is applyBenchChanges single-row update transactions of
// random rows, as PostgreSQL logs them (old row: the key).
func applyUpdateWorkload(tb *record.Table, rows []record.Row) []*record.Transaction {
	rng := rand.New(rand.NewPCG(1, 2))
	txs := make([]*record.Transaction, applyBenchChanges)
	for i := range txs {
		row := rows[rng.IntN(len(rows))]
		txs[i] = &record.Transaction{ID: fmt.Sprint(i), Changes: []record.Change{
			{Op: record.OpUpdate, Table: tb, Before: record.Row{row[0], nil, nil, nil, nil, nil, nil, nil, nil}, After: applyChanged(row, i)}}}
	}
	return txs
}

// Transactional apply of single-row update transactions, 100 per call (the
// engine groups small transactions).
func BenchmarkApplyTransactions(b *testing.B) {
	dst, tb, rows, _ := applyBenchTarget(b)
	txs := applyUpdateWorkload(tb, rows)
	tables := map[string]*connector.TargetTable{"public.bench": {Target: tb, Key: []string{"id"}}}
	ctx := testCtx(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := 0; i < len(txs); i += 100 {
			if err := dst.ApplyTransactions(ctx, tables, txs[i:i+100]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(applyBenchChanges*b.N)/b.Elapsed().Seconds(), "changes/s")
}

// mixedWorkload is applyBenchChanges changes: 30% updates of 1000 hot
// rows; the others updates (70%), inserts (20%) and deletes (10%) of other
// rows, as a source would log them (old rows: keys).
func applyMixedWorkload(tb *record.Table, rows []record.Row) []*record.Transaction {
	rng := rand.New(rand.NewPCG(3, 4))
	live := make(map[int64]record.Row, len(rows))
	var keys []int64
	for _, r := range rows {
		live[r[0].(int64)] = r
		keys = append(keys, r[0].(int64))
	}
	hot := keys[:1000]
	next := keys[len(keys)-1] + 1
	key := func(r record.Row) record.Row {
		k := make(record.Row, len(r))
		k[0] = r[0]
		return k
	}
	var txs []*record.Transaction
	var tx *record.Transaction
	for i := 0; i < applyBenchChanges; i++ {
		if i%10 == 0 {
			tx = &record.Transaction{ID: fmt.Sprint(i)}
			txs = append(txs, tx)
		}
		var ch record.Change
		switch p := rng.IntN(100); {
		case p < 30:
			r := live[hot[rng.IntN(len(hot))]]
			after := applyChanged(r, i)
			live[r[0].(int64)] = after
			ch = record.Change{Op: record.OpUpdate, Table: tb, Before: key(r), After: after}
		case p < 30+14:
			r := applyChanged(rows[rng.IntN(len(rows))], i)
			r[0] = next
			next++
			live[r[0].(int64)] = r
			keys = append(keys, r[0].(int64))
			ch = record.Change{Op: record.OpInsert, Table: tb, After: r}
		default:
			var r record.Row
			for r == nil {
				r = live[keys[1000+rng.IntN(len(keys)-1000)]]
			}
			if p < 30+14+7 {
				delete(live, r[0].(int64))
				ch = record.Change{Op: record.OpDelete, Table: tb, Before: key(r)}
			} else {
				after := applyChanged(r, i)
				live[r[0].(int64)] = after
				ch = record.Change{Op: record.OpUpdate, Table: tb, Before: key(r), After: after}
			}
		}
		tx.Changes = append(tx.Changes, ch)
	}
	return txs
}

// Batch apply of mixed changes, 10,000 per call.
func BenchmarkApplyBatch(b *testing.B) {
	dst, tb, rows, _ := applyBenchTarget(b)
	txs := applyMixedWorkload(tb, rows)
	tables := map[string]*connector.TargetTable{"public.bench": {Target: tb, Key: []string{"id"}}}
	ctx := testCtx(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := 0; i < len(txs); i += 1000 {
			if err := dst.ApplyBatch(ctx, tables, txs[i:i+1000]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(applyBenchChanges*b.N)/b.Elapsed().Seconds(), "changes/s")
}

// The same mixed changes, applied transactionally (100 transactions of 10
// changes per call), for comparison.
func BenchmarkApplyTransactionsMixed(b *testing.B) {
	dst, tb, rows, _ := applyBenchTarget(b)
	txs := applyMixedWorkload(tb, rows)
	tables := map[string]*connector.TargetTable{"public.bench": {Target: tb, Key: []string{"id"}}}
	ctx := testCtx(b)
	b.ResetTimer()
	for b.Loop() {
		for i := 0; i < len(txs); i += 100 {
			if err := dst.ApplyTransactions(ctx, tables, txs[i:i+100]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(applyBenchChanges*b.N)/b.Elapsed().Seconds(), "changes/s")
}

// benchSet is the SET list of the reference benchmarks: every non-key
// column from a source of the same name.
func applyBenchSet(tb *record.Table, from string) string {
	var sets []string
	for _, c := range tb.Columns[1:] {
		q := pgx.Identifier{c.Name}.Sanitize()
		sets = append(sets, q+" = "+from+"."+q)
	}
	return strings.Join(sets, ", ")
}

// Reference (pg_cdc.sh apply_pgbench row_tx100_pipelined): the same update
// transactions as single-row UPDATEs, 100 per transaction, pipelined with
// pgx.Batch and pgx's own encoding.
func BenchmarkApplyRawPipelined(b *testing.B) {
	_, tb, rows, dsn := applyBenchTarget(b)
	txs := applyUpdateWorkload(tb, rows)
	pg := applyClient(b, dsn)
	ctx := testCtx(b)
	var params []string
	for i := range tb.Columns[1:] {
		params = append(params, fmt.Sprintf("%s = $%d", pgx.Identifier{tb.Columns[i+1].Name}.Sanitize(), i+2))
	}
	sql := "UPDATE bench SET " + strings.Join(params, ", ") + " WHERE id = $1"
	b.ResetTimer()
	for b.Loop() {
		for i := 0; i < len(txs); i += 100 {
			batch := &pgx.Batch{}
			batch.Queue("BEGIN")
			for _, tx := range txs[i : i+100] {
				batch.Queue(sql, tx.Changes[0].After...)
			}
			batch.Queue("COMMIT")
			if err := pg.SendBatch(ctx, batch).Close(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(applyBenchChanges*b.N)/b.Elapsed().Seconds(), "changes/s")
}

// Reference (pg_cdc.sh apply_copy_staging upsert): the same update
// transactions as batches of 10,000 rows copied into a staging table and
// upserted with one INSERT ... ON CONFLICT DO UPDATE.
func BenchmarkApplyRawStaging(b *testing.B) {
	_, tb, rows, dsn := applyBenchTarget(b)
	txs := applyUpdateWorkload(tb, rows)
	pg := applyClient(b, dsn)
	ctx := testCtx(b)
	cols := make([]string, len(tb.Columns))
	for i, c := range tb.Columns {
		cols[i] = c.Name
	}
	if _, err := pg.Exec(ctx, "CREATE TEMP TABLE stg (LIKE bench)"); err != nil {
		b.Fatal(err)
	}
	upsert := "INSERT INTO bench SELECT * FROM stg ON CONFLICT (id) DO UPDATE SET " + applyBenchSet(tb, "EXCLUDED")
	b.ResetTimer()
	for b.Loop() {
		for i := 0; i < len(txs); i += 10000 {
			// A batch holds each key once (last change wins), as net
			// changes do.
			seen := map[any]int{}
			var batch [][]any
			for _, tx := range txs[i : i+10000] {
				after := tx.Changes[0].After
				if j, ok := seen[after[0]]; ok {
					batch[j] = after
					continue
				}
				seen[after[0]] = len(batch)
				batch = append(batch, after)
			}
			err := pgx.BeginFunc(ctx, pg, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, "TRUNCATE stg"); err != nil {
					return err
				}
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{"stg"}, cols, pgx.CopyFromRows(batch)); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, upsert)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(applyBenchChanges*b.N)/b.Elapsed().Seconds(), "changes/s")
}

// Batch apply of the single-row update transactions, 10,000 per call: the
// workload of BenchmarkApplyRawStaging.
func BenchmarkApplyBatchUpdates(b *testing.B) {
	dst, tb, rows, _ := applyBenchTarget(b)
	txs := applyUpdateWorkload(tb, rows)
	tables := map[string]*connector.TargetTable{"public.bench": {Target: tb, Key: []string{"id"}}}
	ctx := testCtx(b)
	b.ResetTimer()
	for b.Loop() {
		for i := 0; i < len(txs); i += 10000 {
			if err := dst.ApplyBatch(ctx, tables, txs[i:i+10000]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(applyBenchChanges*b.N)/b.Elapsed().Seconds(), "changes/s")
}

// Reference (pg_cdc.sh apply_pgbench row_tx100_pipelined, the stock tool):
// pgbench sending single-row UPDATEs of random rows, 100 per transaction in
// one pipeline, prepared. Skipped when pgbench is not installed.
func BenchmarkApplyRawPgbench(b *testing.B) {
	pgbench, err := exec.LookPath("pgbench")
	if err != nil {
		found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
		if len(found) == 0 {
			b.Skip("pgbench not found")
		}
		pgbench = found[len(found)-1]
	}
	_, _, rows, dsn := applyBenchTarget(b)
	script := "\\startpipeline\n"
	for i := 1; i <= 100; i++ {
		script += fmt.Sprintf("\\set id%d random(1, :nrows)\n", i)
		script += fmt.Sprintf("UPDATE bench SET a = a + 1, b = :id%[1]d, name = 'changed name ' || :id%[1]d, amount = (:id%[1]d %% 100000) / 100.0, "+
			"at = now(), ok = NOT ok, doc = '{\"k\": 1, \"tag\": \"apply\"}' WHERE id = :id%[1]d;\n", i)
	}
	script += "\\endpipeline\n"
	path := filepath.Join(b.TempDir(), "apply100pipe.pgbench")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		b.Fatal(err)
	}
	tpsRE := regexp.MustCompile(`(?m)^tps = ([0-9.]+)`)
	var changes float64
	for b.Loop() {
		out, err := exec.Command(pgbench, "-n", "-M", "prepared", "-c", "1", "-j", "1", "-T", "8", "-f", path,
			"-D", fmt.Sprintf("nrows=%d", len(rows)), dsn).CombinedOutput()
		m := tpsRE.FindSubmatch(out)
		if err != nil || m == nil {
			b.Fatalf("pgbench: %v\n%s", err, out)
		}
		tps, _ := strconv.ParseFloat(string(m[1]), 64)
		changes = tps * 100
	}
	b.ReportMetric(changes, "changes/s")
}
