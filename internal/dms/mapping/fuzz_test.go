package mapping

import (
	"errors"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// FuzzParse: any document parses or fails with *Error, and whatever parses
// can be planned and applied to a row without panicking.
func FuzzParse(f *testing.F) {
	f.Add(specExample)
	f.Add(`{"rules":[]}`)
	f.Add(`{"rules":[{"rule-type":"selection","rule-id":1,"rule-name":"x","object-locator":{"schema-name":"%","table-name":"[a-z]_%"},"rule-action":"include","filters":[{"filter-type":"source","column-name":"id","filter-conditions":[{"filter-operator":"between","start-value":"1","end-value":"9"}]}]}]}`)
	f.Add(doc(selAll, tr("2", "column", "add-column", `{"schema-name":"%","table-name":"%"}`,
		`"value":"x","expression":"CASE WHEN $id > 1 THEN upper($name) || '-' || substr($name, -2) ELSE datetime('now', '+1 day') END","data-type":{"type":"string","length":20}`)))
	f.Add(doc(selAll, tr("2", "column", "add-before-image-columns", `{"schema-name":"hr","table-name":"%"}`, `"before-image-def":{"column-filter":"all"}`),
		tr("3", "table", "define-primary-key", `{"schema-name":"hr","table-name":"t"}`, `"primary-key-def":{"name":"k","columns":["name"]}`),
		tr("4", "column", "data-masking-digits-randomize", `{"schema-name":"%","table-name":"%","column-name":"%"}`, ""),
		tr("5", "column", "change-data-type", `{"schema-name":"%","table-name":"%","column-name":"id"}`, `"data-type":{"type":"string"}`)))
	f.Add(doc(selAll, ts("3", `{"schema-name":"hr","table-name":"t"}`, `"parallel-load":{"type":"ranges","columns":["id"],"boundaries":[["1"],[2]]},"lob-settings":{"mode":"limited","bulk-max-size":1}`)))
	f.Add(`{"rules":[{"rule-type":"selection","rule-id":"1"`)
	f.Add(`null`)
	tables := []*record.Table{
		tbl("hr", "t", []string{"id"}, col("id", record.KindInt64), col("name", record.KindString), col("at", record.KindTimestamp)),
		tbl("hr", "t_2", nil, col("id", record.KindInt32), col("name", record.KindText)),
	}
	f.Fuzz(func(t *testing.T, d string) {
		m, err := Parse(d)
		if err != nil {
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("error %T is not *Error", err)
			}
			return
		}
		plans, err := m.Plan(tables)
		if err != nil {
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("Plan error %T is not *Error", err)
			}
			return
		}
		for _, p := range plans {
			row := make(record.Row, len(p.SourceColumns))
			for i, name := range p.SourceColumns {
				switch p.Source.Column(name).Type.Kind {
				case record.KindInt64, record.KindInt32:
					row[i] = int64(42)
				case record.KindTimestamp:
					row[i] = time.Unix(1700000000, 0).UTC()
				default:
					row[i] = "n4me"
				}
			}
			_, _ = p.Transform(row, RowMeta{Timestamp: time.Unix(1, 0), Before: row})
		}
	})
}

// FuzzExpr: the expression parser and evaluator never panic.
func FuzzExpr(f *testing.F) {
	for _, s := range []string{"$a || 'x'", "CASE WHEN $n > 1 THEN 1 ELSE 2 END", "substr($a, -3, 2)", "strftime('%Y %f', $ts, '+1 month')",
		"cast($s as integer) % 0", "$n << 70", "round($f, 40)", "datetime(-1, 'unixepoch')", "'a' LIKE '%%_' ESCAPE '%'", "date('now', 'weekday 9')"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, _ = evalExpr(t, src, RowMeta{Operation: "DELETE"})
	})
}
