// Package mapping parses, validates and applies DMS table mappings: the
// TableMappings JSON document ({"rules":[...]}) of Create/ModifyReplicationTask.
//
// Parse checks a document the way DMS does when a task is created or
// modified; every problem is an *Error naming the rule. Plan applies the
// rules to the tables discovered on a source: which tables are selected,
// with their source filters, the target table each one becomes after the
// transformation rules, and its table settings. TablePlan.Transform turns a
// source row into the target row, evaluating add-column expressions with a
// small interpreter for the SQLite expression subset DMS documents.
//
// Rule types handled: selection, transformation and table-settings. The
// other rule types DMS knows (validation, object-mapping, post-processing)
// are accepted and kept, but Plan ignores them: validation overrides belong to
// the validator, object-mapping to stream targets (Kinesis, Kafka, DynamoDB),
// and post-processing to S3 tagging.
package mapping

import (
	"fmt"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// Error is an invalid mapping; RuleID is "" for document-level problems.
// Plan returns *Error too, when a rule cannot be applied to a discovered table.
type Error struct {
	RuleID string
	Reason string
}

func (e *Error) Error() string {
	if e.RuleID == "" {
		return "Error in mapping rules. " + e.Reason
	}
	return "Error in mapping rules. Rule with ruleId = " + e.RuleID + " failed validation. " + e.Reason
}

func ruleErr(id, format string, args ...any) *Error {
	return &Error{RuleID: id, Reason: fmt.Sprintf(format, args...)}
}

// Mappings is a parsed, validated document. It is immutable: Plan may be
// called concurrently.
type Mappings struct {
	selections []*selectionRule
	transforms []*transformRule
	settings   []*settingsRule
	ignored    []ignoredRule
}

// ignoredRule is a rule of a type Plan does not apply (validation,
// object-mapping, post-processing), kept for logs.
type ignoredRule struct {
	id, typ string
}

// Ignored lists the rules Plan does not apply, as "rule-id (rule-type)".
func (m *Mappings) Ignored() []string {
	out := make([]string, 0, len(m.ignored))
	for _, r := range m.ignored {
		out = append(out, r.id+" ("+r.typ+")")
	}
	return out
}

// TablePlan is what the rules make of one selected source table.
type TablePlan struct {
	Source *record.Table
	// Target is the target table: schema/table/column names after rename, case conversion,
	// prefix/suffix rules; columns after remove-column, include-column, add-column,
	// change-data-type, add-before-image-columns; PrimaryKey from define-primary-key when given
	// (else the source PK mapped through column renames; dropped if a PK column was removed).
	// A define-primary-key rule with origin unique-index becomes Target.UniqueKeys[0] instead.
	Target *record.Table
	// KeyName is the primary-key-def name of a define-primary-key rule, "" when none.
	KeyName string
	Columns []ColumnPlan // one per Target column, same order
	// SourceColumns are the source columns the load must read, in the order Transform expects
	// (source table order).
	SourceColumns []string
	Filters       []record.Filter // source filters (source column names), from the selection rule(s)
	LoadOrder     int
	RuleIDs       []string      // the rules that applied, for logs, in rule-id order
	ParallelLoad  *ParallelLoad // from a table-settings rule, nil when none
	LOB           *LOBSettings  // from a table-settings lob-settings, nil when none

	prog     []colProg     // how Transform fills each column; built by Plan
	srcKinds []record.Kind // kinds of SourceColumns
	nameRule string        // the rule that last changed the target table's name
}

// ColumnPlan is one target column.
type ColumnPlan struct {
	Name     string
	Type     record.Type
	Nullable bool
	Source   string // source column name; "" for add-column and before-image columns
	// Expression is the add-column expression (SQLite syntax, $col references), "" when none.
	Expression string
	// BeforeImageOf, for add-before-image-columns, is the source column whose before-image
	// this holds (full load writes NULL).
	BeforeImageOf string
	// Masks are the data-masking-* actions applied to the value, in rule-id order.
	Masks []string
}

// ParallelLoad is a table-settings parallel-load.
type ParallelLoad struct {
	Type               string // partitions-auto|subpartitions-auto|partitions-list|ranges|none
	Columns            []string
	Boundaries         []record.Row // ranges: each row one upper bound, values as text (string) or nil
	Partitions         []string
	Subpartitions      []string
	NumberOfPartitions int
}

// LOBSettings is a table-settings lob-settings.
type LOBSettings struct {
	Mode          string // limited|unlimited|none
	BulkMaxSizeKB int    // bulk-max-size; 0 when not given
}

// RowMeta describes the row being transformed, for the header columns
// ($AR_H_*) and operation_indicator().
type RowMeta struct {
	Operation      string    // "INSERT" for full load ("" means INSERT), "UPDATE", "DELETE"
	Timestamp      time.Time // $AR_H_TIMESTAMP / $AR_H_COMMIT_TIMESTAMP: load time, or commit time in CDC
	ChangeSeq      string    // $AR_H_CHANGE_SEQ; "" is NULL
	StreamPosition string    // $AR_H_STREAM_POSITION; "" is NULL
	// Before is the row's before-image in SourceColumns order (CDC updates and
	// deletes), for before-image columns; nil writes NULL there.
	Before record.Row
}
