package s3_test

import (
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

// walkFiles lists the files under dir as slash-separated paths relative
// to it, sorted.
func walkFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestDatePartitionFolders(t *testing.T) {
	const name = "20141029-1134010000.csv" // cdcT1
	for _, tc := range []struct {
		seq, delim string
		folder     string
	}{
		{"", "", "2014/10/29"},
		{"YYYYMMDD", "SLASH", "2014/10/29"},
		{"YYYYMMDDHH", "SLASH", "2014/10/29/11"},
		{"YYYYMM", "DASH", "2014-10"},
		{"MMYYYYDD", "UNDERSCORE", "10_2014_29"},
		{"DDMMYYYY", "NONE", "29102014"},
		{"yyyymmddhh", "dash", "2014-10-29-11"},
	} {
		t.Run(tc.seq+"/"+tc.delim, func(t *testing.T) {
			root := t.TempDir()
			settings := map[string]any{"DatePartitionEnabled": true}
			if tc.seq != "" {
				settings["DatePartitionSequence"] = tc.seq
				settings["DatePartitionDelimiter"] = tc.delim
			}
			c := openTarget(t, root, settings)
			tbl := cdcTable()
			mustApply(t, c, cdcTargets(tbl), cdcWorkload(tbl))
			want := []string{tc.folder + "/" + name, "_godwit_cdc_last"}
			if got := walkFiles(t, bucketPath(root, "public", "t")); !slices.Equal(got, want) {
				t.Fatalf("files = %v, want %v", got, want)
			}
			if got := readFile(t, bucketPath(root, "public", "t", tc.folder, name)); got != "I,1,a,\"x, y\"\nI,2,b,z\nU,1,,\"x, y\"\nD,2,,\n" {
				t.Errorf("file holds %q", got)
			}
		})
	}
}

// A day's changes go to that day's folder; the marker stays in the
// table's folder, LOAD files too.
func TestDatePartitionDays(t *testing.T) {
	root := t.TempDir()
	c := openTarget(t, root, map[string]any{"DatePartitionEnabled": "y"})
	tbl := cdcTable()
	tables := cdcTargets(tbl)
	mustPrepare(t, c, tbl, connector.PrepDoNothing)
	mustLoad(t, c, tbl, []record.Row{{int64(1), "a", nil}})
	mustFinish(t, c, tbl)
	mustApply(t, c, tables, []*record.Transaction{insertTx("1", time.Date(2024, 1, 31, 23, 59, 59, 0, time.UTC), tbl, 2)})
	mustApply(t, c, tables, []*record.Transaction{insertTx("2", time.Date(2024, 2, 1, 0, 0, 1, 0, time.UTC), tbl, 3)})
	want := []string{"2024/01/31/20240131-2359590000.csv", "2024/02/01/20240201-0000010000.csv", "LOAD00000001.csv", "_godwit_cdc_last"}
	if got := walkFiles(t, bucketPath(root, "public", "t")); !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
}

// insertTx is a transaction inserting key id into tbl.
func insertTx(id string, at time.Time, tbl *record.Table, key int64) *record.Transaction {
	return &record.Transaction{ID: id, CommitTime: at, Position: id, Changes: []record.Change{
		{Op: record.OpInsert, Table: tbl, After: record.Row{key, "v" + id, nil}},
	}}
}

func TestDatePartitionTimezone(t *testing.T) {
	root := t.TempDir()
	c := openTarget(t, root, map[string]any{"DatePartitionEnabled": true, "DatePartitionTimezone": "Asia/Seoul", "TimestampColumnName": "ts"})
	tbl := cdcTable()
	// 20:34 UTC is 05:34 the next day in Seoul (UTC+9): the folder and
	// the file name are Seoul's; the timestamp column stays UTC.
	mustApply(t, c, cdcTargets(tbl), []*record.Transaction{insertTx("1", time.Date(2014, 10, 29, 20, 34, 1, 0, time.UTC), tbl, 1)})
	want := []string{"2014/10/30/20141030-0534010000.csv", "_godwit_cdc_last"}
	if got := walkFiles(t, bucketPath(root, "public", "t")); !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	if got := readFile(t, bucketPath(root, "public", "t", "2014", "10", "30", "20141030-0534010000.csv")); got != "I,1,v1,,2014-10-29 20:34:01.000000\n" {
		t.Errorf("file holds %q", got)
	}

	// When New York's clocks go back an hour, a later commit's local time
	// is earlier: its file takes the next name, so names still sort in
	// commit order and nothing is overwritten.
	root = t.TempDir()
	c = openTarget(t, root, map[string]any{"DatePartitionEnabled": true, "DatePartitionTimezone": "America/New_York"})
	tables := cdcTargets(tbl)
	mustApply(t, c, tables, []*record.Transaction{insertTx("1", time.Date(2014, 11, 2, 5, 30, 0, 0, time.UTC), tbl, 1)}) // 01:30 EDT
	mustApply(t, c, tables, []*record.Transaction{insertTx("2", time.Date(2014, 11, 2, 6, 10, 0, 0, time.UTC), tbl, 2)}) // 01:10 EST
	mustApply(t, c, tables, []*record.Transaction{insertTx("3", time.Date(2014, 11, 2, 7, 0, 0, 0, time.UTC), tbl, 3)})  // 02:00 EST
	want = []string{"2014/11/02/20141102-0130000000.csv", "2014/11/02/20141102-0130000001.csv", "2014/11/02/20141102-0200000000.csv", "_godwit_cdc_last"}
	if got := walkFiles(t, bucketPath(root, "public", "t")); !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	if got := readFile(t, bucketPath(root, "public", "t", "2014", "11", "02", "20141102-0130000001.csv")); got != "I,2,v2,\n" {
		t.Errorf("file holds %q", got)
	}
}

// A replay after a crash rewrites the same file in the same date folder,
// whether the crash came before or after the marker was written.
func TestDatePartitionReplay(t *testing.T) {
	root := t.TempDir()
	settings := map[string]any{"DatePartitionEnabled": true, "DatePartitionSequence": "YYYYMMDDHH"}
	c := openTarget(t, root, settings)
	tbl := cdcTable()
	tables := cdcTargets(tbl)
	day1 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	mustApply(t, c, tables, []*record.Transaction{insertTx("1", day1, tbl, 1)})
	marker := bucketPath(root, "public", "t", "_godwit_cdc_last")
	before, err := os.ReadFile(marker)
	if err != nil {
		t.Fatal(err)
	}
	apply2 := []*record.Transaction{insertTx("2", day1.Add(26*time.Hour), tbl, 2), insertTx("3", day1.Add(27*time.Hour), tbl, 3)}
	mustApply(t, c, tables, apply2)
	want := []string{"2024/03/01/10/20240301-1000000000.csv", "2024/03/02/12/20240302-1200000000.csv", "_godwit_cdc_last"}
	if got := walkFiles(t, bucketPath(root, "public", "t")); !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}

	// A crash after the file was published but before the marker was:
	// the marker still names the first file. A new process replays from
	// the checkpoint, with fewer transactions in its first apply.
	if err := os.WriteFile(marker, before, 0o644); err != nil {
		t.Fatal(err)
	}
	c2 := openTarget(t, root, settings)
	mustApply(t, c2, tables, apply2[:1])
	if got := walkFiles(t, bucketPath(root, "public", "t")); !slices.Equal(got, want) {
		t.Fatalf("after the replay: files = %v, want %v", got, want)
	}
	if got := readFile(t, bucketPath(root, "public", "t", "2024", "03", "02", "12", "20240302-1200000000.csv")); got != "I,2,v2,\n" {
		t.Errorf("replayed file holds %q", got)
	}
	// A crash after the marker was written: the next process replays
	// the same apply with one more transaction; the file is replaced.
	c3 := openTarget(t, root, settings)
	mustApply(t, c3, tables, apply2)
	if got := walkFiles(t, bucketPath(root, "public", "t")); !slices.Equal(got, want) {
		t.Fatalf("after the second replay: files = %v, want %v", got, want)
	}
	if got := readFile(t, bucketPath(root, "public", "t", "2024", "03", "02", "12", "20240302-1200000000.csv")); got != "I,2,v2,\nI,3,v3,\n" {
		t.Errorf("replayed file holds %q", got)
	}
}

// TRUNCATE and a reload remove the CDC files in date folders, and the
// folders a local store would otherwise keep empty; other folders and
// files stay.
func TestDatePartitionRemoval(t *testing.T) {
	for _, how := range []string{"truncate", string(connector.PrepDropAndCreate), string(connector.PrepTruncate)} {
		t.Run(how, func(t *testing.T) {
			root := t.TempDir()
			c := openTarget(t, root, map[string]any{"DatePartitionEnabled": true, "DatePartitionDelimiter": "DASH"})
			tbl := cdcTable()
			tables := cdcTargets(tbl)
			mustPrepare(t, c, tbl, connector.PrepDoNothing)
			mustLoad(t, c, tbl, []record.Row{{int64(1), "a", nil}})
			mustFinish(t, c, tbl)
			mustApply(t, c, tables, cdcWorkload(tbl))
			mustApply(t, c, tables, []*record.Transaction{insertTx("3", cdcT1.Add(48*time.Hour), tbl, 3)})
			dir := bucketPath(root, "public", "t")
			for _, keep := range []string{"notes/20141029-1134010000.csv", "2014-10-29/readme.txt"} {
				os.MkdirAll(filepath.Join(dir, filepath.Dir(keep)), 0o755)
				os.WriteFile(filepath.Join(dir, keep), []byte("x"), 0o644)
			}
			want := []string{"2014-10-29/20141029-1134010000.csv", "2014-10-29/readme.txt", "2014-10-31/20141031-1134010000.csv", "LOAD00000001.csv", "_godwit_cdc_last", "notes/20141029-1134010000.csv"}
			if got := walkFiles(t, dir); !slices.Equal(got, want) {
				t.Fatalf("files = %v, want %v", got, want)
			}
			if how == "truncate" {
				mustApply(t, c, tables, []*record.Transaction{{ID: "4", CommitTime: cdcT1.Add(72 * time.Hour), Position: "4", Changes: []record.Change{
					{Op: record.OpTruncate, Table: tbl},
					{Op: record.OpInsert, Table: tbl, After: record.Row{int64(4), "d", nil}},
				}}})
				want = []string{"2014-10-29/readme.txt", "2014-11-01/20141101-1134010000.csv", "_godwit_cdc_last", "notes/20141029-1134010000.csv"}
			} else {
				mustPrepare(t, c, tbl, connector.TablePrep(how))
				want = []string{"2014-10-29/readme.txt", "_godwit_cdc_last", "notes/20141029-1134010000.csv"}
			}
			if got := walkFiles(t, dir); !slices.Equal(got, want) {
				t.Fatalf("after %s: files = %v, want %v", how, got, want)
			}
			if _, err := os.Stat(filepath.Join(dir, "2014-10-31")); !os.IsNotExist(err) {
				t.Errorf("the emptied date folder is still there: %v", err)
			}
		})
	}
}

// A bad setting is a configuration error of TestConnection (more cases
// in TestTargetSettingsErrors), in the extra connection attributes too.
func TestDatePartitionConfigErrors(t *testing.T) {
	root := t.TempDir()
	_, err := check(t, localEndpoint(root, connector.RoleTarget, map[string]any{"BucketName": "bkt", "PreserveTransactions": true}))
	wantStage(t, err, connector.StageConfig, "CdcPath is not set")
	ep := localEndpoint(root, connector.RoleTarget, map[string]any{"BucketName": "bkt"})
	ep.ExtraConnectionAttributes = "datePartitionEnabled=true;datePartitionTimezone=Nowhere/Land"
	_, err = check(t, ep)
	wantStage(t, err, connector.StageConfig, "Nowhere/Land")
	if files := listDir(t, root); len(files) != 0 {
		t.Errorf("files written: %v", files)
	}
}

func TestRemoteDatePartition(t *testing.T) {
	url, client := startMoto(t)
	if _, err := client.CreateBucket(bg, &awss3.CreateBucketInput{Bucket: aws.String("dms-target")}); err != nil {
		t.Fatal(err)
	}
	c, err := s3.New(remoteEndpoint(url, connector.RoleTarget, map[string]any{"BucketName": "dms-target", "BucketFolder": "out",
		"DatePartitionEnabled": true, "DatePartitionSequence": "YYYYMM", s3.SettingTempDir: t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tbl := cdcTable()
	putObject(t, client, "dms-target", "out/public/t/LOAD00000001.csv", "old")
	putObject(t, client, "dms-target", "out/public/t/other/20141029-1134010000.csv", "not a date folder")
	if err := c.(*s3.Conn).ApplyTransactions(bg, cdcTargets(tbl), cdcWorkload(tbl)); err != nil {
		t.Fatal(err)
	}
	want := []string{"out/public/t/2014/10/20141029-1134010000.csv", "out/public/t/LOAD00000001.csv", "out/public/t/_godwit_cdc_last", "out/public/t/other/20141029-1134010000.csv"}
	if keys := objectKeys(t, client, "dms-target", "out/"); !slices.Equal(keys, want) {
		t.Fatalf("keys = %v, want %v", keys, want)
	}
	if err := c.(*s3.Conn).ApplyTransactions(bg, cdcTargets(tbl), []*record.Transaction{{ID: "3", CommitTime: cdcT2.Add(40 * 24 * time.Hour), Position: "3", Changes: []record.Change{
		{Op: record.OpTruncate, Table: tbl},
		{Op: record.OpInsert, Table: tbl, After: record.Row{int64(7), "g", nil}},
	}}}); err != nil {
		t.Fatal(err)
	}
	want = []string{"out/public/t/2014/12/20141208-1134021234.csv", "out/public/t/_godwit_cdc_last", "out/public/t/other/20141029-1134010000.csv"}
	if keys := objectKeys(t, client, "dms-target", "out/"); !slices.Equal(keys, want) {
		t.Fatalf("after TRUNCATE: keys = %v, want %v", keys, want)
	}
	if got := strings.TrimSpace(string(getObject(t, client, "dms-target", want[0]))); got != "I,7,g," {
		t.Errorf("file holds %q", got)
	}
}
