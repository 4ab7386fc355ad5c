package mysql

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"strings"
)

// MySQL logs JSON columns in its binary JSON format; a read gets the text
// the server prints. jsonBinaryText renders the binary form as MySQL's
// JSON_UNQUOTE-free text output: `{"k": v, ...}`, `[a, b]`, doubles
// through the server's %g-like formatting with ".0" added to integral
// ones, temporal values as quoted strings with six fractional digits.
// (MariaDB's JSON is LONGTEXT: the binary log carries the text itself.)

// Binary JSON value types.
const (
	jbSmallObject = 0x00
	jbLargeObject = 0x01
	jbSmallArray  = 0x02
	jbLargeArray  = 0x03
	jbLiteral     = 0x04
	jbInt16       = 0x05
	jbUint16      = 0x06
	jbInt32       = 0x07
	jbUint32      = 0x08
	jbInt64       = 0x09
	jbUint64      = 0x0a
	jbDouble      = 0x0b
	jbString      = 0x0c
	jbOpaque      = 0x0f
)

const jsonMaxDepth = 100

var errBadJSON = errors.New("malformed binary JSON value")

// jsonBinaryText renders a binary JSON document.
func jsonBinaryText(b []byte) ([]byte, error) {
	if len(b) == 0 {
		// An empty value is what the server stores for a JSON NULL
		// written in some modes; it reads as the JSON null literal.
		return []byte("null"), nil
	}
	out := make([]byte, 0, len(b)+len(b)/2)
	return appendJSONValue(out, b[0], b[1:], 0)
}

func appendJSONValue(out []byte, typ byte, data []byte, depth int) ([]byte, error) {
	if depth > jsonMaxDepth {
		return nil, errBadJSON
	}
	switch typ {
	case jbSmallObject, jbLargeObject, jbSmallArray, jbLargeArray:
		return appendJSONContainer(out, typ, data, depth)
	case jbLiteral:
		if len(data) < 1 {
			return nil, errBadJSON
		}
		switch data[0] {
		case 0:
			return append(out, "null"...), nil
		case 1:
			return append(out, "true"...), nil
		case 2:
			return append(out, "false"...), nil
		}
		return nil, errBadJSON
	case jbInt16:
		if len(data) < 2 {
			return nil, errBadJSON
		}
		return strconv.AppendInt(out, int64(int16(binary.LittleEndian.Uint16(data))), 10), nil
	case jbUint16:
		if len(data) < 2 {
			return nil, errBadJSON
		}
		return strconv.AppendUint(out, uint64(binary.LittleEndian.Uint16(data)), 10), nil
	case jbInt32:
		if len(data) < 4 {
			return nil, errBadJSON
		}
		return strconv.AppendInt(out, int64(int32(binary.LittleEndian.Uint32(data))), 10), nil
	case jbUint32:
		if len(data) < 4 {
			return nil, errBadJSON
		}
		return strconv.AppendUint(out, uint64(binary.LittleEndian.Uint32(data)), 10), nil
	case jbInt64:
		if len(data) < 8 {
			return nil, errBadJSON
		}
		return strconv.AppendInt(out, int64(binary.LittleEndian.Uint64(data)), 10), nil
	case jbUint64:
		if len(data) < 8 {
			return nil, errBadJSON
		}
		return strconv.AppendUint(out, binary.LittleEndian.Uint64(data), 10), nil
	case jbDouble:
		if len(data) < 8 {
			return nil, errBadJSON
		}
		return appendJSONDouble(out, math.Float64frombits(binary.LittleEndian.Uint64(data))), nil
	case jbString:
		n, size, ok := jsonVarLen(data)
		if !ok || len(data) < size+n {
			return nil, errBadJSON
		}
		return appendJSONString(out, data[size:size+n]), nil
	case jbOpaque:
		if len(data) < 1 {
			return nil, errBadJSON
		}
		n, size, ok := jsonVarLen(data[1:])
		if !ok || len(data) < 1+size+n {
			return nil, errBadJSON
		}
		return appendJSONOpaque(out, data[0], data[1+size:1+size+n])
	}
	return nil, errBadJSON
}

// appendJSONContainer renders an object or array. Its header is the
// element count and byte size (2 bytes each when small, 4 when large),
// then for an object the key entries (offset, 2-byte length), then the
// value entries (type, then an offset or an inlined scalar). Offsets are
// from the start of data.
func appendJSONContainer(out []byte, typ byte, data []byte, depth int) ([]byte, error) {
	large := typ == jbLargeObject || typ == jbLargeArray
	object := typ == jbSmallObject || typ == jbLargeObject
	w := 2
	if large {
		w = 4
	}
	word := func(p []byte) int {
		if large {
			return int(binary.LittleEndian.Uint32(p))
		}
		return int(binary.LittleEndian.Uint16(p))
	}
	if len(data) < 2*w {
		return nil, errBadJSON
	}
	count, size := word(data), word(data[w:])
	if size > len(data) || count < 0 {
		return nil, errBadJSON
	}
	data = data[:size]
	keyEntry := 0
	if object {
		keyEntry = w + 2
	}
	valueEntry := 1 + w
	header := 2*w + count*(keyEntry+valueEntry)
	if header > len(data) {
		return nil, errBadJSON
	}
	open, close := byte('['), byte(']')
	if object {
		open, close = '{', '}'
	}
	out = append(out, open)
	for i := 0; i < count; i++ {
		if i > 0 {
			out = append(out, ", "...)
		}
		if object {
			ke := data[2*w+i*keyEntry:]
			off, n := word(ke), int(binary.LittleEndian.Uint16(ke[w:]))
			if off+n > len(data) {
				return nil, errBadJSON
			}
			out = appendJSONString(out, data[off:off+n])
			out = append(out, ": "...)
		}
		ve := data[2*w+count*keyEntry+i*valueEntry:]
		vt := ve[0]
		if jsonInlined(vt, large) {
			var err error
			if out, err = appendJSONValue(out, vt, ve[1:1+w], depth+1); err != nil {
				return nil, err
			}
			continue
		}
		off := word(ve[1:])
		if off >= len(data) {
			return nil, errBadJSON
		}
		var err error
		if out, err = appendJSONValue(out, vt, data[off:], depth+1); err != nil {
			return nil, err
		}
	}
	return append(out, close), nil
}

// jsonInlined says whether a value of type t sits in its value entry.
func jsonInlined(t byte, large bool) bool {
	switch t {
	case jbLiteral, jbInt16, jbUint16:
		return true
	case jbInt32, jbUint32:
		return large
	}
	return false
}

// jsonVarLen reads a length stored 7 bits per byte, low bits first.
func jsonVarLen(b []byte) (n, size int, ok bool) {
	for i := 0; i < 5 && i < len(b); i++ {
		n |= int(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return n, i + 1, true
		}
	}
	return 0, 0, false
}

// appendJSONString quotes s as MySQL does: \" \\ \b \f \n \r \t, and
// \u00XX (lower-case hex) for the other control characters.
func appendJSONString(out, s []byte) []byte {
	const hexDigits = "0123456789abcdef"
	out = append(out, '"')
	for _, c := range s {
		switch c {
		case '"', '\\':
			out = append(out, '\\', c)
		case '\b':
			out = append(out, '\\', 'b')
		case '\f':
			out = append(out, '\\', 'f')
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		default:
			if c <= 0x1f {
				out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			} else {
				out = append(out, c)
			}
		}
	}
	return append(out, '"')
}

// appendJSONDouble prints d as MySQL's my_gcvt(MY_GCVT_ARG_DOUBLE) with
// its widest field does (the shortest digits that read back as d; the 'f'
// format unless the exponent is below -14 or an integer has more than 15
// digits), then adds ".0" when the result looks like an integer.
func appendJSONDouble(out []byte, d float64) []byte {
	if math.IsInf(d, 0) || math.IsNaN(d) {
		return append(out, '0')
	}
	start := len(out)
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], d, 'e', -1, 64)
	neg := e[0] == '-'
	if neg {
		e = e[1:]
	}
	mant, exp, _ := strings.Cut(string(e), "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	decpt := x + 1
	if digits == "0" {
		decpt = 1
	}
	n := len(digits)
	if neg {
		out = append(out, '-')
	}
	if decpt >= -14 && (decpt <= 15 || n > decpt) {
		switch {
		case decpt <= 0:
			out = append(out, "0."...)
			out = append(out, strings.Repeat("0", -decpt)...)
			out = append(out, digits...)
		case decpt < n:
			out = append(out, digits[:decpt]...)
			out = append(out, '.')
			out = append(out, digits[decpt:]...)
		default:
			out = append(out, digits...)
			out = append(out, strings.Repeat("0", decpt-n)...)
		}
	} else {
		out = append(out, digits[0])
		if n > 1 {
			out = append(out, '.')
			out = append(out, digits[1:]...)
		}
		out = append(out, 'e')
		out = strconv.AppendInt(out, int64(decpt-1), 10)
	}
	if !strings.ContainsAny(string(out[start:]), ".e") {
		out = append(out, ".0"...)
	}
	return out
}

// appendJSONOpaque renders a MySQL value kept opaque in a JSON document:
// DECIMAL as a number, DATE/TIME/DATETIME/TIMESTAMP as quoted text, a
// string as a string, anything else as "base64:type<N>:<data>".
func appendJSONOpaque(out []byte, fieldType byte, data []byte) ([]byte, error) {
	switch fieldType {
	case mtNewDecimal:
		if len(data) < 2 {
			return nil, errBadJSON
		}
		prec, scale := int(data[0]), int(data[1])
		if scale > prec || prec > 65 || prec == 0 {
			return nil, errBadJSON
		}
		return decodeBinDecimal(data[2:], prec, scale, out)
	case mtDate, mtDateTime, mtTimestamp, mtTime:
		if len(data) < 8 {
			return nil, errBadJSON
		}
		packed := int64(binary.LittleEndian.Uint64(data))
		out = append(out, '"')
		if fieldType == mtTime {
			neg := packed < 0
			if neg {
				packed = -packed
			}
			hms, usec := packed>>24, packed&(1<<24-1)
			out = appendTimeText(out, neg, hms>>12&1023, hms>>6&63, hms&63, usec, 6)
			return append(out, '"'), nil
		}
		if packed < 0 {
			packed = -packed
		}
		ymdhms, usec := packed>>24, packed&(1<<24-1)
		ymd, hms := ymdhms>>17, ymdhms&(1<<17-1)
		ym, day := ymd>>5, ymd&31
		out = appendZeroPadded(out, uint64(ym/13), 4)
		out = append(out, '-')
		out = appendZeroPadded(out, uint64(ym%13), 2)
		out = append(out, '-')
		out = appendZeroPadded(out, uint64(day), 2)
		if fieldType != mtDate {
			out = append(out, ' ')
			out = appendTimeText(out, false, hms>>12, hms>>6&63, hms&63, usec, 6)
		}
		return append(out, '"'), nil
	case mtVarString:
		return appendJSONString(out, data), nil
	}
	s := "base64:type" + strconv.Itoa(int(fieldType)) + ":" + base64.StdEncoding.EncodeToString(data)
	return appendJSONString(out, []byte(s)), nil
}
