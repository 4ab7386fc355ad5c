package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/godwit-dms/godwit/internal/testenv"
)

// needTool skips (or, under CI=true, fails) when a client is not installed.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

func runCLI(t *testing.T, s *server, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(needTool(t, "aws"), append([]string{"dms", "--endpoint-url", s.URL, "--output", "json"}, args...)...)
	cmd.Env = s.cliEnv()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSeedTestConnectionCLI runs the seed document's aws dms test-connection
// invocation, then the waiter and describe-connections, with the real aws CLI.
func TestSeedTestConnectionCLI(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	s := startServer(t)
	c := s.client(t)
	ctx := ctxT(t)
	ri := createInstance(t, ctx, c, "my-repl-instance")
	ep := createEndpoint(t, c, endpointArgs{id: "src-database-1", engine: "postgres", typ: "source", host: pg.Host, port: pg.Port, user: pg.User, password: pg.Password, db: db})

	out, err := runCLI(t, s, "test-connection",
		"--replication-instance-arn", aws.ToString(ri.ReplicationInstanceArn),
		"--endpoint-arn", aws.ToString(ep.EndpointArn))
	if err != nil {
		t.Fatalf("test-connection: %v\n%s", err, out)
	}
	var resp struct {
		Connection map[string]string `json:"Connection"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	want := map[string]string{
		"ReplicationInstanceArn":        aws.ToString(ri.ReplicationInstanceArn),
		"EndpointArn":                   aws.ToString(ep.EndpointArn),
		"Status":                        "testing",
		"EndpointIdentifier":            "src-database-1",
		"ReplicationInstanceIdentifier": "my-repl-instance",
	}
	for k, v := range want {
		if resp.Connection[k] != v {
			t.Fatalf("Connection.%s = %q, want %q (output %s)", k, resp.Connection[k], v, out)
		}
	}
	if len(resp.Connection) != len(want) {
		t.Fatalf("Connection has extra members: %s", out)
	}

	out, err = runCLI(t, s, "wait", "test-connection-succeeds", "--filters", "Name=endpoint-arn,Values="+aws.ToString(ep.EndpointArn))
	if err != nil {
		t.Fatalf("wait test-connection-succeeds: %v\n%s", err, out)
	}
	out, err = runCLI(t, s, "describe-connections")
	if err != nil || !strings.Contains(out, `"successful"`) {
		t.Fatalf("describe-connections: %v\n%s", err, out)
	}

	// A failing test: the waiter gives up with the failure, describe shows why.
	bad := createEndpoint(t, c, endpointArgs{id: "bad-pw", engine: "postgres", typ: "source", host: pg.Host, port: pg.Port, user: pg.User, password: "not-it-Z9", db: db})
	if out, err = runCLI(t, s, "test-connection", "--replication-instance-arn", aws.ToString(ri.ReplicationInstanceArn), "--endpoint-arn", aws.ToString(bad.EndpointArn)); err != nil {
		t.Fatalf("test-connection: %v\n%s", err, out)
	}
	out, err = runCLI(t, s, "wait", "test-connection-succeeds", "--filters", "Name=endpoint-arn,Values="+aws.ToString(bad.EndpointArn))
	if err == nil || !strings.Contains(out, "failed") {
		t.Fatalf("waiter on a failing connection: %v\n%s", err, out)
	}
	out, err = runCLI(t, s, "describe-connections", "--filters", "Name=endpoint-arn,Values="+aws.ToString(bad.EndpointArn))
	if err != nil || !strings.Contains(out, "authentication") {
		t.Fatalf("describe-connections: %v\n%s", err, out)
	}

	// CLI errors come back as the modeled faults.
	out, err = runCLI(t, s, "test-connection", "--replication-instance-arn", "arn:aws:dms:us-east-1:000000000000:rep:NOPE", "--endpoint-arn", aws.ToString(ep.EndpointArn))
	if err == nil || !strings.Contains(out, "ResourceNotFoundFault") {
		t.Fatalf("unknown instance: %v\n%s", err, out)
	}
}

// TestBoto3 drives the same flow through boto3.
func TestBoto3(t *testing.T) {
	python := needTool(t, "python3")
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	s := startServer(t)
	script := `
import json, os, sys, time, boto3
c = boto3.client("dms", endpoint_url=os.environ["GODWIT_URL"])
ri = c.create_replication_instance(ReplicationInstanceIdentifier="boto-ri", ReplicationInstanceClass="dms.t3.micro")["ReplicationInstance"]
assert ri["ReplicationInstanceStatus"] == "creating", ri
c.get_waiter("replication_instance_available").wait(Filters=[{"Name": "replication-instance-arn", "Values": [ri["ReplicationInstanceArn"]]}], WaiterConfig={"Delay": 1})
ep = c.create_endpoint(EndpointIdentifier="boto-src", EndpointType="source", EngineName="postgres", ServerName=os.environ["PGHOST"],
    Port=int(os.environ["PGPORT"]), Username=os.environ["PGUSER"], Password=os.environ["PGPASSWORD"], DatabaseName=os.environ["PGDATABASE"])["Endpoint"]
assert "Password" not in json.dumps(ep, default=str)
conn = c.test_connection(ReplicationInstanceArn=ri["ReplicationInstanceArn"], EndpointArn=ep["EndpointArn"])["Connection"]
assert conn["Status"] == "testing", conn
c.get_waiter("test_connection_succeeds").wait(Filters=[{"Name": "endpoint-arn", "Values": [ep["EndpointArn"]]}], WaiterConfig={"Delay": 1})
try:
    c.describe_endpoints(Filters=[{"Name": "endpoint-id", "Values": ["nope"]}])
    sys.exit("expected ResourceNotFoundFault")
except c.exceptions.ResourceNotFoundFault:
    pass
print("ok")
`
	cmd := exec.Command(python, "-c", script)
	cmd.Env = append(s.cliEnv(), "GODWIT_URL="+s.URL, "PGHOST="+pg.Host, "PGPORT="+itoa(pg.Port), "PGUSER="+pg.User, "PGPASSWORD="+pg.Password, "PGDATABASE="+db)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
