package mapping

import (
	"slices"
	"strings"
	"testing"

	"github.com/godwit-dms/godwit/internal/record"
)

func col(name string, k record.Kind) record.Column {
	return record.Column{Name: name, Type: record.Type{Kind: k}, Nullable: true}
}

func tbl(schema, name string, pk []string, cols ...record.Column) *record.Table {
	return &record.Table{Schema: schema, Name: name, PrimaryKey: pk, Columns: cols}
}

func mustParse(t *testing.T, d string) *Mappings {
	t.Helper()
	m, err := Parse(d)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

func mustPlan(t *testing.T, d string, tables ...*record.Table) []*TablePlan {
	t.Helper()
	plans, err := mustParse(t, d).Plan(tables)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	return plans
}

func names(plans []*TablePlan) string {
	var out []string
	for _, p := range plans {
		out = append(out, p.Source.QualifiedName())
	}
	return strings.Join(out, ",")
}

func targetCols(p *TablePlan) string {
	var out []string
	for _, c := range p.Columns {
		out = append(out, c.Name)
	}
	return strings.Join(out, ",")
}

func simpleTables() []*record.Table {
	mk := func(s, n string) *record.Table { return tbl(s, n, []string{"id"}, col("id", record.KindInt64)) }
	return []*record.Table{
		mk("hr", "employees"), mk("hr", "emp_history"), mk("hr", "departments"), mk("hr", "Employees"),
		mk("hr", "tmp_1"), mk("hr", "tmpx1"), mk("sales", "orders"), mk("sales", "order_items"), mk("HR", "jobs"),
	}
}

func TestSelection(t *testing.T) {
	cases := []struct {
		name  string
		rules []string
		want  string
	}{
		{"include all of a schema", []string{sel("1", "include", "hr", "%", "")},
			"hr.Employees,hr.departments,hr.emp_history,hr.employees,hr.tmp_1,hr.tmpx1"},
		{"schema is case-sensitive", []string{sel("1", "include", "HR", "%", "")}, "HR.jobs"},
		{"prefix", []string{sel("1", "include", "hr", "emp%", "")}, "hr.emp_history,hr.employees"},
		{"exclude wins", []string{sel("1", "include", "hr", "%", ""), sel("2", "exclude", "hr", "tmp%", "")},
			"hr.Employees,hr.departments,hr.emp_history,hr.employees"},
		{"exclude wins whatever the order", []string{sel("2", "exclude", "hr", "tmp%", ""), sel("1", "include", "hr", "tmp_1", "")}, ""},
		{"underscore is one character", []string{sel("1", "include", "hr", "tmp_1", "")}, "hr.tmp_1,hr.tmpx1"},
		{"[_] is a literal underscore", []string{sel("1", "include", "hr", "tmp[_]1", "")}, "hr.tmp_1"},
		{"set", []string{sel("1", "include", "hr", "[dE]%", "")}, "hr.Employees,hr.departments"},
		{"range", []string{sel("1", "include", "%", "[a-f]%", "")}, "hr.departments,hr.emp_history,hr.employees"},
		{"explicit is literal", []string{sel("1", "explicit", "hr", "tmp_1", "")}, "hr.tmp_1"},
		{"explicit and exclude", []string{sel("1", "explicit", "hr", "tmp_1", ""), sel("2", "exclude", "hr", "tmp%", "")}, ""},
		{"exclude alone selects nothing", []string{sel("1", "exclude", "hr", "%", "")}, ""},
		{"two schemas", []string{sel("1", "include", "sales", "%", ""), sel("2", "include", "hr", "dep%", ""), sel("3", "exclude", "sales", "order[_]items", "")},
			"hr.departments,sales.orders"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plans := mustPlan(t, doc(c.rules...), simpleTables()...)
			if got := names(plans); got != c.want {
				t.Errorf("selected %q, want %q", got, c.want)
			}
		})
	}
}

func TestLoadOrder(t *testing.T) {
	plans := mustPlan(t, doc(
		sel("1", "include", "hr", "%", ""),
		sel("2", "include", "hr", "dep%", `"load-order":2`),
		sel("3", "include", "sales", "%", `"load-order":1`),
	), simpleTables()...)
	want := "hr.departments,sales.order_items,sales.orders,hr.Employees,hr.emp_history,hr.employees,hr.tmp_1,hr.tmpx1"
	if got := names(plans); got != want {
		t.Fatalf("order %s\nwant  %s", got, want)
	}
	if plans[0].LoadOrder != 2 || plans[1].LoadOrder != 1 || plans[3].LoadOrder != 0 {
		t.Errorf("load orders %d %d %d", plans[0].LoadOrder, plans[1].LoadOrder, plans[3].LoadOrder)
	}
	if !slices.Equal(plans[0].RuleIDs, []string{"1", "2"}) {
		t.Errorf("RuleIDs = %v", plans[0].RuleIDs)
	}
}

func hrTables() []*record.Table {
	emp := tbl("hr", "employees", []string{"id"},
		record.Column{Name: "id", Type: record.Type{Kind: record.KindInt64}},
		col("first_name", record.KindString), col("last_name", record.KindString),
		col("salary", record.KindNumeric), col("dept_id", record.KindInt32), col("photo", record.KindBlob),
		col("hired", record.KindDate))
	emp.UniqueKeys = [][]string{{"first_name", "last_name"}}
	hist := tbl("hr", "emp_history", []string{"emp_id", "changed"}, col("emp_id", record.KindInt64), col("changed", record.KindTimestamp), col("note", record.KindText))
	dept := tbl("hr", "departments", []string{"id"}, col("id", record.KindInt32), col("name", record.KindString))
	other := tbl("payroll", "runs", nil, col("id", record.KindInt64))
	return []*record.Table{emp, hist, dept, other}
}

// The example document of dms-spec §4.
const specExample = `{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"hr","table-name":"emp%"},"rule-action":"include","filters":[]},{"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-target":"schema","object-locator":{"schema-name":"hr"},"rule-action":"rename","value":"hr2"},{"rule-type":"table-settings","rule-id":"3","rule-name":"3","object-locator":{"schema-name":"hr","table-name":"employees"},"parallel-load":{"type":"ranges","columns":["id"],"boundaries":[["1000"],["2000"]]}}]}`

func TestSpecExample(t *testing.T) {
	plans := mustPlan(t, specExample, hrTables()...)
	if got := names(plans); got != "hr.emp_history,hr.employees" {
		t.Fatalf("selected %s", got)
	}
	hist, emp := plans[0], plans[1]
	for _, p := range plans {
		if p.Target.Schema != "hr2" || p.Target.Name != p.Source.Name {
			t.Errorf("target %s for %s", p.Target.QualifiedName(), p.Source.QualifiedName())
		}
		if len(p.Filters) != 0 || p.LOB != nil {
			t.Errorf("%s: filters %v lob %v", p.Source.Name, p.Filters, p.LOB)
		}
		if targetCols(p) != strings.Join(p.SourceColumns, ",") {
			t.Errorf("%s: columns %s vs source %v", p.Source.Name, targetCols(p), p.SourceColumns)
		}
	}
	if hist.ParallelLoad != nil {
		t.Error("emp_history got employees' table settings")
	}
	pl := emp.ParallelLoad
	if pl == nil || pl.Type != "ranges" || !slices.Equal(pl.Columns, []string{"id"}) || len(pl.Boundaries) != 2 || pl.Boundaries[1][0] != "2000" {
		t.Fatalf("parallel load %+v", pl)
	}
	if !slices.Equal(emp.RuleIDs, []string{"1", "2", "3"}) || !slices.Equal(hist.RuleIDs, []string{"1", "2"}) {
		t.Errorf("RuleIDs %v %v", emp.RuleIDs, hist.RuleIDs)
	}
	if !slices.Equal(emp.Target.PrimaryKey, []string{"id"}) || !slices.Equal(hist.Target.PrimaryKey, []string{"emp_id", "changed"}) {
		t.Errorf("PKs %v %v", emp.Target.PrimaryKey, hist.Target.PrimaryKey)
	}
	// The source table is not modified.
	if hrTables()[0].Schema != "hr" || emp.Source.Schema != "hr" {
		t.Error("source modified")
	}
	row, err := emp.Transform(record.Row{int64(1), "Ada", "Lovelace", "10.50", int64(3), []byte{1}, nil}, RowMeta{})
	if err != nil || len(row) != 7 || row[1] != "Ada" || row[3] != "10.50" {
		t.Fatalf("Transform = %v, %v", row, err)
	}
}

func TestFilters(t *testing.T) {
	d := doc(
		sel("1", "include", "hr", "employees", `"filters":[
			{"filter-type":"source","column-name":"dept_id","filter-conditions":[{"filter-operator":"eq","value":"3"},{"filter-operator":"between","start-value":"10","end-value":"20"}]},
			{"filter-type":"source","column-name":"salary","filter-conditions":[{"filter-operator":"ste","value":"5000.5"}]},
			{"filter-type":"source","column-name":"last_name","filter-conditions":[{"filter-operator":"notnull"}]}]`),
		sel("2", "include", "hr", "departments", `"filters":[{"filter-type":"source","column-name":"name","filter-conditions":[{"filter-operator":"noteq","value":"tmp"}]}]`),
		sel("3", "include", "hr", "dep%", ""),
	)
	plans := mustPlan(t, d, hrTables()...)
	if names(plans) != "hr.departments,hr.employees" {
		t.Fatalf("selected %s", names(plans))
	}
	dept, emp := plans[0], plans[1]
	want := []record.Filter{
		{Column: "dept_id", Conditions: []record.Condition{{Op: record.OpEq, Value: "3"}, {Op: record.OpBetween, Start: "10", End: "20"}}},
		{Column: "salary", Conditions: []record.Condition{{Op: record.OpLte, Value: "5000.5"}}},
		{Column: "last_name", Conditions: []record.Condition{{Op: record.OpNotNull}}},
	}
	if !filtersEqual(emp.Filters, want) {
		t.Errorf("filters = %+v", emp.Filters)
	}
	// Two include rules match departments: the filter of one carries through.
	if !filtersEqual(dept.Filters, []record.Filter{{Column: "name", Conditions: []record.Condition{{Op: record.OpNotEq, Value: "tmp"}}}}) {
		t.Errorf("departments filters = %+v", dept.Filters)
	}

	bad := []struct{ d, reason string }{
		{doc(sel("1", "include", "hr", "employees", `"filters":[{"filter-type":"source","column-name":"nope","filter-conditions":[{"filter-operator":"null"}]}]`)), "Filter column nope is not a column"},
		{doc(sel("1", "include", "hr", "employees", `"filters":[{"filter-type":"source","column-name":"photo","filter-conditions":[{"filter-operator":"null"}]}]`)), "LOB"},
		{doc(sel("1", "include", "hr", "employees", `"filters":[{"filter-type":"source","column-name":"dept_id","filter-conditions":[{"filter-operator":"gte","value":"abc"}]}]`)), `Filter value "abc" is not valid`},
		{doc(sel("1", "include", "hr", "employees", `"filters":[{"filter-type":"source","column-name":"hired","filter-conditions":[{"filter-operator":"gte","value":"yesterday"}]}]`)), `Filter value "yesterday"`},
	}
	for _, b := range bad {
		if _, err := mustParse(t, b.d).Plan(hrTables()); !isRuleErr(err, "1", b.reason) {
			t.Errorf("want rule 1 %q, got %v", b.reason, err)
		}
	}
}

func filtersEqual(a, b []record.Filter) bool {
	return slices.EqualFunc(a, b, func(x, y record.Filter) bool {
		return x.Column == y.Column && slices.Equal(x.Conditions, y.Conditions)
	})
}

func TestNameActions(t *testing.T) {
	loc := `{"schema-name":"hr","table-name":"employees"}`
	colLoc := func(c string) string {
		return `{"schema-name":"hr","table-name":"employees","column-name":"` + c + `"}`
	}
	cases := []struct {
		name          string
		rules         []string
		schema, table string
		cols          string
	}{
		{"none", nil, "hr", "employees", "id,first_name,last_name,salary,dept_id,photo,hired"},
		{"rename schema", []string{tr("2", "schema", "rename", `{"schema-name":"hr"}`, `"value":"people"`)}, "people", "employees", ""},
		{"uppercase schema", []string{tr("2", "schema", "convert-uppercase", `{"schema-name":"%"}`, "")}, "HR", "employees", ""},
		{"rename table", []string{tr("2", "table", "rename", loc, `"value":"staff"`)}, "hr", "staff", ""},
		{"uppercase table", []string{tr("2", "table", "convert-uppercase", loc, "")}, "hr", "EMPLOYEES", ""},
		{"add-prefix table", []string{tr("2", "table", "add-prefix", `{"schema-name":"hr","table-name":"%"}`, `"value":"dms_"`)}, "hr", "dms_employees", ""},
		{"add-suffix table", []string{tr("2", "table", "add-suffix", loc, `"value":"_v2"`)}, "hr", "employees_v2", ""},
		{"remove-prefix table", []string{tr("2", "table", "remove-prefix", loc, `"value":"emp"`)}, "hr", "loyees", ""},
		{"remove-prefix no match", []string{tr("2", "table", "remove-prefix", loc, `"value":"x"`)}, "hr", "employees", ""},
		{"remove-suffix table", []string{tr("2", "table", "remove-suffix", loc, `"value":"ees"`)}, "hr", "employ", ""},
		{"replace-prefix table", []string{tr("2", "table", "replace-prefix", loc, `"old-value":"emp","value":"EMP_"`)}, "hr", "EMP_loyees", ""},
		{"replace-suffix table", []string{tr("2", "table", "replace-suffix", loc, `"old-value":"ees","value":"_x"`)}, "hr", "employ_x", ""},
		{"replace-suffix to nothing", []string{tr("2", "table", "replace-suffix", loc, `"old-value":"s","value":""`)}, "hr", "employee", ""},
		{"lowest rule-id wins", []string{tr("3", "table", "rename", loc, `"value":"three"`), tr("2", "table", "rename", loc, `"value":"two"`)}, "hr", "two", ""},
		{"lower and upper are one kind", []string{tr("3", "table", "convert-lowercase", loc, ""), tr("2", "table", "convert-uppercase", loc, "")}, "hr", "EMPLOYEES", ""},
		{"different actions compose", []string{tr("2", "table", "convert-uppercase", loc, ""), tr("3", "table", "add-prefix", loc, `"value":"t_"`)}, "hr", "T_EMPLOYEES", ""},
		{"rename schema, table and lowercase columns",
			[]string{
				tr("2", "schema", "rename", `{"schema-name":"hr"}`, `"value":"HR2"`),
				tr("3", "table", "rename", loc, `"value":"Staff"`),
				tr("4", "column", "convert-uppercase", `{"schema-name":"hr","table-name":"%","column-name":"%"}`, ""),
			}, "HR2", "Staff", "ID,FIRST_NAME,LAST_NAME,SALARY,DEPT_ID,PHOTO,HIRED"},
		{"column rename", []string{tr("2", "column", "rename", colLoc("first_name"), `"value":"given_name"`)}, "hr", "employees", "id,given_name,last_name,salary,dept_id,photo,hired"},
		{"column prefixes", []string{
			tr("2", "column", "add-prefix", colLoc("%_name"), `"value":"p_"`),
			tr("3", "column", "add-suffix", colLoc("id"), `"value":"_pk"`),
			tr("4", "column", "remove-prefix", colLoc("dept%"), `"value":"dept_"`),
			tr("5", "column", "replace-suffix", colLoc("hired"), `"old-value":"ed","value":"e_date"`),
			tr("6", "column", "replace-prefix", colLoc("sal%"), `"old-value":"sal","value":"pay"`),
			tr("7", "column", "remove-suffix", colLoc("photo"), `"value":"o"`),
		}, "hr", "employees", "id_pk,p_first_name,p_last_name,payary,id,phot,hire_date"},
		{"column locator by data-type", []string{tr("2", "column", "add-suffix", `{"schema-name":"hr","table-name":"employees","column-name":"%","data-type":"string"}`, `"value":"_s"`)}, "hr", "employees", "id,first_name_s,last_name_s,salary,dept_id,photo,hired"},
		{"other table untouched", []string{tr("2", "table", "rename", `{"schema-name":"hr","table-name":"departments"}`, `"value":"d"`)}, "hr", "employees", ""},
		{"tablespace rules have no effect", []string{tr("2", "table-tablespace", "rename", `{"schema-name":"hr","table-name":"%"}`, `"value":"x"`)}, "hr", "employees", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plans := mustPlan(t, doc(append([]string{sel("1", "include", "hr", "employees", "")}, c.rules...)...), hrTables()...)
			if len(plans) != 1 {
				t.Fatalf("%d plans", len(plans))
			}
			p := plans[0]
			if p.Target.Schema != c.schema || p.Target.Name != c.table {
				t.Errorf("target %s.%s, want %s.%s", p.Target.Schema, p.Target.Name, c.schema, c.table)
			}
			if c.cols != "" && targetCols(p) != c.cols {
				t.Errorf("columns %s\nwant    %s", targetCols(p), c.cols)
			}
			for i, tc := range p.Target.Columns {
				if tc.Name != p.Columns[i].Name || tc.Type.Kind != p.Columns[i].Type.Kind {
					t.Errorf("Target.Columns[%d] = %+v, Columns[%d] = %+v", i, tc, i, p.Columns[i])
				}
			}
		})
	}
}

func TestColumnRenameMapsKeys(t *testing.T) {
	plans := mustPlan(t, doc(sel("1", "include", "hr", "employees", ""),
		tr("2", "column", "convert-uppercase", `{"schema-name":"hr","table-name":"employees","column-name":"%"}`, "")), hrTables()...)
	p := plans[0]
	if !slices.Equal(p.Target.PrimaryKey, []string{"ID"}) || len(p.Target.UniqueKeys) != 1 || !slices.Equal(p.Target.UniqueKeys[0], []string{"FIRST_NAME", "LAST_NAME"}) {
		t.Errorf("keys %v %v", p.Target.PrimaryKey, p.Target.UniqueKeys)
	}
	if p.Columns[1].Source != "first_name" {
		t.Errorf("Source = %q", p.Columns[1].Source)
	}
	if !slices.Equal(p.RuleIDs, []string{"1", "2"}) {
		t.Errorf("RuleIDs %v", p.RuleIDs)
	}
}

func TestRemoveIncludeColumns(t *testing.T) {
	loc := func(c string) string {
		return `{"schema-name":"hr","table-name":"employees","column-name":"` + c + `"}`
	}
	base := sel("1", "include", "hr", "employees", "")
	// remove-column: the PK column removed drops the PK; the unique key stays.
	p := mustPlan(t, doc(base, tr("2", "column", "remove-column", loc("id"), ""), tr("3", "column", "remove-column", loc("photo"), "")), hrTables()...)[0]
	if targetCols(p) != "first_name,last_name,salary,dept_id,hired" || strings.Join(p.SourceColumns, ",") != "first_name,last_name,salary,dept_id,hired" {
		t.Errorf("columns %s / %v", targetCols(p), p.SourceColumns)
	}
	if p.Target.PrimaryKey != nil || len(p.Target.UniqueKeys) != 1 {
		t.Errorf("keys %v %v", p.Target.PrimaryKey, p.Target.UniqueKeys)
	}
	row, err := p.Transform(record.Row{"a", "b", "1.5", int64(2), nil}, RowMeta{})
	if err != nil || !slices.Equal(row, record.Row{"a", "b", "1.5", int64(2), nil}) {
		t.Errorf("Transform = %v %v", row, err)
	}

	// include-column: only the listed columns (wildcards allowed); remove wins.
	p = mustPlan(t, doc(base,
		tr("2", "column", "include-column", loc("id"), ""),
		tr("3", "column", "include-column", loc("%_name"), ""),
		tr("4", "column", "remove-column", loc("last_name"), "")), hrTables()...)[0]
	if targetCols(p) != "id,first_name" || !slices.Equal(p.Target.PrimaryKey, []string{"id"}) || p.Target.UniqueKeys != nil {
		t.Errorf("columns %s keys %v %v", targetCols(p), p.Target.PrimaryKey, p.Target.UniqueKeys)
	}
	if !slices.Equal(p.RuleIDs, []string{"1", "2", "3", "4"}) {
		t.Errorf("RuleIDs %v", p.RuleIDs)
	}

	// Nothing left is an error naming the rule.
	_, err = mustParse(t, doc(base, tr("2", "column", "remove-column", loc("%"), ""))).Plan(hrTables())
	if !isRuleErr(err, "2", "No columns of table hr.employees") {
		t.Errorf("all removed: %v", err)
	}
}

func TestDefinePrimaryKey(t *testing.T) {
	base := sel("1", "include", "hr", "%", "")
	loc := `{"schema-name":"hr","table-name":"departments"}`
	plans := mustPlan(t, doc(base,
		tr("2", "column", "rename", `{"schema-name":"hr","table-name":"departments","column-name":"name"}`, `"value":"dept_name"`),
		tr("3", "table", "define-primary-key", loc, `"primary-key-def":{"name":"dept_pk","origin":"primary-key","columns":["name","id"]}`),
		tr("4", "table", "define-primary-key", loc, `"primary-key-def":{"name":"ignored","columns":["id"]}`),
		tr("5", "table", "define-primary-key", `{"schema-name":"payroll","table-name":"runs"}`, `"primary-key-def":{"name":"u","origin":"unique-index","columns":["id"]}`),
		sel("6", "include", "payroll", "runs", ""),
	), hrTables()...)
	var dept, runs *TablePlan
	for _, p := range plans {
		switch p.Source.Name {
		case "departments":
			dept = p
		case "runs":
			runs = p
		}
	}
	if !slices.Equal(dept.Target.PrimaryKey, []string{"dept_name", "id"}) || dept.KeyName != "dept_pk" {
		t.Errorf("PK %v name %q", dept.Target.PrimaryKey, dept.KeyName)
	}
	if dept.Columns[1].Nullable || dept.Target.Columns[1].Nullable {
		t.Error("a primary-key column stays nullable")
	}
	if !slices.Equal(dept.RuleIDs, []string{"1", "2", "3"}) {
		t.Errorf("RuleIDs %v", dept.RuleIDs)
	}
	if runs.Target.PrimaryKey != nil || len(runs.Target.UniqueKeys) != 1 || runs.Target.UniqueKeys[0][0] != "id" || runs.KeyName != "u" {
		t.Errorf("unique-index: pk %v uk %v", runs.Target.PrimaryKey, runs.Target.UniqueKeys)
	}
	_, err := mustParse(t, doc(base, tr("2", "table", "define-primary-key", loc, `"primary-key-def":{"name":"pk","columns":["nope"]}`))).Plan(hrTables())
	if !isRuleErr(err, "2", "primary-key-def column nope") {
		t.Errorf("unknown pk column: %v", err)
	}
}

func TestChangeDataType(t *testing.T) {
	plans := mustPlan(t, doc(sel("1", "include", "hr", "employees", ""),
		tr("2", "column", "change-data-type", `{"schema-name":"hr","table-name":"employees","column-name":"dept_id"}`, `"data-type":{"type":"string","length":"20"}`),
		tr("3", "column", "change-data-type", `{"schema-name":"hr","table-name":"employees","column-name":"salary"}`, `"data-type":{"type":"real8"}`),
		tr("4", "column", "change-data-type", `{"schema-name":"hr","table-name":"employees","column-name":"hired"}`, `"data-type":{"type":"datetime","precision":6}`),
		tr("5", "column", "change-data-type", `{"schema-name":"hr","table-name":"employees","column-name":"dept_id"}`, `"data-type":{"type":"int8"}`),
		tr("6", "column", "change-data-type", `{"schema-name":"hr","table-name":"employees","column-name":"id"}`, `"data-type":{"type":"numeric","precision":20,"scale":0}`),
	), hrTables()...)
	p := plans[0]
	wantTypes := map[string]record.Type{
		"id":      {Kind: record.KindNumeric, Precision: 20},
		"dept_id": {Kind: record.KindString, Length: 20},
		"salary":  {Kind: record.KindFloat64},
		"hired":   {Kind: record.KindTimestamp, Precision: 6},
	}
	for _, c := range p.Columns {
		if w, ok := wantTypes[c.Name]; ok && (c.Type.Kind != w.Kind || c.Type.Length != w.Length || c.Type.Precision != w.Precision) {
			t.Errorf("%s: type %+v, want %+v", c.Name, c.Type, w)
		}
	}
	if contains(p.RuleIDs, "5") {
		t.Errorf("rule 5 lost to rule 2 but is listed: %v", p.RuleIDs)
	}
	hired := mustDate(t, "2024-03-01")
	row, err := p.Transform(record.Row{int64(7), "Ada", "L", "1234.50", int64(42), nil, hired}, RowMeta{})
	if err != nil {
		t.Fatal(err)
	}
	want := record.Row{"7", "Ada", "L", 1234.5, "42", nil, hired}
	for i := range want {
		if !valueEqual(row[i], want[i]) {
			t.Errorf("column %s = %#v, want %#v", p.Columns[i].Name, row[i], want[i])
		}
	}
	// A value that can't convert fails the row with the column named.
	p2 := mustPlan(t, doc(sel("1", "include", "hr", "departments", ""),
		tr("2", "column", "change-data-type", `{"schema-name":"hr","table-name":"departments","column-name":"name"}`, `"data-type":{"type":"int4"}`)), hrTables()...)[0]
	if _, err := p2.Transform(record.Row{int64(1), "sales"}, RowMeta{}); err == nil || !strings.Contains(err.Error(), "column name") {
		t.Errorf("bad conversion: %v", err)
	}
	if row, err := p2.Transform(record.Row{int64(1), " 12 "}, RowMeta{}); err != nil || row[1] != int64(12) {
		t.Errorf("string to int: %v %v", row, err)
	}
}

func TestBeforeImageColumns(t *testing.T) {
	loc := `{"schema-name":"hr","table-name":"emp_history"}`
	cases := []struct {
		def, cols string
	}{
		{``, "emp_id,changed,note,BI_emp_id,BI_changed"},
		{`"before-image-def":{"column-prefix":"old_","column-suffix":"_b","column-filter":"all"}`, "emp_id,changed,note,old_emp_id_b,old_changed_b,old_note_b"},
		{`"before-image-def":{"column-filter":"non-lob"}`, "emp_id,changed,note,BI_emp_id,BI_changed"},
		{`"before-image-def":{"column-prefix":"","column-suffix":"_before","column-filter":"all"}`, "emp_id,changed,note,emp_id_before,changed_before,note_before"},
	}
	for _, c := range cases {
		p := mustPlan(t, doc(sel("1", "include", "hr", "emp_history", ""), tr("2", "column", "add-before-image-columns", loc, c.def)), hrTables()...)[0]
		if targetCols(p) != c.cols {
			t.Errorf("%s: columns %s, want %s", c.def, targetCols(p), c.cols)
		}
		bi := p.Columns[3]
		if bi.BeforeImageOf != "emp_id" || bi.Source != "" || !bi.Nullable || bi.Type.Kind != record.KindInt64 {
			t.Errorf("before-image column %+v", bi)
		}
	}
	p := mustPlan(t, doc(sel("1", "include", "hr", "emp_history", ""),
		tr("2", "column", "add-before-image-columns", loc, `"before-image-def":{"column-filter":"all"}`),
		tr("3", "column", "rename", `{"schema-name":"hr","table-name":"emp_history","column-name":"note"}`, `"value":"remark"`)), hrTables()...)[0]
	if targetCols(p) != "emp_id,changed,remark,BI_emp_id,BI_changed,BI_remark" {
		t.Errorf("columns %s", targetCols(p))
	}
	ts := mustDate(t, "2024-01-02")
	// Full load: NULL before-images.
	row, err := p.Transform(record.Row{int64(1), ts, "n"}, RowMeta{Operation: "INSERT"})
	if err != nil || row[3] != nil || row[5] != nil || row[2] != "n" {
		t.Errorf("full load row %v %v", row, err)
	}
	// CDC: the caller's before-image.
	row, err = p.Transform(record.Row{int64(1), ts, "new"}, RowMeta{Operation: "UPDATE", Before: record.Row{int64(1), ts, "old"}})
	if err != nil || row[2] != "new" || row[5] != "old" || row[3] != int64(1) {
		t.Errorf("CDC row %v %v", row, err)
	}
	if _, err := p.Transform(record.Row{int64(1), ts, "new"}, RowMeta{Before: record.Row{int64(1)}}); err == nil {
		t.Error("short before-image accepted")
	}
}

func TestDuplicateTargets(t *testing.T) {
	_, err := mustParse(t, doc(sel("1", "include", "hr", "%", ""),
		tr("2", "table", "rename", `{"schema-name":"hr","table-name":"emp%"}`, `"value":"people"`))).Plan(hrTables())
	if !isRuleErr(err, "2", "both map to target table hr.people") {
		t.Errorf("duplicate target table: %v", err)
	}
	_, err = mustParse(t, doc(sel("1", "include", "hr", "departments", ""),
		tr("2", "column", "rename", `{"schema-name":"hr","table-name":"departments","column-name":"name"}`, `"value":"id"`))).Plan(hrTables())
	if !isRuleErr(err, "2", "Column id appears twice") {
		t.Errorf("duplicate column: %v", err)
	}
	_, err = mustParse(t, doc(sel("1", "include", "hr", "departments", ""),
		tr("3", "column", "add-column", `{"schema-name":"hr","table-name":"departments"}`, `"value":"name","data-type":{"type":"string"}`))).Plan(hrTables())
	if !isRuleErr(err, "3", "Column name appears twice") {
		t.Errorf("add-column duplicate: %v", err)
	}
	// Duplicate source tables in the input are planned once.
	ts := hrTables()
	plans := mustPlan(t, doc(sel("1", "include", "hr", "departments", "")), ts[2], ts[2])
	if len(plans) != 1 {
		t.Errorf("%d plans", len(plans))
	}
}

func TestEmptyPlan(t *testing.T) {
	plans, err := mustParse(t, doc(sel("1", "include", "nosuch", "%", ""))).Plan(hrTables())
	if err != nil || len(plans) != 0 {
		t.Fatalf("plans %v err %v", plans, err)
	}
	plans, err = mustParse(t, doc(sel("1", "include", "%", "%", ""))).Plan([]*record.Table{nil})
	if err != nil || len(plans) != 0 {
		t.Fatalf("nil table: %v %v", plans, err)
	}
}
