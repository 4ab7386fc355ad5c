package mapping

import (
	"errors"
	"strings"
	"testing"

	"github.com/godwit-dms/godwit/internal/record"
)

// doc builds a mappings document from rule objects.
func doc(rules ...string) string { return `{"rules":[` + strings.Join(rules, ",") + `]}` }

const selAll = `{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"hr","table-name":"%"},"rule-action":"include"}`

func tr(id, target, action, locator, extra string) string {
	s := `{"rule-type":"transformation","rule-id":"` + id + `","rule-name":"r` + id + `","rule-target":"` + target +
		`","rule-action":"` + action + `","object-locator":` + locator
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func ts(id, locator, extra string) string {
	s := `{"rule-type":"table-settings","rule-id":"` + id + `","rule-name":"ts` + id + `","object-locator":` + locator
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func sel(id, action, schema, table, extra string) string {
	s := `{"rule-type":"selection","rule-id":"` + id + `","rule-name":"s` + id + `","rule-action":"` + action +
		`","object-locator":{"schema-name":"` + schema + `","table-name":"` + table + `"}`
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func TestParseErrors(t *testing.T) {
	emp := `{"schema-name":"hr","table-name":"emp"}`
	col := `{"schema-name":"hr","table-name":"emp","column-name":"id"}`
	cases := []struct {
		name, doc, id, reason string
	}{
		{"empty", ``, "", "empty"},
		{"not json", `{"rules":`, "", `"rules" array`},
		{"not object", `[]`, "", `"rules" array`},
		{"rules not array", `{"rules":{}}`, "", `"rules" array`},
		{"no rules", `{"rules":[]}`, "", "At least one selection rule"},
		{"only transformation", doc(tr("2", "schema", "rename", `{"schema-name":"hr"}`, `"value":"x"`)), "", "At least one selection rule"},
		{"rule not object", doc(`"x"`), "", "Rule 1 of the rules array is not a JSON object"},
		{"no rule-id", doc(`{"rule-type":"selection"}`), "", "has no rule-id"},
		{"rule-id not numeric", doc(strings.Replace(selAll, `"rule-id":"1"`, `"rule-id":"a1"`, 1)), "a1", "numeric"},
		{"duplicate rule-id", doc(selAll, selAll), "1", "Duplicate rule-id"},
		{"duplicate rule-id leading zero", doc(selAll, strings.Replace(selAll, `"rule-id":"1"`, `"rule-id":"01"`, 1)), "01", "Duplicate"},
		{"no rule-name", doc(strings.Replace(selAll, `"rule-name":"1",`, ``, 1)), "1", "rule-name is required"},
		{"no rule-type", doc(strings.Replace(selAll, `"rule-type":"selection",`, ``, 1)), "1", "rule-type is required"},
		{"bad rule-type", doc(strings.Replace(selAll, `"selection"`, `"selektion"`, 1)), "1", "Unsupported rule-type"},
		{"rule-type wrong json type", doc(strings.Replace(selAll, `"selection"`, `{}`, 1)), "1", "rule-type must be a string"},

		// selection
		{"bad selection action", doc(sel("1", "add", "hr", "%", "")), "1", "Invalid rule-action"},
		{"no selection action", doc(sel("1", "", "hr", "%", "")), "1", "rule-action is required"},
		{"no locator", doc(`{"rule-type":"selection","rule-id":"1","rule-name":"1","rule-action":"include"}`), "1", "object-locator is required"},
		{"no schema", doc(sel("1", "include", "", "%", "")), "1", "object-locator.schema-name is required"},
		{"no table", doc(sel("1", "include", "hr", "", "")), "1", "object-locator.table-name is required"},
		{"explicit wildcard", doc(sel("1", "explicit", "hr", "emp%", "")), "1", "Wildcards are not allowed in an explicit"},
		{"bad table-type", doc(`{"rule-type":"selection","rule-id":"1","rule-name":"1","rule-action":"include","object-locator":{"schema-name":"hr","table-name":"%","table-type":"synonym"}}`), "1", "table-type"},
		{"load-order negative", doc(sel("1", "include", "hr", "%", `"load-order":-1`)), "1", "load-order must be between"},
		{"load-order too big", doc(sel("1", "include", "hr", "%", `"load-order":2147483648`)), "1", "load-order must be between"},
		{"load-order not int", doc(sel("1", "include", "hr", "%", `"load-order":"high"`)), "1", "load-order must be an integer"},
		{"filters on exclude", doc(sel("1", "include", "hr", "%", ""), sel("2", "exclude", "hr", "x", `"filters":[{"filter-type":"source","column-name":"id","filter-conditions":[{"filter-operator":"eq","value":"1"}]}]`)), "2", "only in a selection rule with rule-action include"},
		{"filters not array", doc(sel("1", "include", "hr", "%", `"filters":{}`)), "1", "filters must be an array"},
		{"filter-type", doc(sel("1", "include", "hr", "%", `"filters":[{"filter-type":"target","column-name":"id","filter-conditions":[{"filter-operator":"eq","value":"1"}]}]`)), "1", `filter-type must be "source"`},
		{"filter no column", doc(sel("1", "include", "hr", "%", `"filters":[{"filter-type":"source","filter-conditions":[{"filter-operator":"eq","value":"1"}]}]`)), "1", "column-name is required"},
		{"filter no conditions", doc(sel("1", "include", "hr", "%", `"filters":[{"filter-type":"source","column-name":"id","filter-conditions":[]}]`)), "1", "no filter-conditions"},
		{"filter bad operator", doc(sel("1", "include", "hr", "%", `"filters":[{"filter-type":"source","column-name":"id","filter-conditions":[{"filter-operator":"like","value":"1"}]}]`)), "1", `unsupported filter-operator "like"`},
		{"filter no value", doc(sel("1", "include", "hr", "%", `"filters":[{"filter-type":"source","column-name":"id","filter-conditions":[{"filter-operator":"gte"}]}]`)), "1", "operator gte needs value"},
		{"between no end", doc(sel("1", "include", "hr", "%", `"filters":[{"filter-type":"source","column-name":"id","filter-conditions":[{"filter-operator":"between","start-value":"1"}]}]`)), "1", "needs end-value"},
		{"notbetween no start", doc(sel("1", "include", "hr", "%", `"filters":[{"filter-type":"source","column-name":"id","filter-conditions":[{"filter-operator":"notbetween","end-value":"1"}]}]`)), "1", "needs start-value"},
		{"negative not alone", doc(sel("1", "include", "hr", "%", `"filters":[{"filter-type":"source","column-name":"id","filter-conditions":[{"filter-operator":"noteq","value":"1"},{"filter-operator":"eq","value":"2"}]}]`)), "1", "noteq condition must be the only condition"},
		{"notnull not alone", doc(sel("1", "include", "hr", "%", `"filters":[{"filter-type":"source","column-name":"id","filter-conditions":[{"filter-operator":"null"},{"filter-operator":"notnull"}]}]`)), "1", "notnull condition must be the only"},

		// transformation
		{"no rule-target", doc(selAll, `{"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-action":"rename","object-locator":{"schema-name":"hr"},"value":"x"}`), "2", "rule-target is required"},
		{"bad rule-target", doc(selAll, tr("2", "database", "rename", `{"schema-name":"hr"}`, `"value":"x"`)), "2", "Invalid rule-target"},
		{"bad action", doc(selAll, tr("2", "schema", "drop", `{"schema-name":"hr"}`, "")), "2", `Unsupported rule-action "drop"`},
		{"no action", doc(selAll, tr("2", "schema", "", `{"schema-name":"hr"}`, "")), "2", "rule-action is required"},
		{"rename no value", doc(selAll, tr("2", "schema", "rename", `{"schema-name":"hr"}`, "")), "2", "value is required for rule-action rename"},
		{"add-prefix no value", doc(selAll, tr("2", "table", "add-prefix", emp, "")), "2", "value is required"},
		{"replace-prefix no old-value", doc(selAll, tr("2", "table", "replace-prefix", emp, `"value":"x"`)), "2", "old-value is required"},
		{"replace-suffix no value", doc(selAll, tr("2", "table", "replace-suffix", emp, `"old-value":"x"`)), "2", "value is required"},
		{"transformation no locator", doc(selAll, `{"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-target":"schema","rule-action":"convert-lowercase"}`), "2", "object-locator is required"},
		{"transformation no schema", doc(selAll, tr("2", "schema", "convert-lowercase", `{}`, "")), "2", "schema-name is required"},
		{"table target no table", doc(selAll, tr("2", "table", "convert-lowercase", `{"schema-name":"hr"}`, "")), "2", "table-name is required for rule-target table"},
		{"column target no table", doc(selAll, tr("2", "column", "convert-lowercase", `{"schema-name":"hr"}`, "")), "2", "table-name is required for rule-target column"},
		{"column target no column", doc(selAll, tr("2", "column", "rename", emp, `"value":"x"`)), "2", "column-name is required"},
		{"add-column on table", doc(selAll, tr("2", "table", "add-column", emp, `"value":"x","data-type":{"type":"string"}`)), "2", "requires rule-target column"},
		{"add-column no value", doc(selAll, tr("2", "column", "add-column", emp, `"data-type":{"type":"string"}`)), "2", "value is required for rule-action add-column"},
		{"add-column no type", doc(selAll, tr("2", "column", "add-column", emp, `"value":"x","expression":"1"`)), "2", "data-type is required"},
		{"add-column bad type", doc(selAll, tr("2", "column", "add-column", emp, `"value":"x","data-type":{"type":"varchar"}`)), "2", `Unsupported data type "varchar"`},
		{"add-column no type name", doc(selAll, tr("2", "column", "add-column", emp, `"value":"x","data-type":{"length":5}`)), "2", "data-type.type is required"},
		{"add-column bad length", doc(selAll, tr("2", "column", "add-column", emp, `"value":"x","data-type":{"type":"string","length":-1}`)), "2", "data-type.length must be between"},
		{"numeric scale", doc(selAll, tr("2", "column", "add-column", emp, `"value":"x","data-type":{"type":"numeric","precision":5,"scale":6}`)), "2", "scale 6 is larger than precision 5"},
		{"bad expression", doc(selAll, tr("2", "column", "add-column", emp, `"value":"x","expression":"$a ||","data-type":{"type":"string"}`)), "2", "Invalid expression"},
		{"unknown function", doc(selAll, tr("2", "column", "add-column", emp, `"value":"x","expression":"frobnicate($a)","data-type":{"type":"string"}`)), "2", "unsupported function frobnicate"},
		{"bare identifier", doc(selAll, tr("2", "column", "add-column", emp, `"value":"x","expression":"first_name","data-type":{"type":"string"}`)), "2", "columns are written $name"},
		{"wrong arity", doc(selAll, tr("2", "column", "add-column", emp, `"value":"x","expression":"upper($a, $b)","data-type":{"type":"string"}`)), "2", "wrong number of arguments"},
		{"change-data-type on table", doc(selAll, tr("2", "table", "change-data-type", emp, `"data-type":{"type":"int4"}`)), "2", "requires rule-target column"},
		{"change-data-type no type", doc(selAll, tr("2", "column", "change-data-type", col, "")), "2", "data-type is required"},
		{"locator data-type bad", doc(selAll, tr("2", "column", "change-data-type", `{"schema-name":"hr","table-name":"emp","data-type":"money"}`, `"data-type":{"type":"string"}`)), "2", "Unsupported object-locator.data-type"},
		{"pk on column", doc(selAll, tr("2", "column", "define-primary-key", col, `"primary-key-def":{"name":"pk","columns":["id"]}`)), "2", "requires rule-target table"},
		{"pk no def", doc(selAll, tr("2", "table", "define-primary-key", emp, "")), "2", "primary-key-def is required"},
		{"pk no name", doc(selAll, tr("2", "table", "define-primary-key", emp, `"primary-key-def":{"columns":["id"]}`)), "2", "primary-key-def.name is required"},
		{"pk no columns", doc(selAll, tr("2", "table", "define-primary-key", emp, `"primary-key-def":{"name":"pk","columns":[]}`)), "2", "at least one column"},
		{"pk bad origin", doc(selAll, tr("2", "table", "define-primary-key", emp, `"primary-key-def":{"name":"pk","origin":"index","columns":["id"]}`)), "2", "Invalid primary-key-def.origin"},
		{"pk wildcard column", doc(selAll, tr("2", "table", "define-primary-key", emp, `"primary-key-def":{"name":"pk","columns":["i%"]}`)), "2", "Wildcards are not allowed in primary-key-def.columns"},
		{"pk wildcard table", doc(selAll, tr("2", "table", "define-primary-key", `{"schema-name":"hr","table-name":"e%"}`, `"primary-key-def":{"name":"pk","columns":["id"]}`)), "2", "Wildcards are not allowed in the object-locator"},
		{"pk duplicate column", doc(selAll, tr("2", "table", "define-primary-key", emp, `"primary-key-def":{"name":"pk","columns":["id","id"]}`)), "2", "lists id twice"},
		{"bi bad filter", doc(selAll, tr("2", "column", "add-before-image-columns", emp, `"before-image-def":{"column-filter":"some"}`)), "2", "Invalid before-image-def.column-filter"},
		{"bi no affix", doc(selAll, tr("2", "column", "add-before-image-columns", emp, `"before-image-def":{"column-prefix":"","column-suffix":""}`)), "2", "needs a column-prefix or a column-suffix"},
		{"mask char", doc(selAll, tr("2", "column", "data-masking-digits-mask", col, `"value":"##"`)), "2", "one printable ASCII character"},
		{"mask space", doc(selAll, tr("2", "column", "data-masking-digits-mask", col, `"value":" "`)), "2", "one printable ASCII character"},
		{"mask on table", doc(selAll, tr("2", "table", "data-masking-hash-mask", emp, "")), "2", "requires rule-target column"},

		// table settings
		{"settings wildcard", doc(selAll, ts("3", `{"schema-name":"hr","table-name":"emp%"}`, `"parallel-load":{"type":"partitions-auto"}`)), "3", exactNameMessage},
		{"settings schema wildcard", doc(selAll, ts("3", `{"schema-name":"%","table-name":"emp"}`, `"parallel-load":{"type":"partitions-auto"}`)), "3", exactNameMessage},
		{"settings no locator", doc(selAll, `{"rule-type":"table-settings","rule-id":"3","rule-name":"3"}`), "3", exactNameMessage},
		{"parallel no type", doc(selAll, ts("3", emp, `"parallel-load":{}`)), "3", "parallel-load.type is required"},
		{"parallel bad type", doc(selAll, ts("3", emp, `"parallel-load":{"type":"hash"}`)), "3", "Invalid parallel-load.type"},
		{"ranges no columns", doc(selAll, ts("3", emp, `"parallel-load":{"type":"ranges","boundaries":[["1"]]}`)), "3", "ranges needs columns"},
		{"ranges too many columns", doc(selAll, ts("3", emp, `"parallel-load":{"type":"ranges","columns":["a","b","c","d","e","f","g","h","i","j","k"],"boundaries":[["1","1","1","1","1","1","1","1","1","1","1"]]}`)), "3", "at most 10 columns"},
		{"ranges no boundaries", doc(selAll, ts("3", emp, `"parallel-load":{"type":"ranges","columns":["id"]}`)), "3", "ranges needs boundaries"},
		{"ranges width", doc(selAll, ts("3", emp, `"parallel-load":{"type":"ranges","columns":["id","x"],"boundaries":[["1","2"],["3"]]}`)), "3", "boundaries[1] has 1 values but there are 2 columns"},
		{"ranges boundary not array", doc(selAll, ts("3", emp, `"parallel-load":{"type":"ranges","columns":["id"],"boundaries":["1"]}`)), "3", "boundaries[0] must be an array"},
		{"partitions-list empty", doc(selAll, ts("3", emp, `"parallel-load":{"type":"partitions-list"}`)), "3", "partitions-list needs partitions"},
		{"lob no mode", doc(selAll, ts("3", emp, `"lob-settings":{"bulk-max-size":10}`)), "3", "lob-settings.mode is required"},
		{"lob bad mode", doc(selAll, ts("3", emp, `"lob-settings":{"mode":"full"}`)), "3", "Invalid lob-settings.mode"},
		{"lob bad size", doc(selAll, ts("3", emp, `"lob-settings":{"mode":"limited","bulk-max-size":-5}`)), "3", "bulk-max-size must be between"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse(c.doc)
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want error", m)
			}
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if me.RuleID != c.id {
				t.Errorf("RuleID = %q, want %q (%v)", me.RuleID, c.id, err)
			}
			if !strings.Contains(me.Reason, c.reason) {
				t.Errorf("Reason = %q, want it to contain %q", me.Reason, c.reason)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := Parse(doc(selAll, ts("3", `{"schema-name":"hr","table-name":"%"}`, `"parallel-load":{"type":"partitions-auto"}`)))
	want := "Error in mapping rules. Rule with ruleId = 3 failed validation. Exact schema and table name required when using table settings rule."
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
	_, err = Parse(`{"rules":[]}`)
	if err == nil || err.Error() != "Error in mapping rules. At least one selection rule is required." {
		t.Fatalf("document error = %v", err)
	}
}

func TestParseAccepts(t *testing.T) {
	cases := map[string]string{
		"numeric rule-id":     `{"rules":[{"rule-type":"selection","rule-id":1,"rule-name":1,"object-locator":{"schema-name":"hr","table-name":"%"},"rule-action":"include","load-order":"5"}]}`,
		"explicit underscore": doc(sel("1", "explicit", "hr", "order_items", "")),
		"filters empty":       doc(sel("1", "include", "hr", "%", `"filters":[]`)),
		"ste operator":        doc(sel("1", "include", "hr", "emp", `"filters":[{"filter-type":"source","column-name":"id","filter-conditions":[{"filter-operator":"ste","value":100}]}]`)),
		"unknown keys":        doc(sel("1", "include", "hr", "%", `"description":"x","whatever":{"a":1}`)),
		"ignored rule types": doc(selAll,
			`{"rule-type":"validation","rule-id":"5","rule-name":"v","rule-action":"override-validation-function","object-locator":{"schema-name":"hr","table-name":"emp","column-name":"c"},"target-function":"x"}`,
			`{"rule-type":"object-mapping","rule-id":"6","rule-name":"o","rule-action":"map-record-to-record","object-locator":{"schema-name":"hr","table-name":"emp"}}`,
			`{"rule-type":"post-processing","rule-id":"7","rule-name":"p","rule-action":"add-tag","object-locator":{"schema-name":"hr","table-name":"emp"}}`),
		"tablespace": doc(selAll, tr("2", "table-tablespace", "rename", `{"schema-name":"hr","table-name":"%","table-tablespace-name":"T1"}`, `"value":"T2"`)),
		"all data types": doc(selAll,
			tr("10", "column", "add-column", `{"schema-name":"hr","table-name":"a"}`, `"value":"c1","data-type":{"type":"bytes","length":"10"}`),
			tr("11", "column", "add-column", `{"schema-name":"hr","table-name":"a"}`, `"value":"c2","data-type":{"type":"DATETIME","precision":6}`),
			tr("12", "column", "add-column", `{"schema-name":"hr","table-name":"a"}`, `"value":"c3","data-type":{"type":"uint8"}`),
			tr("13", "column", "add-column", `{"schema-name":"hr","table-name":"a"}`, `"value":"c4","data-type":{"type":"tuple"}`)),
	}
	for name, d := range cases {
		if _, err := Parse(d); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	m, err := Parse(cases["ignored rule types"])
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Ignored(), ","); got != "5 (validation),6 (object-mapping),7 (post-processing)" {
		t.Errorf("Ignored() = %s", got)
	}
}

func TestTableSettingsParsing(t *testing.T) {
	d := doc(selAll,
		ts("3", `{"schema-name":"hr","table-name":"employees"}`,
			`"parallel-load":{"type":"ranges","columns":["id","dept"],"boundaries":[["1000","a"],[2000,null]],"batch-size":50000},
			 "lob-settings":{"mode":"limited","bulk-max-size":"64"}`),
		ts("4", `{"schema-name":"hr","table-name":"parts"}`,
			`"parallel-load":{"type":"partitions-list","partitions":["P1","P2"],"subpartitions":["S1"],"number-of-partitions":16}`))
	m, err := Parse(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.settings) != 2 {
		t.Fatalf("settings = %d", len(m.settings))
	}
	pl := m.settings[0].parallel
	if pl.Type != "ranges" || strings.Join(pl.Columns, ",") != "id,dept" || len(pl.Boundaries) != 2 {
		t.Fatalf("parallel-load = %+v", pl)
	}
	if pl.Boundaries[0][0] != "1000" || pl.Boundaries[0][1] != "a" || pl.Boundaries[1][0] != "2000" || pl.Boundaries[1][1] != nil {
		t.Errorf("boundaries = %#v", pl.Boundaries)
	}
	if lob := m.settings[0].lob; lob == nil || lob.Mode != "limited" || lob.BulkMaxSizeKB != 64 {
		t.Errorf("lob = %+v", lob)
	}
	p2 := m.settings[1].parallel
	if p2.Type != "partitions-list" || len(p2.Partitions) != 2 || p2.Subpartitions[0] != "S1" || p2.NumberOfPartitions != 16 {
		t.Errorf("partitions-list = %+v", p2)
	}

	// Planned: settings land on the exact table only, columns checked.
	tables := []*record.Table{
		{Schema: "hr", Name: "employees", Columns: []record.Column{{Name: "id", Type: record.Type{Kind: record.KindInt64}}, {Name: "dept", Type: record.Type{Kind: record.KindString}}}},
		{Schema: "hr", Name: "employees2", Columns: []record.Column{{Name: "id", Type: record.Type{Kind: record.KindInt64}}}},
	}
	plans, err := m.Plan(tables)
	if err != nil {
		t.Fatal(err)
	}
	if plans[0].ParallelLoad == nil || plans[0].LOB == nil || plans[1].ParallelLoad != nil || plans[1].LOB != nil {
		t.Fatalf("settings on %s=%v/%v %s=%v/%v", plans[0].Source.Name, plans[0].ParallelLoad, plans[0].LOB, plans[1].Source.Name, plans[1].ParallelLoad, plans[1].LOB)
	}
	if !contains(plans[0].RuleIDs, "3") {
		t.Errorf("RuleIDs = %v", plans[0].RuleIDs)
	}
	// The plan's copy is independent of the parsed rule.
	plans[0].ParallelLoad.Boundaries[0][0] = "x"
	if m.settings[0].parallel.Boundaries[0][0] != "1000" {
		t.Error("Plan shares boundaries with the parsed document")
	}

	// A range column the table lacks, or a float one, fails the plan.
	bad, err := Parse(doc(selAll, ts("3", `{"schema-name":"hr","table-name":"employees"}`, `"parallel-load":{"type":"ranges","columns":["salary"],"boundaries":[["1"]]}`)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Plan(tables); !isRuleErr(err, "3", "not a column") {
		t.Errorf("missing range column: %v", err)
	}
	tables[0].Columns = append(tables[0].Columns, record.Column{Name: "salary", Type: record.Type{Kind: record.KindFloat64}})
	if _, err := bad.Plan(tables); !isRuleErr(err, "3", "floating-point") {
		t.Errorf("float range column: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isRuleErr(err error, id, reason string) bool {
	var me *Error
	return errors.As(err, &me) && me.RuleID == id && strings.Contains(me.Reason, reason)
}
