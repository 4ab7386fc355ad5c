package dms

import (
	"encoding/json"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// Replication task statuses.
const (
	TaskCreating   = "creating"
	TaskReady      = "ready"
	TaskStarting   = "starting"
	TaskRunning    = "running"
	TaskStopping   = "stopping"
	TaskStopped    = "stopped"
	TaskFailed     = "failed"
	TaskModifying  = "modifying"
	TaskMoving     = "moving"
	TaskFailedMove = "failed-move"
	TaskDeleting   = "deleting"
	TaskTesting    = "testing"
)

// Migration types.
const (
	MigrationFullLoad       = "full-load"
	MigrationCDC            = "cdc"
	MigrationFullLoadAndCDC = "full-load-and-cdc"
)

// Start types.
const (
	StartReplication = "start-replication"
	ResumeProcessing = "resume-processing"
	ReloadTarget     = "reload-target"
)

// Stop reasons, as DMS writes them.
const (
	StopNormal               = "Stop Reason NORMAL"
	StopRecoverableError     = "Stop Reason RECOVERABLE_ERROR"
	StopFatalError           = "Stop Reason FATAL_ERROR"
	StopFullLoadOnlyFinished = "Stop Reason FULL_LOAD_ONLY_FINISHED"
	StopAfterFullLoad        = "Stop Reason STOPPED_AFTER_FULL_LOAD"
	StopAfterCachedEvents    = "Stop Reason STOPPED_AFTER_CACHED_EVENTS"
	StopAtServerTime         = "Stop Reason STOPPED_AT_SERVER_TIME"
	StopAtCommitTime         = "Stop Reason STOPPED_AT_COMMIT_TIME"
)

// ReplicationTask moves data from a source endpoint to a target endpoint on
// a replication instance.
type ReplicationTask struct {
	ARN               string
	Identifier        string
	ResourceID        string
	SourceEndpointARN string
	TargetEndpointARN string
	InstanceARN       string
	MigrationType     string
	TableMappings     string
	Settings          string // the full settings document (defaults merged)
	TaskData          string `json:",omitempty"`
	CdcStartPosition  string `json:",omitempty"`
	CdcStartTime      time.Time
	CdcStopPosition   string `json:",omitempty"`
	Status            string
	StopReason        string
	LastFailure       string `json:",omitempty"`
	// TargetInstanceARN is where a moving task goes.
	TargetInstanceARN string `json:",omitempty"`
	// ReturnStatus is the status a modifying or moving task returns to.
	ReturnStatus string `json:",omitempty"`
	CreatedAt    time.Time

	// Run bookkeeping. RunID increases with every start; the engine runs a
	// task while its status is starting or running and stops it when the
	// status becomes stopping.
	RunID     int64
	StartType string `json:",omitempty"`
	HasRun    bool
	// RecoveryCheckpoint is the source position up to which every change
	// is on the target; change processing resumes from it.
	RecoveryCheckpoint string `json:",omitempty"`
	// CDCSlot and CDCPublication name what the task created on a
	// PostgreSQL source (dropped when the task is deleted).
	CDCSlot        string `json:",omitempty"`
	CDCPublication string `json:",omitempty"`
	// FullLoadDone says the full load of a full-load-and-cdc run finished.
	FullLoadDone bool `json:",omitempty"`
	// CDCShapes are, per source table ("schema.table") altered by DDL
	// since the task started, the table's shape (a record.Table in JSON)
	// that the target reflects.
	CDCShapes map[string]json.RawMessage `json:",omitempty"`
	// RunningSince is when the current run reported running.
	RunningSince time.Time
	Stats        TaskStats
}

// TaskStats is ReplicationTaskStats.
type TaskStats struct {
	FullLoadProgressPercent int32
	ElapsedTimeMillis       int64
	TablesLoaded            int32
	TablesLoading           int32
	TablesQueued            int32
	TablesErrored           int32
	FreshStartDate          time.Time
	StartDate               time.Time
	StopDate                time.Time
	FullLoadStartDate       time.Time
	FullLoadFinishDate      time.Time
	// CDCLatencySource and CDCLatencyTarget are the CloudWatch metrics of
	// the same names, in seconds, as of the last update of a running cdc
	// task.
	CDCLatencySource int64 `json:",omitempty"`
	CDCLatencyTarget int64 `json:",omitempty"`
}

// Table states (TableStatistics.TableState).
const (
	TableBeforeLoad  = "Before load"
	TableFullLoad    = "Full load"
	TableCompleted   = "Table completed"
	TableCancelled   = "Table cancelled"
	TableError       = "Table error"
	TableReloading   = "Table is being reloaded"
	TableDoesntExist = "Table does not exist"
)

// TableStats is one table's statistics and load progress within a task.
type TableStats struct {
	TaskARN                    string
	SchemaName                 string // source names
	TableName                  string
	TableState                 string
	FullLoadRows               int64
	FullLoadErrorRows          int64
	FullLoadStartTime          time.Time
	FullLoadEndTime            time.Time
	FullLoadReloaded           bool
	Inserts                    int64
	Updates                    int64
	Deletes                    int64
	Ddls                       int64
	AppliedInserts             int64
	AppliedUpdates             int64
	AppliedDeletes             int64
	AppliedDdls                int64
	ValidationState            string
	ValidationStateDetails     string `json:",omitempty"`
	ValidationPendingRecords   int64
	ValidationFailedRecords    int64
	ValidationSuspendedRecords int64
	LastUpdateTime             time.Time
	// LastError says why the table is in "Table error".
	LastError string `json:",omitempty"`
	// ReloadRequested is set by ReloadTables until the engine reloads it;
	// ValidateOnly says the reload only validates again.
	ReloadRequested bool `json:",omitempty"`
	ValidateOnly    bool `json:",omitempty"`
	// Segments is the load progress: per segment, the rows loaded and the
	// key of the last row committed on the target.
	Segments []SegmentProgress `json:",omitempty"`
	// RunID is the run that produced these statistics.
	RunID int64
}

// SegmentProgress is the persisted progress of one segment of a table load.
type SegmentProgress struct {
	Index int
	// Bounds and keys are kept as text (the engine's canonical text of each
	// value), which every connector binds as a parameter of the column's type.
	From    []string `json:",omitempty"` // inclusive lower bound on the range columns
	To      []string `json:",omitempty"` // exclusive upper bound
	Columns []string
	LastKey []string `json:",omitempty"` // last source key committed on the target
	// Position is where LastKey's row is stored on the source, while the
	// segment is read in storage order (connector.RawBatch.Position): then
	// LastKey is a place to go on from only once the source has confirmed
	// that the rows came in key order (connector.StorageOrderChecker).
	Position string `json:",omitempty"`
	// Stored, for a segment cut by where the source stores its rows
	// (connector.StorageSplitter), is that part: then Columns, From and To
	// are empty, and an interrupted load of the table starts again.
	Stored *record.StorageRange `json:",omitempty"`
	Rows   int64
	Done   bool
}

// TableStatsID is the store key of a table's statistics within a task.
func TableStatsID(taskResourceID, schema, table string) string {
	return taskResourceID + "|" + schema + "|" + table
}
