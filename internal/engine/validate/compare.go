package validate

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/engine/fullload"
	"github.com/godwit-dms/godwit/internal/record"
)

// mode is how the values of one column are compared.
type mode uint8

const (
	modeText      mode = iota // strings: exact, or per collation handling
	modeNumber                // integers, numerics, bool as 0/1: by exact value
	modeFloat                 // floating point: identical or one ULP apart
	modeTime                  // dates and timestamps: instants at microseconds
	modeTimeOfDay             // "HH:MM:SS[.ffffff]": fraction without trailing zeros
	modeJSON                  // JSON values, key order ignored
	modeUUID                  // case-insensitive text
	modeBytes                 // byte for byte
)

// valueCmp compares the values of one column: the source value after the
// mapping's transformation against the target's.
type valueCmp struct {
	mode mode
	// f32: one side is single precision; floats are compared as float32.
	f32 bool
	// padded: one side is a blank-padded CHAR(n); trailing blanks don't count.
	padded bool
	// fold: HandleCollationDiff; case and trailing blanks don't count.
	fold bool
}

// newValueCmp picks the comparison for a column of kind src on the source
// side (after transformation) and tgt on the target.
func newValueCmp(src, tgt record.Type, fold bool) valueCmp {
	c := valueCmp{fold: fold, padded: isPadded(src) || isPadded(tgt)}
	k := src.Kind
	if k == record.KindUnknown {
		k = tgt.Kind
	}
	switch {
	case isFloat(k) || isFloat(tgt.Kind):
		c.mode = modeFloat
		c.f32 = k == record.KindFloat32 || tgt.Kind == record.KindFloat32
	case isNumber(k):
		c.mode = modeNumber
	case isTime(k):
		c.mode = modeTime
	case k == record.KindTime:
		c.mode = modeTimeOfDay
	case k == record.KindJSON || tgt.Kind == record.KindJSON:
		c.mode = modeJSON
	case k == record.KindUUID || tgt.Kind == record.KindUUID:
		c.mode = modeUUID
	case k == record.KindBytes || k == record.KindBlob:
		c.mode = modeBytes
	}
	return c
}

func isFloat(k record.Kind) bool { return k == record.KindFloat32 || k == record.KindFloat64 }

func isNumber(k record.Kind) bool {
	switch k {
	case record.KindBool, record.KindInt16, record.KindInt32, record.KindInt64, record.KindUint64, record.KindNumeric:
		return true
	}
	return false
}

func isTime(k record.Kind) bool {
	return k == record.KindDate || k == record.KindTimestamp || k == record.KindTimestampTZ
}

// isPadded reports a fixed-length, blank-padded character type.
func isPadded(t record.Type) bool {
	if t.Kind != record.KindString {
		return false
	}
	n := strings.ToLower(t.Native)
	return strings.HasPrefix(n, "character(") || n == "character" || strings.HasPrefix(n, "char(") || n == "char" ||
		strings.HasPrefix(n, "bpchar") || strings.HasPrefix(n, "nchar")
}

// equal reports whether the source value a and the target value b are the
// same data. NULL equals only NULL.
func (c *valueCmp) equal(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	switch c.mode {
	case modeNumber:
		switch x := a.(type) {
		case int64:
			if y, ok := b.(int64); ok {
				return x == y
			}
		case string:
			if y, ok := b.(string); ok && x == y {
				return true
			}
		}
		if da, ok := decimalOf(numeric(a)); ok {
			if db, ok := decimalOf(numeric(b)); ok {
				return da.equal(db)
			}
		}
	case modeFloat:
		if x, ok := floatOf(a); ok {
			if y, ok := floatOf(b); ok {
				return floatsEqual(x, y, c.f32)
			}
		}
	case modeTime:
		if x, ok := timeOf(a); ok {
			if y, ok := timeOf(b); ok {
				return x.Truncate(time.Microsecond).Equal(y.Truncate(time.Microsecond))
			}
		}
	case modeTimeOfDay:
		if x, ok := a.(string); ok {
			if y, ok := b.(string); ok {
				return timeOfDay(x) == timeOfDay(y)
			}
		}
	case modeJSON:
		if x, ok := a.(string); ok {
			if y, ok := b.(string); ok {
				return x == y || jsonEqual(x, y)
			}
		}
	case modeUUID:
		if x, ok := a.(string); ok {
			if y, ok := b.(string); ok {
				return strings.EqualFold(x, y)
			}
		}
	}
	switch x := a.(type) {
	case string:
		switch y := b.(type) {
		case string:
			return c.textEqual(x, y)
		case []byte:
			return x == string(y)
		}
	case []byte:
		switch y := b.(type) {
		case []byte:
			return bytes.Equal(x, y)
		case string:
			return string(x) == y
		}
	case bool, int64, uint64:
		// A number against a value of another kind (bool against a MySQL
		// TINYINT, a number against its text).
		if da, ok := decimalOf(numeric(a)); ok {
			if db, ok := decimalOf(numeric(b)); ok {
				return da.equal(db)
			}
		}
	case float64:
		if y, ok := floatOf(b); ok {
			return floatsEqual(x, y, c.f32)
		}
	case time.Time:
		if y, ok := timeOf(b); ok {
			return x.Truncate(time.Microsecond).Equal(y.Truncate(time.Microsecond))
		}
	}
	return displayText(a) == displayText(b)
}

// textEqual compares strings: exactly; CHAR(n) without trailing blanks;
// with collation handling also without case.
func (c *valueCmp) textEqual(x, y string) bool {
	if x == y {
		return true
	}
	if c.padded || c.fold {
		x, y = strings.TrimRight(x, " "), strings.TrimRight(y, " ")
	}
	if c.fold {
		return strings.EqualFold(x, y)
	}
	return x == y
}

// numeric maps a bool held as text ("true", "t") to 1/0 so that it
// compares with a number; other values pass.
func numeric(v any) any {
	if s, ok := v.(string); ok {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "t", "true":
			return true
		case "f", "false":
			return false
		}
	}
	return v
}

func floatOf(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

// floatsEqual: identical (NaN equals NaN), or adjacent. With f32 the
// values are compared at single precision, so a REAL widened to DOUBLE
// exactly (0.100000001490116) equals the DOUBLE of its decimal text (0.1).
func floatsEqual(x, y float64, f32 bool) bool {
	if x == y || math.IsNaN(x) && math.IsNaN(y) {
		return true
	}
	if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
		return false
	}
	if f32 {
		a, b := float32(x), float32(y)
		return a == b || math.Nextafter32(a, b) == b
	}
	return math.Nextafter(x, y) == y
}

// timeOf reads a time.Time, or the text of one.
func timeOf(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z07:00",
			"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
			if t, err := time.Parse(layout, strings.TrimSpace(x)); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// timeOfDay drops the trailing zeros of a time's fraction.
func timeOfDay(s string) string {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

// jsonEqual compares two JSON documents as values: objects by key set,
// arrays in order, numbers by exact decimal value. Text that is not JSON
// (a LOB cut in limited LOB mode) is equal only to the same text.
func jsonEqual(a, b string) bool {
	va, ok := parseJSON(a)
	if !ok {
		return false
	}
	vb, ok := parseJSON(b)
	if !ok {
		return false
	}
	return jsonValuesEqual(va, vb)
}

func parseJSON(s string) (any, bool) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	if d.More() {
		return nil, false
	}
	return v, true
}

func jsonValuesEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonValuesEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonValuesEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		da, ok1 := parseDecimal(string(x))
		db, ok2 := parseDecimal(string(y))
		return ok1 && ok2 && da.equal(db)
	}
	return a == b // string, bool, nil
}

// displayText is how a value appears in DETAILS and in logs.
func displayText(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return "0x" + hex.EncodeToString(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fullload.KeyText(v)
}

// keyClass is how a key column's values order and match.
type keyClass uint8

const (
	classText   keyClass = iota // strings: order depends on the collation
	classNumber                 // integers, numerics, bool, floats: by value
	classTime                   // dates and timestamps: by instant
	classUUID                   // case-insensitive text
)

func classOf(k record.Kind) keyClass {
	switch {
	case isNumber(k) || isFloat(k):
		return classNumber
	case isTime(k):
		return classTime
	case k == record.KindUUID:
		return classUUID
	}
	return classText
}

// keyCol is one key column as the merge sees it.
type keyCol struct {
	class  keyClass
	padded bool // CHAR(n): trailing blanks don't count
	tod    bool // a time of day: trailing zeros of the fraction don't count
}

// normKey is the text of one key value under which the two sides' values
// of the same row match: numbers by exact value, instants in UTC at
// microseconds, UUIDs in lower case, CHAR(n) without trailing blanks. It
// takes a value or the text KeyText made of one.
func (k keyCol) normKey(v any) string {
	switch k.class {
	case classNumber:
		if x, ok := v.(int64); ok {
			return strconv.FormatInt(x, 10)
		}
		if d, ok := decimalOf(numeric(v)); ok {
			return d.text()
		}
	case classTime:
		if t, ok := timeOf(v); ok {
			return t.UTC().Truncate(time.Microsecond).Format("2006-01-02 15:04:05.999999")
		}
	case classUUID:
		if s, ok := v.(string); ok {
			return strings.ToLower(s)
		}
	default:
		if s, ok := v.(string); ok {
			switch {
			case k.padded:
				return strings.TrimRight(s, " ")
			case k.tod:
				return timeOfDay(s)
			}
			return s
		}
	}
	return displayText(v)
}

// compareKey orders two key values of an ordered class (number or time) as
// the databases do.
func (k keyCol) compareKey(a, b any) int {
	if k.class == classTime {
		ta, _ := timeOf(a)
		tb, _ := timeOf(b)
		return ta.Truncate(time.Microsecond).Compare(tb.Truncate(time.Microsecond))
	}
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			return cmpInt64(x, y)
		}
	}
	da, _ := decimalOf(numeric(a))
	db, _ := decimalOf(numeric(b))
	return da.cmp(db)
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
