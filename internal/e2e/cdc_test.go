package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/jackc/pgx/v5"
)

// workload runs a mixed workload on a source until stopped: inserts,
// updates (some of the primary key), deletes, large values, NULL
// transitions, multi-statement transactions and a rolled-back one.
type workload struct {
	s      side
	stop   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	err    error
	nextID int
}

// nextIDs gives each workload its own range of new keys.
var nextIDs atomic.Int64

func sourceDDL(s side) []string {
	if s.family == "pg" {
		return []string{
			`CREATE TABLE {{s}}.acct (id bigint PRIMARY KEY, owner text, balance numeric(14,2), note text, blob bytea, flag boolean, at timestamptz)`,
			`INSERT INTO {{s}}.acct SELECT g, 'owner ' || g, g * 1.5, NULL, NULL, g % 2 = 0, now() FROM generate_series(1, 20000) g`,
		}
	}
	return []string{
		"SET SESSION max_recursive_iterations = 100000",
		"CREATE TABLE acct (id bigint PRIMARY KEY, owner text, balance decimal(14,2), note longtext, `blob` longblob, flag boolean, at datetime(6))",
		"INSERT INTO acct WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000) SELECT n, CONCAT('owner ', n), n * 1.5, NULL, NULL, n % 2 = 0, NOW(6) FROM g",
	}
}

func (w *workload) exec(stmts ...string) error {
	switch w.s.family {
	case "pg":
		conn, err := pgx.Connect(context.Background(), w.s.dsn)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		for _, q := range stmts {
			if _, err := conn.Exec(context.Background(), q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	default:
		db, err := sql.Open("mysql", w.s.dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		for _, q := range stmts {
			if _, err := db.Exec(q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	}
}

func startWorkload(t *testing.T, s side) *workload {
	w := &workload{s: s, stop: make(chan struct{}), done: make(chan struct{}), nextID: int(nextIDs.Add(1_000_000))}
	go func() {
		defer close(w.done)
		rnd := rand.New(rand.NewPCG(1, 2))
		big := strings.Repeat("large value ", 2000)
		hex := func(n int) string {
			b := make([]byte, n)
			for i := range b {
				b[i] = "0123456789abcdef"[rnd.IntN(16)]
			}
			return string(b)
		}
		blob := func(n int) string {
			if s.family == "pg" {
				return `'\x` + hex(n*2) + `'`
			}
			return "X'" + hex(n*2) + "'"
		}
		begin, commit, rollback := "BEGIN", "COMMIT", "ROLLBACK"
		tbl := s.schema + ".acct"
		if s.family != "pg" {
			tbl = "acct"
		}
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			id := rnd.IntN(20000) + 1
			var stmts []string
			switch i % 9 {
			case 0, 1:
				w.nextID++
				stmts = []string{fmt.Sprintf("INSERT INTO %s (id, owner, balance, flag) VALUES (%d, 'new %d', %d.25, true)", tbl, w.nextID, w.nextID, i)}
			case 2:
				stmts = []string{fmt.Sprintf("UPDATE %s SET balance = balance + 1, flag = NOT flag WHERE id = %d", tbl, id)}
			case 3:
				stmts = []string{fmt.Sprintf("DELETE FROM %s WHERE id = %d", tbl, id)}
			case 4:
				stmts = []string{fmt.Sprintf("UPDATE %s SET note = '%s', %s = %s WHERE id = %d", tbl, big[:rnd.IntN(len(big))], quoteBlob(s), blob(rnd.IntN(3000)), id)}
			case 5:
				stmts = []string{fmt.Sprintf("UPDATE %s SET note = NULL, owner = NULL WHERE id = %d", tbl, id)}
			case 6: // a primary-key update
				w.nextID++
				stmts = []string{fmt.Sprintf("UPDATE %s SET id = %d WHERE id = %d", tbl, w.nextID, id)}
			case 7: // a multi-statement transaction
				w.nextID++
				stmts = []string{begin,
					fmt.Sprintf("INSERT INTO %s (id, owner) VALUES (%d, 'tx')", tbl, w.nextID),
					fmt.Sprintf("UPDATE %s SET owner = 'in tx' WHERE id = %d", tbl, id),
					fmt.Sprintf("DELETE FROM %s WHERE id = %d", tbl, (id+7)%20000+1),
					commit}
			case 8: // a rolled-back transaction
				stmts = []string{begin, fmt.Sprintf("DELETE FROM %s WHERE id < 1000", tbl), rollback}
			}
			if err := w.exec(stmts...); err != nil {
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
				return
			}
		}
	}()
	return w
}

func quoteBlob(s side) string {
	if s.family == "pg" {
		return "blob"
	}
	return "`blob`"
}

func (w *workload) finish(t *testing.T) {
	close(w.stop)
	<-w.done
	if w.err != nil {
		t.Fatalf("workload: %v", w.err)
	}
}

func acctCheck(s side) string {
	if s.family == "pg" {
		return "SELECT id::text, owner, balance::text, md5(coalesce(note, '<null>')), md5(coalesce(encode(blob::bytea, 'hex'), '<null>')), flag::int::text FROM {{s}}.acct"
	}
	return "SELECT id, owner, balance, md5(coalesce(note, '<null>')), md5(coalesce(lower(hex(`blob`)), '<null>')), flag + 0 FROM {{s}}.acct"
}

// converge waits until the target's rows equal the source's.
func converge(t *testing.T, src, tgt side) {
	t.Helper()
	convergeOn(t, src, tgt, acctCheck(src), acctCheck(tgt))
}

// convergeOn waits until the rows of tgtQuery on the target equal those
// of srcQuery on the source ({{s}} is each side's schema).
func convergeOn(t *testing.T, src, tgt side, srcQuery, tgtQuery string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var want, got string
	var wrows, grows []string
	for time.Now().Before(deadline) {
		want, wrows = checksum(t, src, subst(srcQuery, "{{s}}", src.schema))
		got, grows = checksum(t, tgt, subst(tgtQuery, "{{s}}", tgt.schema))
		if want == got {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("the target did not converge: source %d rows, target %d rows\n  only on the source:\n    %s\n  only on the target:\n    %s",
		len(wrows), len(grows), firstDiffs(wrows, grows, 3), firstDiffs(grows, wrows, 3))
}

// startUnderWorkload starts a task while the workload runs on src, and
// stops the workload a few seconds later: changes land during and after
// the full load.
func startUnderWorkload(t *testing.T, c *dmssdk.Client, arn string, src side) {
	t.Helper()
	w := startWorkload(t, src)
	if _, err := c.StartReplicationTask(ctxT(t), &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "start-replication"}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, arn, "running")
	time.Sleep(3 * time.Second)
	w.finish(t)
}

// stopChangeResume stops a running cdc task, runs the workload on src
// while it is stopped, and resumes it.
func stopChangeResume(t *testing.T, c *dmssdk.Client, arn string, src side) {
	t.Helper()
	ctx := ctxT(t)
	if _, err := c.StopReplicationTask(ctx, &dmssdk.StopReplicationTaskInput{ReplicationTaskArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	task := waitStatus(t, c, arn, "stopped", "failed")
	if aws.ToString(task.Status) != "stopped" || aws.ToString(task.RecoveryCheckpoint) == "" {
		t.Fatalf("after stop: %s %q checkpoint %q", aws.ToString(task.Status), aws.ToString(task.LastFailureMessage), aws.ToString(task.RecoveryCheckpoint))
	}
	w := startWorkload(t, src)
	time.Sleep(time.Second)
	w.finish(t)
	if _, err := c.StartReplicationTask(ctx, &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "resume-processing"}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, arn, "running")
}

// TestCDCConvergence: a full-load-and-cdc task under a concurrent workload
// converges, survives a stop and resume, and drops its slot when deleted.
func TestCDCConvergence(t *testing.T) {
	for _, pairName := range []string{"pg-pg", "maria-pg", "pg-maria", "maria-maria"} {
		t.Run(pairName, func(t *testing.T) {
			for _, batch := range []bool{false, true} {
				t.Run(fmt.Sprintf("batch=%v", batch), func(t *testing.T) { runCDCConvergence(t, pairName, batch) })
			}
		})
	}
}

func runCDCConvergence(t *testing.T, pairName string, batch bool) {
	src, tgt := pairSides(t, pairName)
	execScript(t, src, subst(strings.Join(sourceDDL(src), ";\n"), "{{s}}", src.schema))
	s := startServer(t)
	c := s.client(t)
	ctx := ctxT(t)
	p := newPair(t, c, "cdc", src, tgt)
	mappings := allTablesInto(src, tgt)
	// Row-level validation runs on the transactional pairs: the first
	// validation against the load snapshot, then every row CDC touches.
	settings := fmt.Sprintf(`{"TargetMetadata":{"BatchApplyEnabled":%v,"SupportLobs":true,"FullLobMode":true,"LimitedSizeLobMode":false},"FullLoadSettings":{"CommitRate":2000},"ValidationSettings":{"EnableValidation":%v}}`, batch, !batch)
	arn := createTask(t, p, "cdc-task", "full-load-and-cdc", mappings, settings)

	startUnderWorkload(t, c, arn, src)
	converge(t, src, tgt)

	stopChangeResume(t, c, arn, src)
	converge(t, src, tgt)
	if !batch {
		// Under the workload, then after it: every row checked, none differing.
		for deadline := time.Now().Add(60 * time.Second); ; {
			st := tableStats(t, c, arn)[src.schema+".acct"]
			if aws.ToString(st.ValidationState) == "Validated" && st.ValidationPendingRecords == 0 && st.ValidationFailedRecords == 0 {
				break
			}
			if time.Now().After(deadline) || st.ValidationFailedRecords > 0 {
				t.Fatalf("validation: %s, %d pending, %d failed (%s)", aws.ToString(st.ValidationState), st.ValidationPendingRecords,
					st.ValidationFailedRecords, aws.ToString(st.ValidationStateDetails))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	stats := tableStats(t, c, arn)[src.schema+".acct"]
	if stats.Inserts == 0 || stats.Updates == 0 || stats.Deletes == 0 || aws.ToInt64(stats.AppliedUpdates) != stats.Updates {
		t.Fatalf("CDC statistics: %+v", stats)
	}
	if _, err := c.StopReplicationTask(ctx, &dmssdk.StopReplicationTaskInput{ReplicationTaskArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, arn, "stopped")
	if _, err := c.DeleteReplicationTask(ctx, &dmssdk.DeleteReplicationTaskInput{ReplicationTaskArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if src.family == "pg" {
		deadline := time.Now().Add(30 * time.Second)
		for {
			var n int
			conn, err := pgx.Connect(context.Background(), src.dsn)
			if err != nil {
				t.Fatal(err)
			}
			err = conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_replication_slots WHERE database = current_database()`).Scan(&n)
			conn.Close(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the task's replication slot was not dropped with the task")
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
