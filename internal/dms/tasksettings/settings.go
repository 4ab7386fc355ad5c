// Package tasksettings implements the ReplicationTaskSettings JSON document of
// CreateReplicationTask / ModifyReplicationTask.
//
// DMS merges what the user sends over its defaults and returns the complete
// document: a superset of the input in which every value the user sent keeps
// its exact JSON text and unknown keys survive, so a Terraform plan stays
// clean. This package does that merge on an order-preserving JSON tree (see
// jsontree.go), validates the keys Godwit honours, and exposes them as the
// typed Settings.
package tasksettings

// Settings is the typed view of the keys Godwit honours. Field names are the
// DMS key names. Keys outside this view (LoopbackPreventionSettings,
// CharacterSetSettings, TTSettings, PostProcessingRules, anything unknown) are
// kept in the document only.
type Settings struct {
	TargetMetadata                      TargetMetadata
	FullLoadSettings                    FullLoadSettings
	Logging                             Logging
	ControlTablesSettings               ControlTablesSettings
	StreamBufferSettings                StreamBufferSettings
	ChangeProcessingTuning              ChangeProcessingTuning
	ChangeProcessingDdlHandlingPolicy   ChangeProcessingDdlHandlingPolicy
	ErrorBehavior                       ErrorBehavior
	ValidationSettings                  ValidationSettings
	BeforeImageSettings                 *BeforeImageSettings // nil when null
	FailTaskWhenCleanTaskResourceFailed bool
}

// TargetMetadata: target schema, LOB handling and parallel load/apply.
// Sizes are in KB.
type TargetMetadata struct {
	TargetSchema                 string
	SupportLobs                  bool
	FullLobMode                  bool
	LobChunkSize                 int
	LimitedSizeLobMode           bool
	LobMaxSize                   int
	InlineLobMaxSize             int
	LoadMaxFileSize              int
	ParallelLoadThreads          int
	ParallelLoadBufferSize       int
	ParallelLoadQueuesPerThread  int
	ParallelApplyThreads         int
	ParallelApplyBufferSize      int
	ParallelApplyQueuesPerThread int
	BatchApplyEnabled            bool
	TaskRecoveryTableEnabled     bool
}

// FullLoadSettings: how target tables are prepared and loaded.
type FullLoadSettings struct {
	TargetTablePrepMode             string // PrepDoNothing | PrepDropAndCreate | PrepTruncateBeforeLoad
	CreatePkAfterFullLoad           bool
	StopTaskCachedChangesApplied    bool
	StopTaskCachedChangesNotApplied bool
	MaxFullLoadSubTasks             int
	TransactionConsistencyTimeout   int // seconds
	CommitRate                      int
}

// Logging: task log components. CloudWatchLogGroup/CloudWatchLogStream are
// read-only: DMS fills them in, and rejects them on create.
type Logging struct {
	EnableLogging       bool
	EnableLogContext    bool
	LogComponents       []LogComponent
	CloudWatchLogGroup  *string
	CloudWatchLogStream *string
}

// LogComponent is one Logging.LogComponents entry.
type LogComponent struct {
	Id       string
	Severity string
}

// ControlTablesSettings: awsdms_* control tables on the target. The document
// also carries the read-only key historyTimeslotInMinutes, which always
// mirrors HistoryTimeslotInMinutes and so has no field here.
type ControlTablesSettings struct {
	ControlSchema                 string
	HistoryTimeslotInMinutes      int
	HistoryTableEnabled           bool
	SuspendedTablesTableEnabled   bool
	StatusTableEnabled            bool
	FullLoadExceptionTableEnabled bool
}

// StreamBufferSettings: in-memory stream buffers (sizes in MB).
type StreamBufferSettings struct {
	StreamBufferCount        int
	StreamBufferSizeInMB     int
	CtrlStreamBufferSizeInMB int
}

// ChangeProcessingTuning: CDC apply batching and memory (seconds, MB).
type ChangeProcessingTuning struct {
	BatchApplyPreserveTransaction bool
	BatchApplyTimeoutMin          int
	BatchApplyTimeoutMax          int
	BatchApplyMemoryLimit         int
	BatchSplitSize                int
	MinTransactionSize            int
	CommitTimeout                 int
	MemoryLimitTotal              int
	MemoryKeepTime                int
	StatementCacheSize            int
}

// ChangeProcessingDdlHandlingPolicy: which source DDL is applied to the target.
type ChangeProcessingDdlHandlingPolicy struct {
	HandleSourceTableDropped   bool
	HandleSourceTableTruncated bool
	HandleSourceTableAltered   bool
}

// ErrorBehavior: error policies and recoverable-error retries.
type ErrorBehavior struct {
	DataErrorPolicy                             string
	DataTruncationErrorPolicy                   string
	DataErrorEscalationPolicy                   string
	DataErrorEscalationCount                    int
	TableErrorPolicy                            string
	TableErrorEscalationPolicy                  string
	TableErrorEscalationCount                   int
	RecoverableErrorCount                       int // -1 = retry forever
	RecoverableErrorInterval                    int // seconds
	RecoverableErrorThrottling                  bool
	RecoverableErrorThrottlingMax               int // seconds
	RecoverableErrorStopRetryAfterThrottlingMax bool
	ApplyErrorDeletePolicy                      string
	ApplyErrorInsertPolicy                      string
	ApplyErrorUpdatePolicy                      string
	ApplyErrorEscalationPolicy                  string
	ApplyErrorEscalationCount                   int
	ApplyErrorFailOnTruncationDdl               bool
	FullLoadIgnoreConflicts                     bool
	FailOnTransactionConsistencyBreached        bool
	FailOnNoTablesCaptured                      bool
	EventErrorPolicy                            string
}

// ValidationSettings: data validation.
type ValidationSettings struct {
	EnableValidation                 bool
	ValidationMode                   string // ValidationRowLevel | ValidationGroupLevel
	ThreadCount                      int
	PartitionSize                    int
	FailureMaxCount                  int
	TableFailureMaxCount             int
	RecordFailureDelayInMinutes      int
	RecordSuspendDelayInMinutes      int
	RecordFailureDelayLimitInMinutes int
	MaxKeyColumnSize                 int
	ValidationOnly                   bool
	HandleCollationDiff              bool
	SkipLobColumns                   bool
	ValidationPartialLobSize         int
	ValidationQueryCdcDelaySeconds   int
}

// BeforeImageSettings: before images on CDC updates for streaming targets.
// Keys missing from the object take their documented defaults.
type BeforeImageSettings struct {
	EnableBeforeImage bool
	FieldName         string
	ColumnFilter      string // ColumnFilterPkOnly (default) | ColumnFilterNonLob | ColumnFilterAll
}

// FullLoadSettings.TargetTablePrepMode values.
const (
	PrepDoNothing          = "DO_NOTHING"
	PrepDropAndCreate      = "DROP_AND_CREATE"
	PrepTruncateBeforeLoad = "TRUNCATE_BEFORE_LOAD"
)

// ErrorBehavior policy values.
const (
	PolicyIgnoreRecord = "IGNORE_RECORD"
	PolicyLogError     = "LOG_ERROR"
	PolicySuspendTable = "SUSPEND_TABLE"
	PolicyStopTask     = "STOP_TASK"
	PolicyInsertRecord = "INSERT_RECORD" // ApplyErrorInsertPolicy: update the existing row
	PolicyUpdateRecord = "UPDATE_RECORD" // ApplyErrorUpdatePolicy: insert the missing row
	PolicyIgnore       = "IGNORE"        // EventErrorPolicy
)

// Logging severities, least to most verbose.
const (
	SeverityError         = "LOGGER_SEVERITY_ERROR"
	SeverityWarning       = "LOGGER_SEVERITY_WARNING"
	SeverityInfo          = "LOGGER_SEVERITY_INFO"
	SeverityDefault       = "LOGGER_SEVERITY_DEFAULT"
	SeverityDebug         = "LOGGER_SEVERITY_DEBUG"
	SeverityDetailedDebug = "LOGGER_SEVERITY_DETAILED_DEBUG"
)

// ValidationSettings.ValidationMode values.
const (
	ValidationRowLevel   = "ROW_LEVEL"
	ValidationGroupLevel = "GROUP_LEVEL"
)

// BeforeImageSettings.ColumnFilter values.
const (
	ColumnFilterPkOnly = "pk-only"
	ColumnFilterNonLob = "non-lob"
	ColumnFilterAll    = "all"
)

// Enumerations accepted by validation.
var (
	prepModes      = []string{PrepDoNothing, PrepDropAndCreate, PrepTruncateBeforeLoad}
	recordPolicies = []string{PolicyIgnoreRecord, PolicyLogError, PolicySuspendTable, PolicyStopTask}
	// DataErrorEscalationPolicy: current UG lists SUSPEND_TABLE|STOP_TASK; older
	// UG revisions also listed LOG_ERROR, which is accepted for compatibility.
	dataEscalationPolicies  = []string{PolicyLogError, PolicySuspendTable, PolicyStopTask}
	tablePolicies           = []string{PolicySuspendTable, PolicyStopTask}
	tableEscalationPolicies = []string{PolicyStopTask} // UG: "the default and only user setting"
	insertPolicies          = []string{PolicyIgnoreRecord, PolicyLogError, PolicySuspendTable, PolicyStopTask, PolicyInsertRecord}
	updatePolicies          = []string{PolicyIgnoreRecord, PolicyLogError, PolicySuspendTable, PolicyStopTask, PolicyUpdateRecord}
	applyEscalationPolicies = []string{PolicyLogError, PolicySuspendTable, PolicyStopTask}
	eventPolicies           = []string{PolicyIgnore, PolicyStopTask}
	severities              = []string{SeverityError, SeverityWarning, SeverityInfo, SeverityDefault, SeverityDebug, SeverityDetailedDebug}
	logComponentIDs         = []string{
		"SOURCE_UNLOAD", "SOURCE_CAPTURE", "SORTER", "TARGET_LOAD", "TARGET_APPLY", "TASK_MANAGER",
		"TABLES_MANAGER", "METADATA_MANAGER", "FILE_FACTORY", "TRANSFORMATION", "VALIDATOR", "VALIDATOR_EXT",
		"IO", "PERFORMANCE", "REST_SERVER", "COMMON", "ADDONS", "DATA_STRUCTURE", "COMMUNICATION", "FILE_TRANSFER",
	}
	validationModes = []string{ValidationRowLevel, ValidationGroupLevel}
	columnFilters   = []string{ColumnFilterPkOnly, ColumnFilterNonLob, ColumnFilterAll}
)
