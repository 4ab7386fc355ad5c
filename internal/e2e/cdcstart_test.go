package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
)

// createCDCTask creates a cdc task starting at a time and waits until it is ready.
func createCDCTask(t *testing.T, p pair, id, mappings string, at time.Time, startPos string) (string, error) {
	t.Helper()
	in := &dmssdk.CreateReplicationTaskInput{
		ReplicationTaskIdentifier: aws.String(id), MigrationType: types.MigrationTypeValueCdc,
		ReplicationInstanceArn: aws.String(p.instanceARN), SourceEndpointArn: aws.String(p.srcARN), TargetEndpointArn: aws.String(p.tgtARN),
		TableMappings: aws.String(mappings),
	}
	if !at.IsZero() {
		in.CdcStartTime = aws.Time(at)
	}
	if startPos != "" {
		in.CdcStartPosition = aws.String(startPos)
	}
	out, err := p.c.CreateReplicationTask(ctxT(t), in)
	if err != nil {
		return "", err
	}
	arn := aws.ToString(out.ReplicationTask.ReplicationTaskArn)
	waitStatus(t, p.c, arn, "ready")
	if _, err := p.c.StartReplicationTask(ctxT(t), &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "start-replication"}); err != nil {
		t.Fatal(err)
	}
	return arn, nil
}

// A cdc task from a MariaDB source with a CdcStartTime (or a date as
// CdcStartPosition, which DMS also takes) applies the changes committed
// from that time on, also those committed before the task started, and
// none before.
func TestCDCStartTimeMariaDB(t *testing.T) {
	src := mariaSide(t)
	execScript(t, src, `CREATE TABLE ev (id int PRIMARY KEY, v varchar(20))`)
	execScript(t, src, `INSERT INTO ev VALUES (1, 'early'), (2, 'early'); INSERT INTO ev VALUES (3, 'early')`)
	// Binary log timestamps are whole seconds: the start time is more than
	// a second after the early rows and before the late ones.
	time.Sleep(1100 * time.Millisecond)
	at := time.Now().UTC()
	for i := 4; i <= 8; i++ {
		execScript(t, src, fmt.Sprintf(`INSERT INTO ev VALUES (%d, 'late')`, i))
	}
	execScript(t, src, `UPDATE ev SET v = 'late' WHERE id = 1`)

	for i, how := range []string{"CdcStartTime", "CdcStartPosition"} {
		t.Run(how, func(t *testing.T) {
			tgt := pgSide(t)
			execScript(t, tgt, `CREATE TABLE ev (id int PRIMARY KEY, v varchar(20))`)
			s := startServer(t)
			p := sidePair(t, s, src, tgt, "cdcstart")
			startTime, startPos := at, ""
			if how == "CdcStartPosition" {
				startTime, startPos = time.Time{}, at.Format("2006-01-02T15:04:05")
			}
			arn, err := createCDCTask(t, p, "start-time-task", renameSchema(src.schema, tgt.schema), startTime, startPos)
			if err != nil {
				t.Fatal(err)
			}
			waitStatus(t, p.c, arn, "running")
			execScript(t, src, fmt.Sprintf(`INSERT INTO ev VALUES (%d, 'streamed')`, 9+i))
			// Row 1 arrives through its update (an upsert); rows 2 and 3 never.
			want := []string{"1\tlate", "4\tlate", "5\tlate", "6\tlate", "7\tlate", "8\tlate", "9\tstreamed"}
			if i == 1 {
				want = append(want, "10\tstreamed")
			}
			pollRows(t, tgt, `SELECT id, v FROM ev`, want...)
			if st := aws.ToString(describeTask(t, p.c, arn).Status); st != "running" {
				t.Fatalf("task %s", st)
			}
		})
	}
}

// A PostgreSQL source cannot start change processing at a time (as in
// DMS); CdcStartTime and CdcStartPosition together are refused.
func TestCDCStartTimeRefused(t *testing.T) {
	src, tgt := pgSide(t), pgSide(t)
	execScript(t, src, `CREATE TABLE ev (id int PRIMARY KEY)`)
	execScript(t, tgt, `CREATE TABLE ev (id int PRIMARY KEY)`)
	s := startServer(t)
	p := sidePair(t, s, src, tgt, "cdcstart")
	_, err := createCDCTask(t, p, "both-task", includeAll, time.Now(), "0/16B3748")
	wantFault(t, err, "InvalidParameterCombinationException", "CdcStartPosition", "CdcStartTime")

	arn, err := createCDCTask(t, p, "pg-time-task", includeAll, time.Now().Add(-time.Minute), "")
	if err != nil {
		t.Fatal(err)
	}
	task := waitStatus(t, p.c, arn, "failed", "stopped")
	if msg := aws.ToString(task.LastFailureMessage); aws.ToString(task.Status) != "failed" || !strings.Contains(msg, "PostgreSQL cannot map a time") {
		t.Fatalf("task %s: %q", aws.ToString(task.Status), msg)
	}
}
