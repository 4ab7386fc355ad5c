package engine

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/engine/fullload"
	"github.com/godwit-dms/godwit/internal/engine/validate"
)

// validateTables compares each loaded table of the plans with the source
// and records the outcome in its statistics.
func (e *Engine) validateTables(ctx context.Context, t *dms.ReplicationTask, plans []*mapping.TablePlan, settings *tasksettings.Settings,
	source fullload.Source, target fullload.Target, log *slog.Logger) {
	stats, err := e.svc.ListTableStats(ctx, t.ARN)
	if err != nil {
		log.Error("validation: read table statistics", "err", err)
		return
	}
	state := map[string]string{}
	for _, ts := range stats {
		state[fullload.Key(ts.SchemaName, ts.TableName)] = ts.TableState
	}
	src, srcOK := source.(validate.Source)
	tgt, tgtOK := target.(validate.Target)
	var taskFailures atomic.Int64
	for _, p := range plans {
		if ctx.Err() != nil {
			return
		}
		update := func(fn func(ts *dms.TableStats)) {
			if err := e.svc.UpdateTableStats(context.WithoutCancel(ctx), t, t.RunID, p.Source.Schema, p.Source.Name, fn); err != nil {
				log.Error("validation: record", "table", p.Source.QualifiedName(), "err", err)
			}
		}
		switch {
		case state[fullload.Key(p.Source.Schema, p.Source.Name)] == dms.TableError:
			update(func(ts *dms.TableStats) {
				ts.ValidationState, ts.ValidationStateDetails = "Table error", "The table's load failed."
			})
			continue
		case !srcOK || !tgtOK:
			update(func(ts *dms.TableStats) {
				ts.ValidationState, ts.ValidationStateDetails = "Error", "Validation needs a database source and a database target; this target's rows cannot be read back."
			})
			continue
		}
		update(func(ts *dms.TableStats) { ts.ValidationState, ts.ValidationStateDetails = "Pending records", "" })
		tt := *p.Target
		if s := settings.TargetMetadata.TargetSchema; s != "" {
			tt.Schema = s
		}
		res, err := validate.Table(ctx, &validate.Job{Source: src, Target: tgt, Plan: p, TargetTable: &tt, Settings: settings.ValidationSettings,
			TaskName: t.ResourceID, ControlSchema: settings.ControlTablesSettings.ControlSchema, Log: log, TaskFailures: &taskFailures})
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			log.Warn("validation could not run", "table", p.Source.QualifiedName(), "err", err)
			update(func(ts *dms.TableStats) { ts.ValidationState, ts.ValidationStateDetails = "Error", err.Error() })
			continue
		}
		log.Info("table validated", "table", p.Source.QualifiedName(), "state", res.State, "compared", res.Compared, "failed", res.Failed)
		update(func(ts *dms.TableStats) {
			ts.ValidationState, ts.ValidationStateDetails = res.State, res.Details
			ts.ValidationPendingRecords, ts.ValidationFailedRecords, ts.ValidationSuspendedRecords = res.Pending, res.Failed, res.Suspended
		})
	}
}
