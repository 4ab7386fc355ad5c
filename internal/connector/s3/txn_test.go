package s3_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// txnWorkload changes two tables in interleaved transactions.
func txnWorkload(tbl, other *record.Table) []*record.Transaction {
	return []*record.Transaction{
		{ID: "1", CommitTime: cdcT1, Position: "1", Changes: []record.Change{
			{Op: record.OpInsert, Table: tbl, After: record.Row{int64(1), "a", "x, y"}},
			{Op: record.OpInsert, Table: other, After: record.Row{int64(10), "o", nil}},
			{Op: record.OpInsert, Table: tbl, After: record.Row{int64(2), "b", nil}},
		}},
		{ID: "2", CommitTime: cdcT2, Position: "2", Changes: []record.Change{
			{Op: record.OpUpdate, Table: other, Before: record.Row{int64(10), nil, nil}, After: record.Row{int64(10), "p", nil}},
			{Op: record.OpDelete, Table: tbl, Before: record.Row{int64(1), nil, nil}},
			{Op: record.OpUpdate, Table: tbl, Before: record.Row{int64(2), nil, nil}, After: record.Row{int64(3), "c", nil}},
		}},
	}
}

func txnTables() (*record.Table, *record.Table, map[string]*connector.TargetTable) {
	tbl, other := cdcTable(), cdcTable()
	other.Name, other.Schema = "other", "sales"
	return tbl, other, cdcTargets(tbl, other)
}

func TestPreserveTransactions(t *testing.T) {
	const ts1 = ",2014-10-29 11:34:01.000000"
	for name, tc := range map[string]struct {
		settings map[string]any
		file     string
		want     string
	}{
		"default": {nil, "CDC_TXN-20141029113401000.csv",
			"I,t,public,1,a,\"x, y\"\nI,other,sales,10,o,\nI,t,public,2,b,\nU,other,sales,10,p,\nD,t,public,1,,\nD,t,public,2,,\nU,t,public,3,c,\n"},
		// Always CSV, always with the op column, no header; the
		// timestamp column last.
		"parquet, gzip, columns": {map[string]any{"DataFormat": "parquet", "CompressionType": "GZIP", "AddColumnName": true, "TimestampColumnName": "ts", "CdcInsertsOnly": true},
			"CDC_TXN-20141029113401000.csv.gz", "I,t,public,1,a,\"x, y\"" + ts1 + "\nI,other,sales,10,o," + ts1 + "\nI,t,public,2,b," + ts1 + "\n"},
		"inserts and updates": {map[string]any{"CdcInsertsAndUpdates": true, "CsvDelimiter": "|"}, "CDC_TXN-20141029113401000.csv",
			"I|t|public|1|a|x, y\nI|other|sales|10|o|\nI|t|public|2|b|\nU|other|sales|10|p|\nU|t|public|3|c|\n"},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			settings := map[string]any{"BucketFolder": "out", "PreserveTransactions": true, "CdcPath": "/changes/txn/"}
			for k, v := range tc.settings {
				settings[k] = v
			}
			c := openTarget(t, root, settings)
			tbl, other, tables := txnTables()
			mustApply(t, c, tables, txnWorkload(tbl, other))
			dir := bucketPath(root, "out", "changes", "txn")
			if got := listDir(t, dir); !slices.Equal(got, []string{tc.file, "_godwit_cdc_last"}) {
				t.Fatalf("files = %v", got)
			}
			if got := readFile(t, filepath.Join(dir, tc.file)); got != tc.want {
				t.Errorf("file holds\n%s\nwant\n%s", got, tc.want)
			}
			// No per-table CDC files.
			if got := listDir(t, bucketPath(root, "out")); !slices.Equal(got, []string{"changes"}) {
				t.Errorf("folders = %v", got)
			}
		})
	}
}

func TestPreserveTransactionsReplay(t *testing.T) {
	root := t.TempDir()
	settings := map[string]any{"PreserveTransactions": true, "CdcPath": "txn"}
	c := openTarget(t, root, settings)
	tbl, other, tables := txnTables()
	txs := txnWorkload(tbl, other)
	mustApply(t, c, tables, txs[:1])
	dir := bucketPath(root, "txn")
	marker, err := os.ReadFile(filepath.Join(dir, "_godwit_cdc_last"))
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, c, tables, txs[1:])
	want := []string{"CDC_TXN-20141029113401000.csv", "CDC_TXN-20141029113402123.csv", "_godwit_cdc_last"}
	if got := listDir(t, dir); !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	// A crash after the second file was published, before the marker
	// was: a new process replays the second apply with one more
	// transaction. The file is replaced: no row twice, none lost.
	if err := os.WriteFile(filepath.Join(dir, "_godwit_cdc_last"), marker, 0o644); err != nil {
		t.Fatal(err)
	}
	staging := filepath.Join(root, ".godwit-staging")
	c2 := openTarget(t, root, settings)
	replay := append(txs[1:], insertTx("3", cdcT2.Add(time.Second), other, 11))
	mustApply(t, c2, tables, replay)
	if got := listDir(t, dir); !slices.Equal(got, want) {
		t.Fatalf("after the replay: files = %v, want %v", got, want)
	}
	wantRows := "U,other,sales,10,p,\nD,t,public,1,,\nD,t,public,2,,\nU,t,public,3,c,\nI,other,sales,11,v3,\n"
	if got := readFile(t, filepath.Join(dir, want[1])); got != wantRows {
		t.Errorf("replayed file holds\n%s\nwant\n%s", got, wantRows)
	}
	// The same replay again (a crash after the marker was written).
	c3 := openTarget(t, root, settings)
	mustApply(t, c3, tables, replay)
	if got := listDir(t, dir); !slices.Equal(got, want) {
		t.Fatalf("after the second replay: files = %v, want %v", got, want)
	}
	if got := readFile(t, filepath.Join(dir, want[1])); got != wantRows {
		t.Errorf("file holds %q", got)
	}
	// Another apply starting in the same millisecond takes the next name.
	mustApply(t, c3, tables, []*record.Transaction{insertTx("4", cdcT2.Add(100*time.Microsecond), tbl, 4)})
	if got := readFile(t, filepath.Join(dir, "CDC_TXN-20141029113402124.csv")); got != "I,t,public,4,v4,\n" {
		t.Errorf("next file holds %q", got)
	}
	if files := listDir(t, staging); len(files) != 0 {
		t.Errorf("staged files left: %v", files)
	}
}

// A TRUNCATE removes the table's LOAD files; the transaction files keep
// every change, those before it too.
func TestPreserveTransactionsTruncate(t *testing.T) {
	root := t.TempDir()
	c := openTarget(t, root, map[string]any{"PreserveTransactions": true, "CdcPath": "txn"})
	tbl, other, tables := txnTables()
	mustPrepare(t, c, tbl, connector.PrepDoNothing)
	mustLoad(t, c, tbl, []record.Row{{int64(1), "a", nil}})
	mustFinish(t, c, tbl)
	mustApply(t, c, tables, []*record.Transaction{{ID: "1", CommitTime: cdcT1, Position: "1", Changes: []record.Change{
		{Op: record.OpInsert, Table: tbl, After: record.Row{int64(3), "c", nil}},
		{Op: record.OpTruncate, Table: tbl},
		{Op: record.OpInsert, Table: other, After: record.Row{int64(9), "o", nil}},
		{Op: record.OpInsert, Table: tbl, After: record.Row{int64(4), "d", nil}},
	}}})
	if files := listDir(t, bucketPath(root, "public", "t")); len(files) != 0 {
		t.Errorf("files of the truncated table left: %v", files)
	}
	if got := readFile(t, bucketPath(root, "txn", "CDC_TXN-20141029113401000.csv")); got != "I,t,public,3,c,\nI,other,sales,9,o,\nI,t,public,4,d,\n" {
		t.Errorf("file holds %q", got)
	}
}
