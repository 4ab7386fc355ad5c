package mysql_test

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/mysql"
	"github.com/godwit-dms/godwit/internal/record"
)

// applyBenchChanges is the size of the apply benchmarks' workloads.
const applyBenchChanges = 100_000

// applyBenchTarget is a target database holding a full load of the
// benchmark table (bench_test.go): the connector, the table and its rows,
// and a plain client on the database (parameters interpolated, as the
// connector's sessions do).
//
// The server runs durable while the benchmark runs (the redo log and the
// binary log synced at each commit), so that a commit costs what it costs
// in production; the reference benchmarks below run the same way.
func applyBenchTarget(b *testing.B) (*mysql.Conn, *record.Table, []record.Row, *sql.DB) {
	my, c, tb := benchTable(b)
	my.Exec(b, "", "SET GLOBAL innodb_flush_log_at_trx_commit = 1", "SET GLOBAL sync_binlog = 1")
	b.Cleanup(func() { my.Exec(b, "", "SET GLOBAL innodb_flush_log_at_trx_commit = 2", "SET GLOBAL sync_binlog = 0") })
	rows := readAll(b, c, &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}})
	db := my.NewDatabase(b)
	dst := openConn(b, my, "", connector.RoleTarget, nil)
	out := *tb
	out.Schema = db
	ctx := testCtx(b)
	if err := dst.PrepareTable(ctx, &out, connector.PrepDropAndCreate, false); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < len(rows); i += 10000 {
		if err := dst.Load(ctx, &out, rows[i:min(i+10000, len(rows))]); err != nil {
			b.Fatal(err)
		}
	}
	cfg, err := gomysql.ParseDSN(my.DSN(db))
	if err != nil {
		b.Fatal(err)
	}
	cfg.InterpolateParams, cfg.Loc = true, time.UTC
	connector, err := gomysql.NewConnector(cfg)
	if err != nil {
		b.Fatal(err)
	}
	client := sql.OpenDB(connector)
	b.Cleanup(func() { client.Close() })
	return dst, &out, rows, client
}

// applyChanged is row with new values in every column but the key and the
// body.
func applyChanged(row record.Row, n int) record.Row {
	out := slices.Clone(row)
	out[1] = out[1].(int64) + 1
	out[2] = int64(n)
	out[3] = fmt.Sprintf("changed name %d", n)
	out[5] = fmt.Sprintf("%d.%02d", n%100000, n%100)
	out[6] = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Millisecond)
	out[7] = int64(n % 2)
	out[8] = fmt.Sprintf(`{"k": %d, "tag": "apply"}`, n)
	return out
}

func applyKeyRow(r record.Row) record.Row {
	k := make(record.Row, len(r))
	k[0] = r[0]
	return k
}

// applyUpdateWorkload is applyBenchChanges single-row update transactions
// of random rows (old rows logged in full, as MySQL does).
func applyUpdateWorkload(tb *record.Table, rows []record.Row) []*record.Transaction {
	rng := rand.New(rand.NewPCG(1, 2))
	cur := slices.Clone(rows)
	txs := make([]*record.Transaction, applyBenchChanges)
	for i := range txs {
		j := rng.IntN(len(cur))
		after := applyChanged(cur[j], i)
		txs[i] = &record.Transaction{ID: fmt.Sprint(i), Changes: []record.Change{
			{Op: record.OpUpdate, Table: tb, Before: cur[j], BeforeFull: true, After: after}}}
		cur[j] = after
	}
	return txs
}

// applyMixedWorkload is applyBenchChanges changes in transactions of 10:
// 30% updates of 1000 hot rows; the others updates (70%), inserts (20%)
// and deletes (10%) of other rows.
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
			ch = record.Change{Op: record.OpUpdate, Table: tb, Before: r, BeforeFull: true, After: after}
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
				ch = record.Change{Op: record.OpDelete, Table: tb, Before: r, BeforeFull: true}
			} else {
				after := applyChanged(r, i)
				live[r[0].(int64)] = after
				ch = record.Change{Op: record.OpUpdate, Table: tb, Before: r, BeforeFull: true, After: after}
			}
		}
		tx.Changes = append(tx.Changes, ch)
	}
	return txs
}

func applyBenchTables(tb *record.Table) map[string]*connector.TargetTable {
	return map[string]*connector.TargetTable{tb.Schema + "." + tb.Name: {Target: tb, Key: []string{"id"}}}
}

// applyBench applies txs in calls of per transactions.
func applyBench(b *testing.B, dst *mysql.Conn, tb *record.Table, txs []*record.Transaction, per int, batch bool) {
	tables := applyBenchTables(tb)
	ctx := testCtx(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := 0; i < len(txs); i += per {
			var err error
			if batch {
				err = dst.ApplyBatch(ctx, tables, txs[i:min(i+per, len(txs))])
			} else {
				err = dst.ApplyTransactions(ctx, tables, txs[i:min(i+per, len(txs))])
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(applyBenchChanges*b.N)/b.Elapsed().Seconds(), "changes/s")
}

// Transactional apply of single-row update transactions, 100 per call (the
// engine groups small transactions).
func BenchmarkApplyTransactions(b *testing.B) {
	dst, tb, rows, _ := applyBenchTarget(b)
	applyBench(b, dst, tb, applyUpdateWorkload(tb, rows), 100, false)
}

// Batch apply of mixed changes, 10,000 per call.
func BenchmarkApplyBatch(b *testing.B) {
	dst, tb, rows, _ := applyBenchTarget(b)
	applyBench(b, dst, tb, applyMixedWorkload(tb, rows), 1000, true)
}

// The mixed changes applied transactionally, 100 transactions (1,000
// changes) per call.
func BenchmarkApplyTransactionsMixed(b *testing.B) {
	dst, tb, rows, _ := applyBenchTarget(b)
	applyBench(b, dst, tb, applyMixedWorkload(tb, rows), 100, false)
}

// Batch apply of the single-row update transactions, 10,000 per call: the
// workload of BenchmarkApplyRawStaging.
func BenchmarkApplyBatchUpdates(b *testing.B) {
	dst, tb, rows, _ := applyBenchTarget(b)
	applyBench(b, dst, tb, applyUpdateWorkload(tb, rows), 10000, true)
}

// Reference: the update transactions as single-row UPDATEs, 100 per
// transaction, one round trip each (MySQL has no pipeline).
func BenchmarkApplyRawRowByRow(b *testing.B) {
	_, tb, rows, db := applyBenchTarget(b)
	txs := applyUpdateWorkload(tb, rows)
	ctx := testCtx(b)
	var sets []string
	for _, c := range tb.Columns[1:] {
		sets = append(sets, "`"+c.Name+"` = ?")
	}
	q := "UPDATE bench SET " + strings.Join(sets, ", ") + " WHERE id = ?"
	b.ResetTimer()
	for b.Loop() {
		for i := 0; i < len(txs); i += 100 {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			for _, t := range txs[i : i+100] {
				a := t.Changes[0].After
				args := append(append([]any(nil), a[1:]...), a[0])
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(applyBenchChanges*b.N)/b.Elapsed().Seconds(), "changes/s")
}

// Reference: the update transactions as batches of 10,000 rows (the last
// change of each key) inserted into a staging table with one multi-row
// INSERT per 1,000 rows and upserted with one INSERT ... SELECT ... ON
// DUPLICATE KEY UPDATE.
func BenchmarkApplyRawStaging(b *testing.B) {
	_, tb, rows, db := applyBenchTarget(b)
	txs := applyUpdateWorkload(tb, rows)
	ctx := testCtx(b)
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "CREATE TEMPORARY TABLE stg LIKE bench"); err != nil {
		b.Fatal(err)
	}
	var sets []string
	for _, c := range tb.Columns[1:] {
		sets = append(sets, fmt.Sprintf("`%s` = VALUES(`%s`)", c.Name, c.Name))
	}
	upsert := "INSERT INTO bench SELECT * FROM stg ON DUPLICATE KEY UPDATE " + strings.Join(sets, ", ")
	ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(tb.Columns)), ", ") + ")"
	b.ResetTimer()
	for b.Loop() {
		for i := 0; i < len(txs); i += 10000 {
			seen := map[any]int{}
			var batch []record.Row
			for _, tx := range txs[i : i+10000] {
				after := tx.Changes[0].After
				if j, ok := seen[after[0]]; ok {
					batch[j] = after
					continue
				}
				seen[after[0]] = len(batch)
				batch = append(batch, after)
			}
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM stg"); err != nil {
				b.Fatal(err)
			}
			for j := 0; j < len(batch); j += 1000 {
				part := batch[j:min(j+1000, len(batch))]
				var args []any
				for _, r := range part {
					args = append(args, r...)
				}
				q := "INSERT INTO stg VALUES " + strings.TrimSuffix(strings.Repeat(ph+", ", len(part)), ", ")
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := tx.ExecContext(ctx, upsert); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(applyBenchChanges*b.N)/b.Elapsed().Seconds(), "changes/s")
}
