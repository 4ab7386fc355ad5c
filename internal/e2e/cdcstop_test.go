package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"

	"github.com/godwit-dms/godwit/internal/testenv"
)

// A cdc task with a commit-time CdcStopPosition applies the changes
// committed before it, none after, and stops with STOPPED_AT_COMMIT_TIME.
func TestCDCStopPosition(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	for _, db := range []string{srcDB, tgtDB} {
		pg.Exec(t, db, `CREATE TABLE ev (id int PRIMARY KEY, v text)`)
	}
	s := startServer(t)
	p := pgPair(t, s, pg, srcDB, tgtDB, "stoppos")
	ctx := ctxT(t)
	stopAt := time.Now().UTC().Add(4 * time.Second)
	out, err := p.c.CreateReplicationTask(ctx, &dmssdk.CreateReplicationTaskInput{
		ReplicationTaskIdentifier: aws.String("stop-task"), MigrationType: types.MigrationTypeValueCdc,
		ReplicationInstanceArn: aws.String(p.instanceARN), SourceEndpointArn: aws.String(p.srcARN), TargetEndpointArn: aws.String(p.tgtARN),
		TableMappings:   aws.String(includeAll),
		CdcStopPosition: aws.String("commit_time:" + stopAt.Format("2006-01-02T15:04:05.000000")),
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.ReplicationTask.ReplicationTaskArn)
	waitStatus(t, p.c, arn, "ready")
	if _, err := p.c.StartReplicationTask(ctx, &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "start-replication"}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, p.c, arn, "running")
	time.Sleep(500 * time.Millisecond) // the stream is open
	for i := 1; i <= 5; i++ {
		pg.Exec(t, srcDB, fmt.Sprintf(`INSERT INTO ev VALUES (%d, 'before')`, i))
	}
	time.Sleep(time.Until(stopAt) + time.Second)
	for i := 6; i <= 10; i++ {
		pg.Exec(t, srcDB, fmt.Sprintf(`INSERT INTO ev VALUES (%d, 'after')`, i))
	}
	task := waitStatus(t, p.c, arn, "stopped", "failed")
	if aws.ToString(task.StopReason) != "Stop Reason STOPPED_AT_COMMIT_TIME" {
		t.Fatalf("task ended %s %q: %s", aws.ToString(task.Status), aws.ToString(task.StopReason), aws.ToString(task.LastFailureMessage))
	}
	_, n := pgChecksum(t, pg.DSN(tgtDB), `SELECT * FROM ev`)
	_, before := pgChecksum(t, pg.DSN(tgtDB), `SELECT * FROM ev WHERE v = 'before'`)
	if n != 5 || before != 5 {
		t.Fatalf("target has %d rows (%d before the stop position), want the 5 committed before it", n, before)
	}
}
