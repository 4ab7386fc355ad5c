package tasksettings

import (
	"errors"
	"strings"
	"testing"
)

func TestValidationRejects(t *testing.T) {
	cases := []struct {
		name, doc, key, reason string // reason: substring of Error.Reason
	}{
		// Whole document.
		{"malformed", `{"FullLoadSettings":`, "", "not valid JSON: "},
		{"trailing garbage", `{} x`, "", "not valid JSON: "},
		{"top-level array", `[1]`, "", "must be a JSON object (got array)"},
		{"top-level null", `null`, "", "must be a JSON object (got null)"},
		{"top-level string", `"x"`, "", "must be a JSON object (got string)"},
		{"invalid utf-8", "{\"Foo\":\"\xff\"}", "", "invalid UTF-8"},

		// Sections must stay objects.
		{"section number", `{"TargetMetadata":5}`, "TargetMetadata", "must be a JSON object (got number)"},
		{"section null", `{"ErrorBehavior":null}`, "ErrorBehavior", "must be a JSON object (got null)"},
		{"section array", `{"Logging":[]}`, "Logging", "must be a JSON object (got array)"},
		{"nullable section", `{"BeforeImageSettings":[]}`, "BeforeImageSettings", "must be a JSON object or null"},
		{"loopback shape", `{"LoopbackPreventionSettings":"x"}`, "LoopbackPreventionSettings", "object or null"},
		{"charset shape", `{"CharacterSetSettings":1}`, "CharacterSetSettings", "object or null"},
		{"tt shape", `{"TTSettings":true}`, "TTSettings", "object or null"},
		{"top-level bool", `{"FailTaskWhenCleanTaskResourceFailed":"no"}`, "FailTaskWhenCleanTaskResourceFailed", "must be a boolean"},

		// Types.
		{"string for int", `{"FullLoadSettings":{"CommitRate":"10000"}}`, "FullLoadSettings.CommitRate", "must be an integer (got string)"},
		{"fraction", `{"FullLoadSettings":{"CommitRate":1.5}}`, "FullLoadSettings.CommitRate", "must be an integer (got 1.5)"},
		{"null int", `{"StreamBufferSettings":{"StreamBufferCount":null}}`, "StreamBufferSettings.StreamBufferCount", "must be an integer (got null)"},
		{"huge int", `{"TargetMetadata":{"LobMaxSize":1e30}}`, "TargetMetadata.LobMaxSize", "must be at most 2147483647"},
		{"huge literal", `{"TargetMetadata":{"LobMaxSize":99999999999999999999999}}`, "TargetMetadata.LobMaxSize", "must be at most 2147483647"},
		{"string for bool", `{"TargetMetadata":{"SupportLobs":"true"}}`, "TargetMetadata.SupportLobs", "must be a boolean (got string)"},
		{"number for bool", `{"ValidationSettings":{"EnableValidation":1}}`, "ValidationSettings.EnableValidation", "must be a boolean (got number)"},
		{"number for string", `{"TargetMetadata":{"TargetSchema":1}}`, "TargetMetadata.TargetSchema", "must be a string (got number)"},
		{"null for string", `{"ControlTablesSettings":{"ControlSchema":null}}`, "ControlTablesSettings.ControlSchema", "must be a string (got null)"},
		{"nullable string", `{"Logging":{"CloudWatchLogGroup":5}}`, "Logging.CloudWatchLogGroup", "must be a string or null (got number)"},
		{"log components type", `{"Logging":{"LogComponents":{}}}`, "Logging.LogComponents", "must be an array (got object)"},
		{"log component type", `{"Logging":{"LogComponents":["IO"]}}`, "Logging.LogComponents[0]", "must be a JSON object (got string)"},
		{"log component id missing", `{"Logging":{"LogComponents":[{"Severity":"LOGGER_SEVERITY_INFO"}]}}`, "Logging.LogComponents[0].Id", "is required"},
		{"log component severity missing", `{"Logging":{"LogComponents":[{"Id":"IO"}]}}`, "Logging.LogComponents[0].Severity", "is required"},
		{"before image type", `{"BeforeImageSettings":{"EnableBeforeImage":"yes"}}`, "BeforeImageSettings.EnableBeforeImage", "must be a boolean"},
		{"enum type", `{"FullLoadSettings":{"TargetTablePrepMode":0}}`, "FullLoadSettings.TargetTablePrepMode", "must be a string (got number)"},

		// Enumerations.
		{"prep mode", `{"FullLoadSettings":{"TargetTablePrepMode":"TRUNCATE"}}`, "FullLoadSettings.TargetTablePrepMode", `must be one of DO_NOTHING, DROP_AND_CREATE, TRUNCATE_BEFORE_LOAD (got "TRUNCATE")`},
		{"prep mode case", `{"FullLoadSettings":{"TargetTablePrepMode":"do_nothing"}}`, "FullLoadSettings.TargetTablePrepMode", "must be one of"},
		{"data error", `{"ErrorBehavior":{"DataErrorPolicy":"IGNORE"}}`, "ErrorBehavior.DataErrorPolicy", "must be one of"},
		{"truncation error", `{"ErrorBehavior":{"DataTruncationErrorPolicy":"INSERT_RECORD"}}`, "ErrorBehavior.DataTruncationErrorPolicy", "must be one of"},
		{"data escalation", `{"ErrorBehavior":{"DataErrorEscalationPolicy":"IGNORE_RECORD"}}`, "ErrorBehavior.DataErrorEscalationPolicy", "must be one of"},
		{"table error", `{"ErrorBehavior":{"TableErrorPolicy":"LOG_ERROR"}}`, "ErrorBehavior.TableErrorPolicy", "must be one of SUSPEND_TABLE, STOP_TASK"},
		{"table escalation", `{"ErrorBehavior":{"TableErrorEscalationPolicy":"SUSPEND_TABLE"}}`, "ErrorBehavior.TableErrorEscalationPolicy", "must be one of STOP_TASK"},
		{"apply delete", `{"ErrorBehavior":{"ApplyErrorDeletePolicy":"INSERT_RECORD"}}`, "ErrorBehavior.ApplyErrorDeletePolicy", "must be one of"},
		{"apply insert", `{"ErrorBehavior":{"ApplyErrorInsertPolicy":"UPDATE_RECORD"}}`, "ErrorBehavior.ApplyErrorInsertPolicy", "must be one of"},
		{"apply update", `{"ErrorBehavior":{"ApplyErrorUpdatePolicy":"INSERT_RECORD"}}`, "ErrorBehavior.ApplyErrorUpdatePolicy", "must be one of"},
		{"apply escalation", `{"ErrorBehavior":{"ApplyErrorEscalationPolicy":"IGNORE_RECORD"}}`, "ErrorBehavior.ApplyErrorEscalationPolicy", "must be one of"},
		{"event error", `{"ErrorBehavior":{"EventErrorPolicy":"LOG_ERROR"}}`, "ErrorBehavior.EventErrorPolicy", "must be one of IGNORE, STOP_TASK"},
		{"severity", `{"Logging":{"LogComponents":[{"Id":"IO","Severity":"LOGGER_SEVERITY_TRACE"}]}}`, "Logging.LogComponents[0].Severity", "must be one of"},
		{"component id", `{"Logging":{"LogComponents":[{"Id":"IO","Severity":"LOGGER_SEVERITY_INFO"},{"Id":"NOPE","Severity":"LOGGER_SEVERITY_INFO"}]}}`, "Logging.LogComponents[1].Id", "must be one of"},
		{"validation mode", `{"ValidationSettings":{"ValidationMode":"TABLE_LEVEL"}}`, "ValidationSettings.ValidationMode", "must be one of ROW_LEVEL, GROUP_LEVEL"},
		{"column filter", `{"BeforeImageSettings":{"EnableBeforeImage":true,"FieldName":"b","ColumnFilter":"lob"}}`, "BeforeImageSettings.ColumnFilter", "must be one of pk-only, non-lob, all"},

		// Ranges.
		{"commit rate low", `{"FullLoadSettings":{"CommitRate":0}}`, "FullLoadSettings.CommitRate", "must be between 1 and 50000 (got 0)"},
		{"commit rate high", `{"FullLoadSettings":{"CommitRate":50001}}`, "FullLoadSettings.CommitRate", "must be between 1 and 50000 (got 50001)"},
		{"subtasks low", `{"FullLoadSettings":{"MaxFullLoadSubTasks":0}}`, "FullLoadSettings.MaxFullLoadSubTasks", "must be between 1 and 49"},
		{"subtasks high", `{"FullLoadSettings":{"MaxFullLoadSubTasks":50}}`, "FullLoadSettings.MaxFullLoadSubTasks", "must be between 1 and 49 (got 50)"},
		{"consistency timeout", `{"FullLoadSettings":{"TransactionConsistencyTimeout":-1}}`, "FullLoadSettings.TransactionConsistencyTimeout", "must be at least 0"},
		{"lob max size", `{"TargetMetadata":{"LobMaxSize":-1}}`, "TargetMetadata.LobMaxSize", "must be at least 0 (got -1)"},
		{"lob chunk size", `{"TargetMetadata":{"LobChunkSize":-64}}`, "TargetMetadata.LobChunkSize", "must be at least 0"},
		{"inline lob high", `{"TargetMetadata":{"InlineLobMaxSize":102401}}`, "TargetMetadata.InlineLobMaxSize", "must be between 0 and 102400"},
		{"inline lob low", `{"TargetMetadata":{"InlineLobMaxSize":-1}}`, "TargetMetadata.InlineLobMaxSize", "must be between 0 and 102400"},
		{"load max file size", `{"TargetMetadata":{"LoadMaxFileSize":100001}}`, "TargetMetadata.LoadMaxFileSize", "must be between 0 and 100000"},
		{"parallel load buffer", `{"TargetMetadata":{"ParallelLoadBufferSize":1001}}`, "TargetMetadata.ParallelLoadBufferSize", "must be between 0 and 1000"},
		{"parallel load threads", `{"TargetMetadata":{"ParallelLoadThreads":-1}}`, "TargetMetadata.ParallelLoadThreads", "must be at least 0"},
		{"parallel apply threads", `{"TargetMetadata":{"ParallelApplyThreads":-2}}`, "TargetMetadata.ParallelApplyThreads", "must be at least 0"},
		{"recoverable count", `{"ErrorBehavior":{"RecoverableErrorCount":-2}}`, "ErrorBehavior.RecoverableErrorCount", "must be at least -1 (got -2)"},
		{"recoverable interval", `{"ErrorBehavior":{"RecoverableErrorInterval":-1}}`, "ErrorBehavior.RecoverableErrorInterval", "must be at least 0"},
		{"throttling max", `{"ErrorBehavior":{"RecoverableErrorThrottlingMax":-1}}`, "ErrorBehavior.RecoverableErrorThrottlingMax", "must be at least 0"},
		{"escalation count", `{"ErrorBehavior":{"ApplyErrorEscalationCount":-1}}`, "ErrorBehavior.ApplyErrorEscalationCount", "must be at least 0"},
		{"history timeslot", `{"ControlTablesSettings":{"HistoryTimeslotInMinutes":0}}`, "ControlTablesSettings.HistoryTimeslotInMinutes", "must be at least 1"},
		{"history timeslot via alias", `{"ControlTablesSettings":{"historyTimeslotInMinutes":0}}`, "ControlTablesSettings.HistoryTimeslotInMinutes", "must be at least 1"},
		{"stream buffer count", `{"StreamBufferSettings":{"StreamBufferCount":0}}`, "StreamBufferSettings.StreamBufferCount", "must be at least 1"},
		{"stream buffer size", `{"StreamBufferSettings":{"StreamBufferSizeInMB":0}}`, "StreamBufferSettings.StreamBufferSizeInMB", "must be at least 1"},
		{"ctrl stream buffer", `{"StreamBufferSettings":{"CtrlStreamBufferSizeInMB":9}}`, "StreamBufferSettings.CtrlStreamBufferSizeInMB", "must be between 1 and 8"},
		{"memory limit total", `{"ChangeProcessingTuning":{"MemoryLimitTotal":-1}}`, "ChangeProcessingTuning.MemoryLimitTotal", "must be at least 0"},
		{"memory keep time", `{"ChangeProcessingTuning":{"MemoryKeepTime":-1}}`, "ChangeProcessingTuning.MemoryKeepTime", "must be at least 0"},
		{"statement cache", `{"ChangeProcessingTuning":{"StatementCacheSize":201}}`, "ChangeProcessingTuning.StatementCacheSize", "must be between 0 and 200"},
		{"batch timeout min", `{"ChangeProcessingTuning":{"BatchApplyTimeoutMin":-1}}`, "ChangeProcessingTuning.BatchApplyTimeoutMin", "must be at least 0"},
		{"thread count", `{"ValidationSettings":{"ThreadCount":0}}`, "ValidationSettings.ThreadCount", "must be at least 1"},
		{"partition size", `{"ValidationSettings":{"PartitionSize":0}}`, "ValidationSettings.PartitionSize", "must be at least 1"},
		{"failure max count", `{"ValidationSettings":{"FailureMaxCount":-1}}`, "ValidationSettings.FailureMaxCount", "must be at least 0"},
		{"cdc delay", `{"ValidationSettings":{"ValidationQueryCdcDelaySeconds":-5}}`, "ValidationSettings.ValidationQueryCdcDelaySeconds", "must be at least 0"},

		// Rules across keys.
		{"lobs without mode", `{"TargetMetadata":{"SupportLobs":true,"FullLobMode":false,"LimitedSizeLobMode":false}}`, "TargetMetadata.SupportLobs", "requires FullLobMode or LimitedSizeLobMode"},
		{"validation only prep mode", `{"ValidationSettings":{"EnableValidation":true,"ValidationOnly":true}}`, "ValidationSettings.ValidationOnly", "requires FullLoadSettings.TargetTablePrepMode DO_NOTHING (got TRUNCATE_BEFORE_LOAD)"},
		{"stop after both", `{"FullLoadSettings":{"StopTaskCachedChangesApplied":true,"StopTaskCachedChangesNotApplied":true}}`, "FullLoadSettings.StopTaskCachedChangesApplied", "cannot both be true"},
		{"batch timeouts", `{"ChangeProcessingTuning":{"BatchApplyTimeoutMin":60,"BatchApplyTimeoutMax":30}}`, "ChangeProcessingTuning.BatchApplyTimeoutMin", "must not exceed BatchApplyTimeoutMax"},
		{"before image field", `{"BeforeImageSettings":{"EnableBeforeImage":true}}`, "BeforeImageSettings.FieldName", "is required when EnableBeforeImage is true"},
		{"before image empty field", `{"BeforeImageSettings":{"EnableBeforeImage":true,"FieldName":""}}`, "BeforeImageSettings.FieldName", "is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, out, err := Parse(c.doc, false)
			if err == nil {
				t.Fatalf("accepted: %+v\n%s", s, out)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if e.Key != c.key {
				t.Errorf("Key = %q, want %q (%v)", e.Key, c.key, err)
			}
			if !strings.Contains(e.Reason, c.reason) {
				t.Errorf("Reason = %q, want it to contain %q", e.Reason, c.reason)
			}
			if s != nil || out != "" {
				t.Errorf("failure returned settings or document")
			}
		})
	}
}

func TestValidationAccepts(t *testing.T) {
	cases := []struct{ name, doc string }{
		{"every prep mode", `{"FullLoadSettings":{"TargetTablePrepMode":"DROP_AND_CREATE"}}`},
		{"commit rate bounds", `{"FullLoadSettings":{"CommitRate":50000,"MaxFullLoadSubTasks":49}}`},
		{"integral float forms", `{"FullLoadSettings":{"CommitRate":1e3,"MaxFullLoadSubTasks":4.0,"TransactionConsistencyTimeout":-0}}`},
		{"full lob mode", `{"TargetMetadata":{"FullLobMode":true,"LimitedSizeLobMode":false,"LobChunkSize":64}}`},
		{"no lobs", `{"TargetMetadata":{"SupportLobs":false,"FullLobMode":false,"LimitedSizeLobMode":false}}`},
		{"inline lob max", `{"TargetMetadata":{"InlineLobMaxSize":102400}}`},
		{"upsert policies", `{"ErrorBehavior":{"ApplyErrorInsertPolicy":"INSERT_RECORD","ApplyErrorUpdatePolicy":"UPDATE_RECORD","ApplyErrorDeletePolicy":"LOG_ERROR"}}`},
		{"stop task policies", `{"ErrorBehavior":{"DataErrorPolicy":"STOP_TASK","TableErrorPolicy":"STOP_TASK","DataErrorEscalationPolicy":"STOP_TASK","ApplyErrorEscalationPolicy":"SUSPEND_TABLE","EventErrorPolicy":"STOP_TASK"}}`},
		{"retry forever", `{"ErrorBehavior":{"RecoverableErrorCount":-1,"RecoverableErrorInterval":0}}`},
		{"validation only", `{"ValidationSettings":{"EnableValidation":true,"ValidationOnly":true,"ValidationMode":"GROUP_LEVEL"},"FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING"}}`},
		{"stop after cached changes", `{"FullLoadSettings":{"StopTaskCachedChangesApplied":true}}`},
		{"equal batch timeouts", `{"ChangeProcessingTuning":{"BatchApplyTimeoutMin":30,"BatchApplyTimeoutMax":30}}`},
		{"before image off", `{"BeforeImageSettings":{"EnableBeforeImage":false}}`},
		{"before image on", `{"BeforeImageSettings":{"EnableBeforeImage":true,"FieldName":"bi","ColumnFilter":"non-lob"}}`},
		{"all log components", `{"Logging":{"EnableLogging":true,"LogComponents":[` + allComponents() + `]}}`},
		{"empty log components", `{"Logging":{"LogComponents":[]}}`},
		{"opaque sections", `{"LoopbackPreventionSettings":{"EnableLoopbackPrevention":true},"CharacterSetSettings":{"CharacterReplacements":[]},"TTSettings":{"EnableTT":false},"PostProcessingRules":[1]}`},
		{"unknown anything", `{"Whatever":[null,{"x":"y"}],"TargetMetadata":{"NewKnob":"on"}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := Parse(c.doc, true); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func allComponents() string {
	var parts []string
	for i, id := range logComponentIDs {
		parts = append(parts, `{"Id":"`+id+`","Severity":"`+severities[i%len(severities)]+`"}`)
	}
	return strings.Join(parts, ",")
}

// With both LOB modes on, full LOB mode wins (the engine reads FullLobMode
// first); the document is accepted as users and Terraform often send it.
func TestBothLobModesAccepted(t *testing.T) {
	s, _, err := Parse(`{"TargetMetadata":{"FullLobMode":true}}`, true)
	if err != nil || !s.TargetMetadata.FullLobMode {
		t.Fatalf("Parse: %v", err)
	}
}
