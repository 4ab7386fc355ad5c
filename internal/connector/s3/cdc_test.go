package s3_test

import (
	"encoding/hex"
	"errors"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/s3"
	"github.com/godwit-dms/godwit/internal/record"
)

// cdcTable is the table the CDC tests change: a key and two text columns.
func cdcTable() *record.Table {
	return &record.Table{Schema: "public", Name: "t", Columns: []record.Column{
		col("id", record.KindInt64), col("name", record.KindString), col("note", record.KindText),
	}, PrimaryKey: []string{"id"}}
}

func cdcTargets(tbls ...*record.Table) map[string]*connector.TargetTable {
	out := map[string]*connector.TargetTable{}
	for _, t := range tbls {
		out[t.Schema+"."+t.Name] = &connector.TargetTable{Target: t, Key: t.Key()}
	}
	return out
}

var (
	cdcT1 = time.Date(2014, 10, 29, 11, 34, 1, 0, time.UTC)
	cdcT2 = time.Date(2014, 10, 29, 11, 34, 2, 123456789, time.UTC)
)

// cdcWorkload is two transactions: two inserts; then an update to NULL
// and a delete (key-only old row, as PostgreSQL logs it by default).
func cdcWorkload(tbl *record.Table) []*record.Transaction {
	return []*record.Transaction{
		{ID: "1", CommitTime: cdcT1, Position: "1", Changes: []record.Change{
			{Op: record.OpInsert, Table: tbl, After: record.Row{int64(1), "a", "x, y"}},
			{Op: record.OpInsert, Table: tbl, After: record.Row{int64(2), "b", "z"}},
		}},
		{ID: "2", CommitTime: cdcT2, Position: "2", Changes: []record.Change{
			{Op: record.OpUpdate, Table: tbl, Before: record.Row{int64(1), nil, nil}, After: record.Row{int64(1), nil, "x, y"}},
			{Op: record.OpDelete, Table: tbl, Before: record.Row{int64(2), nil, nil}},
		}},
	}
}

func mustApply(t *testing.T, c *s3.Conn, tables map[string]*connector.TargetTable, txs []*record.Transaction) {
	t.Helper()
	if err := c.ApplyTransactions(bg, tables, txs); err != nil {
		t.Fatalf("ApplyTransactions: %v", err)
	}
}

func TestCDCOpColumn(t *testing.T) {
	const ts1, ts2 = ",2014-10-29 11:34:01.000000", ",2014-10-29 11:34:02.123456"
	for name, tc := range map[string]struct {
		settings map[string]any
		want     string
	}{
		"default":                   {nil, "I,1,a,\"x, y\"\nI,2,b,z\nU,1,,\"x, y\"\nD,2,,\n"},
		"IncludeOpForFullLoad":      {map[string]any{"IncludeOpForFullLoad": true}, "I,1,a,\"x, y\"\nI,2,b,z\nU,1,,\"x, y\"\nD,2,,\n"},
		"CdcInsertsOnly":            {map[string]any{"CdcInsertsOnly": true}, "1,a,\"x, y\"\n2,b,z\n"},
		"CdcInsertsOnly+Op":         {map[string]any{"CdcInsertsOnly": "y", "IncludeOpForFullLoad": true}, "I,1,a,\"x, y\"\nI,2,b,z\n"},
		"CdcInsertsAndUpdates":      {map[string]any{"CdcInsertsAndUpdates": true}, "1,a,\"x, y\"\n2,b,z\n1,,\"x, y\"\n"},
		"CdcInsertsAndUpdates+Op":   {map[string]any{"CdcInsertsAndUpdates": true, "IncludeOpForFullLoad": true}, "I,1,a,\"x, y\"\nI,2,b,z\nU,1,,\"x, y\"\n"},
		"TimestampColumnName":       {map[string]any{"TimestampColumnName": "ts"}, "I,1,a,\"x, y\"" + ts1 + "\nI,2,b,z" + ts1 + "\nU,1,,\"x, y\"" + ts2 + "\nD,2,," + ts2 + "\n"},
		"AddColumnName":             {map[string]any{"AddColumnName": true, "CsvNullValue": "NULL"}, "Op,id,name,note\nI,1,a,\"x, y\"\nI,2,b,z\nU,1,NULL,\"x, y\"\nD,2,NULL,NULL\n"},
		"AddColumnName+InsertsOnly": {map[string]any{"AddColumnName": true, "CdcInsertsOnly": true}, "id,name,note\n1,a,\"x, y\"\n2,b,z\n"},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			c := openTarget(t, root, tc.settings)
			tbl := cdcTable()
			mustApply(t, c, cdcTargets(tbl), cdcWorkload(tbl))
			dir := bucketPath(root, "public", "t")
			if files := listDir(t, dir); !slices.Equal(files, []string{"20141029-1134010000.csv", "_godwit_cdc_last"}) {
				t.Fatalf("files = %v", files)
			}
			if got := readFile(t, filepath.Join(dir, "20141029-1134010000.csv")); got != tc.want {
				t.Errorf("file holds\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestCDCFileNames(t *testing.T) {
	root := t.TempDir()
	c := openTarget(t, root, map[string]any{"BucketFolder": "out/cdc"})
	tbl, other := cdcTable(), cdcTable()
	other.Name = "other"
	tables := cdcTargets(tbl, other)
	txs := cdcWorkload(tbl)
	txs[1].Changes = append(txs[1].Changes, record.Change{Op: record.OpInsert, Table: other, After: record.Row{int64(9), "o", nil}})
	// A table without a target is skipped.
	unmapped := &record.Table{Schema: "public", Name: "unmapped", Columns: tbl.Columns}
	txs[1].Changes = append(txs[1].Changes, record.Change{Op: record.OpInsert, Table: unmapped, After: record.Row{int64(1), "u", nil}})
	mustApply(t, c, tables, txs)
	// Two applies whose first commits fall in the same ten-thousandth of
	// a second (or the same second, for MySQL) get consecutive names.
	more := []*record.Transaction{{ID: "3", CommitTime: cdcT1.Add(50 * time.Microsecond), Position: "3", Changes: []record.Change{
		{Op: record.OpInsert, Table: tbl, After: record.Row{int64(3), "c", nil}},
	}}}
	mustApply(t, c, tables, more)
	later := []*record.Transaction{{ID: "4", CommitTime: cdcT2, Position: "4", Changes: []record.Change{
		{Op: record.OpInsert, Table: tbl, After: record.Row{int64(4), "d", nil}},
	}}}
	if err := c.ApplyBatch(bg, tables, later); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "bkt", "out", "cdc", "public")
	if got, want := listDir(t, filepath.Join(dir, "t")), []string{"20141029-1134010000.csv", "20141029-1134010001.csv", "20141029-1134021234.csv", "_godwit_cdc_last"}; !slices.Equal(got, want) {
		t.Fatalf("files of t = %v, want %v", got, want)
	}
	if got := listDir(t, filepath.Join(dir, "other")); !slices.Equal(got, []string{"20141029-1134010000.csv", "_godwit_cdc_last"}) {
		t.Fatalf("files of other = %v", got)
	}
	if got := readFile(t, filepath.Join(dir, "other", "20141029-1134010000.csv")); got != "I,9,o,\n" {
		t.Errorf("other holds %q", got)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{"other", "t"}) {
		t.Errorf("tables = %v", got)
	}
	// A replay after a crash (a new process applying again from the last
	// checkpoint) writes the same name again: no duplicated rows; the
	// staged files the crash left go.
	staging := filepath.Join(root, s3.LocalStagingDir)
	entries, _ := os.ReadDir(staging)
	if len(entries) != 0 {
		t.Fatalf("staged files left: %v", entries)
	}
	os.WriteFile(filepath.Join(staging, "left.part"), nil, 0o644) // not this table's
	h := fnv.New64a()
	h.Write([]byte("cdcbkt/out/cdc/public/t/")) // how the connector names a table's staged CDC files
	os.WriteFile(filepath.Join(staging, hex.EncodeToString(h.Sum(nil))+"-0123456789abcdef.csv.part"), []byte("I,1"), 0o644)
	c2 := openTarget(t, root, map[string]any{"BucketFolder": "out/cdc"})
	replay := append([]*record.Transaction(nil), later...)
	replay = append(replay, &record.Transaction{ID: "5", CommitTime: cdcT2.Add(time.Second), Position: "5", Changes: []record.Change{
		{Op: record.OpInsert, Table: tbl, After: record.Row{int64(5), "e", nil}},
	}})
	mustApply(t, c2, tables, replay)
	want := []string{"20141029-1134010000.csv", "20141029-1134010001.csv", "20141029-1134021234.csv", "_godwit_cdc_last"}
	if got := listDir(t, filepath.Join(dir, "t")); !slices.Equal(got, want) {
		t.Fatalf("after the replay: files of t = %v, want %v", got, want)
	}
	if got := readFile(t, filepath.Join(dir, "t", "20141029-1134021234.csv")); got != "I,4,d,\nI,5,e,\n" {
		t.Errorf("replayed file holds %q", got)
	}
	// Another process's apply that maps to the same name takes the next.
	c3 := openTarget(t, root, map[string]any{"BucketFolder": "out/cdc"})
	mustApply(t, c3, tables, []*record.Transaction{{ID: "6", CommitTime: cdcT2, Position: "6", Changes: []record.Change{
		{Op: record.OpDelete, Table: tbl, Before: record.Row{int64(5), nil, nil}},
	}}})
	if got := readFile(t, filepath.Join(dir, "t", "20141029-1134021235.csv")); got != "D,5,,\n" {
		t.Errorf("next file holds %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "t", "20141029-1134010000.csv")); got != "I,1,a,\"x, y\"\nI,2,b,z\nU,1,,\"x, y\"\nD,2,,\n" {
		t.Errorf("first file holds %q", got)
	}
	if files := listDir(t, staging); !slices.Equal(files, []string{"left.part"}) {
		t.Errorf("staged files: %v", files)
	}
}

func TestCDCGzipAndParquet(t *testing.T) {
	tbl := cdcTable()
	root := t.TempDir()
	c := openTarget(t, root, map[string]any{"CompressionType": "GZIP"})
	mustApply(t, c, cdcTargets(tbl), cdcWorkload(tbl))
	dir := bucketPath(root, "public", "t")
	if files := listDir(t, dir); !slices.Equal(files, []string{"20141029-1134010000.csv.gz", "_godwit_cdc_last"}) {
		t.Fatalf("files = %v", files)
	}
	if got, want := readFile(t, filepath.Join(dir, "20141029-1134010000.csv.gz")), "I,1,a,\"x, y\"\nI,2,b,z\nU,1,,\"x, y\"\nD,2,,\n"; got != want {
		t.Errorf("gzip file holds %q, want %q", got, want)
	}

	for _, settings := range []map[string]any{
		{"DataFormat": "parquet", "TimestampColumnName": "ts"},
		{"DataFormat": "parquet", "CompressionType": "GZIP", "CdcInsertsAndUpdates": true},
	} {
		root := t.TempDir()
		c := openTarget(t, root, settings)
		mustApply(t, c, cdcTargets(tbl), cdcWorkload(tbl))
		dir := bucketPath(root, "public", "t")
		if files := listDir(t, dir); !slices.Equal(files, []string{"20141029-1134010000.parquet", "_godwit_cdc_last"}) {
			t.Fatalf("%v: files = %v", settings, files)
		}
		pf := readParquet(t, filepath.Join(dir, "20141029-1134010000.parquet"))
		var got []string
		for _, row := range pf.rows {
			var fields []string
			for _, v := range row {
				switch {
				case v.IsNull():
					fields = append(fields, "")
				case v.Kind() == 2: // INT64
					fields = append(fields, v.String())
				default:
					fields = append(fields, string(v.ByteArray()))
				}
			}
			got = append(got, strings.Join(fields, "|"))
		}
		want := []string{"I|1|a|x, y|2014-10-29 11:34:01.000000", "I|2|b|z|2014-10-29 11:34:01.000000",
			"U|1||x, y|2014-10-29 11:34:02.123456", "D|2|||2014-10-29 11:34:02.123456"}
		if settings["CdcInsertsAndUpdates"] == true {
			// No op column without IncludeOpForFullLoad, no deletes.
			want = []string{"1|a|x, y", "2|b|z", "1||x, y"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%v: rows\n%s\nwant\n%s", settings, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// loadedWithCDC is a target whose table t holds a LOAD file and a CDC file.
func loadedWithCDC(t *testing.T, root string) (*s3.Conn, *record.Table, map[string]*connector.TargetTable) {
	c := openTarget(t, root, nil)
	tbl := cdcTable()
	mustPrepare(t, c, tbl, connector.PrepDoNothing)
	mustLoad(t, c, tbl, []record.Row{{int64(1), "a", nil}})
	mustFinish(t, c, tbl)
	tables := cdcTargets(tbl)
	mustApply(t, c, tables, cdcWorkload(tbl)[:1])
	return c, tbl, tables
}

func TestCDCTruncate(t *testing.T) {
	root := t.TempDir()
	c, tbl, tables := loadedWithCDC(t, root)
	dir := bucketPath(root, "public", "t")
	if files := listDir(t, dir); !slices.Equal(files, []string{"20141029-1134010000.csv", "LOAD00000001.csv", "_godwit_cdc_last"}) {
		t.Fatalf("files = %v", files)
	}
	// The rows before the TRUNCATE are dropped with the files; the ones
	// after it are the table's new content.
	mustApply(t, c, tables, []*record.Transaction{{ID: "5", CommitTime: cdcT2, Position: "5", Changes: []record.Change{
		{Op: record.OpInsert, Table: tbl, After: record.Row{int64(3), "c", nil}},
		{Op: record.OpTruncate, Table: tbl},
		{Op: record.OpInsert, Table: tbl, After: record.Row{int64(4), "d", nil}},
	}}})
	if files := listDir(t, dir); !slices.Equal(files, []string{"20141029-1134021234.csv", "_godwit_cdc_last"}) {
		t.Fatalf("after TRUNCATE: files = %v", files)
	}
	if got := readFile(t, filepath.Join(dir, "20141029-1134021234.csv")); got != "I,4,d,\n" {
		t.Errorf("file holds %q", got)
	}
}

// A table prepared for a new load (DROP_AND_CREATE or
// TRUNCATE_BEFORE_LOAD, as reload-target does) loses its CDC files too.
func TestCDCFilesGoWithANewLoad(t *testing.T) {
	for _, prep := range []connector.TablePrep{connector.PrepDropAndCreate, connector.PrepTruncate} {
		root := t.TempDir()
		c, tbl, _ := loadedWithCDC(t, root)
		mustPrepare(t, c, tbl, prep)
		dir := bucketPath(root, "public", "t")
		if files := listDir(t, dir); slices.ContainsFunc(files, func(f string) bool { return strings.HasSuffix(f, ".csv") }) {
			t.Errorf("%s: files left = %v", prep, files)
		}
	}
}

func TestCDCUnchangedValues(t *testing.T) {
	for name, tc := range map[string]struct {
		settings map[string]any
		want     string
	}{
		// A full old row fills the values the source did not resend;
		// without one they are NULL...
		"default": {nil, "U,1,b,big\nU,2,c,\n"},
		// ...or CsvNoSupValue with UseCsvNoSupValue (the full old row still wins).
		"CsvNoSupValue":             {map[string]any{"UseCsvNoSupValue": true, "CsvNoSupValue": "#NOSUP"}, "U,1,b,big\nU,2,c,#NOSUP\n"},
		"CsvNoSupValue alone":       {map[string]any{"CsvNoSupValue": "#NOSUP"}, "U,1,b,big\nU,2,c,\n"},
		"UseCsvNoSupValue no value": {map[string]any{"UseCsvNoSupValue": true}, "U,1,b,big\nU,2,c,\n"},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			c := openTarget(t, root, tc.settings)
			tbl := cdcTable()
			mustApply(t, c, cdcTargets(tbl), []*record.Transaction{{ID: "1", CommitTime: cdcT1, Position: "1", Changes: []record.Change{
				{Op: record.OpUpdate, Table: tbl, Before: record.Row{int64(1), "a", "big"}, BeforeFull: true, After: record.Row{int64(1), "b", record.Unchanged}},
				{Op: record.OpUpdate, Table: tbl, Before: record.Row{int64(2), nil, nil}, After: record.Row{int64(2), "c", record.Unchanged}},
			}}})
			if got := readFile(t, bucketPath(root, "public", "t", "20141029-1134010000.csv")); got != tc.want {
				t.Errorf("file holds %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCDCKeyUpdate(t *testing.T) {
	for name, tc := range map[string]struct {
		settings map[string]any
		want     string
	}{
		"default":              {nil, "D,1,,\nU,7,a,\nU,7,b,\n"},
		"CdcInsertsAndUpdates": {map[string]any{"CdcInsertsAndUpdates": true, "IncludeOpForFullLoad": true}, "U,7,a,\nU,7,b,\n"},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			c := openTarget(t, root, tc.settings)
			tbl := cdcTable()
			mustApply(t, c, cdcTargets(tbl), []*record.Transaction{{ID: "1", CommitTime: cdcT1, Position: "1", Changes: []record.Change{
				{Op: record.OpUpdate, Table: tbl, Before: record.Row{int64(1), nil, nil}, After: record.Row{int64(7), "a", nil}},
				// The key as PostgreSQL gives it when it did not change.
				{Op: record.OpUpdate, Table: tbl, Before: record.Row{int64(7), nil, nil}, After: record.Row{int64(7), "b", nil}},
			}}})
			if got := readFile(t, bucketPath(root, "public", "t", "20141029-1134010000.csv")); got != tc.want {
				t.Errorf("file holds %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCDCRejectedValueWritesNothing(t *testing.T) {
	for _, settings := range []map[string]any{nil, {"PreserveTransactions": true, "CdcPath": "txn"}} {
		root := t.TempDir()
		c := openTarget(t, root, settings)
		tbl, other := cdcTable(), cdcTable()
		other.Name = "other"
		err := c.ApplyTransactions(bg, cdcTargets(tbl, other), []*record.Transaction{{ID: "1", CommitTime: cdcT1, Position: "1", Changes: []record.Change{
			{Op: record.OpInsert, Table: other, After: record.Row{int64(1), "fine", nil}},
			{Op: record.OpTruncate, Table: other},
			{Op: record.OpInsert, Table: tbl, After: record.Row{"not a number", "a", nil}},
		}}})
		if !errors.Is(err, connector.ErrRowRejected) {
			t.Fatalf("%v: err = %v, want ErrRowRejected", settings, err)
		}
		if files := listDir(t, bucketPath(root)); len(files) != 0 {
			t.Errorf("%v: files written: %v", settings, files)
		}
		if files := listDir(t, filepath.Join(root, s3.LocalStagingDir)); len(files) != 0 {
			t.Errorf("%v: staged files left: %v", settings, files)
		}
	}
}

func TestCDCPaceSettings(t *testing.T) {
	root := t.TempDir()
	wait, size := openTarget(t, root, nil).CommitPace()
	if wait != 60*time.Second || size != 32000*1024 {
		t.Errorf("defaults: %v, %d", wait, size)
	}
	wait, size = openTarget(t, root, map[string]any{"CdcMaxBatchInterval": 5, "CdcMinFileSize": "64"}).CommitPace()
	if wait != 5*time.Second || size != 64*1024 {
		t.Errorf("set: %v, %d", wait, size)
	}
	_, err := s3.New(localEndpoint(root, connector.RoleTarget, map[string]any{"BucketName": "bkt", "CdcInsertsOnly": true, "CdcInsertsAndUpdates": true}))
	wantStage(t, err, connector.StageConfig, "CdcInsertsOnly and CdcInsertsAndUpdates")
	_, err = s3.New(localEndpoint(root, connector.RoleTarget, map[string]any{"BucketName": "bkt", "CdcMaxBatchInterval": 0}))
	wantStage(t, err, connector.StageConfig, "CdcMaxBatchInterval")
}

func TestRemoteCDC(t *testing.T) {
	url, client := startMoto(t)
	if _, err := client.CreateBucket(bg, &awss3.CreateBucketInput{Bucket: aws.String("dms-target")}); err != nil {
		t.Fatal(err)
	}
	staging := t.TempDir()
	c, err := s3.New(remoteEndpoint(url, connector.RoleTarget, map[string]any{"BucketName": "dms-target", "BucketFolder": "out",
		"CompressionType": "GZIP", s3.SettingTempDir: staging}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tbl := cdcTable()
	putObject(t, client, "dms-target", "out/public/t/LOAD00000001.csv.gz", "old")
	txs := cdcWorkload(tbl)
	txs = append(txs, &record.Transaction{ID: "3", CommitTime: cdcT2, Position: "3", Changes: []record.Change{{Op: record.OpTruncate, Table: tbl}}},
		&record.Transaction{ID: "4", CommitTime: cdcT2, Position: "4", Changes: []record.Change{{Op: record.OpInsert, Table: tbl, After: record.Row{int64(7), "g", nil}}}})
	if err := c.(*s3.Conn).ApplyTransactions(bg, cdcTargets(tbl), txs[:2]); err != nil {
		t.Fatal(err)
	}
	if keys := objectKeys(t, client, "dms-target", "out/"); !slices.Equal(keys, []string{"out/public/t/20141029-1134010000.csv.gz", "out/public/t/LOAD00000001.csv.gz", "out/public/t/_godwit_cdc_last"}) {
		t.Fatalf("keys = %v", keys)
	}
	if err := c.(*s3.Conn).ApplyTransactions(bg, cdcTargets(tbl), txs[2:]); err != nil {
		t.Fatal(err)
	}
	keys := objectKeys(t, client, "dms-target", "out/")
	if !slices.Equal(keys, []string{"out/public/t/20141029-1134021234.csv.gz", "out/public/t/_godwit_cdc_last"}) {
		t.Fatalf("after TRUNCATE: keys = %v", keys)
	}
	path := filepath.Join(staging, "check.csv.gz")
	os.WriteFile(path, getObject(t, client, "dms-target", keys[0]), 0o644)
	if got := readFile(t, path); got != "I,7,g,\n" {
		t.Errorf("file holds %q", got)
	}
}
