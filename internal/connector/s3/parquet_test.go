package s3_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/s3"
	"github.com/godwit-dms/godwit/internal/record"
)

// parquetFile is a Parquet file read back whole.
type parquetFile struct {
	file *parquet.File
	rows []parquet.Row
}

func readParquet(t testing.TB, path string) parquetFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	r := parquet.NewReader(pf)
	var rows []parquet.Row
	for {
		buf := make([]parquet.Row, 64)
		n, err := r.ReadRows(buf)
		for _, row := range buf[:n] {
			rows = append(rows, row.Clone())
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if int64(len(rows)) != pf.NumRows() {
		t.Fatalf("%s: read %d rows of %d", path, len(rows), pf.NumRows())
	}
	return parquetFile{pf, rows}
}

// schemaLines is the file's schema as "name type" lines.
func (p parquetFile) schemaLines() []string {
	var out []string
	for _, f := range p.file.Schema().Fields() {
		rep := "required"
		if f.Optional() {
			rep = "optional"
		}
		out = append(out, fmt.Sprintf("%s %s %s %s", rep, f.Type().Kind(), f.Name(), f.Type()))
	}
	return out
}

// decimalText formats an unscaled Parquet DECIMAL value.
func decimalText(v parquet.Value, scale int) string {
	var n big.Int
	switch v.Kind() {
	case parquet.Int32:
		n.SetInt64(int64(v.Int32()))
	case parquet.Int64:
		n.SetInt64(v.Int64())
	default:
		b := v.ByteArray()
		n.SetBytes(b)
		if len(b) > 0 && b[0]&0x80 != 0 {
			n.Sub(&n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
		}
	}
	neg := n.Sign() < 0
	digits := new(big.Int).Abs(&n).String()
	for len(digits) <= scale {
		digits = "0" + digits
	}
	s := digits
	if scale > 0 {
		s = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// parquetValueOf decodes a Parquet value of a column of kind k back to the
// record value it was written from.
func parquetValueOf(c record.Column, v parquet.Value) any {
	if v.IsNull() {
		return nil
	}
	switch c.Type.Kind {
	case record.KindBool:
		return v.Boolean()
	case record.KindInt16, record.KindInt32:
		return int64(v.Int32())
	case record.KindInt64:
		return v.Int64()
	case record.KindUint64:
		return v.Uint64()
	case record.KindNumeric:
		if c.Type.Precision == 0 {
			return string(v.ByteArray())
		}
		return decimalText(v, c.Type.Scale)
	case record.KindFloat32:
		return float64(v.Float())
	case record.KindFloat64:
		return v.Double()
	case record.KindBytes, record.KindBlob:
		return append([]byte{}, v.ByteArray()...)
	case record.KindDate:
		return time.Unix(int64(v.Int32())*86400, 0).UTC()
	case record.KindTime:
		us := v.Int64()
		return fmt.Sprintf("%02d:%02d:%02d.%06d", us/3600e6, us/60e6%60, us/1e6%60, us%1e6)
	case record.KindTimestamp, record.KindTimestampTZ:
		return time.UnixMicro(v.Int64()).UTC()
	}
	return string(v.ByteArray())
}

func equalValues(want, got any) bool {
	switch w := want.(type) {
	case time.Time:
		g, ok := got.(time.Time)
		return ok && w.Equal(g)
	case []byte:
		g, ok := got.([]byte)
		return ok && bytes.Equal(w, g)
	case string:
		// TIME values come back with six fraction digits.
		g, ok := got.(string)
		return ok && (w == g || w+".000000" == g)
	}
	return want == got
}

func TestParquetEveryKind(t *testing.T) {
	root := t.TempDir()
	start := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	c := openTarget(t, root, map[string]any{"DataFormat": "parquet", "IncludeOpForFullLoad": true,
		"TimestampColumnName": "loaded_at", "UseTaskStartTimeForFullLoadTimestamp": true})
	c.SetLoadTimestamp(start)
	tbl := kindsTable()
	mustPrepare(t, c, tbl, connector.PrepTruncate)
	rows := kindsRows()
	mustLoad(t, c, tbl, rows)
	mustFinish(t, c, tbl)
	dir := bucketPath(root, "public", "kinds")
	if files := listDir(t, dir); !slices.Equal(files, []string{"LOAD00000001.parquet"}) {
		t.Fatalf("files = %v", files)
	}
	pf := readParquet(t, filepath.Join(dir, "LOAD00000001.parquet"))
	wantSchema := []string{
		"optional BYTE_ARRAY Op STRING",
		"optional BOOLEAN b BOOLEAN",
		"optional INT32 i2 INT(16,true)",
		"optional INT32 i4 INT(32,true)",
		"optional INT64 i8 INT(64,true)",
		"optional INT64 u8 INT(64,false)",
		"optional INT64 n DECIMAL(12,4)",
		"optional INT32 n9 DECIMAL(9,2)",
		"optional FIXED_LEN_BYTE_ARRAY nbig DECIMAL(30,5)",
		"optional BYTE_ARRAY nfree STRING",
		"optional FLOAT f4 FLOAT",
		"optional DOUBLE f8 DOUBLE",
		"optional BYTE_ARRAY s STRING",
		"optional BYTE_ARRAY txt STRING",
		"optional BYTE_ARRAY by BYTE_ARRAY",
		"optional BYTE_ARRAY bl BYTE_ARRAY",
		"optional INT32 d DATE",
		"optional INT64 tm TIME(isAdjustedToUTC=false,unit=MICROS)",
		"optional INT64 ts TIMESTAMP(isAdjustedToUTC=false,unit=MICROS)",
		"optional INT64 tstz TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)",
		"optional BYTE_ARRAY js STRING",
		"optional BYTE_ARRAY uu STRING",
		"optional BYTE_ARRAY en STRING",
		"optional BYTE_ARRAY arr STRING",
		"optional BYTE_ARRAY iv STRING",
		"optional BYTE_ARRAY loaded_at STRING",
	}
	if got := pf.schemaLines(); !slices.Equal(got, wantSchema) {
		t.Errorf("schema:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantSchema, "\n"))
	}
	if len(pf.rows) != len(rows) {
		t.Fatalf("%d rows", len(pf.rows))
	}
	for i, row := range pf.rows {
		if op := string(row[0].ByteArray()); op != "I" {
			t.Errorf("row %d: Op = %q", i, op)
		}
		if ts := string(row[len(row)-1].ByteArray()); ts != "2024-05-06 07:08:09.123456" {
			t.Errorf("row %d: loaded_at = %q", i, ts)
		}
		for j, c := range tbl.Columns {
			got := parquetValueOf(c, row[j+1])
			if !equalValues(rows[i][j], got) {
				t.Errorf("row %d column %s: got %#v, want %#v", i, c.Name, got, rows[i][j])
			}
		}
	}
}

func TestParquetSettings(t *testing.T) {
	tbl := benchTable()
	gen := newBenchRows(3000)
	rows := gen.next()
	for _, tc := range []struct {
		name     string
		settings map[string]any
		check    func(t *testing.T, pf parquetFile)
	}{
		{"defaults", nil, func(t *testing.T, pf parquetFile) {
			md := pf.file.Metadata()
			cc := md.RowGroups[0].Columns[3].MetaData // name: a string column
			if cc.Codec != format.Uncompressed {
				t.Errorf("codec = %v", cc.Codec)
			}
			if !slices.Contains(cc.Encoding, format.RLEDictionary) {
				t.Errorf("encodings = %v, want RLE_DICTIONARY", cc.Encoding)
			}
			if len(md.RowGroups) != 1 {
				t.Errorf("%d row groups", len(md.RowGroups))
			}
		}},
		{"gzip, v2, plain, row groups, millis", map[string]any{"CompressionType": "GZIP", "ParquetVersion": "parquet-2-0",
			"EncodingType": "plain", "RowGroupLength": 1000, "DataPageSize": 4096, "EnableStatistics": false,
			"ParquetTimestampInMillisecond": true}, func(t *testing.T, pf parquetFile) {
			md := pf.file.Metadata()
			if len(md.RowGroups) != 3 {
				t.Errorf("%d row groups, want 3 of 1000 rows", len(md.RowGroups))
			}
			for _, cc := range md.RowGroups[0].Columns {
				if cc.MetaData.Codec != format.Gzip {
					t.Errorf("%v: codec = %v", cc.MetaData.PathInSchema, cc.MetaData.Codec)
				}
				if slices.Contains(cc.MetaData.Encoding, format.RLEDictionary) || slices.Contains(cc.MetaData.Encoding, format.PlainDictionary) {
					t.Errorf("%v: encodings = %v", cc.MetaData.PathInSchema, cc.MetaData.Encoding)
				}
			}
			if got := pf.file.Schema().Fields()[6].Type().String(); got != "TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS)" {
				t.Errorf("timestamp type = %s", got)
			}
			if ms := pf.rows[1][6].Int64(); ms != rows[1][6].(time.Time).UnixMilli() {
				t.Errorf("millis = %d", ms)
			}
		}},
		// parquet-go writes plain-dictionary as a dictionary with
		// RLE_DICTIONARY data pages, the layout readers understand.
		{"plain-dictionary", map[string]any{"EncodingType": "plain-dictionary", "DictPageSizeLimit": 100000}, func(t *testing.T, pf parquetFile) {
			cc := pf.file.Metadata().RowGroups[0].Columns[3].MetaData
			if !slices.Contains(cc.Encoding, format.RLEDictionary) {
				t.Errorf("encodings = %v", cc.Encoding)
			}
		}},
		// Past DictPageSizeLimit a column goes on in PLAIN; the values
		// still read back (checked for every case above).
		{"dictionary limit", map[string]any{"DictPageSizeLimit": 1024}, func(t *testing.T, pf parquetFile) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			s := map[string]any{"DataFormat": "parquet"}
			for k, v := range tc.settings {
				s[k] = v
			}
			c := openTarget(t, root, s)
			mustPrepare(t, c, tbl, connector.PrepTruncate)
			mustLoad(t, c, tbl, rows[:1000])
			mustLoad(t, c, tbl, rows[1000:])
			mustFinish(t, c, tbl)
			pf := readParquet(t, bucketPath(root, "bench", "rows", "LOAD00000001.parquet"))
			if len(pf.rows) != len(rows) {
				t.Fatalf("%d rows", len(pf.rows))
			}
			for i := 0; i < len(rows); i += 250 {
				for j, c := range tbl.Columns {
					if c.Type.Kind == record.KindTimestampTZ && tc.settings["ParquetTimestampInMillisecond"] == true {
						continue
					}
					if got := parquetValueOf(c, pf.rows[i][j]); !equalValues(rows[i][j], got) {
						t.Errorf("row %d %s = %#v, want %#v", i, c.Name, got, rows[i][j])
					}
				}
			}
			tc.check(t, pf)
		})
	}
}

func TestParquetRollover(t *testing.T) {
	root := t.TempDir()
	c := openTarget(t, root, map[string]any{"DataFormat": "parquet", "MaxFileSize": 64, "CompressionType": "GZIP"})
	tbl := benchTable()
	gen := newBenchRows(5000)
	mustPrepare(t, c, tbl, connector.PrepTruncate)
	var ids []int64
	for i := 0; i < 4; i++ {
		rows := gen.next()
		for _, r := range rows {
			ids = append(ids, r[0].(int64))
		}
		mustLoad(t, c, tbl, rows)
	}
	mustFinish(t, c, tbl)
	dir := bucketPath(root, "bench", "rows")
	files := listDir(t, dir)
	if len(files) < 3 {
		t.Fatalf("files = %v, want several 64 KB files", files)
	}
	var got []int64
	for i, f := range files {
		if want := fmt.Sprintf("LOAD%08X.parquet", i+1); f != want {
			t.Errorf("file %d = %s, want %s", i, f, want)
		}
		fi, _ := os.Stat(filepath.Join(dir, f))
		if fi.Size() > 2*64<<10 {
			t.Errorf("%s: %d bytes, MaxFileSize is 64 KB", f, fi.Size())
		}
		for _, row := range readParquet(t, filepath.Join(dir, f)).rows {
			got = append(got, row[0].Int64())
		}
	}
	if !slices.Equal(got, ids) {
		t.Errorf("read back %d ids, wrote %d, or in another order", len(got), len(ids))
	}
	if staged := listDir(t, filepath.Join(root, s3.LocalStagingDir)); len(staged) != 0 {
		t.Errorf("staged = %v", staged)
	}
}

func TestParquetBadValues(t *testing.T) {
	root := t.TempDir()
	c := openTarget(t, root, map[string]any{"DataFormat": "parquet"})
	tbl := &record.Table{Schema: "s", Name: "t", Columns: []record.Column{col("id", record.KindInt64), numCol("n", 5, 2), col("tm", record.KindTime)}}
	mustPrepare(t, c, tbl, connector.PrepTruncate)
	mustLoad(t, c, tbl, []record.Row{{int64(1), "1.50", "12:00:00"}})
	for _, bad := range []record.Row{
		{int64(2), "NaN", nil}, {int64(3), "1234.5", nil}, {int64(4), "1.234", nil}, {int64(5), "1e3", nil},
		{int64(6), nil, "25:00:00"}, {int64(7), nil, "noon"}, {"8", nil, nil},
	} {
		err := c.Load(bg, tbl, []record.Row{{int64(100), "0.00", nil}, bad})
		if !errors.Is(err, s3.ErrValue) && !errors.Is(err, s3.ErrValueType) {
			t.Errorf("%v: err = %v", bad, err)
		}
	}
	// Extra zero digits fit.
	mustLoad(t, c, tbl, []record.Row{{int64(9), "-999.990", "24:00:00"}})
	mustFinish(t, c, tbl)
	pf := readParquet(t, bucketPath(root, "s", "t", "LOAD00000001.parquet"))
	if len(pf.rows) != 2 || decimalText(pf.rows[1][1], 2) != "-999.99" || pf.rows[1][2].Int64() != 86400e6 {
		t.Errorf("rows = %v", pf.rows)
	}
}

// TestParquetVersion checks the data page kind of each ParquetVersion: the
// first page header follows the magic bytes; its first field (thrift
// compact: 0x15, then the zigzag varint type) is 0 for DATA_PAGE and 3 for
// DATA_PAGE_V2.
func TestParquetVersion(t *testing.T) {
	tbl := textTable()
	for version, wantType := range map[string]byte{"parquet-1-0": 0, "parquet-2-0": 3} {
		root := t.TempDir()
		c := openTarget(t, root, map[string]any{"DataFormat": "parquet", "EncodingType": "plain", "ParquetVersion": version})
		mustPrepare(t, c, tbl, connector.PrepTruncate)
		mustLoad(t, c, tbl, wideRows(0, 10))
		mustFinish(t, c, tbl)
		path := bucketPath(root, "s", "t", "LOAD00000001.parquet")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(b[:4]) != "PAR1" || b[4] != 0x15 || b[5] != wantType<<1 {
			t.Errorf("%s: first page header starts % x, want 15 %02x", version, b[4:6], wantType<<1)
		}
		if rows := readParquet(t, path).rows; len(rows) != 10 {
			t.Errorf("%s: %d rows", version, len(rows))
		}
	}
}
