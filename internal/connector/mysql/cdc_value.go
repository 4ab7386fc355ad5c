package mysql

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// Column types of the binary log (TABLE_MAP_EVENT).
const (
	mtDecimal     = 0
	mtTiny        = 1
	mtShort       = 2
	mtLong        = 3
	mtFloat       = 4
	mtDouble      = 5
	mtNull        = 6
	mtTimestamp   = 7
	mtLongLong    = 8
	mtInt24       = 9
	mtDate        = 10
	mtTime        = 11
	mtDateTime    = 12
	mtYear        = 13
	mtNewDate     = 14
	mtVarchar     = 15
	mtBit         = 16
	mtTimestamp2  = 17
	mtDateTime2   = 18
	mtTime2       = 19
	mtVarcharComp = 140 // MariaDB compressed column
	mtBlobComp    = 141 // MariaDB compressed column
	mtJSON        = 245
	mtNewDecimal  = 246
	mtEnum        = 247
	mtSet         = 248
	mtTinyBlob    = 249
	mtMediumBlob  = 250
	mtLongBlob    = 251
	mtBlob        = 252
	mtVarString   = 253
	mtString      = 254
	mtGeometry    = 255
)

// metaLen is how many metadata bytes a column type has in a table map.
func binlogMetaLen(typ byte) int {
	switch typ {
	case mtFloat, mtDouble, mtBlob, mtTinyBlob, mtMediumBlob, mtLongBlob, mtGeometry, mtJSON,
		mtTimestamp2, mtDateTime2, mtTime2, mtBlobComp:
		return 1
	case mtVarchar, mtVarString, mtNewDecimal, mtBit, mtString, mtEnum, mtSet, mtVarcharComp:
		return 2
	}
	return 0
}

// binlogOp is how a column's binary log value is read.
type binlogOp uint8

const (
	bvInt binlogOp = iota + 1
	bvYear
	bvFloat
	bvDouble
	bvDecimal
	bvDate
	bvTime
	bvTime2
	bvDateTime
	bvDateTime2
	bvTimestamp
	bvTimestamp2
	bvBit
	bvEnum
	bvSet
	bvVarLen // a length prefix of lenBytes, then the value
	bvJSON
)

// binlogValueForm says how a byte value becomes the column's canonical value.
type binlogValueForm uint8

const (
	spNone  binlogValueForm = iota
	spText                  // character data: converted to UTF-8
	spBytes                 // binary data
	spUUID                  // MariaDB UUID: 16 bytes in the record's byte order
	spInet4
	spInet6
)

// colDecoder reads one column of a row image into its canonical value.
type colDecoder struct {
	name     string
	kind     record.Kind
	op       binlogOp
	sp       binlogValueForm
	size     int // fixed size in bytes (ints, floats, temporal, bit, enum, set, decimal)
	lenBytes int // bvVarLen: length prefix bytes
	unsigned bool
	prec     int // decimal precision
	scale    int // decimal scale
	fsp      int // fractional-second digits
	padTo    int // BINARY(n): the server strips trailing NULs, the read pads them
	labels   []string
	conv     *charsetConv // nil = UTF-8 already
}

var errBadBinlogValue = errors.New("malformed binary log value")

// newColDecoder builds the decoder of a column whose binary log type and
// metadata are typ and meta, for the task's column col.
func newColDecoder(typ byte, meta [2]byte, col *record.Column, conv *charsetConv) (*colDecoder, error) {
	d := &colDecoder{name: col.Name, kind: col.Type.Kind}
	native := strings.ToLower(col.Type.Native)
	d.unsigned = strings.Contains(native, "unsigned")
	bad := func() (*colDecoder, error) {
		return nil, fmt.Errorf("column %q: binary log type %d does not match its type %s (%s): the table changed since its definition was read",
			col.Name, typ, col.Type.Kind, col.Type.Native)
	}
	isInt := func() bool {
		switch d.kind {
		case record.KindInt16, record.KindInt32, record.KindInt64, record.KindUint64, record.KindBool:
			return true
		}
		return false
	}
	isText := func() bool {
		switch d.kind {
		case record.KindString, record.KindText, record.KindJSON, record.KindEnum, record.KindUUID, record.KindInterval, record.KindArray:
			return true
		}
		return false
	}
	isBinary := func() bool { return d.kind == record.KindBytes || d.kind == record.KindBlob }
	switch typ {
	case mtTiny, mtShort, mtInt24, mtLong, mtLongLong:
		d.op, d.size = bvInt, map[byte]int{mtTiny: 1, mtShort: 2, mtInt24: 3, mtLong: 4, mtLongLong: 8}[typ]
		if !isInt() {
			return bad()
		}
	case mtYear:
		d.op, d.size = bvYear, 1
		if !isInt() {
			return bad()
		}
	case mtFloat:
		d.op, d.size = bvFloat, 4
		if d.kind != record.KindFloat32 && d.kind != record.KindFloat64 {
			return bad()
		}
	case mtDouble:
		d.op, d.size = bvDouble, 8
		if d.kind != record.KindFloat32 && d.kind != record.KindFloat64 {
			return bad()
		}
	case mtNewDecimal:
		d.op, d.prec, d.scale = bvDecimal, int(meta[0]), int(meta[1])
		if d.scale > d.prec || d.prec > 65 || d.kind != record.KindNumeric {
			return bad()
		}
		d.size = binDecimalSize(d.prec, d.scale)
	case mtDate, mtNewDate:
		d.op, d.size = bvDate, 3
		if d.kind != record.KindDate {
			return bad()
		}
	case mtTime:
		d.op, d.size = bvTime, 3
		if d.kind != record.KindTime {
			return bad()
		}
	case mtTime2:
		d.op, d.fsp = bvTime2, int(meta[0])
		d.size = 3 + (d.fsp+1)/2
		if d.kind != record.KindTime || d.fsp > 6 {
			return bad()
		}
	case mtDateTime:
		d.op, d.size = bvDateTime, 8
		if d.kind != record.KindTimestamp && d.kind != record.KindTimestampTZ {
			return bad()
		}
	case mtDateTime2:
		d.op, d.fsp = bvDateTime2, int(meta[0])
		d.size = 5 + (d.fsp+1)/2
		if (d.kind != record.KindTimestamp && d.kind != record.KindTimestampTZ) || d.fsp > 6 {
			return bad()
		}
	case mtTimestamp:
		d.op, d.size = bvTimestamp, 4
		if d.kind != record.KindTimestamp && d.kind != record.KindTimestampTZ {
			return bad()
		}
	case mtTimestamp2:
		d.op, d.fsp = bvTimestamp2, int(meta[0])
		d.size = 4 + (d.fsp+1)/2
		if (d.kind != record.KindTimestamp && d.kind != record.KindTimestampTZ) || d.fsp > 6 {
			return bad()
		}
	case mtBit:
		d.op = bvBit
		d.size = int(meta[1])
		if meta[0] > 0 {
			d.size++
		}
		if d.kind != record.KindBool && !isBinary() {
			return bad()
		}
	case mtVarchar, mtVarString:
		d.op, d.lenBytes = bvVarLen, 1
		if int(meta[0])|int(meta[1])<<8 > 255 {
			d.lenBytes = 2
		}
		if err := d.setBytesKind(native, col, conv, isText(), isBinary()); err != nil {
			return nil, err
		}
	case mtString:
		realType, length := meta[0], int(meta[1])
		if realType&0x30 != 0x30 {
			length |= int((realType&0x30)^0x30) << 4
			realType |= 0x30
		}
		switch realType {
		case mtEnum:
			d.op, d.size, d.labels = bvEnum, length, col.Type.EnumValues
			if d.size != 1 && d.size != 2 || !isText() {
				return bad()
			}
			if d.kind != record.KindEnum {
				d.labels = parseEnumValues(col.Type.Native)
			}
		case mtSet:
			d.op, d.size, d.labels = bvSet, length, parseEnumValues(col.Type.Native)
			if d.size < 1 || d.size > 8 || !isText() {
				return bad()
			}
		case mtString:
			d.op, d.lenBytes = bvVarLen, 1
			if length > 255 {
				d.lenBytes = 2
			}
			if err := d.setBytesKind(native, col, conv, isText(), isBinary()); err != nil {
				return nil, err
			}
		default:
			return bad()
		}
	case mtBlob, mtTinyBlob, mtMediumBlob, mtLongBlob, mtGeometry:
		d.op, d.lenBytes = bvVarLen, int(meta[0])
		if d.lenBytes < 1 || d.lenBytes > 4 {
			return bad()
		}
		if err := d.setBytesKind(native, col, conv, isText(), isBinary()); err != nil {
			return nil, err
		}
	case mtJSON:
		d.op, d.lenBytes = bvJSON, int(meta[0])
		if d.lenBytes < 1 || d.lenBytes > 4 || d.kind != record.KindJSON {
			return bad()
		}
	case mtVarcharComp, mtBlobComp:
		return nil, fmt.Errorf("column %q is a COMPRESSED column: its binary log values are compressed, which CDC does not read; remove the COMPRESSED attribute", col.Name)
	default:
		return nil, fmt.Errorf("column %q: binary log column type %d is not supported by CDC", col.Name, typ)
	}
	return d, nil
}

// setBytesKind picks how a length-prefixed value becomes the column's.
func (d *colDecoder) setBytesKind(native string, col *record.Column, conv *charsetConv, text, binary bool) error {
	switch {
	case d.kind == record.KindUUID:
		d.sp = spUUID
	case native == "inet6":
		d.sp = spInet6
	case native == "inet4":
		d.sp = spInet4
	case text:
		d.sp, d.conv = spText, conv
	case binary:
		d.sp = spBytes
		if strings.HasPrefix(native, "binary(") {
			d.padTo = col.Type.Length
		}
	default:
		return fmt.Errorf("column %q: binary log string value does not match its type %s (%s): the table changed since its definition was read",
			col.Name, col.Type.Kind, col.Type.Native)
	}
	return nil
}

// decode reads the value at the start of b: the canonical value and how
// many bytes it took.
func (d *colDecoder) decode(b []byte, a *arena) (any, int, error) {
	if d.size > 0 && len(b) < d.size {
		return nil, 0, d.short()
	}
	switch d.op {
	case bvInt:
		var u uint64
		switch d.size {
		case 1:
			u = uint64(b[0])
		case 2:
			u = uint64(binary.LittleEndian.Uint16(b))
		case 3:
			u = uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16
		case 4:
			u = uint64(binary.LittleEndian.Uint32(b))
		default:
			u = binary.LittleEndian.Uint64(b)
		}
		return d.intValue(u), d.size, nil
	case bvYear:
		y := int64(b[0])
		if y != 0 {
			y += 1900
		}
		return d.intValue(uint64(y)), 1, nil
	case bvFloat:
		f := float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		return f, 4, nil
	case bvDouble:
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), 8, nil
	case bvDecimal:
		var buf [80]byte
		s, err := decodeBinDecimal(b[:d.size], d.prec, d.scale, buf[:0])
		if err != nil {
			return nil, 0, fmt.Errorf("column %q: %w", d.name, err)
		}
		return a.String(s), d.size, nil
	case bvDate:
		v := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
		day, month, year := int(v&31), int(v>>5&15), int(v>>9)
		if day == 0 || month == 0 {
			return nil, 3, nil
		}
		return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), 3, nil
	case bvTime:
		v := int64(int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8)
		neg := v < 0
		if neg {
			v = -v
		}
		var buf [24]byte
		return a.String(appendTimeText(buf[:0], neg, v/10000, v/100%100, v%100, 0, 0)), 3, nil
	case bvTime2:
		var buf [24]byte
		return a.String(decodeTime2(buf[:0], b, d.fsp)), d.size, nil
	case bvDateTime:
		v := binary.LittleEndian.Uint64(b)
		date, tod := v/1000000, v%1000000
		year, month, day := int(date/10000), int(date/100%100), int(date%100)
		if month == 0 || day == 0 {
			return nil, 8, nil
		}
		return time.Date(year, time.Month(month), day, int(tod/10000), int(tod/100%100), int(tod%100), 0, time.UTC), 8, nil
	case bvDateTime2:
		t, ok := decodeDateTime2(b, d.fsp)
		if !ok {
			return nil, d.size, nil
		}
		return t, d.size, nil
	case bvTimestamp:
		sec := binary.LittleEndian.Uint32(b)
		if sec == 0 {
			return nil, 4, nil
		}
		return time.Unix(int64(sec), 0).UTC(), 4, nil
	case bvTimestamp2:
		sec := int64(binary.BigEndian.Uint32(b))
		usec := int64(binlogFracMicros(b[4:d.size], d.fsp))
		if sec == 0 && usec == 0 {
			return nil, d.size, nil
		}
		return time.Unix(sec, usec*1000).UTC(), d.size, nil
	case bvBit:
		if d.kind == record.KindBool {
			for _, c := range b[:d.size] {
				if c != 0 {
					return true, d.size, nil
				}
			}
			return false, d.size, nil
		}
		return a.Bytes(b[:d.size]), d.size, nil
	case bvEnum:
		i := int(b[0])
		if d.size == 2 {
			i = int(binary.LittleEndian.Uint16(b))
		}
		switch {
		case i == 0:
			return "", d.size, nil
		case i <= len(d.labels):
			return d.labels[i-1], d.size, nil
		}
		return nil, 0, fmt.Errorf("column %q: enum index %d beyond its %d labels: the table changed since its definition was read", d.name, i, len(d.labels))
	case bvSet:
		var mask uint64
		for i := d.size - 1; i >= 0; i-- {
			mask = mask<<8 | uint64(b[i])
		}
		return a.String(setText(mask, d.labels)), d.size, nil
	case bvVarLen, bvJSON:
		if len(b) < d.lenBytes {
			return nil, 0, d.short()
		}
		var n int
		for i := d.lenBytes - 1; i >= 0; i-- {
			n = n<<8 | int(b[i])
		}
		end := d.lenBytes + n
		if n < 0 || len(b) < end {
			return nil, 0, d.short()
		}
		v, err := d.bytesValue(b[d.lenBytes:end], a)
		if err != nil {
			return nil, 0, fmt.Errorf("column %q: %w", d.name, err)
		}
		return v, end, nil
	}
	return nil, 0, fmt.Errorf("column %q: no decoder", d.name)
}

func (d *colDecoder) short() error {
	return fmt.Errorf("column %q: %w (value runs past the event)", d.name, errBadBinlogValue)
}

// intValue converts an integer read as size bytes to the column's kind,
// sign-extending signed columns.
func (d *colDecoder) intValue(u uint64) any {
	var s int64
	if d.unsigned || d.op == bvYear {
		s = int64(u)
	} else {
		shift := 64 - 8*uint(d.size)
		s = int64(u<<shift) >> shift
	}
	switch d.kind {
	case record.KindUint64:
		if !d.unsigned {
			return uint64(s)
		}
		return u
	case record.KindBool:
		return u != 0
	}
	return s
}

// bytesValue converts a length-prefixed value.
func (d *colDecoder) bytesValue(b []byte, a *arena) (any, error) {
	if d.op == bvJSON {
		s, err := jsonBinaryText(b)
		if err != nil {
			return nil, err
		}
		return a.String(s), nil
	}
	switch d.sp {
	case spText:
		if d.conv != nil {
			return d.conv.decode(b, a)
		}
		return a.String(b), nil
	case spBytes:
		if d.padTo > len(b) {
			p := make([]byte, d.padTo)
			copy(p, b)
			return p, nil
		}
		return a.Bytes(b), nil
	case spUUID:
		return a.String(mariaUUIDText(b)), nil
	case spInet6:
		return a.String(inet6Text(b)), nil
	case spInet4:
		return a.String(inet4Text(b)), nil
	}
	return nil, errBadBinlogValue
}

var binDecimalGroupBytes = [10]int{0, 1, 1, 2, 2, 3, 3, 4, 4, 4}

// binDecimalSize is the bytes of a DECIMAL(prec, scale) in binary form.
func binDecimalSize(prec, scale int) int {
	intg := prec - scale
	return intg/9*4 + binDecimalGroupBytes[intg%9] + scale/9*4 + binDecimalGroupBytes[scale%9]
}

// decodeBinDecimal renders the binary DECIMAL in b as the server prints it:
// no leading zeros, at least one integer digit, exactly scale decimals.
// The binary form is groups of nine digits in four big-endian bytes
// (fewer for a leading or trailing partial group), with the sign bit of
// the first byte inverted and every byte inverted for a negative value.
func decodeBinDecimal(b []byte, prec, scale int, out []byte) ([]byte, error) {
	size := binDecimalSize(prec, scale)
	if len(b) < size || size == 0 {
		return nil, errBadBinlogValue
	}
	var tmp [40]byte
	d := tmp[:size]
	copy(d, b)
	neg := d[0]&0x80 == 0
	d[0] ^= 0x80
	if neg {
		for i := range d {
			d[i] ^= 0xff
		}
	}
	be := func(p []byte) uint32 {
		var v uint32
		for _, c := range p {
			v = v<<8 | uint32(c)
		}
		return v
	}
	out = append(out, '-')
	start := len(out)
	intg := prec - scale
	pos := 0
	if n := binDecimalGroupBytes[intg%9]; n > 0 {
		if v := be(d[:n]); v != 0 {
			out = strconv.AppendUint(out, uint64(v), 10)
		}
		pos = n
	}
	for range intg / 9 {
		v := be(d[pos : pos+4])
		pos += 4
		if len(out) > start {
			out = appendZeroPadded(out, uint64(v), 9)
		} else if v != 0 {
			out = strconv.AppendUint(out, uint64(v), 10)
		}
	}
	if len(out) == start {
		out = append(out, '0')
	}
	if scale > 0 {
		out = append(out, '.')
		for range scale / 9 {
			out = appendZeroPadded(out, uint64(be(d[pos:pos+4])), 9)
			pos += 4
		}
		if r := scale % 9; r > 0 {
			out = appendZeroPadded(out, uint64(be(d[pos:pos+binDecimalGroupBytes[r]])), r)
		}
	}
	zero := true
	for _, c := range out[start:] {
		if c != '0' && c != '.' {
			zero = false
			break
		}
	}
	if !neg || zero {
		out = out[start:]
	}
	return out, nil
}

// appendZeroPadded appends v with at least width digits.
func appendZeroPadded(out []byte, v uint64, width int) []byte {
	var buf [20]byte
	s := strconv.AppendUint(buf[:0], v, 10)
	for i := len(s); i < width; i++ {
		out = append(out, '0')
	}
	return append(out, s...)
}

// binlogFracMicros reads the fractional seconds of a TIME2/DATETIME2/TIMESTAMP2
// (big-endian, (fsp+1)/2 bytes) as microseconds.
func binlogFracMicros(b []byte, fsp int) uint32 {
	switch (fsp + 1) / 2 {
	case 1:
		return uint32(b[0]) * 10000
	case 2:
		return uint32(binary.BigEndian.Uint16(b)) * 100
	case 3:
		return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
	}
	return 0
}

// decodeDateTime2 reads a DATETIME2; ok is false for a zero date (or a
// zero month or day), which is NULL.
func decodeDateTime2(b []byte, fsp int) (time.Time, bool) {
	v := uint64(b[0])<<32 | uint64(binary.BigEndian.Uint32(b[1:]))
	packed := int64(v) - 0x8000000000
	usec := binlogFracMicros(b[5:], fsp)
	if packed < 0 {
		packed = -packed
	}
	ymd, hms := packed>>17, packed&(1<<17-1)
	ym, day := ymd>>5, int(ymd&31)
	year, month := int(ym/13), int(ym%13)
	if day == 0 || month == 0 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, int(hms>>12), int(hms>>6&63), int(hms&63), int(usec)*1000, time.UTC), true
}

// decodeTime2 renders a TIME2 as the server prints TIME(fsp):
// [-]HH:MM:SS[.fff], at least two hour digits.
func decodeTime2(out, b []byte, fsp int) []byte {
	var packed int64
	intPart := int64(uint32(b[0])<<16|uint32(b[1])<<8|uint32(b[2])) - 0x800000
	switch (fsp + 1) / 2 {
	case 0:
		packed = intPart << 24
	case 1:
		frac := int64(b[3])
		if intPart < 0 && frac != 0 {
			intPart++
			frac -= 0x100
		}
		packed = intPart<<24 + frac*10000
	case 2:
		frac := int64(binary.BigEndian.Uint16(b[3:]))
		if intPart < 0 && frac != 0 {
			intPart++
			frac -= 0x10000
		}
		packed = intPart<<24 + frac*100
	default:
		v := uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(binary.BigEndian.Uint32(b[2:]))
		packed = int64(v) - 0x800000000000
	}
	neg := packed < 0
	if neg {
		packed = -packed
	}
	hms, usec := packed>>24, packed&(1<<24-1)
	return appendTimeText(out, neg, hms>>12&1023, hms>>6&63, hms&63, usec, fsp)
}

func appendTimeText(out []byte, neg bool, h, m, s, usec int64, fsp int) []byte {
	if neg {
		out = append(out, '-')
	}
	out = appendZeroPadded(out, uint64(h), 2)
	out = append(out, ':')
	out = appendZeroPadded(out, uint64(m), 2)
	out = append(out, ':')
	out = appendZeroPadded(out, uint64(s), 2)
	if fsp > 0 {
		out = append(out, '.')
		div := uint64(1)
		for range 6 - fsp {
			div *= 10
		}
		out = appendZeroPadded(out, uint64(usec)/div, fsp)
	}
	return out
}

// setText renders a SET bitmask as its labels joined by commas.
func setText(mask uint64, labels []string) []byte {
	var out []byte
	for i, l := range labels {
		if i < 64 && mask&(1<<uint(i)) != 0 {
			if len(out) > 0 {
				out = append(out, ',')
			}
			out = append(out, l...)
		}
	}
	if out == nil {
		out = []byte{}
	}
	return out
}

// mariaUUIDText renders MariaDB's UUID column: the record keeps version 1-5
// RFC 4122 UUIDs with their segments swapped (time-ordered), others as
// they are.
func mariaUUIDText(rec []byte) []byte {
	var r [16]byte
	copy(r[:], rec)
	m := r
	// rec_need_swap: the variant byte (record offset 6) has its high bit
	// set and the version byte (record offset 8) is 1..128 as a C char.
	if int(int8(r[6]))&-int(int8(r[8]))&0x80 != 0 {
		copy(m[0:4], r[12:16])
		copy(m[4:6], r[10:12])
		copy(m[6:8], r[8:10])
		copy(m[8:10], r[6:8])
		copy(m[10:16], r[0:6])
	}
	out := make([]byte, 0, 36)
	for i, seg := range [][]byte{m[0:4], m[4:6], m[6:8], m[8:10], m[10:16]} {
		if i > 0 {
			out = append(out, '-')
		}
		out = hex.AppendEncode(out, seg)
	}
	return out
}

func inet4Text(b []byte) []byte {
	var r [4]byte
	copy(r[:], b)
	out := make([]byte, 0, 15)
	for i, c := range r {
		if i > 0 {
			out = append(out, '.')
		}
		out = strconv.AppendUint(out, uint64(c), 10)
	}
	return out
}

// inet6Text renders an INET6 the way MariaDB prints it: lower-case hex
// words without leading zeros, the first longest run of zero words as
// "::", and IPv4-compatible or IPv4-mapped addresses with a dotted quad.
func inet6Text(b []byte) []byte {
	var r [16]byte
	copy(r[:], b)
	var w [8]uint16
	for i := range w {
		w[i] = binary.BigEndian.Uint16(r[2*i:])
	}
	gapPos, gapLen := -1, 0
	for i := 0; i < 8; {
		if w[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && w[j] == 0 {
			j++
		}
		if j-i > gapLen {
			gapPos, gapLen = i, j-i
		}
		i = j
	}
	out := make([]byte, 0, 39)
	for i := 0; i < 8; i++ {
		switch {
		case i == gapPos:
			if i == 0 {
				out = append(out, ':')
			}
			out = append(out, ':')
			i += gapLen - 1
		case i == 6 && gapPos == 0 && (gapLen == 6 || gapLen == 5 && w[5] == 0xffff):
			return append(out, inet4Text(r[12:])...)
		default:
			out = strconv.AppendUint(out, uint64(w[i]), 16)
			if i != 7 {
				out = append(out, ':')
			}
		}
	}
	return out
}
