package mysql_test

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// allTypesDDL has a column of every MySQL/MariaDB type TYPES.md lists.
const allTypesDDL = `CREATE TABLE alltypes (
	id int PRIMARY KEY,
	ti tinyint, tb tinyint(1), tu tinyint unsigned, si smallint, su smallint unsigned,
	mi mediumint, mu mediumint unsigned, i int, iu int unsigned, bi bigint, bu bigint unsigned,
	de decimal(20,6), fl float, db double, bt bit(1), b12 bit(12),
	ch char(5), vc varchar(64), tt tinytext, tx text, mt mediumtext, lt longtext,
	bn binary(4), vb varbinary(16), tbl tinyblob, bl blob, mb mediumblob, lb longblob,
	d date, tm time(6), dt datetime, dt6 datetime(6), ts timestamp(3) NULL DEFAULT NULL, y year,
	j json, e enum('a','b''c'), st set('x','y'), g point, u uuid
)`

const allTypesRows = `INSERT INTO alltypes VALUES
(1, 1, 1, 200, -300, 60000, -8000000, 16000000, -2000000000, 4000000000, -9000000000000000000, 18000000000000000000,
 '12345678901234.123456', 0.1, 0.1, b'1', b'101010101010',
 'ab', 'héllo', 'tiny', 'text', 'medium', 'long',
 x'00ff0a09', x'5c00', x'01', x'0203', x'04', x'05',
 '2024-02-29', '12:34:56.789012', '2024-02-29 23:59:59', '2024-02-29 23:59:59.123456', '2024-02-29 23:59:59.123', 2024,
 '{"a": [1, "x"]}', 'b''c', 'x,y', ST_GeomFromText('POINT(1 2)'), '6ccd780c-baba-1026-9564-5b8c656024db'),
(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL),
(3, -128, 5, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, -9223372036854775808, 18446744073709551615,
 '-99999999999999.999999', 3.4028234e38, -1.7976931348623157e308, b'0', b'000000000000',
 '', '😀𝄞 \\ ''q'' "d"', '', '', '', 'tab\there\nnew\0nul',
 x'', x'', x'', x'', x'', x'',
 '0000-00-00', '-838:59:59.000000', '0000-00-00 00:00:00', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01', 1901,
 '[]', 'a', '', ST_GeomFromText('POINT(0 0)'), '00000000-0000-0000-0000-000000000000')`

func TestTypesRead(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, allTypesDDL, allTypesRows)
	c := openConn(t, my, db, connector.RoleSource, nil)
	tb := findTable(t, c, db, "alltypes")

	type want struct {
		kind   record.Kind
		native string
		length int
	}
	wantTypes := map[string]want{
		"id": {record.KindInt32, "int(11)", 0}, "ti": {record.KindInt16, "tinyint(4)", 0},
		"tb": {record.KindInt16, "tinyint(1)", 0}, "tu": {record.KindInt16, "tinyint(3) unsigned", 0},
		"si": {record.KindInt16, "smallint(6)", 0}, "su": {record.KindInt32, "smallint(5) unsigned", 0},
		"mi": {record.KindInt32, "mediumint(9)", 0}, "mu": {record.KindInt32, "mediumint(8) unsigned", 0},
		"i": {record.KindInt32, "int(11)", 0}, "iu": {record.KindInt64, "int(10) unsigned", 0},
		"bi": {record.KindInt64, "bigint(20)", 0}, "bu": {record.KindUint64, "bigint(20) unsigned", 0},
		"de": {record.KindNumeric, "decimal(20,6)", 0}, "fl": {record.KindFloat32, "float", 0},
		"db": {record.KindFloat64, "double", 0}, "bt": {record.KindBool, "bit(1)", 0},
		"b12": {record.KindBytes, "bit(12)", 2}, "ch": {record.KindString, "char(5)", 5},
		"vc": {record.KindString, "varchar(64)", 64}, "tt": {record.KindText, "tinytext", 0},
		"tx": {record.KindText, "text", 0}, "mt": {record.KindText, "mediumtext", 0},
		"lt": {record.KindText, "longtext", 0}, "bn": {record.KindBytes, "binary(4)", 4},
		"vb": {record.KindBytes, "varbinary(16)", 16}, "tbl": {record.KindBlob, "tinyblob", 0},
		"bl": {record.KindBlob, "blob", 0}, "mb": {record.KindBlob, "mediumblob", 0},
		"lb": {record.KindBlob, "longblob", 0}, "d": {record.KindDate, "date", 0},
		"tm": {record.KindTime, "time(6)", 0}, "dt": {record.KindTimestamp, "datetime", 0},
		"dt6": {record.KindTimestamp, "datetime(6)", 0}, "ts": {record.KindTimestampTZ, "timestamp(3)", 0},
		"y": {record.KindInt16, "year(4)", 0}, "j": {record.KindJSON, "json", 0},
		"e": {record.KindEnum, "enum('a','b''c')", 0}, "st": {record.KindString, "set('x','y')", 3},
		"g": {record.KindBlob, "point", 0}, "u": {record.KindUUID, "uuid", 0},
	}
	if len(tb.Columns) != len(wantTypes) {
		t.Fatalf("%d columns, want %d", len(tb.Columns), len(wantTypes))
	}
	for _, col := range tb.Columns {
		w := wantTypes[col.Name]
		if col.Type.Kind != w.kind || col.Type.Native != w.native || col.Type.Length != w.length || col.Type.Engine != "mysql" {
			t.Errorf("column %s: %s %q length %d engine %q, want %s %q length %d", col.Name, col.Type.Kind, col.Type.Native,
				col.Type.Length, col.Type.Engine, w.kind, w.native, w.length)
		}
	}
	if de := tb.Column("de"); de.Type.Precision != 20 || de.Type.Scale != 6 {
		t.Errorf("decimal precision/scale = %d,%d", de.Type.Precision, de.Type.Scale)
	}
	if dt6 := tb.Column("dt6"); dt6.Type.Precision != 6 {
		t.Errorf("datetime(6) precision = %d", dt6.Type.Precision)
	}
	if e := tb.Column("e"); !reflect.DeepEqual(e.Type.EnumValues, []string{"a", "b'c"}) {
		t.Errorf("enum values = %q", e.Type.EnumValues)
	}

	rows := readAll(t, c, &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}})
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	point12 := []byte{0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40}
	point00 := []byte{0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	want1 := map[string]any{
		"id": int64(1), "ti": int64(1), "tb": int64(1), "tu": int64(200), "si": int64(-300), "su": int64(60000),
		"mi": int64(-8000000), "mu": int64(16000000), "i": int64(-2000000000), "iu": int64(4000000000),
		"bi": int64(-9000000000000000000), "bu": uint64(18000000000000000000),
		"de": "12345678901234.123456", "fl": float64(float32(0.1)), "db": 0.1, "bt": true, "b12": []byte{0x0a, 0xaa},
		"ch": "ab", "vc": "héllo", "tt": "tiny", "tx": "text", "mt": "medium", "lt": "long",
		"bn": []byte{0, 0xff, 0x0a, 0x09}, "vb": []byte{0x5c, 0}, "tbl": []byte{1}, "bl": []byte{2, 3}, "mb": []byte{4}, "lb": []byte{5},
		"d": time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "tm": "12:34:56.789012",
		"dt": time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC), "dt6": time.Date(2024, 2, 29, 23, 59, 59, 123456000, time.UTC),
		"ts": time.Date(2024, 2, 29, 23, 59, 59, 123000000, time.UTC), "y": int64(2024),
		"j": `{"a": [1, "x"]}`, "e": "b'c", "st": "x,y", "g": point12, "u": "6ccd780c-baba-1026-9564-5b8c656024db",
	}
	want3 := map[string]any{
		"id": int64(3), "ti": int64(-128), "tb": int64(5), "tu": int64(255), "si": int64(32767), "su": int64(65535),
		"mi": int64(8388607), "mu": int64(16777215), "i": int64(2147483647), "iu": int64(4294967295),
		"bi": int64(math.MinInt64), "bu": uint64(math.MaxUint64),
		"de": "-99999999999999.999999", "fl": float64(float32(3.4028234e38)), "db": -1.7976931348623157e308,
		"bt": false, "b12": []byte{0, 0},
		"ch": "", "vc": `😀𝄞 \ 'q' "d"`, "tt": "", "tx": "", "mt": "", "lt": "tab\there\nnew\x00nul",
		"bn": []byte{0, 0, 0, 0}, "vb": []byte{}, "tbl": []byte{}, "bl": []byte{}, "mb": []byte{}, "lb": []byte{},
		"d": nil, "tm": "-838:59:59.000000", "dt": nil, "dt6": time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		"ts": time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC), "y": int64(1901),
		"j": "[]", "e": "a", "st": "", "g": point00, "u": "00000000-0000-0000-0000-000000000000",
	}
	check := func(row record.Row, want map[string]any) {
		t.Helper()
		for i, col := range tb.Columns {
			w, ok := want[col.Name]
			if !ok {
				w = nil
			}
			if !valuesEqual(row[i], w) {
				t.Errorf("row %v column %s = %#v (%T), want %#v (%T)", row[0], col.Name, row[i], row[i], w, w)
			}
		}
	}
	check(rows[0], want1)
	check(rows[1], map[string]any{"id": int64(2)})
	check(rows[2], want3)
}

// valuesEqual compares canonical values exactly (type and value).
func valuesEqual(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y) && x.Location() == time.UTC
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	}
	return a == b
}

var _ = strings.Contains
