package tasksettings

import (
	"math"
	"strconv"
	"strings"
)

// Integer bounds. DMS stores these settings as 32-bit integers; a field with
// no documented bound still has to fit.
const (
	minInt = math.MinInt32
	maxInt = math.MaxInt32
)

// checker reads typed values out of the merged tree and keeps the first
// failure. Every reader is a no-op once a failure has been recorded, and for
// keys that are absent (only possible inside nullable sections).
type checker struct {
	err *Error
}

func (c *checker) fail(key, reason string) {
	if c.err == nil {
		c.err = errorf(key, reason)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// section returns the object named name, or nil (recording a failure when the
// value is present but not an object).
func (c *checker) section(root *node, name string) *node {
	v := root.get(name)
	if v == nil || c.err != nil {
		return nil
	}
	if !v.isObject() {
		c.fail(name, "must be a JSON object (got "+v.kind()+")")
		return nil
	}
	return v
}

// nullableSection is section for keys whose value may also be null; ok
// reports whether an object is present.
func (c *checker) nullableSection(root *node, name string) (obj *node, ok bool) {
	v := root.get(name)
	if v == nil || v.isNull() || c.err != nil {
		return nil, false
	}
	if !v.isObject() {
		c.fail(name, "must be a JSON object or null (got "+v.kind()+")")
		return nil, false
	}
	return v, true
}

func (c *checker) boolean(obj *node, path, key string, dst *bool) {
	v := obj.get(key)
	if v == nil || c.err != nil {
		return
	}
	switch string(v.raw) {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		c.fail(join(path, key), "must be a boolean (got "+v.kind()+")")
	}
}

// integer reads an integer in [lo, hi]. Integral numbers written in float or
// exponent form (1.0, 1e3) are accepted; the document keeps their text.
func (c *checker) integer(obj *node, path, key string, dst *int, lo, hi int64) {
	v := obj.get(key)
	if v == nil || c.err != nil {
		return
	}
	if v.kind() != "number" {
		c.fail(join(path, key), "must be an integer (got "+v.kind()+")")
		return
	}
	n, ok := parseInteger(string(v.raw))
	if !ok {
		c.fail(join(path, key), "must be an integer (got "+clip(string(v.raw))+")")
		return
	}
	if n < lo || n > hi {
		c.fail(join(path, key), rangeReason(n, lo, hi)+" (got "+clip(string(v.raw))+")")
		return
	}
	*dst = int(n)
}

func (c *checker) str(obj *node, path, key string, dst *string) {
	v := obj.get(key)
	if v == nil || c.err != nil {
		return
	}
	if v.kind() != "string" {
		c.fail(join(path, key), "must be a string (got "+v.kind()+")")
		return
	}
	*dst = decodeString(v.raw)
}

func (c *checker) nullableStr(obj *node, path, key string, dst **string) {
	v := obj.get(key)
	if v == nil || c.err != nil {
		return
	}
	switch v.kind() {
	case "null":
		*dst = nil
	case "string":
		s := decodeString(v.raw)
		*dst = &s
	default:
		c.fail(join(path, key), "must be a string or null (got "+v.kind()+")")
	}
}

func (c *checker) enum(obj *node, path, key string, dst *string, allowed []string) {
	var s string
	c.str(obj, path, key, &s)
	if c.err != nil || obj.get(key) == nil {
		return
	}
	if !contains(allowed, s) {
		c.fail(join(path, key), oneOf(allowed, s))
		return
	}
	*dst = s
}

func contains(set []string, s string) bool {
	for _, v := range set {
		if v == s {
			return true
		}
	}
	return false
}

func oneOf(allowed []string, got string) string {
	return "must be one of " + strings.Join(allowed, ", ") + " (got " + strconv.Quote(clip(got)) + ")"
}

func rangeReason(n, lo, hi int64) string {
	switch {
	case lo != minInt && hi != maxInt:
		return "must be between " + strconv.FormatInt(lo, 10) + " and " + strconv.FormatInt(hi, 10)
	case n < lo:
		return "must be at least " + strconv.FormatInt(lo, 10)
	default:
		return "must be at most " + strconv.FormatInt(hi, 10)
	}
}

// parseInteger parses a JSON number that must have an integral value.
// Magnitudes beyond int64 saturate so the range check reports them.
func parseInteger(s string) (int64, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	} else if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return n, true // saturated at MinInt64/MaxInt64
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || f != math.Trunc(f) {
		return 0, false
	}
	switch {
	case f >= math.MaxInt64:
		return math.MaxInt64, true
	case f <= math.MinInt64:
		return math.MinInt64, true
	}
	return int64(f), true
}

// clip shortens a quoted value for an error message.
func clip(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}

// readSettings extracts and type-checks the typed view from a merged document.
func readSettings(root *node) (*Settings, *Error) {
	c := &checker{}
	s := &Settings{}

	if o := c.section(root, "TargetMetadata"); o != nil {
		p, t := "TargetMetadata", &s.TargetMetadata
		c.str(o, p, "TargetSchema", &t.TargetSchema)
		c.boolean(o, p, "SupportLobs", &t.SupportLobs)
		c.boolean(o, p, "FullLobMode", &t.FullLobMode)
		c.integer(o, p, "LobChunkSize", &t.LobChunkSize, 0, maxInt)
		c.boolean(o, p, "LimitedSizeLobMode", &t.LimitedSizeLobMode)
		c.integer(o, p, "LobMaxSize", &t.LobMaxSize, 0, maxInt)
		c.integer(o, p, "InlineLobMaxSize", &t.InlineLobMaxSize, 0, 102400)
		c.integer(o, p, "LoadMaxFileSize", &t.LoadMaxFileSize, 0, 100000)
		c.integer(o, p, "ParallelLoadThreads", &t.ParallelLoadThreads, 0, maxInt)
		c.integer(o, p, "ParallelLoadBufferSize", &t.ParallelLoadBufferSize, 0, 1000)
		c.integer(o, p, "ParallelLoadQueuesPerThread", &t.ParallelLoadQueuesPerThread, 0, maxInt)
		c.integer(o, p, "ParallelApplyThreads", &t.ParallelApplyThreads, 0, maxInt)
		c.integer(o, p, "ParallelApplyBufferSize", &t.ParallelApplyBufferSize, 0, maxInt)
		c.integer(o, p, "ParallelApplyQueuesPerThread", &t.ParallelApplyQueuesPerThread, 0, maxInt)
		c.boolean(o, p, "BatchApplyEnabled", &t.BatchApplyEnabled)
		c.boolean(o, p, "TaskRecoveryTableEnabled", &t.TaskRecoveryTableEnabled)
	}

	if o := c.section(root, "FullLoadSettings"); o != nil {
		p, f := "FullLoadSettings", &s.FullLoadSettings
		c.enum(o, p, "TargetTablePrepMode", &f.TargetTablePrepMode, prepModes)
		c.boolean(o, p, "CreatePkAfterFullLoad", &f.CreatePkAfterFullLoad)
		c.boolean(o, p, "StopTaskCachedChangesApplied", &f.StopTaskCachedChangesApplied)
		c.boolean(o, p, "StopTaskCachedChangesNotApplied", &f.StopTaskCachedChangesNotApplied)
		c.integer(o, p, "MaxFullLoadSubTasks", &f.MaxFullLoadSubTasks, 1, 49)
		c.integer(o, p, "TransactionConsistencyTimeout", &f.TransactionConsistencyTimeout, 0, maxInt)
		c.integer(o, p, "CommitRate", &f.CommitRate, 1, 50000)
	}

	if o := c.section(root, "Logging"); o != nil {
		p, l := "Logging", &s.Logging
		c.boolean(o, p, "EnableLogging", &l.EnableLogging)
		c.boolean(o, p, "EnableLogContext", &l.EnableLogContext)
		c.logComponents(o, p, &l.LogComponents)
		c.nullableStr(o, p, "CloudWatchLogGroup", &l.CloudWatchLogGroup)
		c.nullableStr(o, p, "CloudWatchLogStream", &l.CloudWatchLogStream)
	}

	if o := c.section(root, "ControlTablesSettings"); o != nil {
		p, t := "ControlTablesSettings", &s.ControlTablesSettings
		c.str(o, p, "ControlSchema", &t.ControlSchema)
		c.integer(o, p, "HistoryTimeslotInMinutes", &t.HistoryTimeslotInMinutes, 1, maxInt)
		c.boolean(o, p, "HistoryTableEnabled", &t.HistoryTableEnabled)
		c.boolean(o, p, "SuspendedTablesTableEnabled", &t.SuspendedTablesTableEnabled)
		c.boolean(o, p, "StatusTableEnabled", &t.StatusTableEnabled)
		c.boolean(o, p, "FullLoadExceptionTableEnabled", &t.FullLoadExceptionTableEnabled)
	}

	if o := c.section(root, "StreamBufferSettings"); o != nil {
		p, b := "StreamBufferSettings", &s.StreamBufferSettings
		c.integer(o, p, "StreamBufferCount", &b.StreamBufferCount, 1, maxInt)
		c.integer(o, p, "StreamBufferSizeInMB", &b.StreamBufferSizeInMB, 1, maxInt)
		c.integer(o, p, "CtrlStreamBufferSizeInMB", &b.CtrlStreamBufferSizeInMB, 1, 8)
	}

	if o := c.section(root, "ChangeProcessingTuning"); o != nil {
		p, t := "ChangeProcessingTuning", &s.ChangeProcessingTuning
		c.boolean(o, p, "BatchApplyPreserveTransaction", &t.BatchApplyPreserveTransaction)
		c.integer(o, p, "BatchApplyTimeoutMin", &t.BatchApplyTimeoutMin, 0, maxInt)
		c.integer(o, p, "BatchApplyTimeoutMax", &t.BatchApplyTimeoutMax, 0, maxInt)
		c.integer(o, p, "BatchApplyMemoryLimit", &t.BatchApplyMemoryLimit, 0, maxInt)
		c.integer(o, p, "BatchSplitSize", &t.BatchSplitSize, 0, maxInt)
		c.integer(o, p, "MinTransactionSize", &t.MinTransactionSize, 0, maxInt)
		c.integer(o, p, "CommitTimeout", &t.CommitTimeout, 0, maxInt)
		c.integer(o, p, "MemoryLimitTotal", &t.MemoryLimitTotal, 0, maxInt)
		c.integer(o, p, "MemoryKeepTime", &t.MemoryKeepTime, 0, maxInt)
		c.integer(o, p, "StatementCacheSize", &t.StatementCacheSize, 0, 200)
	}

	if o := c.section(root, "ChangeProcessingDdlHandlingPolicy"); o != nil {
		p, d := "ChangeProcessingDdlHandlingPolicy", &s.ChangeProcessingDdlHandlingPolicy
		c.boolean(o, p, "HandleSourceTableDropped", &d.HandleSourceTableDropped)
		c.boolean(o, p, "HandleSourceTableTruncated", &d.HandleSourceTableTruncated)
		c.boolean(o, p, "HandleSourceTableAltered", &d.HandleSourceTableAltered)
	}

	if o := c.section(root, "ErrorBehavior"); o != nil {
		p, e := "ErrorBehavior", &s.ErrorBehavior
		c.enum(o, p, "DataErrorPolicy", &e.DataErrorPolicy, recordPolicies)
		c.enum(o, p, "DataTruncationErrorPolicy", &e.DataTruncationErrorPolicy, recordPolicies)
		c.enum(o, p, "DataErrorEscalationPolicy", &e.DataErrorEscalationPolicy, dataEscalationPolicies)
		c.integer(o, p, "DataErrorEscalationCount", &e.DataErrorEscalationCount, 0, maxInt)
		c.enum(o, p, "TableErrorPolicy", &e.TableErrorPolicy, tablePolicies)
		c.enum(o, p, "TableErrorEscalationPolicy", &e.TableErrorEscalationPolicy, tableEscalationPolicies)
		c.integer(o, p, "TableErrorEscalationCount", &e.TableErrorEscalationCount, 0, maxInt)
		c.integer(o, p, "RecoverableErrorCount", &e.RecoverableErrorCount, -1, maxInt)
		c.integer(o, p, "RecoverableErrorInterval", &e.RecoverableErrorInterval, 0, maxInt)
		c.boolean(o, p, "RecoverableErrorThrottling", &e.RecoverableErrorThrottling)
		c.integer(o, p, "RecoverableErrorThrottlingMax", &e.RecoverableErrorThrottlingMax, 0, maxInt)
		c.boolean(o, p, "RecoverableErrorStopRetryAfterThrottlingMax", &e.RecoverableErrorStopRetryAfterThrottlingMax)
		c.enum(o, p, "ApplyErrorDeletePolicy", &e.ApplyErrorDeletePolicy, recordPolicies)
		c.enum(o, p, "ApplyErrorInsertPolicy", &e.ApplyErrorInsertPolicy, insertPolicies)
		c.enum(o, p, "ApplyErrorUpdatePolicy", &e.ApplyErrorUpdatePolicy, updatePolicies)
		c.enum(o, p, "ApplyErrorEscalationPolicy", &e.ApplyErrorEscalationPolicy, applyEscalationPolicies)
		c.integer(o, p, "ApplyErrorEscalationCount", &e.ApplyErrorEscalationCount, 0, maxInt)
		c.boolean(o, p, "ApplyErrorFailOnTruncationDdl", &e.ApplyErrorFailOnTruncationDdl)
		c.boolean(o, p, "FullLoadIgnoreConflicts", &e.FullLoadIgnoreConflicts)
		c.boolean(o, p, "FailOnTransactionConsistencyBreached", &e.FailOnTransactionConsistencyBreached)
		c.boolean(o, p, "FailOnNoTablesCaptured", &e.FailOnNoTablesCaptured)
		c.enum(o, p, "EventErrorPolicy", &e.EventErrorPolicy, eventPolicies)
	}

	if o := c.section(root, "ValidationSettings"); o != nil {
		p, v := "ValidationSettings", &s.ValidationSettings
		c.boolean(o, p, "EnableValidation", &v.EnableValidation)
		c.enum(o, p, "ValidationMode", &v.ValidationMode, validationModes)
		c.integer(o, p, "ThreadCount", &v.ThreadCount, 1, maxInt)
		c.integer(o, p, "PartitionSize", &v.PartitionSize, 1, maxInt)
		c.integer(o, p, "FailureMaxCount", &v.FailureMaxCount, 0, maxInt)
		c.integer(o, p, "TableFailureMaxCount", &v.TableFailureMaxCount, 0, maxInt)
		c.integer(o, p, "RecordFailureDelayInMinutes", &v.RecordFailureDelayInMinutes, 0, maxInt)
		c.integer(o, p, "RecordSuspendDelayInMinutes", &v.RecordSuspendDelayInMinutes, 0, maxInt)
		c.integer(o, p, "RecordFailureDelayLimitInMinutes", &v.RecordFailureDelayLimitInMinutes, 0, maxInt)
		c.integer(o, p, "MaxKeyColumnSize", &v.MaxKeyColumnSize, 0, maxInt)
		c.boolean(o, p, "ValidationOnly", &v.ValidationOnly)
		c.boolean(o, p, "HandleCollationDiff", &v.HandleCollationDiff)
		c.boolean(o, p, "SkipLobColumns", &v.SkipLobColumns)
		c.integer(o, p, "ValidationPartialLobSize", &v.ValidationPartialLobSize, 0, maxInt)
		c.integer(o, p, "ValidationQueryCdcDelaySeconds", &v.ValidationQueryCdcDelaySeconds, 0, maxInt)
	}

	if o, ok := c.nullableSection(root, "BeforeImageSettings"); ok {
		p, b := "BeforeImageSettings", &BeforeImageSettings{ColumnFilter: ColumnFilterPkOnly}
		c.boolean(o, p, "EnableBeforeImage", &b.EnableBeforeImage)
		c.str(o, p, "FieldName", &b.FieldName)
		c.enum(o, p, "ColumnFilter", &b.ColumnFilter, columnFilters)
		s.BeforeImageSettings = b
	}

	// Sections Godwit does not interpret: only their shape is checked.
	for _, name := range []string{"LoopbackPreventionSettings", "CharacterSetSettings", "TTSettings"} {
		c.nullableSection(root, name)
	}
	c.boolean(root, "", "FailTaskWhenCleanTaskResourceFailed", &s.FailTaskWhenCleanTaskResourceFailed)

	if c.err != nil {
		return nil, c.err
	}
	return s, nil
}

func (c *checker) logComponents(obj *node, path string, dst *[]LogComponent) {
	v := obj.get("LogComponents")
	if v == nil || c.err != nil {
		return
	}
	key := join(path, "LogComponents")
	if v.kind() != "array" {
		c.fail(key, "must be an array (got "+v.kind()+")")
		return
	}
	elems := elements(v.raw)
	out := make([]LogComponent, 0, len(elems))
	for i, e := range elems {
		item := key + "[" + strconv.Itoa(i) + "]"
		if !e.isObject() {
			c.fail(item, "must be a JSON object (got "+e.kind()+")")
			return
		}
		var lc LogComponent
		if e.get("Id") == nil {
			c.fail(item+".Id", "is required")
			return
		}
		c.enum(e, item, "Id", &lc.Id, logComponentIDs)
		if e.get("Severity") == nil {
			c.fail(item+".Severity", "is required")
			return
		}
		c.enum(e, item, "Severity", &lc.Severity, severities)
		if c.err != nil {
			return
		}
		out = append(out, lc)
	}
	*dst = out
}

// checkRules applies the rules that span keys. s has passed readSettings.
func checkRules(s *Settings) *Error {
	t := s.TargetMetadata
	if t.SupportLobs {
		switch {
		case !t.FullLobMode && !t.LimitedSizeLobMode:
			return errorf("TargetMetadata.SupportLobs", "SupportLobs requires FullLobMode or LimitedSizeLobMode to be true")
		}
	}
	f := s.FullLoadSettings
	if f.StopTaskCachedChangesApplied && f.StopTaskCachedChangesNotApplied {
		return errorf("FullLoadSettings.StopTaskCachedChangesApplied",
			"StopTaskCachedChangesApplied and StopTaskCachedChangesNotApplied cannot both be true")
	}
	if cp := s.ChangeProcessingTuning; cp.BatchApplyTimeoutMin > cp.BatchApplyTimeoutMax {
		return errorf("ChangeProcessingTuning.BatchApplyTimeoutMin",
			"must not exceed BatchApplyTimeoutMax ("+strconv.Itoa(cp.BatchApplyTimeoutMin)+" > "+strconv.Itoa(cp.BatchApplyTimeoutMax)+")")
	}
	if s.ValidationSettings.ValidationOnly && f.TargetTablePrepMode != PrepDoNothing {
		return errorf("ValidationSettings.ValidationOnly",
			"requires FullLoadSettings.TargetTablePrepMode "+PrepDoNothing+" (got "+f.TargetTablePrepMode+")")
	}
	if b := s.BeforeImageSettings; b != nil && b.EnableBeforeImage && b.FieldName == "" {
		return errorf("BeforeImageSettings.FieldName", "is required when EnableBeforeImage is true")
	}
	return nil
}
