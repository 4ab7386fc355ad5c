package apiserver

import (
	"context"

	"github.com/godwit-dms/godwit/internal/api"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/service"
)

func subnetGroupShape(g *dms.SubnetGroup) *api.ReplicationSubnetGroup {
	out := &api.ReplicationSubnetGroup{
		ReplicationSubnetGroupIdentifier:  ptr(g.Identifier),
		ReplicationSubnetGroupDescription: ptr(g.Description),
		VpcId:                             ptr(g.VpcID),
		SubnetGroupStatus:                 ptr("Complete"),
		SupportedNetworkTypes:             []string{"IPV4", "DUAL"},
		IsReadOnly:                        ptr(false),
		Subnets:                           []api.Subnet{},
	}
	for _, sn := range g.Subnets {
		out.Subnets = append(out.Subnets, api.Subnet{SubnetIdentifier: ptr(sn.ID), SubnetStatus: ptr("Active"),
			SubnetAvailabilityZone: &api.AvailabilityZone{Name: ptr(sn.AvailabilityZone)}})
	}
	return out
}

func (s *Server) CreateReplicationSubnetGroup(ctx context.Context, in *api.CreateReplicationSubnetGroupMessage) (*api.CreateReplicationSubnetGroupResponse, error) {
	g, err := s.Svc.CreateSubnetGroup(ctx, service.SubnetGroupSpec{
		Identifier: str(in.ReplicationSubnetGroupIdentifier), Description: in.ReplicationSubnetGroupDescription,
		SubnetIDs: in.SubnetIds, Tags: tagsIn(in.Tags),
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateReplicationSubnetGroupResponse{ReplicationSubnetGroup: subnetGroupShape(g)}, nil
}

func (s *Server) DescribeReplicationSubnetGroups(ctx context.Context, in *api.DescribeReplicationSubnetGroupsMessage) (*api.DescribeReplicationSubnetGroupsResponse, error) {
	all, err := s.Svc.ListSubnetGroups(ctx)
	if err != nil {
		return nil, err
	}
	// As on AWS, a filter that matches nothing is an empty answer here, not a fault.
	items, err := applyFilters(all, in.Filters, filterFields[*dms.SubnetGroup]{
		"replication-subnet-group-id": func(g *dms.SubnetGroup) []string { return []string{g.Identifier} },
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(items, in.Marker, in.MaxRecords, limitsStd)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeReplicationSubnetGroupsResponse{Marker: next, ReplicationSubnetGroups: []api.ReplicationSubnetGroup{}}
	for _, g := range pg {
		out.ReplicationSubnetGroups = append(out.ReplicationSubnetGroups, *subnetGroupShape(g))
	}
	return out, nil
}

func (s *Server) ModifyReplicationSubnetGroup(ctx context.Context, in *api.ModifyReplicationSubnetGroupMessage) (*api.ModifyReplicationSubnetGroupResponse, error) {
	g, err := s.Svc.ModifySubnetGroup(ctx, service.SubnetGroupSpec{
		Identifier: str(in.ReplicationSubnetGroupIdentifier), Description: in.ReplicationSubnetGroupDescription, SubnetIDs: in.SubnetIds,
	})
	if err != nil {
		return nil, err
	}
	return &api.ModifyReplicationSubnetGroupResponse{ReplicationSubnetGroup: subnetGroupShape(g)}, nil
}

func (s *Server) DeleteReplicationSubnetGroup(ctx context.Context, in *api.DeleteReplicationSubnetGroupMessage) (*api.DeleteReplicationSubnetGroupResponse, error) {
	if err := s.Svc.DeleteSubnetGroup(ctx, str(in.ReplicationSubnetGroupIdentifier)); err != nil {
		return nil, err
	}
	return &api.DeleteReplicationSubnetGroupResponse{}, nil
}
