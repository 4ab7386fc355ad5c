package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/testenv"
)

// applyErrTask runs a full-load-and-cdc task from table m (and o) of a
// source into a target whose m refuses n >= 100, until the full load is
// done; it returns the source database, a connection to the target and
// the pair and task.
func applyErrTask(t *testing.T, settings string) (pg *testenv.PGServer, srcDB string, tgt *pgx.Conn, p pair, arn string) {
	pg = testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE m (id int PRIMARY KEY, n int)`, `INSERT INTO m SELECT g, g FROM generate_series(1, 10) g`,
		`CREATE TABLE o (id int PRIMARY KEY)`)
	pg.Exec(t, tgtDB, `CREATE TABLE m (id int PRIMARY KEY, n int CHECK (n < 100))`, `CREATE TABLE o (id int PRIMARY KEY)`)
	s := startServer(t)
	p = pgPair(t, s, pg, srcDB, tgtDB, "applyerr")
	arn = createTask(t, p, "applyerr-task", "full-load-and-cdc", includeAll, settings)
	if _, err := p.c.StartReplicationTask(ctxT(t), &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "start-replication"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); aws.ToString(tableStats(t, p.c, arn)["public.m"].TableState) != "Table completed"; {
		if time.Now().After(deadline) {
			t.Fatal("the full load did not finish")
		}
		time.Sleep(50 * time.Millisecond)
	}
	tgt, err := pgx.Connect(context.Background(), pg.DSN(tgtDB))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tgt.Close(context.Background()) })
	return pg, srcDB, tgt, p, arn
}

// A change the target rejects is written to awsdms_apply_exceptions (the
// default ApplyErrorUpdatePolicy LOG_ERROR) and the other changes go on.
func TestCDCApplyExceptions(t *testing.T) {
	pg, srcDB, conn, p, arn := applyErrTask(t, `{"FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING"}}`)
	pg.Exec(t, srcDB, `UPDATE m SET n = 500 WHERE id = 3`, `UPDATE m SET n = 42 WHERE id = 4`)
	for deadline := time.Now().Add(30 * time.Second); ; {
		var n, exc int
		_ = conn.QueryRow(context.Background(), `SELECT n FROM m WHERE id = 4`).Scan(&n)
		err := conn.QueryRow(context.Background(), `SELECT count(*) FROM public.awsdms_apply_exceptions WHERE table_name = 'm' AND error LIKE '%m_n_check%'`).Scan(&exc)
		if err == nil && n == 42 && exc == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("row 4 n=%d, exceptions %d (%v)", n, exc, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st := aws.ToString(describeTask(t, p.c, arn).Status); st != "running" {
		t.Fatalf("task %s", st)
	}
}

// ApplyErrorUpdatePolicy SUSPEND_TABLE stops applying the table's changes,
// records it in awsdms_suspended_tables (SuspendedTablesTableEnabled), and
// the other tables' changes go on.
func TestCDCSuspendedTable(t *testing.T) {
	pg, srcDB, conn, p, arn := applyErrTask(t, `{"FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING"},
"ErrorBehavior":{"ApplyErrorUpdatePolicy":"SUSPEND_TABLE"},"ControlTablesSettings":{"SuspendedTablesTableEnabled":true}}`)
	pg.Exec(t, srcDB, `UPDATE m SET n = 500 WHERE id = 3`)
	pg.Exec(t, srcDB, `UPDATE m SET n = 42 WHERE id = 4`, `INSERT INTO o VALUES (1)`)
	for deadline := time.Now().Add(30 * time.Second); ; {
		var o, sus int
		_ = conn.QueryRow(context.Background(), `SELECT count(*) FROM o`).Scan(&o)
		err := conn.QueryRow(context.Background(), `SELECT count(*) FROM public.awsdms_suspended_tables
WHERE table_owner = 'public' AND table_name = 'm' AND task_name = $1 AND suspend_reason LIKE '%m_n_check%'`,
			arn[strings.LastIndexByte(arn, ':')+1:]).Scan(&sus) // TASK_NAME is the task's resource id, as in DMS
		if err == nil && o == 1 && sus == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("o has %d rows, awsdms_suspended_tables %d rows for m (%v)", o, sus, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT n FROM m WHERE id = 4`).Scan(&n); err != nil || n != 4 {
		t.Errorf("a change of the suspended table was applied: n = %d (%v)", n, err)
	}
	if st := aws.ToString(describeTask(t, p.c, arn).Status); st != "running" {
		t.Fatalf("task %s", st)
	}
}
