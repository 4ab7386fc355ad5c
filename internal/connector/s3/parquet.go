package s3

import (
	"fmt"
	"io"
	"math"
	"math/bits"
	"reflect"
	"strings"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"

	"github.com/godwit-dms/godwit/internal/record"
)

// parquetKind is how a column's values are converted to Parquet values.
type parquetKind uint8

const (
	pqBool parquetKind = iota
	pqInt32
	pqInt64
	pqUint64
	pqFloat
	pqDouble
	pqString
	pqBytes
	pqDecimal32
	pqDecimal64
	pqDecimal128
	pqDate
	pqTime
	pqTimestampMicros
	pqTimestampMillis
)

// parquetColumn is one leaf of the file's schema.
type parquetColumn struct {
	name   string
	kind   record.Kind
	pq     parquetKind
	scale  int
	prec   int
	nodeOf parquet.Node
}

// parquetColumnFor maps a column to its Parquet type (see TYPES.md): the
// logical types of DMS's "Data types for Amazon S3 Parquet", with
// microseconds kept for TIME and timestamps.
func parquetColumnFor(c record.Column, millis bool) parquetColumn {
	pc := parquetColumn{name: c.Name, kind: c.Type.Kind}
	switch c.Type.Kind {
	case record.KindBool:
		pc.pq, pc.nodeOf = pqBool, parquet.Leaf(parquet.BooleanType)
	case record.KindInt16:
		pc.pq, pc.nodeOf = pqInt32, parquet.Int(16)
	case record.KindInt32:
		pc.pq, pc.nodeOf = pqInt32, parquet.Int(32)
	case record.KindInt64:
		pc.pq, pc.nodeOf = pqInt64, parquet.Int(64)
	case record.KindUint64:
		pc.pq, pc.nodeOf = pqUint64, parquet.Uint(64)
	case record.KindFloat32:
		pc.pq, pc.nodeOf = pqFloat, parquet.Leaf(parquet.FloatType)
	case record.KindFloat64:
		pc.pq, pc.nodeOf = pqDouble, parquet.Leaf(parquet.DoubleType)
	case record.KindNumeric:
		p, s := c.Type.Precision, c.Type.Scale
		switch {
		case p <= 0 || p > 38 || s < 0 || s > p:
			// Unbounded or wider than a DECIMAL(38): exact text.
			pc.pq, pc.nodeOf = pqString, parquet.String()
		case p <= 9:
			pc.pq, pc.nodeOf = pqDecimal32, parquet.Decimal(s, p, parquet.Int32Type)
		case p <= 18:
			pc.pq, pc.nodeOf = pqDecimal64, parquet.Decimal(s, p, parquet.Int64Type)
		default:
			pc.pq, pc.nodeOf = pqDecimal128, parquet.Decimal(s, p, parquet.FixedLenByteArrayType(16))
		}
		pc.prec, pc.scale = p, s
	case record.KindBytes, record.KindBlob:
		pc.pq, pc.nodeOf = pqBytes, parquet.Leaf(parquet.ByteArrayType)
	case record.KindDate:
		pc.pq, pc.nodeOf = pqDate, parquet.Date()
	case record.KindTime:
		native := strings.ToLower(c.Type.Native)
		if strings.Contains(native, "time zone") || strings.Contains(native, "timetz") {
			// A time with an offset has no Parquet type: keep the text.
			pc.pq, pc.nodeOf = pqString, parquet.String()
		} else {
			pc.pq, pc.nodeOf = pqTime, parquet.TimeAdjusted(parquet.Microsecond, false)
		}
	case record.KindTimestamp, record.KindTimestampTZ:
		unit, pq := parquet.Microsecond, pqTimestampMicros
		if millis {
			unit, pq = parquet.Millisecond, pqTimestampMillis
		}
		pc.pq, pc.nodeOf = pq, parquet.TimestampAdjusted(unit, c.Type.Kind == record.KindTimestampTZ)
	default:
		// String, Text, JSON, UUID, Enum, Array, Interval, Unknown.
		pc.pq, pc.nodeOf = pqString, parquet.String()
	}
	return pc
}

// orderedGroup is a Parquet group whose fields keep the table's column
// order (parquet.Group sorts them by name).
type orderedGroup struct {
	fields []parquet.Field
}

type orderedField struct {
	parquet.Node
	name string
}

func (f *orderedField) Name() string                           { return f.name }
func (f *orderedField) Value(base reflect.Value) reflect.Value { return reflect.Value{} }

func (g *orderedGroup) ID() int                     { return 0 }
func (g *orderedGroup) String() string              { return g.asGroup().String() }
func (g *orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g *orderedGroup) Optional() bool              { return false }
func (g *orderedGroup) Repeated() bool              { return false }
func (g *orderedGroup) Required() bool              { return true }
func (g *orderedGroup) Leaf() bool                  { return false }
func (g *orderedGroup) Fields() []parquet.Field     { return g.fields }
func (g *orderedGroup) Encoding() encoding.Encoding { return nil }
func (g *orderedGroup) Compression() compress.Codec { return nil }
func (g *orderedGroup) GoType() reflect.Type        { return g.asGroup().GoType() }
func (g *orderedGroup) asGroup() parquet.Group {
	m := parquet.Group{}
	for _, f := range g.fields {
		m[f.Name()] = f
	}
	return m
}

// parquetEncoder writes rows to Parquet files with the table's schema and
// the endpoint's Parquet settings.
type parquetEncoder struct {
	cols    []parquetColumn
	op, ts  bool
	schema  *parquet.Schema
	options []parquet.WriterOption
	writer  *parquet.Writer

	rows  []parquet.Row
	arena []byte // FIXED_LEN_BYTE_ARRAY decimals of the rows being converted
}

func newParquetEncoder(cfg Config, t *record.Table) (*parquetEncoder, error) {
	s := cfg.Target
	e := &parquetEncoder{op: s.IncludeOpForFullLoad, ts: s.TimestampColumnName != ""}
	var enc encoding.Encoding = &parquet.RLEDictionary
	switch s.EncodingType {
	case EncodingPlain:
		enc = &parquet.Plain
	case EncodingPlainDictionary:
		enc = &parquet.PlainDictionary
	}
	group := &orderedGroup{}
	seen := map[string]bool{}
	add := func(pc parquetColumn) error {
		if seen[pc.name] {
			return fmt.Errorf("%w: two columns of %s are named %q", ErrInvalidName, t.QualifiedName(), pc.name)
		}
		seen[pc.name] = true
		node := pc.nodeOf
		if pc.pq != pqBool {
			node = parquet.Encoded(node, enc)
		}
		group.fields = append(group.fields, &orderedField{Node: parquet.Optional(node), name: pc.name})
		return nil
	}
	if e.op {
		if err := add(parquetColumn{name: "Op", pq: pqString, nodeOf: parquet.String()}); err != nil {
			return nil, err
		}
	}
	for _, c := range t.Columns {
		pc := parquetColumnFor(c, s.TimestampMillis)
		e.cols = append(e.cols, pc)
		if err := add(pc); err != nil {
			return nil, err
		}
	}
	if e.ts {
		if err := add(parquetColumn{name: s.TimestampColumnName, pq: pqString, nodeOf: parquet.String()}); err != nil {
			return nil, err
		}
	}
	e.schema = parquet.NewSchema(t.Name, group)
	var codec compress.Codec = &parquet.Uncompressed
	if cfg.CompressionType == "gzip" {
		codec = &parquet.Gzip
	}
	version := 1
	if s.ParquetVersion == "parquet-2-0" {
		version = 2
	}
	e.options = []parquet.WriterOption{
		e.schema,
		parquet.Compression(codec),
		parquet.DataPageVersion(version),
		parquet.DataPageStatistics(!s.NoStatistics),
		parquet.PageBufferSize(orDefault(s.DataPageSize, DefaultDataPageSize)),
		parquet.MaxRowsPerRowGroup(int64(orDefault(s.RowGroupLength, DefaultRowGroupLength))),
		parquet.DictionaryMaxBytes(int64(orDefault(s.DictPageSizeLimit, DefaultDictPageSizeLimit))),
	}
	if _, err := parquet.NewWriterConfig(e.options...); err != nil {
		return nil, fmt.Errorf("%w: Parquet settings: %v", ErrInvalidConfig, err)
	}
	return e, nil
}

// open starts a new file on w.
func (e *parquetEncoder) open(w io.Writer) {
	if e.writer == nil {
		e.writer = parquet.NewWriter(w, e.options...)
		return
	}
	e.writer.Reset(w)
}

// convert turns rows into Parquet rows (e.rows), checking every value, so
// that a bad value fails the batch before anything is written. ops holds
// each row's operation letter for the op column (nil: all "I"); ts the
// timestamp column's text, one per row or one for all.
func (e *parquetEncoder) convert(rows []record.Row, ops []byte, ts []string) error {
	if cap(e.rows) < len(rows) {
		e.rows = make([]parquet.Row, len(rows))
	}
	e.rows = e.rows[:len(rows)]
	e.arena = e.arena[:0]
	width := len(e.cols)
	if e.op {
		width++
	}
	if e.ts {
		width++
	}
	for i, row := range rows {
		if len(row) != len(e.cols) {
			return fmt.Errorf("%w: %d values for %d columns", ErrRowWidth, len(row), len(e.cols))
		}
		out := e.rows[i][:0]
		if cap(out) < width {
			out = make(parquet.Row, 0, width)
		}
		col := 0
		if e.op {
			op := opLetters[0:1]
			if ops != nil {
				op = opLetter(ops[i])
			}
			out = append(out, parquet.ByteArrayValue(op).Level(0, 1, col))
			col++
		}
		for j, v := range row {
			if v == nil {
				out = append(out, parquet.NullValue().Level(0, 0, col))
				col++
				continue
			}
			pv, err := e.value(&e.cols[j], v)
			if err != nil {
				return fmt.Errorf("column %q: %w", e.cols[j].name, err)
			}
			out = append(out, pv.Level(0, 1, col))
			col++
		}
		if e.ts {
			v := ts[0]
			if len(ts) == len(rows) {
				v = ts[i]
			}
			out = append(out, parquet.ByteArrayValue(stringBytes(v)).Level(0, 1, col))
		}
		e.rows[i] = out
	}
	return nil
}

// opLetters are the values of the op column.
var opLetters = []byte("IUD")

// opLetter is the op column value of an operation letter.
func opLetter(op byte) []byte {
	switch op {
	case 'U':
		return opLetters[1:2]
	case 'D':
		return opLetters[2:3]
	}
	return opLetters[0:1]
}

// stringBytes views s as bytes without copying; the Parquet writer copies
// values into its buffers and never writes to them.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

func (e *parquetEncoder) value(c *parquetColumn, v any) (parquet.Value, error) {
	switch c.pq {
	case pqBool:
		if b, ok := v.(bool); ok {
			return parquet.BooleanValue(b), nil
		}
	case pqInt32:
		if n, ok := asInt64(v); ok {
			if n < math.MinInt32 || n > math.MaxInt32 {
				return parquet.Value{}, fmt.Errorf("%w: %d does not fit in a 32-bit integer", ErrValue, n)
			}
			return parquet.Int32Value(int32(n)), nil
		}
	case pqInt64:
		if n, ok := asInt64(v); ok {
			return parquet.Int64Value(n), nil
		}
	case pqUint64:
		switch n := v.(type) {
		case uint64:
			return parquet.Int64Value(int64(n)), nil
		case int64:
			if n >= 0 {
				return parquet.Int64Value(n), nil
			}
		}
	case pqFloat:
		switch f := v.(type) {
		case float64:
			return parquet.FloatValue(float32(f)), nil
		case float32:
			return parquet.FloatValue(f), nil
		}
	case pqDouble:
		switch f := v.(type) {
		case float64:
			return parquet.DoubleValue(f), nil
		case float32:
			return parquet.DoubleValue(float64(f)), nil
		}
	case pqString:
		switch s := v.(type) {
		case string:
			return parquet.ByteArrayValue(stringBytes(s)), nil
		case []byte:
			return parquet.ByteArrayValue(s), nil
		}
	case pqBytes:
		switch b := v.(type) {
		case []byte:
			return parquet.ByteArrayValue(b), nil
		case string:
			return parquet.ByteArrayValue(stringBytes(b)), nil
		}
	case pqDecimal32, pqDecimal64, pqDecimal128:
		if s, ok := v.(string); ok {
			return e.decimal(c, s)
		}
	case pqDate:
		if t, ok := v.(time.Time); ok {
			days := floorDiv(t.Unix(), 86400)
			if days < math.MinInt32 || days > math.MaxInt32 {
				return parquet.Value{}, fmt.Errorf("%w: date %v is out of range", ErrValue, t)
			}
			return parquet.Int32Value(int32(days)), nil
		}
	case pqTime:
		if s, ok := v.(string); ok {
			us, err := parseTimeMicros(s)
			if err != nil {
				return parquet.Value{}, err
			}
			return parquet.Int64Value(us), nil
		}
	case pqTimestampMicros, pqTimestampMillis:
		if t, ok := v.(time.Time); ok {
			if c.kind == record.KindTimestamp && t.Location() != time.UTC {
				// A wall clock: keep its fields, read as UTC.
				y, mo, d := t.Date()
				h, mi, sec := t.Clock()
				t = time.Date(y, mo, d, h, mi, sec, t.Nanosecond(), time.UTC)
			}
			if c.pq == pqTimestampMillis {
				return parquet.Int64Value(t.UnixMilli()), nil
			}
			return parquet.Int64Value(t.UnixMicro()), nil
		}
	}
	return parquet.Value{}, fmt.Errorf("%w: a %T in a column of kind %s", ErrValueType, v, c.kind)
}

func asInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int16:
		return int64(n), true
	}
	return 0, false
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// parseTimeMicros reads "HH:MM:SS[.ffffff]" as microseconds since midnight
// (24:00:00 is allowed, as in PostgreSQL).
func parseTimeMicros(s string) (int64, error) {
	bad := func() (int64, error) {
		return 0, fmt.Errorf("%w: time %q is not HH:MM:SS[.ffffff]", ErrValue, s)
	}
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return bad()
	}
	num := func(p string) (int64, bool) {
		if p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' {
			return 0, false
		}
		return int64(p[0]-'0')*10 + int64(p[1]-'0'), true
	}
	h, ok1 := num(s[0:2])
	m, ok2 := num(s[3:5])
	sec, ok3 := num(s[6:8])
	if !ok1 || !ok2 || !ok3 || h > 24 || m > 59 || sec > 60 {
		return bad()
	}
	us := ((h*60+m)*60 + sec) * 1e6
	if rest := s[8:]; rest != "" {
		if rest[0] != '.' || len(rest) == 1 || len(rest) > 7 {
			return bad()
		}
		frac := int64(0)
		digits := 0
		for i := 1; i < len(rest); i++ {
			c := rest[i]
			if c < '0' || c > '9' {
				return bad()
			}
			frac = frac*10 + int64(c-'0')
			digits++
		}
		for ; digits < 6; digits++ {
			frac *= 10
		}
		us += frac
	}
	if us > 86400*1e6 {
		return bad()
	}
	return us, nil
}

// decimal converts exact decimal text to the column's DECIMAL(p,s): the
// unscaled integer, as INT32, INT64 or a 16-byte big-endian two's
// complement.
func (e *parquetEncoder) decimal(c *parquetColumn, s string) (parquet.Value, error) {
	neg, hi, lo, err := parseUnscaled(s, c.prec, c.scale)
	if err != nil {
		return parquet.Value{}, err
	}
	switch c.pq {
	case pqDecimal32, pqDecimal64:
		// parseUnscaled bounded the value by the precision (<= 18 digits).
		n := int64(lo)
		if neg {
			n = -n
		}
		if c.pq == pqDecimal32 {
			return parquet.Int32Value(int32(n)), nil
		}
		return parquet.Int64Value(n), nil
	}
	if neg {
		// Two's complement of the 128-bit magnitude.
		lo, hi = ^lo, ^hi
		var carry uint64
		lo, carry = bits.Add64(lo, 1, 0)
		hi += carry
	}
	start := len(e.arena)
	for shift := 56; shift >= 0; shift -= 8 {
		e.arena = append(e.arena, byte(hi>>uint(shift)))
	}
	for shift := 56; shift >= 0; shift -= 8 {
		e.arena = append(e.arena, byte(lo>>uint(shift)))
	}
	return parquet.FixedLenByteArrayValue(e.arena[start:len(e.arena):len(e.arena)]), nil
}

// parseUnscaled reads decimal text ("-12.3400") as sign and 128-bit
// magnitude scaled by 10^scale, refusing values with more than prec
// digits, more fraction digits than scale (unless they are zeros), NaN and
// infinities.
func parseUnscaled(s string, prec, scale int) (neg bool, hi, lo uint64, err error) {
	bad := func(why string) (bool, uint64, uint64, error) {
		return false, 0, 0, fmt.Errorf("%w: %q does not fit DECIMAL(%d,%d): %s", ErrValue, s, prec, scale, why)
	}
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	digits := 0 // significant digits accumulated
	mul := func(d byte) {
		// (hi,lo) = (hi,lo)*10 + d
		h1, l1 := bits.Mul64(lo, 10)
		hi = hi*10 + h1
		var carry uint64
		lo, carry = bits.Add64(l1, uint64(d), 0)
		hi += carry
	}
	sawDigit := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		sawDigit = true
		if digits == 0 && s[i] == '0' {
			continue
		}
		digits++
		if digits > prec-scale {
			return bad("too many integer digits")
		}
		mul(s[i] - '0')
	}
	frac := 0
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			sawDigit = true
			if frac >= scale {
				if s[i] != '0' {
					return bad("too many fraction digits")
				}
				continue
			}
			frac++
			if digits > 0 || s[i] != '0' {
				digits++
			}
			mul(s[i] - '0')
		}
	}
	if i != len(s) || !sawDigit {
		return bad("not a decimal number")
	}
	for ; frac < scale; frac++ {
		mul(0)
	}
	if hi == 0 && lo == 0 {
		neg = false
	}
	return neg, hi, lo, nil
}
