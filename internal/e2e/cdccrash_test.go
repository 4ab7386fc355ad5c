package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
)

// Killing Godwit (SIGKILL) loses and duplicates nothing, wherever it
// happens: during the full load, as the full load ends (cached changes
// being applied), during transactional apply and during batch apply.
// After a restart the task resumes from its checkpoint and the target
// converges, with the workload running all along. On an S3 target the
// files, replayed, give the source's rows with no insert written twice (a
// replayed apply rewrites the file it had published).
func TestCDCSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := buildGodwit(t)
	lob := `"SupportLobs":true,"FullLobMode":true,"LimitedSizeLobMode":false`
	applying := func(st types.TableStatistics) bool { return aws.ToInt64(st.AppliedUpdates) > 20 }
	for _, tc := range []struct {
		name           string
		source, target string // "pg" or "maria"; "pg" or "s3" (from a PostgreSQL source)
		extra          int    // rows added to a PostgreSQL source table before the start, for a longer load
		settings       string
		// ready says when to kill.
		ready func(st types.TableStatistics) bool
	}{
		{"during full load", "pg", "pg", 300000, `{"TargetMetadata":{` + lob + `},"FullLoadSettings":{"CommitRate":5000}}`,
			func(st types.TableStatistics) bool { return st.FullLoadRows > 20000 }},
		{"as the full load ends", "pg", "pg", 0, `{"TargetMetadata":{` + lob + `}}`,
			func(st types.TableStatistics) bool { return aws.ToString(st.TableState) == "Table completed" }},
		{"during transactional apply", "pg", "pg", 0, `{"TargetMetadata":{` + lob + `}}`, applying},
		{"during batch apply", "pg", "pg", 0, `{"TargetMetadata":{"BatchApplyEnabled":true,` + lob + `}}`, applying},
		{"MariaDB source, during apply", "maria", "pg", 0, `{"TargetMetadata":{` + lob + `}}`, applying},
		{"s3", "pg", "s3", 0, `{"TargetMetadata":{` + lob + `}}`, applying},
	} {
		t.Run(tc.name, func(t *testing.T) { runKill(t, bin, tc.source, tc.target, tc.extra, tc.settings, tc.ready) })
	}
}

func runKill(t *testing.T, bin, source, target string, extra int, settings string, ready func(types.TableStatistics) bool) {
	var src, tgt side
	ddl := []string{}
	if target == "s3" {
		src = pgSide(t)
		ddl = append(ddl, `ALTER TABLE {{s}}.acct REPLICA IDENTITY FULL`) // whole rows in U rows
	} else {
		src, tgt = pairSides(t, source+"-"+target)
	}
	execScript(t, src, subst(strings.Join(append(sourceDDL(src), ddl...), ";\n"), "{{s}}", src.schema))
	if extra > 0 {
		execScript(t, src, fmt.Sprintf("INSERT INTO public.acct SELECT g, 'owner ' || g, g * 1.5, repeat('x', 200), NULL, true, now() FROM generate_series(-%d, -1) g", extra))
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	p1 := startProcess(t, bin, dataDir)
	defer p1.cmd.Process.Kill()
	c := p1.client(t, dataDir)
	ctx := ctxT(t)
	var p pair
	mappings := allTablesInto(src, tgt)
	if target == "s3" {
		ri := createInstance(t, ctx, c, "cdc-crash")
		se := createEndpoint(t, c, endpointArgs{id: "src", engine: src.engine, typ: "source", host: src.host, port: src.port, user: src.user, password: src.pass, db: src.db})
		te := createEndpoint(t, c, endpointArgs{id: "lake", engine: "s3", typ: "target", s3: &types.S3Settings{BucketName: aws.String("lake"),
			CdcMaxBatchInterval: aws.Int32(1), CdcMinFileSize: aws.Int32(16), ServiceAccessRoleArn: aws.String("arn:aws:iam::000000000000:role/dms")}})
		p = pair{c: c, instanceARN: aws.ToString(ri.ReplicationInstanceArn), srcARN: aws.ToString(se.EndpointArn), tgtARN: aws.ToString(te.EndpointArn)}
		mappings = `{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"` + src.schema + `","table-name":"%"},"rule-action":"include"}]}`
	} else {
		p = newPair(t, c, "cdc-crash", src, tgt)
	}
	arn := createTask(t, p, "cdc-crash-task", "full-load-and-cdc", mappings, settings)
	w := startWorkload(t, src)
	if _, err := c.StartReplicationTask(ctx, &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "start-replication"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); !ready(tableStats(t, c, arn)[src.schema+".acct"]); {
		if time.Now().After(deadline) {
			t.Fatalf("the kill point never came: %+v", tableStats(t, c, arn)[src.schema+".acct"])
		}
		time.Sleep(10 * time.Millisecond)
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
		convergeFiles(t, src, filepath.Join(dataDir, "buckets", "lake", src.schema, "acct"))
	} else {
		converge(t, src, tgt)
	}
	if st := aws.ToString(describeTask(t, c2, arn).Status); st != "running" {
		t.Fatalf("task %s after the restart", st)
	}
}
