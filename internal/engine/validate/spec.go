package validate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/record"
)

// spec is what the comparison of one table needs, worked out once from
// the job: the key on both sides, the columns compared and how.
type spec struct {
	job  *Job
	plan *mapping.TablePlan
	src  *record.Table // the source table
	tgt  *record.Table // the target table

	srcKey   []string // source key columns
	srcKeyAt []int    // their positions in plan.SourceColumns
	tgtKey   []string // the target columns they land in
	keyAt    []int    // their positions in the transformed row
	keys     []keyCol
	// ordered: both servers order the key as compareKey does (numbers,
	// instants), so partitions merge in key order; otherwise (text, whose
	// order depends on collations) rows are matched by key value.
	ordered bool

	tgtCols []string // the target read: key columns, then compared columns
	cols    []column // the compared columns
	skipped []string // target columns not compared, for logs

	lobMax int // ValidationPartialLobSize in bytes; 0 = whole LOBs
}

// column is one compared column.
type column struct {
	name string // target column name, as DETAILS shows it
	at   int    // index in the transformed source row
	tat  int    // index in the target row
	cmp  valueCmp
}

// notValidated says why a table can't be validated: its ValidationState
// and details.
type notValidated struct {
	state, details string
}

func (e *notValidated) Error() string { return e.state + ": " + e.details }

// newSpec works out the comparison of the job's table.
func newSpec(job *Job) (*spec, error) {
	plan := job.Plan
	if plan == nil || plan.Source == nil || plan.Target == nil {
		return nil, fmt.Errorf("%w: a job needs a table plan", ErrBadJob)
	}
	tgt := job.TargetTable
	if tgt == nil {
		tgt = plan.Target
	}
	s := &spec{job: job, plan: plan, src: plan.Source, tgt: tgt}
	if n := job.Settings.ValidationPartialLobSize; n > 0 {
		s.lobMax = n * 1024
	}

	s.srcKey = plan.Source.Key()
	if len(s.srcKey) == 0 {
		return nil, &notValidated{StateNoPrimaryKey, fmt.Sprintf("Table %s has no primary key or unique key.", plan.Source.QualifiedName())}
	}
	for _, name := range s.srcKey {
		col := plan.Source.Column(name)
		if col == nil {
			return nil, fmt.Errorf("%w: key column %s is not a column of %s", ErrBadJob, name, plan.Source.QualifiedName())
		}
		// Unbounded text (PostgreSQL text, a common key type) is accepted
		// where DMS, which calls it a CLOB, refuses it; binary and JSON are not.
		if k := col.Type.Kind; k == record.KindBytes || k == record.KindBlob || k == record.KindJSON || k == record.KindUnknown {
			return nil, &notValidated{StateNoPrimaryKey, fmt.Sprintf("Key column %s of table %s is %s; validation needs a key of a scalar type.",
				name, plan.Source.QualifiedName(), k)}
		}
		at := slices.Index(plan.SourceColumns, name)
		i := keyTarget(plan, name)
		if at < 0 || i < 0 {
			return nil, &notValidated{StateNoPrimaryKey, fmt.Sprintf("Key column %s of table %s is not migrated to the target as it is; rows can't be matched.",
				name, plan.Source.QualifiedName())}
		}
		tcol := tgt.Column(plan.Columns[i].Name)
		if tcol == nil {
			return nil, fmt.Errorf("%w: target table %s has no column %s", ErrBadJob, tgt.QualifiedName(), plan.Columns[i].Name)
		}
		s.srcKeyAt = append(s.srcKeyAt, at)
		s.keyAt = append(s.keyAt, i)
		s.tgtKey = append(s.tgtKey, tcol.Name)
		kc := keyCol{class: classOf(plan.Columns[i].Type.Kind), padded: isPadded(col.Type) || isPadded(tcol.Type),
			tod: plan.Columns[i].Type.Kind == record.KindTime}
		s.keys = append(s.keys, kc)
	}
	s.ordered = true
	for i, k := range s.keys {
		tk := s.tgt.Column(s.tgtKey[i]).Type.Kind
		if (k.class != classNumber && k.class != classTime) || classOf(tk) != k.class {
			s.ordered = false
		}
	}
	s.tgtCols = slices.Clone(s.tgtKey)

	for i := range plan.Columns {
		cp := &plan.Columns[i]
		if slices.Contains(s.keyAt, i) {
			continue
		}
		if reason := skipReason(cp, plan, job); reason != "" {
			s.skipped = append(s.skipped, cp.Name+" ("+reason+")")
			continue
		}
		tcol := tgt.Column(cp.Name)
		if tcol == nil {
			s.skipped = append(s.skipped, cp.Name+" (not on the target)")
			continue
		}
		if job.Settings.SkipLobColumns && tcol.Type.Kind.IsLOB() {
			s.skipped = append(s.skipped, cp.Name+" (LOB)")
			continue
		}
		s.cols = append(s.cols, column{name: cp.Name, at: i, tat: len(s.tgtCols),
			cmp: newValueCmp(cp.Type, tcol.Type, job.Settings.HandleCollationDiff)})
		s.tgtCols = append(s.tgtCols, tcol.Name)
	}
	return s, nil
}

// keyTarget is the index of the target column that carries source key
// column name unchanged in value (renamed or converted is fine; computed
// or masked is not), or -1.
func keyTarget(plan *mapping.TablePlan, name string) int {
	for i := range plan.Columns {
		cp := &plan.Columns[i]
		if cp.Source == name && cp.Expression == "" && cp.BeforeImageOf == "" && len(cp.Masks) == 0 {
			return i
		}
	}
	return -1
}

// skipReason says why a target column is not compared, or "".
func skipReason(cp *mapping.ColumnPlan, plan *mapping.TablePlan, job *Job) string {
	switch {
	case cp.BeforeImageOf != "":
		return "before-image column"
	case len(cp.Masks) > 0:
		return "masked"
	case cp.Expression != "" && !deterministic(cp.Expression):
		return "expression depends on the time of the load"
	}
	if job.Settings.SkipLobColumns {
		if cp.Type.Kind.IsLOB() {
			return "LOB"
		}
		if c := plan.Source.Column(cp.Source); c != nil && c.Type.Kind.IsLOB() {
			return "LOB"
		}
	}
	return ""
}

// deterministic reports whether an add-column expression gives the same
// value when evaluated again: not when it reads the record headers (load
// time, operation), the clock or a random source.
func deterministic(expr string) bool {
	e := strings.ToLower(expr)
	for _, w := range []string{"$ar_h_", "$ar_m_", "now", "current_", "random", "operation_indicator", "julianday", "strftime", "datetime(", "date(", "time("} {
		if strings.Contains(e, w) {
			return false
		}
	}
	return true
}

// norm is the matching key of key values (the transformed source row's
// or the target row's, in key order).
func (s *spec) norm(vals func(i int) any) string {
	if len(s.keys) == 1 {
		return s.keys[0].normKey(vals(0))
	}
	var b strings.Builder
	for i, k := range s.keys {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(k.normKey(vals(i)))
	}
	return b.String()
}

// compareKeys orders the keys of a transformed source row and a target row.
func (s *spec) compareKeys(src, tgt record.Row) int {
	for i, k := range s.keys {
		if c := k.compareKey(src[s.keyAt[i]], tgt[i]); c != 0 {
			return c
		}
	}
	return 0
}

// compareTargetKeys orders two target rows by key.
func (s *spec) compareTargetKeys(a, b record.Row) int {
	for i, k := range s.keys {
		if c := k.compareKey(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// diff compares a transformed source row with its target row and returns
// the columns that differ (nil when the rows are equal).
func (s *spec) diff(src, tgt record.Row) []int {
	var out []int
	for i := range s.cols {
		c := &s.cols[i]
		if !c.cmp.equal(src[c.at], tgt[c.tat]) {
			out = append(out, i)
		}
	}
	return out
}
