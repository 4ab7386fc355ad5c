package engine

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/engine/fullload"
	"github.com/godwit-dms/godwit/internal/engine/validate"
)

// snapshotSource makes an open snapshot look like a source, so the first
// validation of a full-load-and-cdc task compares the target with exactly
// the snapshot it was loaded from (the source has moved on since).
type snapshotSource struct {
	fullload.Source
	snap connector.Snapshot
}

func (s snapshotSource) OpenSnapshot(context.Context, int) (connector.Snapshot, error) {
	return keepOpen{s.snap}, nil
}

// keepOpen is a snapshot whose Close leaves the underlying one open.
type keepOpen struct{ connector.Snapshot }

func (keepOpen) Close() error { return nil }

// cdcValidator re-validates the rows change processing touched: a key is
// checked once it has been applied for a moment; a key that still differs
// is checked again later, and recorded as a failure only when it has
// differed for RecordFailureDelayInMinutes (a row the source changed again
// meanwhile differs only until that change is applied too).
type cdcValidator struct {
	e        *Engine
	t        *dms.ReplicationTask
	log      *slog.Logger
	settings tasksettings.ValidationSettings
	src      validate.Source
	tgt      validate.Target
	failures atomic.Int64

	mu      sync.Mutex
	plans   map[string]*mapping.TablePlan     // by source table; replaced when DDL reshapes a table
	target  map[string]*connector.TargetTable // likewise
	pending map[string]map[string]*pendingKey // table → key text → key
	last    map[string]int                    // table → pending count last reported
}

type pendingKey struct {
	key   []string
	since time.Time // first seen differing (or applied)
	due   time.Time // next check
}

func newCDCValidator(e *Engine, t *dms.ReplicationTask, settings *tasksettings.Settings, src validate.Source, tgt validate.Target,
	plans []*mapping.TablePlan, targets map[string]*connector.TargetTable, log *slog.Logger) *cdcValidator {
	v := &cdcValidator{e: e, t: t, log: log, settings: settings.ValidationSettings, src: src, tgt: tgt,
		plans: map[string]*mapping.TablePlan{}, target: targets, pending: map[string]map[string]*pendingKey{}, last: map[string]int{}}
	for _, p := range plans {
		v.plans[p.Source.Schema+"."+p.Source.Name] = p
	}
	return v
}

// Reshaped makes the checks of a table that DDL changed use its new plan
// and target table.
func (v *cdcValidator) Reshaped(table string, p *mapping.TablePlan, tt *connector.TargetTable) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.plans[table], v.target[table] = p, tt
}

// delay is how long after it was applied a change is checked.
func (v *cdcValidator) delay() time.Duration {
	if d := v.settings.ValidationQueryCdcDelaySeconds; d > 0 {
		return time.Duration(d) * time.Second
	}
	return time.Second
}

// Applied queues the keys a commit touched.
func (v *cdcValidator) Applied(table string, keys [][]string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	m := v.pending[table]
	if m == nil {
		m = map[string]*pendingKey{}
		v.pending[table] = m
	}
	now := time.Now()
	for _, k := range keys {
		id := strings.Join(k, "\x00")
		if pk, ok := m[id]; ok {
			pk.due = now.Add(v.delay())
			continue
		}
		m[id] = &pendingKey{key: k, since: now, due: now.Add(v.delay())}
	}
}

// run checks due keys until ctx ends.
func (v *cdcValidator) run(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v.mu.Lock()
		tables := slices.Collect(maps.Keys(v.plans))
		v.mu.Unlock()
		for _, table := range tables {
			v.check(ctx, table)
		}
	}
}

func (v *cdcValidator) check(ctx context.Context, table string) {
	now := time.Now()
	v.mu.Lock()
	var due [][]string
	for _, pk := range v.pending[table] {
		if !pk.due.After(now) {
			due = append(due, pk.key)
		}
	}
	waiting := len(v.pending[table])
	p, tt := v.plans[table], v.target[table]
	v.mu.Unlock()
	if len(due) == 0 || p == nil || tt == nil {
		v.report(ctx, table, waiting, false)
		return
	}
	job := &validate.Job{Source: v.src, Target: v.tgt, Plan: p, TargetTable: tt.Target, Settings: v.settings, TaskName: v.t.ResourceID,
		Log: v.log, TaskFailures: &v.failures}
	bad, err := validate.Mismatched(ctx, job, due)
	if err != nil {
		if ctx.Err() == nil {
			v.log.Warn("CDC validation could not run", "table", table, "err", err)
			v.report(ctx, table, waiting, false) // the rows stay pending
		}
		return
	}
	if len(bad) > 0 {
		v.log.Debug("CDC validation: rows still differ", "table", table, "rows", len(bad), "first", bad[0])
	}
	badSet := map[string]bool{}
	for _, k := range bad {
		badSet[strings.Join(k, "\x00")] = true
	}
	failAfter := time.Duration(max(v.settings.RecordFailureDelayInMinutes, 0)) * time.Minute
	var record [][]string
	v.mu.Lock()
	m := v.pending[table]
	for _, k := range due {
		id := strings.Join(k, "\x00")
		pk := m[id]
		if pk == nil {
			continue
		}
		switch {
		case !badSet[id]:
			delete(m, id)
		case now.Sub(pk.since) >= failAfter:
			record = append(record, k)
			delete(m, id)
		default:
			pk.due = now.Add(v.delay())
		}
	}
	left := len(m)
	v.mu.Unlock()
	if len(record) > 0 {
		res, err := validate.Rows(ctx, job, record)
		if err == nil && res.Failed > 0 {
			_ = v.e.svc.UpdateTableStats(context.WithoutCancel(ctx), v.t, v.t.RunID, p.Source.Schema, p.Source.Name, func(ts *dms.TableStats) {
				ts.ValidationFailedRecords += res.Failed
				ts.ValidationSuspendedRecords += res.Suspended
			})
		}
	}
	v.report(ctx, table, left, len(record) > 0)
}

// report writes the table's validation state.
func (v *cdcValidator) report(ctx context.Context, table string, pending int, force bool) {
	v.mu.Lock()
	p := v.plans[table]
	last, seen := v.last[table]
	v.last[table] = pending
	v.mu.Unlock()
	if p == nil || (seen && last == pending && !force) {
		return
	}
	_ = v.e.svc.UpdateTableStats(context.WithoutCancel(ctx), v.t, v.t.RunID, p.Source.Schema, p.Source.Name, func(ts *dms.TableStats) {
		switch {
		case ts.ValidationState == "Table error" || ts.ValidationState == "No primary key" || ts.ValidationState == "Error":
			return
		case pending > 0:
			ts.ValidationState = "Pending records"
		case ts.ValidationFailedRecords > 0:
			ts.ValidationState = "Mismatched records"
		default:
			ts.ValidationState = "Validated"
		}
		ts.ValidationPendingRecords = int64(pending)
	})
}
