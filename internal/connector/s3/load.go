package s3

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// A full load into an S3 target writes each table as LOAD files
// [BucketFolder/]<schema>/<table>/LOAD00000001.csv, ... (.csv.gz with GZIP,
// .parquet with DataFormat=parquet), numbered with an 8-digit upper-case
// hexadecimal counter. A file is written to a local staging file and
// published whole (a rename in a local store, one PutObject for an API)
// when the next row would take it past MaxFileSize, and at FinishTable:
// the bucket never holds a partial file, and a table with no rows has no
// file and no folder.
//
// Durability is per published file. Rows that Load accepted are in the
// staging file until it is published, so after a crash a table restarts:
// DeleteRange(nil) removes the LOAD files this load published and numbering
// starts again where the load began. Parts of a table (a non-nil Range)
// cannot be removed from files: DeleteRange returns errors.ErrUnsupported.
// Concurrent Loads of one table (segments) append to the same files, one
// Load at a time.

// stageBufferSize is the write buffer of a staged CSV file.
const stageBufferSize = 256 << 10

// Family implements connector.TargetDialect.
func (c *Conn) Family() string { return "s3" }

// DefaultSchema implements connector.TargetDialect: tables keep their
// source schema's name as their folder.
func (c *Conn) DefaultSchema() string { return "" }

// SetLoadTimestamp fixes the value of the TimestampColumnName column when
// UseTaskStartTimeForFullLoadTimestamp is true (the task's start time). It
// overrides the Settings key SettingTaskStart; without either, the time
// the connector was opened is used.
func (c *Conn) SetLoadTimestamp(t time.Time) {
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	c.taskStart = t.UTC()
}

// tableLoad is the state of one table's load.
type tableLoad struct {
	mu     sync.Mutex
	prefix string // [folder/]schema/table/
	ext    string
	id     string // names this table's staged files
	// LOAD files numbered up to base predate the load; next is the number
	// the open (or next) file is published as.
	base, next uint32
	marker     bool  // loadMarker exists in the table's folder
	broken     error // a write failed part way: restart needed

	csv *csvEncoder
	pq  *parquetEncoder

	// The open staged file, or f == nil.
	f      *os.File
	staged string
	bw     *bufio.Writer
	gz     *gzip.Writer
	size   int64 // bytes in the file: uncompressed CSV
	rows   int64 // data rows in the file

	batch []byte // CSV text of the rows of the Load being written
	ends  []int  // end offset of each row in batch
	ts    []byte // formatted load timestamp
}

func tableKey(t *record.Table) string { return t.Schema + "\x00" + t.Name }

// loadStore returns the object store, creating it on first use.
func (c *Conn) loadStore() objectStore {
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	if c.store == nil {
		if c.cfg.Local() {
			c.store = newLocalStore(c.cfg)
		} else {
			c.store = newRemoteStore(c.cfg, c.s3LoadClient())
		}
	}
	return c.store
}

// newTableLoad builds the state of t's load, with its encoder.
func (c *Conn) newTableLoad(t *record.Table) (*tableLoad, error) {
	return newTableFiles(c.cfg, t, "")
}

// newTableFiles builds the file-writing state of t with cfg's encoder;
// kind tells its staged files apart from those of other writers of t.
func newTableFiles(cfg Config, t *record.Table, kind string) (*tableLoad, error) {
	prefix, err := tablePrefix(cfg, t)
	if err != nil {
		return nil, err
	}
	if name := cfg.Target.TimestampColumnName; name != "" && t.Column(name) != nil {
		return nil, fmt.Errorf("%w: TimestampColumnName %q is also a column of %s", ErrInvalidName, name, t.QualifiedName())
	}
	tl := &tableLoad{prefix: prefix, ext: fileExtension(cfg), id: stagedID(kind, cfg.Bucket, prefix)}
	if cfg.Target.format() == FormatParquet {
		if tl.pq, err = newParquetEncoder(cfg, t); err != nil {
			return nil, err
		}
	} else {
		tl.csv = newCSVEncoder(cfg.Target, t)
	}
	return tl, nil
}

// stagedID names the staged files of the writer kind of the objects at
// prefix in bucket.
func stagedID(kind, bucket, prefix string) string {
	h := fnv.New64a()
	io.WriteString(h, kind+bucket+"/"+prefix)
	return hex.EncodeToString(h.Sum(nil))
}

// swapTable installs tl as t's state, discarding the previous one.
func (c *Conn) swapTable(t *record.Table, tl *tableLoad) {
	c.loadMu.Lock()
	old := c.tables[tableKey(t)]
	c.tables[tableKey(t)] = tl
	c.loadMu.Unlock()
	if old != nil && old != tl {
		old.mu.Lock()
		old.discard()
		old.mu.Unlock()
	}
}

func (c *Conn) table(t *record.Table) *tableLoad {
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	return c.tables[tableKey(t)]
}

// loadFile is a LOAD file found in a table's folder.
type loadFile struct {
	name string
	num  uint32
}

// existingLoads lists t's LOAD files in the store, and whether the load
// marker is there.
func existingLoads(ctx context.Context, st objectStore, prefix string) (files []loadFile, marker bool, err error) {
	names, err := st.list(ctx, prefix)
	if err != nil {
		return nil, false, err
	}
	for _, n := range names {
		if n == loadMarker {
			marker = true
		}
		if num, ok := parseLoadName(n); ok {
			files = append(files, loadFile{n, num})
		}
	}
	return files, marker, nil
}

// deleteLoads removes the files numbered above base.
func deleteLoads(ctx context.Context, st objectStore, prefix string, files []loadFile, base uint32) error {
	for _, f := range files {
		if f.num > base {
			if err := st.remove(ctx, keyJoin(prefix, f.name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// readMarker returns the base number a marker records.
func readMarker(ctx context.Context, st objectStore, prefix string) (uint32, bool, error) {
	b, ok, err := st.read(ctx, keyJoin(prefix, loadMarker))
	if err != nil || !ok {
		return 0, false, err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 16, 32)
	if err != nil {
		return 0, false, fmt.Errorf("the load marker %s holds %q, not a LOAD number: delete it", keyJoin(prefix, loadMarker), b)
	}
	return uint32(n), true, nil
}

// PrepareTable implements connector.BulkLoader for a file target:
// DROP_AND_CREATE and TRUNCATE_BEFORE_LOAD delete the table's LOAD files
// (CDC files stay); DO_NOTHING keeps them and numbers new files after the
// highest existing one. Folders are created when the first file is
// published. deferPK has no meaning for files.
func (c *Conn) PrepareTable(ctx context.Context, t *record.Table, prep connector.TablePrep, deferPK bool) error {
	if err := c.usable(); err != nil {
		return err
	}
	tl, err := c.newTableLoad(t)
	if err != nil {
		return err
	}
	st := c.loadStore()
	files, marker, err := existingLoads(ctx, st, tl.prefix)
	if err != nil {
		return err
	}
	switch prep {
	case connector.PrepDropAndCreate, connector.PrepTruncate:
		// The table starts again: its LOAD files and the CDC files an
		// earlier run wrote go.
		if err := removeTableFiles(ctx, st, tl.prefix); err != nil {
			return err
		}
	case connector.PrepDoNothing, "":
		for _, f := range files {
			tl.base = max(tl.base, f.num)
		}
		if tl.base > 0 {
			if err := st.write(ctx, keyJoin(tl.prefix, loadMarker), []byte(fmt.Sprintf("%08X\n", tl.base))); err != nil {
				return err
			}
			tl.marker = true
		} else if marker {
			if err := st.remove(ctx, keyJoin(tl.prefix, loadMarker)); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("%w: TargetTablePrepMode %q", errors.ErrUnsupported, prep)
	}
	if tl.base >= maxLoadNumber {
		return fmt.Errorf("%s already holds LOAD%08X, the last LOAD number", tl.prefix, tl.base)
	}
	tl.next = tl.base + 1
	removeStaged(st.stagingDir(), tl.id, "")
	c.swapTable(t, tl)
	slog.DebugContext(ctx, "s3 table prepared", "endpoint", c.cfg, "prefix", tl.prefix, "prep", prep, "next", loadName(tl.next, tl.ext))
	return nil
}

// resume returns t's state, rebuilding it when this process has none (a
// task resumed after a restart): files above the marker's number, or all
// LOAD files without a marker, belong to the interrupted load.
func (c *Conn) resume(ctx context.Context, t *record.Table) (*tableLoad, []loadFile, error) {
	st := c.loadStore()
	if tl := c.table(t); tl != nil {
		files, _, err := existingLoads(ctx, st, tl.prefix)
		return tl, files, err
	}
	tl, err := c.newTableLoad(t)
	if err != nil {
		return nil, nil, err
	}
	files, marker, err := existingLoads(ctx, st, tl.prefix)
	if err != nil {
		return nil, nil, err
	}
	if marker {
		base, ok, err := readMarker(ctx, st, tl.prefix)
		if err != nil {
			return nil, nil, err
		}
		tl.base, tl.marker = base, ok
	}
	tl.next = tl.base + 1
	for _, f := range files {
		tl.next = max(tl.next, f.num+1)
	}
	c.loadMu.Lock()
	if cur := c.tables[tableKey(t)]; cur != nil {
		tl = cur // another goroutine got there first
	} else {
		c.tables[tableKey(t)] = tl
	}
	c.loadMu.Unlock()
	return tl, files, nil
}

// DeleteRange implements connector.BulkLoader for a file target. A nil
// range removes everything this load of t wrote: its published LOAD files
// and its staged file; numbering starts again where the load began. A file
// cannot lose some of its rows, so a non-nil range is unsupported.
func (c *Conn) DeleteRange(ctx context.Context, t *record.Table, r *record.Range) error {
	if err := c.usable(); err != nil {
		return err
	}
	if r != nil {
		return fmt.Errorf("%w: an S3 target cannot delete a range of %s from its files; restart the table with a nil range", errors.ErrUnsupported, t.QualifiedName())
	}
	tl, files, err := c.resume(ctx, t)
	if err != nil {
		return err
	}
	st := c.loadStore()
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.discard()
	if err := deleteLoads(ctx, st, tl.prefix, files, tl.base); err != nil {
		return err
	}
	tl.next = tl.base + 1
	tl.broken = nil
	removeStaged(st.stagingDir(), tl.id, "")
	return nil
}

// Load implements connector.BulkLoader: rows go to the table's staged file
// (see the comment at the top of this file for durability). A value that
// does not fit its column fails the whole batch before anything is written.
func (c *Conn) Load(ctx context.Context, t *record.Table, rows []record.Row) error {
	if err := c.usable(); err != nil {
		return err
	}
	tl := c.table(t)
	if tl == nil {
		var err error
		if tl, _, err = c.resume(ctx, t); err != nil {
			return err
		}
	}
	if len(rows) == 0 {
		return nil
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.broken != nil {
		return fmt.Errorf("%w: %s: %w", ErrLoadBroken, t.QualifiedName(), tl.broken)
	}
	tl.ts = tl.ts[:0]
	if c.cfg.Target.TimestampColumnName != "" {
		tl.ts = appendTimestamp(tl.ts, c.loadTimestamp())
	}
	if tl.csv != nil {
		return c.loadCSV(ctx, t, tl, rows)
	}
	return c.loadParquet(ctx, t, tl, rows)
}

// rejected is the error of a batch refused for one of its values: nothing
// of it was written.
func rejected(t *record.Table, err error) error {
	return fmt.Errorf("%w: %s: %w", connector.ErrRowRejected, t.QualifiedName(), err)
}

// loadTimestamp is the TimestampColumnName value of rows written now.
func (c *Conn) loadTimestamp() time.Time {
	if !c.cfg.Target.UseTaskStartTime {
		return time.Now().UTC()
	}
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	switch {
	case !c.taskStart.IsZero():
		return c.taskStart
	case !c.cfg.Target.TaskStart.IsZero():
		return c.cfg.Target.TaskStart
	}
	return c.opened
}

// fail marks the table broken after a write failed part way.
func (tl *tableLoad) fail(err error) error {
	tl.broken = err
	tl.discard()
	return fmt.Errorf("%w: %w", ErrLoadBroken, err)
}

func (c *Conn) loadCSV(ctx context.Context, t *record.Table, tl *tableLoad, rows []record.Row) error {
	// Encode the whole batch first: a bad value fails it untouched.
	tl.batch, tl.ends = tl.batch[:0], tl.ends[:0]
	var err error
	for _, row := range rows {
		if tl.batch, err = tl.csv.appendRow(tl.batch, 'I', row, tl.ts); err != nil {
			return rejected(t, err)
		}
		tl.ends = append(tl.ends, len(tl.batch))
	}
	limit := c.cfg.Target.maxFileBytes()
	for i := 0; i < len(rows); {
		if err := ctx.Err(); err != nil {
			return tl.fail(err)
		}
		if tl.f == nil {
			if err := c.openCSV(tl); err != nil {
				return tl.fail(err)
			}
		}
		start := 0
		if i > 0 {
			start = tl.ends[i-1]
		}
		j := i
		for j < len(rows) {
			prev := 0
			if j > 0 {
				prev = tl.ends[j-1]
			}
			n := int64(tl.ends[j] - prev)
			if tl.rows > 0 && tl.size+n > limit {
				break
			}
			tl.size += n
			tl.rows++
			j++
		}
		if j > i {
			if err := tl.writeCSV(tl.batch[start:tl.ends[j-1]]); err != nil {
				return tl.fail(err)
			}
		}
		i = j
		if i < len(rows) {
			if err := c.publish(ctx, tl); err != nil {
				return tl.fail(err)
			}
		}
	}
	return nil
}

func (tl *tableLoad) writeCSV(b []byte) error {
	var err error
	if tl.gz != nil {
		_, err = tl.gz.Write(b)
	} else {
		_, err = tl.bw.Write(b)
	}
	if err != nil {
		return fsError("write the staged file", tl.staged, err)
	}
	return nil
}

// openStaged creates a new staged file for tl.
func (c *Conn) openStaged(tl *tableLoad) error {
	dir := c.loadStore().stagingDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fsError("create the staging folder", dir, err)
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	name := filepath.Join(dir, tl.id+"-"+hex.EncodeToString(rnd[:])+tl.ext+".part")
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fsError("create a staged file in", dir, err)
	}
	tl.f, tl.staged, tl.size, tl.rows = f, name, 0, 0
	return nil
}

func (c *Conn) openCSV(tl *tableLoad) error {
	if err := c.openStaged(tl); err != nil {
		return err
	}
	if tl.bw == nil {
		tl.bw = bufio.NewWriterSize(tl.f, stageBufferSize)
	} else {
		tl.bw.Reset(tl.f)
	}
	if c.cfg.CompressionType == "gzip" {
		if tl.gz == nil {
			tl.gz = gzip.NewWriter(tl.bw)
		} else {
			tl.gz.Reset(tl.bw)
		}
	}
	if c.cfg.Target.AddColumnName && tl.csv != nil {
		header := tl.csv.appendHeader(nil)
		tl.size += int64(len(header))
		return tl.writeCSV(header)
	}
	return nil
}

func (c *Conn) loadParquet(ctx context.Context, t *record.Table, tl *tableLoad, rows []record.Row) error {
	if err := tl.pq.convert(rows, nil, []string{string(tl.ts)}); err != nil {
		return rejected(t, err)
	}
	limit := c.cfg.Target.maxFileBytes()
	pqRows := tl.pq.rows
	for i := 0; i < len(pqRows); {
		if err := ctx.Err(); err != nil {
			return tl.fail(err)
		}
		if tl.f == nil {
			if err := c.openStaged(tl); err != nil {
				return tl.fail(err)
			}
			tl.pq.open(tl.f)
		}
		size := tl.pq.writer.Size()
		if tl.rows > 0 && size >= limit {
			if err := c.publish(ctx, tl); err != nil {
				return tl.fail(err)
			}
			continue
		}
		// Write as many rows as the average row size says still fit, in
		// chunks of at most 1024, so files end close to MaxFileSize.
		n := 1
		if tl.rows > 0 {
			per := max64(size/tl.rows, 1)
			n = int(min((limit-size)/per, 1024))
		}
		n = min(max(n, 1), len(pqRows)-i)
		if _, err := tl.pq.writer.WriteRows(pqRows[i : i+n]); err != nil {
			return tl.fail(fmt.Errorf("write the staged file %s: %w", tl.staged, err))
		}
		tl.rows += int64(n)
		i += n
	}
	tl.size = tl.pq.writer.Size()
	return nil
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// closeStaged completes the staged file (gzip trailer, Parquet footer),
// syncs and closes it.
func (tl *tableLoad) closeStaged() error {
	var err error
	switch {
	case tl.pq != nil:
		err = tl.pq.writer.Close()
	case tl.gz != nil:
		if err = tl.gz.Close(); err == nil {
			err = tl.bw.Flush()
		}
	default:
		err = tl.bw.Flush()
	}
	if err == nil {
		err = tl.f.Sync()
	}
	if cerr := tl.f.Close(); err == nil {
		err = cerr
	}
	tl.f = nil
	if err != nil {
		os.Remove(tl.staged)
		return fsError("complete the staged file", tl.staged, err)
	}
	return nil
}

// publish completes the open file and publishes it as the next LOAD file.
func (c *Conn) publish(ctx context.Context, tl *tableLoad) error {
	if tl.f == nil {
		return nil
	}
	if err := tl.closeStaged(); err != nil {
		return err
	}
	key := keyJoin(tl.prefix, loadName(tl.next, tl.ext))
	if err := c.loadStore().publish(ctx, tl.staged, key); err != nil {
		os.Remove(tl.staged)
		return err
	}
	slog.DebugContext(ctx, "s3 file published", "bucket", c.cfg.Bucket, "key", key, "rows", tl.rows, "bytes", tl.size)
	tl.staged, tl.rows, tl.size = "", 0, 0
	if tl.next == maxLoadNumber {
		return fmt.Errorf("%s reached LOAD%08X, the last LOAD number", tl.prefix, tl.next)
	}
	tl.next++
	return nil
}

// discard drops the open staged file, if any.
func (tl *tableLoad) discard() {
	if tl.f != nil {
		tl.f.Close()
		tl.f = nil
	}
	if tl.staged != "" {
		os.Remove(tl.staged)
		tl.staged = ""
	}
	tl.rows, tl.size = 0, 0
}

// removeStaged deletes staged files of a table left by an earlier process,
// keeping keep.
func removeStaged(dir, id, keep string) {
	matches, _ := filepath.Glob(filepath.Join(dir, id+"-*.part"))
	for _, m := range matches {
		if m != keep {
			os.Remove(m)
		}
	}
}

// FinishTable implements connector.BulkLoader: it publishes the table's
// last file. The load marker stays, so that redoing the load later
// (DeleteRange(nil)) still spares the older files. deferPK has no meaning
// for files.
func (c *Conn) FinishTable(ctx context.Context, t *record.Table, deferPK bool) error {
	if err := c.usable(); err != nil {
		return err
	}
	tl := c.table(t)
	if tl == nil {
		var err error
		if tl, _, err = c.resume(ctx, t); err != nil {
			return err
		}
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.broken != nil {
		return fmt.Errorf("%w: %s: %w", ErrLoadBroken, t.QualifiedName(), tl.broken)
	}
	if err := c.publish(ctx, tl); err != nil {
		return tl.fail(err)
	}
	c.loadMu.Lock()
	if c.tables[tableKey(t)] == tl {
		delete(c.tables, tableKey(t))
	}
	c.loadMu.Unlock()
	return nil
}

// closeLoads drops every open staged file (Close).
func (c *Conn) closeLoads() {
	c.loadMu.Lock()
	tables := c.tables
	c.tables = map[string]*tableLoad{}
	c.loadMu.Unlock()
	for _, tl := range tables {
		tl.mu.Lock()
		tl.discard()
		tl.mu.Unlock()
	}
}
