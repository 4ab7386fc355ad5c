package engine

import (
	"context"
	"log/slog"
	"os"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/engine/fullload"
	"github.com/godwit-dms/godwit/internal/record"
)

// Task statuses of awsdms_status and timeslot types of awsdms_history.
const (
	phaseFullLoad = "FULL LOAD"
	phaseCDC      = "CHANGE PROCESSING"
)

// statusEvery is how often a cdc task's latency and awsdms_status row are
// brought up to date (and at each change of phase).
const statusEvery = 5 * time.Second

// taskStatus keeps a cdc task's state where it can be seen: the latency
// figures in the task's statistics (store), and, when the task settings
// enable them, its row of awsdms_status and its rows of awsdms_history on
// the target. The rows are upserts through the target's ChangeApplier on
// tables keyed as DMS's unique indexes.
type taskStatus struct {
	e       *Engine
	t       *dms.ReplicationTask
	mon     *cdcMonitor
	rep     *reporter
	log     *slog.Logger
	applier connector.ChangeApplier
	loader  connector.BulkLoader
	// status, history and suspended are nil when the table is not enabled.
	status, history, suspended *connector.TargetTable
	server                     string
	slotLen                    time.Duration
	avgRow                     map[string]int64 // average row size per source table (fullload.Key)

	mu       sync.Mutex
	phase    string
	prepared map[*connector.TargetTable]bool // created (or found) on the target
	warned   map[*connector.TargetTable]bool // the last failure was logged
	slot     timeslot
	logged   time.Time // when the latency was last written to the task log
}

// timeslot is the awsdms_history timeslot being filled.
type timeslot struct {
	start time.Time
	// the counters when it started, and the phases seen in it
	fullRows, fullBytes, cdcRecords, cdcBytes int64
	phases                                    map[string]bool
}

func newTaskStatus(e *Engine, r *cdcRun, mon *cdcMonitor, applier connector.ChangeApplier) *taskStatus {
	cs := r.settings.ControlTablesSettings
	s := &taskStatus{e: e, t: r.t, mon: mon, rep: r.rep, log: r.log, applier: applier, avgRow: map[string]int64{},
		slotLen: time.Duration(max(cs.HistoryTimeslotInMinutes, 1)) * time.Minute, prepared: map[*connector.TargetTable]bool{}, warned: map[*connector.TargetTable]bool{}}
	s.server, _ = os.Hostname()
	for _, p := range r.plans {
		if p.Source.RowsEstimate > 0 {
			s.avgRow[fullload.Key(p.Source.Schema, p.Source.Name)] = p.Source.BytesEstimate / p.Source.RowsEstimate
		}
	}
	loader, ok := r.target.(connector.BulkLoader)
	if !ok || r.settings.ValidationSettings.ValidationOnly {
		return s
	}
	s.loader = loader
	fam := family(r.tgt)
	key := func(t *record.Table) *connector.TargetTable {
		return &connector.TargetTable{Target: t, Key: t.PrimaryKey}
	}
	if cs.StatusTableEnabled {
		s.status = key(statusTable(fam, cs))
	}
	if cs.HistoryTableEnabled {
		s.history = key(historyTable(fam, cs))
	}
	if cs.SuspendedTablesTableEnabled {
		s.suspended = key(taskTable(fam, cs, "awsdms_suspended_tables", []string{"TABLE_OWNER", "TABLE_NAME"},
			record.Column{Name: "TABLE_OWNER", Type: ctlName},
			record.Column{Name: "TABLE_NAME", Type: ctlName},
			record.Column{Name: "SUSPEND_REASON", Type: ctlText, Nullable: true},
			record.Column{Name: "SUSPEND_TIMESTAMP", Type: ctlTime, Nullable: true},
		))
	}
	return s
}

// Suspended records a table change processing suspended (the
// SUSPEND_TABLE apply-error policy) in awsdms_suspended_tables, when
// SuspendedTablesTableEnabled.
func (s *taskStatus) Suspended(ctx context.Context, schema, table string, cause error) {
	if s.suspended == nil || s.loader == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.upsert(context.WithoutCancel(ctx), s.suspended, record.Row{s.server, s.t.ResourceID, schema, table, cause.Error(), time.Now().UTC()})
}

func statusTable(family string, cs tasksettings.ControlTablesSettings) *record.Table {
	null := func(n string, t record.Type) record.Column { return record.Column{Name: n, Type: t, Nullable: true} }
	return taskTable(family, cs, "awsdms_status", nil,
		null("TASK_STATUS", ctlWord),
		null("STATUS_TIME", ctlTime),
		null("PENDING_CHANGES", ctlInt),
		null("DISK_SWAP_SIZE", ctlInt),
		null("TASK_MEMORY", ctlInt),
		null("SOURCE_CURRENT_POSITION", ctlName),
		null("SOURCE_CURRENT_TIMESTAMP", ctlTime),
		null("SOURCE_TAIL_POSITION", ctlName),
		null("SOURCE_TAIL_TIMESTAMP", ctlTime),
		null("SOURCE_TIMESTAMP_APPLIED", ctlTime),
	)
}

// taskTable is a control table of rows per server and task: SERVER_NAME
// and TASK_NAME lead its columns and its key, then cols and key.
func taskTable(family string, cs tasksettings.ControlTablesSettings, name string, key []string, cols ...record.Column) *record.Table {
	head := []record.Column{{Name: "SERVER_NAME", Type: ctlName}, {Name: "TASK_NAME", Type: ctlName}}
	return controlTable(family, cs.ControlSchema, name, append([]string{"SERVER_NAME", "TASK_NAME"}, key...), append(head, cols...)...)
}

func historyTable(family string, cs tasksettings.ControlTablesSettings) *record.Table {
	return taskTable(family, cs, "awsdms_history", []string{"TIMESLOT_TYPE", "TIMESLOT"},
		record.Column{Name: "TIMESLOT_TYPE", Type: ctlWord},
		record.Column{Name: "TIMESLOT", Type: ctlTime},
		record.Column{Name: "TIMESLOT_DURATION", Type: ctlInt, Nullable: true},
		record.Column{Name: "TIMESLOT_LATENCY", Type: ctlInt, Nullable: true},
		record.Column{Name: "RECORDS", Type: ctlInt, Nullable: true},
		record.Column{Name: "TIMESLOT_VOLUME", Type: ctlInt, Nullable: true},
	)
}

// start updates the status every statusEvery until the returned stop
// function is called (or ctx ends), then once more.
func (s *taskStatus) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(statusEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				s.update(context.WithoutCancel(ctx))
				return
			case <-tick.C:
				s.update(ctx)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// setPhase records a change of phase (FULL LOAD, CHANGE PROCESSING) at once.
func (s *taskStatus) setPhase(ctx context.Context, phase string) {
	s.mu.Lock()
	s.phase = phase
	s.mu.Unlock()
	s.update(ctx)
}

// update stores the latency figures and writes the control tables.
func (s *taskStatus) update(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.phase == "" {
		return
	}
	now := time.Now().UTC()
	src, tgt := s.mon.latency(now)
	if err := s.e.svc.TaskProgress(ctx, s.t.ARN, s.t.RunID, func(st *dms.TaskStats) {
		st.CDCLatencySource, st.CDCLatencyTarget = src, tgt
	}); err != nil {
		s.log.Warn("task statistics", "err", err)
	}
	if s.phase == phaseCDC && now.Sub(s.logged) >= time.Minute {
		s.logged = now
		s.log.Info("change processing latency", "source_latency_s", src, "target_latency_s", tgt)
	}
	mst := s.mon.state()
	if s.status != nil {
		row := record.Row{s.server, s.t.ResourceID, s.phase, now, mst.pending, int64(0), memoryMB(),
			optString(mst.current.position), optTime(mst.current.commit), optString(mst.tail.position), optTime(mst.tail.commit),
			optTime(mst.applied.commit)}
		s.upsert(ctx, s.status, row)
	}
	if s.history != nil {
		s.writeHistory(ctx, now, tgt, mst)
	}
}

// writeHistory writes the rows of the timeslot under way (and ends it when
// its time is up: the next update starts a new one).
func (s *taskStatus) writeHistory(ctx context.Context, now time.Time, latency int64, mst monitorState) {
	fullRows, fullBytes := s.fullLoaded()
	if s.slot.start.IsZero() {
		s.slot = timeslot{start: now, fullRows: fullRows, fullBytes: fullBytes, cdcRecords: mst.records, cdcBytes: mst.bytes}
	}
	if s.slot.phases == nil {
		s.slot.phases = map[string]bool{}
	}
	s.slot.phases[s.phase] = true
	minutes := int64(s.slotLen / time.Minute)
	var rows []record.Row
	if s.slot.phases[phaseFullLoad] || fullRows > s.slot.fullRows {
		rows = append(rows, record.Row{s.server, s.t.ResourceID, phaseFullLoad, s.slot.start, minutes, nil,
			fullRows - s.slot.fullRows, megabytes(fullBytes - s.slot.fullBytes)})
	}
	if s.slot.phases[phaseCDC] || mst.records > s.slot.cdcRecords {
		rows = append(rows, record.Row{s.server, s.t.ResourceID, phaseCDC, s.slot.start, minutes, latency,
			mst.records - s.slot.cdcRecords, megabytes(mst.bytes - s.slot.cdcBytes)})
	}
	s.upsert(ctx, s.history, rows...)
	if end := s.slot.start.Add(s.slotLen); !now.Before(end) {
		s.slot = timeslot{start: end, fullRows: fullRows, fullBytes: fullBytes, cdcRecords: mst.records, cdcBytes: mst.bytes}
		if now.Sub(end) >= s.slotLen {
			s.slot.start = now // the task was not running through whole timeslots
		}
	}
}

// fullLoaded totals the rows loaded so far and their estimated bytes.
func (s *taskStatus) fullLoaded() (rows, bytes int64) {
	s.rep.mu.Lock()
	defer s.rep.mu.Unlock()
	for k, ts := range s.rep.tables {
		rows += ts.FullLoadRows
		bytes += ts.FullLoadRows * s.avgRow[k]
	}
	return rows, bytes
}

// upsert writes rows into a control table, creating it first if missing.
func (s *taskStatus) upsert(ctx context.Context, tt *connector.TargetTable, rows ...record.Row) {
	if len(rows) == 0 {
		return
	}
	if !s.prepared[tt] {
		// Tried again at each update until it works; said once.
		if err := s.loader.PrepareTable(ctx, tt.Target, connector.PrepDoNothing, false); err != nil {
			if !s.warned[tt] && ctx.Err() == nil {
				s.log.Error("cannot create the control table on the target", "table", tt.Target.QualifiedName(), "err", err)
			}
			s.warned[tt] = true
			return
		}
		s.prepared[tt] = true
	}
	tx := &record.Transaction{ID: "control", CommitTime: time.Now()}
	for _, r := range rows {
		tx.Changes = append(tx.Changes, record.Change{Op: record.OpInsert, Table: tt.Target, After: r})
	}
	tables := map[string]*connector.TargetTable{tt.Target.QualifiedName(): tt}
	err := s.applier.ApplyTransactions(ctx, tables, []*record.Transaction{tx})
	if err != nil && !s.warned[tt] && ctx.Err() == nil {
		s.log.Warn("cannot write the control table", "table", tt.Target.QualifiedName(), "err", err)
	}
	s.warned[tt] = err != nil // a failure is said once until a write works again
}

func optString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func megabytes(b int64) int64 { return (b + 1<<20 - 1) >> 20 }

// memoryMB is the server's Go heap in MB (TASK_MEMORY: the tasks of an
// instance share one process).
func memoryMB() int64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(sample[0].Value.Uint64() >> 20)
}
