package e2e

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
)

// Killing Godwit (SIGKILL) while it applies changes loses and duplicates
// nothing: after a restart the task resumes from its checkpoint and the
// target converges, with the workload running all along. On an S3 target
// the files, replayed, give the source's rows with no insert written
// twice (a replayed apply rewrites the file it had published).
func TestCDCSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	for _, target := range []string{"postgres", "s3"} {
		t.Run(target, func(t *testing.T) { runCDCSurvivesKill(t, target) })
	}
}

func runCDCSurvivesKill(t *testing.T, target string) {
	src, tgt := pgSide(t), side{}
	ddl := sourceDDL(src)
	if target == "s3" {
		ddl = append(ddl, `ALTER TABLE {{s}}.acct REPLICA IDENTITY FULL`) // whole rows in U rows
	} else {
		tgt = pgSide(t)
		tgt.schema = "app"
	}
	execScript(t, src, subst(strings.Join(ddl, ";\n"), "{{s}}", src.schema))
	bin := buildGodwit(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	p1 := startProcess(t, bin, dataDir)
	defer p1.cmd.Process.Kill()
	c := p1.client(t, dataDir)
	ctx := ctxT(t)
	ri := createInstance(t, ctx, c, "cdc-crash")
	se := createEndpoint(t, c, endpointArgs{id: "src", engine: "postgres", typ: "source", host: src.host, port: src.port, user: src.user, password: src.pass, db: src.db})
	ta := endpointArgs{id: "tgt", engine: "postgres", typ: "target", host: tgt.host, port: tgt.port, user: tgt.user, password: tgt.pass, db: tgt.db}
	mappings := `{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"public","table-name":"%"},"rule-action":"include"},
{"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-target":"schema","object-locator":{"schema-name":"public"},"rule-action":"rename","value":"app"}]}`
	if target == "s3" {
		ta = endpointArgs{id: "lake", engine: "s3", typ: "target", s3: &types.S3Settings{BucketName: aws.String("lake"),
			CdcMaxBatchInterval: aws.Int32(1), CdcMinFileSize: aws.Int32(16), ServiceAccessRoleArn: aws.String("arn:aws:iam::000000000000:role/dms")}}
		mappings = `{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"public","table-name":"%"},"rule-action":"include"}]}`
	}
	te := createEndpoint(t, c, ta)
	p := pair{c: c, instanceARN: aws.ToString(ri.ReplicationInstanceArn), srcARN: aws.ToString(se.EndpointArn), tgtARN: aws.ToString(te.EndpointArn)}
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
	if target == "s3" {
		convergeFiles(t, src, filepath.Join(dataDir, "buckets", "lake", "public", "acct"))
	} else {
		converge(t, src, tgt)
	}
	if st := aws.ToString(describeTask(t, c2, arn).Status); st != "running" {
		t.Fatalf("task %s after the restart", st)
	}
}
