package e2e

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"

	"github.com/godwit-dms/godwit/internal/testenv"
)

// A cdc task stopped and resumed goes on counting its tables' changes: the
// statistics carry over into the resumed run (as for full-load-and-cdc).
func TestCDCResumeKeepsCounting(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	for _, db := range []string{srcDB, tgtDB} {
		pg.Exec(t, db, `CREATE TABLE items (id int PRIMARY KEY, name text)`, `INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g`)
	}
	s := startServer(t)
	p := pgPair(t, s, pg, srcDB, tgtDB, "cdcresume")
	arn := createTask(t, p, "cdcresume-task", "cdc", includeAll, `{"FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING"}}`)
	ctx := ctxT(t)
	start := func(typ string) {
		t.Helper()
		if _, err := p.c.StartReplicationTask(ctx, &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: types.StartReplicationTaskTypeValue(typ)}); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, p.c, arn, "running")
	}
	waitUpdates := func(want int64) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; {
			ts := tableStats(t, p.c, arn)["public.items"]
			if ts.Updates == want && aws.ToInt64(ts.AppliedUpdates) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("table statistics: %d updates, %d applied; want %d", ts.Updates, aws.ToInt64(ts.AppliedUpdates), want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	start("start-replication")
	for deadline := time.Now().Add(30 * time.Second); aws.ToString(describeTask(t, p.c, arn).RecoveryCheckpoint) == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the running task has no recovery checkpoint")
		}
	}
	pg.Exec(t, srcDB, `UPDATE items SET name = 'first' WHERE id <= 10`)
	waitUpdates(10)
	if _, err := p.c.StopReplicationTask(ctx, &dmssdk.StopReplicationTaskInput{ReplicationTaskArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, p.c, arn, "stopped")
	pg.Exec(t, srcDB, `UPDATE items SET name = 'second' WHERE id > 95`)
	start("resume-processing")
	waitUpdates(15)
}
