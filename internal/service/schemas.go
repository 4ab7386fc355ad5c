package service

import (
	"context"

	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/store"
)

// KindSchemaRefresh holds the last RefreshSchemas of each endpoint.
const KindSchemaRefresh store.Kind = "schema-refresh"

// RefreshSchemas records a schema refresh of an endpoint from an instance;
// the engine runs it.
func (s *Service) RefreshSchemas(ctx context.Context, endpointARN, instanceARN string) (*dms.SchemaRefresh, error) {
	var out *dms.SchemaRefresh
	err := s.update(ctx, func(tx store.Tx) error {
		ep, _, err := s.GetEndpoint(ctx, tx, endpointARN)
		if err != nil {
			return err
		}
		ri, _, err := s.GetInstance(ctx, tx, instanceARN)
		if err != nil {
			return err
		}
		if ri.Status != dms.InstanceAvailable {
			return invalidState("Replication instance %s is %s; schemas can be refreshed only from an available instance.", ri.Identifier, ri.Status)
		}
		r, rec, err := load[dms.SchemaRefresh](ctx, tx, KindSchemaRefresh, ep.ARN, "")
		switch {
		case IsCode(err, CodeNotFound):
			r = &dms.SchemaRefresh{EndpointARN: ep.ARN}
		case err != nil:
			return err
		case r.Status == dms.RefreshRefreshing:
			return invalidState("The schemas of endpoint %s are already being refreshed.", ep.Identifier)
		}
		r.InstanceARN = ri.ARN
		r.Status = dms.RefreshRefreshing
		r.LastFailure = ""
		r.Attempt++
		out = r
		if rec == nil {
			return insert(ctx, tx, KindSchemaRefresh, ep.ARN, "", ep.ARN, r)
		}
		return save(ctx, tx, rec, r)
	})
	if err != nil {
		return nil, err
	}
	s.notify()
	return out, nil
}

// GetSchemaRefresh returns the last refresh of an endpoint.
func (s *Service) GetSchemaRefresh(ctx context.Context, endpointARN string) (*dms.SchemaRefresh, error) {
	if _, _, err := s.GetEndpoint(ctx, s.Store, endpointARN); err != nil {
		return nil, err
	}
	r, _, err := load[dms.SchemaRefresh](ctx, s.Store, KindSchemaRefresh, endpointARN, "")
	if IsCode(err, CodeNotFound) {
		return nil, invalidState("The schemas of endpoint %s have never been refreshed: call RefreshSchemas first.", endpointARN)
	}
	return r, err
}

// PendingSchemaRefreshes lists refreshes the engine must run.
func (s *Service) PendingSchemaRefreshes(ctx context.Context) ([]*dms.SchemaRefresh, error) {
	all, err := list[dms.SchemaRefresh](ctx, s.Store, KindSchemaRefresh, "")
	if err != nil {
		return nil, err
	}
	var out []*dms.SchemaRefresh
	for _, r := range all {
		if r.Status == dms.RefreshRefreshing {
			out = append(out, r)
		}
	}
	return out, nil
}

// RecordSchemaRefresh stores the outcome of refresh attempt.
func (s *Service) RecordSchemaRefresh(ctx context.Context, endpointARN string, attempt int64, schemas []string, failure string) error {
	return s.update(ctx, func(tx store.Tx) error {
		r, rec, err := load[dms.SchemaRefresh](ctx, tx, KindSchemaRefresh, endpointARN, "")
		if IsCode(err, CodeNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if r.Attempt != attempt || r.Status != dms.RefreshRefreshing {
			return nil
		}
		r.LastRefresh = s.now()
		if failure != "" {
			r.Status, r.LastFailure = dms.RefreshFailed, failure
		} else {
			r.Status, r.Schemas = dms.RefreshSuccessful, schemas
		}
		return save(ctx, tx, rec, r)
	})
}
