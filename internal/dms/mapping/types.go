package mapping

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// dmsTypes maps the data-type.type names DMS accepts in table mappings to
// record kinds. int1/uint1 have no one-byte kind and widen to int2; the
// unsigned types widen to the next signed kind, except uint8. The collection
// types (set, list, map, tuple: Cassandra/MongoDB) are carried as JSON text.
var dmsTypes = map[string]record.Kind{
	"bytes":    record.KindBytes,
	"byte":     record.KindBytes,
	"date":     record.KindDate,
	"time":     record.KindTime,
	"datetime": record.KindTimestamp,
	"int1":     record.KindInt16,
	"int2":     record.KindInt16,
	"int4":     record.KindInt32,
	"int8":     record.KindInt64,
	"numeric":  record.KindNumeric,
	"real4":    record.KindFloat32,
	"real8":    record.KindFloat64,
	"string":   record.KindString,
	"wstring":  record.KindString,
	"uint1":    record.KindInt16,
	"uint2":    record.KindInt32,
	"uint4":    record.KindInt64,
	"uint8":    record.KindUint64,
	"blob":     record.KindBlob,
	"clob":     record.KindText,
	"nclob":    record.KindText,
	"boolean":  record.KindBool,
	"set":      record.KindJSON,
	"list":     record.KindJSON,
	"map":      record.KindJSON,
	"tuple":    record.KindJSON,
}

// dataTypeKind resolves a DMS data type name (case-insensitive).
func dataTypeKind(name string) (record.Kind, bool) {
	k, ok := dmsTypes[strings.ToLower(strings.TrimSpace(name))]
	return k, ok
}

// kindMatchesDataType reports whether a column of kind k is selected by an
// object-locator data-type.
func kindMatchesDataType(k record.Kind, name string) bool {
	want, ok := dataTypeKind(name)
	if !ok {
		return false
	}
	switch {
	case k == want:
		return true
	case want == record.KindTimestamp:
		return k == record.KindTimestampTZ
	case want == record.KindString:
		return k == record.KindEnum || k == record.KindUUID
	}
	return false
}

// parseDataType reads a data-type object: {type, length, precision, scale}.
func parseDataType(o obj) (record.Type, *Error) {
	name, ok, err := o.str("type")
	if err != nil {
		return record.Type{}, err
	}
	if !ok || name == "" {
		return record.Type{}, ruleErr(o.id, "%s is required.", o.name("type"))
	}
	k, ok := dataTypeKind(name)
	if !ok {
		return record.Type{}, ruleErr(o.id, "Unsupported data type %q in %s.", name, o.name("type"))
	}
	t := record.Type{Kind: k}
	for _, f := range []struct {
		key string
		dst *int
	}{{"length", &t.Length}, {"precision", &t.Precision}, {"scale", &t.Scale}} {
		n, _, err := o.int(f.key, 0, math.MaxInt32)
		if err != nil {
			return record.Type{}, err
		}
		*f.dst = int(n)
	}
	if k == record.KindNumeric && t.Precision > 0 && t.Scale > t.Precision {
		return record.Type{}, ruleErr(o.id, "%s scale %d is larger than precision %d.", o.path, t.Scale, t.Precision)
	}
	return t, nil
}

// ---- values ---------------------------------------------------------------

// Values inside the expression interpreter are SQLite's storage classes:
// nil (NULL), int64 (INTEGER), float64 (REAL), string (TEXT), []byte (BLOB).

// sqlValue converts a row value of kind k for the interpreter. numeric
// applies SQLite's NUMERIC affinity to exact decimals (KindNumeric text),
// as a DECIMAL column would in SQLite.
func sqlValue(v any, k record.Kind, numeric bool) any {
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint:
		return sqlUint(uint64(x), numeric)
	case uint64:
		return sqlUint(x, numeric)
	case float32:
		return float64(x)
	case float64:
		return x
	case string:
		if numeric && k == record.KindNumeric {
			if n, ok := numberExact(x); ok {
				return n
			}
		}
		return x
	case []byte:
		return x
	case json.RawMessage:
		return string(x)
	case time.Time:
		return formatTime(x, k)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

func sqlUint(u uint64, numeric bool) any {
	if u <= math.MaxInt64 {
		return int64(u)
	}
	if numeric {
		return float64(u)
	}
	return strconv.FormatUint(u, 10)
}

func formatTime(t time.Time, k record.Kind) string {
	t = t.UTC()
	switch k {
	case record.KindDate:
		return t.Format("2006-01-02")
	case record.KindTime:
		return t.Format("15:04:05.999999999")
	}
	return t.Format("2006-01-02 15:04:05.999999999")
}

// text renders an interpreter value as SQLite does for TEXT.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return formatReal(x)
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

// formatReal follows SQLite's "%!.15g": 15 significant digits and always a
// decimal point.
func formatReal(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	s := strconv.FormatFloat(f, 'g', 15, 64)
	if i := strings.IndexByte(s, 'e'); i >= 0 {
		if !strings.Contains(s[:i], ".") {
			s = s[:i] + ".0" + s[i:]
		}
		return s
	}
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// numberPrefix converts text to a number the way SQLite does for
// arithmetic: the longest numeric prefix, 0 when there is none. exact is
// set when the whole text (less surrounding spaces) is the number.
func numberPrefix(s string) (n any, exact bool) {
	t := strings.TrimLeft(s, " \t\n\r\f\v")
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		i++
	}
	digits := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
		digits++
	}
	isReal := false
	if i < len(t) && t[i] == '.' {
		j := i + 1
		frac := 0
		for j < len(t) && t[j] >= '0' && t[j] <= '9' {
			j++
			frac++
		}
		if digits+frac > 0 {
			i = j
			digits += frac
			isReal = true
		}
	}
	if digits == 0 {
		return int64(0), false
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		j := i + 1
		if j < len(t) && (t[j] == '+' || t[j] == '-') {
			j++
		}
		if j < len(t) && t[j] >= '0' && t[j] <= '9' {
			for j < len(t) && t[j] >= '0' && t[j] <= '9' {
				j++
			}
			i = j
			isReal = true
		}
	}
	num := t[:i]
	exact = strings.TrimRight(t[i:], " \t\n\r\f\v") == ""
	if !isReal {
		if v, err := strconv.ParseInt(num, 10, 64); err == nil {
			return v, exact
		}
	}
	f, _ := strconv.ParseFloat(num, 64)
	return f, exact
}

// numberExact converts text that is entirely a number.
func numberExact(s string) (any, bool) {
	n, exact := numberPrefix(s)
	return n, exact
}

// numeric converts an interpreter value to int64 or float64 for arithmetic.
func numeric(v any) any {
	switch x := v.(type) {
	case int64, float64:
		return x
	case string:
		n, _ := numberPrefix(x)
		return n
	case []byte:
		n, _ := numberPrefix(string(x))
		return n
	}
	return int64(0)
}

func toFloat(v any) float64 {
	switch x := numeric(v).(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// ---- conversion to a column type -------------------------------------------

// convertValue converts a row value of kind from to column type to (for
// change-data-type).
func convertValue(v any, from record.Kind, to record.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t, ok := v.(time.Time); ok {
		switch to.Kind {
		case record.KindDate:
			t = t.UTC()
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
		case record.KindTimestamp, record.KindTimestampTZ:
			return t.UTC(), nil
		}
	}
	return fromSQL(sqlValue(v, from, false), to)
}

// fromSQL converts an interpreter value to the Go type of column type t.
func fromSQL(v any, t record.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := func() error {
		s := text(v)
		if len(s) > 64 {
			s = s[:64] + "..."
		}
		return fmt.Errorf("cannot convert %q to %s", s, t.Kind)
	}
	switch t.Kind {
	case record.KindBool:
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case float64:
			return x != 0, nil
		}
		switch strings.ToLower(strings.TrimSpace(text(v))) {
		case "1", "t", "true", "y", "yes", "on":
			return true, nil
		case "0", "f", "false", "n", "no", "off":
			return false, nil
		}
		return nil, bad()
	case record.KindInt16, record.KindInt32, record.KindInt64:
		n, ok := toInt64(v)
		if !ok {
			return nil, bad()
		}
		lim := int64(math.MaxInt64)
		switch t.Kind {
		case record.KindInt16:
			lim = math.MaxInt16
		case record.KindInt32:
			lim = math.MaxInt32
		}
		if n > lim || n < -lim-1 {
			return nil, fmt.Errorf("value %d out of range for %s", n, t.Kind)
		}
		return n, nil
	case record.KindUint64:
		if s, ok := v.(string); ok {
			if u, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64); err == nil {
				return u, nil
			}
		}
		if f, ok := v.(float64); ok && f >= 0 && f < math.MaxUint64 {
			return uint64(f), nil
		}
		n, ok := toInt64(v)
		if !ok || n < 0 {
			return nil, bad()
		}
		return uint64(n), nil
	case record.KindNumeric:
		switch x := v.(type) {
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			if math.IsInf(x, 0) || math.IsNaN(x) {
				return nil, bad()
			}
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		}
		s := strings.TrimSpace(text(v))
		if isDecimal(s) {
			return s, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return strconv.FormatFloat(f, 'f', -1, 64), nil
		}
		return nil, bad()
	case record.KindFloat32, record.KindFloat64:
		var f float64
		switch x := v.(type) {
		case int64:
			f = float64(x)
		case float64:
			f = x
		default:
			var err error
			if f, err = strconv.ParseFloat(strings.TrimSpace(text(v)), 64); err != nil {
				return nil, bad()
			}
		}
		if t.Kind == record.KindFloat32 {
			f = float64(float32(f))
		}
		return f, nil
	case record.KindBytes, record.KindBlob:
		if b, ok := v.([]byte); ok {
			return b, nil
		}
		return []byte(text(v)), nil
	case record.KindDate:
		tm, ok := parseTimestamp(text(v))
		if !ok {
			return nil, bad()
		}
		return time.Date(tm.Year(), tm.Month(), tm.Day(), 0, 0, 0, 0, time.UTC), nil
	case record.KindTimestamp, record.KindTimestampTZ:
		tm, ok := parseTimestamp(text(v))
		if !ok {
			return nil, bad()
		}
		return tm, nil
	case record.KindTime:
		s := strings.TrimSpace(text(v))
		for _, layout := range []string{"15:04:05", "15:04"} {
			if tm, err := time.Parse(layout, s); err == nil {
				return tm.Format("15:04:05.999999999"), nil
			}
		}
		if tm, ok := parseTimestamp(s); ok {
			return tm.Format("15:04:05.999999999"), nil
		}
		return nil, bad()
	case record.KindUUID:
		return strings.ToLower(text(v)), nil
	}
	// String, Text, JSON, Enum, Array, Interval, Unknown: text.
	return text(v), nil
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		if math.IsNaN(x) || x >= math.MaxInt64 || x < math.MinInt64 {
			return 0, false
		}
		return int64(x), true
	}
	s := strings.TrimSpace(text(v))
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return toInt64(f)
	}
	return 0, false
}

// isDecimal reports whether s is [+-]digits[.digits].
func isDecimal(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

var timestampLayouts = []string{
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04:05Z07",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04Z07:00",
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseTimestamp reads the date/time texts SQLite and the engines produce;
// a zone offset is converted to UTC.
func parseTimestamp(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 10 {
		return time.Time{}, false
	}
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
