package e2e

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"

	"github.com/godwit-dms/godwit/internal/connector/s3"
)

// TestCDCToS3: a full-load-and-cdc task into a local S3 bucket, under the
// mixed workload of TestCDCConvergence, stopped and resumed: replaying
// the LOAD files and then the CDC files in name order gives the source's
// rows. A second table is truncated during change processing.
func TestCDCToS3(t *testing.T) {
	for _, from := range []string{"pg", "maria"} {
		t.Run(from, func(t *testing.T) {
			for _, batch := range []bool{false, true} {
				t.Run(fmt.Sprintf("batch=%v", batch), func(t *testing.T) { runCDCToS3(t, from, batch) })
			}
		})
	}
}

func runCDCToS3(t *testing.T, from string, batch bool) {
	var src side
	truncTable := "tr"
	if from == "pg" {
		src, truncTable = pgSide(t), "{{s}}.tr"
	} else {
		src = mariaSide(t)
	}
	ddl := sourceDDL(src)
	if from == "pg" {
		// The whole old row, so that an update's unchanged TOASTed values
		// can be written: without it they are NULL in the U rows.
		ddl = append(ddl, `ALTER TABLE {{s}}.acct REPLICA IDENTITY FULL`)
	}
	ddl = append(ddl, "CREATE TABLE "+truncTable+" (id int PRIMARY KEY, v text)", "INSERT INTO "+truncTable+" VALUES (1, 'a'), (2, 'b'), (3, 'c')")
	execScript(t, src, subst(strings.Join(ddl, ";\n"), "{{s}}", src.schema))
	truncTable = subst(truncTable, "{{s}}", src.schema)

	s := startServer(t)
	c := s.client(t)
	ctx := ctxT(t)
	ri := createInstance(t, ctx, c, "cdc-s3")
	se := createEndpoint(t, c, endpointArgs{id: "src", engine: src.engine, typ: "source", host: src.host, port: src.port, user: src.user, password: src.pass, db: src.db})
	// Small files: a file every second or 64 KB of changes.
	te := createEndpoint(t, c, endpointArgs{id: "lake", engine: "s3", typ: "target",
		s3: &types.S3Settings{BucketName: aws.String("lake"), BucketFolder: aws.String("cdc"), CdcMaxBatchInterval: aws.Int32(1), CdcMinFileSize: aws.Int32(64),
			ServiceAccessRoleArn: aws.String("arn:aws:iam::000000000000:role/dms")}})
	p := pair{c: c, instanceARN: aws.ToString(ri.ReplicationInstanceArn), srcARN: aws.ToString(se.EndpointArn), tgtARN: aws.ToString(te.EndpointArn)}
	mappings := subst(`{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"{{src}}","table-name":"%"},"rule-action":"include"}]}`, "{{src}}", src.schema)
	settings := fmt.Sprintf(`{"TargetMetadata":{"BatchApplyEnabled":%v,"SupportLobs":true,"FullLobMode":true,"LimitedSizeLobMode":false},"FullLoadSettings":{"CommitRate":2000}}`, batch)
	arn := createTask(t, p, "cdc-s3-task", "full-load-and-cdc", mappings, settings)
	dir := func(table string) string {
		return filepath.Join(s.DataDir, "buckets", "lake", "cdc", src.schema, table)
	}

	startUnderWorkload(t, c, arn, src)
	// The truncated table: what was loaded and inserted before the
	// TRUNCATE goes with the files; the rows after it are what is left.
	execScript(t, src, "INSERT INTO "+truncTable+" VALUES (4, 'd');\nTRUNCATE "+truncTable+";\nINSERT INTO "+truncTable+" VALUES (5, 'e'), (6, NULL)")
	convergeFiles(t, src, dir("acct"))
	want := []string{"5\te", "6\t\\N"}
	waitReplay(t, tableFiles{dir: dir("tr")}, func(rows map[string][]*string) (bool, string) {
		got := replayLines(rows, func(r []*string) string { return strings.Join([]string{text(r[0]), text(r[1])}, "\t") })
		return strings.Join(got, "\n") == strings.Join(want, "\n"), fmt.Sprintf("%q", got)
	})

	// Stop, change the source while stopped, resume: nothing lost.
	stopChangeResume(t, c, arn, src)
	convergeFiles(t, src, dir("acct"))

	// A column added on the source is in the files written after it.
	execScript(t, src, "ALTER TABLE "+truncTable+" ADD COLUMN extra int;\nINSERT INTO "+truncTable+" VALUES (7, 'g', 70)")
	want = []string{"5\te\t-", "6\t\\N\t-", "7\tg\t70"}
	waitReplay(t, tableFiles{dir: dir("tr")}, func(rows map[string][]*string) (bool, string) {
		got := replayLines(rows, func(r []*string) string {
			extra := "-" // rows written before the column existed
			if len(r) > 2 {
				extra = text(r[2])
			}
			return strings.Join([]string{text(r[0]), text(r[1]), extra}, "\t")
		})
		return strings.Join(got, "\n") == strings.Join(want, "\n"), fmt.Sprintf("%q", got)
	})

	// DMS's names; every operation seen; nothing left in staging.
	names, err := os.ReadDir(dir("acct"))
	if err != nil {
		t.Fatal(err)
	}
	cdcName := regexp.MustCompile(`^\d{8}-\d{10}\.csv$`)
	ops := map[string]int{}
	var cdcFiles int
	for _, e := range names {
		n := e.Name()
		switch {
		case strings.HasPrefix(n, "LOAD") || n == "_godwit_cdc_last":
		case cdcName.MatchString(n):
			cdcFiles++
			rows, err := readDMSCSV(filepath.Join(dir("acct"), n))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				ops[text(r[0])]++
			}
		default:
			t.Errorf("unexpected file %s", n)
		}
	}
	t.Logf("%d CDC files, operations %v", cdcFiles, ops)
	if cdcFiles < 2 || ops["I"] == 0 || ops["U"] == 0 || ops["D"] == 0 || len(ops) != 3 {
		t.Errorf("%d CDC files with operations %v", cdcFiles, ops)
	}
	if left, _ := os.ReadDir(filepath.Join(s.DataDir, "buckets", s3.LocalStagingDir)); len(left) != 0 {
		t.Errorf("%d staged files left", len(left))
	}
	stats := tableStats(t, c, arn)[src.schema+".acct"]
	if stats.Inserts == 0 || stats.Updates == 0 || stats.Deletes == 0 {
		t.Errorf("CDC statistics: %+v", stats)
	}
	if _, err := c.StopReplicationTask(ctx, &dmssdk.StopReplicationTaskInput{ReplicationTaskArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, arn, "stopped")
}

// TestCDCToS3Partitioned: full-load-and-cdc tasks from PostgreSQL into a
// local S3 bucket, one with date folders (YYYYMMDDHH, DASH, Asia/Seoul),
// one with PreserveTransactions, under the workload of TestCDCToS3 and
// stopped and resumed: replaying the LOAD files and then the CDC files
// (found in the date folders, or the table's rows of the transaction
// files in CdcPath) gives the source's rows.
func TestCDCToS3Partitioned(t *testing.T) {
	for _, mode := range []string{"date", "txn"} {
		t.Run(mode, func(t *testing.T) { runCDCToS3Partitioned(t, mode) })
	}
}

func runCDCToS3Partitioned(t *testing.T, mode string) {
	src := pgSide(t)
	ddl := append(sourceDDL(src), `ALTER TABLE {{s}}.acct REPLICA IDENTITY FULL`,
		"CREATE TABLE {{s}}.tr (id int PRIMARY KEY, v text)", "INSERT INTO {{s}}.tr VALUES (1, 'a')")
	execScript(t, src, subst(strings.Join(ddl, ";\n"), "{{s}}", src.schema))

	s := startServer(t)
	c := s.client(t)
	ctx := ctxT(t)
	ri := createInstance(t, ctx, c, "cdc-s3-"+mode)
	se := createEndpoint(t, c, endpointArgs{id: "src", engine: src.engine, typ: "source", host: src.host, port: src.port, user: src.user, password: src.pass, db: src.db})
	settings := &types.S3Settings{BucketName: aws.String("lake"), BucketFolder: aws.String("cdc"), CdcMaxBatchInterval: aws.Int32(1), CdcMinFileSize: aws.Int32(64),
		ServiceAccessRoleArn: aws.String("arn:aws:iam::000000000000:role/dms")}
	if mode == "date" {
		settings.DatePartitionEnabled = aws.Bool(true)
		settings.DatePartitionSequence = types.DatePartitionSequenceValueYyyymmddhh
		settings.DatePartitionDelimiter = types.DatePartitionDelimiterValueDash
		settings.DatePartitionTimezone = aws.String("Asia/Seoul")
	} else {
		settings.PreserveTransactions = aws.Bool(true)
		settings.CdcPath = aws.String("changes")
	}
	te := createEndpoint(t, c, endpointArgs{id: "lake", engine: "s3", typ: "target", s3: settings})
	p := pair{c: c, instanceARN: aws.ToString(ri.ReplicationInstanceArn), srcARN: aws.ToString(se.EndpointArn), tgtARN: aws.ToString(te.EndpointArn)}
	mappings := subst(`{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"{{src}}","table-name":"%"},"rule-action":"include"}]}`, "{{src}}", src.schema)
	arn := createTask(t, p, "cdc-s3-"+mode, "full-load-and-cdc", mappings, `{"TargetMetadata":{"SupportLobs":true,"FullLobMode":true,"LimitedSizeLobMode":false}}`)
	bucket := filepath.Join(s.DataDir, "buckets", "lake", "cdc")
	files := func(table string) tableFiles {
		tf := tableFiles{dir: filepath.Join(bucket, src.schema, table)}
		if mode == "txn" {
			tf.txnDir, tf.schema, tf.table = filepath.Join(bucket, "changes"), src.schema, table
		}
		return tf
	}

	startUnderWorkload(t, c, arn, src)
	execScript(t, src, subst("INSERT INTO {{s}}.tr VALUES (2, 'b');\nUPDATE {{s}}.tr SET v = 'c' WHERE id = 1", "{{s}}", src.schema))
	convergeTable(t, src, files("acct"))
	stopChangeResume(t, c, arn, src)
	convergeTable(t, src, files("acct"))
	want := []string{"1\tc", "2\tb"}
	waitReplay(t, files("tr"), func(rows map[string][]*string) (bool, string) {
		got := replayLines(rows, func(r []*string) string { return text(r[0]) + "\t" + text(r[1]) })
		return strings.Join(got, "\n") == strings.Join(want, "\n"), fmt.Sprintf("%q", got)
	})

	// Where the files are.
	var cdcFiles []string
	filepath.WalkDir(files("acct").dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), "LOAD") && d.Name() != "_godwit_cdc_last" {
			rel, _ := filepath.Rel(files("acct").dir, p)
			cdcFiles = append(cdcFiles, filepath.ToSlash(rel))
		}
		return nil
	})
	if mode == "date" {
		// <yyyy>-<MM>-<dd>-<HH>/<yyyyMMdd-HHmmss><4 digits>.csv in Seoul's time.
		layout := regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})-(\d{2})/(\d{4})(\d{2})(\d{2})-(\d{2})\d{8}\.csv$`)
		seoul, _ := time.LoadLocation("Asia/Seoul")
		now := time.Now().In(seoul)
		for _, f := range cdcFiles {
			m := layout.FindStringSubmatch(f)
			if m == nil || m[1]+m[2]+m[3]+m[4] != m[5]+m[6]+m[7]+m[8] {
				t.Errorf("CDC file %s is not in the date folder of its name", f)
				continue
			}
			at, err := time.ParseInLocation("2006010215", m[5]+m[6]+m[7]+m[8], seoul)
			if err != nil || now.Sub(at) < 0 || now.Sub(at) > 2*time.Hour {
				t.Errorf("CDC file %s is not named in Seoul's time (now %s)", f, now.Format(time.DateTime))
			}
		}
		if len(cdcFiles) < 2 {
			t.Errorf("CDC files of acct: %v", cdcFiles)
		}
	} else {
		if len(cdcFiles) != 0 {
			t.Errorf("per-table CDC files with PreserveTransactions: %v", cdcFiles)
		}
		// Each transaction file holds changes of both tables' schema, as
		// op, table, schema, columns.
		tables := map[string]int{}
		entries, err := os.ReadDir(files("acct").txnDir)
		if err != nil {
			t.Fatal(err)
		}
		name := regexp.MustCompile(`^CDC_TXN-\d{17}\.csv$`)
		for _, e := range entries {
			if e.Name() == "_godwit_cdc_last" {
				continue
			}
			if !name.MatchString(e.Name()) {
				t.Errorf("unexpected file %s in CdcPath", e.Name())
				continue
			}
			rows, err := readDMSCSV(filepath.Join(files("acct").txnDir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if op := text(r[0]); (op != "I" && op != "U" && op != "D") || text(r[2]) != src.schema {
					t.Errorf("%s: row %q", e.Name(), text(r[0])+","+text(r[1])+","+text(r[2]))
				}
				tables[text(r[1])]++
			}
		}
		if tables["acct"] == 0 || tables["tr"] != 2 || len(tables) != 2 {
			t.Errorf("rows per table in the transaction files: %v", tables)
		}
	}
	if _, err := c.StopReplicationTask(ctx, &dmssdk.StopReplicationTaskInput{ReplicationTaskArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, arn, "stopped")
}

// convergeFiles waits until replaying the acct table's files in dir gives
// the source's rows, compared as acctCheck's columns.
func convergeFiles(t *testing.T, src side, dir string) {
	t.Helper()
	convergeTable(t, src, tableFiles{dir: dir})
}

// convergeTable is convergeFiles for the acct table's files in tf.
func convergeTable(t *testing.T, src side, tf tableFiles) {
	t.Helper()
	want, _ := checksum(t, src, subst(acctCheck(src), "{{s}}", src.schema))
	waitReplay(t, tf, func(rows map[string][]*string) (bool, string) {
		got := replayLines(rows, acctLine)
		sum := md5.Sum([]byte(strings.Join(got, "\n")))
		if hex.EncodeToString(sum[:]) == want {
			return true, ""
		}
		_, wrows := checksum(t, src, subst(acctCheck(src), "{{s}}", src.schema))
		return false, fmt.Sprintf("source %d rows, files %d rows\n  only on the source:\n    %s\n  only in the files:\n    %s",
			len(wrows), len(got), firstDiffs(wrows, got, 3), firstDiffs(got, wrows, 3))
	})
}

// waitReplay replays a table's files until ok says the rows are right; it
// fails the test with the last explanation after 90 seconds.
func waitReplay(t *testing.T, tf tableFiles, ok func(rows map[string][]*string) (bool, string)) {
	t.Helper()
	why := ""
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		rows, err := replayFiles(tf)
		if err != nil {
			why = err.Error() // a file deleted while listed (TRUNCATE): again
			continue
		}
		var done bool
		if done, why = ok(rows); done {
			return
		}
	}
	t.Fatalf("replaying %s did not give the source's rows: %s", tf.dir, why)
}

// tableFiles says where a table's files are: its LOAD files in dir, its
// CDC files in dir and the date folders below it or, with txnDir, the
// rows of schema.table in the transaction files of txnDir
// (PreserveTransactions).
type tableFiles struct {
	dir                   string
	txnDir, schema, table string
}

// cdcFile is the rows of a CDC file as replayFiles applies them: the
// operation, then the table's columns.
type cdcFile struct {
	name string
	rows [][]*string
}

// cdcFiles reads the CDC files of tf in the order of their names (the
// base names: a date folder's name comes from its files' names).
func (tf tableFiles) cdcFiles() ([]cdcFile, error) {
	var paths []string
	if tf.txnDir != "" {
		entries, err := os.ReadDir(tf.txnDir)
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "CDC_TXN-") {
				paths = append(paths, filepath.Join(tf.txnDir, e.Name()))
			}
		}
	} else {
		err := filepath.WalkDir(tf.dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if n := d.Name(); !d.IsDir() && n[0] >= '0' && n[0] <= '9' {
				paths = append(paths, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(paths, func(i, j int) bool { return filepath.Base(paths[i]) < filepath.Base(paths[j]) })
	var out []cdcFile
	for _, p := range paths {
		recs, err := readDMSCSV(p)
		if err != nil {
			return nil, err
		}
		f := cdcFile{name: p}
		for _, r := range recs {
			if tf.txnDir == "" {
				f.rows = append(f.rows, r)
			} else if len(r) > 3 && text(r[1]) == tf.table && text(r[2]) == tf.schema {
				f.rows = append(f.rows, append([]*string{r[0]}, r[3:]...))
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// replayFiles applies a table's LOAD files, then its CDC files, in name
// order: LOAD rows and I/U rows set the row of their key (the first
// column), D rows remove it. An I row for a present key is an error.
func replayFiles(tf tableFiles) (map[string][]*string, error) {
	entries, err := os.ReadDir(tf.dir)
	if err != nil {
		return nil, err
	}
	var loads []string
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, "LOAD") {
			loads = append(loads, n)
		}
	}
	sort.Strings(loads)
	rows := map[string][]*string{}
	for _, n := range loads {
		recs, err := readDMSCSV(filepath.Join(tf.dir, n))
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			rows[text(r[0])] = r
		}
	}
	cdcs, err := tf.cdcFiles()
	if err != nil {
		return nil, err
	}
	for _, f := range cdcs {
		n := f.name
		for _, r := range f.rows {
			switch op := text(r[0]); op {
			case "I":
				// The workload inserts new keys only: an insert of a
				// present key is a change written twice.
				if _, dup := rows[text(r[1])]; dup {
					return nil, fmt.Errorf("%s: key %s inserted twice", n, text(r[1]))
				}
				rows[text(r[1])] = r[1:]
			case "U":
				rows[text(r[1])] = r[1:]
			case "D":
				delete(rows, text(r[1]))
			default:
				return nil, fmt.Errorf("%s: operation %q", n, op)
			}
		}
	}
	return rows, nil
}

// replayLines formats the replayed rows, sorted as checksum sorts.
func replayLines(rows map[string][]*string, line func(r []*string) string) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, line(r))
	}
	sort.Strings(out)
	return out
}

// acctLine is an acct row of the files as acctCheck selects it: id,
// owner, balance, md5 of note and of the blob's lower-case hex (of
// "<null>" for NULL), flag as 1 or 0.
func acctLine(r []*string) string {
	md5Of := func(v *string, lower bool) string {
		s := "<null>"
		if v != nil {
			s = *v
			if lower {
				s = strings.ToLower(s)
			}
		}
		sum := md5.Sum([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	flag := text(r[5])
	switch flag {
	case "true":
		flag = "1"
	case "false":
		flag = "0"
	}
	return strings.Join([]string{text(r[0]), text(r[1]), text(r[2]), md5Of(r[3], false), md5Of(r[4], true), flag}, "\t")
}

// text is a field's value, or \N for NULL (as checksum writes NULL).
func text(v *string) string {
	if v == nil {
		return `\N`
	}
	return *v
}

// readDMSCSV reads a file in DMS's default CSV: "," between fields, "\n"
// after each row, fields holding a quote, comma or line break (and empty
// strings) quoted with their quotes doubled, NULL an empty unquoted field
// (nil).
func readDMSCSV(path string) ([][]*string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var (
		out [][]*string
		row []*string
	)
	for i := 0; i < len(b); {
		var field *string
		if b[i] == '"' {
			var sb strings.Builder
			for i++; ; i++ {
				if i >= len(b) {
					return nil, fmt.Errorf("%s: an unterminated quoted field", path)
				}
				if b[i] == '"' {
					if i+1 < len(b) && b[i+1] == '"' {
						sb.WriteByte('"')
						i++
						continue
					}
					i++
					break
				}
				sb.WriteByte(b[i])
			}
			v := sb.String()
			field = &v
		} else {
			j := i
			for j < len(b) && b[j] != ',' && b[j] != '\n' {
				j++
			}
			if j > i {
				v := string(b[i:j])
				field = &v
			}
			i = j
		}
		row = append(row, field)
		if i >= len(b) {
			return nil, errors.New(path + ": the last row has no row delimiter")
		}
		if b[i] == '\n' {
			out = append(out, row)
			row = nil
		} else if b[i] != ',' {
			return nil, fmt.Errorf("%s: %q after a quoted field", path, b[i])
		}
		i++
	}
	return out, nil
}
