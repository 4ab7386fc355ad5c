package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/engine/cdc"
	"github.com/godwit-dms/godwit/internal/engine/fullload"
	"github.com/godwit-dms/godwit/internal/engine/validate"
	"github.com/godwit-dms/godwit/internal/record"
)

// cdcRun is one run of a cdc or full-load-and-cdc task.
type cdcRun struct {
	t            *dms.ReplicationTask
	settings     *tasksettings.Settings
	plans        []*mapping.TablePlan
	maps         *mapping.Mappings
	src, tgt     connector.Conn
	srcEP, tgtEP *dms.Endpoint
	source       fullload.Source
	target       fullload.Target
	rep          *reporter
	previous     map[string]*dms.TableStats
	resume       bool
	log          *slog.Logger
}

// pgCDCSettings are the PostgreSQLSettings of a source endpoint that
// change processing reads (all zero for other engines).
type pgCDCSettings struct {
	SlotName           string
	PluginName         string
	HeartbeatEnable    bool
	HeartbeatFrequency int
	CaptureDdls        *bool
	DdlArtifactsSchema string
}

func pgSettings(src *dms.Endpoint) pgCDCSettings {
	var s pgCDCSettings
	if raw := src.Settings["PostgreSQLSettings"]; raw != nil {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

// heartbeat is HeartbeatFrequency (minutes, default 5) when HeartbeatEnable.
func (s pgCDCSettings) heartbeat() time.Duration {
	if !s.HeartbeatEnable {
		return 0
	}
	if s.HeartbeatFrequency <= 0 {
		return 5 * time.Minute
	}
	return time.Duration(s.HeartbeatFrequency) * time.Minute
}

// ddlSchema is where a PostgreSQL source keeps its DDL capture objects:
// DdlArtifactsSchema (default public) unless CaptureDdls is false ("" then).
func (s pgCDCSettings) ddlSchema() string {
	switch {
	case s.CaptureDdls != nil && !*s.CaptureDdls:
		return ""
	case s.DdlArtifactsSchema == "":
		return "public"
	}
	return s.DdlArtifactsSchema
}

// cdcNames are the slot and publication of a task on a PostgreSQL source:
// PostgreSQLSettings.SlotName when set, else named after the task.
func cdcNames(t *dms.ReplicationTask, pgs pgCDCSettings) (slot, pub string) {
	base := "godwit_" + strings.ToLower(t.ResourceID)
	slot, pub = base, base
	if pgs.SlotName != "" {
		slot = pgs.SlotName
	}
	if t.CDCSlot != "" {
		slot = t.CDCSlot
	}
	return slot, pub
}

// targetTables tells the applier where each source table's changes go.
func targetTables(plans []*mapping.TablePlan, settings *tasksettings.Settings) map[string]*connector.TargetTable {
	out := map[string]*connector.TargetTable{}
	for _, p := range plans {
		out[p.Source.Schema+"."+p.Source.Name] = targetTable(p, settings)
	}
	return out
}

// rowSelectors are the source filters of plans, for the changes of the
// tables that have some.
func rowSelectors(plans []*mapping.TablePlan) (map[string]cdc.RowSelector, error) {
	out := map[string]cdc.RowSelector{}
	for _, p := range plans {
		rf, err := p.RowFilter()
		if err != nil {
			return nil, err
		}
		if rf != nil {
			out[p.Source.Schema+"."+p.Source.Name] = rf.Match
		}
	}
	return out, nil
}

// targetTable is where the changes of p's source table go: rows in the
// source table's column order become target rows by p's rules.
func targetTable(p *mapping.TablePlan, settings *tasksettings.Settings) *connector.TargetTable {
	tt := *p.Target
	if s := settings.TargetMetadata.TargetSchema; s != "" {
		tt.Schema = s
	}
	if p.Passthrough() {
		// The rows go as they are.
		return &connector.TargetTable{Target: &tt, Key: tt.Key()}
	}
	pos := make([]int, len(p.SourceColumns))
	for i, c := range p.SourceColumns {
		pos[i] = -1
		for j := range p.Source.Columns {
			if p.Source.Columns[j].Name == c {
				pos[i] = j
			}
		}
	}
	return &connector.TargetTable{
		Target: &tt,
		Key:    tt.Key(),
		Transform: func(src record.Row) (record.Row, error) {
			in := make(record.Row, len(pos))
			for i, j := range pos {
				if j >= 0 && j < len(src) {
					in[i] = src[j]
				}
			}
			return p.Transform(in, mapping.RowMeta{Operation: "UPDATE", Timestamp: time.Now().UTC()})
		},
	}
}

// runWithCDC runs a cdc or full-load-and-cdc task: the full load (when
// needed) in the snapshot the change stream starts from, then change
// processing until the task is stopped.
func (e *Engine) runWithCDC(ctx context.Context, r *cdcRun) (status, reason, failure string) {
	t, log := r.t, r.log
	fail := func(format string, args ...any) (string, string, string) {
		return dms.TaskFailed, dms.StopFatalError, fmt.Sprintf(format, args...)
	}
	streamer, ok := r.src.(connector.ChangeStreamer)
	if !ok {
		return fail("Godwit cannot capture changes from %s sources yet: use full-load.", catalog.DisplayName(r.srcEP.Engine))
	}
	validationOnly := r.settings.ValidationSettings.ValidationOnly
	var applier connector.ChangeApplier = noApply{}
	if !validationOnly {
		if applier, ok = r.tgt.(connector.ChangeApplier); !ok {
			return fail("Godwit cannot apply changes to %s targets yet: use full-load.", catalog.DisplayName(r.tgtEP.Engine))
		}
	}
	stopAt, err := cdc.ParseStopPosition(t.CdcStopPosition)
	if err != nil {
		return fail("%v", err)
	}
	pgs := pgSettings(r.srcEP)
	slot, pub := cdcNames(t, pgs)
	save := func(fn func(t *dms.ReplicationTask)) error {
		return e.svc.SaveCDCState(context.WithoutCancel(ctx), t.ARN, t.RunID, fn)
	}
	// The tables' shapes the target reflects (altered by DDL in an earlier
	// run) are those the capture starts from.
	targets := targetTables(r.plans, r.settings)
	changer, _ := r.tgt.(connector.SchemaChanger)
	shapes := newShapeTracker(r.maps, r.settings, r.plans, t.CDCShapes, targets, changer,
		func(key string, shape json.RawMessage) error {
			return save(func(t *dms.ReplicationTask) {
				if t.CDCShapes == nil {
					t.CDCShapes = map[string]json.RawMessage{}
				}
				t.CDCShapes[key] = shape
			})
		}, log)
	sources := make([]*record.Table, 0, len(r.plans))
	for _, p := range r.plans {
		// PostgreSQL refuses UPDATE and DELETE on a published table that has
		// neither a primary key nor a replica identity: such tables are
		// loaded but their changes are not captured (DMS's documented limit).
		if family(r.src) == "postgres" && len(p.Source.PrimaryKey) == 0 {
			log.Warn("table without a primary key: its changes are not captured", "table", p.Source.QualifiedName())
			continue
		}
		sources = append(sources, shapes.known[p.Source.Schema+"."+p.Source.Name])
	}
	req := &connector.CDCRequest{SlotName: slot, Publication: pub, Plugin: "pgoutput", Tables: sources,
		Sessions: max(r.settings.FullLoadSettings.MaxFullLoadSubTasks, 1), HeartbeatInterval: pgs.heartbeat()}
	if family(r.src) == "postgres" {
		req.DDLSchema = pgs.ddlSchema()
		if p := pgs.PluginName; p != "" && p != "no-preference" && p != "pgoutput" {
			log.Warn("PostgreSQLSettings.PluginName asks for another plugin; changes are captured with pgoutput, the same changes", "plugin_name", p)
		}
	}
	from := t.RecoveryCheckpoint
	resume := r.resume && from != ""
	stopAfter := ""
	stopFlush := r.rep.flushEvery(ctx, time.Second)
	defer stopFlush()
	mon := &cdcMonitor{volume: r.settings.ControlTablesSettings.HistoryTableEnabled}
	state := newTaskStatus(e, r, mon, applier)
	defer state.start(ctx)()

	switch {
	case t.MigrationType == dms.MigrationFullLoadAndCDC && !(resume && t.FullLoadDone):
		var snap connector.Snapshot
		if !resume {
			// A fresh start: what an earlier run left (slot, publication) goes first.
			_ = streamer.EndCDC(ctx, req)
			snap, from, err = streamer.BeginCDC(ctx, req)
			if err != nil {
				return fail("Could not start change capture on source endpoint %s: %v", r.srcEP.Identifier, err)
			}
			if err := save(func(t *dms.ReplicationTask) {
				t.RecoveryCheckpoint, t.CDCSlot, t.CDCPublication, t.FullLoadDone = from, slot, pub, false
			}); err != nil {
				snap.Close()
				return fail("%v", err)
			}
			log.Info("change capture started", "position", from, "slot", slot)
		}
		state.setPhase(ctx, phaseFullLoad)
		// A resumed full load reads a new snapshot; the changes replayed from
		// the first start position converge on it (appliers are idempotent).
		job := e.fullLoadJob(fullload.Job{Source: r.source, Target: r.target, Plans: r.plans, Settings: r.settings, Previous: r.previous,
			Resume: r.resume, RunID: t.RunID, TaskARN: t.ARN, Reporter: r.rep, Log: log, Snapshot: snap})
		res := fullload.Run(ctx, job)
		vs := r.settings.ValidationSettings
		if res.Fatal == nil && ctx.Err() == nil && vs.EnableValidation && snap != nil {
			// Compare the target with the snapshot it was loaded from; the
			// changes since are checked as change processing applies them.
			e.validateTables(ctx, t, r.plans, r.settings, snapshotSource{Source: r.source, snap: snap}, r.target, log)
		}
		if snap != nil {
			snap.Close()
		}
		if res.Fatal != nil {
			if ctx.Err() != nil {
				return dms.TaskStopped, dms.StopNormal, ""
			}
			return fail("%v", res.Fatal)
		}
		r.rep.flush(context.WithoutCancel(ctx), true)
		if err := save(func(t *dms.ReplicationTask) { t.FullLoadDone = true }); err != nil {
			return fail("%v", err)
		}
		fs := r.settings.FullLoadSettings
		if fs.StopTaskCachedChangesNotApplied {
			return dms.TaskStopped, dms.StopAfterFullLoad, ""
		}
		if fs.StopTaskCachedChangesApplied {
			if stopAfter, err = streamer.CurrentPosition(ctx); err != nil {
				return fail("Could not read the source's position: %v", err)
			}
			if req.HeartbeatInterval == 0 {
				req.HeartbeatInterval = time.Second // an idle source must still reach stopAfter
			}
		}
	case from == "":
		// A cdc task: from CdcStartPosition or CdcStartTime, or from now.
		if from, err = cdcStartFrom(ctx, streamer, t, r.srcEP); err != nil {
			return fail("%v", err)
		}
		req.NoSnapshot = true
		_ = streamer.EndCDC(ctx, req)
		_, now, err := streamer.BeginCDC(ctx, req)
		if err != nil {
			return fail("Could not start change capture on source endpoint %s: %v", r.srcEP.Identifier, err)
		}
		if from == "" {
			from = now
		}
		if err := save(func(t *dms.ReplicationTask) { t.RecoveryCheckpoint, t.CDCSlot, t.CDCPublication = from, slot, pub }); err != nil {
			return fail("%v", err)
		}
		for _, p := range r.plans {
			_ = r.rep.Table(ctx, &dms.TableStats{TaskARN: t.ARN, SchemaName: p.Source.Schema, TableName: p.Source.Name,
				TableState: dms.TableCompleted, RunID: t.RunID, ValidationState: "Not enabled"})
		}
	}
	if resume && (t.FullLoadDone || t.MigrationType == dms.MigrationCDC) {
		// The tables' statistics carry on into this run (a cdc task's
		// were made by its first run, which had no full load).
		for _, ts := range r.previous {
			cp := *ts
			cp.RunID = t.RunID
			if err := r.rep.Table(ctx, &cp); err != nil {
				return fail("%v", err)
			}
		}
	}
	req.NoSnapshot = true
	cp := &checkpointer{e: e, t: t, log: log, mon: mon}
	if r.settings.ValidationSettings.EnableValidation || validationOnly {
		src, ok1 := r.source.(validate.Source)
		tgt, ok2 := r.target.(validate.Target)
		if ok1 && ok2 {
			// The validator has its own copy of the tables (the applier's
			// entries are replaced by DDL as it runs); the shape tracker
			// tells it of a table's new shape.
			cp.validator = newCDCValidator(e, t, r.settings, src, tgt, slices.Collect(maps.Values(shapes.plans)), maps.Clone(targets), log)
			shapes.reshaped = cp.validator.Reshaped
			vctx, stop := context.WithCancel(ctx)
			defer stop()
			go cp.validator.run(vctx)
		}
	}
	sel, err := rowSelectors(r.plans)
	if err != nil {
		return fail("Invalid table mapping: %v", err)
	}
	job := &cdc.Job{Streamer: streamer, Applier: applier, Req: req, From: from, Tables: targets, Select: sel,
		Settings: r.settings, StopAt: stopAt, StopAfter: stopAfter, Checkpoints: cp, WantKeys: cp.validator != nil, Log: log, Monitor: mon, Shapes: shapes}
	state.setPhase(ctx, phaseCDC)
	if !validationOnly && family(r.tgt) != "s3" {
		// awsdms_apply_exceptions is a table: database targets only, as in DMS.
		job.OnApplyError = newApplyExceptions(r.target, family(r.tgt), r.settings.ControlTablesSettings.ControlSchema, t, log).Record
		job.OnSuspend = state.Suspended
	}
	log.Info("change processing running", "from", from, "batch_apply", r.settings.TargetMetadata.BatchApplyEnabled)
	err = cdc.Run(ctx, job)
	switch {
	case errors.Is(err, cdc.ErrCachedChangesApplied):
		return dms.TaskStopped, dms.StopAfterCachedEvents, ""
	case errors.Is(err, cdc.ErrStopPositionReached):
		if stopAt.CommitTime {
			return dms.TaskStopped, dms.StopAtCommitTime, ""
		}
		return dms.TaskStopped, dms.StopAtServerTime, ""
	case err != nil:
		return fail("Change processing stopped: %v", err)
	}
	return dms.TaskStopped, dms.StopNormal, ""
}

// checkpointer records change-processing progress in the store.
type checkpointer struct {
	e   *Engine
	t   *dms.ReplicationTask
	log *slog.Logger
	// validator re-checks the rows each commit touched (EnableValidation).
	validator *cdcValidator
	mon       *cdcMonitor
}

func (c *checkpointer) Checkpoint(ctx context.Context, pos string, applied map[string]*cdc.Counts, latency time.Duration) error {
	if err := c.e.svc.SaveCDCState(ctx, c.t.ARN, c.t.RunID, func(t *dms.ReplicationTask) { t.RecoveryCheckpoint = pos }); err != nil {
		return err
	}
	c.mon.appliedUpTo(pos)
	for table, n := range applied {
		schema, name, _ := strings.Cut(table, ".")
		n := n
		if c.validator != nil && len(n.Keys) > 0 {
			c.validator.Applied(table, n.Keys)
		}
		if err := c.e.svc.UpdateTableStats(ctx, c.t, c.t.RunID, schema, name, func(ts *dms.TableStats) {
			ts.Inserts += n.Inserts
			ts.Updates += n.Updates
			ts.Deletes += n.Deletes
			ts.Ddls += n.Ddls
			ts.AppliedInserts += n.Inserts
			ts.AppliedUpdates += n.Updates
			ts.AppliedDeletes += n.Deletes
			ts.AppliedDdls += n.Ddls
		}); err != nil {
			c.log.Warn("table statistics", "table", table, "err", err)
		}
	}
	c.log.Debug("checkpoint", "position", pos, "latency_ms", latency.Milliseconds())
	return nil
}

// noApply is the applier of a validation-only cdc task: changes are read
// (to know which rows to check again) and not written.
type noApply struct{}

func (noApply) ApplyTransactions(context.Context, map[string]*connector.TargetTable, []*record.Transaction) error {
	return nil
}

func (noApply) ApplyBatch(context.Context, map[string]*connector.TargetTable, []*record.Transaction) error {
	return nil
}
