package service

import (
	"context"

	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
	"github.com/godwit-dms/godwit/internal/store"
)

// The methods in this file are called by the engine as it reconciles the
// desired state: they move resources out of their transitional statuses.

// CompleteInstanceTransition moves an instance that is creating, modifying,
// upgrading or rebooting to available (applying its target modification),
// if it is still in status from. It reports whether it changed anything.
func (s *Service) CompleteInstanceTransition(ctx context.Context, arn, from string) (bool, error) {
	changed := false
	err := s.update(ctx, func(tx store.Tx) error {
		ri, rec, err := s.GetInstance(ctx, tx, arn)
		if err != nil {
			return err
		}
		if ri.Status != from {
			return nil
		}
		var events []string
		switch from {
		case dms.InstanceCreating:
			events = []string{catalog.EventInstanceCreated}
		case dms.InstanceModifying, dms.InstanceUpgrading:
			events = modifyEvents(ri.Target, false)
			ri.Target.Apply(ri)
			ri.Target = nil
		case dms.InstanceRebooting:
			if ri.ForceFailover {
				events = []string{catalog.EventInstanceFailoverDone}
			}
			ri.RebootRequested, ri.ForceFailover = false, false
		default:
			return nil
		}
		ri.Status = dms.InstanceAvailable
		changed = true
		if err := save(ctx, tx, rec, ri); err != nil {
			return err
		}
		for _, id := range events {
			if err := s.event(ctx, tx, ri.Identifier, id); err != nil {
				return err
			}
		}
		return nil
	})
	return changed, err
}

// PurgeInstance removes a deleting instance and its connections.
func (s *Service) PurgeInstance(ctx context.Context, arn string) error {
	return s.update(ctx, func(tx store.Tx) error {
		ri, rec, err := s.GetInstance(ctx, tx, arn)
		if IsCode(err, CodeNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if ri.Status != dms.InstanceDeleting {
			return nil
		}
		conns, err := list[dms.Connection](ctx, tx, KindConnection, ri.ARN)
		if err != nil {
			return err
		}
		for _, c := range conns {
			if err := tx.RecordDelete(ctx, KindConnection, dms.ConnectionID(c.InstanceARN, c.EndpointARN)); err != nil {
				return err
			}
		}
		if err := tx.RecordDelete(ctx, KindInstance, rec.ID); err != nil {
			return err
		}
		return s.event(ctx, tx, ri.Identifier, catalog.EventInstanceDeleted)
	})
}
