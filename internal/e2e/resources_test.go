package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
)

func TestReplicationInstanceLifecycle(t *testing.T) {
	s := startServer(t)
	c := s.client(t)
	ctx := ctxT(t)

	ri := createInstance(t, ctx, c, "My-Instance-1")
	if got := aws.ToString(ri.ReplicationInstanceIdentifier); got != "my-instance-1" {
		t.Fatalf("identifier stored as %q, want lower-case", got)
	}
	arn := aws.ToString(ri.ReplicationInstanceArn)
	if !strings.HasPrefix(arn, "arn:aws:dms:us-east-1:000000000000:rep:") {
		t.Fatalf("ARN %q", arn)
	}
	if ri.ReplicationSubnetGroup == nil || aws.ToString(ri.ReplicationSubnetGroup.ReplicationSubnetGroupIdentifier) != "default" {
		t.Fatalf("instance without the default subnet group: %+v", ri.ReplicationSubnetGroup)
	}
	if len(ri.ReplicationSubnetGroup.Subnets) < 2 || aws.ToString(ri.ReplicationSubnetGroup.SubnetGroupStatus) != "Complete" {
		t.Fatalf("default subnet group: %+v", ri.ReplicationSubnetGroup)
	}
	if ri.PendingModifiedValues == nil || aws.ToString(ri.EngineVersion) == "" || ri.InstanceCreateTime == nil {
		t.Fatalf("instance misses members: %+v", ri)
	}

	// Duplicate and invalid identifiers.
	_, err := c.CreateReplicationInstance(ctx, &dmssdk.CreateReplicationInstanceInput{
		ReplicationInstanceIdentifier: aws.String("my-instance-1"), ReplicationInstanceClass: aws.String("dms.t3.medium")})
	wantFault(t, err, "ResourceAlreadyExistsFault", "my-instance-1")
	for _, bad := range []string{"1abc", "a--b", "ends-", "has_underscore", strings.Repeat("a", 64)} {
		_, err = c.CreateReplicationInstance(ctx, &dmssdk.CreateReplicationInstanceInput{
			ReplicationInstanceIdentifier: aws.String(bad), ReplicationInstanceClass: aws.String("dms.t3.medium")})
		wantFault(t, err, "InvalidParameterValueException", "ReplicationInstanceIdentifier")
	}
	_, err = c.CreateReplicationInstance(ctx, &dmssdk.CreateReplicationInstanceInput{
		ReplicationInstanceIdentifier: aws.String("x2"), ReplicationInstanceClass: aws.String("dms.nope.huge")})
	wantFault(t, err, "InvalidParameterValueException", "ReplicationInstanceClass")
	_, err = c.CreateReplicationInstance(ctx, &dmssdk.CreateReplicationInstanceInput{
		ReplicationInstanceIdentifier: aws.String("x3"), ReplicationInstanceClass: aws.String("dms.t3.medium"),
		ReplicationSubnetGroupIdentifier: aws.String("no-such-group")})
	wantFault(t, err, "ResourceNotFoundFault", "no-such-group")

	// Filters: by id works, a filter that matches nothing is ResourceNotFoundFault, an unknown filter is invalid.
	out, err := c.DescribeReplicationInstances(ctx, &dmssdk.DescribeReplicationInstancesInput{
		Filters: []types.Filter{{Name: aws.String("replication-instance-id"), Values: []string{"my-instance-1"}}}})
	if err != nil || len(out.ReplicationInstances) != 1 {
		t.Fatalf("describe by id: %v %+v", err, out)
	}
	_, err = c.DescribeReplicationInstances(ctx, &dmssdk.DescribeReplicationInstancesInput{
		Filters: []types.Filter{{Name: aws.String("replication-instance-id"), Values: []string{"nope"}}}})
	wantFault(t, err, "ResourceNotFoundFault")
	_, err = c.DescribeReplicationInstances(ctx, &dmssdk.DescribeReplicationInstancesInput{
		Filters: []types.Filter{{Name: aws.String("colour"), Values: []string{"red"}}}})
	wantFault(t, err, "InvalidParameterValueException", "colour")
	_, err = c.DescribeReplicationInstances(ctx, &dmssdk.DescribeReplicationInstancesInput{MaxRecords: aws.Int32(5)})
	wantFault(t, err, "InvalidParameterValueException", "MaxRecords")

	// Modify with ApplyImmediately goes through "modifying" back to "available".
	mod, err := c.ModifyReplicationInstance(ctx, &dmssdk.ModifyReplicationInstanceInput{
		ReplicationInstanceArn: aws.String(arn), ReplicationInstanceClass: aws.String("dms.c5.large"), ApplyImmediately: true})
	if err != nil {
		t.Fatal(err)
	}
	if st := aws.ToString(mod.ReplicationInstance.ReplicationInstanceStatus); st != "modifying" {
		t.Fatalf("modify returned %q", st)
	}
	if aws.ToString(mod.ReplicationInstance.PendingModifiedValues.ReplicationInstanceClass) != "dms.c5.large" {
		t.Fatalf("pending values: %+v", mod.ReplicationInstance.PendingModifiedValues)
	}
	ri = waitAvailable(t, c, arn)
	if aws.ToString(ri.ReplicationInstanceClass) != "dms.c5.large" {
		t.Fatalf("class after modify: %s", aws.ToString(ri.ReplicationInstanceClass))
	}
	// Without ApplyImmediately the change waits for the maintenance window.
	mod, err = c.ModifyReplicationInstance(ctx, &dmssdk.ModifyReplicationInstanceInput{
		ReplicationInstanceArn: aws.String(arn), AllocatedStorage: aws.Int32(200)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(mod.ReplicationInstance.ReplicationInstanceStatus) != "available" || aws.ToInt32(mod.ReplicationInstance.PendingModifiedValues.AllocatedStorage) != 200 {
		t.Fatalf("deferred modify: %+v", mod.ReplicationInstance)
	}

	reb, err := c.RebootReplicationInstance(ctx, &dmssdk.RebootReplicationInstanceInput{ReplicationInstanceArn: aws.String(arn)})
	if err != nil || aws.ToString(reb.ReplicationInstance.ReplicationInstanceStatus) != "rebooting" {
		t.Fatalf("reboot: %v", err)
	}
	_, err = c.RebootReplicationInstance(ctx, &dmssdk.RebootReplicationInstanceInput{ReplicationInstanceArn: aws.String(arn), ForceFailover: aws.Bool(true)})
	if err == nil {
		t.Fatal("reboot of a rebooting instance (or failover of a single-AZ instance) succeeded")
	}
	waitAvailable(t, c, arn)

	// Tags, including on the subnet group ARN clients build themselves.
	_, err = c.AddTagsToResource(ctx, &dmssdk.AddTagsToResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}})
	if err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &dmssdk.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil || len(tags.TagList) != 1 || aws.ToString(tags.TagList[0].Value) != "data" {
		t.Fatalf("tags: %v %+v", err, tags)
	}
	_, err = c.AddTagsToResource(ctx, &dmssdk.AddTagsToResourceInput{ResourceArn: aws.String("arn:aws:dms:us-east-1:000000000000:subgrp:default"),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if err != nil {
		t.Fatalf("tag the default subnet group: %v", err)
	}
	_, err = c.RemoveTagsFromResource(ctx, &dmssdk.RemoveTagsFromResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team"}})
	if err != nil {
		t.Fatal(err)
	}
	tags, _ = c.ListTagsForResource(ctx, &dmssdk.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if len(tags.TagList) != 0 {
		t.Fatalf("tags after remove: %+v", tags.TagList)
	}
	_, err = c.ListTagsForResource(ctx, &dmssdk.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:dms:us-east-1:000000000000:rep:NOPE")})
	wantFault(t, err, "ResourceNotFoundFault")

	// Events record the lifecycle.
	ev, err := c.DescribeEvents(ctx, &dmssdk.DescribeEventsInput{SourceIdentifier: aws.String("my-instance-1"), SourceType: types.SourceTypeReplicationInstance})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range ev.Events {
		msgs = append(msgs, aws.ToString(e.Message))
	}
	joined := strings.Join(msgs, " | ")
	if !strings.Contains(joined, "creation started") || !strings.Contains(joined, "created") || !strings.Contains(joined, "class change") {
		t.Fatalf("events: %s", joined)
	}

	// Delete: deleting, then gone (the waiter's ResourceNotFoundFault).
	del, err := c.DeleteReplicationInstance(ctx, &dmssdk.DeleteReplicationInstanceInput{ReplicationInstanceArn: aws.String(arn)})
	if err != nil || aws.ToString(del.ReplicationInstance.ReplicationInstanceStatus) != "deleting" {
		t.Fatalf("delete: %v", err)
	}
	w := dmssdk.NewReplicationInstanceDeletedWaiter(c, func(o *dmssdk.ReplicationInstanceDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50e6, 200e6
	})
	if err := w.Wait(ctx, &dmssdk.DescribeReplicationInstancesInput{Filters: []types.Filter{{Name: aws.String("replication-instance-arn"), Values: []string{arn}}}}, 60e9); err != nil {
		t.Fatalf("deleted waiter: %v", err)
	}
}

func waitAvailable(t *testing.T, c *dmssdk.Client, arn string) *types.ReplicationInstance {
	t.Helper()
	w := dmssdk.NewReplicationInstanceAvailableWaiter(c, func(o *dmssdk.ReplicationInstanceAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50e6, 200e6
	})
	out, err := w.WaitForOutput(ctxT(t), &dmssdk.DescribeReplicationInstancesInput{
		Filters: []types.Filter{{Name: aws.String("replication-instance-arn"), Values: []string{arn}}}}, 60e9)
	if err != nil {
		t.Fatal(err)
	}
	return &out.ReplicationInstances[0]
}

func TestSubnetGroupsAndCatalog(t *testing.T) {
	s := startServer(t)
	c := s.client(t)
	ctx := ctxT(t)
	g, err := c.CreateReplicationSubnetGroup(ctx, &dmssdk.CreateReplicationSubnetGroupInput{
		ReplicationSubnetGroupIdentifier: aws.String("grp1"), ReplicationSubnetGroupDescription: aws.String("two subnets"),
		SubnetIds: []string{"subnet-0a1b2c3d", "subnet-0a1b2c3e"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(g.ReplicationSubnetGroup.Subnets); n != 2 {
		t.Fatalf("subnets: %d", n)
	}
	_, err = c.CreateReplicationSubnetGroup(ctx, &dmssdk.CreateReplicationSubnetGroupInput{
		ReplicationSubnetGroupIdentifier: aws.String("grp2"), ReplicationSubnetGroupDescription: aws.String("one"), SubnetIds: []string{"subnet-0a1b2c3d"}})
	wantFault(t, err, "ReplicationSubnetGroupDoesNotCoverEnoughAZs")
	_, err = c.CreateReplicationSubnetGroup(ctx, &dmssdk.CreateReplicationSubnetGroupInput{
		ReplicationSubnetGroupIdentifier: aws.String("grp3"), ReplicationSubnetGroupDescription: aws.String("bad"), SubnetIds: []string{"nope", "subnet-1"}})
	wantFault(t, err, "InvalidSubnet")
	ri, err := c.CreateReplicationInstance(ctx, &dmssdk.CreateReplicationInstanceInput{ReplicationInstanceIdentifier: aws.String("in-grp1"),
		ReplicationInstanceClass: aws.String("dms.t3.small"), ReplicationSubnetGroupIdentifier: aws.String("grp1")})
	if err != nil {
		t.Fatal(err)
	}
	waitAvailable(t, c, aws.ToString(ri.ReplicationInstance.ReplicationInstanceArn))
	_, err = c.DeleteReplicationSubnetGroup(ctx, &dmssdk.DeleteReplicationSubnetGroupInput{ReplicationSubnetGroupIdentifier: aws.String("grp1")})
	wantFault(t, err, "InvalidResourceStateFault", "in-grp1")
	// A subnet-group filter that matches nothing is an empty page, as on AWS.
	empty, err := c.DescribeReplicationSubnetGroups(ctx, &dmssdk.DescribeReplicationSubnetGroupsInput{
		Filters: []types.Filter{{Name: aws.String("replication-subnet-group-id"), Values: []string{"nope"}}}})
	if err != nil || len(empty.ReplicationSubnetGroups) != 0 {
		t.Fatalf("empty filter: %v %+v", err, empty)
	}

	types1, err := c.DescribeEndpointTypes(ctx, &dmssdk.DescribeEndpointTypesInput{Filters: []types.Filter{{Name: aws.String("engine-name"), Values: []string{"postgres"}}}})
	if err != nil || len(types1.SupportedEndpointTypes) != 2 {
		t.Fatalf("endpoint types for postgres: %v %+v", err, types1)
	}
	set, err := c.DescribeEndpointSettings(ctx, &dmssdk.DescribeEndpointSettingsInput{EngineName: aws.String("postgres")})
	if err != nil || len(set.EndpointSettings) == 0 {
		t.Fatalf("endpoint settings: %v", err)
	}
	ev, err := c.DescribeEngineVersions(ctx, &dmssdk.DescribeEngineVersionsInput{})
	if err != nil || len(ev.EngineVersions) == 0 {
		t.Fatalf("engine versions: %v", err)
	}
	ord, err := c.DescribeOrderableReplicationInstances(ctx, &dmssdk.DescribeOrderableReplicationInstancesInput{})
	if err != nil || len(ord.OrderableReplicationInstances) == 0 {
		t.Fatalf("orderable: %v", err)
	}
	acct, err := c.DescribeAccountAttributes(ctx, &dmssdk.DescribeAccountAttributesInput{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, q := range acct.AccountQuotas {
		if aws.ToString(q.AccountQuotaName) == "ReplicationInstances" {
			found = q.Used == 1 && q.Max == 60
		}
	}
	if !found {
		t.Fatalf("account quotas: %+v", acct.AccountQuotas)
	}
	cats, err := c.DescribeEventCategories(ctx, &dmssdk.DescribeEventCategoriesInput{})
	if err != nil || len(cats.EventCategoryGroupList) != 2 {
		t.Fatalf("event categories: %v %+v", err, cats)
	}
}
