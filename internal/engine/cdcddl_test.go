package engine

import (
	"fmt"
	"testing"

	"github.com/godwit-dms/godwit/internal/record"
)

func TestDiffShapes(t *testing.T) {
	col := func(name, native string) record.Column {
		return record.Column{Name: name, Type: record.Type{Kind: record.KindInt32, Native: native}}
	}
	table := func(cols ...record.Column) *record.Table { return &record.Table{Schema: "s", Name: "t", Columns: cols} }
	id, a, b := col("id", "integer"), col("a", "integer"), col("b", "integer")
	text := func(name string) record.Column {
		return record.Column{Name: name, Type: record.Type{Kind: record.KindText, Native: "text"}}
	}
	cases := []struct {
		name     string
		old, new *record.Table
		want     string
	}{
		{"same", table(id, a), table(id, a), "[]"},
		{"add last", table(id, a), table(id, a, b), "[ADD COLUMN b integer]"},
		{"drop middle", table(id, a, b), table(id, b), "[DROP COLUMN a]"},
		{"rename in place", table(id, a, b), table(id, col("a2", "integer"), b), "[RENAME COLUMN a TO a2]"},
		{"rename needs the same type", table(id, a, b), table(id, text("a2"), b), "[DROP COLUMN a ADD COLUMN a2 text]"},
		{"drop and add elsewhere", table(id, a, b), table(id, b, col("c", "integer")), "[DROP COLUMN a ADD COLUMN c integer]"},
		{"retype", table(id, a), table(id, text("a")), "[ALTER COLUMN a TYPE text]"},
		{"two renames", table(id, a, b), table(id, col("x", "integer"), col("y", "integer")), "[RENAME COLUMN a TO x RENAME COLUMN b TO y]"},
	}
	for _, tc := range cases {
		got := fmt.Sprint(diffShapes(tc.old, tc.new))
		if got != tc.want {
			t.Errorf("%s: diffShapes = %s, want %s", tc.name, got, tc.want)
		}
		if sameShape(tc.old, tc.new) != (tc.want == "[]") {
			t.Errorf("%s: sameShape = %v", tc.name, !(tc.want == "[]"))
		}
	}
}
