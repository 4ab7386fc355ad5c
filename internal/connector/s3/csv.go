package s3

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// csvEncoder turns rows into CSV text the way DMS's S3 target writes it:
// CsvDelimiter between fields, CsvRowDelimiter after each row, NULL as
// CsvNullValue (an empty field by default), and with Rfc4180 a field that
// holds the delimiter, the row delimiter, a quote, CR or LF (or that reads
// like the NULL marker) enclosed in double quotes with its quotes doubled.
type csvEncoder struct {
	kinds    []record.Kind
	names    []string
	delim    []byte
	rowDelim []byte
	null     []byte
	noSup    []byte // written for record.Unchanged values when hasNoSup (CsvNoSupValue), else NULL
	hasNoSup bool
	quoting  bool
	op       bool   // a first field with the operation (I, U, D)
	lead     []byte // encoded fields after the op field (table and schema of transaction files)
	ts       bool   // a last field with the row's timestamp (TimestampColumnName)
	tsName   string
	special  [256]bool // bytes that may make a field need quotes
	scratch  []byte
}

func newCSVEncoder(s TargetSettings, t *record.Table) *csvEncoder {
	e := &csvEncoder{
		delim:    []byte(s.delimiter()),
		rowDelim: []byte(s.rowDelimiter()),
		null:     []byte(s.CSVNullValue),
		quoting:  !s.NoRFC4180,
		op:       s.IncludeOpForFullLoad,
		ts:       s.TimestampColumnName != "",
		tsName:   s.TimestampColumnName,
	}
	if !s.CSVNullValueSet {
		e.null = nil
	}
	if s.NoSupValue != nil {
		e.noSup, e.hasNoSup = []byte(*s.NoSupValue), true
	}
	for _, c := range t.Columns {
		e.kinds = append(e.kinds, c.Type.Kind)
		e.names = append(e.names, c.Name)
	}
	for _, b := range []byte{'"', '\n', '\r', e.delim[0], e.rowDelim[0]} {
		e.special[b] = true
	}
	return e
}

// setLead makes fields (quoted as needed) the fields of every row after
// the op field.
func (e *csvEncoder) setLead(fields ...string) {
	var b []byte
	for i, f := range fields {
		if i > 0 {
			b = append(b, e.delim...)
		}
		start := len(b)
		b = append(b, f...)
		b = e.quoteIfNeeded(b, start)
	}
	e.lead = b
}

// appendHeader appends the AddColumnName row: "Op" first with
// IncludeOpForFullLoad, the timestamp column's name last.
func (e *csvEncoder) appendHeader(dst []byte) []byte {
	first := true
	field := func(name string) {
		if !first {
			dst = append(dst, e.delim...)
		}
		first = false
		start := len(dst)
		dst = append(dst, name...)
		dst = e.quoteIfNeeded(dst, start)
	}
	if e.op {
		field("Op")
	}
	for _, n := range e.names {
		field(n)
	}
	if e.ts {
		field(e.tsName)
	}
	return append(dst, e.rowDelim...)
}

// appendRow appends one row; op is the operation letter, used when the
// encoder has an op column, and ts the formatted timestamp, used when it
// has a timestamp column.
func (e *csvEncoder) appendRow(dst []byte, op byte, row record.Row, ts []byte) ([]byte, error) {
	if len(row) != len(e.kinds) {
		return dst, fmt.Errorf("%w: %d values for %d columns", ErrRowWidth, len(row), len(e.kinds))
	}
	started := false
	if e.op {
		dst = append(dst, op)
		started = true
	}
	if e.lead != nil {
		if started {
			dst = append(dst, e.delim...)
		}
		dst = append(dst, e.lead...)
		started = true
	}
	for i, v := range row {
		if started {
			dst = append(dst, e.delim...)
		}
		started = true
		if v == nil || v == record.Unchanged && !e.hasNoSup {
			dst = append(dst, e.null...)
			continue
		}
		if v == record.Unchanged {
			dst = append(dst, e.noSup...)
			continue
		}
		start := len(dst)
		var err error
		dst, err = appendCSVValue(dst, e.kinds[i], v)
		if err != nil {
			return dst[:start], fmt.Errorf("column %q: %w", e.names[i], err)
		}
		if e.quoting {
			dst = e.quoteIfNeeded(dst, start)
		}
	}
	if e.ts {
		if started {
			dst = append(dst, e.delim...)
		}
		start := len(dst)
		dst = append(dst, ts...)
		dst = e.quoteIfNeeded(dst, start)
	}
	return append(dst, e.rowDelim...), nil
}

// quoteIfNeeded encloses dst[start:] in quotes, doubling the quotes in it,
// when it holds a special character or equals the NULL marker.
func (e *csvEncoder) quoteIfNeeded(dst []byte, start int) []byte {
	if !e.quoting {
		return dst
	}
	field := dst[start:]
	need := bytes.Equal(field, e.null)
	if !need {
		for _, b := range field {
			if e.special[b] {
				need = e.needsQuotes(field)
				break
			}
		}
	}
	if !need {
		return dst
	}
	e.scratch = append(e.scratch[:0], field...)
	dst = append(dst[:start], '"')
	rest := e.scratch
	for {
		i := bytes.IndexByte(rest, '"')
		if i < 0 {
			dst = append(dst, rest...)
			break
		}
		dst = append(dst, rest[:i+1]...)
		dst = append(dst, '"')
		rest = rest[i+1:]
	}
	return append(dst, '"')
}

func (e *csvEncoder) needsQuotes(field []byte) bool {
	return bytes.IndexByte(field, '"') >= 0 || bytes.IndexByte(field, '\n') >= 0 ||
		bytes.IndexByte(field, '\r') >= 0 || bytes.Contains(field, e.delim) || bytes.Contains(field, e.rowDelim)
}

// appendCSVValue appends v, a value of kind k (Go type as documented on the
// record.Kind constants), as DMS writes it to CSV. TYPES.md has the table.
func appendCSVValue(dst []byte, k record.Kind, v any) ([]byte, error) {
	switch k {
	case record.KindBool:
		if b, ok := v.(bool); ok {
			if b {
				return append(dst, "true"...), nil
			}
			return append(dst, "false"...), nil
		}
	case record.KindInt16, record.KindInt32, record.KindInt64:
		switch n := v.(type) {
		case int64:
			return strconv.AppendInt(dst, n, 10), nil
		case int:
			return strconv.AppendInt(dst, int64(n), 10), nil
		case int32:
			return strconv.AppendInt(dst, int64(n), 10), nil
		case int16:
			return strconv.AppendInt(dst, int64(n), 10), nil
		}
	case record.KindUint64:
		switch n := v.(type) {
		case uint64:
			return strconv.AppendUint(dst, n, 10), nil
		case int64:
			return strconv.AppendInt(dst, n, 10), nil
		}
	case record.KindFloat32, record.KindFloat64:
		bits := 64
		if k == record.KindFloat32 {
			bits = 32
		}
		switch f := v.(type) {
		case float64:
			return appendFloat(dst, f, bits), nil
		case float32:
			return appendFloat(dst, float64(f), 32), nil
		}
	case record.KindBytes, record.KindBlob:
		switch b := v.(type) {
		case []byte:
			return appendUpperHex(dst, b), nil
		case string:
			return appendUpperHex(dst, []byte(b)), nil
		}
	case record.KindDate:
		if t, ok := v.(time.Time); ok {
			return appendDate(dst, t), nil
		}
	case record.KindTimestamp:
		if t, ok := v.(time.Time); ok {
			return appendTimestamp(dst, t), nil
		}
	case record.KindTimestampTZ:
		if t, ok := v.(time.Time); ok {
			return appendTimestamp(dst, t.UTC()), nil
		}
	}
	if isTextKind(k) {
		// Text kinds are written as they are.
		switch s := v.(type) {
		case string:
			return append(dst, s...), nil
		case []byte:
			return append(dst, s...), nil
		}
	}
	return dst, fmt.Errorf("%w: a %T in a column of kind %s", ErrValueType, v, k)
}

// isTextKind says the kind's values are strings.
func isTextKind(k record.Kind) bool {
	switch k {
	case record.KindNumeric, record.KindString, record.KindText, record.KindJSON, record.KindUUID,
		record.KindEnum, record.KindArray, record.KindInterval, record.KindTime, record.KindUnknown:
		return true
	}
	return false
}

// appendFloat writes the shortest text that reads back as the same float
// of the given size; NaN and infinities as NaN, Infinity, -Infinity.
func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

const upperHex = "0123456789ABCDEF"

func appendUpperHex(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, upperHex[c>>4], upperHex[c&0x0f])
	}
	return dst
}

// appendDate writes yyyy-MM-dd.
func appendDate(dst []byte, t time.Time) []byte {
	y, m, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(dst, "2006-01-02")
	}
	dst = appendDigits(dst, y, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(m), 2)
	dst = append(dst, '-')
	return appendDigits(dst, d, 2)
}

// appendTimestamp writes yyyy-MM-dd HH:mm:ss.ffffff of t's wall clock.
func appendTimestamp(dst []byte, t time.Time) []byte {
	y, _, _ := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(dst, "2006-01-02 15:04:05.000000")
	}
	dst = appendDate(dst, t)
	h, mi, s := t.Clock()
	dst = append(dst, ' ')
	dst = appendDigits(dst, h, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, mi, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, s, 2)
	dst = append(dst, '.')
	return appendDigits(dst, t.Nanosecond()/1000, 6)
}

// appendDigits writes n (>= 0) zero-padded to width digits.
func appendDigits(dst []byte, n, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for n > 0 || width > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	return append(dst, buf[i:]...)
}
