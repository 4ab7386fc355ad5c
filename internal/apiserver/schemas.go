package apiserver

import (
	"context"

	"github.com/godwit-dms/godwit/internal/api"
	"github.com/godwit-dms/godwit/internal/dms"
)

func refreshShape(r *dms.SchemaRefresh) *api.RefreshSchemasStatus {
	return &api.RefreshSchemasStatus{EndpointArn: ptr(r.EndpointARN), ReplicationInstanceArn: ptr(r.InstanceARN),
		Status: ptr(r.Status), LastFailureMessage: optPtr(r.LastFailure), LastRefreshDate: api.NewTime(r.LastRefresh)}
}

func (s *Server) RefreshSchemas(ctx context.Context, in *api.RefreshSchemasMessage) (*api.RefreshSchemasResponse, error) {
	r, err := s.Svc.RefreshSchemas(ctx, str(in.EndpointArn), str(in.ReplicationInstanceArn))
	if err != nil {
		return nil, err
	}
	return &api.RefreshSchemasResponse{RefreshSchemasStatus: refreshShape(r)}, nil
}

func (s *Server) DescribeRefreshSchemasStatus(ctx context.Context, in *api.DescribeRefreshSchemasStatusMessage) (*api.DescribeRefreshSchemasStatusResponse, error) {
	r, err := s.Svc.GetSchemaRefresh(ctx, str(in.EndpointArn))
	if err != nil {
		return nil, err
	}
	return &api.DescribeRefreshSchemasStatusResponse{RefreshSchemasStatus: refreshShape(r)}, nil
}

func (s *Server) DescribeSchemas(ctx context.Context, in *api.DescribeSchemasMessage) (*api.DescribeSchemasResponse, error) {
	r, err := s.Svc.GetSchemaRefresh(ctx, str(in.EndpointArn))
	if err != nil {
		return nil, err
	}
	if r.Status == dms.RefreshRefreshing && len(r.Schemas) == 0 {
		return nil, api.NewFault("InvalidResourceStateFault", "The schemas of endpoint %s are being refreshed; describe them when DescribeRefreshSchemasStatus says successful.", r.EndpointARN)
	}
	pg, next, err := page(r.Schemas, in.Marker, in.MaxRecords, limitsStd)
	if err != nil {
		return nil, err
	}
	return &api.DescribeSchemasResponse{Schemas: append([]string{}, pg...), Marker: next}, nil
}
