// Package fullload copies the selected tables of a source into a target:
// one consistent snapshot, tables and segments in parallel up to
// MaxFullLoadSubTasks, one target transaction per CommitRate rows, and the
// progress of every segment (rows and last key committed) reported after each
// commit so a stopped load resumes where it stopped.
package fullload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
)

// Source is what a full load reads from.
type Source interface {
	connector.SchemaReader
	connector.SnapshotReader
}

// Target is what a full load writes to.
type Target interface {
	connector.BulkLoader
	connector.TargetDialect
}

// Reporter persists progress. Calls for one table are never concurrent.
type Reporter interface {
	// Table reports the table's statistics after every change.
	Table(ctx context.Context, ts *dms.TableStats) error
}

// Job is one full load.
type Job struct {
	Source   Source
	Target   Target
	Plans    []*mapping.TablePlan
	Settings *tasksettings.Settings
	// Previous holds the statistics of the last run by "schema|table", for resume.
	Previous map[string]*dms.TableStats
	// Resume continues unfinished tables from their last committed key;
	// otherwise every table is loaded from scratch.
	Resume bool
	// Reload marks the tables as reloaded (ReloadTables).
	Reload   bool
	RunID    int64
	TaskARN  string
	Reporter Reporter
	LoadTime time.Time
	Log      *slog.Logger
	// Snapshot, when set, is the snapshot to read in (the one CDC started
	// from); the caller closes it. Nil = open one.
	Snapshot connector.Snapshot
	// SegmentRows is the table size above which a keyed table is split into
	// segments (default 1,000,000 rows).
	SegmentRows int64
	// CommitEvery is how long one load statement takes batches before it
	// commits and the segment's progress is recorded, where the target can
	// keep a load open across batches (connector.StreamLoader, and
	// RawLoader's LoadRawStream; default 1 s). Elsewhere each batch is its
	// own transaction.
	CommitEvery time.Duration
}

// Result sums up a finished load.
type Result struct {
	TablesLoaded, TablesErrored int
	Rows                        int64
	// Fatal is set when an error stopped the whole load (ErrorBehavior
	// STOP_TASK, a lost connection, a source that disappeared).
	Fatal error
}

// Key of a table in Previous.
func Key(schema, table string) string { return schema + "|" + table }

// Run loads every planned table. It returns when all are done, one failed
// fatally, or ctx ends (then Result.Fatal is ctx's error).
func Run(ctx context.Context, job *Job) Result {
	log := job.Log
	if log == nil {
		log = slog.Default()
	}
	if job.SegmentRows <= 0 {
		job.SegmentRows = 1_000_000
	}
	if job.CommitEvery <= 0 {
		job.CommitEvery = time.Second
	}
	workers := job.Settings.FullLoadSettings.MaxFullLoadSubTasks
	if workers < 1 {
		workers = 1
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	if ts, ok := job.Target.(interface{ SetLoadTimestamp(time.Time) }); ok {
		ts.SetLoadTimestamp(job.LoadTime)
	}
	snap := job.Snapshot
	if snap == nil {
		var err error
		snap, err = job.Source.OpenSnapshot(ctx, workers)
		if err != nil {
			return Result{Fatal: fmt.Errorf("open a consistent snapshot of the source: %w", err)}
		}
		defer snap.Close()
	}

	r := &runner{job: job, snap: snap, log: log, slots: make(chan struct{}, workers), cancel: cancel}
	// Every table shows up as queued before the first one starts.
	for _, plan := range job.Plans {
		prev := job.Previous[Key(plan.Source.Schema, plan.Source.Name)]
		if job.Resume && prev != nil && prev.TableState == dms.TableCompleted && !prev.ReloadRequested {
			continue
		}
		ts := &dms.TableStats{TaskARN: job.TaskARN, SchemaName: plan.Source.Schema, TableName: plan.Source.Name,
			TableState: dms.TableBeforeLoad, RunID: job.RunID, ValidationState: "Not enabled"}
		if job.Resume && prev != nil {
			ts.FullLoadRows, ts.Segments = prev.FullLoadRows, prev.Segments
		}
		if err := job.Reporter.Table(ctx, ts); err != nil {
			return Result{Fatal: err}
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var res Result
	// Tables start in load order, each on a sub-task slot it takes here.
	for _, plan := range job.Plans {
		if err := r.acquire(ctx); err != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows, err := r.table(ctx, plan)
			mu.Lock()
			defer mu.Unlock()
			res.Rows += rows
			switch {
			case err == nil:
				res.TablesLoaded++
			case errors.Is(err, errTableError):
				res.TablesErrored++
				if job.Settings.ErrorBehavior.TableErrorPolicy == "STOP_TASK" {
					if res.Fatal == nil {
						res.Fatal = err
					}
					cancel(err)
				}
			default:
				if res.Fatal == nil && ctx.Err() == nil {
					res.Fatal = err
				}
				cancel(err)
			}
		}()
	}
	wg.Wait()
	if res.Fatal == nil && ctx.Err() != nil {
		res.Fatal = context.Cause(ctx)
	}
	return res
}

var errTableError = errors.New("table error")

type runner struct {
	job    *Job
	snap   connector.Snapshot
	log    *slog.Logger
	slots  chan struct{}
	cancel context.CancelCauseFunc
}

// acquire takes a sub-task slot.
func (r *runner) acquire(ctx context.Context) error {
	select {
	case r.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (r *runner) release() { <-r.slots }
