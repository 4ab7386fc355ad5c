package mysql

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// encCol is how one column of a Load is written.
type encCol struct {
	name string
	kind record.Kind
	bit  bool // the target column is BIT(n): written as an unsigned number
}

// valueError is a value the client cannot write; it rejects the row.
func valueError(col encCol, v any, why string) error {
	return fmt.Errorf("column %q: %s (%T)", col.name, why, v)
}

// tsvEscapes maps the bytes LOAD DATA's default escaping (ESCAPED BY '\\')
// must escape to the letter that follows the backslash.
var tsvEscapes = func() (t [256]byte) {
	t['\\'] = '\\'
	t['\t'] = 't'
	t['\n'] = 'n'
	t['\r'] = 'r'
	t[0] = '0'
	t[0x1a] = 'Z'
	return t
}()

// appendTSVString appends s escaped for a LOAD DATA field.
func appendTSVString[T string | []byte](buf []byte, s T) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		if e := tsvEscapes[s[i]]; e != 0 {
			buf = append(buf, s[last:i]...)
			buf = append(buf, '\\', e)
			last = i + 1
		}
	}
	return append(buf, s[last:]...)
}

// sqlEscapes maps the bytes a quoted SQL string must escape (as
// mysql_real_escape_string does) to the letter after the backslash.
var sqlEscapes = func() (t [256]byte) {
	t['\\'] = '\\'
	t['\''] = '\''
	t['"'] = '"'
	t['\n'] = 'n'
	t['\r'] = 'r'
	t[0] = '0'
	t[0x1a] = 'Z'
	return t
}()

// appendSQLString appends s as a quoted SQL string literal.
func appendSQLString[T string | []byte](buf []byte, s T) []byte {
	buf = append(buf, '\'')
	last := 0
	for i := 0; i < len(s); i++ {
		if e := sqlEscapes[s[i]]; e != 0 {
			buf = append(buf, s[last:i]...)
			buf = append(buf, '\\', e)
			last = i + 1
		}
	}
	buf = append(buf, s[last:]...)
	return append(buf, '\'')
}

const hexDigits = "0123456789ABCDEF"

// appendTSV appends v as a LOAD DATA field (TYPES.md: values as MySQL's
// text input reads them; \N for NULL).
func appendTSV(buf []byte, col encCol, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, '\\', 'N'), nil
	case string:
		return appendTSVString(buf, x), nil
	case []byte:
		if col.bit {
			return appendBitNumber(buf, col, x)
		}
		return appendTSVString(buf, x), nil
	}
	return appendScalar(buf, col, v, false)
}

// appendSQL appends v as a SQL literal of a multi-row INSERT.
func appendSQL(buf []byte, col encCol, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, "NULL"...), nil
	case string:
		return appendSQLString(buf, x), nil
	case []byte:
		if col.bit {
			return appendBitNumber(buf, col, x)
		}
		buf = append(buf, "X'"...)
		for _, b := range x {
			buf = append(buf, hexDigits[b>>4], hexDigits[b&15])
		}
		return append(buf, '\''), nil
	}
	return appendScalar(buf, col, v, true)
}

// appendBitNumber writes a BIT value (big-endian bytes) as its number.
func appendBitNumber(buf []byte, col encCol, b []byte) ([]byte, error) {
	if len(b) > 8 {
		return buf, valueError(col, b, "more than 64 bits for a BIT column")
	}
	var n [8]byte
	copy(n[8-len(b):], b)
	return strconv.AppendUint(buf, binary.BigEndian.Uint64(n[:]), 10), nil
}

// appendScalar writes the values whose text is the same in LOAD DATA and
// SQL, quoting temporal values for SQL.
func appendScalar(buf []byte, col encCol, v any, quote bool) ([]byte, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return append(buf, '1'), nil
		}
		return append(buf, '0'), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case uint64:
		return strconv.AppendUint(buf, x, 10), nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return buf, valueError(col, v, fmt.Sprintf("%v cannot be stored in MySQL", x))
		}
		// The shortest text of the float64 value, even for a FLOAT column:
		// the server parses a double and rounds it to float, and the float32
		// shortest text of FLT_MAX ("3.4028235e+38") is above FLT_MAX.
		return strconv.AppendFloat(buf, x, 'g', -1, 64), nil
	case float32:
		return appendScalar(buf, col, float64(x), quote)
	case time.Time:
		x = x.UTC()
		if y := x.Year(); y < 0 || y > 9999 {
			return buf, valueError(col, v, fmt.Sprintf("year %d is outside MySQL's 0000..9999", y))
		}
		if quote {
			buf = append(buf, '\'')
		}
		switch col.kind {
		case record.KindDate:
			buf = x.AppendFormat(buf, "2006-01-02")
		case record.KindTime:
			buf = x.AppendFormat(buf, "15:04:05.999999")
		default:
			buf = x.AppendFormat(buf, "2006-01-02 15:04:05.999999")
		}
		if quote {
			buf = append(buf, '\'')
		}
		return buf, nil
	}
	return buf, valueError(col, v, "unsupported value type")
}
