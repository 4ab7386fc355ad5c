package mysql

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"testing"

	"github.com/godwit-dms/godwit/internal/record"
)

func TestCDCDecodeDecimal(t *testing.T) {
	for _, tc := range []struct {
		hex          string
		prec, scale  int
		want         string
		wantConsumed int
	}{
		// The example of MySQL's decimal storage documentation.
		{"810DFB38D204D2", 14, 4, "1234567890.1234", 7},
		{"7EF204C72DFB2D", 14, 4, "-1234567890.1234", 7},
		{"803039", 5, 5, "0.12345", 3},
		{"7FCFC6", 5, 5, "-0.12345", 3},
		{"80000000", 9, 0, "0", 4},
		{"800000", 4, 2, "0.00", 2},
		{"8000000001", 10, 0, "1", 5},
	} {
		b, _ := hex.DecodeString(tc.hex)
		if n := binDecimalSize(tc.prec, tc.scale); n != tc.wantConsumed {
			t.Errorf("decimalSize(%d,%d) = %d, want %d", tc.prec, tc.scale, n, tc.wantConsumed)
			continue
		}
		got, err := decodeBinDecimal(b, tc.prec, tc.scale, nil)
		if err != nil || string(got) != tc.want {
			t.Errorf("decodeDecimal(%s, %d, %d) = %q, %v; want %q", tc.hex, tc.prec, tc.scale, got, err, tc.want)
		}
	}
}

// jsonMember is an object member of encodeJSON's input, in stored order.
type jsonMember struct {
	key   string
	value any
}

// encodeJSON writes v in MySQL's binary JSON format (small or large
// containers), following the format description in MySQL's json_binary.h.
func encodeJSON(v any, large bool) (byte, []byte) {
	w := 2
	if large {
		w = 4
	}
	put := func(b []byte, n int) []byte {
		if large {
			return binary.LittleEndian.AppendUint32(b, uint32(n))
		}
		return binary.LittleEndian.AppendUint16(b, uint16(n))
	}
	switch x := v.(type) {
	case nil:
		return jbLiteral, []byte{0}
	case bool:
		if x {
			return jbLiteral, []byte{1}
		}
		return jbLiteral, []byte{2}
	case int16:
		return jbInt16, binary.LittleEndian.AppendUint16(nil, uint16(x))
	case int32:
		return jbInt32, binary.LittleEndian.AppendUint32(nil, uint32(x))
	case int64:
		return jbInt64, binary.LittleEndian.AppendUint64(nil, uint64(x))
	case uint64:
		return jbUint64, binary.LittleEndian.AppendUint64(nil, x)
	case float64:
		return jbDouble, binary.LittleEndian.AppendUint64(nil, math.Float64bits(x))
	case string:
		var b []byte
		n := len(x)
		for {
			if n < 0x80 {
				b = append(b, byte(n))
				break
			}
			b = append(b, byte(n&0x7f|0x80))
			n >>= 7
		}
		return jbString, append(b, x...)
	case []jsonMember, []any:
		var keys []string
		var vals []any
		typ := byte(jbSmallArray)
		if m, ok := x.([]jsonMember); ok {
			typ = jbSmallObject
			for _, e := range m {
				keys, vals = append(keys, e.key), append(vals, e.value)
			}
		} else {
			vals = x.([]any)
		}
		if large {
			typ++
		}
		count := len(vals)
		header := 2*w + count*(1+w)
		if keys != nil {
			header += count * (w + 2)
		}
		var tail []byte
		var keyEntries, valueEntries []byte
		for _, k := range keys {
			keyEntries = put(keyEntries, header+len(tail))
			keyEntries = binary.LittleEndian.AppendUint16(keyEntries, uint16(len(k)))
			tail = append(tail, k...)
		}
		for _, e := range vals {
			vt, vd := encodeJSON(e, large)
			valueEntries = append(valueEntries, vt)
			if jsonInlined(vt, large) {
				entry := make([]byte, w)
				copy(entry, vd)
				valueEntries = append(valueEntries, entry...)
				continue
			}
			valueEntries = put(valueEntries, header+len(tail))
			tail = append(tail, vd...)
		}
		out := put(nil, count)
		out = put(out, header+len(tail))
		out = append(append(append(out, keyEntries...), valueEntries...), tail...)
		return typ, out
	}
	panic("unsupported")
}

func TestCDCJSONBinary(t *testing.T) {
	doc := []jsonMember{
		{"a", int16(1)},
		{"b", []any{true, nil, "x\n\"q\\\x01\x7f", false}},
		{"c", 1.5},
		{"d", 2.0},
		{"e", []jsonMember{}},
		{"f", []any{}},
		{"g", int64(-9000000000)},
		{"h", uint64(math.MaxUint64)},
		{"i", int32(-70000)},
		{"ü", "é"},
		{"long", string(make([]byte, 200))},
	}
	want := `{"a": 1, "b": [true, null, "x\n\"q\\\u0001` + "\x7f" + `", false], "c": 1.5, "d": 2.0, "e": {}, "f": [], ` +
		`"g": -9000000000, "h": 18446744073709551615, "i": -70000, "ü": "é", "long": "` +
		string(repeatEsc(200)) + `"}`
	for _, large := range []bool{false, true} {
		typ, data := encodeJSON(doc, large)
		got, err := jsonBinaryText(append([]byte{typ}, data...))
		if err != nil || string(got) != want {
			t.Errorf("large=%v:\n got %s (%v)\nwant %s", large, got, err, want)
		}
	}
	for _, tc := range []struct {
		v    any
		want string
	}{
		{"plain", `"plain"`}, {int16(-5), "-5"}, {nil, "null"}, {[]any{[]any{[]any{}}}, "[[[]]]"},
	} {
		typ, data := encodeJSON(tc.v, false)
		if got, err := jsonBinaryText(append([]byte{typ}, data...)); err != nil || string(got) != tc.want {
			t.Errorf("%v: %s, %v; want %s", tc.v, got, err, tc.want)
		}
	}
	if got, _ := jsonBinaryText(nil); string(got) != "null" {
		t.Errorf("empty value: %s", got)
	}
	for _, bad := range [][]byte{{jbSmallObject, 5}, {jbSmallArray, 1, 0, 200, 0}, {jbString, 0x85}, {0x33}} {
		if _, err := jsonBinaryText(bad); err == nil {
			t.Errorf("malformed %x accepted", bad)
		}
	}
}

func repeatEsc(n int) []byte {
	var b []byte
	for range n {
		b = append(b, `\u0000`...)
	}
	return b
}

func TestCDCJSONDouble(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{0, "0.0"}, {1, "1.0"}, {-1, "-1.0"}, {1.5, "1.5"}, {0.1, "0.1"}, {-0.25, "-0.25"},
		{1e15, "1e15"}, {123456789012345, "123456789012345.0"}, {1e100, "1e100"}, {1.5e300, "1.5e300"},
		{1e-5, "0.00001"}, {1.25e-14, "0.0000000000000125"}, {1e-15, "0.000000000000001"}, {1e-16, "1e-16"}, {2.5e-300, "2.5e-300"},
		{1234567890123456.7, "1234567890123456.8"}, {math.MaxFloat64, "1.7976931348623157e308"},
	} {
		if got := string(appendJSONDouble(nil, tc.f)); got != tc.want {
			t.Errorf("appendJSONDouble(%v) = %s, want %s", tc.f, got, tc.want)
		}
	}
}

func TestCDCJSONOpaque(t *testing.T) {
	packed := func(ymd, hms, usec int64) []byte {
		return binary.LittleEndian.AppendUint64(nil, uint64((ymd<<17|hms)<<24|usec))
	}
	ymd := func(y, m, d int64) int64 { return (y*13+m)<<5 | d }
	hms := func(h, m, s int64) int64 { return h<<12 | m<<6 | s }
	neg := func(b []byte) []byte {
		return binary.LittleEndian.AppendUint64(nil, uint64(-int64(binary.LittleEndian.Uint64(b))))
	}
	dec, _ := hex.DecodeString("0E04810DFB38D204D2")
	for _, tc := range []struct {
		typ  byte
		data []byte
		want string
	}{
		{mtNewDecimal, dec, "1234567890.1234"},
		{mtDateTime, packed(ymd(2024, 2, 29), hms(23, 59, 58), 123456), `"2024-02-29 23:59:58.123456"`},
		{mtTimestamp, packed(ymd(1970, 1, 1), hms(0, 0, 1), 0), `"1970-01-01 00:00:01.000000"`},
		{mtDate, packed(ymd(2024, 2, 29), 0, 0), `"2024-02-29"`},
		{mtTime, packed(0, hms(838, 59, 59), 0), `"838:59:59.000000"`},
		{mtTime, neg(packed(0, hms(1, 2, 3), 500000)), `"-01:02:03.500000"`},
		{mtVarString, []byte("s\""), `"s\""`},
		{mtBlob, []byte{1, 2}, `"base64:type252:AQI="`},
	} {
		data := append([]byte{tc.typ, byte(len(tc.data))}, tc.data...)
		got, err := jsonBinaryText(append([]byte{jbOpaque}, data...))
		if err != nil || string(got) != tc.want {
			t.Errorf("opaque type %d: %s, %v; want %s", tc.typ, got, err, tc.want)
		}
	}
}

func TestCDCTime2(t *testing.T) {
	for _, tc := range []struct {
		hex  string
		fsp  int
		want string
	}{
		{"800000", 0, "00:00:00"},
		{"7FFFFF", 0, "-00:00:01"},
		{"7FFFFFF6", 1, "-00:00:00.1"},
		{"7FFFFF9D", 2, "-00:00:00.99"},
		{"7FFFFEF6", 2, "-00:00:01.10"},
		{"80100000", 2, "01:00:00.00"},
		{"B46EFB000000", 6, "838:59:59.000000"},
	} {
		b, _ := hex.DecodeString(tc.hex)
		if got := string(decodeTime2(nil, b, tc.fsp)); got != tc.want {
			t.Errorf("decodeTime2(%s, %d) = %s, want %s", tc.hex, tc.fsp, got, tc.want)
		}
	}
}

func TestCDCInet6Text(t *testing.T) {
	for _, tc := range []struct{ hex, want string }{
		{"00000000000000000000000000000000", "::"},
		{"00000000000000000000000000000001", "::1"},
		{"00010000000000000000000000000000", "1::"},
		{"20010db8000000000000000000000001", "2001:db8::1"},
		{"00000000000000000000ffff01020304", "::ffff:1.2.3.4"},
		{"00000000000000000000000001020304", "::1.2.3.4"},
		{"00010000000000020000000000000003", "1:0:0:2::3"},
		{"00010000000200000003000000040000", "1::2:0:3:0:4:0"},
		{"fe800000000000000202b3fffe1e8329", "fe80::202:b3ff:fe1e:8329"},
		{"00010002000300040005000600070008", "1:2:3:4:5:6:7:8"},
	} {
		b, _ := hex.DecodeString(tc.hex)
		if got := string(inet6Text(b)); got != tc.want {
			t.Errorf("inet6Text(%s) = %s, want %s", tc.hex, got, tc.want)
		}
	}
}

func TestCDCUUIDText(t *testing.T) {
	for _, tc := range []struct{ rec, want string }{
		// RFC 4122 versions 1-5 are stored with their segments in reverse
		// order (node, variant, version, mid, low).
		{"5b8c656024db" + "9564" + "1026" + "baba" + "6ccd780c", "6ccd780c-baba-1026-9564-5b8c656024db"},
		{"0e02b2c3d479" + "a567" + "4372" + "58cc" + "f47ac10b", "f47ac10b-58cc-4372-a567-0e02b2c3d479"},
		// Others are stored as they are.
		{"00000000000000000000000000000001", "00000000-0000-0000-0000-000000000001"},
		{"f47ac10b58cc7372a5670e02b2c3d479", "f47ac10b-58cc-7372-a567-0e02b2c3d479"},
	} {
		b, _ := hex.DecodeString(tc.rec)
		if got := string(mariaUUIDText(b)); got != tc.want {
			t.Errorf("uuidText(%s) = %s, want %s", tc.rec, got, tc.want)
		}
	}
}

func TestCDCStatementTables(t *testing.T) {
	for _, tc := range []struct {
		q    string
		want tableKey
	}{
		{"TRUNCATE t", tableKey{"db", "t"}},
		{"truncate table `t`", tableKey{"db", "t"}},
		{"TRUNCATE TABLE other.t2;", tableKey{"other", "t2"}},
		{"TRUNCATE /* c */ TABLE `we``ird`.`x.y`", tableKey{"we`ird", "x.y"}},
		{"TRUNCATE `db` . `t`", tableKey{"db", "t"}},
		{"TRUNCATE TABLE", tableKey{}},
		{"ALTER TABLE t ADD COLUMN c int", tableKey{"db", "t"}},
		{"ALTER ONLINE IGNORE TABLE IF EXISTS `o`.`t``x` RENAME COLUMN a TO b", tableKey{"o", "t`x"}},
		{"alter /* c */ table x.y drop column z", tableKey{"x", "y"}},
	} {
		if got := statementTable(tc.q, "db"); got != tc.want {
			t.Errorf("statementTable(%q) = %v, want %v", tc.q, got, tc.want)
		}
	}
	for q, want := range map[string]string{
		"DROP TABLE t": "[{db t}]",
		"DROP TABLE IF EXISTS `a`, o.b /* generated */": "[{db a} {o b}]",
		"drop table `x`.`y` , z CASCADE":                "[{x y} {db z}]",
		"DROP TEMPORARY TABLE t":                        "[]",
		"DROP VIEW v":                                   "[]",
	} {
		if got := fmt.Sprint(droppedTables(q, "db")); got != want {
			t.Errorf("droppedTables(%q) = %s, want %s", q, got, want)
		}
	}
	if got := skipSQLComments("  /* x */ -- y\n# z\n BEGIN"); got != "BEGIN" {
		t.Errorf("stripLeadingComments = %q", got)
	}
}

// MySQL writes rows events v2, with an extra-data header MariaDB's v1
// events lack, and updates with two column bitmaps.
func TestCDCRowsV2(t *testing.T) {
	tb := &record.Table{Schema: "s", Name: "t", Columns: []record.Column{
		{Name: "id", Type: record.Type{Kind: record.KindInt32, Native: "int(11)"}},
		{Name: "v", Type: record.Type{Kind: record.KindString, Native: "varchar(10)", Length: 10}},
	}}
	tm := &tableMapEvent{id: 7, schema: "s", table: "t", types: []byte{mtLong, mtVarchar}, meta: [][2]byte{{}, {40, 0}}}
	ct, err := newCDCTable(tm, tb, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte{7, 0, 0, 0, 0, 0, 1, 0} // table id, flags
	body = append(body, 4, 0, 0xaa, 0xbb)  // extra data: its length (itself included), 2 bytes
	body = append(body, 2, 0x03, 0x03)     // 2 columns, before and after bitmaps
	body = append(body, 0x00, 5, 0, 0, 0, 1, 'a')
	body = append(body, 0x02, 6, 0, 0, 0) // after: v NULL
	ev, err := parseRows(evUpdateRowsV2, body, 10)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := ct.decodeRows(ev, &arena{}, &rowSlab{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Op != record.OpUpdate || !changes[0].BeforeFull ||
		changes[0].Before[0] != int64(5) || changes[0].Before[1] != "a" || changes[0].After[0] != int64(6) || changes[0].After[1] != nil {
		t.Fatalf("changes %+v", changes)
	}

	// An after image without v (binlog_row_image = NOBLOB/MINIMAL): v is
	// Unchanged; a before image without it is not full.
	body = []byte{7, 0, 0, 0, 0, 0, 1, 0, 2, 0, 2, 0x01, 0x01, 0x00, 5, 0, 0, 0, 0x00, 6, 0, 0, 0}
	ev, _ = parseRows(evUpdateRowsV2, body, 10)
	changes, err = ct.decodeRows(ev, &arena{}, &rowSlab{}, nil)
	if err != nil || changes[0].BeforeFull || changes[0].Before[1] != nil || changes[0].After[1] != record.Unchanged {
		t.Fatalf("partial images: %+v, %v", changes, err)
	}
}

func TestCDCVersionAtLeast(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"5.6.1", true}, {"5.6.0-log", false}, {"5.5.62", false}, {"8.0.36", true}, {"10.11.19-MariaDB-log", true}, {"5.6.10", true},
	} {
		if got := serverVersionAtLeast(tc.v, 5, 6, 1); got != tc.want {
			t.Errorf("versionAtLeast(%s) = %v", tc.v, got)
		}
	}
}
