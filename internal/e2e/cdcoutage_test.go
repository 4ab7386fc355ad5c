package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"

	"github.com/godwit-dms/godwit/internal/testenv"
)

// A target that goes away in the middle of change processing: the task
// retries from its checkpoint and converges when the target is back,
// without anyone touching it.
func TestCDCTargetOutage(t *testing.T) {
	runOutage(t, false, func() (stop, start func() error) {
		my := testenv.MariaDB(t)
		return my.Stop, my.Start
	})
}

// A source that restarts in the middle of change processing: the stream
// reconnects from the checkpoint and nothing is lost.
func TestCDCSourceRestart(t *testing.T) {
	runOutage(t, true, func() (stop, start func() error) {
		pg := testenv.Postgres(t)
		return pg.Stop, pg.Start
	})
}

// runOutage stops and starts the server down returns in the middle of
// change processing; sourceDown says it is the source's.
func runOutage(t *testing.T, sourceDown bool, down func() (stop, start func() error)) {
	src, tgt := pgSide(t), mariaSide(t)
	execScript(t, src, subst(sourceDDL(src)[0]+";"+sourceDDL(src)[1], "{{s}}", src.schema))
	s := startServer(t)
	c := s.client(t)
	ctx := ctxT(t)
	p := newPair(t, c, "outage", src, tgt)
	mappings := subst(`{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"public","table-name":"%"},"rule-action":"include"},
{"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-target":"schema","object-locator":{"schema-name":"public"},"rule-action":"rename","value":"{{tgt}}"}]}`, "{{tgt}}", tgt.schema)
	arn := createTask(t, p, "outage-task", "full-load-and-cdc", mappings,
		`{"TargetMetadata":{"SupportLobs":true,"FullLobMode":true,"LimitedSizeLobMode":false},"ErrorBehavior":{"RecoverableErrorInterval":1}}`)
	if _, err := c.StartReplicationTask(ctx, &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "start-replication"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); aws.ToString(tableStats(t, c, arn)["public.acct"].TableState) != "Table completed"; {
		if time.Now().After(deadline) {
			t.Fatal("the full load did not finish")
		}
		time.Sleep(50 * time.Millisecond)
	}
	w := startWorkload(t, src)
	time.Sleep(time.Second)
	if sourceDown {
		w.finish(t) // the workload's own connections would break with the source
	}
	stop, start := down()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if err := start(); err != nil {
		t.Fatal(err)
	}
	if !sourceDown {
		// Changes kept coming while the target was down, so applying
		// them met the outage (with none to apply, the target's
		// sessions would just be opened again when it is back).
		w.finish(t)
	}
	w = startWorkload(t, src) // more changes after the restart
	time.Sleep(2 * time.Second)
	w.finish(t)
	converge(t, src, tgt)
	if !strings.Contains(s.Logs.String(), "recoverable error") {
		t.Fatal("the outage was never noticed: no recoverable error in the log")
	}
	if st := aws.ToString(describeTask(t, c, arn).Status); st != "running" {
		t.Fatalf("task %s after the outage: %s", st, aws.ToString(describeTask(t, c, arn).LastFailureMessage))
	}
}
