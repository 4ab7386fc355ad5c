package mapping

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// RowFilter evaluates a plan's source filters on rows the source streams
// (change data capture), where no WHERE clause of the source's own
// selects them: the same conditions as the full load's, with each value
// read as the column's type. Strings compare byte by byte, which is the
// database's order only under a binary ("C") collation; equality is
// exact either way.
type RowFilter struct {
	filters []rowFilter
}

type rowFilter struct {
	column string
	kind   record.Kind
	conds  []rowCond
}

type rowCond struct {
	op         record.Op
	value, end filterValue // value: eq, noteq, lte, gte and a between's start
}

// filterValue is a condition's value read as the column's kind.
type filterValue struct {
	num *big.Rat
	str string
	t   time.Time
	b   bool
	raw []byte
}

// RowFilter compiles the plan's filters for Match; nil when the plan has
// none. A value that is not one of its column's type is an error naming
// the column.
func (p *TablePlan) RowFilter() (*RowFilter, error) {
	if len(p.Filters) == 0 {
		return nil, nil
	}
	rf := &RowFilter{}
	for _, f := range p.Filters {
		col := p.Source.Column(f.Column)
		if col == nil {
			return nil, fmt.Errorf("filter on %s: no column %q", p.Source.QualifiedName(), f.Column)
		}
		c := rowFilter{column: f.Column, kind: col.Type.Kind}
		for _, cond := range f.Conditions {
			rc := rowCond{op: cond.Op}
			var err error
			switch cond.Op {
			case record.OpEq, record.OpNotEq, record.OpLte, record.OpGte:
				rc.value, err = readFilterValue(cond.Value, c.kind)
			case record.OpBetween, record.OpNotBetween:
				if rc.value, err = readFilterValue(cond.Start, c.kind); err == nil {
					rc.end, err = readFilterValue(cond.End, c.kind)
				}
			case record.OpNull, record.OpNotNull:
			default:
				err = fmt.Errorf("unknown filter operator %q", cond.Op)
			}
			if err != nil {
				return nil, fmt.Errorf("filter on %s column %s: %w", p.Source.QualifiedName(), f.Column, err)
			}
			c.conds = append(c.conds, rc)
		}
		rf.filters = append(rf.filters, c)
	}
	return rf, nil
}

// Match says whether the row (values in t's column order) is selected:
// every filter has a condition its column's value meets, NULL meeting
// only null. known is false when a filter's column is missing from t or
// its value was not sent (record.Unchanged): then match means nothing.
func (f *RowFilter) Match(t *record.Table, row record.Row) (match, known bool) {
	match = true
	for i := range f.filters {
		rf := &f.filters[i]
		pos := -1
		for j := range t.Columns {
			if t.Columns[j].Name == rf.column {
				pos = j
				break
			}
		}
		if pos < 0 || pos >= len(row) || row[pos] == record.Unchanged {
			return false, false
		}
		m, ok := rf.match(row[pos])
		if !ok {
			return false, false
		}
		match = match && m
	}
	return match, true
}

// match says whether v meets one of the conditions; false when v is not
// of the column's Go type (it cannot be compared).
func (rf *rowFilter) match(v any) (hit, ok bool) {
	for _, c := range rf.conds {
		switch c.op {
		case record.OpNull:
			if v == nil {
				return true, true
			}
			continue
		case record.OpNotNull:
			if v != nil {
				return true, true
			}
			continue
		}
		if v == nil {
			continue // a comparison with NULL selects nothing
		}
		d, ok := compareFilterValue(v, rf.kind, &c.value)
		if !ok {
			return false, false
		}
		var hit bool
		switch c.op {
		case record.OpEq:
			hit = d == 0
		case record.OpNotEq:
			hit = d != 0
		case record.OpLte:
			hit = d <= 0
		case record.OpGte:
			hit = d >= 0
		case record.OpBetween, record.OpNotBetween:
			e, _ := compareFilterValue(v, rf.kind, &c.end)
			hit = d >= 0 && e <= 0
			if c.op == record.OpNotBetween {
				hit = !hit
			}
		}
		if hit {
			return true, true
		}
	}
	return false, true
}

// readFilterValue reads a condition's text as a value of kind.
func readFilterValue(s string, kind record.Kind) (filterValue, error) {
	var fv filterValue
	switch kind {
	case record.KindInt16, record.KindInt32, record.KindInt64, record.KindUint64, record.KindNumeric,
		record.KindFloat32, record.KindFloat64:
		r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
		if !ok {
			return fv, fmt.Errorf("%q is not a number", s)
		}
		fv.num = r
	case record.KindBool:
		v, err := fromSQL(s, record.Type{Kind: kind})
		if err != nil {
			return fv, fmt.Errorf("%q is not a boolean", s)
		}
		fv.b = v.(bool)
	case record.KindDate, record.KindTimestamp, record.KindTimestampTZ:
		t, ok := parseTimestamp(s)
		if !ok {
			return fv, fmt.Errorf("%q is not a date or timestamp", s)
		}
		fv.t = t
	case record.KindBytes, record.KindBlob:
		if h, ok := strings.CutPrefix(s, `\x`); ok {
			b, err := hex.DecodeString(h)
			if err != nil {
				return fv, fmt.Errorf("%q is not a hex bytea literal", s)
			}
			fv.raw = b
		} else {
			fv.raw = []byte(s)
		}
	default:
		fv.str = s
	}
	return fv, nil
}

// compareFilterValue compares a row's value with a condition's value:
// -1, 0 or 1, and false when the value is not of the kind's Go type.
func compareFilterValue(v any, kind record.Kind, fv *filterValue) (int, bool) {
	switch x := v.(type) {
	case int64:
		if fv.num != nil {
			return new(big.Rat).SetInt64(x).Cmp(fv.num), true
		}
	case uint64:
		if fv.num != nil {
			return new(big.Rat).SetUint64(x).Cmp(fv.num), true
		}
	case float64:
		if fv.num != nil && !math.IsNaN(x) && !math.IsInf(x, 0) {
			return new(big.Rat).SetFloat64(x).Cmp(fv.num), true
		}
	case bool:
		if kind == record.KindBool {
			switch {
			case x == fv.b:
				return 0, true
			case !x:
				return -1, true
			}
			return 1, true
		}
	case time.Time:
		if kind == record.KindDate || kind == record.KindTimestamp || kind == record.KindTimestampTZ {
			return x.Compare(fv.t), true
		}
	case []byte:
		return bytes.Compare(x, fv.raw), true
	case string:
		if fv.num == nil {
			return strings.Compare(x, fv.str), true
		}
		if r, ok := new(big.Rat).SetString(x); ok {
			return r.Cmp(fv.num), true
		}
	}
	return 0, false
}
