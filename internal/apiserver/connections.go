package apiserver

import (
	"context"

	"github.com/godwit-dms/godwit/internal/api"
	"github.com/godwit-dms/godwit/internal/dms"
)

func connectionShape(c *dms.Connection) *api.Connection {
	return &api.Connection{
		ReplicationInstanceArn:        ptr(c.InstanceARN),
		EndpointArn:                   ptr(c.EndpointARN),
		Status:                        ptr(c.Status),
		LastFailureMessage:            optPtr(c.LastFailureMessage),
		EndpointIdentifier:            ptr(c.EndpointIdentifier),
		ReplicationInstanceIdentifier: ptr(c.InstanceIdentifier),
	}
}

func (s *Server) TestConnection(ctx context.Context, in *api.TestConnectionMessage) (*api.TestConnectionResponse, error) {
	c, err := s.Svc.TestConnection(ctx, str(in.ReplicationInstanceArn), str(in.EndpointArn))
	if err != nil {
		return nil, err
	}
	return &api.TestConnectionResponse{Connection: connectionShape(c)}, nil
}

func (s *Server) DescribeConnections(ctx context.Context, in *api.DescribeConnectionsMessage) (*api.DescribeConnectionsResponse, error) {
	all, err := s.Svc.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	items, err := applyFilters(all, in.Filters, filterFields[*dms.Connection]{
		"endpoint-arn":             func(c *dms.Connection) []string { return []string{c.EndpointARN} },
		"replication-instance-arn": func(c *dms.Connection) []string { return []string{c.InstanceARN} },
	})
	if err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 && len(items) == 0 {
		return nil, noneMatched("Connections")
	}
	pg, next, err := page(items, in.Marker, in.MaxRecords, limitsStd)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeConnectionsResponse{Marker: next, Connections: []api.Connection{}}
	for _, c := range pg {
		out.Connections = append(out.Connections, *connectionShape(c))
	}
	return out, nil
}

func (s *Server) DeleteConnection(ctx context.Context, in *api.DeleteConnectionMessage) (*api.DeleteConnectionResponse, error) {
	c, err := s.Svc.DeleteConnection(ctx, str(in.ReplicationInstanceArn), str(in.EndpointArn))
	if err != nil {
		return nil, err
	}
	return &api.DeleteConnectionResponse{Connection: connectionShape(c)}, nil
}
