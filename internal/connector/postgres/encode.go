package postgres

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// encoder is how a value is written into a target column in binary COPY,
// chosen by the column's type on the target (domains resolved).
type encoder uint8

const (
	encNone encoder = iota // no binary encoder: the load uses text COPY
	encBool
	encInt2
	encInt4
	encInt8
	encOID
	encNumeric
	encFloat4
	encFloat8
	encText // text, varchar, bpchar, name, enum labels
	encBytea
	encDate
	encTime
	encTimestamp
	encTimestampTZ
	encJSON
	encJSONB
	encUUID
)

// encoderFor picks the binary encoder of a target type.
func encoderFor(t *pgType) encoder {
	if t.typtype == 'e' {
		return encText
	}
	switch t.oid {
	case oidBool:
		return encBool
	case oidInt2:
		return encInt2
	case oidInt4:
		return encInt4
	case oidInt8:
		return encInt8
	case oidOID:
		return encOID
	case oidNumeric:
		return encNumeric
	case oidFloat4:
		return encFloat4
	case oidFloat8:
		return encFloat8
	case oidText, oidVarchar, oidBPChar, oidName:
		return encText
	case oidBytea:
		return encBytea
	case oidDate:
		return encDate
	case oidTime:
		return encTime
	case oidTimestamp:
		return encTimestamp
	case oidTimestampTZ:
		return encTimestampTZ
	case oidJSON:
		return encJSON
	case oidJSONB:
		return encJSONB
	case oidUUID:
		return encUUID
	}
	return encNone
}

// binaryFits reports whether values of kind k are written into a column
// with encoder e in binary without parsing text the way only the server
// can; when a column does not fit, the load uses text COPY.
func binaryFits(k record.Kind, e encoder) bool {
	switch e {
	case encNone:
		return false
	case encText:
		return true
	case encBool:
		return k == record.KindBool
	case encInt2, encInt4, encInt8, encOID:
		return k == record.KindInt16 || k == record.KindInt32 || k == record.KindInt64 || k == record.KindUint64
	case encNumeric, encFloat4, encFloat8:
		switch k {
		case record.KindInt16, record.KindInt32, record.KindInt64, record.KindUint64,
			record.KindNumeric, record.KindFloat32, record.KindFloat64:
			return true
		}
	case encBytea:
		return k == record.KindBytes || k == record.KindBlob || k == record.KindString || k == record.KindText
	case encDate, encTimestamp, encTimestampTZ:
		return k == record.KindDate || k == record.KindTimestamp || k == record.KindTimestampTZ
	case encTime:
		return k == record.KindTime
	case encJSON, encJSONB:
		return k == record.KindJSON || k == record.KindString || k == record.KindText
	case encUUID:
		return k == record.KindUUID || k == record.KindString
	}
	return false
}

// errNeedText: a value is of a shape only the server's text input parses;
// the batch is sent again as text COPY.
var errNeedText = errors.New("value needs text COPY")

// appendBinaryValue writes v as a binary COPY field (length and bytes).
// kind is the column's declared kind (how a time.Time written into a text
// column is spelled).
func appendBinaryValue(b []byte, e encoder, kind record.Kind, v any) ([]byte, error) {
	if v == nil {
		return binary.BigEndian.AppendUint32(b, math.MaxUint32), nil
	}
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	b, err := appendBinaryData(b, e, kind, v)
	if err != nil {
		return b[:start], err
	}
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b, nil
}

func appendBinaryData(b []byte, e encoder, kind record.Kind, v any) ([]byte, error) {
	switch e {
	case encText, encJSON:
		switch v := v.(type) {
		case string:
			return append(b, v...), nil
		case []byte:
			return append(b, v...), nil
		}
		if e == encJSON {
			return b, errNeedText
		}
		s, err := valueText(v, kind)
		return append(b, s...), err
	case encJSONB:
		b = append(b, 1)
		switch v := v.(type) {
		case string:
			return append(b, v...), nil
		case []byte:
			return append(b, v...), nil
		}
		return b, errNeedText
	case encBytea:
		switch v := v.(type) {
		case []byte:
			return append(b, v...), nil
		case string:
			return append(b, v...), nil
		}
		return b, errNeedText
	case encBool:
		if v, ok := v.(bool); ok {
			if v {
				return append(b, 1), nil
			}
			return append(b, 0), nil
		}
		return b, errNeedText
	case encInt2, encInt4, encInt8, encOID:
		n, err := toInt64(v)
		if err != nil {
			return b, err
		}
		switch e {
		case encInt2:
			if n < math.MinInt16 || n > math.MaxInt16 {
				return b, fmt.Errorf("%d is out of range for smallint", n)
			}
			return binary.BigEndian.AppendUint16(b, uint16(n)), nil
		case encInt4:
			if n < math.MinInt32 || n > math.MaxInt32 {
				return b, fmt.Errorf("%d is out of range for integer", n)
			}
			return binary.BigEndian.AppendUint32(b, uint32(n)), nil
		case encOID:
			if n < 0 || n > math.MaxUint32 {
				return b, fmt.Errorf("%d is out of range for oid", n)
			}
			return binary.BigEndian.AppendUint32(b, uint32(n)), nil
		}
		return binary.BigEndian.AppendUint64(b, uint64(n)), nil
	case encNumeric:
		switch v := v.(type) {
		case string:
			return appendNumericBinary(b, v)
		case int64:
			var tmp [24]byte
			return appendNumericBinary(b, string(strconv.AppendInt(tmp[:0], v, 10)))
		case uint64:
			var tmp [24]byte
			return appendNumericBinary(b, string(strconv.AppendUint(tmp[:0], v, 10)))
		case float64:
			return appendNumericBinary(b, string(appendFloat(nil, v, 64)))
		}
		return b, errNeedText
	case encFloat4, encFloat8:
		var f float64
		switch v := v.(type) {
		case float64:
			f = v
		case float32:
			f = float64(v)
		case int64:
			f = float64(v)
		case uint64:
			f = float64(v)
		case string:
			return b, errNeedText
		default:
			return b, errNeedText
		}
		if e == encFloat4 {
			return binary.BigEndian.AppendUint32(b, math.Float32bits(float32(f))), nil
		}
		return binary.BigEndian.AppendUint64(b, math.Float64bits(f)), nil
	case encDate:
		t, ok := v.(time.Time)
		if !ok {
			return b, errNeedText
		}
		us := wallMicros(t)
		days := us / 86400e6
		if us%86400e6 < 0 {
			days--
		}
		if days < math.MinInt32+1 || days > math.MaxInt32-1 {
			return b, fmt.Errorf("date %v is out of range", t)
		}
		return binary.BigEndian.AppendUint32(b, uint32(int32(days))), nil
	case encTimestamp, encTimestampTZ:
		t, ok := v.(time.Time)
		if !ok {
			return b, errNeedText
		}
		var us int64
		if e == encTimestamp {
			us = wallMicros(t)
		} else {
			us = (t.Unix()-pgEpochUnix)*1e6 + int64(t.Nanosecond()/1000)
		}
		return binary.BigEndian.AppendUint64(b, uint64(us)), nil
	case encTime:
		s, ok := v.(string)
		if !ok {
			return b, errNeedText
		}
		us, ok := parseClock(s)
		if !ok {
			return b, errNeedText
		}
		return binary.BigEndian.AppendUint64(b, uint64(us)), nil
	case encUUID:
		s, ok := v.(string)
		if !ok {
			return b, errNeedText
		}
		var u [16]byte
		if !parseUUID(s, &u) {
			return b, errNeedText
		}
		return append(b, u[:]...), nil
	}
	return b, errNeedText
}

// wallMicros is t's wall clock (in its own location) as microseconds since
// 2000-01-01 00:00: a timestamp without time zone.
func wallMicros(t time.Time) int64 {
	t = wallUTC(t)
	return (t.Unix()-pgEpochUnix)*1e6 + int64(t.Nanosecond()/1000)
}

// wallUTC is t's wall clock (in its own location) read as UTC: a value
// of a timestamp without time zone.
func wallUTC(t time.Time) time.Time {
	if t.Location() == time.UTC {
		return t
	}
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, m, d, h, mi, s, t.Nanosecond(), time.UTC)
}

func toInt64(v any) (int64, error) {
	switch v := v.(type) {
	case int64:
		return v, nil
	case uint64:
		if v > math.MaxInt64 {
			return 0, fmt.Errorf("%d is out of range for bigint", v)
		}
		return int64(v), nil
	case int:
		return int64(v), nil
	case int32:
		return int64(v), nil
	}
	return 0, errNeedText
}

// parseClock reads HH:MM:SS[.ffffff] (hours 00-24) into microseconds.
func parseClock(s string) (int64, bool) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' || !allDigits(s[0:2]) || !allDigits(s[3:5]) || !allDigits(s[6:8]) {
		return 0, false
	}
	h := int64(s[0]-'0')*10 + int64(s[1]-'0')
	m := int64(s[3]-'0')*10 + int64(s[4]-'0')
	sec := int64(s[6]-'0')*10 + int64(s[7]-'0')
	if h > 24 || m > 59 || sec > 59 {
		return 0, false
	}
	us := ((h*60+m)*60 + sec) * 1e6
	if len(s) > 8 {
		frac := s[9:]
		if s[8] != '.' || len(frac) == 0 || len(frac) > 6 || !allDigits(frac) {
			return 0, false
		}
		f := int64(0)
		for i := 0; i < 6; i++ {
			f *= 10
			if i < len(frac) {
				f += int64(frac[i] - '0')
			}
		}
		us += f
	}
	if us > 24*3600e6 {
		return 0, false
	}
	return us, true
}

// parseUUID reads a UUID with or without hyphens (and braces).
func parseUUID(s string, u *[16]byte) bool {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	var h [32]byte
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			continue
		}
		if n == 32 {
			return false
		}
		h[n] = s[i]
		n++
	}
	if n != 32 {
		return false
	}
	_, err := hex.Decode(u[:], h[:])
	return err == nil
}

// appendTextValue writes v as a field of text COPY for a column with
// encoder e (which decides how times and bytes are spelled); kind is the
// column's declared kind.
func appendTextValue(b []byte, e encoder, kind record.Kind, v any) ([]byte, error) {
	if v == nil {
		return append(b, `\N`...), nil
	}
	switch v := v.(type) {
	case string:
		if e == encBytea {
			b = append(b, `\\x`...)
			return hex.AppendEncode(b, []byte(v)), nil
		}
		return appendCopyEscaped(b, v), nil
	case []byte:
		if e == encBytea || e == encNone && (kind == record.KindBytes || kind == record.KindBlob) {
			b = append(b, `\\x`...)
			return hex.AppendEncode(b, v), nil
		}
		return appendCopyEscaped(b, string(v)), nil
	case time.Time:
		switch {
		case e == encDate:
			return appendDate(b, v), nil
		case e == encTimestamp:
			return appendTimestamp(b, v, false), nil
		case e == encTimestampTZ:
			return appendTimestamp(b, v, true), nil
		case kind == record.KindDate:
			return appendDate(b, v), nil
		case kind == record.KindTimestamp:
			return appendTimestamp(b, v, false), nil
		}
		return appendTimestamp(b, v, true), nil
	case bool:
		if v {
			return append(b, 't'), nil
		}
		return append(b, 'f'), nil
	case float64:
		return appendFloat(b, v, 64), nil
	case float32:
		return appendFloat(b, float64(v), 32), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	}
	s, err := valueText(v, kind)
	if err != nil {
		return b, err
	}
	return appendCopyEscaped(b, s), nil
}

// appendCopyEscaped writes s with text COPY's backslash escapes.
func appendCopyEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '\\':
			esc = `\\`
		case '\n':
			esc = `\n`
		case '\r':
			esc = `\r`
		case '\t':
			esc = `\t`
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		start = i + 1
	}
	return append(b, s[start:]...)
}

// copySource is the io.Reader pgconn.CopyFrom reads a batch from: rows are
// encoded a chunk at a time, so the encoded batch is never whole in memory.
// With more set, the batches more returns follow rows, until it returns
// nil. With stopAtText, a binary copy that meets a value only text COPY
// takes ends cleanly before that row (textAt; rows[next:] are what is left)
// instead of failing.
type copySource struct {
	rows       []record.Row
	more       func() ([]record.Row, error)
	encs       []encoder
	kinds      []record.Kind
	binary     bool
	stopAtText bool
	next       int
	buf        []byte
	off        int
	started    bool
	done       bool
	textAt     bool
	// err is the encoding failure that stopped the copy, at row errRow
	// and column errCol of the batch; moreErr is more's.
	err            error
	errRow, errCol int
	moreErr        error
}

// copyChunk is how many encoded bytes a copySource prepares at a time.
const copyChunk = 256 << 10

func (s *copySource) Read(p []byte) (int, error) {
	for s.off == len(s.buf) {
		if s.done {
			return 0, io.EOF
		}
		s.buf, s.off = s.buf[:0], 0
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, s.buf[s.off:])
	s.off += n
	return n, nil
}

// fill encodes rows into buf until it holds a chunk or the rows end.
func (s *copySource) fill() error {
	if !s.started && s.binary {
		s.buf = append(s.buf, copySignature...)
		s.buf = append(s.buf, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	s.started = true
	var err error
	for len(s.buf) < copyChunk && (s.next < len(s.rows) || s.more != nil) {
		if s.next == len(s.rows) {
			rows, err := s.more()
			if err != nil {
				s.moreErr = err
				return err
			}
			if rows == nil {
				s.more = nil
			}
			s.rows, s.next = rows, 0
			continue
		}
		row := s.rows[s.next]
		mark := len(s.buf)
		if len(row) != len(s.encs) {
			s.err, s.errRow, s.errCol = fmt.Errorf("the row has %d values for %d columns", len(row), len(s.encs)), s.next, -1
			return s.err
		}
		if s.binary {
			s.buf = binary.BigEndian.AppendUint16(s.buf, uint16(len(row)))
			for i, v := range row {
				s.buf, err = appendBinaryValue(s.buf, s.encs[i], s.kinds[i], v)
				if err != nil && s.stopAtText && errors.Is(err, errNeedText) {
					// What was encoded before this row is sent, and
					// the copy ends there.
					s.buf, s.textAt, s.done = s.buf[:mark], true, true
					s.buf = binary.BigEndian.AppendUint16(s.buf, math.MaxUint16)
					return nil
				}
				if err != nil {
					s.err, s.errRow, s.errCol = err, s.next, i
					return err
				}
			}
		} else {
			for i, v := range row {
				if i > 0 {
					s.buf = append(s.buf, '\t')
				}
				s.buf, err = appendTextValue(s.buf, s.encs[i], s.kinds[i], v)
				if err != nil {
					s.err, s.errRow, s.errCol = err, s.next, i
					return err
				}
			}
			s.buf = append(s.buf, '\n')
		}
		s.next++
	}
	if s.next == len(s.rows) && s.more == nil {
		if s.binary {
			s.buf = binary.BigEndian.AppendUint16(s.buf, math.MaxUint16)
		}
		s.done = true
	}
	return nil
}
