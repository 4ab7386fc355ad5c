package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/store"
)

// Store kind of table statistics (children of a task).
const KindTableStats store.Kind = "table-stats"

// TaskSpec is the input of Create/ModifyReplicationTask; nil = not given.
type TaskSpec struct {
	ARN                string // Modify only
	Identifier         *string
	ResourceIdentifier string
	SourceEndpointARN  string
	TargetEndpointARN  string
	InstanceARN        string
	MigrationType      *string
	TableMappings      *string
	Settings           *string
	TaskData           *string
	CdcStartPosition   *string
	CdcStartTime       *time.Time
	CdcStopPosition    *string
	Tags               []store.Tag
}

func checkMappings(doc string) error {
	if _, err := mapping.Parse(doc); err != nil {
		return invalidParam("%s", err)
	}
	return nil
}

func checkCdcStart(pos *string, at *time.Time) error {
	if pos != nil && *pos != "" && at != nil && !at.IsZero() {
		return newErr(CodeInvalidParameterCombination, "Give CdcStartPosition or CdcStartTime, not both.")
	}
	return nil
}

// CreateTask validates and stores a new task ("creating"; the engine makes it "ready").
func (s *Service) CreateTask(ctx context.Context, spec TaskSpec) (*dms.ReplicationTask, error) {
	id := deref(spec.Identifier)
	if err := dms.ValidateIdentifier("ReplicationTaskIdentifier", id, dms.MaxTaskIdentifier); err != nil {
		return nil, invalidParam("%s", err)
	}
	resID := dms.NewResourceID()
	if spec.ResourceIdentifier != "" {
		if err := dms.ValidateIdentifier("ResourceIdentifier", spec.ResourceIdentifier, dms.MaxResourceIdentifier); err != nil {
			return nil, invalidParam("%s", err)
		}
		resID = spec.ResourceIdentifier
	}
	if err := checkMappings(deref(spec.TableMappings)); err != nil {
		return nil, err
	}
	settings, doc, err := tasksettings.Parse(deref(spec.Settings), true)
	if err != nil {
		return nil, invalidParam("%s", err)
	}
	if err := checkCdcStart(spec.CdcStartPosition, spec.CdcStartTime); err != nil {
		return nil, err
	}
	mt := deref(spec.MigrationType)
	if settings.ValidationSettings.ValidationOnly && mt == dms.MigrationFullLoadAndCDC {
		return nil, newErr(CodeInvalidParameterCombination, "ValidationOnly tasks must be full-load or cdc, not full-load-and-cdc.")
	}
	t := &dms.ReplicationTask{
		ARN: s.Account.ARN(dms.TypeTask, resID), Identifier: strings.ToLower(id), ResourceID: resID,
		SourceEndpointARN: spec.SourceEndpointARN, TargetEndpointARN: spec.TargetEndpointARN, InstanceARN: spec.InstanceARN,
		MigrationType: mt, TableMappings: deref(spec.TableMappings), Settings: doc, TaskData: deref(spec.TaskData),
		CdcStartPosition: deref(spec.CdcStartPosition), CdcStopPosition: deref(spec.CdcStopPosition),
		Status: dms.TaskCreating, StopReason: dms.StopNormal, CreatedAt: s.now(),
	}
	if spec.CdcStartTime != nil {
		t.CdcStartTime = spec.CdcStartTime.UTC()
	}
	if err := validateTags(spec.Tags); err != nil {
		return nil, err
	}
	err = s.update(ctx, func(tx store.Tx) error {
		if err := s.checkTaskRefs(ctx, tx, t, true); err != nil {
			return err
		}
		tasks, err := list[dms.ReplicationTask](ctx, tx, KindTask, "")
		if err != nil {
			return err
		}
		perInstance := 0
		for _, o := range tasks {
			if o.Identifier == t.Identifier {
				return &Error{Code: CodeAlreadyExists, Msg: fmt.Sprintf("Replication task %s already exists.", t.Identifier), ARN: o.ARN}
			}
			if o.InstanceARN == t.InstanceARN {
				perInstance++
			}
		}
		if max := quota(catalog.QuotaReplicationTasks); len(tasks) >= max {
			return newErr(CodeQuotaExceeded, "The quota of %d replication tasks is reached.", max)
		}
		if perInstance >= catalog.MaxTasksPerInstance {
			return newErr(CodeQuotaExceeded, "A replication instance runs at most %d tasks.", catalog.MaxTasksPerInstance)
		}
		if err := insert(ctx, tx, KindTask, resID, t.ARN, "", t); err != nil {
			return err
		}
		if err := tx.TagPut(ctx, t.ARN, spec.Tags); err != nil {
			return err
		}
		return s.event(ctx, tx, t.Identifier, catalog.EventTaskCreated)
	})
	if err != nil {
		return nil, err
	}
	s.notify()
	return t, nil
}

// checkTaskRefs checks the task's endpoints and instance exist and fit.
func (s *Service) checkTaskRefs(ctx context.Context, r store.Reader, t *dms.ReplicationTask, needInstance bool) error {
	src, _, err := s.GetEndpoint(ctx, r, t.SourceEndpointARN)
	if err != nil {
		return err
	}
	if src.Type != "source" {
		return invalidParam("SourceEndpointArn %s is a %s endpoint; a task reads from a source endpoint.", src.Identifier, src.Type)
	}
	tgt, _, err := s.GetEndpoint(ctx, r, t.TargetEndpointARN)
	if err != nil {
		return err
	}
	if tgt.Type != "target" {
		return invalidParam("TargetEndpointArn %s is a %s endpoint; a task writes to a target endpoint.", tgt.Identifier, tgt.Type)
	}
	if needInstance {
		ri, _, err := s.GetInstance(ctx, r, t.InstanceARN)
		if err != nil {
			return err
		}
		if ri.Status == dms.InstanceDeleting {
			return invalidState("Replication instance %s is being deleted.", ri.Identifier)
		}
	}
	return nil
}

// GetTask reads a task by ARN.
func (s *Service) GetTask(ctx context.Context, r store.Reader, arn string) (*dms.ReplicationTask, *store.Record, error) {
	return loadByARN[dms.ReplicationTask](ctx, r, KindTask, arn, "Replication task")
}

// ListTasks returns every task.
func (s *Service) ListTasks(ctx context.Context) ([]*dms.ReplicationTask, error) {
	return list[dms.ReplicationTask](ctx, s.Store, KindTask, "")
}

// updateTask runs fn on the task inside a transaction and saves it.
func (s *Service) updateTask(ctx context.Context, arn string, fn func(tx store.Tx, t *dms.ReplicationTask) error) (*dms.ReplicationTask, error) {
	var out *dms.ReplicationTask
	err := s.update(ctx, func(tx store.Tx) error {
		t, rec, err := s.GetTask(ctx, tx, arn)
		if err != nil {
			return err
		}
		if err := fn(tx, t); err != nil {
			return err
		}
		out = t
		return save(ctx, tx, rec, t)
	})
	if err != nil {
		return nil, err
	}
	s.notify()
	return out, nil
}

// ModifyTask changes a task that is not running.
func (s *Service) ModifyTask(ctx context.Context, spec TaskSpec) (*dms.ReplicationTask, error) {
	if spec.Identifier != nil {
		if err := dms.ValidateIdentifier("ReplicationTaskIdentifier", *spec.Identifier, dms.MaxTaskIdentifier); err != nil {
			return nil, invalidParam("%s", err)
		}
	}
	if spec.TableMappings != nil {
		if err := checkMappings(*spec.TableMappings); err != nil {
			return nil, err
		}
	}
	if err := checkCdcStart(spec.CdcStartPosition, spec.CdcStartTime); err != nil {
		return nil, err
	}
	return s.updateTask(ctx, spec.ARN, func(tx store.Tx, t *dms.ReplicationTask) error {
		switch t.Status {
		case dms.TaskReady, dms.TaskStopped, dms.TaskFailed, dms.TaskFailedMove:
		case dms.TaskRunning, dms.TaskStarting:
			return invalidState("Replication Task, excluding logging severity task settings, cannot be modified while it is running state")
		default:
			return invalidState("Replication task %s is %s; it can be modified when ready, stopped or failed.", t.Identifier, t.Status)
		}
		if spec.MigrationType != nil && *spec.MigrationType != t.MigrationType && t.HasRun {
			return invalidState("The migration type of replication task %s cannot change after it has run.", t.Identifier)
		}
		if spec.Settings != nil {
			before, _, err := tasksettings.Parse(t.Settings, false)
			if err != nil {
				return err
			}
			after, doc, err := tasksettings.Merge(t.Settings, *spec.Settings)
			if err != nil {
				return invalidParam("%s", err)
			}
			if key := tasksettings.ImmutableChange(before, after); key != "" && t.HasRun {
				return invalidParam("Task setting %s cannot be changed after the task has run.", key)
			}
			t.Settings = doc
		}
		if spec.Identifier != nil && strings.ToLower(*spec.Identifier) != t.Identifier {
			tasks, err := list[dms.ReplicationTask](ctx, tx, KindTask, "")
			if err != nil {
				return err
			}
			for _, o := range tasks {
				if o.Identifier == strings.ToLower(*spec.Identifier) {
					return &Error{Code: CodeAlreadyExists, Msg: fmt.Sprintf("Replication task %s already exists.", o.Identifier), ARN: o.ARN}
				}
			}
			t.Identifier = strings.ToLower(*spec.Identifier)
		}
		if spec.MigrationType != nil {
			t.MigrationType = *spec.MigrationType
		}
		if spec.TableMappings != nil {
			t.TableMappings = *spec.TableMappings
		}
		if spec.TaskData != nil {
			t.TaskData = *spec.TaskData
		}
		if spec.CdcStartPosition != nil {
			t.CdcStartPosition, t.CdcStartTime = *spec.CdcStartPosition, time.Time{}
		}
		if spec.CdcStartTime != nil {
			t.CdcStartTime, t.CdcStartPosition = spec.CdcStartTime.UTC(), ""
		}
		if spec.CdcStopPosition != nil {
			t.CdcStopPosition = *spec.CdcStopPosition
		}
		t.ReturnStatus = t.Status
		t.Status = dms.TaskModifying
		return s.event(ctx, tx, t.Identifier, catalog.EventTaskModified)
	})
}

// StartSpec is the input of StartReplicationTask.
type StartSpec struct {
	ARN              string
	Type             string
	CdcStartPosition *string
	CdcStartTime     *time.Time
	CdcStopPosition  *string
}

// StartTask asks the engine to run the task.
func (s *Service) StartTask(ctx context.Context, spec StartSpec) (*dms.ReplicationTask, error) {
	if err := checkCdcStart(spec.CdcStartPosition, spec.CdcStartTime); err != nil {
		return nil, err
	}
	return s.updateTask(ctx, spec.ARN, func(tx store.Tx, t *dms.ReplicationTask) error {
		switch t.Status {
		case dms.TaskReady, dms.TaskStopped, dms.TaskFailed, dms.TaskFailedMove:
		default:
			return invalidState("Replication task %s is %s; it can be started when ready, stopped or failed.", t.Identifier, t.Status)
		}
		if spec.Type == dms.ResumeProcessing && !t.HasRun {
			return invalidState("Replication task %s has never run: start it with start-replication first.", t.Identifier)
		}
		ri, _, err := s.GetInstance(ctx, tx, t.InstanceARN)
		if err != nil {
			return err
		}
		if ri.Status != dms.InstanceAvailable {
			return invalidState("Replication instance %s is %s; tasks start only on an available instance.", ri.Identifier, ri.Status)
		}
		if err := s.checkTaskRefs(ctx, tx, t, false); err != nil {
			return err
		}
		if spec.CdcStartPosition != nil {
			t.CdcStartPosition, t.CdcStartTime = *spec.CdcStartPosition, time.Time{}
		}
		if spec.CdcStartTime != nil {
			t.CdcStartTime, t.CdcStartPosition = spec.CdcStartTime.UTC(), ""
		}
		if spec.CdcStopPosition != nil {
			t.CdcStopPosition = *spec.CdcStopPosition
		}
		now := s.now()
		t.Status = dms.TaskStarting
		t.StartType = spec.Type
		t.RunID++
		t.HasRun = true
		t.LastFailure = ""
		t.StopReason = ""
		t.Stats.StartDate = now
		t.Stats.StopDate = time.Time{}
		if spec.Type != dms.ResumeProcessing {
			t.Stats = dms.TaskStats{FreshStartDate: now, StartDate: now}
			// A fresh start forgets where change processing was.
			t.RecoveryCheckpoint, t.FullLoadDone, t.CDCShapes = "", false, nil
		}
		return nil
	})
}

// StopTask asks the engine to stop a running task.
func (s *Service) StopTask(ctx context.Context, arn string) (*dms.ReplicationTask, error) {
	return s.updateTask(ctx, arn, func(tx store.Tx, t *dms.ReplicationTask) error {
		if t.Status != dms.TaskRunning && t.Status != dms.TaskStarting {
			return invalidState("Replication task %s is not running (it is %s).", t.Identifier, t.Status)
		}
		t.Status = dms.TaskStopping
		return nil
	})
}

// MoveTask moves a stopped task to another instance.
func (s *Service) MoveTask(ctx context.Context, arn, targetInstanceARN string) (*dms.ReplicationTask, error) {
	return s.updateTask(ctx, arn, func(tx store.Tx, t *dms.ReplicationTask) error {
		switch t.Status {
		case dms.TaskReady, dms.TaskStopped, dms.TaskFailed, dms.TaskFailedMove:
		default:
			return invalidState("Replication task %s is %s; it can be moved when ready, stopped or failed.", t.Identifier, t.Status)
		}
		if targetInstanceARN == t.InstanceARN {
			return invalidParam("Replication task %s already runs on %s.", t.Identifier, targetInstanceARN)
		}
		dst, _, err := s.GetInstance(ctx, tx, targetInstanceARN)
		if err != nil {
			return err
		}
		if dst.Status != dms.InstanceAvailable {
			return invalidState("Replication instance %s is %s; a task can move only to an available instance.", dst.Identifier, dst.Status)
		}
		src, _, err := s.GetInstance(ctx, tx, t.InstanceARN)
		if err == nil && catalog.CompareVersions(dst.EngineVersion, src.EngineVersion) < 0 {
			return invalidParam("Replication instance %s runs engine %s, older than %s of the task's instance.", dst.Identifier, dst.EngineVersion, src.EngineVersion)
		}
		t.TargetInstanceARN = targetInstanceARN
		t.ReturnStatus = t.Status
		t.Status = dms.TaskMoving
		return nil
	})
}

// DeleteTask marks a task that is not running for deletion.
func (s *Service) DeleteTask(ctx context.Context, arn string) (*dms.ReplicationTask, error) {
	return s.updateTask(ctx, arn, func(tx store.Tx, t *dms.ReplicationTask) error {
		switch t.Status {
		case dms.TaskRunning, dms.TaskStarting, dms.TaskStopping:
			return invalidState("Replication task %s is %s: stop it before deleting it.", t.Identifier, t.Status)
		case dms.TaskDeleting:
			return invalidState("Replication task %s is already being deleted.", t.Identifier)
		}
		t.Status = dms.TaskDeleting
		return nil
	})
}

// ReloadTables asks a running task to reload tables.
func (s *Service) ReloadTables(ctx context.Context, arn string, tables [][2]string, option string) (*dms.ReplicationTask, error) {
	if len(tables) == 0 || len(tables) > 10 {
		return nil, invalidParam("TablesToReload must name 1 to 10 tables (got %d).", len(tables))
	}
	if option != "" && option != "data-reload" && option != "validate-only" {
		return nil, invalidParam("Invalid ReloadOption %q: valid values are data-reload and validate-only.", option)
	}
	return s.updateTask(ctx, arn, func(tx store.Tx, t *dms.ReplicationTask) error {
		if t.Status != dms.TaskRunning {
			return invalidState("Replication task %s is not running (it is %s); tables can be reloaded only on a running task.", t.Identifier, t.Status)
		}
		if t.MigrationType == dms.MigrationCDC {
			return invalidState("Replication task %s is a cdc task: only full-load and full-load-and-cdc tasks reload tables.", t.Identifier)
		}
		for _, tb := range tables {
			ts, rec, err := load[dms.TableStats](ctx, tx, KindTableStats, dms.TableStatsID(t.ResourceID, tb[0], tb[1]), "")
			if err != nil {
				return notFound("Table %s.%s is not part of replication task %s.", tb[0], tb[1], t.Identifier)
			}
			ts.ReloadRequested = true
			ts.ValidateOnly = option == "validate-only"
			if err := save(ctx, tx, rec, ts); err != nil {
				return err
			}
		}
		return s.event(ctx, tx, t.Identifier, catalog.EventTaskReloadRequested)
	})
}

// ListTableStats returns a task's table statistics.
func (s *Service) ListTableStats(ctx context.Context, taskARN string) ([]*dms.TableStats, error) {
	return list[dms.TableStats](ctx, s.Store, KindTableStats, taskARN)
}

// checkNoTasksOn fails with CodeInvalidState while replication tasks use the
// resource (an endpoint or an instance).
func (s *Service) checkNoTasksOn(ctx context.Context, r store.Reader, arn, what string) error {
	tasks, err := list[dms.ReplicationTask](ctx, r, KindTask, "")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		if t.SourceEndpointARN == arn || t.TargetEndpointARN == arn || t.InstanceARN == arn || t.TargetInstanceARN == arn {
			return invalidState("The %s is used by replication task %s: delete the task first.", what, t.Identifier)
		}
	}
	return nil
}
