package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/testenv"
)

// A change the target rejects is written to awsdms_apply_exceptions (the
// default ApplyErrorUpdatePolicy LOG_ERROR) and the other changes go on.
func TestCDCApplyExceptions(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE m (id int PRIMARY KEY, n int)`, `INSERT INTO m SELECT g, g FROM generate_series(1, 10) g`)
	pg.Exec(t, tgtDB, `CREATE TABLE m (id int PRIMARY KEY, n int CHECK (n < 100))`)
	s := startServer(t)
	p := pgPair(t, s, pg, srcDB, tgtDB, "applyerr")
	arn := createTask(t, p, "applyerr-task", "full-load-and-cdc", includeAll, `{"FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING"}}`)
	ctx := ctxT(t)
	if _, err := p.c.StartReplicationTask(ctx, &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "start-replication"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); aws.ToString(tableStats(t, p.c, arn)["public.m"].TableState) != "Table completed"; {
		if time.Now().After(deadline) {
			t.Fatal("the full load did not finish")
		}
		time.Sleep(50 * time.Millisecond)
	}
	pg.Exec(t, srcDB, `UPDATE m SET n = 500 WHERE id = 3`, `UPDATE m SET n = 42 WHERE id = 4`)
	conn, err := pgx.Connect(context.Background(), pg.DSN(tgtDB))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
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
