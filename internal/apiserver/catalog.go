package apiserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/godwit-dms/godwit/internal/api"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
)

func (s *Server) DescribeEndpointTypes(ctx context.Context, in *api.DescribeEndpointTypesMessage) (*api.DescribeEndpointTypesResponse, error) {
	items, err := applyFilters(catalog.EndpointTypes(), in.Filters, filterFields[catalog.EndpointType]{
		"engine-name":   func(t catalog.EndpointType) []string { return []string{t.EngineName} },
		"endpoint-type": func(t catalog.EndpointType) []string { return []string{t.EndpointType} },
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(items, in.Marker, in.MaxRecords, limitsStd)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeEndpointTypesResponse{Marker: next, SupportedEndpointTypes: []api.SupportedEndpointType{}}
	for _, t := range pg {
		out.SupportedEndpointTypes = append(out.SupportedEndpointTypes, api.SupportedEndpointType{
			EngineName: ptr(t.EngineName), EngineDisplayName: ptr(t.EngineDisplayName), EndpointType: ptr(t.EndpointType),
			SupportsCDC: ptr(t.SupportsCDC), ReplicationInstanceEngineMinimumVersion: optPtr(t.ReplicationInstanceEngineMinimumVersion),
		})
	}
	return out, nil
}

func (s *Server) DescribeEndpointSettings(ctx context.Context, in *api.DescribeEndpointSettingsMessage) (*api.DescribeEndpointSettingsResponse, error) {
	settings, ok := catalog.EndpointSettings(str(in.EngineName))
	if !ok {
		return nil, api.InvalidParameter("Invalid EngineName %q: see DescribeEndpointTypes.", str(in.EngineName))
	}
	pg, next, err := page(settings, in.Marker, in.MaxRecords, pageLimits{100, 1, 100})
	if err != nil {
		return nil, err
	}
	out := &api.DescribeEndpointSettingsResponse{Marker: next, EndpointSettings: []api.EndpointSetting{}}
	for _, st := range pg {
		out.EndpointSettings = append(out.EndpointSettings, api.EndpointSetting{
			Name: ptr(st.Name), Type: ptr(st.Type), EnumValues: st.EnumValues, Sensitive: ptr(st.Sensitive),
			Units: optPtr(st.Units), Applicability: optPtr(st.Applicability), IntValueMin: st.IntValueMin,
			IntValueMax: st.IntValueMax, DefaultValue: optPtr(st.DefaultValue),
		})
	}
	return out, nil
}

func (s *Server) DescribeEngineVersions(ctx context.Context, in *api.DescribeEngineVersionsMessage) (*api.DescribeEngineVersionsResponse, error) {
	pg, next, err := page(catalog.EngineVersions(), in.Marker, in.MaxRecords, pageLimits{100, 20, 100})
	if err != nil {
		return nil, err
	}
	out := &api.DescribeEngineVersionsResponse{Marker: next, EngineVersions: []api.EngineVersion{}}
	for _, v := range pg {
		out.EngineVersions = append(out.EngineVersions, api.EngineVersion{
			Version: ptr(v.Version), Lifecycle: ptr(v.Lifecycle), ReleaseStatus: ptr(v.ReleaseStatus),
			LaunchDate: api.NewTime(v.LaunchDate), AutoUpgradeDate: api.NewTime(v.AutoUpgradeDate),
			DeprecationDate: api.NewTime(v.DeprecationDate), ForceUpgradeDate: api.NewTime(v.ForceUpgradeDate),
			AvailableUpgrades: append([]string{}, v.AvailableUpgrades...),
		})
	}
	return out, nil
}

func (s *Server) DescribeOrderableReplicationInstances(ctx context.Context, in *api.DescribeOrderableReplicationInstancesMessage) (*api.DescribeOrderableReplicationInstancesResponse, error) {
	pg, next, err := page(catalog.OrderableInstances(s.Svc.Account.Region), in.Marker, in.MaxRecords, limitsStd)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeOrderableReplicationInstancesResponse{Marker: next, OrderableReplicationInstances: []api.OrderableReplicationInstance{}}
	for _, o := range pg {
		out.OrderableReplicationInstances = append(out.OrderableReplicationInstances, api.OrderableReplicationInstance{
			EngineVersion: ptr(o.EngineVersion), ReplicationInstanceClass: ptr(o.ReplicationInstanceClass), StorageType: ptr(o.StorageType),
			MinAllocatedStorage: ptr(o.MinAllocatedStorage), MaxAllocatedStorage: ptr(o.MaxAllocatedStorage),
			DefaultAllocatedStorage: ptr(o.DefaultAllocatedStorage), IncludedAllocatedStorage: ptr(o.IncludedAllocatedStorage),
			AvailabilityZones: o.AvailabilityZones, ReleaseStatus: optPtr(o.ReleaseStatus),
		})
	}
	return out, nil
}

func (s *Server) DescribeAccountAttributes(ctx context.Context, in *api.DescribeAccountAttributesMessage) (*api.DescribeAccountAttributesResponse, error) {
	u, err := s.Svc.AccountUsage(ctx)
	if err != nil {
		return nil, err
	}
	used := map[string]int64{
		catalog.QuotaReplicationInstances:    int64(u.Instances),
		catalog.QuotaAllocatedStorage:        u.AllocatedStorage,
		catalog.QuotaEndpoints:               int64(u.Endpoints),
		catalog.QuotaReplicationSubnetGroups: int64(u.SubnetGroups),
		catalog.QuotaCertificates:            int64(u.Certificates),
	}
	h := sha256.Sum256([]byte(s.Svc.Account.ID))
	out := &api.DescribeAccountAttributesResponse{UniqueAccountIdentifier: ptr(hex.EncodeToString(h[:])[:12]), AccountQuotas: []api.AccountQuota{}}
	for _, q := range catalog.AccountQuotas() {
		out.AccountQuotas = append(out.AccountQuotas, api.AccountQuota{AccountQuotaName: ptr(q.Name), Max: ptr(q.Max), Used: ptr(used[q.Name])})
	}
	return out, nil
}

// Godwit has no maintenance: nothing is ever pending. Both operations still
// check the instance they name exists.

func (s *Server) DescribePendingMaintenanceActions(ctx context.Context, in *api.DescribePendingMaintenanceActionsMessage) (*api.DescribePendingMaintenanceActionsResponse, error) {
	if arn := str(in.ReplicationInstanceArn); arn != "" {
		if _, _, err := s.Svc.GetInstance(ctx, s.Svc.Store, arn); err != nil {
			return nil, err
		}
	}
	if _, err := applyFilters([]*dms.ReplicationInstance{}, in.Filters, filterFields[*dms.ReplicationInstance]{
		"replication-instance-arn": func(ri *dms.ReplicationInstance) []string { return []string{ri.ARN} },
	}); err != nil {
		return nil, err
	}
	if _, _, err := page([]int{}, in.Marker, in.MaxRecords, limitsStd); err != nil {
		return nil, err
	}
	return &api.DescribePendingMaintenanceActionsResponse{PendingMaintenanceActions: []api.ResourcePendingMaintenanceActions{}}, nil
}

func (s *Server) ApplyPendingMaintenanceAction(ctx context.Context, in *api.ApplyPendingMaintenanceActionMessage) (*api.ApplyPendingMaintenanceActionResponse, error) {
	ri, _, err := s.Svc.GetInstance(ctx, s.Svc.Store, str(in.ReplicationInstanceArn))
	if err != nil {
		return nil, err
	}
	return nil, api.InvalidParameter("Replication instance %s has no pending maintenance action %q: Godwit instances never have pending maintenance (DescribePendingMaintenanceActions lists none).", ri.Identifier, str(in.ApplyAction))
}
