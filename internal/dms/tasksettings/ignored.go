package tasksettings

import "strings"

// ignoredPaths are the settings Godwit keeps, validates and returns, but
// does not act on (docs/compatibility.md says why, group by group).
var ignoredPaths = []string{
	"TargetMetadata.LobChunkSize", "TargetMetadata.InlineLobMaxSize", "TargetMetadata.LoadMaxFileSize",
	"TargetMetadata.ParallelLoadThreads", "TargetMetadata.ParallelLoadBufferSize", "TargetMetadata.ParallelLoadQueuesPerThread",
	"TargetMetadata.ParallelApplyThreads", "TargetMetadata.ParallelApplyBufferSize", "TargetMetadata.ParallelApplyQueuesPerThread",
	"TargetMetadata.TaskRecoveryTableEnabled",
	"FullLoadSettings.TransactionConsistencyTimeout",
	"Logging.EnableLogging", "Logging.EnableLogContext", "Logging.LogComponents", "Logging.CloudWatchLogGroup", "Logging.CloudWatchLogStream",
	"ControlTablesSettings.FullLoadExceptionTableEnabled",
	"StreamBufferSettings.StreamBufferCount", "StreamBufferSettings.StreamBufferSizeInMB", "StreamBufferSettings.CtrlStreamBufferSizeInMB",
	"ChangeProcessingTuning.BatchApplyPreserveTransaction", "ChangeProcessingTuning.BatchApplyTimeoutMax",
	"ChangeProcessingTuning.BatchApplyMemoryLimit", "ChangeProcessingTuning.BatchSplitSize", "ChangeProcessingTuning.MemoryLimitTotal",
	"ChangeProcessingTuning.MemoryKeepTime", "ChangeProcessingTuning.StatementCacheSize",
	"ErrorBehavior.DataErrorPolicy", "ErrorBehavior.DataTruncationErrorPolicy", "ErrorBehavior.DataErrorEscalationPolicy",
	"ErrorBehavior.DataErrorEscalationCount", "ErrorBehavior.TableErrorEscalationPolicy", "ErrorBehavior.TableErrorEscalationCount",
	"ErrorBehavior.RecoverableErrorStopRetryAfterThrottlingMax", "ErrorBehavior.ApplyErrorEscalationPolicy",
	"ErrorBehavior.ApplyErrorEscalationCount", "ErrorBehavior.ApplyErrorFailOnTruncationDdl", "ErrorBehavior.FullLoadIgnoreConflicts",
	"ErrorBehavior.FailOnTransactionConsistencyBreached", "ErrorBehavior.EventErrorPolicy",
	"ValidationSettings.ValidationMode", "ValidationSettings.RecordSuspendDelayInMinutes",
	"ValidationSettings.RecordFailureDelayLimitInMinutes", "ValidationSettings.MaxKeyColumnSize",
	"BeforeImageSettings", "FailTaskWhenCleanTaskResourceFailed",
}

// Ignored lists, as path=value, the settings of the task settings document
// doc that Godwit does not act on and that differ from DMS's defaults (a
// setting left at its default changes nothing in DMS either). A document
// that does not parse has none.
func Ignored(doc string) []string {
	root, err := parseDocument(doc)
	if err != nil {
		return nil
	}
	var out []string
	for _, path := range ignoredPaths {
		got, def := root, defaultsTemplate
		for _, k := range strings.Split(path, ".") {
			got, def = got.get(k), def.get(k)
		}
		if got == nil {
			continue
		}
		// Values are compact from the parser: equal JSON, equal text.
		if g := got.String(); def == nil || g != def.String() {
			out = append(out, path+"="+g)
		}
	}
	return out
}
