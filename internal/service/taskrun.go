package service

import (
	"context"
	"time"

	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
	"github.com/godwit-dms/godwit/internal/store"
)

// The methods in this file are the engine's side of the task status machine.

// CompleteTaskTransition finishes the transitional statuses the engine owns
// that need no work: creating → ready, modifying → back, moving → back on
// the new instance, deleting → gone. It reports whether the task still exists.
func (s *Service) CompleteTaskTransition(ctx context.Context, arn, from string) (bool, error) {
	exists := true
	err := s.update(ctx, func(tx store.Tx) error {
		t, rec, err := s.GetTask(ctx, tx, arn)
		if IsCode(err, CodeNotFound) {
			exists = false
			return nil
		}
		if err != nil {
			return err
		}
		if t.Status != from {
			return nil
		}
		switch from {
		case dms.TaskCreating:
			t.Status = dms.TaskReady
		case dms.TaskModifying:
			t.Status, t.ReturnStatus = t.ReturnStatus, ""
		case dms.TaskMoving:
			t.InstanceARN, t.TargetInstanceARN = t.TargetInstanceARN, ""
			t.Status, t.ReturnStatus = t.ReturnStatus, ""
		case dms.TaskDeleting:
			exists = false
			stats, err := list[dms.TableStats](ctx, tx, KindTableStats, t.ARN)
			if err != nil {
				return err
			}
			for _, ts := range stats {
				if err := tx.RecordDelete(ctx, KindTableStats, dms.TableStatsID(t.ResourceID, ts.SchemaName, ts.TableName)); err != nil {
					return err
				}
			}
			if err := tx.RecordDelete(ctx, KindTask, rec.ID); err != nil {
				return err
			}
			return s.event(ctx, tx, t.Identifier, catalog.EventTaskDeleted)
		default:
			return nil
		}
		return save(ctx, tx, rec, t)
	})
	return exists, err
}

// TaskRunning moves run runID of the task from starting to running.
func (s *Service) TaskRunning(ctx context.Context, arn string, runID int64) (*dms.ReplicationTask, error) {
	var out *dms.ReplicationTask
	err := s.update(ctx, func(tx store.Tx) error {
		t, rec, err := s.GetTask(ctx, tx, arn)
		if err != nil {
			return err
		}
		out = t
		if t.RunID != runID || t.Status != dms.TaskStarting {
			return nil
		}
		t.Status = dms.TaskRunning
		t.RunningSince = s.now()
		if err := save(ctx, tx, rec, t); err != nil {
			return err
		}
		return s.event(ctx, tx, t.Identifier, catalog.EventTaskStarted)
	})
	return out, err
}

// TaskProgress updates the statistics of run runID; fn sees the current
// values. It is a no-op for an older run.
func (s *Service) TaskProgress(ctx context.Context, arn string, runID int64, fn func(st *dms.TaskStats)) error {
	return s.update(ctx, func(tx store.Tx) error {
		t, rec, err := s.GetTask(ctx, tx, arn)
		if err != nil {
			return err
		}
		if t.RunID != runID {
			return nil
		}
		fn(&t.Stats)
		if !t.RunningSince.IsZero() {
			t.Stats.ElapsedTimeMillis = s.now().Sub(t.Stats.StartDate).Milliseconds()
		}
		return save(ctx, tx, rec, t)
	})
}

// TaskFinished ends run runID: status is stopped or failed, with the stop
// reason and, for failures, the message.
func (s *Service) TaskFinished(ctx context.Context, arn string, runID int64, status, reason, failure string) error {
	return s.update(ctx, func(tx store.Tx) error {
		t, rec, err := s.GetTask(ctx, tx, arn)
		if IsCode(err, CodeNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if t.RunID != runID {
			return nil
		}
		switch t.Status {
		case dms.TaskStarting, dms.TaskRunning, dms.TaskStopping:
		default:
			return nil
		}
		now := s.now()
		t.Status, t.StopReason, t.LastFailure = status, reason, failure
		t.Stats.StopDate = now
		t.Stats.TablesLoading = 0
		if !t.Stats.StartDate.IsZero() {
			t.Stats.ElapsedTimeMillis = now.Sub(t.Stats.StartDate).Milliseconds()
		}
		if err := save(ctx, tx, rec, t); err != nil {
			return err
		}
		ev := catalog.EventTaskStopped
		if status == dms.TaskFailed {
			ev = catalog.EventTaskFailed
		}
		return s.event(ctx, tx, t.Identifier, ev)
	})
}

// SaveTableStats inserts or replaces a table's statistics for run runID.
func (s *Service) SaveTableStats(ctx context.Context, t *dms.ReplicationTask, ts *dms.TableStats) error {
	ts.LastUpdateTime = s.now()
	return s.update(ctx, func(tx store.Tx) error {
		cur, _, err := s.GetTask(ctx, tx, t.ARN)
		if err != nil {
			return err
		}
		if cur.RunID != ts.RunID {
			return nil
		}
		id := dms.TableStatsID(t.ResourceID, ts.SchemaName, ts.TableName)
		_, rec, err := load[dms.TableStats](ctx, tx, KindTableStats, id, "")
		if IsCode(err, CodeNotFound) {
			return insert(ctx, tx, KindTableStats, id, "", t.ARN, ts)
		}
		if err != nil {
			return err
		}
		return save(ctx, tx, rec, ts)
	})
}

// ClearReloadRequest drops a table's reload flag once the engine took it.
func (s *Service) ClearReloadRequest(ctx context.Context, t *dms.ReplicationTask, schema, table string) error {
	return s.update(ctx, func(tx store.Tx) error {
		ts, rec, err := load[dms.TableStats](ctx, tx, KindTableStats, dms.TableStatsID(t.ResourceID, schema, table), "")
		if err != nil {
			return err
		}
		ts.ReloadRequested, ts.ValidateOnly = false, false
		return save(ctx, tx, rec, ts)
	})
}

// Time is the service's clock, for the engine's timestamps.
func (s *Service) Time() time.Time { return s.now() }

// UpdateTableStats applies fn to a table's statistics of run runID.
func (s *Service) UpdateTableStats(ctx context.Context, t *dms.ReplicationTask, runID int64, schema, table string, fn func(ts *dms.TableStats)) error {
	return s.update(ctx, func(tx store.Tx) error {
		ts, rec, err := load[dms.TableStats](ctx, tx, KindTableStats, dms.TableStatsID(t.ResourceID, schema, table), "")
		if err != nil {
			return err
		}
		if ts.RunID != runID {
			return nil
		}
		fn(ts)
		ts.LastUpdateTime = s.now()
		return save(ctx, tx, rec, ts)
	})
}

// SaveCDCState records change-processing state of run runID: fn edits the
// task (checkpoint, slot names, full-load flag).
func (s *Service) SaveCDCState(ctx context.Context, arn string, runID int64, fn func(t *dms.ReplicationTask)) error {
	return s.update(ctx, func(tx store.Tx) error {
		t, rec, err := s.GetTask(ctx, tx, arn)
		if err != nil {
			return err
		}
		if t.RunID != runID {
			return nil
		}
		fn(t)
		return save(ctx, tx, rec, t)
	})
}
