package s3

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/applyplan"
	"github.com/godwit-dms/godwit/internal/record"
)

// Change processing into an S3 target writes, for each apply the engine
// makes and each table with changes in it, one file
// [BucketFolder/]<schema>/<table>/<yyyyMMdd-HHmmss><4 digits><ext> (ext as
// for LOAD files), with one row per change in commit order: an op column
// first (I, U with the new row, D with the old row as the source logged
// it), then the table's columns, then the TimestampColumnName column with
// the source commit time. An update that changes the key is written as a
// D row of the old key then the U row, so that the files can be replayed.
// Values an update did not resend (PostgreSQL's unchanged TOASTed
// values) are taken from the old row when the source logged it whole
// (REPLICA IDENTITY FULL), else written as CsvNoSupValue (CSV files, with
// UseCsvNoSupValue) or NULL. The engine paces applies (CommitPace) so that
// a file holds CdcMaxBatchInterval seconds or CdcMinFileSize KB of changes.
//
// Files are staged and published whole before the apply returns, and the
// engine checkpoints the source position only after that. A file is named
// from the commit time of the first transaction of the apply (the one
// after the last checkpoint), and the table's folder keeps, in the object
// cdcMarker, the name of the last file published and which apply wrote it.
// So after a crash the replayed changes are written under the same name
// and replace the file the interrupted apply may have published instead
// of duplicating its rows; and an apply whose name would not sort after
// the last file (one-second commit times of MySQL, several applies for one
// transaction) takes the next number instead of overwriting it.
//
// A source TRUNCATE removes the table's LOAD and CDC files (DMS with its
// default HandleSourceTableTruncated=true), in its date folders too; the
// changes after it in the same apply go to a new file.
//
// With DatePartitionEnabled the files go to date folders of the table's
// folder (partition.go); the marker stays in the table's folder. With
// PreserveTransactions the changes of all tables go to transaction files
// in CdcPath instead (txn.go).

// CommitPace implements connector.CommitPacer: CdcMaxBatchInterval and
// CdcMinFileSize.
func (c *Conn) CommitPace() (time.Duration, int64) {
	s := c.cfg.Target
	return time.Duration(orDefault(s.CdcMaxBatchIntervalSec, DefaultCdcMaxBatchInterval)) * time.Second,
		int64(orDefault(s.CdcMinFileSizeKB, DefaultCdcMinFileSizeKB)) * 1024
}

// ApplyTransactions implements connector.ChangeApplier: see the top of
// this file. Applying the same transactions again writes the same files.
func (c *Conn) ApplyTransactions(ctx context.Context, tables map[string]*connector.TargetTable, txs []*record.Transaction) error {
	return c.applyChanges(ctx, tables, txs)
}

// ApplyBatch implements connector.ChangeApplier. DMS keeps every change
// in S3 files with batch apply too (no net changes), so this writes the
// same files as ApplyTransactions.
func (c *Conn) ApplyBatch(ctx context.Context, tables map[string]*connector.TargetTable, txs []*record.Transaction) error {
	return c.applyChanges(ctx, tables, txs)
}

// cdcFile is the file of one table in one apply.
type cdcFile struct {
	applyplan.Table
	tl        *tableLoad
	truncated bool // a TRUNCATE came first: remove the table's files
	keep      bool // a TRUNCATE keeps the rows before it (transaction files)
	rows      []record.Row
	ops       []byte
	ts        []string
	key       string
	stamp     int64
	nulled    bool // unchanged values written as NULL
}

// applyEngine is what the shared apply planner needs of this connector.
var applyEngine = applyplan.Engine{Name: "s3", Bad: ErrValue, NoColumn: ErrInvalidName}

// cdcMarker is the object in a table's folder naming its last CDC file
// and the apply that wrote it: "<stamp> <apply id>".
const cdcMarker = "_godwit_cdc_last"

// cdcMark is the content of a cdcMarker.
type cdcMark struct {
	stamp int64
	apply string
}

// applyID identifies an apply by its first transaction (position, id,
// size) and first change, which a replay from the same checkpoint
// reproduces, and which tells apart the one-change applies the engine
// makes to isolate a rejected row.
func applyID(tx *record.Transaction) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%d", tx.Position, tx.ID, len(tx.Changes))
	if len(tx.Changes) > 0 {
		ch := &tx.Changes[0]
		name := ""
		if ch.Table != nil {
			name = ch.Table.Schema + "." + ch.Table.Name
		}
		fmt.Fprintf(h, "\x00%s\x00%d\x00%v\x00%v", name, ch.Op, ch.Before, ch.After)
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

// lastCDC returns the last CDC file of the table at prefix: from memory,
// else from its marker (zero when there is none).
func (c *Conn) lastCDC(ctx context.Context, st objectStore, prefix string) (cdcMark, error) {
	c.loadMu.Lock()
	m, ok := c.cdcLast[prefix]
	c.loadMu.Unlock()
	if ok {
		return m, nil
	}
	b, ok, err := st.read(ctx, keyJoin(prefix, cdcMarker))
	if err != nil || !ok {
		return cdcMark{}, err
	}
	stamp, apply, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	if m.stamp, err = strconv.ParseInt(stamp, 10, 64); err != nil {
		return cdcMark{}, fmt.Errorf("the CDC marker %s holds %q, not a file stamp: delete it", keyJoin(prefix, cdcMarker), b)
	}
	m.apply = apply
	return m, nil
}

// cdcConfig is the configuration the encoders of CDC files are built with:
// the op column per cdcOpColumn; transaction files are CSV files without
// a header, always with the op column.
func (c *Conn) cdcConfig() Config {
	cfg := c.cfg
	cfg.Target.IncludeOpForFullLoad = cfg.Target.cdcOpColumn()
	if cfg.Target.PreserveTransactions {
		cfg.Target.DataFormat = FormatCSV
		cfg.Target.IncludeOpForFullLoad = true
		cfg.Target.AddColumnName = false
	}
	return cfg
}

// nextStamp is the stamp of the file an apply (id, first commit at stamp
// base) writes after last: a replay of the apply that wrote last takes
// its stamp again (its file is replaced); otherwise base, unless that
// would not sort after last.
func nextStamp(last cdcMark, base int64, id string) int64 {
	switch {
	case last.apply == id:
		return last.stamp
	case last.stamp >= base:
		return last.stamp + 1
	}
	return base
}

// markCDC records m as the last file published in the folder prefix.
func (c *Conn) markCDC(ctx context.Context, st objectStore, prefix string, m cdcMark) error {
	if err := st.write(ctx, keyJoin(prefix, cdcMarker), fmt.Appendf(nil, "%d %s\n", m.stamp, m.apply)); err != nil {
		return err
	}
	c.loadMu.Lock()
	c.cdcLast[prefix] = m
	c.loadMu.Unlock()
	return nil
}

// firstUse says this process has not yet written to the folder prefix: the
// staged files an earlier process left there (a crash) are to go.
func (c *Conn) firstUse(prefix string) bool {
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	_, known := c.cdcLast[prefix]
	return !known
}

func (c *Conn) applyChanges(ctx context.Context, tables map[string]*connector.TargetTable, txs []*record.Transaction) error {
	if err := c.usable(); err != nil {
		return err
	}
	c.cdcOnce.Do(func() {
		if ignored := c.cfg.Target.IgnoredCDCSettings; len(ignored) > 0 {
			slog.WarnContext(ctx, "s3 target: these S3Settings are not applied to CDC files", "endpoint", c.cfg, "settings", ignoredCDC(ignored))
		}
		if c.cfg.Target.PreserveTransactions && c.cfg.Target.AddColumnName {
			slog.WarnContext(ctx, "s3 target: the transaction files of PreserveTransactions hold rows of several tables and have no header row; AddColumnName applies to LOAD files only", "endpoint", c.cfg)
		}
	})
	var (
		first *record.Transaction
		files = map[*connector.TargetTable]*cdcFile{}
		order []*cdcFile
		seq   []txnRow // the rows of transaction files, in commit order
		cfg   = c.cdcConfig()
		txn   = cfg.Target.PreserveTransactions
	)
	newFile := func(tt *connector.TargetTable) (*cdcFile, error) {
		if f := files[tt]; f != nil {
			return f, nil
		}
		tl, err := newTableFiles(cfg, tt.Target, "cdc")
		if err != nil {
			return nil, err
		}
		f := &cdcFile{tl: tl, keep: txn}
		if err := f.Init(tt, tt.Target.QualifiedName(), applyEngine); err != nil {
			return nil, err
		}
		if txn {
			tl.csv.setLead(tt.Target.Name, tt.Target.Schema)
		} else if c.firstUse(tl.prefix) {
			removeStaged(c.loadStore().stagingDir(), tl.id, "")
		}
		files[tt] = f
		order = append(order, f)
		return f, nil
	}
	for i, tx := range txs {
		if tx == nil {
			continue
		}
		if first == nil {
			first = tx
		}
		// One transaction at a time: its rows carry its commit time.
		changes, _, err := applyplan.Resolve(ctx, applyEngine, tables, txs[i:i+1], newFile)
		if errors.Is(err, ErrValue) {
			return fmt.Errorf("%w: %w", connector.ErrRowRejected, err)
		}
		if err != nil {
			return err
		}
		ts := ""
		if cfg.Target.TimestampColumnName != "" {
			ts = string(appendTimestamp(nil, tx.CommitTime.UTC()))
		}
		for _, ch := range changes {
			n := len(ch.Tab.rows)
			if err := ch.Tab.add(cfg.Target, ch, ts); err != nil {
				return rejected(ch.Tab.T, fmt.Errorf("transaction %s: %w", tx.ID, err))
			}
			for i := n; txn && i < len(ch.Tab.rows); i++ {
				seq = append(seq, txnRow{ch.Tab, i})
			}
		}
	}
	if first == nil || len(order) == 0 {
		return nil
	}
	for _, f := range order {
		if f.nulled {
			c.nullOnce.Do(func() {
				slog.WarnContext(ctx, "s3 apply: an update did not carry every value (unchanged TOASTed values): they are NULL in its U row; set REPLICA IDENTITY FULL on the source table to have them",
					"table", f.Label)
			})
		}
	}
	// Stage every file before publishing any: a rejected value fails the
	// apply with nothing written.
	st := c.loadStore()
	defer func() {
		for _, f := range order {
			f.tl.discard()
		}
	}()
	if txn {
		return c.publishTxn(ctx, st, cfg, first, order, seq)
	}
	for _, f := range order {
		if err := c.stageCDC(ctx, f); err != nil {
			return err
		}
	}
	base, id := cdcStamp(first.CommitTime, cfg.Target.cdcZone()), applyID(first)
	for _, f := range order {
		last, err := c.lastCDC(ctx, st, f.tl.prefix)
		if err != nil {
			return err
		}
		f.stamp = nextStamp(last, base, id)
		f.key = cfg.Target.cdcKey(f.tl.prefix, f.stamp, f.tl.ext)
	}
	for _, f := range order {
		if f.truncated {
			if err := removeTableFiles(ctx, st, f.tl.prefix); err != nil {
				return err
			}
		}
		if f.tl.staged == "" {
			continue
		}
		if err := st.publish(ctx, f.tl.staged, f.key); err != nil {
			os.Remove(f.tl.staged)
			return err
		}
		f.tl.staged = ""
		if err := c.markCDC(ctx, st, f.tl.prefix, cdcMark{stamp: f.stamp, apply: id}); err != nil {
			return err
		}
		slog.DebugContext(ctx, "s3 CDC file published", "bucket", c.cfg.Bucket, "key", f.key, "rows", len(f.rows))
	}
	return nil
}

// add appends the rows of ch (target rows) to the file, per
// CdcInsertsOnly and CdcInsertsAndUpdates; ts is the formatted commit time.
func (f *cdcFile) add(s TargetSettings, ch applyplan.Change[*cdcFile], ts string) error {
	switch ch.Op {
	case record.OpInsert:
		return f.addRow('I', ch.After, ts)
	case record.OpUpdate:
		if s.CdcInsertsOnly {
			return nil
		}
		if f.Keyed() && ch.Before != nil && f.KeyOf(ch.Before) != f.KeyOf(ch.After) && !s.CdcInsertsAndUpdates {
			// The U row cannot say which row it replaces: the old key
			// goes first as a D row.
			if err := f.addRow('D', ch.Before, ts); err != nil {
				return err
			}
		}
		return f.addRow('U', f.afterImage(ch, s.NoSupValue != nil), ts)
	case record.OpDelete:
		if s.CdcInsertsOnly || s.CdcInsertsAndUpdates {
			return nil
		}
		return f.addRow('D', ch.Before, ts)
	case record.OpTruncate:
		f.truncated = true
		if !f.keep {
			f.rows, f.ops, f.ts = f.rows[:0], f.ops[:0], f.ts[:0]
		}
	}
	return nil
}

func (f *cdcFile) addRow(op byte, row record.Row, ts string) error {
	if row == nil {
		return fmt.Errorf("%w: a %c change without its row", ErrValue, op)
	}
	f.rows = append(f.rows, row)
	f.ops = append(f.ops, op)
	f.ts = append(f.ts, ts)
	return nil
}

// afterImage is the new row of an update, with the values the source did
// not send (record.Unchanged) taken from a full old row; when the source
// logged only the key they stay record.Unchanged with noSup (the CSV
// encoder writes CsvNoSupValue for them), else they are NULL (f.nulled).
func (f *cdcFile) afterImage(ch applyplan.Change[*cdcFile], noSup bool) record.Row {
	var row record.Row
	for i, v := range ch.After {
		if v != record.Unchanged {
			continue
		}
		switch {
		case ch.BeforeFull && i < len(ch.Before):
			v = ch.Before[i]
		case noSup:
			continue
		default:
			v = nil
			f.nulled = true
		}
		if row == nil {
			row = append(record.Row(nil), ch.After...)
		}
		row[i] = v
	}
	if row == nil {
		return ch.After
	}
	return row
}

// stageCDC writes f's rows to a staged file; no rows, no file.
func (c *Conn) stageCDC(ctx context.Context, f *cdcFile) error {
	if len(f.rows) == 0 {
		return nil
	}
	tl, t := f.tl, f.T
	if tl.pq != nil {
		if err := tl.pq.convert(f.rows, f.ops, f.ts); err != nil {
			return rejected(t, err)
		}
		if err := c.openStaged(tl); err != nil {
			return err
		}
		tl.pq.open(tl.f)
		if _, err := tl.pq.writer.WriteRows(tl.pq.rows); err != nil {
			return fmt.Errorf("write the staged file %s: %w", tl.staged, err)
		}
		return tl.closeStaged()
	}
	if err := c.openCSV(tl); err != nil {
		return err
	}
	var buf []byte
	for i, row := range f.rows {
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		if buf, err = tl.csv.appendRow(buf[:0], f.ops[i], row, []byte(f.ts[i])); err != nil {
			return rejected(t, err)
		}
		if err := tl.writeCSV(buf); err != nil {
			return err
		}
	}
	return tl.closeStaged()
}

// removeTableFiles deletes the LOAD and CDC files of the table at prefix,
// those in its date folders too, and its load marker (a source TRUNCATE,
// a table prepared for a new load).
func removeTableFiles(ctx context.Context, st objectStore, prefix string) error {
	names, err := st.listAll(ctx, prefix)
	if err != nil {
		return err
	}
	var dirs []string
	for _, n := range names {
		dir, base := path.Split(n)
		_, load := parseLoadName(base)
		_, cdc := parseCDCName(base)
		switch {
		case dir == "" && (load || cdc || base == loadMarker):
		case dir != "" && cdc && isDateFolder(dir):
			dirs = append(dirs, dir)
		default:
			continue
		}
		if err := st.remove(ctx, keyJoin(prefix, n)); err != nil {
			return err
		}
	}
	if p, ok := st.(interface{ pruneDirs(string, []string) }); ok && len(dirs) > 0 {
		p.pruneDirs(prefix, dirs)
	}
	return nil
}
