package service

import (
	"context"

	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/store"
)

// TestConnection records a connection test as "testing" and asks the engine
// to run it on the instance.
func (s *Service) TestConnection(ctx context.Context, instanceARN, endpointARN string) (*dms.Connection, error) {
	var out *dms.Connection
	err := s.update(ctx, func(tx store.Tx) error {
		ri, _, err := s.GetInstance(ctx, tx, instanceARN)
		if err != nil {
			return err
		}
		if ri.Status != dms.InstanceAvailable {
			return invalidState("Replication instance %s is %s; connections can be tested only on an available instance.", ri.Identifier, ri.Status)
		}
		ep, _, err := s.GetEndpoint(ctx, tx, endpointARN)
		if err != nil {
			return err
		}
		id := dms.ConnectionID(ri.ARN, ep.ARN)
		c, rec, err := load[dms.Connection](ctx, tx, KindConnection, id, "Connection")
		switch {
		case IsCode(err, CodeNotFound):
			c = &dms.Connection{InstanceARN: ri.ARN, EndpointARN: ep.ARN, CreatedAt: s.now()}
		case err != nil:
			return err
		case c.Status == dms.ConnectionTesting:
			return invalidState("The connection between replication instance %s and endpoint %s is already being tested.", ri.Identifier, ep.Identifier)
		}
		c.InstanceIdentifier = ri.Identifier
		c.EndpointIdentifier = ep.Identifier
		c.Status = dms.ConnectionTesting
		c.LastFailureMessage = ""
		c.Attempt++
		out = c
		if rec == nil {
			return insert(ctx, tx, KindConnection, id, "", ri.ARN, c)
		}
		return save(ctx, tx, rec, c)
	})
	if err != nil {
		return nil, err
	}
	s.notify()
	return out, nil
}

// ListConnections returns every connection.
func (s *Service) ListConnections(ctx context.Context) ([]*dms.Connection, error) {
	return list[dms.Connection](ctx, s.Store, KindConnection, "")
}

// DeleteConnection removes a tested connection.
func (s *Service) DeleteConnection(ctx context.Context, instanceARN, endpointARN string) (*dms.Connection, error) {
	var out *dms.Connection
	err := s.update(ctx, func(tx store.Tx) error {
		c, _, err := load[dms.Connection](ctx, tx, KindConnection, dms.ConnectionID(instanceARN, endpointARN), "Connection")
		if err != nil {
			return notFound("No connection between replication instance %s and endpoint %s.", instanceARN, endpointARN)
		}
		if c.Status == dms.ConnectionTesting {
			return invalidState("The connection between replication instance %s and endpoint %s is being tested; delete it when the test finishes.", c.InstanceIdentifier, c.EndpointIdentifier)
		}
		c.Status = dms.ConnectionDeleting
		out = c
		return tx.RecordDelete(ctx, KindConnection, dms.ConnectionID(instanceARN, endpointARN))
	})
	return out, err
}

// ConnectionResult is what the engine writes when a test finishes.
type ConnectionResult struct {
	InstanceARN, EndpointARN string
	Attempt                  int64
	OK                       bool
	Message                  string
}

// RecordConnectionResult stores a finished test unless a newer test of the
// same connection started meanwhile (or the connection was deleted).
func (s *Service) RecordConnectionResult(ctx context.Context, res ConnectionResult) error {
	return s.update(ctx, func(tx store.Tx) error {
		c, rec, err := load[dms.Connection](ctx, tx, KindConnection, dms.ConnectionID(res.InstanceARN, res.EndpointARN), "Connection")
		if IsCode(err, CodeNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if c.Attempt != res.Attempt || c.Status != dms.ConnectionTesting {
			return nil
		}
		c.Status = dms.ConnectionSuccessful
		c.LastFailureMessage = res.Message
		if !res.OK {
			c.Status = dms.ConnectionFailed
		}
		c.TestedAt = s.now()
		return save(ctx, tx, rec, c)
	})
}

// PendingConnectionTests lists connections waiting for a test.
func (s *Service) PendingConnectionTests(ctx context.Context) ([]*dms.Connection, error) {
	all, err := s.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	var out []*dms.Connection
	for _, c := range all {
		if c.Status == dms.ConnectionTesting {
			out = append(out, c)
		}
	}
	return out, nil
}
