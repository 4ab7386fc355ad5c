package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
	"github.com/aws/smithy-go"
)

// wantFault asserts err is an API error with the code and a message containing every part.
func wantFault(t *testing.T, err error, code string, parts ...string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want fault %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want fault %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	for _, p := range parts {
		if !strings.Contains(ae.ErrorMessage(), p) {
			t.Fatalf("fault %s message %q does not contain %q", code, ae.ErrorMessage(), p)
		}
	}
}

// createInstance creates a replication instance and waits until it is available.
func createInstance(t *testing.T, ctx context.Context, c *dmssdk.Client, id string) *types.ReplicationInstance {
	t.Helper()
	out, err := c.CreateReplicationInstance(ctx, &dmssdk.CreateReplicationInstanceInput{
		ReplicationInstanceIdentifier: aws.String(id),
		ReplicationInstanceClass:      aws.String("dms.t3.medium"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := aws.ToString(out.ReplicationInstance.ReplicationInstanceStatus); s != "creating" {
		t.Fatalf("create returned status %q, want creating", s)
	}
	arn := aws.ToString(out.ReplicationInstance.ReplicationInstanceArn)
	w := dmssdk.NewReplicationInstanceAvailableWaiter(c, func(o *dmssdk.ReplicationInstanceAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	desc, err := w.WaitForOutput(ctx, &dmssdk.DescribeReplicationInstancesInput{
		Filters: []types.Filter{{Name: aws.String("replication-instance-arn"), Values: []string{arn}}},
	}, time.Minute)
	if err != nil {
		t.Fatalf("instance %s never became available: %v", id, err)
	}
	return &desc.ReplicationInstances[0]
}

// waitConnection polls DescribeConnections until the test leaves "testing".
func waitConnection(t *testing.T, ctx context.Context, c *dmssdk.Client, instanceARN, endpointARN string) types.Connection {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		out, err := c.DescribeConnections(ctx, &dmssdk.DescribeConnectionsInput{Filters: []types.Filter{
			{Name: aws.String("endpoint-arn"), Values: []string{endpointARN}},
			{Name: aws.String("replication-instance-arn"), Values: []string{instanceARN}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Connections) != 1 {
			t.Fatalf("DescribeConnections returned %d connections", len(out.Connections))
		}
		if s := aws.ToString(out.Connections[0].Status); s != "testing" {
			return out.Connections[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("connection test of %s did not finish", endpointARN)
	return types.Connection{}
}

// testConnection runs TestConnection and waits for its result.
func testConnection(t *testing.T, ctx context.Context, c *dmssdk.Client, instanceARN, endpointARN string) types.Connection {
	t.Helper()
	out, err := c.TestConnection(ctx, &dmssdk.TestConnectionInput{ReplicationInstanceArn: aws.String(instanceARN), EndpointArn: aws.String(endpointARN)})
	if err != nil {
		t.Fatal(err)
	}
	if s := aws.ToString(out.Connection.Status); s != "testing" {
		t.Fatalf("TestConnection returned status %q, want testing", s)
	}
	return waitConnection(t, ctx, c, instanceARN, endpointARN)
}
