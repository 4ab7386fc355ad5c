package mapping

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

func mustDate(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func valueEqual(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return a == b
}

var exprTable = tbl("shop", "items", []string{"n"},
	col("a", record.KindString), col("n", record.KindInt64), col("f", record.KindFloat64),
	col("s", record.KindNumeric), col("z", record.KindString), col("d", record.KindDate),
	col("ts", record.KindTimestamp), col("b", record.KindBool), col("u", record.KindUint64),
	col("bin", record.KindBytes), col("txt", record.KindString))

var exprRow = record.Row{"Hello", int64(10), 2.5, "12.50", nil, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
	time.Date(2024, 2, 29, 13, 45, 30, 123000000, time.UTC), true, uint64(18446744073709551615), []byte("AB"), "42"}

// evalExpr parses, binds and evaluates an expression against exprTable.
func evalExpr(t *testing.T, src string, meta RowMeta) (any, error) {
	t.Helper()
	n, err := parseExpr(src)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	b := &binder{column: func(name string) (*record.Column, bool) {
		c := exprTable.Column(name)
		return c, c != nil
	}}
	bound, err := bind(n, b)
	if err != nil {
		return nil, err
	}
	kinds := make([]record.Kind, len(exprTable.Columns))
	for i, c := range exprTable.Columns {
		kinds[i] = c.Type.Kind
	}
	for _, r := range b.refs {
		for i, c := range exprTable.Columns {
			if c.Name == r.name {
				r.idx = i
			}
		}
	}
	c := &evalCtx{row: exprRow, kinds: kinds, meta: &meta, schema: exprTable.Schema, table: exprTable.Name,
		now: time.Date(2025, 6, 15, 8, 30, 0, 0, time.UTC)}
	return bound.eval(c)
}

func TestExpressions(t *testing.T) {
	load := time.Date(2025, 1, 2, 3, 4, 5, 600000000, time.UTC)
	cases := []struct {
		expr string
		want any
	}{
		// literals
		{"1", int64(1)},
		{"1.5", 1.5},
		{".5", 0.5},
		{"1e3", 1000.0},
		{"0x1F", int64(31)},
		{"'it''s'", "it's"},
		{`"dq"`, "dq"},
		{"NULL", nil},
		{"TRUE", int64(1)},
		{"x'4142'", []byte("AB")},
		// columns
		{"$a", "Hello"},
		{"$n", int64(10)},
		{"$s", 12.5}, // NUMERIC affinity
		{"$z", nil},
		{"$d", "2024-02-29"},
		{"$ts", "2024-02-29 13:45:30.123"},
		{"$b", int64(1)},
		{"$u", float64(18446744073709551615)},
		{"$bin", []byte("AB")},
		// string operations
		{"$a || ' ' || 'World'", "Hello World"},
		{"$a || $z", nil},
		{"$a || $n", "Hello10"},
		{"$n || 1.0", "101.0"},
		{"lower($a)", "hello"},
		{"upper($a)", "HELLO"},
		{"upper('straße')", "STRAßE"},
		{"length($a)", int64(5)},
		{"length('ü')", int64(1)},
		{"length($bin)", int64(2)},
		{"length($z)", nil},
		{"substr($a, 2, 3)", "ell"},
		{"substr($a, -3)", "llo"},
		{"substr($a, 0, 2)", "H"},
		{"substr($a, 2, -1)", "H"},
		{"substr($a, 10)", ""},
		{"substring('abc', 2)", "bc"},
		{"trim('  x  ')", "x"},
		{"ltrim('xxaxx', 'x')", "axx"},
		{"rtrim('xxaxx', 'x')", "xxa"},
		{"replace($a, 'l', 'L')", "HeLLo"},
		{"replace($a, '', 'L')", "Hello"},
		{"instr($a, 'll')", int64(3)},
		{"instr($a, 'z')", int64(0)},
		{"instr('üab', 'a')", int64(2)},
		{"hex('AB')", "4142"},
		{"typeof($f)", "real"},
		{"typeof($z)", "null"},
		{"concat($a, $z, '!')", "Hello!"},
		{"concat_ws('-', 'a', NULL, 'b')", "a-b"},
		{"hash_sha256('abc')", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"$a LIKE 'he%'", int64(1)},
		{"$a NOT LIKE 'he_lo'", int64(0)},
		{"'50%' LIKE '50!%' ESCAPE '!'", int64(1)},
		{"'500' LIKE '50!%' ESCAPE '!'", int64(0)},
		// arithmetic
		{"$n + 5", int64(15)},
		{"$n - 15", int64(-5)},
		{"$n * $f", 25.0},
		{"$n / 3", int64(3)},
		{"$n / 4.0", 2.5},
		{"$n % 3", int64(1)},
		{"5.5 % 2", 1.0},
		{"$n / 0", nil},
		{"$n % 0", nil},
		{"-$n", int64(-10)},
		{"- -$n", int64(10)},
		{"+$a", "Hello"},
		{"'3abc' + 1", int64(4)},
		{"'abc' * 2", int64(0)},
		{"$txt + 1", int64(43)},
		{"9223372036854775807 + 1", 9.223372036854775808e18},
		{"$z + 1", nil},
		{"2 + 3 * 4", int64(14)},
		{"(2 + 3) * 4", int64(20)},
		{"1 << 4 | 1", int64(17)},
		{"~0", int64(-1)},
		{"abs(-3)", int64(3)},
		{"abs(-2.5)", 2.5},
		{"abs($z)", nil},
		{"round(2.5)", 3.0},
		{"round(-2.5)", -3.0},
		{"round(3.14159, 2)", 3.14},
		{"round($s)", 13.0},
		{"min(3, 1, 2)", int64(1)},
		{"max('a', 'b')", "b"},
		{"cast('12.7' as integer)", int64(12)},
		{"cast($n as text)", "10"},
		{"cast('3.0' as numeric)", int64(3)},
		{"cast(1 as real)", 1.0},
		{"cast('x' as blob)", []byte("x")},
		{"cast($n as varchar(10))", "10"},
		// comparison and logic
		{"$n = 10", int64(1)},
		{"$n == '10'", int64(1)}, // numeric column affinity converts the text
		{"$txt = 42", int64(1)},  // text column affinity converts the number
		{"'10' = 10", int64(0)},  // no affinity: text is never a number
		{"$n <> 10", int64(0)},
		{"$n != 11", int64(1)},
		{"$n > 9 AND $n < 11", int64(1)},
		{"$n >= 11 OR $n <= 9", int64(0)},
		{"NOT $n = 10", int64(0)},
		{"$z = NULL", nil},
		{"$z IS NULL", int64(1)},
		{"$a IS NOT NULL", int64(1)},
		{"$z ISNULL", int64(1)},
		{"$z NOTNULL", int64(0)},
		{"$a NOT NULL", int64(1)},
		{"$z IS $z", int64(1)},
		{"NULL AND 0", int64(0)},
		{"NULL AND 1", nil},
		{"NULL OR 1", int64(1)},
		{"NULL OR 0", nil},
		{"NOT NULL", nil},
		{"'a' < 'b'", int64(1)},
		{"1 < 'a'", int64(1)},
		{"$n IN (1, 10, 100)", int64(1)},
		{"$n IN (1, NULL)", nil},
		{"$n NOT IN (1, 2)", int64(1)},
		{"$n IN ()", int64(0)},
		{"$n BETWEEN 5 AND 10", int64(1)},
		{"$n NOT BETWEEN 5 AND 10", int64(0)},
		{"$z BETWEEN 1 AND 2", nil},
		{"5 BETWEEN 1 AND NULL", nil},
		{"5 BETWEEN 6 AND NULL", int64(0)},
		{"5 NOT BETWEEN 6 AND NULL", int64(1)},
		{"5 NOT BETWEEN 1 AND NULL", nil},
		{"$txt BETWEEN 40 AND 50", int64(1)},
		// CASE
		{"CASE WHEN $n > 5 THEN 'big' ELSE 'small' END", "big"},
		{"CASE WHEN $n > 50 THEN 'big' WHEN $n > 5 THEN 'mid' END", "mid"},
		{"CASE WHEN $n > 50 THEN 'big' END", nil},
		{"CASE $a WHEN 'Hi' THEN 1 WHEN 'Hello' THEN 2 ELSE 3 END", int64(2)},
		{"CASE $z WHEN NULL THEN 1 ELSE 0 END", int64(0)},
		{"case when $z is null then 'none' else $z end", "none"},
		// NULL handling
		{"ifnull($z, 'dflt')", "dflt"},
		{"ifnull($a, 'dflt')", "Hello"},
		{"coalesce($z, NULL, $n)", int64(10)},
		{"coalesce($z, NULL)", nil},
		{"nullif($n, 10)", nil},
		{"nullif($n, 11)", int64(10)},
		{"iif($n > 5, 'y', 'n')", "y"},
		// dates and times ('now' is fixed by the test context)
		{"datetime('now')", "2025-06-15 08:30:00"},
		{"datetime()", "2025-06-15 08:30:00"},
		{"CURRENT_TIMESTAMP", "2025-06-15 08:30:00"},
		{"date('now')", "2025-06-15"},
		{"time('now')", "08:30:00"},
		{"date($ts)", "2024-02-29"},
		{"date($d, '+1 day')", "2024-03-01"},
		{"date($d, '+1 year')", "2025-03-01"},
		{"date($d, 'start of month', '-1 month')", "2024-01-01"},
		{"date('2024-01-31', '+1 month')", "2024-03-02"},
		{"datetime($ts, '+90 minutes')", "2024-02-29 15:15:30"},
		{"datetime($ts, 'start of day')", "2024-02-29 00:00:00"},
		{"datetime($ts, 'subsec')", "2024-02-29 13:45:30.123"},
		{"date('2024-02-29', 'weekday 0')", "2024-03-03"},
		{"datetime(1700000000, 'unixepoch')", "2023-11-14 22:13:20"},
		{"datetime(2460000.5)", "2023-02-25 00:00:00"},
		{"date('2024-02-29T10:00:00Z')", "2024-02-29"},
		{"time('13:45')", "13:45:00"},
		{"date('not a date')", nil},
		{"date($d, 'next tuesday')", nil},
		{"julianday('2000-01-01 12:00:00')", 2451545.0},
		{"unixepoch('1970-01-02')", int64(86400)},
		{"strftime('%Y/%m/%d %H:%M:%S', $ts)", "2024/02/29 13:45:30"},
		{"strftime('%j %w %u %s', '2024-02-29 00:00:00')", "060 4 4 1709164800"},
		{"strftime('%f', $ts)", "30.123"},
		{"strftime('%F %T %%', $ts)", "2024-02-29 13:45:30 %"},
		{"strftime('%I %p', $ts)", "01 PM"},
		{"strftime('%W', '2024-01-08')", "02"},
		{"strftime('%Q', $ts)", nil},
		// header and metadata columns
		{"$AR_H_OPERATION", "INSERT"},
		{"$AR_H_TIMESTAMP", "2025-01-02 03:04:05.600000"},
		{"$AR_H_CHANGE_SEQ", nil},
		{"$AR_M_SOURCE_SCHEMA || '.' || $AR_M_SOURCE_TABLE_NAME", "shop.items"},
		{"$ar_m_source_table_name", "items"},
		{"operation_indicator('D', 'U', 'I')", "I"},
	}
	for _, c := range cases {
		got, err := evalExpr(t, c.expr, RowMeta{Timestamp: load})
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if !valueEqual(got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.expr, got, c.want)
		}
	}
}

func TestExpressionMeta(t *testing.T) {
	meta := RowMeta{Operation: "DELETE", ChangeSeq: "20250102030405000000000000000000001", StreamPosition: "0/16B3748"}
	for expr, want := range map[string]any{
		"$AR_H_OPERATION":                    "DELETE",
		"$AR_H_CHANGE_SEQ":                   "20250102030405000000000000000000001",
		"$AR_H_STREAM_POSITION":              "0/16B3748",
		"$AR_H_TIMESTAMP":                    nil,
		"$AR_H_USER":                         nil,
		"operation_indicator('D', 'U', 'I')": "D",
	} {
		got, err := evalExpr(t, expr, meta)
		if err != nil || got != want {
			t.Errorf("%s = %#v, %v; want %#v", expr, got, err, want)
		}
	}
	got, _ := evalExpr(t, "operation_indicator('D', 'U', 'I')", RowMeta{Operation: "UPDATE"})
	if got != "U" {
		t.Errorf("update indicator %v", got)
	}
}

func TestExpressionErrors(t *testing.T) {
	for _, src := range []string{
		"", "1 +", "(1", "1)", "'open", "$", "$a $b", "CASE END", "CASE WHEN 1 END", "CASE WHEN 1 THEN 2",
		"cast(1)", "cast(1 as)", "nosuch(1)", "substr('a')", "lower()", "coalesce(1)", "a", "1 BETWEEN 2",
		"1 IN 2", "x'4'", "1e", "12abc", "#", "1 NOT", strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200),
		strings.Repeat("-", 500) + "1", strings.Repeat("NOT ", 500) + "1",
	} {
		if _, err := parseExpr(src); err == nil {
			t.Errorf("parseExpr(%q) succeeded", src)
		}
	}
	if _, err := evalExpr(t, "$nosuch || 'x'", RowMeta{}); err == nil || !strings.Contains(err.Error(), "no column nosuch") {
		t.Errorf("unknown column: %v", err)
	}
	if _, err := evalExpr(t, "$A", RowMeta{}); err == nil {
		t.Error("column names must be case-sensitive")
	}
	if _, err := evalExpr(t, "'a' LIKE 'a' ESCAPE 'xy'", RowMeta{}); err == nil {
		t.Error("two-character ESCAPE accepted")
	}
}

func TestNowIsLive(t *testing.T) {
	n, err := parseExpr("datetime('now')")
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().UTC().Truncate(time.Second)
	got, err := n.eval(&evalCtx{meta: &RowMeta{}})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := time.Parse("2006-01-02 15:04:05", got.(string))
	if err != nil || ts.Before(before) || ts.After(time.Now().UTC()) {
		t.Errorf("datetime('now') = %v (%v)", got, err)
	}
}
