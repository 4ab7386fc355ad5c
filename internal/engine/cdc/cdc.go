// Package cdc streams committed changes from a source and applies them to a
// target: transactional apply (source transactions kept, small ones grouped
// into one target commit) or batch apply (net changes per table, set-based).
// The position is checkpointed only after the target committed, and appliers
// are idempotent, so a restart from the last checkpoint loses nothing and,
// on tables with a key, duplicates nothing.
package cdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/record"
)

// Counts are the changes of one table applied by one commit, with the
// source keys (as fullload.KeyText makes them) of the rows they touched
// when the Job wants them.
type Counts struct {
	Inserts, Updates, Deletes, Ddls int64
	Keys                            [][]string
}

// Checkpointer persists progress after each target commit.
type Checkpointer interface {
	// Checkpoint records that every change up to pos is on the target, with
	// the per-table counts ("schema.table") of what this commit applied.
	Checkpoint(ctx context.Context, pos string, applied map[string]*Counts, latency time.Duration) error
}

// Job is one run of change processing.
type Job struct {
	Streamer connector.ChangeStreamer
	Applier  connector.ChangeApplier
	Req      *connector.CDCRequest
	// From is the position to stream from (the last checkpoint).
	From string
	// Tables maps "schema.table" of the source to its target.
	Tables map[string]*connector.TargetTable
	// Select maps "schema.table" of a source table with source filters
	// (selection rules) to them: changes of rows they do not select are
	// not applied.
	Select   map[string]RowSelector
	Settings *tasksettings.Settings
	// StopAt, when set, ends the run before the first transaction committed
	// after it (commit time) or once the clock passes it (server time).
	StopAt *StopPosition
	// StopAfter, when set, ends the run (ErrCachedChangesApplied) once
	// every change up to this source position is applied.
	StopAfter   string
	Checkpoints Checkpointer
	// WantKeys says the Checkpointer uses Counts.Keys (row validation);
	// without it they are not collected.
	WantKeys bool
	Log      *slog.Logger
	// OnApplyError, when set, records a change the target rejected under a
	// LOG_ERROR policy (awsdms_apply_exceptions).
	OnApplyError func(ctx context.Context, c record.Change, err error)
	// OnSuspend, when set, hears of a table suspended by the SUSPEND_TABLE
	// policy (awsdms_suspended_tables).
	OnSuspend func(ctx context.Context, schema, table string, err error)
	// Monitor, when set, sees every transaction read from the source
	// (latency, pending changes, awsdms_status).
	Monitor Monitor
	// Shapes, when set, follows the shapes of the source tables: before a
	// change whose table's shape differs from the one the target reflects
	// (source DDL), what came before is committed and Shapes brings the
	// target and Tables along.
	Shapes ShapeTracker
}

// Monitor follows what change processing reads; what is applied reaches
// the Checkpointer. Its methods are called from the goroutine reading the
// source stream.
type Monitor interface {
	// Streaming says the stream (re)starts from position from: what was
	// read before and not checkpointed will be read again.
	Streaming(from string)
	// Captured is called for each transaction read, when it is read.
	Captured(tx *record.Transaction, received time.Time)
}

// ShapeTracker follows source DDL for a run.
type ShapeTracker interface {
	// Altered says whether the shape of c.Table differs from the one the
	// target reflects for that table.
	Altered(c *record.Change) bool
	// Alter brings the target table of t and its entry in tables to t's
	// shape as the task's DDL policy says; it returns the number of DDL
	// statements applied to the target.
	Alter(ctx context.Context, tables map[string]*connector.TargetTable, t *record.Table) (int, error)
	// Dropped handles the source table t being dropped (its entry leaves
	// tables); it returns the number of DDL statements applied.
	Dropped(ctx context.Context, tables map[string]*connector.TargetTable, t *record.Table) (int, error)
}

// StopPosition is a CdcStopPosition.
type StopPosition struct {
	// CommitTime: stop before a transaction committed after At; otherwise
	// stop when the server clock passes At.
	CommitTime bool
	At         time.Time
}

// ParseStopPosition reads "server_time:2024-01-01T10:00:00" or
// "commit_time:...". An empty string is no stop position.
func ParseStopPosition(s string) (*StopPosition, error) {
	if s == "" {
		return nil, nil
	}
	kind, at, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("CdcStopPosition %q must be server_time:<time> or commit_time:<time>", s)
	}
	var sp StopPosition
	switch strings.ToLower(kind) {
	case "server_time":
	case "commit_time":
		sp.CommitTime = true
	default:
		return nil, fmt.Errorf("CdcStopPosition %q must start with server_time: or commit_time:", s)
	}
	if t, ok := ParseTime(at); ok {
		sp.At = t
		return &sp, nil
	}
	return nil, fmt.Errorf("CdcStopPosition %q: %q is not a time like 2018-02-09T12:12:12", s, at)
}

// ParseTime reads a time as DMS takes it in CdcStopPosition and
// CdcStartPosition ("2018-02-09T12:12:12", RFC 3339), in UTC.
func ParseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

var (
	// ErrStopPositionReached ends a run that reached its CdcStopPosition.
	ErrStopPositionReached = errors.New("CDC stop position reached")
	// ErrCachedChangesApplied ends a run that applied everything up to StopAfter.
	ErrCachedChangesApplied = errors.New("cached changes applied")
)

// Run processes changes until ctx ends (nil), the stop position is
// reached (ErrStopPositionReached, with StopAt telling which kind), or a
// fatal error. Recoverable errors (a lost connection) are retried per
// ErrorBehavior.RecoverableError*, starting again from the last checkpoint.
func Run(ctx context.Context, job *Job) error {
	log := job.Log
	if log == nil {
		log = slog.Default()
	}
	eb := job.Settings.ErrorBehavior
	interval := time.Duration(max(eb.RecoverableErrorInterval, 1)) * time.Second
	attempts := 0
	for {
		from, err := runOnce(ctx, job, log)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil || errors.Is(err, ErrStopPositionReached) || errors.Is(err, ErrCachedChangesApplied) {
			return err
		}
		if !errors.Is(err, connector.ErrConnectionLost) {
			return err
		}
		attempts++
		if eb.RecoverableErrorCount >= 0 && attempts > eb.RecoverableErrorCount {
			return fmt.Errorf("gave up after %d recoverable errors: %w", attempts-1, err)
		}
		job.From = from
		log.Warn("recoverable error in change processing; retrying from the last checkpoint", "err", err, "attempt", attempts, "in", interval)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
		if eb.RecoverableErrorThrottling {
			interval = min(interval*2, time.Duration(max(eb.RecoverableErrorThrottlingMax, 1))*time.Second)
		}
	}
}

// maxQueuedChanges bounds the changes read ahead of the applier (besides
// the group it is collecting or applying): a whole batch group and some
// more, so that the next group is read while the current one applies and
// the target does not wait for it. It also bounds memory whatever the
// transactions' sizes (a transaction larger than the bound waits for the
// queue to empty). A reader far ahead used to take the CPU the target
// needs on a small machine, because every message then cost a read; the
// PostgreSQL reader now gathers what arrives into larger reads
// (docs/performance.md, sittings of 2026-12-07).
const maxQueuedChanges = batchMaxChanges + 10000

// queue carries transactions from the reader to the applier, bounded by
// their changes.
type queue struct {
	ch     chan *record.Transaction
	queued atomic.Int64
	room   chan struct{} // a signal that changes left the queue
}

func newQueue() *queue {
	return &queue{ch: make(chan *record.Transaction, 65536), room: make(chan struct{}, 1)}
}

// put waits for room, then queues tx.
func (q *queue) put(ctx context.Context, tx *record.Transaction) error {
	for q.queued.Load() > maxQueuedChanges-int64(len(tx.Changes)) && q.queued.Load() > 0 {
		select {
		case <-q.room:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	q.queued.Add(int64(len(tx.Changes)))
	select {
	case q.ch <- tx:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// took says the applier took tx off the queue.
func (q *queue) took(tx *record.Transaction) {
	q.queued.Add(-int64(len(tx.Changes)))
	select {
	case q.room <- struct{}{}:
	default:
	}
}

// runOnce streams and applies until an error; it returns the last checkpoint.
func runOnce(parent context.Context, job *Job, log *slog.Logger) (string, error) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	q := newQueue()
	ch := q.ch
	streamErr := make(chan error, 1)
	if job.Monitor != nil {
		job.Monitor.Streaming(job.From)
	}
	go func() {
		defer close(ch)
		err := job.Streamer.Stream(ctx, job.Req, job.From, func(tx *record.Transaction) error {
			if job.Monitor != nil {
				job.Monitor.Captured(tx, time.Now())
			}
			return q.put(ctx, tx)
		})
		streamErr <- err
	}()
	a := &applier{job: job, log: log, checkpoint: job.From, received: job.From, took: q.took}
	err := a.loop(ctx, ch)
	cancel(err)
	for range ch {
	}
	serr := <-streamErr
	// A stream that ended by itself, not because the run is ending, failed.
	if err == nil && serr != nil && parent.Err() == nil {
		err = fmt.Errorf("reading changes from the source: %w", serr)
	}
	if err == nil && serr != nil && errors.Is(serr, connector.ErrConnectionLost) {
		err = serr
	}
	return a.checkpoint, err
}
