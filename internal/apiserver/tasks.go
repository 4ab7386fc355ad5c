package apiserver

import (
	"context"
	"os"
	"time"

	"github.com/godwit-dms/godwit/internal/api"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/service"
)

func taskShape(t *dms.ReplicationTask, withSettings bool) *api.ReplicationTask {
	out := &api.ReplicationTask{
		ReplicationTaskArn:           ptr(t.ARN),
		ReplicationTaskIdentifier:    ptr(t.Identifier),
		SourceEndpointArn:            ptr(t.SourceEndpointARN),
		TargetEndpointArn:            ptr(t.TargetEndpointARN),
		ReplicationInstanceArn:       ptr(t.InstanceARN),
		MigrationType:                ptr(t.MigrationType),
		Status:                       ptr(t.Status),
		StopReason:                   optPtr(t.StopReason),
		LastFailureMessage:           optPtr(t.LastFailure),
		ReplicationTaskCreationDate:  api.NewTime(t.CreatedAt),
		ReplicationTaskStartDate:     api.NewTime(t.Stats.StartDate),
		CdcStartPosition:             optPtr(t.CdcStartPosition),
		CdcStopPosition:              optPtr(t.CdcStopPosition),
		RecoveryCheckpoint:           optPtr(t.RecoveryCheckpoint),
		TargetReplicationInstanceArn: optPtr(t.TargetInstanceARN),
		TaskData:                     optPtr(t.TaskData),
		ReplicationTaskStats: &api.ReplicationTaskStats{
			FullLoadProgressPercent: ptr(t.Stats.FullLoadProgressPercent),
			ElapsedTimeMillis:       ptr(t.Stats.ElapsedTimeMillis),
			TablesLoaded:            ptr(t.Stats.TablesLoaded),
			TablesLoading:           ptr(t.Stats.TablesLoading),
			TablesQueued:            ptr(t.Stats.TablesQueued),
			TablesErrored:           ptr(t.Stats.TablesErrored),
			FreshStartDate:          api.NewTime(t.Stats.FreshStartDate),
			StartDate:               api.NewTime(t.Stats.StartDate),
			StopDate:                api.NewTime(t.Stats.StopDate),
			FullLoadStartDate:       api.NewTime(t.Stats.FullLoadStartDate),
			FullLoadFinishDate:      api.NewTime(t.Stats.FullLoadFinishDate),
		},
	}
	if withSettings {
		out.TableMappings = ptr(t.TableMappings)
		out.ReplicationTaskSettings = ptr(t.Settings)
	}
	return out
}

func timePtr(t *api.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.Time
	return &v
}

func (s *Server) CreateReplicationTask(ctx context.Context, in *api.CreateReplicationTaskMessage) (*api.CreateReplicationTaskResponse, error) {
	t, err := s.Svc.CreateTask(ctx, service.TaskSpec{
		Identifier: in.ReplicationTaskIdentifier, ResourceIdentifier: str(in.ResourceIdentifier),
		SourceEndpointARN: str(in.SourceEndpointArn), TargetEndpointARN: str(in.TargetEndpointArn), InstanceARN: str(in.ReplicationInstanceArn),
		MigrationType: in.MigrationType, TableMappings: in.TableMappings, Settings: in.ReplicationTaskSettings, TaskData: in.TaskData,
		CdcStartPosition: in.CdcStartPosition, CdcStartTime: timePtr(in.CdcStartTime), CdcStopPosition: in.CdcStopPosition,
		Tags: tagsIn(in.Tags),
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateReplicationTaskResponse{ReplicationTask: taskShape(t, true)}, nil
}

func (s *Server) DescribeReplicationTasks(ctx context.Context, in *api.DescribeReplicationTasksMessage) (*api.DescribeReplicationTasksResponse, error) {
	all, err := s.Svc.ListTasks(ctx)
	if err != nil {
		return nil, err
	}
	items, err := applyFilters(all, in.Filters, filterFields[*dms.ReplicationTask]{
		"replication-task-arn":     func(t *dms.ReplicationTask) []string { return []string{t.ARN} },
		"replication-task-id":      func(t *dms.ReplicationTask) []string { return []string{t.Identifier} },
		"migration-type":           func(t *dms.ReplicationTask) []string { return []string{t.MigrationType} },
		"endpoint-arn":             func(t *dms.ReplicationTask) []string { return []string{t.SourceEndpointARN, t.TargetEndpointARN} },
		"replication-instance-arn": func(t *dms.ReplicationTask) []string { return []string{t.InstanceARN} },
	})
	if err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 && len(items) == 0 {
		return nil, noneMatched("Tasks")
	}
	pg, next, err := page(items, in.Marker, in.MaxRecords, limitsStd)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeReplicationTasksResponse{Marker: next, ReplicationTasks: []api.ReplicationTask{}}
	for _, t := range pg {
		out.ReplicationTasks = append(out.ReplicationTasks, *taskShape(t, !boolv(in.WithoutSettings)))
	}
	return out, nil
}

func (s *Server) ModifyReplicationTask(ctx context.Context, in *api.ModifyReplicationTaskMessage) (*api.ModifyReplicationTaskResponse, error) {
	t, err := s.Svc.ModifyTask(ctx, service.TaskSpec{
		ARN: str(in.ReplicationTaskArn), Identifier: in.ReplicationTaskIdentifier, MigrationType: in.MigrationType,
		TableMappings: in.TableMappings, Settings: in.ReplicationTaskSettings, TaskData: in.TaskData,
		CdcStartPosition: in.CdcStartPosition, CdcStartTime: timePtr(in.CdcStartTime), CdcStopPosition: in.CdcStopPosition,
	})
	if err != nil {
		return nil, err
	}
	return &api.ModifyReplicationTaskResponse{ReplicationTask: taskShape(t, true)}, nil
}

func (s *Server) StartReplicationTask(ctx context.Context, in *api.StartReplicationTaskMessage) (*api.StartReplicationTaskResponse, error) {
	t, err := s.Svc.StartTask(ctx, service.StartSpec{ARN: str(in.ReplicationTaskArn), Type: str(in.StartReplicationTaskType),
		CdcStartPosition: in.CdcStartPosition, CdcStartTime: timePtr(in.CdcStartTime), CdcStopPosition: in.CdcStopPosition})
	if err != nil {
		return nil, err
	}
	return &api.StartReplicationTaskResponse{ReplicationTask: taskShape(t, true)}, nil
}

func (s *Server) StopReplicationTask(ctx context.Context, in *api.StopReplicationTaskMessage) (*api.StopReplicationTaskResponse, error) {
	t, err := s.Svc.StopTask(ctx, str(in.ReplicationTaskArn))
	if err != nil {
		return nil, err
	}
	return &api.StopReplicationTaskResponse{ReplicationTask: taskShape(t, true)}, nil
}

func (s *Server) MoveReplicationTask(ctx context.Context, in *api.MoveReplicationTaskMessage) (*api.MoveReplicationTaskResponse, error) {
	t, err := s.Svc.MoveTask(ctx, str(in.ReplicationTaskArn), str(in.TargetReplicationInstanceArn))
	if err != nil {
		return nil, err
	}
	return &api.MoveReplicationTaskResponse{ReplicationTask: taskShape(t, true)}, nil
}

func (s *Server) DeleteReplicationTask(ctx context.Context, in *api.DeleteReplicationTaskMessage) (*api.DeleteReplicationTaskResponse, error) {
	t, err := s.Svc.DeleteTask(ctx, str(in.ReplicationTaskArn))
	if err != nil {
		return nil, err
	}
	return &api.DeleteReplicationTaskResponse{ReplicationTask: taskShape(t, true)}, nil
}

func (s *Server) ReloadTables(ctx context.Context, in *api.ReloadTablesMessage) (*api.ReloadTablesResponse, error) {
	var tables [][2]string
	for _, tb := range in.TablesToReload {
		tables = append(tables, [2]string{str(tb.SchemaName), str(tb.TableName)})
	}
	t, err := s.Svc.ReloadTables(ctx, str(in.ReplicationTaskArn), tables, str(in.ReloadOption))
	if err != nil {
		return nil, err
	}
	return &api.ReloadTablesResponse{ReplicationTaskArn: ptr(t.ARN)}, nil
}

func (s *Server) DescribeTableStatistics(ctx context.Context, in *api.DescribeTableStatisticsMessage) (*api.DescribeTableStatisticsResponse, error) {
	t, _, err := s.Svc.GetTask(ctx, s.Svc.Store, str(in.ReplicationTaskArn))
	if err != nil {
		return nil, err
	}
	all, err := s.Svc.ListTableStats(ctx, t.ARN)
	if err != nil {
		return nil, err
	}
	items, err := applyFilters(all, in.Filters, filterFields[*dms.TableStats]{
		"schema-name": func(ts *dms.TableStats) []string { return []string{ts.SchemaName} },
		"table-name":  func(ts *dms.TableStats) []string { return []string{ts.TableName} },
		"table-state": func(ts *dms.TableStats) []string { return []string{ts.TableState} },
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(items, in.Marker, in.MaxRecords, limitsStats)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeTableStatisticsResponse{ReplicationTaskArn: ptr(t.ARN), Marker: next, TableStatistics: []api.TableStatistics{}}
	for _, ts := range pg {
		out.TableStatistics = append(out.TableStatistics, api.TableStatistics{
			SchemaName: ptr(ts.SchemaName), TableName: ptr(ts.TableName), TableState: ptr(ts.TableState),
			FullLoadRows: ptr(ts.FullLoadRows), FullLoadErrorRows: ptr(ts.FullLoadErrorRows),
			FullLoadCondtnlChkFailedRows: ptr(int64(0)),
			FullLoadStartTime:            api.NewTime(ts.FullLoadStartTime), FullLoadEndTime: api.NewTime(ts.FullLoadEndTime),
			FullLoadReloaded: ptr(ts.FullLoadReloaded),
			Inserts:          ptr(ts.Inserts), Updates: ptr(ts.Updates), Deletes: ptr(ts.Deletes), Ddls: ptr(ts.Ddls),
			AppliedInserts: ptr(ts.AppliedInserts), AppliedUpdates: ptr(ts.AppliedUpdates), AppliedDeletes: ptr(ts.AppliedDeletes), AppliedDdls: ptr(ts.AppliedDdls),
			LastUpdateTime:  api.NewTime(ts.LastUpdateTime),
			ValidationState: optPtr(ts.ValidationState), ValidationStateDetails: optPtr(ts.ValidationStateDetails),
			ValidationPendingRecords: ptr(ts.ValidationPendingRecords), ValidationFailedRecords: ptr(ts.ValidationFailedRecords),
			ValidationSuspendedRecords: ptr(ts.ValidationSuspendedRecords),
		})
	}
	return out, nil
}

func (s *Server) DescribeReplicationInstanceTaskLogs(ctx context.Context, in *api.DescribeReplicationInstanceTaskLogsMessage) (*api.DescribeReplicationInstanceTaskLogsResponse, error) {
	ri, _, err := s.Svc.GetInstance(ctx, s.Svc.Store, str(in.ReplicationInstanceArn))
	if err != nil {
		return nil, err
	}
	all, err := s.Svc.ListTasks(ctx)
	if err != nil {
		return nil, err
	}
	var mine []*dms.ReplicationTask
	for _, t := range all {
		if t.InstanceARN == ri.ARN {
			mine = append(mine, t)
		}
	}
	pg, next, err := page(mine, in.Marker, in.MaxRecords, limitsStd)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeReplicationInstanceTaskLogsResponse{ReplicationInstanceArn: ptr(ri.ARN), Marker: next, ReplicationInstanceTaskLogs: []api.ReplicationInstanceTaskLog{}}
	for _, t := range pg {
		var size int64
		if p := s.Svc.TaskLogPath(t); p != "" {
			if st, err := os.Stat(p); err == nil {
				size = st.Size()
			}
		}
		out.ReplicationInstanceTaskLogs = append(out.ReplicationInstanceTaskLogs, api.ReplicationInstanceTaskLog{
			ReplicationTaskArn: ptr(t.ARN), ReplicationTaskName: ptr(t.Identifier), ReplicationInstanceTaskLogSize: ptr(size)})
	}
	return out, nil
}
