package s3_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/s3"
	"github.com/godwit-dms/godwit/internal/record"
)

var bg = context.Background()

// openTarget opens a target on a local store under root, bucket "bkt"
// unless settings name another.
func openTarget(t testing.TB, root string, settings map[string]any) *s3.Conn {
	t.Helper()
	s := map[string]any{"BucketName": "bkt"}
	for k, v := range settings {
		s[k] = v
	}
	c, err := s3.New(localEndpoint(root, connector.RoleTarget, s))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*s3.Conn)
}

func col(name string, k record.Kind) record.Column {
	return record.Column{Name: name, Type: record.Type{Kind: k}, Nullable: true}
}

func numCol(name string, p, s int) record.Column {
	c := col(name, record.KindNumeric)
	c.Type.Precision, c.Type.Scale = p, s
	return c
}

// kindsTable has a column of every record.Kind.
func kindsTable() *record.Table {
	return &record.Table{Schema: "public", Name: "kinds", Columns: []record.Column{
		col("b", record.KindBool), col("i2", record.KindInt16), col("i4", record.KindInt32),
		col("i8", record.KindInt64), col("u8", record.KindUint64),
		numCol("n", 12, 4), numCol("n9", 9, 2), numCol("nbig", 30, 5), numCol("nfree", 0, 0),
		col("f4", record.KindFloat32), col("f8", record.KindFloat64),
		col("s", record.KindString), col("txt", record.KindText),
		col("by", record.KindBytes), col("bl", record.KindBlob),
		col("d", record.KindDate), col("tm", record.KindTime),
		col("ts", record.KindTimestamp), col("tstz", record.KindTimestampTZ),
		col("js", record.KindJSON), col("uu", record.KindUUID), col("en", record.KindEnum),
		col("arr", record.KindArray), col("iv", record.KindInterval),
	}, PrimaryKey: []string{"i8"}}
}

// kindsRows are rows of kindsTable: extremes, ordinary values, NULLs.
func kindsRows() []record.Row {
	return []record.Row{
		{true, int64(-32768), int64(2147483647), int64(-9223372036854775808), uint64(18446744073709551615),
			"-12.3400", "1234567.89", "-1234567890123456789012345.67891", "3.14159265358979323846264338327950288419716939937510",
			float64(float32(0.1)), 0.1,
			"héllo 😀 Ω", "line1\nline2, \"quoted\"\r\nend",
			[]byte{0, 1, 0xfe, 0xff}, []byte("blob"),
			time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "23:59:59.999999",
			time.Date(2024, 2, 29, 12, 34, 56, 123456000, time.UTC),
			time.Date(2000, 1, 1, 1, 0, 0, 1000, time.FixedZone("CET", 3600)),
			`{"a": [1, 2.5, "x"]}`, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "happy", "{1,2,3}", "P1Y2M3DT4H5M6S"},
		{false, int64(0), int64(-1), int64(1), uint64(0),
			"0.0000", "-0.01", "99999999999999999999999.99999", "-0.5",
			float64(float32(-3.4028235e38)), -1.7976931348623157e308,
			"", "",
			[]byte{}, []byte{0},
			time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), "00:00:00",
			time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
			time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
			`null`, "00000000-0000-0000-0000-000000000000", "sad", "{}", "00:00:00"},
		{nil, nil, nil, int64(2), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
	}
}

// kindsCSV is kindsRows as DMS's default CSV.
var kindsCSV = `true,-32768,2147483647,-9223372036854775808,18446744073709551615,-12.3400,1234567.89,-1234567890123456789012345.67891,3.14159265358979323846264338327950288419716939937510,0.1,0.1,héllo 😀 Ω,"line1
line2, ""quoted""` + "\r\n" + `end",0001FEFF,626C6F62,2024-02-29,23:59:59.999999,2024-02-29 12:34:56.123456,2000-01-01 00:00:00.000001,"{""a"": [1, 2.5, ""x""]}",a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,happy,"{1,2,3}",P1Y2M3DT4H5M6S
false,0,-1,1,0,0.0000,-0.01,99999999999999999999999.99999,-0.5,-3.4028235e+38,-1.7976931348623157e+308,"","","",00,1970-01-01,00:00:00,1969-12-31 23:59:59.999999,1970-01-01 00:00:00.000000,null,00000000-0000-0000-0000-000000000000,sad,{},00:00:00
,,,2,,,,,,,,,,,,,,,,,,,,
`

func bucketPath(root string, parts ...string) string {
	return filepath.Join(append([]string{root, "bkt"}, parts...)...)
}

// listDir returns the names in dir, sorted; nil when it does not exist.
func listDir(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return string(b)
}

func mustPrepare(t testing.TB, c *s3.Conn, tbl *record.Table, prep connector.TablePrep) {
	t.Helper()
	if err := c.PrepareTable(bg, tbl, prep, false); err != nil {
		t.Fatalf("PrepareTable: %v", err)
	}
}

func mustLoad(t testing.TB, c *s3.Conn, tbl *record.Table, rows []record.Row) {
	t.Helper()
	if err := c.Load(bg, tbl, rows); err != nil {
		t.Fatalf("Load: %v", err)
	}
}

func mustFinish(t testing.TB, c *s3.Conn, tbl *record.Table) {
	t.Helper()
	if err := c.FinishTable(bg, tbl, false); err != nil {
		t.Fatalf("FinishTable: %v", err)
	}
}

func TestDialect(t *testing.T) {
	c := openTarget(t, t.TempDir(), nil)
	if c.Family() != "s3" || c.DefaultSchema() != "" {
		t.Errorf("Family, DefaultSchema = %q, %q", c.Family(), c.DefaultSchema())
	}
}

func TestCSVEveryKind(t *testing.T) {
	root := t.TempDir()
	c := openTarget(t, root, map[string]any{"BucketFolder": "exports/full"})
	tbl := kindsTable()
	mustPrepare(t, c, tbl, connector.PrepTruncate)
	mustLoad(t, c, tbl, kindsRows())
	mustFinish(t, c, tbl)
	dir := bucketPath(root, "exports", "full", "public", "kinds")
	if got := listDir(t, dir); !slices.Equal(got, []string{"LOAD00000001.csv"}) {
		t.Fatalf("files = %v", got)
	}
	if got := readFile(t, filepath.Join(dir, "LOAD00000001.csv")); got != kindsCSV {
		t.Errorf("CSV:\n%s\nwant:\n%s", got, kindsCSV)
	}
	// Readers that follow RFC 4180 get the values back.
	recs, err := csv.NewReader(strings.NewReader(kindsCSV)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[0][12] != "line1\nline2, \"quoted\"\nend" && recs[0][12] != "line1\nline2, \"quoted\"\r\nend" {
		t.Errorf("text field read back as %q", recs[0][12])
	}
	if recs[0][11] != "héllo 😀 Ω" || recs[1][11] != "" || recs[2][11] != "" {
		t.Errorf("strings read back as %q, %q, %q", recs[0][11], recs[1][11], recs[2][11])
	}
	if got := listDir(t, filepath.Join(root, s3.LocalStagingDir)); len(got) != 0 {
		t.Errorf("staged files left: %v", got)
	}
}

// loadOne loads rows into a fresh table with settings and returns the
// text of its single file.
func loadOne(t *testing.T, settings map[string]any, tbl *record.Table, rows []record.Row) string {
	t.Helper()
	root := t.TempDir()
	c := openTarget(t, root, settings)
	mustPrepare(t, c, tbl, connector.PrepDropAndCreate)
	mustLoad(t, c, tbl, rows)
	mustFinish(t, c, tbl)
	dir := bucketPath(root, tbl.Schema, tbl.Name)
	files := listDir(t, dir)
	if len(files) != 1 {
		t.Fatalf("files = %v", files)
	}
	return readFile(t, filepath.Join(dir, files[0]))
}

func textTable() *record.Table {
	return &record.Table{Schema: "s", Name: "t", Columns: []record.Column{col("id", record.KindInt64), col("v", record.KindString)}}
}

func TestCSVOptions(t *testing.T) {
	tbl := textTable()
	rows := []record.Row{
		{int64(1), "plain"}, {int64(2), "a,b"}, {int64(3), `say "hi"`}, {int64(4), "two\nlines"},
		{int64(5), "cr\rhere"}, {int64(6), "pipe|bar"}, {int64(7), ""}, {int64(8), nil}, {int64(9), "NULL"},
		{int64(10), "𝄞 ünï"}, {int64(11), "semi;;colon"},
	}
	cases := []struct {
		name     string
		settings map[string]any
		eca      string
		want     string
	}{
		{"defaults", nil, "", "1,plain\n2,\"a,b\"\n3,\"say \"\"hi\"\"\"\n4,\"two\nlines\"\n5,\"cr\rhere\"\n6,pipe|bar\n7,\"\"\n8,\n9,NULL\n10,𝄞 ünï\n11,semi;;colon\n"},
		{"no rfc4180", map[string]any{"Rfc4180": false}, "",
			"1,plain\n2,a,b\n3,say \"hi\"\n4,two\nlines\n5,cr\rhere\n6,pipe|bar\n7,\n8,\n9,NULL\n10,𝄞 ünï\n11,semi;;colon\n"},
		{"null value", map[string]any{"CsvNullValue": "NULL"}, "",
			"1,plain\n2,\"a,b\"\n3,\"say \"\"hi\"\"\"\n4,\"two\nlines\"\n5,\"cr\rhere\"\n6,pipe|bar\n7,\n8,NULL\n9,\"NULL\"\n10,𝄞 ünï\n11,semi;;colon\n"},
		{"delimiters", map[string]any{"CsvDelimiter": "|", "CsvRowDelimiter": ";;"}, "",
			"1|plain;;2|a,b;;3|\"say \"\"hi\"\"\";;4|\"two\nlines\";;5|\"cr\rhere\";;6|\"pipe|bar\";;7|\"\";;8|;;9|NULL;;10|𝄞 ünï;;11|\"semi;;colon\";;"},
		{"header, op, eca", nil, `addColumnName=true;includeOpForFullLoad=y;csvDelimiter=\t;csvRowDelimiter=\r\n`,
			"Op\tid\tv\r\nI\t1\tplain\r\nI\t2\ta,b\r\nI\t3\t\"say \"\"hi\"\"\"\r\nI\t4\t\"two\nlines\"\r\nI\t5\t\"cr\rhere\"\r\nI\t6\tpipe|bar\r\nI\t7\t\"\"\r\nI\t8\t\r\nI\t9\tNULL\r\nI\t10\t𝄞 ünï\r\nI\t11\tsemi;;colon\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			s := map[string]any{"BucketName": "bkt"}
			for k, v := range tc.settings {
				s[k] = v
			}
			ep := localEndpoint(root, connector.RoleTarget, s)
			ep.ExtraConnectionAttributes = tc.eca
			cn, err := s3.New(ep)
			if err != nil {
				t.Fatal(err)
			}
			c := cn.(*s3.Conn)
			defer c.Close()
			mustPrepare(t, c, tbl, connector.PrepTruncate)
			mustLoad(t, c, tbl, rows[:5])
			mustLoad(t, c, tbl, rows[5:])
			mustFinish(t, c, tbl)
			got := readFile(t, bucketPath(root, "s", "t", "LOAD00000001.csv"))
			if got != tc.want {
				t.Errorf("CSV:\n%q\nwant:\n%q", got, tc.want)
			}
		})
	}
}

func TestCSVTimestampColumn(t *testing.T) {
	tbl := textTable()
	start := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	got := loadOne(t, map[string]any{"TimestampColumnName": "loaded_at", "UseTaskStartTimeForFullLoadTimestamp": true,
		"AddColumnName": true, s3.SettingTaskStart: start.Format(time.RFC3339Nano)}, tbl, []record.Row{{int64(1), "x"}, {int64(2), nil}})
	want := "id,v,loaded_at\n1,x,2024-05-06 07:08:09.123456\n2,,2024-05-06 07:08:09.123456\n"
	if got != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", got, want)
	}

	// SetLoadTimestamp overrides the setting.
	root := t.TempDir()
	c := openTarget(t, root, map[string]any{"TimestampColumnName": "ts", "UseTaskStartTimeForFullLoadTimestamp": "true",
		"IncludeOpForFullLoad": true, s3.SettingTaskStart: start.Format(time.RFC3339)})
	c.SetLoadTimestamp(time.Date(2020, 1, 2, 3, 4, 5, 6000, time.FixedZone("x", -3600)))
	mustPrepare(t, c, tbl, connector.PrepTruncate)
	mustLoad(t, c, tbl, []record.Row{{int64(1), "x"}})
	mustFinish(t, c, tbl)
	if got := readFile(t, bucketPath(root, "s", "t", "LOAD00000001.csv")); got != "I,1,x,2020-01-02 04:04:05.000006\n" {
		t.Errorf("CSV = %q", got)
	}

	// Without UseTaskStartTime the column is the time of the transfer.
	before := time.Now().UTC().Truncate(time.Microsecond)
	got = loadOne(t, map[string]any{"TimestampColumnName": "ts"}, tbl, []record.Row{{int64(1), "x"}})
	after := time.Now().UTC()
	stamp := strings.TrimSuffix(strings.TrimPrefix(got, "1,x,"), "\n")
	ts, err := time.Parse("2006-01-02 15:04:05.000000", stamp)
	if err != nil || ts.Before(before) || ts.After(after) {
		t.Errorf("transfer timestamp %q (%v) not within [%v, %v]", stamp, err, before, after)
	}
}

// wideRows are n rows of about 100 bytes of CSV.
func wideRows(from, n int) []record.Row {
	rows := make([]record.Row, n)
	for i := range rows {
		rows[i] = record.Row{int64(from + i), fmt.Sprintf("%090d", from+i)}
	}
	return rows
}

func TestRolloverNaming(t *testing.T) {
	root := t.TempDir()
	c := openTarget(t, root, map[string]any{"MaxFileSize": 1, "AddColumnName": true})
	tbl := textTable()
	mustPrepare(t, c, tbl, connector.PrepTruncate)
	var want strings.Builder
	for i := 0; i < 500; i += 50 {
		rows := wideRows(i, 50)
		mustLoad(t, c, tbl, rows)
		for _, r := range rows {
			fmt.Fprintf(&want, "%d,%s\n", r[0], r[1])
		}
	}
	mustFinish(t, c, tbl)
	dir := bucketPath(root, "s", "t")
	files := listDir(t, dir)
	// 500 rows of 96-98 bytes, 10 rows (with the header) per 1 KB file.
	if len(files) != 50 {
		t.Fatalf("%d files: %v", len(files), files)
	}
	var got strings.Builder
	for i, f := range files {
		if wantName := fmt.Sprintf("LOAD%08X.csv", i+1); f != wantName {
			t.Fatalf("file %d is %s, want %s", i, f, wantName)
		}
		text := readFile(t, filepath.Join(dir, f))
		if len(text) > 1024 {
			t.Errorf("%s has %d bytes, more than MaxFileSize", f, len(text))
		}
		body, ok := strings.CutPrefix(text, "id,v\n")
		if !ok {
			t.Errorf("%s does not start with the header", f)
		}
		got.WriteString(body)
	}
	for _, n := range []string{"LOAD00000009.csv", "LOAD0000000A.csv", "LOAD0000000F.csv", "LOAD00000010.csv", "LOAD0000001F.csv", "LOAD00000032.csv"} {
		if !slices.Contains(files, n) {
			t.Errorf("no %s", n)
		}
	}
	if got.String() != want.String() {
		t.Error("the files' rows differ from the rows loaded")
	}

	// A row larger than MaxFileSize gets a file of its own.
	root = t.TempDir()
	c = openTarget(t, root, map[string]any{"MaxFileSize": 1})
	mustPrepare(t, c, tbl, connector.PrepTruncate)
	mustLoad(t, c, tbl, []record.Row{{int64(1), "a"}, {int64(2), strings.Repeat("x", 3000)}, {int64(3), "b"}})
	mustFinish(t, c, tbl)
	if files := listDir(t, bucketPath(root, "s", "t")); len(files) != 3 {
		t.Errorf("files = %v", files)
	}
}

func TestNothingVisibleBeforePublish(t *testing.T) {
	root := t.TempDir()
	c := openTarget(t, root, map[string]any{"MaxFileSize": 2})
	tbl := textTable()
	empty := &record.Table{Schema: "s", Name: "empty", Columns: tbl.Columns}
	mustPrepare(t, c, tbl, connector.PrepTruncate)
	mustPrepare(t, c, empty, connector.PrepTruncate)
	mustLoad(t, c, tbl, wideRows(0, 5))
	if files := listDir(t, bucketPath(root)); files != nil {
		t.Fatalf("bucket holds %v before any file is complete", files)
	}
	staged := listDir(t, filepath.Join(root, s3.LocalStagingDir))
	if len(staged) != 1 || !strings.HasSuffix(staged[0], ".csv.part") {
		t.Fatalf("staged = %v", staged)
	}
	mustLoad(t, c, tbl, wideRows(5, 40)) // 45 rows: two complete 2 KB files (21 rows each), the rest staged
	dir := bucketPath(root, "s", "t")
	if files := listDir(t, dir); !slices.Equal(files, []string{"LOAD00000001.csv", "LOAD00000002.csv"}) {
		t.Fatalf("files = %v", files)
	}
	mustFinish(t, c, tbl)
	mustFinish(t, c, empty)
	if files := listDir(t, dir); len(files) != 3 {
		t.Fatalf("files = %v", files)
	}
	if files := listDir(t, bucketPath(root, "s")); !slices.Equal(files, []string{"t"}) {
		t.Errorf("folders = %v: an empty table must have none", files)
	}
	if staged := listDir(t, filepath.Join(root, s3.LocalStagingDir)); len(staged) != 0 {
		t.Errorf("staged = %v", staged)
	}

	// Close drops what was not published.
	mustPrepare(t, c, tbl, connector.PrepTruncate)
	mustLoad(t, c, tbl, wideRows(0, 3))
	c.Close()
	if files := listDir(t, dir); len(files) != 0 {
		t.Errorf("files after Close = %v", files)
	}
	if staged := listDir(t, filepath.Join(root, s3.LocalStagingDir)); len(staged) != 0 {
		t.Errorf("staged after Close = %v", staged)
	}
	if err := c.Load(bg, tbl, wideRows(0, 1)); !errors.Is(err, s3.ErrClosed) {
		t.Errorf("Load after Close = %v", err)
	}
}

func TestGzip(t *testing.T) {
	rows := wideRows(0, 300)
	rows = append(rows, kindsRowsAsText()...)
	load := func(settings map[string]any) (string, []string, []string) {
		root := t.TempDir()
		c := openTarget(t, root, settings)
		tbl := textTable()
		mustPrepare(t, c, tbl, connector.PrepTruncate)
		mustLoad(t, c, tbl, rows)
		mustFinish(t, c, tbl)
		dir := bucketPath(root, "s", "t")
		files := listDir(t, dir)
		var all strings.Builder
		var texts []string
		for _, f := range files {
			text := readFile(t, filepath.Join(dir, f))
			texts = append(texts, text)
			all.WriteString(text)
		}
		return all.String(), files, texts
	}
	plain, plainFiles, plainTexts := load(map[string]any{"MaxFileSize": 4, "AddColumnName": true})
	zipped, zipFiles, zipTexts := load(map[string]any{"MaxFileSize": 4, "AddColumnName": true, "CompressionType": "GZIP"})
	if len(zipFiles) < 2 || len(zipFiles) != len(plainFiles) {
		t.Fatalf("files = %v, without compression %v", zipFiles, plainFiles)
	}
	for i, f := range zipFiles {
		if want := strings.TrimSuffix(plainFiles[i], ".csv") + ".csv.gz"; f != want {
			t.Errorf("file %s, want %s", f, want)
		}
		if zipTexts[i] != plainTexts[i] {
			t.Errorf("%s decompresses to other text than %s", f, plainFiles[i])
		}
	}
	if zipped != plain {
		t.Error("gzip files decompress to other CSV")
	}
}

// kindsRowsAsText are rows of textTable with awkward strings.
func kindsRowsAsText() []record.Row {
	return []record.Row{{int64(-1), "line1\nline2, \"q\""}, {int64(-2), "😀"}, {int64(-3), nil}, {int64(-4), ""}}
}

func TestPrepareModes(t *testing.T) {
	tbl := textTable()
	seed := func(t *testing.T) string {
		root := t.TempDir()
		dir := bucketPath(root, "s", "t")
		os.MkdirAll(dir, 0o755)
		for _, f := range []string{"LOAD00000001.csv", "LOAD00000002.csv.gz", "LOAD0000000A.parquet", "20240101-1200000000.csv", "notes.txt", "LOAD1.csv"} {
			os.WriteFile(filepath.Join(dir, f), []byte("old\n"), 0o644)
		}
		return root
	}
	for _, prep := range []connector.TablePrep{connector.PrepTruncate, connector.PrepDropAndCreate} {
		t.Run(string(prep), func(t *testing.T) {
			root := seed(t)
			c := openTarget(t, root, nil)
			mustPrepare(t, c, tbl, prep)
			dir := bucketPath(root, "s", "t")
			if files := listDir(t, dir); !slices.Equal(files, []string{"LOAD1.csv", "notes.txt"}) {
				t.Fatalf("after %s: %v", prep, files)
			}
			mustLoad(t, c, tbl, wideRows(0, 2))
			mustFinish(t, c, tbl)
			if !slices.Contains(listDir(t, dir), "LOAD00000001.csv") {
				t.Errorf("no LOAD00000001.csv")
			}
		})
	}
	t.Run("DO_NOTHING", func(t *testing.T) {
		root := seed(t)
		c := openTarget(t, root, map[string]any{"MaxFileSize": 1})
		mustPrepare(t, c, tbl, connector.PrepDoNothing)
		dir := bucketPath(root, "s", "t")
		if !slices.Contains(listDir(t, dir), "_godwit_load_base") {
			t.Errorf("no load marker during a DO_NOTHING load over older files")
		}
		mustLoad(t, c, tbl, wideRows(0, 15))
		mustFinish(t, c, tbl)
		want := []string{"20240101-1200000000.csv", "LOAD00000001.csv", "LOAD00000002.csv.gz", "LOAD0000000A.parquet",
			"LOAD0000000B.csv", "LOAD0000000C.csv", "LOAD1.csv", "_godwit_load_base", "notes.txt"}
		if files := listDir(t, dir); !slices.Equal(files, want) {
			t.Errorf("files = %v, want %v", files, want)
		}
		if readFile(t, filepath.Join(dir, "LOAD00000001.csv")) != "old\n" {
			t.Error("an old file changed")
		}
		// A second DO_NOTHING load continues the numbering.
		c2 := openTarget(t, root, nil)
		mustPrepare(t, c2, tbl, connector.PrepDoNothing)
		mustLoad(t, c2, tbl, wideRows(0, 1))
		mustFinish(t, c2, tbl)
		if !slices.Contains(listDir(t, dir), "LOAD0000000D.csv") {
			t.Errorf("files = %v, want a LOAD0000000D.csv", listDir(t, dir))
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "_godwit_load_base")); string(b) != "0000000C\n" {
			t.Errorf("marker = %q", b)
		}
		// Redoing the finished load spares the older files.
		if err := c2.DeleteRange(bg, tbl, nil); err != nil {
			t.Fatal(err)
		}
		if files := listDir(t, dir); slices.Contains(files, "LOAD0000000D.csv") || !slices.Contains(files, "LOAD0000000C.csv") {
			t.Errorf("after DeleteRange(nil): %v", files)
		}
		// TRUNCATE_BEFORE_LOAD removes the marker with the LOAD and CDC files.
		mustPrepare(t, c2, tbl, connector.PrepTruncate)
		if files := listDir(t, dir); !slices.Equal(files, []string{"LOAD1.csv", "notes.txt"}) {
			t.Errorf("after TRUNCATE_BEFORE_LOAD: %v", files)
		}
	})
	t.Run("bad mode", func(t *testing.T) {
		c := openTarget(t, t.TempDir(), nil)
		if err := c.PrepareTable(bg, tbl, "APPEND", false); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("bad names", func(t *testing.T) {
		c := openTarget(t, t.TempDir(), nil)
		for _, bad := range []*record.Table{{Schema: "..", Name: "t"}, {Schema: "s", Name: "a/b"}, {Schema: "", Name: "t"}} {
			if err := c.PrepareTable(bg, bad, connector.PrepTruncate, false); !errors.Is(err, s3.ErrInvalidName) {
				t.Errorf("%q.%q: err = %v", bad.Schema, bad.Name, err)
			}
		}
	})
}

func TestDeleteRange(t *testing.T) {
	tbl := textTable()
	root := t.TempDir()
	dir := bucketPath(root, "s", "t")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "LOAD00000001.csv"), []byte("old\n"), 0o644)

	c := openTarget(t, root, map[string]any{"MaxFileSize": 1})
	mustPrepare(t, c, tbl, connector.PrepDoNothing)
	mustLoad(t, c, tbl, wideRows(0, 25)) // LOAD2, LOAD3 published, the rest staged
	if files := listDir(t, dir); !slices.Equal(files, []string{"LOAD00000001.csv", "LOAD00000002.csv", "LOAD00000003.csv", "_godwit_load_base"}) {
		t.Fatalf("files = %v", files)
	}
	if err := c.DeleteRange(bg, tbl, &record.Range{Columns: []string{"id"}, From: record.Row{int64(5)}}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("DeleteRange(range) = %v, want ErrUnsupported", err)
	}
	if err := c.DeleteRange(bg, tbl, nil); err != nil {
		t.Fatal(err)
	}
	if files := listDir(t, dir); !slices.Equal(files, []string{"LOAD00000001.csv", "_godwit_load_base"}) {
		t.Fatalf("after DeleteRange(nil): %v", files)
	}
	if staged := listDir(t, filepath.Join(root, s3.LocalStagingDir)); len(staged) != 0 {
		t.Errorf("staged = %v", staged)
	}
	mustLoad(t, c, tbl, wideRows(100, 12))

	// The process dies: a new connector resumes the table from its marker.
	c2 := openTarget(t, root, map[string]any{"MaxFileSize": 1})
	if err := c2.DeleteRange(bg, tbl, nil); err != nil {
		t.Fatal(err)
	}
	if files := listDir(t, dir); !slices.Equal(files, []string{"LOAD00000001.csv", "_godwit_load_base"}) {
		t.Fatalf("after a restart's DeleteRange(nil): %v", files)
	}
	if staged := listDir(t, filepath.Join(root, s3.LocalStagingDir)); len(staged) != 0 {
		t.Errorf("staged files of the dead process left: %v", staged)
	}
	mustLoad(t, c2, tbl, wideRows(200, 12))
	mustFinish(t, c2, tbl)
	if files := listDir(t, dir); !slices.Equal(files, []string{"LOAD00000001.csv", "LOAD00000002.csv", "LOAD00000003.csv", "_godwit_load_base"}) {
		t.Fatalf("after the resumed load: %v", files)
	}
	text := readFile(t, filepath.Join(dir, "LOAD00000002.csv")) + readFile(t, filepath.Join(dir, "LOAD00000003.csv"))
	if !strings.HasPrefix(text, "200,") || strings.Count(text, "\n") != 12 {
		t.Errorf("resumed files hold:\n%s", text)
	}

	// Without a marker (TRUNCATE), every LOAD file is the load's own.
	c3 := openTarget(t, root, map[string]any{"MaxFileSize": 1})
	mustPrepare(t, c3, tbl, connector.PrepTruncate)
	mustLoad(t, c3, tbl, wideRows(0, 25))
	c4 := openTarget(t, root, nil)
	if err := c4.DeleteRange(bg, tbl, nil); err != nil {
		t.Fatal(err)
	}
	if files := listDir(t, dir); len(files) != 0 {
		t.Errorf("files = %v", files)
	}
}

func TestBadValueFailsBatchOnly(t *testing.T) {
	root := t.TempDir()
	c := openTarget(t, root, nil)
	tbl := textTable()
	mustPrepare(t, c, tbl, connector.PrepTruncate)
	mustLoad(t, c, tbl, []record.Row{{int64(1), "a"}})
	err := c.Load(bg, tbl, []record.Row{{int64(2), "b"}, {"three", "c"}})
	if !errors.Is(err, s3.ErrValueType) || !errors.Is(err, connector.ErrRowRejected) {
		t.Fatalf("Load = %v, want ErrValueType and connector.ErrRowRejected", err)
	}
	t.Log(err)
	if err := c.Load(bg, tbl, []record.Row{{int64(4)}}); !errors.Is(err, s3.ErrRowWidth) {
		t.Fatalf("Load = %v, want ErrRowWidth", err)
	}
	mustLoad(t, c, tbl, []record.Row{{int64(5), "e"}})
	mustFinish(t, c, tbl)
	if got := readFile(t, bucketPath(root, "s", "t", "LOAD00000001.csv")); got != "1,a\n5,e\n" {
		t.Errorf("file = %q", got)
	}
}

func TestTargetSettingsErrors(t *testing.T) {
	root := t.TempDir()
	for name, tc := range map[string]struct {
		settings map[string]any
		want     string
	}{
		"format":       {map[string]any{"DataFormat": "xml"}, "DataFormat"},
		"max size":     {map[string]any{"MaxFileSize": 0}, "MaxFileSize"},
		"max size big": {map[string]any{"MaxFileSize": 1048577}, "MaxFileSize"},
		"max size txt": {map[string]any{"MaxFileSize": "big"}, "MaxFileSize"},
		"version":      {map[string]any{"ParquetVersion": "parquet-3-0"}, "ParquetVersion"},
		"encoding":     {map[string]any{"EncodingType": "delta"}, "EncodingType"},
		"rfc":          {map[string]any{"Rfc4180": "maybe"}, "Rfc4180"},
		"quote delim":  {map[string]any{"CsvDelimiter": `"`}, "CsvDelimiter"},
		"same delims":  {map[string]any{"CsvDelimiter": "\n"}, "differ"},
		"task start":   {map[string]any{s3.SettingTaskStart: "yesterday"}, s3.SettingTaskStart},
		// Date partitions and transaction files (partition_test.go, txn_test.go).
		"partition sequence":  {map[string]any{"DatePartitionEnabled": true, "DatePartitionSequence": "YYYY"}, "DatePartitionSequence"},
		"partition delimiter": {map[string]any{"DatePartitionEnabled": true, "DatePartitionDelimiter": "COMMA"}, "DatePartitionDelimiter"},
		"partition zone":      {map[string]any{"DatePartitionEnabled": true, "DatePartitionTimezone": "Mars/Olympus"}, `DatePartitionTimezone "Mars/Olympus" is not a time zone`},
		"local zone":          {map[string]any{"DatePartitionEnabled": true, "DatePartitionTimezone": "Local"}, "DatePartitionTimezone"},
		"partition enabled":   {map[string]any{"DatePartitionEnabled": "sometimes"}, "DatePartitionEnabled"},
		"no CdcPath":          {map[string]any{"PreserveTransactions": true}, "CdcPath is not set"},
		"empty CdcPath":       {map[string]any{"PreserveTransactions": true, "CdcPath": "/"}, "CdcPath is not set"},
		"CdcPath escapes":     {map[string]any{"PreserveTransactions": true, "CdcPath": "a/../../b"}, "CdcPath"},
		"txn and partitions":  {map[string]any{"PreserveTransactions": true, "CdcPath": "txn", "DatePartitionEnabled": true}, "DatePartitionEnabled cannot be used with PreserveTransactions"},
	} {
		t.Run(name, func(t *testing.T) {
			s := map[string]any{"BucketName": "bkt"}
			for k, v := range tc.settings {
				s[k] = v
			}
			_, err := s3.New(localEndpoint(root, connector.RoleTarget, s))
			wantStage(t, err, connector.StageConfig, tc.want)
		})
	}
	// parquet_version written the API way, and numbers as JSON strings.
	c := openTarget(t, root, map[string]any{"DataFormat": "PARQUET", "ParquetVersion": "PARQUET_2_0", "MaxFileSize": "512"})
	if s := c.Config().Target; s.DataFormat != "parquet" || s.ParquetVersion != "parquet-2-0" || s.MaxFileSizeKB != 512 {
		t.Errorf("settings = %+v", s)
	}
	c = openTarget(t, root, map[string]any{"CdcInsertsOnly": true, "UseCsvNoSupValue": true, "DatePartitionSequence": "YYYYMM", "CdcPath": "x"})
	if got := c.Config().Target.IgnoredCDCSettings; !slices.Equal(got, []string{"DatePartitionSequence", "CdcPath", "UseCsvNoSupValue"}) {
		t.Errorf("ignored = %v", got)
	}
}

func TestConcurrentTables(t *testing.T) {
	root := t.TempDir()
	c := openTarget(t, root, map[string]any{"MaxFileSize": 1})
	errs := make(chan error, 8)
	for g := 0; g < 4; g++ {
		tbl := &record.Table{Schema: "s", Name: fmt.Sprintf("t%d", g), Columns: textTable().Columns}
		mustPrepare(t, c, tbl, connector.PrepTruncate)
		for seg := 0; seg < 2; seg++ {
			go func(seg int) {
				for i := 0; i < 10; i++ {
					if err := c.Load(bg, tbl, wideRows(seg*1000+i*10, 10)); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}(seg)
		}
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for g := 0; g < 4; g++ {
		tbl := &record.Table{Schema: "s", Name: fmt.Sprintf("t%d", g), Columns: textTable().Columns}
		mustFinish(t, c, tbl)
		dir := bucketPath(root, "s", tbl.Name)
		lines := 0
		for _, f := range listDir(t, dir) {
			lines += strings.Count(readFile(t, filepath.Join(dir, f)), "\n")
		}
		if lines != 200 {
			t.Errorf("%s: %d rows, want 200", tbl.Name, lines)
		}
	}
}

func TestBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("large load")
	}
	root := t.TempDir()
	c := openTarget(t, root, map[string]any{"MaxFileSize": 65536})
	tbl := benchTable()
	mustPrepare(t, c, tbl, connector.PrepTruncate)
	gen := newBenchRows(10000)
	var peak uint64
	const batches = 56 // 560,000 rows, about 118 MB of CSV
	for i := 0; i < batches; i++ {
		mustLoad(t, c, tbl, gen.next())
		if i%5 == 4 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	mustFinish(t, c, tbl)
	var total int64
	dir := bucketPath(root, "bench", "rows")
	for _, f := range listDir(t, dir) {
		fi, _ := os.Stat(filepath.Join(dir, f))
		total += fi.Size()
	}
	t.Logf("%d files, %d MB written, peak heap in use %d MB", len(listDir(t, dir)), total>>20, peak>>20)
	if total < 100<<20 {
		t.Errorf("only %d bytes written", total)
	}
	if peak > 48<<20 {
		t.Errorf("heap in use reached %d MB while loading", peak>>20)
	}
}
