package mapping

import "testing"

func TestPatternMatch(t *testing.T) {
	cases := []struct {
		pat, name string
		want      bool
	}{
		{"%", "", true},
		{"%", "anything", true},
		{"emp%", "employees", true},
		{"emp%", "emp", true},
		{"emp%", "Employees", false}, // case-sensitive
		{"%s", "employees", true},
		{"%ploy%", "employees", true},
		{"e%e%s", "employees", true},
		{"e%x%s", "employees", false},
		{"_", "a", true},
		{"_", "", false},
		{"_", "ab", false},
		{"t_1", "tx1", true},
		{"t_1", "t_1", true},
		{"t[_]1", "t_1", true},
		{"t[_]1", "tx1", false},
		{"[ab]x", "ax", true},
		{"[ab]x", "bx", true},
		{"[ab]x", "cx", false},
		{"t[a-d]", "tc", true},
		{"t[a-d]", "td", true},
		{"t[a-d]", "te", false},
		{"t[a-d0-9]%", "t7_rest", true},
		{"[%]", "%", true},
		{"[%]", "x", false},
		{"a[", "a[", true}, // unclosed bracket is literal
		{"a[]", "a[]", true},
		{"%%%", "x", true},
		{"%a%a%a%a%a%a%b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"ü_", "üx", true},
		{"hr", "hr", true},
		{"hr", "hr2", false},
	}
	for _, c := range cases {
		if got := compilePattern(c.pat).match(c.name); got != c.want {
			t.Errorf("%q match %q = %v, want %v", c.pat, c.name, got, c.want)
		}
	}
}

func TestExactPattern(t *testing.T) {
	p := exactPattern("order_items")
	if !p.match("order_items") || p.match("orderXitems") {
		t.Fatal("exact patterns must match literally")
	}
	if compilePattern("order_items").match("orderXitems") != true {
		t.Fatal("_ is a wildcard in ordinary patterns")
	}
}
