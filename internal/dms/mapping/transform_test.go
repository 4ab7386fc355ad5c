package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

func TestAddColumnTransform(t *testing.T) {
	loc := `{"schema-name":"hr","table-name":"employees"}`
	d := doc(sel("1", "include", "hr", "emp%", ""),
		tr("2", "column", "add-column", loc, `"value":"full_name","expression":"$first_name || ' ' || upper($last_name)","data-type":{"type":"string","length":50}`),
		tr("3", "column", "add-column", loc, `"value":"band","expression":"CASE WHEN $salary >= 5000 THEN 'high' WHEN $salary IS NULL THEN 'unknown' ELSE 'low' END","data-type":{"type":"string","length":10}`),
		tr("4", "column", "add-column", loc, `"value":"salary_k","expression":"round($salary / 1000, 1)","data-type":{"type":"numeric","precision":10,"scale":1}`),
		tr("5", "column", "add-column", loc, `"value":"bonus","expression":"$dept_id * 100 + 1","data-type":{"type":"int4"}`),
		tr("6", "column", "add-column", `{"schema-name":"hr","table-name":"emp%"}`, `"value":"src","expression":"$AR_M_SOURCE_SCHEMA || '.' || $AR_M_SOURCE_TABLE_NAME","data-type":{"type":"string","length":100}`),
		tr("7", "column", "add-column", `{"schema-name":"hr","table-name":"%"}`, `"value":"op","expression":"$AR_H_OPERATION","data-type":{"type":"string","length":10}`),
		tr("8", "column", "add-column", loc, `"value":"loaded_at","expression":"$AR_H_TIMESTAMP","data-type":{"type":"datetime","precision":6}`),
		tr("9", "column", "add-column", loc, `"value":"no_expr","data-type":{"type":"int8"}`),
		tr("10", "column", "add-column", loc, `"value":"hired_next","expression":"date($hired, '+1 day')","data-type":{"type":"date"}`),
		tr("11", "column", "add-column", loc, `"value":"full_name","expression":"'loses to rule 2'","data-type":{"type":"string"}`),
		tr("12", "column", "add-column", loc, `"value":"is_new","expression":"$hired > '2024-01-01'","data-type":{"type":"boolean"}`),
		tr("13", "column", "remove-column", `{"schema-name":"hr","table-name":"employees","column-name":"first_name"}`, ""),
	)
	plans := mustPlan(t, d, hrTables()...)
	emp := plans[1]
	if emp.Source.Name != "employees" {
		t.Fatalf("plans %s", names(plans))
	}
	wantCols := "id,last_name,salary,dept_id,photo,hired,full_name,band,salary_k,bonus,src,op,loaded_at,no_expr,hired_next,is_new"
	if targetCols(emp) != wantCols {
		t.Fatalf("columns %s\nwant    %s", targetCols(emp), wantCols)
	}
	// first_name is removed from the target but the expression still reads it.
	if strings.Join(emp.SourceColumns, ",") != "id,first_name,last_name,salary,dept_id,photo,hired" {
		t.Errorf("SourceColumns %v", emp.SourceColumns)
	}
	c := emp.Columns[6]
	if c.Source != "" || c.Expression == "" || !c.Nullable || c.Type.Kind != record.KindString || c.Type.Length != 50 {
		t.Errorf("add-column plan %+v", c)
	}
	if contains(emp.RuleIDs, "11") || !contains(emp.RuleIDs, "13") {
		t.Errorf("RuleIDs %v", emp.RuleIDs)
	}
	load := time.Date(2025, 5, 6, 7, 8, 9, 123456000, time.UTC)
	hired := mustDate(t, "2024-06-30")
	row, err := emp.Transform(record.Row{int64(1), "Ada", "Lovelace", "5200.00", int64(3), []byte{9}, hired}, RowMeta{Operation: "INSERT", Timestamp: load})
	if err != nil {
		t.Fatal(err)
	}
	want := record.Row{int64(1), "Lovelace", "5200.00", int64(3), []byte{9}, hired,
		"Ada LOVELACE", "high", "5.2", int64(301), "hr.employees", "INSERT", load, nil, mustDate(t, "2024-07-01"), true}
	for i := range want {
		if !valueEqual(row[i], want[i]) {
			t.Errorf("%s = %#v, want %#v", emp.Columns[i].Name, row[i], want[i])
		}
	}
	// NULL handling: NULL propagates through || and arithmetic; CASE sees it.
	row, err = emp.Transform(record.Row{int64(2), nil, "x", nil, nil, nil, nil}, RowMeta{})
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range map[string]any{"full_name": nil, "band": "unknown", "salary_k": nil, "bonus": nil, "op": "INSERT", "loaded_at": nil, "hired_next": nil, "is_new": nil} {
		for i, c := range emp.Columns {
			if c.Name == name && row[i] != w {
				t.Errorf("NULL row: %s = %#v, want %#v", name, row[i], w)
			}
		}
	}
	// The wildcard add-column applies to emp_history too, reading its own metadata.
	hist := plans[0]
	row, err = hist.Transform(record.Row{int64(1), load, "n"}, RowMeta{Operation: "UPDATE"})
	if err != nil || targetCols(hist) != "emp_id,changed,note,src,op" || row[3] != "hr.emp_history" || row[4] != "UPDATE" {
		t.Errorf("emp_history %s %v %v", targetCols(hist), row, err)
	}
	// A result that doesn't fit the column type fails the row.
	bad := mustPlan(t, doc(sel("1", "include", "hr", "departments", ""),
		tr("2", "column", "add-column", `{"schema-name":"hr","table-name":"departments"}`, `"value":"x","expression":"'abc' || $id","data-type":{"type":"int4"}`)), hrTables()...)[0]
	if _, err := bad.Transform(record.Row{int64(1), "n"}, RowMeta{}); err == nil || !strings.Contains(err.Error(), "column x") {
		t.Errorf("bad result: %v", err)
	}
	// An expression naming a column the table lacks fails the plan with the rule id.
	_, err = mustParse(t, doc(sel("1", "include", "hr", "%", ""),
		tr("2", "column", "add-column", `{"schema-name":"hr","table-name":"%"}`, `"value":"x","expression":"$first_name","data-type":{"type":"string"}`))).Plan(hrTables())
	if !isRuleErr(err, "2", "no column first_name") {
		t.Errorf("unknown column: %v", err)
	}
}

func TestTransformChecks(t *testing.T) {
	p := mustPlan(t, doc(sel("1", "include", "hr", "departments", "")), hrTables()...)[0]
	if _, err := p.Transform(record.Row{int64(1)}, RowMeta{}); err == nil {
		t.Error("short row accepted")
	}
	if _, err := (&TablePlan{Columns: []ColumnPlan{{Name: "x"}}}).Transform(nil, RowMeta{}); err == nil {
		t.Error("hand-made plan accepted")
	}
	src := record.Row{int64(1), "n"}
	row, err := p.Transform(src, RowMeta{})
	if err != nil || &row[0] == &src[0] {
		t.Error("Transform must return a new row")
	}
}

func TestDataMasking(t *testing.T) {
	loc := func(c string) string {
		return `{"schema-name":"crm","table-name":"customers","column-name":"` + c + `"}`
	}
	customers := tbl("crm", "customers", []string{"id"},
		col("id", record.KindInt64), col("passport", record.KindString), col("phone", record.KindString),
		col("email", record.KindString), col("card", record.KindString), col("score", record.KindInt32),
		record.Column{Name: "code", Type: record.Type{Kind: record.KindString, Length: 12}, Nullable: true},
		col("balance", record.KindNumeric))
	d := doc(sel("1", "include", "crm", "%", ""),
		tr("2", "column", "data-masking-digits-mask", loc("passport"), `"value":"#"`),
		tr("3", "column", "data-masking-digits-mask", loc("phone"), ""),
		tr("4", "column", "data-masking-hash-mask", loc("email"), ""),
		tr("5", "column", "data-masking-digits-randomize", loc("card"), ""),
		tr("6", "column", "data-masking-digits-randomize", loc("score"), ""),
		tr("7", "column", "data-masking-hash-mask", loc("code"), ""),
		tr("8", "column", "data-masking-digits-randomize", loc("balance"), ""),
		tr("9", "column", "data-masking-digits-mask", loc("passport"), `"value":"?"`), // loses to rule 2
		tr("10", "column", "rename", loc("email"), `"value":"email_hash"`),            // composes with masking
		tr("11", "column", "add-before-image-columns", `{"schema-name":"crm","table-name":"customers"}`, `"before-image-def":{"column-filter":"all"}`),
	)
	p := mustPlan(t, d, customers)[0]
	if p.Columns[3].Name != "email_hash" || strings.Join(p.Columns[3].Masks, ",") != "data-masking-hash-mask" {
		t.Errorf("email column %+v", p.Columns[3])
	}
	if contains(p.RuleIDs, "9") {
		t.Errorf("RuleIDs %v", p.RuleIDs)
	}
	src := record.Row{int64(1), "C6BGJ56669K", "+1 (555) 010-9999", "ada@example.com", "4111-1111-1111-1111", int64(742), "ABC", "-1234.50"}
	row, err := p.Transform(src, RowMeta{Before: src})
	if err != nil {
		t.Fatal(err)
	}
	if row[1] != "C#BGJ#####K" {
		t.Errorf("passport %v", row[1])
	}
	if row[2] != "+* (***) ***-****" {
		t.Errorf("phone %v", row[2])
	}
	sum := sha256.Sum256([]byte("ada@example.com"))
	if row[3] != hex.EncodeToString(sum[:]) {
		t.Errorf("email %v", row[3])
	}
	if s := row[4].(string); !regexp.MustCompile(`^\d{4}-\d{4}-\d{4}-\d{4}$`).MatchString(s) {
		t.Errorf("card %v", s)
	}
	if n := row[5].(int64); n < 100 || n > 999 {
		t.Errorf("score %v keeps three digits", n)
	}
	sum = sha256.Sum256([]byte("ABC"))
	if row[6] != hex.EncodeToString(sum[:])[:12] {
		t.Errorf("code %v is the hash cut to the column length", row[6])
	}
	if s := row[7].(string); !regexp.MustCompile(`^-[1-9]\d{3}\.\d{2}$`).MatchString(s) {
		t.Errorf("balance %v", s)
	}
	// Before-images are masked too.
	if row[9] != "C#BGJ#####K" || row[11] != row[3] {
		t.Errorf("before-images %v %v", row[9], row[11])
	}
	// NULL stays NULL.
	row, err = p.Transform(record.Row{int64(2), nil, nil, nil, nil, nil, nil, nil}, RowMeta{})
	if err != nil || row[1] != nil || row[3] != nil || row[5] != nil {
		t.Errorf("NULL row %v %v", row, err)
	}
	// Digits and hash masks need a string column.
	_, err = mustParse(t, doc(sel("1", "include", "crm", "%", ""), tr("2", "column", "data-masking-hash-mask", loc("score"), ""))).Plan([]*record.Table{customers})
	if !isRuleErr(err, "2", "needs a string column") {
		t.Errorf("hash on int: %v", err)
	}
	// ... unless change-data-type makes it one.
	p = mustPlan(t, doc(sel("1", "include", "crm", "%", ""),
		tr("2", "column", "data-masking-digits-mask", loc("score"), ""),
		tr("3", "column", "change-data-type", loc("score"), `"data-type":{"type":"string","length":10}`)), customers)[0]
	row, err = p.Transform(src, RowMeta{})
	if err != nil || row[5] != "***" {
		t.Errorf("masked int as string: %v %v", row[5], err)
	}
}

// Passthrough holds only where Transform returns every value as it is, in
// its place: renames keep it, anything that moves, drops, adds, converts
// or masks a value does not.
func TestPassthrough(t *testing.T) {
	dept := `{"schema-name":"hr","table-name":"departments"}`
	col := func(c string) string {
		return `{"schema-name":"hr","table-name":"departments","column-name":"` + c + `"}`
	}
	for _, c := range []struct {
		name  string
		rules []string
		want  bool
	}{
		{"no transformation", nil, true},
		{"renamed table and column", []string{tr("2", "table", "rename", dept, `"value":"d"`), tr("3", "column", "rename", col("name"), `"value":"title"`)}, true},
		{"removed column", []string{tr("2", "column", "remove-column", col("name"), "")}, false},
		{"added column", []string{tr("2", "column", "add-column", dept, `"value":"x","expression":"1","data-type":{"type":"int4"}`)}, false},
		{"changed data type", []string{tr("2", "column", "change-data-type", col("id"), `"data-type":{"type":"string","length":20}`)}, false},
		{"masked column", []string{tr("2", "column", "data-masking-hash-mask", col("name"), "")}, false},
	} {
		d := doc(append([]string{sel("1", "include", "hr", "departments", "")}, c.rules...)...)
		plans := mustPlan(t, d, hrTables()...)
		if len(plans) != 1 {
			t.Fatalf("%s: plans %s", c.name, names(plans))
		}
		if got := plans[0].Passthrough(); got != c.want {
			t.Errorf("%s: Passthrough %v, want %v", c.name, got, c.want)
		}
	}
}
