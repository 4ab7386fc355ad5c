package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
)

type rawResp struct {
	status    int
	typ, msg  string
	requestID string
	body      string
}

func post(t *testing.T, url, target, body string) rawResp {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var f struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(b, &f)
	return rawResp{resp.StatusCode, f.Type, f.Message, resp.Header.Get("x-amzn-RequestId"), string(b)}
}

func TestProtocolFaults(t *testing.T) {
	s := startServer(t, withAuthNone())
	const p = "AmazonDMSv20160101."
	cases := []struct {
		name, target, body string
		status             int
		typ                string
		msg                string
	}{
		{"unknown-op", p + "FlyToTheMoon", "{}", 400, "UnknownOperationException", "FlyToTheMoon"},
		{"no-target", "", "{}", 400, "UnknownOperationException", "X-Amz-Target"},
		{"wrong-prefix", "DynamoDB_20120810.ListTables", "{}", 400, "UnknownOperationException", ""},
		{"malformed", p + "DescribeEndpoints", "{", 400, "SerializationException", ""},
		{"not-object", p + "DescribeEndpoints", "[1]", 400, "SerializationException", "object"},
		{"wrong-type", p + "DescribeEndpoints", `{"MaxRecords":"twenty"}`, 400, "SerializationException", "MaxRecords"},
		{"wrong-nested-type", p + "DescribeEndpoints", `{"Filters":[{"Name":1}]}`, 400, "SerializationException", "Filters"},
		{"trailing", p + "DescribeEndpoints", `{} {}`, 400, "SerializationException", ""},
		{"missing-required", p + "TestConnection", `{"EndpointArn":"arn:aws:dms:us-east-1:000000000000:endpoint:X"}`, 400, "InvalidParameterValueException", "ReplicationInstanceArn"},
		{"bad-enum", p + "CreateEndpoint", `{"EndpointIdentifier":"a","EndpointType":"sideways","EngineName":"postgres"}`, 400, "InvalidParameterValueException", "EndpointType"},
		{"nested-missing", p + "DescribeEndpoints", `{"Filters":[{"Values":["x"]}]}`, 400, "InvalidParameterValueException", "Filters[0].Name"},
		{"max-records", p + "DescribeEndpoints", `{"MaxRecords":1000}`, 400, "InvalidParameterValueException", "MaxRecords"},
		{"bad-marker", p + "DescribeEndpoints", `{"Marker":"garbage"}`, 400, "InvalidParameterValueException", "Marker"},
		{"bad-arn", p + "DeleteEndpoint", `{"EndpointArn":"not-an-arn"}`, 400, "ResourceNotFoundFault", ""},
		{"not-implemented", p + "CreateFleetAdvisorCollector", `{"CollectorName":"c","ServiceAccessRoleArn":"r","S3BucketName":"b"}`, 400, "InvalidOperationFault", "CreateFleetAdvisorCollector"},
		{"empty-body", p + "DescribeEndpoints", ``, 200, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, s.URL, tc.target, tc.body)
			if r.status != tc.status || r.typ != tc.typ || !strings.Contains(r.msg, tc.msg) {
				t.Fatalf("got %d %s %q, want %d %s containing %q (body %s)", r.status, r.typ, r.msg, tc.status, tc.typ, tc.msg, r.body)
			}
			if r.requestID == "" {
				t.Fatal("no x-amzn-RequestId")
			}
		})
	}
	big := `{"Marker":"` + strings.Repeat("x", 5<<20) + `"}`
	if r := post(t, s.URL, p+"DescribeEndpoints", big); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d %s", r.status, r.typ)
	}
	resp, err := http.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
}

func TestAuthentication(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	if r := post(t, s.URL, "AmazonDMSv20160101.DescribeEndpoints", "{}"); r.typ != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned request: %d %s", r.status, r.typ)
	}
	mk := func(id, secret string) *dmssdk.Client {
		return dmssdk.New(dmssdk.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
	}
	_, err := mk("AKIDUNKNOWN", "whatever").DescribeEndpoints(ctx, &dmssdk.DescribeEndpointsInput{})
	wantFault(t, err, "UnrecognizedClientException")
	_, err = mk(s.Creds.AccessKeyID, "wrong-secret").DescribeEndpoints(ctx, &dmssdk.DescribeEndpointsInput{})
	wantFault(t, err, "InvalidSignatureException")
	if _, err = s.client(t).DescribeEndpoints(ctx, &dmssdk.DescribeEndpointsInput{}); err != nil {
		t.Fatalf("signed request: %v", err)
	}
	if strings.Contains(s.Logs.String(), s.Creds.SecretAccessKey) {
		t.Fatal("the secret access key is in the logs")
	}
}

// TestRestartKeepsState: resources survive a restart of the server on the same data dir.
func TestRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	s1 := startServer(t, withDataDir(dir))
	ctx := ctxT(t)
	ri := createInstance(t, ctx, s1.client(t), "survivor")
	s1.App.Close()

	s2 := startServer(t, withDataDir(dir))
	if s2.Creds != s1.Creds {
		t.Fatal("the generated key pair changed across restarts")
	}
	out, err := s2.client(t).DescribeReplicationInstances(ctx, &dmssdk.DescribeReplicationInstancesInput{})
	if err != nil || len(out.ReplicationInstances) != 1 || aws.ToString(out.ReplicationInstances[0].ReplicationInstanceArn) != aws.ToString(ri.ReplicationInstanceArn) {
		t.Fatalf("after restart: %v %+v", err, out)
	}
}
