package apiserver

import (
	"context"
	"encoding/json"

	"github.com/godwit-dms/godwit/internal/api"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/service"
)

func (s *Server) instanceShape(ri *dms.ReplicationInstance, g *dms.SubnetGroup) *api.ReplicationInstance {
	out := &api.ReplicationInstance{
		ReplicationInstanceArn:                ptr(ri.ARN),
		ReplicationInstanceIdentifier:         ptr(ri.Identifier),
		ReplicationInstanceClass:              ptr(ri.Class),
		ReplicationInstanceStatus:             ptr(ri.Status),
		AllocatedStorage:                      ptr(ri.AllocatedStorage),
		InstanceCreateTime:                    api.NewTime(ri.CreatedAt),
		AvailabilityZone:                      optPtr(ri.AvailabilityZone),
		SecondaryAvailabilityZone:             optPtr(ri.SecondaryAvailabilityZone),
		EngineVersion:                         ptr(ri.EngineVersion),
		AutoMinorVersionUpgrade:               ptr(ri.AutoMinorVersionUpgrade),
		MultiAZ:                               ptr(ri.MultiAZ),
		PubliclyAccessible:                    ptr(ri.PubliclyAccessible),
		KmsKeyId:                              optPtr(ri.KmsKeyID),
		NetworkType:                           optPtr(ri.NetworkType),
		PreferredMaintenanceWindow:            optPtr(ri.PreferredMaintenanceWindow),
		DnsNameServers:                        optPtr(ri.DNSNameServers),
		PendingModifiedValues:                 &api.ReplicationPendingModifiedValues{},
		ReplicationInstancePrivateIpAddress:   optPtr(ri.PrivateIP),
		ReplicationInstancePrivateIpAddresses: []string{},
		ReplicationInstancePublicIpAddresses:  []string{},
		ReplicationInstanceIpv6Addresses:      []string{},
	}
	if ri.PrivateIP != "" {
		out.ReplicationInstancePrivateIpAddresses = []string{ri.PrivateIP}
	}
	if ri.PublicIP != "" {
		out.ReplicationInstancePublicIpAddress = ptr(ri.PublicIP)
		out.ReplicationInstancePublicIpAddresses = []string{ri.PublicIP}
	}
	for _, sg := range ri.VpcSecurityGroupIDs {
		out.VpcSecurityGroups = append(out.VpcSecurityGroups, api.VpcSecurityGroupMembership{VpcSecurityGroupId: ptr(sg), Status: ptr("active")})
	}
	if ri.KerberosSettings != nil {
		var k api.KerberosAuthenticationSettings
		if b, err := json.Marshal(ri.KerberosSettings); err == nil && json.Unmarshal(b, &k) == nil {
			out.KerberosAuthenticationSettings = &k
		}
	}
	pending := ri.Pending.Merge(ri.Target)
	if ri.Pending == nil && ri.Target == nil {
		pending = nil
	}
	if pending != nil {
		out.PendingModifiedValues = &api.ReplicationPendingModifiedValues{
			ReplicationInstanceClass: pending.Class, AllocatedStorage: pending.AllocatedStorage,
			MultiAZ: pending.MultiAZ, EngineVersion: pending.EngineVersion, NetworkType: pending.NetworkType,
		}
	}
	if g != nil {
		out.ReplicationSubnetGroup = subnetGroupShape(g)
	}
	return out
}

func (s *Server) CreateReplicationInstance(ctx context.Context, in *api.CreateReplicationInstanceMessage) (*api.CreateReplicationInstanceResponse, error) {
	spec := service.InstanceSpec{
		Identifier:                 str(in.ReplicationInstanceIdentifier),
		Class:                      str(in.ReplicationInstanceClass),
		ResourceIdentifier:         str(in.ResourceIdentifier),
		AllocatedStorage:           in.AllocatedStorage,
		EngineVersion:              str(in.EngineVersion),
		AutoMinorVersionUpgrade:    in.AutoMinorVersionUpgrade,
		AvailabilityZone:           str(in.AvailabilityZone),
		MultiAZ:                    boolv(in.MultiAZ),
		PubliclyAccessible:         in.PubliclyAccessible,
		KmsKeyID:                   str(in.KmsKeyId),
		NetworkType:                str(in.NetworkType),
		PreferredMaintenanceWindow: str(in.PreferredMaintenanceWindow),
		DNSNameServers:             str(in.DnsNameServers),
		SubnetGroupID:              str(in.ReplicationSubnetGroupIdentifier),
		VpcSecurityGroupIDs:        in.VpcSecurityGroupIds,
		KerberosSettings:           toMap(in.KerberosAuthenticationSettings),
		Tags:                       tagsIn(in.Tags),
	}
	ri, g, err := s.Svc.CreateInstance(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &api.CreateReplicationInstanceResponse{ReplicationInstance: s.instanceShape(ri, g)}, nil
}

func toMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil || len(m) == 0 {
		return nil
	}
	return m
}

func (s *Server) withGroup(ctx context.Context, ri *dms.ReplicationInstance) (*api.ReplicationInstance, error) {
	g, err := s.Svc.GetSubnetGroup(ctx, s.Svc.Store, ri.SubnetGroupID)
	if err != nil && !service.IsCode(err, service.CodeNotFound) {
		return nil, err
	}
	return s.instanceShape(ri, g), nil
}

func (s *Server) DescribeReplicationInstances(ctx context.Context, in *api.DescribeReplicationInstancesMessage) (*api.DescribeReplicationInstancesResponse, error) {
	all, err := s.Svc.ListInstances(ctx)
	if err != nil {
		return nil, err
	}
	items, err := applyFilters(all, in.Filters, filterFields[*dms.ReplicationInstance]{
		"replication-instance-arn":   func(ri *dms.ReplicationInstance) []string { return []string{ri.ARN} },
		"replication-instance-id":    func(ri *dms.ReplicationInstance) []string { return []string{ri.Identifier} },
		"replication-instance-class": func(ri *dms.ReplicationInstance) []string { return []string{ri.Class} },
		"engine-version":             func(ri *dms.ReplicationInstance) []string { return []string{ri.EngineVersion} },
	})
	if err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 && len(items) == 0 {
		return nil, noneMatched("ReplicationInstances")
	}
	pg, next, err := page(items, in.Marker, in.MaxRecords, limitsStd)
	if err != nil {
		return nil, err
	}
	groups, err := s.Svc.ListSubnetGroups(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]*dms.SubnetGroup{}
	for _, g := range groups {
		byID[g.Identifier] = g
	}
	out := &api.DescribeReplicationInstancesResponse{Marker: next, ReplicationInstances: []api.ReplicationInstance{}}
	for _, ri := range pg {
		out.ReplicationInstances = append(out.ReplicationInstances, *s.instanceShape(ri, byID[ri.SubnetGroupID]))
	}
	return out, nil
}

func (s *Server) ModifyReplicationInstance(ctx context.Context, in *api.ModifyReplicationInstanceMessage) (*api.ModifyReplicationInstanceResponse, error) {
	m := service.InstanceModify{
		ARN:           str(in.ReplicationInstanceArn),
		NewIdentifier: str(in.ReplicationInstanceIdentifier),
		Change: dms.InstanceChange{
			Class: in.ReplicationInstanceClass, AllocatedStorage: in.AllocatedStorage,
			MultiAZ: in.MultiAZ, EngineVersion: in.EngineVersion, NetworkType: in.NetworkType,
		},
		ApplyImmediately:           boolv(in.ApplyImmediately),
		AllowMajorVersionUpgrade:   boolv(in.AllowMajorVersionUpgrade),
		AutoMinorVersionUpgrade:    in.AutoMinorVersionUpgrade,
		PreferredMaintenanceWindow: str(in.PreferredMaintenanceWindow),
		VpcSecurityGroupIDs:        in.VpcSecurityGroupIds,
		KerberosSettings:           toMap(in.KerberosAuthenticationSettings),
	}
	ri, err := s.Svc.ModifyInstance(ctx, m)
	if err != nil {
		return nil, err
	}
	shape, err := s.withGroup(ctx, ri)
	if err != nil {
		return nil, err
	}
	return &api.ModifyReplicationInstanceResponse{ReplicationInstance: shape}, nil
}

func (s *Server) RebootReplicationInstance(ctx context.Context, in *api.RebootReplicationInstanceMessage) (*api.RebootReplicationInstanceResponse, error) {
	ri, err := s.Svc.RebootInstance(ctx, str(in.ReplicationInstanceArn), boolv(in.ForceFailover), boolv(in.ForcePlannedFailover))
	if err != nil {
		return nil, err
	}
	shape, err := s.withGroup(ctx, ri)
	if err != nil {
		return nil, err
	}
	return &api.RebootReplicationInstanceResponse{ReplicationInstance: shape}, nil
}

func (s *Server) DeleteReplicationInstance(ctx context.Context, in *api.DeleteReplicationInstanceMessage) (*api.DeleteReplicationInstanceResponse, error) {
	ri, err := s.Svc.DeleteInstance(ctx, str(in.ReplicationInstanceArn))
	if err != nil {
		return nil, err
	}
	shape, err := s.withGroup(ctx, ri)
	if err != nil {
		return nil, err
	}
	return &api.DeleteReplicationInstanceResponse{ReplicationInstance: shape}, nil
}
