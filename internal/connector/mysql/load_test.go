package mysql_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/mysql"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// retarget copies a discovered table into another schema.
func retarget(tb *record.Table, schema string) *record.Table {
	c := *tb
	c.Schema = schema
	return &c
}

// nativeRoundTrip copies alltypes from a source database into a target one
// through Read and Load, and compares both with the server's own client.
func nativeRoundTrip(t *testing.T, my *testenv.MySQLServer) {
	src := my.NewDatabase(t)
	dst := my.NewDatabase(t)
	my.Exec(t, src, allTypesDDL, allTypesRows)
	source := openConn(t, my, src, connector.RoleSource, nil)
	target := openConn(t, my, "", connector.RoleTarget, nil)
	ctx := testCtx(t)
	tb := findTable(t, source, src, "alltypes")
	rows := readAll(t, source, &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}})
	out := retarget(tb, dst)
	if err := target.PrepareTable(ctx, out, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	if err := target.Load(ctx, out, rows[:1]); err != nil {
		t.Fatal(err)
	}
	if err := target.Load(ctx, out, rows[1:]); err != nil {
		t.Fatal(err)
	}

	admin := clientDB(t, my, "")
	colTypes := func(db string) [][]string {
		return queryStrings(t, admin, "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'alltypes' ORDER BY ORDINAL_POSITION", db)
	}
	if s, d := colTypes(src), colTypes(dst); !reflect.DeepEqual(s, d) {
		t.Errorf("column types differ:\nsource %q\ntarget %q", s, d)
	}
	var exprs []string
	for _, c := range tb.Columns {
		switch c.Type.Kind {
		case record.KindBlob, record.KindBytes, record.KindBool:
			exprs = append(exprs, "HEX(`"+c.Name+"`)")
		case record.KindFloat32:
			exprs = append(exprs, "CAST(`"+c.Name+"` AS DOUBLE)")
		default:
			exprs = append(exprs, "`"+c.Name+"`")
		}
	}
	sel := "SELECT " + strings.Join(exprs, ", ") + " FROM %s.alltypes ORDER BY id"
	s := queryStrings(t, admin, fmt.Sprintf(sel, src))
	d := queryStrings(t, admin, fmt.Sprintf(sel, dst))
	// Zero dates travel as NULL (TYPES.md).
	for i, c := range tb.Columns {
		if c.Name == "d" || c.Name == "dt" {
			if s[2][i] != "0000-00-00" && s[2][i] != "0000-00-00 00:00:00" {
				t.Errorf("source zero date %s = %q", c.Name, s[2][i])
			}
			s[2][i] = "<nil>"
		}
	}
	if !reflect.DeepEqual(s, d) {
		for r := range s {
			for i := range s[r] {
				if s[r][i] != d[r][i] {
					t.Errorf("row %d column %s: source %q, target %q", r, tb.Columns[i].Name, s[r][i], d[r][i])
				}
			}
		}
	}
}

func TestLoadNativeRoundTrip(t *testing.T) {
	t.Parallel()
	nativeRoundTrip(t, testenv.MariaDB(t))
}

// foreignTable has a column of every Kind as another engine (PostgreSQL)
// describes it.
func foreignTable(schema string) *record.Table {
	pg := func(k record.Kind, native string) record.Type {
		return record.Type{Kind: k, Native: native, Engine: "postgres"}
	}
	col := func(name string, t record.Type) record.Column {
		return record.Column{Name: name, Type: t, Nullable: true}
	}
	withLen := func(t record.Type, n int) record.Type { t.Length = n; return t }
	numeric := func(p, s int) record.Type {
		t := pg(record.KindNumeric, fmt.Sprintf("numeric(%d,%d)", p, s))
		t.Precision, t.Scale = p, s
		return t
	}
	prec := func(t record.Type, p int) record.Type { t.Precision = p; return t }
	enum := pg(record.KindEnum, "mood")
	enum.EnumValues = []string{"small", "medium"}
	arr := pg(record.KindArray, "integer[]")
	arr.Elem = &record.Type{Kind: record.KindInt32, Native: "integer", Engine: "postgres"}
	return &record.Table{
		Schema: schema, Name: "foreign kinds",
		Columns: []record.Column{
			{Name: "code", Type: pg(record.KindText, "text")},
			col("b", pg(record.KindBool, "boolean")),
			col("i2", pg(record.KindInt16, "smallint")),
			col("i4", pg(record.KindInt32, "integer")),
			col("i8", pg(record.KindInt64, "bigint")),
			col("u8", pg(record.KindUint64, "numeric(20)")),
			col("n", numeric(12, 4)),
			col("nu", pg(record.KindNumeric, "numeric")),
			col("nw", numeric(80, 3)),
			col("f4", pg(record.KindFloat32, "real")),
			col("f8", pg(record.KindFloat64, "double precision")),
			col("s", withLen(pg(record.KindString, "character varying(20)"), 20)),
			{Name: "sl", Type: withLen(pg(record.KindString, "character varying(20000)"), 20000)},
			col("tx", pg(record.KindText, "text")),
			col("by", withLen(pg(record.KindBytes, "bytea"), 16)),
			col("bl", pg(record.KindBlob, "bytea")),
			col("d", pg(record.KindDate, "date")),
			col("tm", prec(pg(record.KindTime, "time(6) without time zone"), 6)),
			col("ts", prec(pg(record.KindTimestamp, "timestamp(3) without time zone"), 3)),
			col("tz", prec(pg(record.KindTimestampTZ, "timestamp with time zone"), 6)),
			col("j", pg(record.KindJSON, "jsonb")),
			col("u", pg(record.KindUUID, "uuid")),
			col("e", enum),
			col("ar", arr),
			col("iv", pg(record.KindInterval, "interval")),
		},
		PrimaryKey: []string{"code"},
		UniqueKeys: [][]string{{"sl"}},
	}
}

func TestLoadForeignKinds(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	dst := my.NewDatabase(t)
	target := openConn(t, my, "", connector.RoleTarget, nil)
	ctx := testCtx(t)
	tb := foreignTable(dst)
	if err := target.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	admin := clientDB(t, my, "")
	types := queryStrings(t, admin, `SELECT COLUMN_NAME, COLUMN_TYPE, COALESCE(COLLATION_NAME, ''), IS_NULLABLE, COLUMN_KEY
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'foreign kinds' ORDER BY ORDINAL_POSITION`, dst)
	wantTypes := [][]string{
		{"code", "varchar(768)", "utf8mb4_nopad_bin", "NO", "PRI"},
		{"b", "tinyint(1)", "", "YES", ""},
		{"i2", "smallint(6)", "", "YES", ""},
		{"i4", "int(11)", "", "YES", ""},
		{"i8", "bigint(20)", "", "YES", ""},
		{"u8", "bigint(20) unsigned", "", "YES", ""},
		{"n", "decimal(12,4)", "", "YES", ""},
		{"nu", "decimal(65,30)", "", "YES", ""},
		{"nw", "varchar(82)", "utf8mb4_nopad_bin", "YES", ""},
		{"f4", "float", "", "YES", ""},
		{"f8", "double", "", "YES", ""},
		{"s", "varchar(20)", "utf8mb4_nopad_bin", "YES", ""},
		{"sl", "varchar(768)", "utf8mb4_nopad_bin", "NO", "UNI"},
		{"tx", "longtext", "utf8mb4_nopad_bin", "YES", ""},
		{"by", "varbinary(16)", "", "YES", ""},
		{"bl", "longblob", "", "YES", ""},
		{"d", "date", "", "YES", ""},
		{"tm", "time(6)", "", "YES", ""},
		{"ts", "datetime(3)", "", "YES", ""},
		{"tz", "datetime(6)", "", "YES", ""},
		{"j", "longtext", "utf8mb4_bin", "YES", ""}, // MariaDB's JSON
		{"u", "char(36)", "ascii_bin", "YES", ""},
		{"e", "varchar(6)", "utf8mb4_nopad_bin", "YES", ""},
		{"ar", "longtext", "utf8mb4_nopad_bin", "YES", ""},
		{"iv", "varchar(100)", "utf8mb4_nopad_bin", "YES", ""},
	}
	if !reflect.DeepEqual(types, wantTypes) {
		t.Errorf("target column types:\n got %q\nwant %q", types, wantTypes)
	}

	blob := make([]byte, 70000)
	for i := range blob {
		blob[i] = byte(i * 7)
	}
	long := strings.Repeat("long ", 20000)
	wide := "1" + strings.Repeat("0", 70) + ".125"
	plus2 := time.FixedZone("+02", 2*3600)
	rows := []record.Row{
		{"k1", true, int64(-32768), int64(2147483647), int64(math.MinInt64), uint64(math.MaxUint64), "-12345678.1234",
			"123456789012345678901234567890.123456789012345678901234567890", wide, float64(float32(0.1)), 1e-300,
			"😀𝄞 tab\t nl\n bs\\ q'\"", "sl1", long, []byte{0, '\t', '\n', '\\', 0xff}, blob,
			time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "23:59:59.999999", time.Date(2024, 2, 29, 12, 0, 0, 123000000, time.UTC),
			time.Date(2024, 1, 1, 12, 0, 0, 123456000, plus2), `{"a": [1, "é"]}`, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
			"medium", "{1,2,3}", "1 year 2 mons"},
		{"k2", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, "sl2", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{"K1", false, int64(0), int64(-1), int64(math.MaxInt64), uint64(0), "0.0000", "-0.5", "-1.000",
			float64(float32(-3.4028234e38)), math.MaxFloat64, "", "sl3", "", []byte{}, []byte{},
			time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), "-838:59:59", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), "null", "00000000-0000-0000-0000-000000000000",
			"small", "{}", "-00:00:01"},
	}
	if err := target.Load(ctx, tb, rows); err != nil {
		t.Fatal(err)
	}
	got := queryStrings(t, admin, fmt.Sprintf("SELECT code, b, i2, i4, i8, u8, n, nu, nw, CAST(f4 AS DOUBLE), f8, s, sl, MD5(tx), HEX(`by`), MD5(bl), d, tm, ts, tz, j, u, e, ar, iv FROM %s.`foreign kinds` ORDER BY code", dst))
	md5 := func(b []byte) string { return fmt.Sprintf("%x", md5Sum(b)) }
	want := [][]string{
		{"K1", "0", "0", "-1", "9223372036854775807", "0", "0.0000", "-0.500000000000000000000000000000", "-1.000",
			"-3.4028234663852886e+38", "1.7976931348623157e+308", "", "sl3", md5(nil), "", md5(nil),
			"9999-12-31", "-838:59:59.000000", "1000-01-01 00:00:00.000", "1969-12-31 23:59:59.999999", "null",
			"00000000-0000-0000-0000-000000000000", "small", "{}", "-00:00:01"},
		{"k1", "1", "-32768", "2147483647", "-9223372036854775808", "18446744073709551615", "-12345678.1234",
			"123456789012345678901234567890.123456789012345678901234567890", wide, "0.10000000149011612", "1e-300",
			"😀𝄞 tab\t nl\n bs\\ q'\"", "sl1", md5([]byte(long)), strings.ToUpper(hex.EncodeToString([]byte{0, '\t', '\n', '\\', 0xff})), md5(blob),
			"0001-01-01", "23:59:59.999999", "2024-02-29 12:00:00.123", "2024-01-01 10:00:00.123456", `{"a": [1, "é"]}`,
			"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "medium", "{1,2,3}", "1 year 2 mons"},
		{"k2", "<nil>", "<nil>", "<nil>", "<nil>", "<nil>", "<nil>", "<nil>", "<nil>", "<nil>", "<nil>", "<nil>", "sl2",
			"<nil>", "<nil>", "<nil>", "<nil>", "<nil>", "<nil>", "<nil>", "<nil>", "<nil>", "<nil>", "<nil>", "<nil>"},
	}
	if !reflect.DeepEqual(got, want) {
		for r := range want {
			for i := range want[r] {
				if r < len(got) && got[r][i] != want[r][i] {
					t.Errorf("row %s column %d (%s): got %q, want %q", want[r][0], i, tb.Columns[i].Name, got[r][i], want[r][i])
				}
			}
		}
		if len(got) != len(want) {
			t.Errorf("%d rows, want %d", len(got), len(want))
		}
	}
}

// Bad rows fail the whole batch with ErrRowRejected: LOAD DATA LOCAL alone
// would store them changed (clamped, cut, defaulted, skipped) with warnings.
func TestLoadRejectsBadRows(t *testing.T) {
	t.Parallel()
	loadRejects(t, testenv.MariaDB(t), map[string][]uint16{
		"out of range": {1264}, "too long": {1265, 1406}, "null": {1263, 1048}, "duplicate": {1062},
		"bad date": {1265, 1292}, "bad json": {4025},
	})
}

func loadRejects(t *testing.T, my *testenv.MySQLServer, numbers map[string][]uint16) {
	dst := my.NewDatabase(t)
	target := openConn(t, my, "", connector.RoleTarget, nil)
	ctx := testCtx(t)
	my.Exec(t, dst, "CREATE TABLE r (id int PRIMARY KEY, small tinyint, short varchar(3), must int NOT NULL, d date, j json)")
	tb := &record.Table{Schema: dst, Name: "r", PrimaryKey: []string{"id"}, Columns: []record.Column{
		{Name: "id", Type: record.Type{Kind: record.KindInt32}},
		{Name: "small", Type: record.Type{Kind: record.KindInt16}, Nullable: true},
		{Name: "short", Type: record.Type{Kind: record.KindString, Length: 3}, Nullable: true},
		{Name: "must", Type: record.Type{Kind: record.KindInt32}},
		{Name: "d", Type: record.Type{Kind: record.KindDate}, Nullable: true},
		{Name: "j", Type: record.Type{Kind: record.KindJSON}, Nullable: true},
	}}
	if err := target.PrepareTable(ctx, tb, connector.PrepDoNothing, false); err != nil {
		t.Fatal(err)
	}
	good := func(id int64) record.Row { return record.Row{id, int64(1), "abc", int64(1), nil, nil} }
	if err := target.Load(ctx, tb, []record.Row{good(1)}); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]record.Row{
		"out of range": {int64(12), int64(300), "abc", int64(1), nil, nil},
		"too long":     {int64(12), int64(1), "abcd", int64(1), nil, nil},
		"null":         {int64(12), int64(1), "abc", nil, nil, nil},
		"duplicate":    {int64(1), int64(1), "abc", int64(1), nil, nil},
		"bad date":     {int64(12), int64(1), "abc", int64(1), "2024-13-45", nil},
		"bad json":     {int64(12), int64(1), "abc", int64(1), nil, "{nope"},
	} {
		err := target.Load(ctx, tb, []record.Row{good(10), good(11), bad, good(13)})
		var re *mysql.RowError
		if !errors.Is(err, mysql.ErrRowRejected) || !errors.Is(err, connector.ErrRowRejected) || !errors.As(err, &re) {
			t.Errorf("%s: Load = %v, want ErrRowRejected", name, err)
			continue
		}
		if !containsNumber(numbers[name], re.Number) {
			t.Errorf("%s: error number %d, want one of %v (%v)", name, re.Number, numbers[name], err)
		}
		if re.Row != 2 && (re.Row != -1 || name == "out of range") {
			t.Errorf("%s: row %d, want 2 (%v)", name, re.Row, err)
		}
		t.Logf("%s: %v", name, err)
	}
	got := queryStrings(t, clientDB(t, my, dst), "SELECT id, small, short, must FROM r")
	if fmt.Sprint(got) != "[[1 1 abc 1]]" {
		t.Errorf("after the rejected batches the table holds %q, want only the first batch", got)
	}

	// An unencodable value rejects the batch on the client.
	err := target.Load(ctx, tb, []record.Row{good(20), {int64(21), math.NaN(), "a", int64(1), nil, nil}})
	var re *mysql.RowError
	if !errors.As(err, &re) || re.Row != 1 || re.Number != 0 {
		t.Errorf("NaN: Load = %v, want a client-side RowError on row 1", err)
	}
}

func containsNumber(ns []uint16, n uint16) bool {
	for _, x := range ns {
		if x == n {
			return true
		}
	}
	return false
}

// The INSERT fallback: the server refuses local files. Not parallel: it
// switches local_infile off for the whole server.
func TestLoadInsertFallback(t *testing.T) {
	my := testenv.MariaDB(t)
	admin := clientDB(t, my, "")
	if _, err := admin.ExecContext(testCtx(t), "SET GLOBAL local_infile = 0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("SET GLOBAL local_infile = 1"); err != nil {
			t.Error(err)
		}
	})
	t.Run("native", func(t *testing.T) { nativeRoundTrip(t, my) })
	t.Run("rejects", func(t *testing.T) {
		loadRejects(t, my, map[string][]uint16{
			"out of range": {1264}, "too long": {1406}, "null": {1048}, "duplicate": {1062},
			"bad date": {1292}, "bad json": {4025},
		})
	})
	t.Run("batches by packet", func(t *testing.T) {
		dst := my.NewDatabase(t)
		target := openConn(t, my, "", connector.RoleTarget, nil)
		ctx := testCtx(t)
		tb := &record.Table{Schema: dst, Name: "wide", PrimaryKey: []string{"id"}, Columns: []record.Column{
			{Name: "id", Type: record.Type{Kind: record.KindInt64}},
			{Name: "blob", Type: record.Type{Kind: record.KindBlob}},
		}}
		if err := target.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
			t.Fatal(err)
		}
		big := bytes.Repeat([]byte{0xab}, 1<<20)
		var rows []record.Row
		for i := range 40 { // 80 MB of SQL hex: many statements
			rows = append(rows, record.Row{int64(i), big})
		}
		if err := target.Load(ctx, tb, rows); err != nil {
			t.Fatal(err)
		}
		got := queryStrings(t, clientDB(t, my, dst), "SELECT COUNT(*), SUM(LENGTH(`blob`)) FROM wide")
		if fmt.Sprint(got) != fmt.Sprintf("[[40 %d]]", 40<<20) {
			t.Errorf("loaded %v", got)
		}
	})
}
