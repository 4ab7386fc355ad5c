package validate

import (
	"math"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

func TestDecimal(t *testing.T) {
	equal := [][2]string{{"1.50", "1.5"}, {"1.5000", "+1.5"}, {"0", "-0.000"}, {"100", "1e2"}, {"100", "100.0"},
		{"-0.10", "-.1"}, {"12345678901234567890.5", "12345678901234567890.50"}, {"NaN", "nan"}, {"-Infinity", "-inf"}}
	for _, c := range equal {
		a, ok1 := parseDecimal(c[0])
		b, ok2 := parseDecimal(c[1])
		if !ok1 || !ok2 || !a.equal(b) || a.text() != b.text() || a.cmp(b) != 0 {
			t.Errorf("%s and %s: not equal (%+v %+v)", c[0], c[1], a, b)
		}
	}
	ordered := []string{"-Infinity", "-100", "-1.5", "-0.01", "0", "0.001", "0.01", "1", "1.05", "1.5", "9.99", "10", "1e3", "Infinity", "NaN"}
	for i := range ordered {
		for j := range ordered {
			a, _ := parseDecimal(ordered[i])
			b, _ := parseDecimal(ordered[j])
			if got, want := a.cmp(b), cmpInt(i, j); got != want {
				t.Errorf("cmp(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	for _, bad := range []string{"", "-", ".", "1.2.3", "1e", "abc", "1,5"} {
		if _, ok := parseDecimal(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
	for in, want := range map[string]string{"50": "50", "1.50": "1.5", "0.015": "0.015", "-2.000": "-2", "1e70": "1e70", "1e-70": "1e-70"} {
		d, _ := parseDecimal(in)
		if d.text() != want {
			t.Errorf("text(%s) = %s, want %s", in, d.text(), want)
		}
	}
}

func TestValueEqual(t *testing.T) {
	ts := time.Date(2024, 3, 1, 10, 34, 56, 123456789, time.UTC)
	typ := func(k record.Kind, native string) record.Type { return record.Type{Kind: k, Native: native} }
	for _, c := range []struct {
		name   string
		src    record.Type
		tgt    record.Type
		fold   bool
		a, b   any
		equals bool
	}{
		{"int", typ(record.KindInt64, ""), typ(record.KindInt64, ""), false, int64(5), int64(5), true},
		{"int differs", typ(record.KindInt64, ""), typ(record.KindInt64, ""), false, int64(5), int64(6), false},
		{"int uint", typ(record.KindInt64, ""), typ(record.KindUint64, ""), false, int64(5), uint64(5), true},
		{"uint max", typ(record.KindUint64, ""), typ(record.KindNumeric, ""), false, uint64(math.MaxUint64), "18446744073709551615", true},
		{"numeric scale", typ(record.KindNumeric, ""), typ(record.KindNumeric, ""), false, "1.50", "1.5000", true},
		{"numeric differs", typ(record.KindNumeric, ""), typ(record.KindNumeric, ""), false, "1.50", "1.51", false},
		{"bool tinyint", typ(record.KindBool, ""), typ(record.KindInt16, ""), false, true, int64(1), true},
		{"bool tinyint 0", typ(record.KindBool, ""), typ(record.KindInt16, ""), false, false, int64(0), true},
		{"bool tinyint 2", typ(record.KindBool, ""), typ(record.KindInt16, ""), false, true, int64(2), false},
		{"bool text", typ(record.KindBool, ""), typ(record.KindString, ""), false, true, "true", true},
		{"real widened", typ(record.KindFloat32, ""), typ(record.KindFloat64, ""), false, float64(float32(0.1)), 0.1, true},
		{"real differs", typ(record.KindFloat32, ""), typ(record.KindFloat64, ""), false, float64(float32(0.1)), 0.1001, false},
		{"double ulp", typ(record.KindFloat64, ""), typ(record.KindFloat64, ""), false, 0.3, math.Nextafter(0.3, 1), true},
		{"double 2 ulp", typ(record.KindFloat64, ""), typ(record.KindFloat64, ""), false, 0.3, math.Nextafter(math.Nextafter(0.3, 1), 1), false},
		{"NaN", typ(record.KindFloat64, ""), typ(record.KindFloat64, ""), false, math.NaN(), math.NaN(), true},
		{"timestamptz datetime", typ(record.KindTimestampTZ, ""), typ(record.KindTimestamp, ""), false,
			ts.In(time.FixedZone("x", 7200)), ts.Truncate(time.Microsecond), true},
		{"timestamp differs", typ(record.KindTimestamp, ""), typ(record.KindTimestamp, ""), false, ts, ts.Add(time.Microsecond), false},
		{"date", typ(record.KindDate, ""), typ(record.KindDate, ""), false, ts.Truncate(24 * time.Hour), ts.Truncate(24 * time.Hour), true},
		{"timestamp text", typ(record.KindTimestamp, ""), typ(record.KindString, ""), false, ts, "2024-03-01 10:34:56.123456", true},
		{"time of day", typ(record.KindTime, ""), typ(record.KindTime, ""), false, "10:11:12.5", "10:11:12.500000", true},
		{"json", typ(record.KindJSON, ""), typ(record.KindJSON, ""), false, `{"b": 1, "a": [1, 2.50]}`, `{"a":[1,2.5],"b":1}`, true},
		{"json differs", typ(record.KindJSON, ""), typ(record.KindJSON, ""), false, `{"a": [1, 2]}`, `{"a": [2, 1]}`, false},
		{"json cut", typ(record.KindJSON, ""), typ(record.KindJSON, ""), false, `{"a": `, `{"a": `, true},
		{"uuid", typ(record.KindUUID, ""), typ(record.KindString, ""), false, "a0eebc99-9c0b", "A0EEBC99-9C0B", true},
		{"enum", typ(record.KindEnum, ""), typ(record.KindString, ""), false, "happy", "happy", true},
		{"string exact", typ(record.KindString, ""), typ(record.KindString, ""), false, "Abc", "abc", false},
		{"string fold", typ(record.KindString, ""), typ(record.KindString, ""), true, "Abc ", "aBC", true},
		{"char padding", typ(record.KindString, "character(5)"), typ(record.KindString, "char(5)"), false, "ab   ", "ab", true},
		{"varchar blanks", typ(record.KindString, "character varying(5)"), typ(record.KindString, ""), false, "ab   ", "ab", false},
		{"bytes", typ(record.KindBlob, ""), typ(record.KindBlob, ""), false, []byte{1, 2}, []byte{1, 2}, true},
		{"bytes differ", typ(record.KindBlob, ""), typ(record.KindBlob, ""), false, []byte{1, 2}, []byte{1, 3}, false},
		{"null", typ(record.KindString, ""), typ(record.KindString, ""), false, nil, nil, true},
		{"null and empty", typ(record.KindString, ""), typ(record.KindString, ""), false, nil, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			vc := newValueCmp(c.src, c.tgt, c.fold)
			if got := vc.equal(c.a, c.b); got != c.equals {
				t.Errorf("equal(%#v, %#v) = %v", c.a, c.b, got)
			}
		})
	}
}

// A key value and the text KeyText makes of it match, and the two sides'
// representations of one key match.
func TestNormKey(t *testing.T) {
	ts := time.Date(2024, 3, 1, 10, 0, 0, 5000, time.UTC)
	for _, c := range []struct {
		k    keyCol
		a, b any
	}{
		{keyCol{class: classNumber}, int64(50), "50"},
		{keyCol{class: classNumber}, "1.50", "1.5"},
		{keyCol{class: classNumber}, true, int64(1)},
		{keyCol{class: classNumber}, true, "true"},
		{keyCol{class: classNumber}, uint64(7), int64(7)},
		{keyCol{class: classTime}, ts, "2024-03-01 10:00:00.000005"},
		{keyCol{class: classTime}, ts.In(time.FixedZone("x", 3600)), ts},
		{keyCol{class: classUUID}, "ABC-1", "abc-1"},
		{keyCol{class: classText, padded: true}, "ab  ", "ab"},
		{keyCol{class: classText, tod: true}, "10:00:00.500000", "10:00:00.5"},
	} {
		if x, y := c.k.normKey(c.a), c.k.normKey(c.b); x != y {
			t.Errorf("normKey(%#v) = %q, normKey(%#v) = %q", c.a, x, c.b, y)
		}
	}
	if (keyCol{class: classText}).normKey("a") == (keyCol{class: classText}).normKey("A") {
		t.Error("text keys matched without case")
	}
}

func TestDetailsAndKey(t *testing.T) {
	s := &spec{cols: []column{{name: "NAME", at: 1, tat: 1}, {name: "note", at: 2, tat: 2}}}
	got := s.details(record.Row{int64(1), "it's", nil}, record.Row{int64(1), `a\b`, "x"}, []int{0, 1})
	if want := `[[{'NAME': 'it\'s', 'note': 'NULL'}, {'NAME': 'a\\b', 'note': 'x'}],]`; got != want {
		t.Errorf("details = %s\nwant      %s", got, want)
	}
	if got := keyJSON([]string{"3451491", `a"b`}); got != `{"key": ["3451491", "a\"b"]}` {
		t.Errorf("key = %s", got)
	}
	long := make([]byte, 10000)
	for i := range long {
		long[i] = 'x'
	}
	if d := s.details(record.Row{nil, string(long), nil}, record.Row{nil, "y", nil}, []int{0}); len(d) != detailsMax {
		t.Errorf("details of %d characters", len(d))
	}
}

func TestDeterministicExpressions(t *testing.T) {
	for expr, want := range map[string]bool{
		"$first || ' ' || $last":           true,
		"upper($name)":                     true,
		"$AR_H_TIMESTAMP":                  false,
		"datetime('now')":                  false,
		"operation_indicator('D','U','I')": false,
		"random()":                         false,
	} {
		if got := deterministic(expr); got != want {
			t.Errorf("deterministic(%q) = %v", expr, got)
		}
	}
}
