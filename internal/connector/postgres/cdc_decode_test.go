package postgres

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

func TestCDCTextValues(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, us int) time.Time {
		return time.Date(y, mo, d, h, mi, s, us*1000, time.UTC)
	}
	for _, tc := range []struct {
		dec   decoder
		money bool
		in    string
		want  any
	}{
		{decBool, false, "t", true},
		{decBool, false, "f", false},
		{decInt2, false, "-32768", int64(-32768)},
		{decInt8, false, "9223372036854775807", int64(math.MaxInt64)},
		{decOID, false, "4294967295", int64(4294967295)},
		{decFloat4, false, "1.1", float64(float32(1.1))},
		{decFloat4, false, "-Infinity", math.Inf(-1)},
		{decFloat8, false, "1.7976931348623157e+308", math.MaxFloat64},
		{decFloat8, false, "-0", math.Copysign(0, -1)},
		{decNumeric, false, "-12.3400", "-12.3400"},
		{decNumeric, true, "-$1,234.56", "-1234.56"},
		{decNumeric, true, "($5.00)", "-5.00"},
		{decNumeric, true, "$0.00", "0.00"},
		{decBytea, false, `\x00ff10`, []byte{0, 0xff, 0x10}},
		{decBytea, false, `\x`, []byte{}},
		{decDate, false, "2024-02-29", utc(2024, 2, 29, 0, 0, 0, 0)},
		{decDate, false, "0044-03-15 BC", utc(-43, 3, 15, 0, 0, 0, 0)},
		{decDate, false, "10000-01-01", utc(10000, 1, 1, 0, 0, 0, 0)},
		{decDate, false, "infinity", dateInfinity},
		{decDate, false, "-infinity", timeNegInfinity},
		{decTime, false, "13:14:15.123456", "13:14:15.123456"},
		{decTime, false, "00:00:01.50", "00:00:01.5"},
		{decTime, false, "24:00:00", "24:00:00"},
		{decTimestamp, false, "2024-01-02 03:04:05.123456", utc(2024, 1, 2, 3, 4, 5, 123456)},
		{decTimestamp, false, "0001-01-01 00:00:00 BC", utc(0, 1, 1, 0, 0, 0, 0)},
		{decTimestamp, false, "infinity", timeInfinity},
		{decTimestampTZ, false, "2024-01-01 21:34:05.000001+00", utc(2024, 1, 1, 21, 34, 5, 1)},
		{decTimestampTZ, false, "2024-01-02 03:04:05+05:30", utc(2024, 1, 1, 21, 34, 5, 0)},
		{decTimestampTZ, false, "1850-01-01 00:00:00-00:09:21", utc(1850, 1, 1, 0, 9, 21, 0)},
		{decTimestampTZ, false, "0044-03-15 12:00:00+00 BC", utc(-43, 3, 15, 12, 0, 0, 0)},
		{decTimestampTZ, false, "-infinity", timeNegInfinity},
	} {
		got, err := cdcDecodeText(&cdcColumn{dec: tc.dec, money: tc.money}, []byte(tc.in))
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		switch want := tc.want.(type) {
		case []byte:
			if g, ok := got.([]byte); !ok || !bytes.Equal(g, want) || g == nil {
				t.Errorf("%q = %#v, want %#v", tc.in, got, want)
			}
		case time.Time:
			if g, ok := got.(time.Time); !ok || !g.Equal(want) || g.Location() != time.UTC {
				t.Errorf("%q = %v, want %v", tc.in, got, want)
			}
		case float64:
			if g, ok := got.(float64); !ok || g != want || math.Signbit(g) != math.Signbit(want) {
				t.Errorf("%q = %v, want %v", tc.in, got, want)
			}
		default:
			if got != tc.want {
				t.Errorf("%q = %#v, want %#v", tc.in, got, tc.want)
			}
		}
	}
	for _, tc := range []struct {
		dec decoder
		in  string
	}{
		{decBool, "true"}, {decInt4, "1.5"}, {decOID, "-1"}, {decBytea, `\x0`}, {decBytea, "abc"},
		{decDate, "2024-2-29"}, {decDate, "2024-02-29 AD"}, {decTime, "1:02:03"}, {decTime, "01:02:03.1234567"},
		{decTimestamp, "2024-01-02T03:04:05"}, {decTimestampTZ, "2024-01-02 03:04:05"}, {decTimestampTZ, "2024-01-02 03:04:05+5"},
	} {
		if got, err := cdcDecodeText(&cdcColumn{dec: tc.dec}, []byte(tc.in)); !errors.Is(err, ErrReplicationProtocol) {
			t.Errorf("%q (decoder %d) = %v, %v; want an error", tc.in, tc.dec, got, err)
		}
	}
}

// pgoutput messages, as the server writes them.
func relationMsg(id uint32) []byte {
	b := []byte{'R'}
	b = binary.BigEndian.AppendUint32(b, id)
	b = append(b, "public\x00t\x00"...)
	b = append(b, 'd')
	b = binary.BigEndian.AppendUint16(b, 2)
	for i, col := range []string{"id", "v"} {
		b = append(b, byte(1-i))
		b = append(b, col...)
		b = append(b, 0)
		b = binary.BigEndian.AppendUint32(b, 20)
		b = binary.BigEndian.AppendUint32(b, math.MaxUint32)
	}
	return b
}

func appendTuple(b []byte, vals ...any) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(vals)))
	for _, v := range vals {
		switch v := v.(type) {
		case nil:
			b = append(b, 'n')
		case record.Change: // stands for an unchanged TOASTed value
			b = append(b, 'u')
		case string:
			b = append(b, 't')
			b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		}
	}
	return b
}

// A malformed message is an error, never a panic.
func TestCDCParseMalformed(t *testing.T) {
	ins := appendTuple(append(binary.BigEndian.AppendUint32([]byte{'I'}, 7), 'N'), "1", "some text")
	upd := appendTuple(append(appendTuple(append(binary.BigEndian.AppendUint32([]byte{'U'}, 7), 'K'), "1", nil), 'N'), "2", record.Change{})
	for _, msg := range [][]byte{relationMsg(7), ins, upd} {
		if _, err := cdcParse(msg); err != nil {
			t.Fatalf("%q: %v", msg[0], err)
		}
		for n := 1; n < len(msg); n++ {
			cdcParse(msg[:n]) // must not panic
		}
	}
	if _, err := cdcParse([]byte{'S', 0, 0, 0, 1, 1}); !errors.Is(err, ErrReplicationProtocol) {
		t.Errorf("a streaming message: %v", err)
	}
	// Row messages are read in place: every cut of a well-formed one, and
	// trailing bytes, are protocol errors.
	d := &cdcDecoder{rels: map[uint32]*cdcRelation{7: {table: &record.Table{Columns: []record.Column{{Name: "id"}, {Name: "v"}}},
		cols: []cdcColumn{{pos: 0, dec: decInt4}, {pos: 1, dec: decText}}, keys: []int{0}}}}
	del := appendTuple(append(binary.BigEndian.AppendUint32([]byte{'D'}, 7), 'O'), "1", "x")
	for _, msg := range [][]byte{ins, upd, del} {
		if out, err := d.changes(nil, msg); err != nil || len(out) != 1 {
			t.Fatalf("%q: %v %v", msg[0], out, err)
		}
		for n := 1; n < len(msg); n++ {
			if _, err := d.changes(nil, msg[:n]); !errors.Is(err, ErrReplicationProtocol) {
				t.Errorf("%q cut at %d: %v", msg[0], n, err)
			}
		}
		if _, err := d.changes(nil, append(slices.Clone(msg), 0)); !errors.Is(err, ErrReplicationProtocol) {
			t.Errorf("%q with a byte more: %v", msg[0], err)
		}
	}
	if _, err := d.changes(nil, binary.BigEndian.AppendUint32([]byte{'D'}, 7)); !errors.Is(err, ErrReplicationProtocol) {
		t.Errorf("a delete without its old row: %v", err)
	}
}

// benchRelation is the decoding of the benchmark table's columns.
func benchRelation() *cdcRelation {
	decs := []decoder{decInt8, decInt4, decInt4, decText, decText, decNumeric, decTimestampTZ, decBool, decJSONB}
	rel := &cdcRelation{table: &record.Table{Schema: "public", Name: "cdcbench"}, keys: []int{0}}
	for i, d := range decs {
		rel.table.Columns = append(rel.table.Columns, record.Column{Name: string(rune('a' + i))})
		rel.cols = append(rel.cols, cdcColumn{pos: i, dec: d})
	}
	return rel
}

// BenchmarkCDCDecode is the client's share of BenchmarkCDCStream: parsing
// and decoding insert and update messages of the benchmark table into
// changes, without the server.
func BenchmarkCDCDecode(b *testing.B) {
	row := []any{"123456", "456", "864192", "customer name 123456", "0b9d7a7d2d4fd2f8c6c3c22b64e8b6ce0b9d7a7d2d4fd2f8c6c3c22b64e8b6ce0b9d7a7d2d4fd2f8c6c3c22b64e8b6cetail",
		"16028.00", "2024-01-02 10:17:36+00", "t", `{"k": 123456, "tag": "x"}`}
	ins := appendTuple(append(binary.BigEndian.AppendUint32([]byte{'I'}, 7), 'N'), row...)
	upd := appendTuple(append(binary.BigEndian.AppendUint32([]byte{'U'}, 7), 'N'), row...)
	d := &cdcDecoder{rels: map[uint32]*cdcRelation{7: benchRelation()}}
	msgs := [][]byte{ins, upd}
	var out []record.Change
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		var err error
		if out, err = d.changes(out[:0], msgs[i%2]); err != nil || len(out) != 1 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "changes/s")
}

func TestCDCDecodeChanges(t *testing.T) {
	d := &cdcDecoder{rels: map[uint32]*cdcRelation{}}
	rel := &cdcRelation{table: &record.Table{Schema: "public", Name: "t", Columns: []record.Column{{Name: "v"}, {Name: "id"}}},
		cols: []cdcColumn{{pos: 1, dec: decInt4}, {pos: 0, dec: decText}}, keys: []int{0}}
	d.rels[7] = rel
	// An update that keeps the key and a TOASTed value: Before holds the key.
	upd := appendTuple(append(binary.BigEndian.AppendUint32([]byte{'U'}, 7), 'N'), "5", record.Change{})
	out, err := d.changes(nil, upd)
	if err != nil || len(out) != 1 {
		t.Fatal(out, err)
	}
	ch := out[0]
	if ch.After[0] != record.Unchanged || ch.After[1] != int64(5) || ch.Before[1] != int64(5) || ch.Before[0] != nil || ch.BeforeFull {
		t.Errorf("update: before %v after %v", ch.Before, ch.After)
	}
	// A change of a relation never described is a protocol error.
	ins := appendTuple(append(binary.BigEndian.AppendUint32([]byte{'I'}, 8), 'N'), "1")
	if _, err := d.changes(nil, ins); !errors.Is(err, ErrReplicationProtocol) {
		t.Errorf("unknown relation: %v", err)
	}
	// Binary values were not asked for.
	bin := append(binary.BigEndian.AppendUint32([]byte{'I'}, 7), 'N', 0, 2, 'b', 0, 0, 0, 1, 1, 'n')
	if _, err := d.changes(nil, bin); !errors.Is(err, ErrReplicationProtocol) {
		t.Errorf("binary value: %v", err)
	}
}

// Decoded strings share the bytes of the message: that is safe only
// because changes copies the message, whose buffer the connection reuses.
// This pins it.
func TestCDCValuesOutliveTheMessage(t *testing.T) {
	msg := appendTuple(append(binary.BigEndian.AppendUint32([]byte{'I'}, 7), 'N'), "5", "some text")
	d := &cdcDecoder{rels: map[uint32]*cdcRelation{7: {table: &record.Table{Columns: []record.Column{{Name: "id"}, {Name: "v"}}},
		cols: []cdcColumn{{pos: 0, dec: decInt4}, {pos: 1, dec: decText}}}}}
	out, err := d.changes(nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range msg {
		msg[i] = 'X'
	}
	if out[0].After[1] != "some text" {
		t.Fatalf("the value changed with the message buffer: %q", out[0].After[1])
	}
}
