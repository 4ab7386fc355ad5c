package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/testenv"
)

func waitRun(t *testing.T, c *dmssdk.Client, arn string, done func(types.ReplicationTaskAssessmentRun) bool) types.ReplicationTaskAssessmentRun {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		out, err := c.DescribeReplicationTaskAssessmentRuns(ctxT(t), &dmssdk.DescribeReplicationTaskAssessmentRunsInput{
			Filters: []types.Filter{{Name: aws.String("replication-task-assessment-run-arn"), Values: []string{arn}}}})
		if err != nil {
			t.Fatal(err)
		}
		if r := out.ReplicationTaskAssessmentRuns[0]; done(r) {
			return r
		}
		time.Sleep(30 * time.Millisecond)
	}
	t.Fatal("the assessment run did not get there in time")
	return types.ReplicationTaskAssessmentRun{}
}

func finished(r types.ReplicationTaskAssessmentRun) bool {
	switch aws.ToString(r.Status) {
	case "passed", "warning", "failed", "error-provisioning", "error-executing":
		return true
	}
	return false
}

func individualStatuses(t *testing.T, c *dmssdk.Client, runARN string) map[string]string {
	out, err := c.DescribeReplicationTaskIndividualAssessments(ctxT(t), &dmssdk.DescribeReplicationTaskIndividualAssessmentsInput{
		Filters: []types.Filter{{Name: aws.String("replication-task-assessment-run-arn"), Values: []string{runARN}}}})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, a := range out.ReplicationTaskIndividualAssessments {
		m[aws.ToString(a.IndividualAssessmentName)] = aws.ToString(a.Status)
	}
	return m
}

const roleARN = "arn:aws:iam::000000000000:role/dms-assessments"

// A run really inspects the databases: a table without a primary key fails
// the PK check of a CDC task; results land in the bucket as DMS writes them.
func TestAssessmentRun(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE keyed (id int PRIMARY KEY, v text)`, `CREATE TABLE loose (a int, b text)`)
	s := startServer(t)
	p := pgPair(t, s, pg, srcDB, tgtDB, "asmt")
	arn := createTask(t, p, "asmt-task", "full-load-and-cdc", includeAll, "")
	ctx := ctxT(t)
	app, err := p.c.DescribeApplicableIndividualAssessments(ctx, &dmssdk.DescribeApplicableIndividualAssessmentsInput{ReplicationTaskArn: aws.String(arn)})
	if err != nil || len(app.IndividualAssessmentNames) < 5 {
		t.Fatalf("applicable: %v %v", err, app)
	}
	names := strings.Join(app.IndividualAssessmentNames, ",")
	for _, want := range []string{"postgres-check-pk", "postgres-check-wallevel", "table-with-no-primary-key-or-unique-constraint"} {
		if !strings.Contains(names, want) {
			t.Fatalf("%s not applicable: %s", want, names)
		}
	}
	out, err := p.c.StartReplicationTaskAssessmentRun(ctx, &dmssdk.StartReplicationTaskAssessmentRunInput{
		ReplicationTaskArn: aws.String(arn), ServiceAccessRoleArn: aws.String(roleARN), ResultLocationBucket: aws.String("assessments"),
		ResultLocationFolder: aws.String("runs"), AssessmentRunName: aws.String("first-run")})
	if err != nil {
		t.Fatal(err)
	}
	r := out.ReplicationTaskAssessmentRun
	if aws.ToString(r.Status) != "starting" || aws.ToString(r.ResultEncryptionMode) != "NONE" || r.AssessmentProgress.IndividualAssessmentCount != int32(len(app.IndividualAssessmentNames)) || r.AssessmentProgress.IndividualAssessmentCompletedCount != 0 {
		t.Fatalf("start response: %+v", r)
	}
	if st := aws.ToString(describeTask(t, p.c, arn).Status); st != "testing" && st != "ready" {
		t.Fatalf("task status during the run: %s", st)
	}
	runARN := aws.ToString(r.ReplicationTaskAssessmentRunArn)
	_, err = p.c.StartReplicationTaskAssessmentRun(ctx, &dmssdk.StartReplicationTaskAssessmentRunInput{
		ReplicationTaskArn: aws.String(arn), ServiceAccessRoleArn: aws.String(roleARN), ResultLocationBucket: aws.String("assessments"),
		AssessmentRunName: aws.String("first-run")})
	if err == nil {
		t.Fatal("a second run with the same name (or on a task being tested) was accepted")
	}
	fin := waitRun(t, p.c, runARN, finished)
	r = &fin
	if aws.ToString(r.Status) != "failed" || r.AssessmentProgress.IndividualAssessmentCompletedCount != r.AssessmentProgress.IndividualAssessmentCount {
		t.Fatalf("run ended %s (%s), progress %+v", aws.ToString(r.Status), aws.ToString(r.LastFailureMessage), r.AssessmentProgress)
	}
	st := individualStatuses(t, p.c, runARN)
	if st["postgres-check-pk"] != "failed" && st["table-with-no-primary-key-or-unique-constraint"] != "failed" {
		t.Fatalf("the missing primary key was not found: %v", st)
	}
	if st["postgres-check-wallevel"] != "passed" {
		t.Fatalf("wal_level is logical on the test server: %v", st)
	}
	if got := aws.ToString(describeTask(t, p.c, arn).Status); got != "ready" {
		t.Fatalf("the task did not get its status back: %s", got)
	}
	dir := filepath.Join(s.DataDir, "buckets", "assessments", "runs", runARN[strings.LastIndex(runARN, ":")+1:])
	raw, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	var sum struct {
		Version string                       `json:"version"`
		Overall string                       `json:"overall-test-result"`
		Summary map[string][]json.RawMessage `json:"summary"`
	}
	if err := json.Unmarshal(raw, &sum); err != nil || sum.Overall != "failed" || len(sum.Summary["failed"]) == 0 || sum.Version == "" {
		t.Fatalf("summary.json: %v %s", err, raw)
	}
	detail, err := os.ReadFile(filepath.Join(dir, "postgres-check-pk.json"))
	if err != nil || !strings.Contains(string(detail), "loose") {
		t.Fatalf("postgres-check-pk.json: %v %s", err, detail)
	}
	// A finished run cannot be cancelled; an unknown one does not exist.
	_, err = p.c.CancelReplicationTaskAssessmentRun(ctx, &dmssdk.CancelReplicationTaskAssessmentRunInput{ReplicationTaskAssessmentRunArn: aws.String(runARN)})
	wantFault(t, err, "InvalidResourceStateFault")
	_, err = p.c.CancelReplicationTaskAssessmentRun(ctx, &dmssdk.CancelReplicationTaskAssessmentRunInput{ReplicationTaskAssessmentRunArn: aws.String(runARN + "X")})
	wantFault(t, err, "ResourceNotFoundFault")
	del, err := p.c.DeleteReplicationTaskAssessmentRun(ctx, &dmssdk.DeleteReplicationTaskAssessmentRunInput{ReplicationTaskAssessmentRunArn: aws.String(runARN)})
	if err != nil || aws.ToString(del.ReplicationTaskAssessmentRun.Status) != "deleting" {
		t.Fatalf("delete: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "summary.json")); err != nil {
		t.Fatal("deleting the run removed its result files")
	}
}

// Cancelling a run interrupts the running check (its query stops on the
// server), and checks that had not started never start.
func TestAssessmentCancel(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE t (id int PRIMARY KEY)`)
	s := startServer(t, withTestAssessments(), withReadOnlyKey("READONLYKEY", "read-only-secret"))
	p := pgPair(t, s, pg, srcDB, tgtDB, "cancel")
	arn := createTask(t, p, "cancel-task", "full-load", includeAll, "")
	ctx := ctxT(t)
	out, err := p.c.StartReplicationTaskAssessmentRun(ctx, &dmssdk.StartReplicationTaskAssessmentRunInput{
		ReplicationTaskArn: aws.String(arn), ServiceAccessRoleArn: aws.String(roleARN), ResultLocationBucket: aws.String("assessments"),
		AssessmentRunName: aws.String("slow-run"), IncludeOnly: []string{"godwit-test-sleep", "postgres-check-dbversion"}})
	if err != nil {
		t.Fatal(err)
	}
	runARN := aws.ToString(out.ReplicationTaskAssessmentRun.ReplicationTaskAssessmentRunArn)
	for deadline := time.Now().Add(time.Minute); individualStatuses(t, p.c, runARN)["godwit-test-sleep"] != "running"; {
		if time.Now().After(deadline) {
			t.Fatal("the slow check never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A read-only key may look but not cancel.
	ro := dmssdk.New(dmssdk.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("READONLYKEY", "read-only-secret", "")})
	if _, err := ro.DescribeReplicationTaskAssessmentRuns(ctx, &dmssdk.DescribeReplicationTaskAssessmentRunsInput{}); err != nil {
		t.Fatalf("read-only describe: %v", err)
	}
	_, err = ro.CancelReplicationTaskAssessmentRun(ctx, &dmssdk.CancelReplicationTaskAssessmentRunInput{ReplicationTaskAssessmentRunArn: aws.String(runARN)})
	wantFault(t, err, "AccessDeniedFault")

	c, err := p.c.CancelReplicationTaskAssessmentRun(ctx, &dmssdk.CancelReplicationTaskAssessmentRunInput{ReplicationTaskAssessmentRunArn: aws.String(runARN)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(c.ReplicationTaskAssessmentRun.Status) != "cancelling" {
		t.Fatalf("cancel returned %s", aws.ToString(c.ReplicationTaskAssessmentRun.Status))
	}
	start := time.Now()
	r := waitRun(t, p.c, runARN, finished)
	if time.Since(start) > 20*time.Second {
		t.Fatalf("the run took %v to settle after the cancel", time.Since(start))
	}
	st := individualStatuses(t, p.c, runARN)
	if st["godwit-test-sleep"] != "cancelled" || st["postgres-check-dbversion"] != "cancelled" {
		t.Fatalf("individual statuses after cancel: %v (run %s)", st, aws.ToString(r.Status))
	}
	if r.ResultStatistic == nil || r.ResultStatistic.Cancelled != 2 || !strings.Contains(aws.ToString(r.LastFailureMessage), "cancelled") {
		t.Fatalf("run after cancel: %+v", r)
	}
	conn, err := pgx.Connect(context.Background(), pg.DSN(tgtDB))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var sleeping int
	for deadline := time.Now().Add(10 * time.Second); ; {
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()`).Scan(&sleeping); err != nil {
			t.Fatal(err)
		}
		if sleeping == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the check's query is still running on the server after the cancel")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The aws CLI flow: start a run, describe it until done, read the results.
func TestAssessmentCLI(t *testing.T) {
	needTool(t, "aws")
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE t (id int PRIMARY KEY)`)
	s := startServer(t)
	p := pgPair(t, s, pg, srcDB, tgtDB, "cli")
	arn := createTask(t, p, "cli-task", "full-load", includeAll, "")
	out, err := runCLI(t, s, "start-replication-task-assessment-run", "--replication-task-arn", arn, "--service-access-role-arn", roleARN,
		"--result-location-bucket", "results", "--assessment-run-name", "cli-run", "--include-only", "postgres-check-similar-table-name", "postgres-check-dbversion")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var resp struct{ ReplicationTaskAssessmentRun map[string]any }
	if err := json.Unmarshal([]byte(out), &resp); err != nil || resp.ReplicationTaskAssessmentRun["Status"] != "starting" {
		t.Fatalf("%v %s", err, out)
	}
	runARN := resp.ReplicationTaskAssessmentRun["ReplicationTaskAssessmentRunArn"].(string)
	for deadline := time.Now().Add(time.Minute); ; {
		out, err = runCLI(t, s, "describe-replication-task-assessment-runs", "--filters", "Name=replication-task-assessment-run-arn,Values="+runARN)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if strings.Contains(out, `"passed"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run did not pass: %s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "buckets", "results", runARN[strings.LastIndex(runARN, ":")+1:], "postgres-check-dbversion.json")); err != nil {
		t.Fatalf("result file: %v", err)
	}
	out, err = runCLI(t, s, "cancel-replication-task-assessment-run", "--replication-task-assessment-run-arn", runARN)
	if err == nil || !strings.Contains(out, "InvalidResourceStateFault") {
		t.Fatalf("cancel of a finished run: %v %s", err, out)
	}
}

// The boto3 flow: start a run, describe it until it runs, cancel it, see it
// settle, and read its summary file.
func TestAssessmentBoto3(t *testing.T) {
	python := needTool(t, "python3")
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE t (id int PRIMARY KEY)`)
	s := startServer(t, withTestAssessments())
	p := pgPair(t, s, pg, srcDB, tgtDB, "boto")
	arn := createTask(t, p, "boto-task", "full-load", includeAll, "")
	script := `
import json, os, sys, time, boto3
c = boto3.client("dms", endpoint_url=os.environ["GODWIT_URL"])
run = c.start_replication_task_assessment_run(ReplicationTaskArn=os.environ["TASK_ARN"], ServiceAccessRoleArn="arn:aws:iam::000000000000:role/x",
    ResultLocationBucket="boto-results", ResultLocationFolder="f", AssessmentRunName="boto-run",
    IncludeOnly=["godwit-test-sleep", "postgres-check-dbversion"])["ReplicationTaskAssessmentRun"]
assert run["Status"] == "starting", run
arn = run["ReplicationTaskAssessmentRunArn"]
def indiv():
    out = c.describe_replication_task_individual_assessments(Filters=[{"Name": "replication-task-assessment-run-arn", "Values": [arn]}])
    return {a["IndividualAssessmentName"]: a["Status"] for a in out["ReplicationTaskIndividualAssessments"]}
for _ in range(300):
    if indiv().get("godwit-test-sleep") == "running":
        break
    time.sleep(0.05)
else:
    sys.exit("the slow check never ran")
cancelled = c.cancel_replication_task_assessment_run(ReplicationTaskAssessmentRunArn=arn)["ReplicationTaskAssessmentRun"]
assert cancelled["Status"] == "cancelling", cancelled
for _ in range(300):
    r = c.describe_replication_task_assessment_runs(Filters=[{"Name": "replication-task-assessment-run-arn", "Values": [arn]}])["ReplicationTaskAssessmentRuns"][0]
    if r["Status"] not in ("starting", "provisioning", "running", "cancelling"):
        break
    time.sleep(0.05)
else:
    sys.exit("the run never settled")
assert indiv() == {"godwit-test-sleep": "cancelled", "postgres-check-dbversion": "cancelled"}, indiv()
try:
    c.cancel_replication_task_assessment_run(ReplicationTaskAssessmentRunArn=arn)
    sys.exit("cancelling a finished run succeeded")
except c.exceptions.InvalidResourceStateFault:
    pass
summary = json.load(open(os.path.join(os.environ["DATA_DIR"], "buckets", "boto-results", "f", arn.split(":")[-1], "summary.json")))
assert len(summary["summary"]["cancelled"]) == 2, summary
print("ok")
`
	cmd := exec.Command(python, "-c", script)
	cmd.Env = append(s.cliEnv(), "GODWIT_URL="+s.URL, "TASK_ARN="+arn, "DATA_DIR="+s.DataDir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}
