package mapping

import (
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// RowFilter gives the rows the full load's WHERE clause would select:
// values read as the column's type, NULL meeting only null, conditions
// OR'ed within a filter and filters AND'ed.
func TestRowFilter(t *testing.T) {
	tbl := tbl("s", "t", []string{"id"}, col("id", record.KindInt64), col("amount", record.KindNumeric), col("name", record.KindString),
		col("at", record.KindTimestampTZ), col("ok", record.KindBool), col("ratio", record.KindFloat64))
	f := func(column, conds string) string {
		return `{"filter-type":"source","column-name":"` + column + `","filter-conditions":[` + conds + `]}`
	}
	rule := func(filters string) string { return sel("1", "include", "s", "t", `"filters":[`+filters+`]`) }
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	row := func(id int64, amount any, name any, ts any, ok any, ratio any) record.Row {
		return record.Row{id, amount, name, ts, ok, ratio}
	}
	for _, c := range []struct {
		name, filter string
		row          record.Row
		match, known bool
	}{
		{"int gte", f("id", `{"filter-operator":"gte","value":"10"}`), row(10, nil, nil, nil, nil, nil), true, true},
		{"int gte below", f("id", `{"filter-operator":"gte","value":"10"}`), row(9, nil, nil, nil, nil, nil), false, true},
		{"int ste (lte)", f("id", `{"filter-operator":"ste","value":"10"}`), row(10, nil, nil, nil, nil, nil), true, true},
		{"numeric between, decimal text", f("amount", `{"filter-operator":"between","start-value":"1.5","end-value":"2"}`), row(1, "2.00", nil, nil, nil, nil), true, true},
		{"numeric notbetween", f("amount", `{"filter-operator":"notbetween","start-value":"1.5","end-value":"2"}`), row(1, "1.49", nil, nil, nil, nil), true, true},
		{"NULL compared", f("amount", `{"filter-operator":"noteq","value":"3"}`), row(1, nil, nil, nil, nil, nil), false, true},
		{"null", f("amount", `{"filter-operator":"null"}`), row(1, nil, nil, nil, nil, nil), true, true},
		{"notnull", f("name", `{"filter-operator":"notnull"}`), row(1, nil, "x", nil, nil, nil), true, true},
		{"string eq", f("name", `{"filter-operator":"eq","value":"Ada"}`), row(1, nil, "Ada", nil, nil, nil), true, true},
		{"string eq, other case", f("name", `{"filter-operator":"eq","value":"Ada"}`), row(1, nil, "ada", nil, nil, nil), false, true},
		{"conditions OR'ed", f("name", `{"filter-operator":"eq","value":"a"},{"filter-operator":"eq","value":"b"}`), row(1, nil, "b", nil, nil, nil), true, true},
		{"timestamp lte", f("at", `{"filter-operator":"lte","value":"2024-03-01 12:00:00"}`), row(1, nil, nil, at, nil, nil), true, true},
		{"timestamp with zone", f("at", `{"filter-operator":"gte","value":"2024-03-01T13:00:00+02:00"}`), row(1, nil, nil, at, nil, nil), true, true},
		{"date only", f("at", `{"filter-operator":"lte","value":"2024-03-01"}`), row(1, nil, nil, at, nil, nil), false, true},
		{"boolean", f("ok", `{"filter-operator":"eq","value":"true"}`), row(1, nil, nil, nil, true, nil), true, true},
		{"float", f("ratio", `{"filter-operator":"gte","value":"0.25"}`), row(1, nil, nil, nil, nil, 0.5), true, true},
		{"filters AND'ed", f("id", `{"filter-operator":"gte","value":"1"}`) + "," + f("ok", `{"filter-operator":"eq","value":"false"}`), row(1, nil, nil, nil, true, nil), false, true},
		{"value not sent", f("name", `{"filter-operator":"eq","value":"a"}`), row(1, nil, record.Unchanged, nil, nil, nil), false, false},
	} {
		plans := mustPlan(t, doc(rule(c.filter)), tbl)
		rf, err := plans[0].RowFilter()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		match, known := rf.Match(tbl, c.row)
		if match != c.match || known != c.known {
			t.Errorf("%s: match %v known %v, want %v %v", c.name, match, known, c.match, c.known)
		}
	}
	if rf, err := mustPlan(t, doc(sel("1", "include", "s", "t", "")), tbl)[0].RowFilter(); rf != nil || err != nil {
		t.Errorf("no filters: %v %v", rf, err)
	}
}
