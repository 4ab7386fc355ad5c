package e2e

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
)

// Killing Godwit (SIGKILL) while it applies changes loses and duplicates
// nothing: after a restart the task resumes from its checkpoint and the
// target converges, with the workload running all along.
func TestCDCSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	src, tgt := pgSide(t), pgSide(t)
	tgt.schema = "app"
	execScript(t, src, subst(sourceDDL(src)[0]+";"+sourceDDL(src)[1], "{{s}}", src.schema))
	bin := buildGodwit(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	p1 := startProcess(t, bin, dataDir)
	defer p1.cmd.Process.Kill()
	c := p1.client(t, dataDir)
	ctx := ctxT(t)
	ri := createInstance(t, ctx, c, "cdc-crash")
	se := createEndpoint(t, c, endpointArgs{id: "src", engine: "postgres", typ: "source", host: src.host, port: src.port, user: src.user, password: src.pass, db: src.db})
	te := createEndpoint(t, c, endpointArgs{id: "tgt", engine: "postgres", typ: "target", host: tgt.host, port: tgt.port, user: tgt.user, password: tgt.pass, db: tgt.db})
	p := pair{c: c, instanceARN: aws.ToString(ri.ReplicationInstanceArn), srcARN: aws.ToString(se.EndpointArn), tgtARN: aws.ToString(te.EndpointArn)}
	mappings := `{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"public","table-name":"%"},"rule-action":"include"},
{"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-target":"schema","object-locator":{"schema-name":"public"},"rule-action":"rename","value":"app"}]}`
	arn := createTask(t, p, "cdc-crash-task", "full-load-and-cdc", mappings, `{"TargetMetadata":{"SupportLobs":true,"FullLobMode":true,"LimitedSizeLobMode":false}}`)
	w := startWorkload(t, src)
	if _, err := c.StartReplicationTask(ctx, &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "start-replication"}); err != nil {
		t.Fatal(err)
	}
	// Wait until changes are being applied, then kill it mid-stream.
	for deadline := time.Now().Add(time.Minute); ; {
		if st := tableStats(t, c, arn)["public.acct"]; st.AppliedUpdates != nil && *st.AppliedUpdates > 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("change processing never got going")
		}
		time.Sleep(20 * time.Millisecond)
	}
	p1.cmd.Process.Signal(syscall.SIGKILL)
	p1.cmd.Wait()
	time.Sleep(time.Second) // the workload goes on while Godwit is down

	p2 := startProcess(t, bin, dataDir)
	defer p2.cmd.Process.Kill()
	c2 := p2.client(t, dataDir)
	waitStatus(t, c2, arn, "running")
	time.Sleep(time.Second)
	w.finish(t)
	converge(t, src, tgt)
	if st := aws.ToString(describeTask(t, c2, arn).Status); st != "running" {
		t.Fatalf("task %s after the restart", st)
	}
}
