package s3

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// With PreserveTransactions=true, change processing writes, as DMS does,
// the changes of all tables in commit order to transaction files
// [BucketFolder/]<CdcPath>/CDC_TXN-<yyyyMMddHHmmssSSS>.csv (.csv.gz with
// GZIP; always CSV, whatever DataFormat says), one file per apply, instead
// of CDC files in the tables' folders. A row is the operation (I, U, D;
// always written), the table's name, its schema's name, then the table's
// columns, then the TimestampColumnName column when set:
//
//	I,orders,sales,1001,widget
//	U,customers,sales,7,Ann
//
// The rows of one apply follow each other as the source committed them,
// changes of different tables interleaved. Files have no header row
// (AddColumnName still applies to LOAD files). The time in the name is
// the commit time (UTC, milliseconds) of the apply's first transaction,
// where DMS uses the time the file is created: a replayed apply then
// takes the same name. The folder keeps a cdcMarker like a table's folder
// does, so after a crash the replayed changes replace the file the
// interrupted apply may have published instead of duplicating its rows.
//
// A source TRUNCATE removes the table's LOAD files (and per-table CDC
// files an earlier run wrote) as in per-table mode; the transaction files
// are kept whole, as they hold the changes of other tables too, so the
// changes before the TRUNCATE stay in them.

// txnFilePrefix starts the name of every transaction file.
const txnFilePrefix = "CDC_TXN-"

// txnRow is row i of a table's rows in an apply.
type txnRow struct {
	f *cdcFile
	i int
}

// txnPrefix is the folder of the transaction files: [BucketFolder/]CdcPath/.
func txnPrefix(cfg Config) string { return path.Join(cfg.Folder, cfg.Target.CdcPath) + "/" }

// txnName is the name of the transaction file of the apply whose first
// commit was ms milliseconds after the Unix epoch.
func txnName(ms int64, ext string) string {
	t := time.UnixMilli(ms).UTC()
	return fmt.Sprintf("%s%s%03d%s", txnFilePrefix, t.Format("20060102150405"), t.Nanosecond()/1e6, ext)
}

// publishTxn writes the rows seq of an apply to a transaction file and
// handles the TRUNCATEs in it (see the top of this file).
func (c *Conn) publishTxn(ctx context.Context, st objectStore, cfg Config, first *record.Transaction, order []*cdcFile, seq []txnRow) error {
	prefix := txnPrefix(cfg)
	tl := &tableLoad{prefix: prefix, ext: fileExtension(cfg), id: stagedID("txn", cfg.Bucket, prefix)}
	defer tl.discard()
	if c.firstUse(prefix) {
		removeStaged(st.stagingDir(), tl.id, "")
	}
	if len(seq) > 0 {
		// Staged whole first: a rejected value fails the apply with
		// nothing written or removed.
		if err := c.openCSV(tl); err != nil {
			return err
		}
		var buf []byte
		for _, r := range seq {
			if err := ctx.Err(); err != nil {
				return err
			}
			f := r.f
			var err error
			if buf, err = f.tl.csv.appendRow(buf[:0], f.ops[r.i], f.rows[r.i], []byte(f.ts[r.i])); err != nil {
				return rejected(f.T, err)
			}
			if err := tl.writeCSV(buf); err != nil {
				return err
			}
		}
		if err := tl.closeStaged(); err != nil {
			return err
		}
	}
	for _, f := range order {
		if !f.truncated {
			continue
		}
		c.truncOnce.Do(func() {
			slog.WarnContext(ctx, "s3 target: a source TRUNCATE removes the table's LOAD files; the changes before it stay in the transaction files of PreserveTransactions, which hold other tables' changes too",
				"table", f.Label, "cdc_path", prefix)
		})
		if err := removeTableFiles(ctx, st, f.tl.prefix); err != nil {
			return err
		}
	}
	if tl.staged == "" {
		return nil
	}
	last, err := c.lastCDC(ctx, st, prefix)
	if err != nil {
		return err
	}
	id := applyID(first)
	stamp := nextStamp(last, first.CommitTime.UnixMilli(), id)
	key := keyJoin(prefix, txnName(stamp, tl.ext))
	if err := st.publish(ctx, tl.staged, key); err != nil {
		os.Remove(tl.staged)
		return err
	}
	tl.staged = ""
	if err := c.markCDC(ctx, st, prefix, cdcMark{stamp: stamp, apply: id}); err != nil {
		return err
	}
	slog.DebugContext(ctx, "s3 transaction file published", "bucket", cfg.Bucket, "key", key, "rows", len(seq))
	return nil
}
