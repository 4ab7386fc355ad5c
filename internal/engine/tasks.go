package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/engine/fullload"
)

var (
	// errStopRequested is the cause of a task context cancelled by StopReplicationTask.
	errStopRequested = errors.New("stop requested")
	// errInstanceStopping is the cause when the task's instance stops under it.
	errInstanceStopping = errors.New("replication instance stopping")
)

// taskRun is a running task controller.
type taskRun struct {
	runID  int64
	cancel context.CancelCauseFunc
	done   chan struct{}
}

func (e *Engine) reconcileTasks(ctx context.Context) error {
	tasks, err := e.svc.ListTasks(ctx)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		e.mu.Lock()
		run := e.tasks[t.ARN]
		e.mu.Unlock()
		switch t.Status {
		case dms.TaskCreating, dms.TaskModifying, dms.TaskMoving, dms.TaskDeleting:
			if run != nil {
				run.cancel(errStopRequested)
				<-run.done
			}
			if t.Status == dms.TaskDeleting && t.CDCSlot != "" {
				e.dropCDC(ctx, t)
			}
			if _, err := e.svc.CompleteTaskTransition(ctx, t.ARN, t.Status); err != nil {
				return err
			}
		case dms.TaskStarting, dms.TaskRunning:
			if run != nil && run.runID == t.RunID {
				continue
			}
			in := e.instance(t.InstanceARN)
			if in == nil {
				continue // the instance is not up (yet): the task waits for it
			}
			e.launchTask(in, t)
		case dms.TaskStopping:
			if run != nil {
				run.cancel(errStopRequested)
				continue
			}
			if err := e.svc.TaskFinished(ctx, t.ARN, t.RunID, dms.TaskStopped, dms.StopNormal, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *Engine) launchTask(in *Instance, t *dms.ReplicationTask) {
	ctx, cancel := context.WithCancelCause(context.Background())
	run := &taskRun{runID: t.RunID, cancel: cancel, done: make(chan struct{})}
	e.mu.Lock()
	e.tasks[t.ARN] = run
	e.mu.Unlock()
	forget := func() {
		e.mu.Lock()
		if e.tasks[t.ARN] == run {
			delete(e.tasks, t.ARN)
		}
		e.mu.Unlock()
	}
	ok := in.Go(func(ictx context.Context) {
		defer close(run.done)
		defer forget()
		stop := context.AfterFunc(ictx, func() { cancel(errInstanceStopping) })
		defer stop()
		defer cancel(nil)
		e.runTask(ctx, t)
	})
	if !ok {
		cancel(nil)
		forget()
		close(run.done)
	}
}

// runTask runs one start of a task to its end and records how it ended.
func (e *Engine) runTask(ctx context.Context, t *dms.ReplicationTask) {
	log := e.log
	if path := e.svc.TaskLogPath(t); path != "" {
		if f, err := openTaskLog(path); err != nil {
			e.log.Error("open task log", "task", t.Identifier, "err", err)
		} else {
			defer f.Close()
			log = slog.New(slog.NewMultiHandler(e.log.Handler(), slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo})))
		}
	}
	log = log.With("task", t.Identifier, "run", t.RunID)
	status, reason, failure := e.runTaskBody(ctx, t, log)
	if errors.Is(context.Cause(ctx), errInstanceStopping) {
		// The instance is stopping (reboot, delete, shutdown): the task stays
		// running in the store and resumes when the instance is back.
		log.Info("task interrupted by its instance stopping; it resumes when the instance is back")
		return
	}
	cur, _, err := e.svc.GetTask(context.WithoutCancel(ctx), e.svc.Store, t.ARN)
	if err == nil && !cur.RunningSince.IsZero() && status != dms.TaskFailed {
		if wait := e.cfg.MinRunningTime - time.Since(cur.RunningSince); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
		}
	}
	if err := e.svc.TaskFinished(context.WithoutCancel(ctx), t.ARN, t.RunID, status, reason, failure); err != nil {
		log.Error("record task end", "err", err)
	}
	log.Info("task ended", "status", status, "reason", reason, "failure", failure)
}

func (e *Engine) runTaskBody(ctx context.Context, t *dms.ReplicationTask, log *slog.Logger) (status, reason, failure string) {
	fail := func(format string, args ...any) (string, string, string) {
		return dms.TaskFailed, dms.StopFatalError, fmt.Sprintf(format, args...)
	}
	if ctx.Err() != nil {
		return dms.TaskStopped, dms.StopNormal, ""
	}
	// The task is running from the moment its controller runs on the
	// instance; what follows (connecting, discovering tables) is its work.
	started, err := e.svc.TaskRunning(ctx, t.ARN, t.RunID)
	if err != nil {
		return fail("%v", err)
	}
	settings, _, err := tasksettings.Parse(t.Settings, false)
	if err != nil {
		return fail("The task settings are invalid: %v", err)
	}
	if ignored := tasksettings.Ignored(t.Settings); len(ignored) > 0 {
		log.Warn("task settings without effect in Godwit (docs/compatibility.md says why)", "settings", strings.Join(ignored, ", "))
	}
	maps, err := mapping.Parse(t.TableMappings)
	if err != nil {
		return fail("The table mappings are invalid: %v", err)
	}
	src, srcEP, err := e.openEndpoint(ctx, t.SourceEndpointARN)
	if err != nil {
		return fail("Source endpoint: %v", err)
	}
	defer src.Close()
	tgt, tgtEP, err := e.openEndpoint(ctx, t.TargetEndpointARN)
	if err != nil {
		return fail("Target endpoint: %v", err)
	}
	defer tgt.Close()
	logIgnoredSettings(log, src, srcEP)
	logIgnoredSettings(log, tgt, tgtEP)
	source, ok := src.(fullload.Source)
	if !ok {
		return fail("Godwit cannot read tables from %s source endpoints yet.", catalog.DisplayName(srcEP.Engine))
	}
	target, ok := tgt.(fullload.Target)
	if !ok {
		return fail("Godwit cannot load tables into %s target endpoints yet.", catalog.DisplayName(tgtEP.Engine))
	}
	tables, err := source.Tables(ctx)
	if err != nil {
		return fail("Could not read the tables of source endpoint %s: %v", srcEP.Identifier, err)
	}
	plans, err := maps.Plan(tables)
	if err != nil {
		return fail("The table mappings cannot be applied: %v", err)
	}
	if len(plans) == 0 && settings.ErrorBehavior.FailOnNoTablesCaptured {
		return fail("No tables were found at task initialization: no table of source endpoint %s matches the selection rules of the table mappings.", srcEP.Identifier)
	}
	prevStats, err := e.svc.ListTableStats(ctx, t.ARN)
	if err != nil {
		return fail("%v", err)
	}
	previous := map[string]*dms.TableStats{}
	resume := t.StartType == dms.ResumeProcessing
	for _, ts := range prevStats {
		previous[fullload.Key(ts.SchemaName, ts.TableName)] = ts
		if ts.RunID == t.RunID {
			resume = true // this run was under way before a restart
		}
	}
	rep := newReporter(e, t)
	if started.Stats.FullLoadStartDate.IsZero() || !resume {
		_ = e.svc.TaskProgress(ctx, t.ARN, t.RunID, func(st *dms.TaskStats) { st.FullLoadStartDate = e.svc.Time() })
	}
	if t.MigrationType != dms.MigrationFullLoad {
		return e.runWithCDC(ctx, &cdcRun{t: started, settings: settings, plans: plans, maps: maps, src: src, tgt: tgt, srcEP: srcEP, tgtEP: tgtEP,
			source: source, target: target, rep: rep, previous: previous, resume: resume, log: log})
	}
	stopFlush := rep.flushEvery(ctx, time.Second)
	job := e.fullLoadJob(fullload.Job{Source: source, Target: target, Plans: plans, Settings: settings, Previous: previous, Resume: resume,
		RunID: t.RunID, TaskARN: t.ARN, Reporter: rep, Log: log})
	vs := settings.ValidationSettings
	var res fullload.Result
	if vs.ValidationOnly {
		// A validation-only task compares what is there and loads nothing.
		for _, p := range plans {
			ts := &dms.TableStats{TaskARN: t.ARN, SchemaName: p.Source.Schema, TableName: p.Source.Name, TableState: dms.TableCompleted,
				RunID: t.RunID, ValidationState: "Pending records"}
			if err := rep.Table(ctx, ts); err != nil {
				return fail("%v", err)
			}
		}
	} else {
		res = fullload.Run(ctx, job)
	}
	if res.Fatal == nil && ctx.Err() == nil && (vs.EnableValidation || vs.ValidationOnly) {
		e.validateTables(ctx, t, plans, settings, source, target, log)
	}
	// Tables ReloadTables asked for while the task ran are loaded (or validated) again.
	for res.Fatal == nil && ctx.Err() == nil {
		again, revalidate, err := e.reloadPlans(ctx, t, plans)
		if err != nil || len(again)+len(revalidate) == 0 {
			break
		}
		if len(again) > 0 && !vs.ValidationOnly {
			log.Info("reloading tables", "tables", len(again))
			job.Plans, job.Resume, job.Previous, job.Reload = again, false, map[string]*dms.TableStats{}, true
			r2 := fullload.Run(ctx, job)
			res.Fatal, res.Rows = r2.Fatal, res.Rows+r2.Rows
		} else {
			revalidate = append(revalidate, again...)
			again = nil
		}
		if vs.EnableValidation || vs.ValidationOnly {
			e.validateTables(ctx, t, append(again, revalidate...), settings, source, target, log)
		}
	}
	stopFlush()
	rep.flush(context.WithoutCancel(ctx), res.Fatal == nil)
	if res.Fatal != nil {
		log.Error("full load stopped", "err", res.Fatal)
		if errors.Is(context.Cause(ctx), errStopRequested) {
			return dms.TaskStopped, dms.StopNormal, ""
		}
		return fail("%v", res.Fatal)
	}
	if errors.Is(context.Cause(ctx), errStopRequested) {
		return dms.TaskStopped, dms.StopNormal, ""
	}
	return dms.TaskStopped, dms.StopFullLoadOnlyFinished, ""
}

// fullLoadJob is j, a task run's full load, with what the engine gives
// every load: the load's time and the configured commit interval and
// segment size.
func (e *Engine) fullLoadJob(j fullload.Job) *fullload.Job {
	j.LoadTime, j.CommitEvery, j.SegmentRows = e.svc.Time(), e.cfg.FullLoadCommitInterval, e.cfg.FullLoadSegmentRows
	return &j
}

// logIgnoredSettings logs each setting of ep that its connector keeps
// without acting on (connector.SettingsIgnorer).
func logIgnoredSettings(log *slog.Logger, conn connector.Conn, ep *dms.Endpoint) {
	if ig, ok := conn.(connector.SettingsIgnorer); ok {
		for _, w := range ig.IgnoredSettings() {
			log.Warn("endpoint setting without effect", "endpoint", ep.Identifier, "setting", w)
		}
	}
}

// openEndpoint opens the connector of an endpoint.
func (e *Engine) openEndpoint(ctx context.Context, arn string) (connector.Conn, *dms.Endpoint, error) {
	ep, _, err := e.svc.GetEndpoint(ctx, e.svc.Store, arn)
	if err != nil {
		return nil, nil, err
	}
	cep, err := e.connectorEndpoint(ctx, ep)
	if err != nil {
		return nil, ep, err
	}
	conn, err := e.registry.Open(cep)
	if errors.Is(err, connector.ErrUnsupportedEngine) {
		return nil, ep, fmt.Errorf("the engine %s of endpoint %s is not supported by this server (supported: %s)", ep.Engine, ep.Identifier, strings.Join(e.registry.Engines(), ", "))
	}
	if err != nil {
		return nil, ep, err
	}
	return conn, ep, nil
}

// reporter persists table statistics and keeps the task's totals.
type reporter struct {
	e      *Engine
	t      *dms.ReplicationTask
	mu     sync.Mutex
	tables map[string]*dms.TableStats
}

func newReporter(e *Engine, t *dms.ReplicationTask) *reporter {
	return &reporter{e: e, t: t, tables: map[string]*dms.TableStats{}}
}

func (r *reporter) Table(ctx context.Context, ts *dms.TableStats) error {
	r.mu.Lock()
	r.tables[fullload.Key(ts.SchemaName, ts.TableName)] = ts
	r.mu.Unlock()
	return r.e.svc.SaveTableStats(ctx, r.t, ts)
}

// flush writes the task-level statistics derived from the tables.
func (r *reporter) flush(ctx context.Context, finished bool) {
	r.mu.Lock()
	var st dms.TaskStats
	var rows, total int64
	for _, ts := range r.tables {
		switch ts.TableState {
		case dms.TableBeforeLoad:
			st.TablesQueued++
		case dms.TableFullLoad, dms.TableReloading:
			st.TablesLoading++
		case dms.TableCompleted:
			st.TablesLoaded++
		case dms.TableError:
			st.TablesErrored++
		}
		rows += ts.FullLoadRows
	}
	_ = total
	r.mu.Unlock()
	_ = r.e.svc.TaskProgress(ctx, r.t.ARN, r.t.RunID, func(cur *dms.TaskStats) {
		cur.TablesQueued, cur.TablesLoading, cur.TablesLoaded, cur.TablesErrored = st.TablesQueued, st.TablesLoading, st.TablesLoaded, st.TablesErrored
		n := st.TablesQueued + st.TablesLoading + st.TablesLoaded + st.TablesErrored
		switch {
		case finished:
			cur.FullLoadProgressPercent = 100
			cur.FullLoadFinishDate = r.e.svc.Time()
		case n > 0:
			cur.FullLoadProgressPercent = min(99, 100*(st.TablesLoaded+st.TablesErrored)/n)
		}
	})
}

// flushEvery flushes until the returned stop function is called.
func (r *reporter) flushEvery(ctx context.Context, d time.Duration) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				r.flush(ctx, false)
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func openTaskLog(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}

// reloadPlans returns the plans of the tables with a pending reload request
// (data reloads, then validate-only ones), clearing the requests.
func (e *Engine) reloadPlans(ctx context.Context, t *dms.ReplicationTask, plans []*mapping.TablePlan) (data, validateOnly []*mapping.TablePlan, err error) {
	stats, err := e.svc.ListTableStats(ctx, t.ARN)
	if err != nil {
		return nil, nil, err
	}
	for _, ts := range stats {
		if !ts.ReloadRequested {
			continue
		}
		for _, p := range plans {
			if p.Source.Schema == ts.SchemaName && p.Source.Name == ts.TableName {
				if ts.ValidateOnly {
					validateOnly = append(validateOnly, p)
				} else {
					data = append(data, p)
				}
			}
		}
		if err := e.svc.ClearReloadRequest(ctx, t, ts.SchemaName, ts.TableName); err != nil {
			return nil, nil, err
		}
	}
	return data, validateOnly, nil
}

// dropCDC removes what change capture created on the source (PostgreSQL's
// slot and publication) when the task is deleted.
func (e *Engine) dropCDC(ctx context.Context, t *dms.ReplicationTask) {
	src, _, err := e.openEndpoint(ctx, t.SourceEndpointARN)
	if err != nil {
		e.log.Warn("drop the task's replication slot: source endpoint", "task", t.Identifier, "err", err)
		return
	}
	defer src.Close()
	if s, ok := src.(connector.ChangeStreamer); ok {
		req := &connector.CDCRequest{SlotName: t.CDCSlot, Publication: t.CDCPublication}
		if err := s.EndCDC(ctx, req); err != nil {
			e.log.Warn("drop the task's replication slot", "task", t.Identifier, "slot", t.CDCSlot, "err", err)
		}
	}
}
