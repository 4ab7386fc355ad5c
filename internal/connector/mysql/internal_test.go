package mysql

import (
	"fmt"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

func TestParseTemporal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any // time.Time, nil (NULL) or "error"
	}{
		{"2024-02-29", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"0000-00-00", nil},
		{"2024-00-10", nil},
		{"2024-05-00", nil},
		{"0000-01-01", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2024-02-29 23:59:59", time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)},
		{"2024-02-29 23:59:59.5", time.Date(2024, 2, 29, 23, 59, 59, 500000000, time.UTC)},
		{"2024-02-29 23:59:59.000001", time.Date(2024, 2, 29, 23, 59, 59, 1000, time.UTC)},
		{"0000-00-00 00:00:00", nil},
		{"2024-02-29T23:59:59", "error"},
		{"2024-2-29", "error"},
		{"2024-02-29 23:59:59.", "error"},
	} {
		var got time.Time
		var ok bool
		var err error
		if len(tc.in) == 10 {
			got, ok, err = parseDate([]byte(tc.in))
		} else {
			got, ok, err = parseDateTime([]byte(tc.in))
		}
		switch w := tc.want.(type) {
		case string:
			if err == nil {
				t.Errorf("%q: no error", tc.in)
			}
		case nil:
			if err != nil || ok {
				t.Errorf("%q: %v %v %v, want NULL", tc.in, got, ok, err)
			}
		case time.Time:
			if err != nil || !ok || !got.Equal(w) || got.Location() != time.UTC {
				t.Errorf("%q: %v %v %v, want %v", tc.in, got, ok, err, w)
			}
		}
	}
}

func TestTruncateUTF8(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 2, "ab"}, {"éé", 3, "é"}, {"éé", 4, "éé"}, {"😀x", 3, ""}, {"😀x", 4, "😀"}, {"a\uFFFDb", 4, "a\uFFFD"},
	} {
		if got := string(truncateUTF8([]byte(tc.in), tc.n)); got != tc.want {
			t.Errorf("truncateUTF8(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestDecimalLiteral(t *testing.T) {
	for s, want := range map[string]bool{
		"1": true, "-1.5": true, "+.5": true, "5.": true, "1e10": true, "1.2E-3": true,
		"": false, ".": false, "-": false, "1e": false, "1.2.3": false, "1 OR 1=1": false, "0x10": false, "1;": false,
	} {
		if isDecimalLiteral(s) != want {
			t.Errorf("isDecimalLiteral(%q) = %v", s, !want)
		}
	}
}

func TestEscapes(t *testing.T) {
	col := encCol{name: "c", kind: record.KindText}
	tsv, _ := appendTSV(nil, col, "a\\b\tc\nd\re\x00f\x1ag\\N")
	if got, want := string(tsv), `a\\b\tc\nd\re\0f\Zg\\N`; got != want {
		t.Errorf("TSV %q, want %q", got, want)
	}
	null, _ := appendTSV(nil, col, nil)
	if string(null) != `\N` {
		t.Errorf("TSV NULL %q", null)
	}
	lit, _ := appendSQL(nil, col, "it's \"q\" \\ \x00\n")
	if got, want := string(lit), `'it\'s \"q\" \\ \0\n'`; got != want {
		t.Errorf("SQL %q, want %q", got, want)
	}
	bin, _ := appendSQL(nil, encCol{name: "b", kind: record.KindBytes}, []byte{0, 0xab})
	if string(bin) != "X'00AB'" {
		t.Errorf("SQL binary %q", bin)
	}
	bit, _ := appendTSV(nil, encCol{name: "b", bit: true}, []byte{0x0a, 0xaa})
	if string(bit) != "2730" {
		t.Errorf("BIT %q", bit)
	}
	ts, _ := appendSQL(nil, encCol{name: "t", kind: record.KindTimestampTZ}, time.Date(2024, 1, 1, 12, 0, 0, 500000000, time.FixedZone("x", 3600)))
	if string(ts) != "'2024-01-01 11:00:00.5'" {
		t.Errorf("SQL timestamp %q", ts)
	}
	if _, err := appendTSV(nil, encCol{name: "d", kind: record.KindDate}, time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("a BC date was accepted")
	}
}

func TestParseEnumValues(t *testing.T) {
	got := fmt.Sprintf("%q", parseEnumValues(`enum('a','it''s','x,y','')`))
	if got != `["a" "it's" "x,y" ""]` {
		t.Errorf("enum labels %s", got)
	}
}

func TestColumnDefs(t *testing.T) {
	mdb := serverFlavor{mariaDB: true}
	pg := func(k record.Kind, n int) record.Type { return record.Type{Kind: k, Length: n, Engine: "postgres"} }
	tb := &record.Table{Name: "t", PrimaryKey: []string{"a", "b"}, Columns: []record.Column{
		{Name: "a", Type: pg(record.KindString, 1000)},
		{Name: "b", Type: pg(record.KindBytes, 0)},
		{Name: "w1", Type: pg(record.KindString, 10000)},
		{Name: "w2", Type: pg(record.KindString, 9000)},
		{Name: "n", Type: record.Type{Kind: record.KindString, Native: "varchar(5000)", Engine: "mysql"}},
	}}
	var got []string
	for _, d := range columnDefs(mdb, tb) {
		got = append(got, d.sql())
	}
	// Keys share 3072 bytes; then the longest non-key VARCHAR becomes TEXT
	// until the row fits in 65,535 bytes.
	want := []string{"varchar(384) COLLATE utf8mb4_nopad_bin", "varbinary(1536)", "text COLLATE utf8mb4_nopad_bin",
		"varchar(9000) COLLATE utf8mb4_nopad_bin", "varchar(5000)"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("column defs\n got %q\nwant %q", got, want)
	}
}

func TestParseFlavor(t *testing.T) {
	for v, want := range map[string]serverFlavor{
		"10.11.19-MariaDB-0+deb12u1-log": {mariaDB: true, major: 10, minor: 11, patch: 19},
		"8.0.36":                         {major: 8, minor: 0, patch: 36},
		"8.4.0-commercial":               {major: 8, minor: 4, patch: 0},
		"5.5.5-10.6.12-MariaDB":          {mariaDB: true, major: 5, minor: 5, patch: 5},
	} {
		got := parseFlavor(v)
		got.version = ""
		if got != want {
			t.Errorf("parseFlavor(%q) = %+v, want %+v", v, got, want)
		}
	}
	float := column{name: "f", kind: record.KindFloat32}
	if got := selectExpr(float, parseFlavor("8.0.16")); got != "(`f` + 0e0)" {
		t.Errorf("MySQL 8.0.16 float: %s", got)
	}
	if got := selectExpr(float, parseFlavor("8.0.17")); got != "CAST(`f` AS DOUBLE)" {
		t.Errorf("MySQL 8.0.17 float: %s", got)
	}
}
