package connector

import (
	"context"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// The capabilities below are what the full-load engine asks of connectors.
// A connector implements the ones its engine supports; the compile-time
// assertion list in each connector package doubles as the support matrix.

// SchemaReader discovers an endpoint's schemas and tables.
type SchemaReader interface {
	// Schemas lists the user schemas (databases on MySQL), without system ones.
	Schemas(ctx context.Context) ([]string, error)
	// Tables returns every user table with its columns, primary key, unique
	// keys and size estimates.
	Tables(ctx context.Context) ([]*record.Table, error)
}

// SnapshotReader reads tables as of one consistent point in time.
type SnapshotReader interface {
	// OpenSnapshot starts a snapshot that up to sessions concurrent Read
	// calls share (PostgreSQL: an exported snapshot; MySQL: sessions opened
	// WITH CONSISTENT SNAPSHOT under one lock).
	OpenSnapshot(ctx context.Context, sessions int) (Snapshot, error)
}

// Snapshot is an open consistent view of a source.
type Snapshot interface {
	// Read streams the rows req selects to fn in batches of at most
	// req.BatchRows rows, in req.OrderBy order when given. fn's error stops
	// the read and is returned. Up to the snapshot's sessions may run at once.
	// The batch slice and its rows may be reused after fn returns.
	Read(ctx context.Context, req *ReadRequest, fn func(rows []record.Row) error) error
	// SplitPoints proposes at most n-1 ascending boundaries on cols that cut
	// the table into n ranges of similar size; fewer (or none) for small tables.
	SplitPoints(ctx context.Context, t *record.Table, cols []string, n int) ([]record.Row, error)
	Close() error
}

// ReadRequest selects rows of one table.
type ReadRequest struct {
	Table *record.Table
	// Columns to read, in this order; nil = every column in table order.
	Columns []string
	Filters []record.Filter
	// Range limits the read to a segment; nil = the whole table.
	Range *record.Range
	// OrderBy orders the rows (the key columns); needed with After.
	OrderBy []string
	// After resumes a read: only rows whose OrderBy tuple is greater.
	After record.Row
	// BatchRows bounds a batch (default 10000).
	BatchRows int
	// LOBMaxBytes truncates LOB values to this many bytes (limited LOB
	// mode); 0 = no truncation.
	LOBMaxBytes int
	// StorageOrder lets ReadRaw and ReadPositioned deliver the rows of a
	// whole-table read (no Range, no After, no Filters) in the order the
	// table stores them instead of OrderBy's, when the engine can read that
	// way more cheaply (a sequential scan instead of a walk of the key's
	// index). Batches read so say where their last row is stored
	// (RawBatch.Position); whether a read in key order can take over from
	// there is for a StorageOrderChecker to say. Other reads ignore it.
	StorageOrder bool
	// Stored limits the read to the rows stored in a part of the table
	// that a StorageSplitter cut, delivered in storage order whatever
	// OrderBy says (each batch with its Position).
	Stored *record.StorageRange
}

// TablePrep is the target's TargetTablePrepMode.
type TablePrep string

const (
	PrepDoNothing     TablePrep = "DO_NOTHING"
	PrepDropAndCreate TablePrep = "DROP_AND_CREATE"
	PrepTruncate      TablePrep = "TRUNCATE_BEFORE_LOAD"
)

// BulkLoader writes full-load rows into a target.
type BulkLoader interface {
	// PrepareTable readies the target table t (names and types as they must be
	// on the target) for a full load: creates the schema if missing, then
	// per prep keeps, drops and re-creates, or truncates the table (creating
	// it when missing). With deferPK the primary key is created by FinishTable.
	PrepareTable(ctx context.Context, t *record.Table, prep TablePrep, deferPK bool) error
	// Load writes rows (in t's column order) in one transaction: when it
	// returns nil they are durable; on error none of them are.
	Load(ctx context.Context, t *record.Table, rows []record.Row) error
	// DeleteRange removes the rows of t inside r (on the target's column
	// names), so a resumed segment can be loaded again without duplicates.
	DeleteRange(ctx context.Context, t *record.Table, r *record.Range) error
	// FinishTable runs what follows a table's load: the deferred primary key.
	FinishTable(ctx context.Context, t *record.Table, deferPK bool) error
}

// StreamLoader is a BulkLoader that can keep one load open across batches.
type StreamLoader interface {
	// LoadStream writes the batches next returns, until it returns nil (or
	// an error, which fails the load), into t. When it returns nil they are
	// durable. On error, what it committed (it may commit in more than one
	// transaction) lies beyond the caller's recorded progress, which a
	// resumed load clears first (DeleteRange).
	LoadStream(ctx context.Context, t *record.Table, next func() ([]record.Row, error)) error
}

// TargetDialect tells the engine how a target names things.
type TargetDialect interface {
	// Family is the engine family ("postgres", "mysql", "s3"): a source
	// column whose Type.Engine equals it keeps its native type.
	Family() string
	// DefaultSchema is the schema a table lands in when the source schema
	// does not exist on the target and no TargetSchema is set ("" = keep the
	// source schema name).
	DefaultSchema() string
}

// SQLQuerier runs read-only SQL on a database endpoint, for premigration
// assessments. Values follow the record Kind conventions where the driver
// knows the type, else they are strings; NULL is nil.
type SQLQuerier interface {
	QueryRows(ctx context.Context, query string, args ...any) (columns []string, rows []record.Row, err error)
}

// ChangeStreamer captures committed row changes from a source (CDC).
//
// Positions are opaque strings the streamer makes and reads back (a
// PostgreSQL LSN such as "0/16B3748", a MySQL "binlog.000003:1234" or GTID
// set); they are persisted by the engine between runs.
type ChangeStreamer interface {
	// BeginCDC prepares capture for the tables (PostgreSQL: the publication
	// and logical replication slot named in req, created if missing) and
	// returns a snapshot consistent with the returned position: a full load
	// read in that snapshot plus the changes streamed from that position
	// see every change exactly once. The snapshot may be nil when req.NoSnapshot.
	BeginCDC(ctx context.Context, req *CDCRequest) (Snapshot, string, error)
	// Stream delivers the transactions committed after position from, in
	// commit order, to fn until ctx ends or fn returns an error. Only
	// changes of req.Tables are delivered. Transactions fn has returned for
	// are not confirmed to the source until Confirm.
	Stream(ctx context.Context, req *CDCRequest, from string, fn func(tx *record.Transaction) error) error
	// Confirm tells the source that every transaction up to pos is durably
	// applied, so it may release what it keeps for them (PostgreSQL's
	// confirmed_flush_lsn). Safe to call from another goroutine than Stream.
	Confirm(ctx context.Context, pos string) error
	// CurrentPosition is the source's position now.
	CurrentPosition(ctx context.Context) (string, error)
	// ComparePositions orders two positions of this source (-1, 0, 1).
	ComparePositions(a, b string) (int, error)
	// EndCDC drops what BeginCDC created (when the task is deleted).
	EndCDC(ctx context.Context, req *CDCRequest) error
}

// PositionFinder is implemented by change streamers that can find where
// to start from a time (a task's CdcStartTime).
type PositionFinder interface {
	// PositionAtTime returns the position from which Stream delivers the
	// first transaction committed at or after at.
	PositionAtTime(ctx context.Context, at time.Time) (string, error)
}

// CDCRequest names what a task captures.
type CDCRequest struct {
	// SlotName and Publication are the PostgreSQL replication slot and
	// publication of the task.
	SlotName    string
	Publication string
	// Plugin is the PostgreSQL output plugin ("pgoutput").
	Plugin string
	Tables []*record.Table
	// Sessions is how many concurrent Read calls the snapshot serves.
	Sessions   int
	NoSnapshot bool
	// HeartbeatInterval, when set, makes the streamer keep the slot moving
	// on an idle source (PostgreSQL HeartbeatEnable).
	HeartbeatInterval time.Duration
	// DDLSchema, when set, is where a PostgreSQL source keeps what captures
	// DDL that logical decoding does not carry (DROP TABLE): an audit table
	// filled by an event trigger (PostgreSQLSettings CaptureDdls and
	// DdlArtifactsSchema).
	DDLSchema string
}

// ChangeApplier writes captured changes into a target.
type ChangeApplier interface {
	// ApplyTransactions applies txs in order inside one target transaction
	// (transactional apply: the source's transaction boundaries are kept,
	// several small ones may share a target commit). tables maps a source
	// table (Schema+"."+Name) to its target table. Applying a change a
	// second time leaves the same state (inserts become upserts, updates
	// write the full new row, deletes of missing rows do nothing), so a
	// replay after a crash duplicates nothing on tables with a key.
	ApplyTransactions(ctx context.Context, tables map[string]*TargetTable, txs []*record.Transaction) error
	// ApplyBatch applies the net effect of txs per table with set-based
	// statements (BatchApplyEnabled): per key the last change wins.
	ApplyBatch(ctx context.Context, tables map[string]*TargetTable, txs []*record.Transaction) error
}

// BatchPreparer is a ChangeApplier whose batch apply has a part that needs
// no target session (resolving the changes, folding them into net changes,
// building the staging rows): the engine prepares a group while the group
// before it applies, so the target does not wait for that work.
type BatchPreparer interface {
	// PrepareBatch does that part of ApplyBatch(ctx, tables, txs). It may
	// run while a batch prepared before it applies.
	PrepareBatch(ctx context.Context, tables map[string]*TargetTable, txs []*record.Transaction) (PreparedBatch, error)
}

// PreparedBatch is a batch of BatchPreparer's, ready to apply.
type PreparedBatch interface {
	// Apply does the rest of ApplyBatch, with its results and errors. It is
	// called at most once, and may run on another goroutine than the
	// PrepareBatch that made it.
	Apply(ctx context.Context) error
}

// ApplyPrepared is the ApplyBatch of a BatchPreparer: PrepareBatch, then
// Apply.
func ApplyPrepared(ctx context.Context, p BatchPreparer, tables map[string]*TargetTable, txs []*record.Transaction) error {
	b, err := p.PrepareBatch(ctx, tables, txs)
	if err != nil {
		return err
	}
	return b.Apply(ctx)
}

// TargetTable says how a source table's changes land on the target.
type TargetTable struct {
	Target *record.Table
	// Transform turns a source row (source table column order) into the
	// target row (Target column order); nil = the same row. Appliers
	// must not change the rows they are given: they may be the source's.
	Transform func(src record.Row) (record.Row, error)
	// Key is the target key columns (names in Target) used to find rows.
	Key []string
}

// Row is the target row of the source row src: Transform's, or src itself
// when there is no Transform.
func (t *TargetTable) Row(src record.Row) (record.Row, error) {
	if t.Transform == nil {
		return src, nil
	}
	return t.Transform(src)
}

// RawCopier moves rows between two endpoints of the same engine family in
// the engine's own wire format, without decoding values, when a table is
// copied as it is (same columns, same native types, no transformation).
type RawCopier interface {
	// RawFamily names the format ("postgres-binary-copy"); raw batches only go
	// between endpoints with the same RawFamily.
	RawFamily() string
}

// RawBatch is one batch of rows in a RawCopier format.
type RawBatch struct {
	Data    []byte // the rows' bytes (for PostgreSQL: binary COPY tuples, no header/trailer)
	Rows    int
	LastKey record.Row // the values of the request's OrderBy columns in the batch's last row (canonical values)
	// Position is where the batch's last row is stored, when the rows come
	// in storage order (ReadRequest.StorageOrder); "" when they come in
	// OrderBy order. It is opaque, for StorageOrderChecker.
	Position string
}

// PositionedReader is implemented by snapshots that can read decoded rows
// in storage order (ReadRequest.StorageOrder).
type PositionedReader interface {
	// ReadPositioned is Read that also gives each batch's Position (as
	// RawBatch.Position: "" when the rows come in OrderBy order).
	ReadPositioned(ctx context.Context, req *ReadRequest, fn func(rows []record.Row, pos string) error) error
}

// StorageOrderChecker is implemented by snapshots whose ReadRaw and
// ReadPositioned honour ReadRequest.StorageOrder.
type StorageOrderChecker interface {
	// KeysOrderedThrough reports whether, in the snapshot, every row of t
	// stored up to pos (a RawBatch's Position) has a key (the columns key)
	// at most last, and every row stored after pos a key greater than last.
	// Then a read in storage order that delivered the rows up to pos has
	// delivered exactly the rows whose keys are at most last, and a read in
	// key order can go on after last. It reads the table once.
	KeysOrderedThrough(ctx context.Context, t *record.Table, key []string, last record.Row, pos string) (bool, error)
}

// StorageSplitter is implemented by snapshots that can cut a table by
// where its rows are stored, into parts read each in storage order
// (ReadRequest.Stored): parts that cost the source no more than one read
// of the whole table, in any order.
type StorageSplitter interface {
	// StorageSplitPoints returns up to n-1 places, ascending, that cut t
	// into parts of about equal size; none when t cannot be read so.
	StorageSplitPoints(ctx context.Context, t *record.Table, n int) ([]string, error)
}

// RawSnapshot is implemented by snapshots that can read raw batches.
type RawSnapshot interface {
	// ReadRaw is Read delivering raw batches; req.Columns must be plain
	// columns (no LOB truncation); fn may keep b.Data after it returns.
	ReadRaw(ctx context.Context, req *ReadRequest, fn func(b *RawBatch) error) error
}

// RawLoader is implemented by loaders that take raw batches.
type RawLoader interface {
	// LoadRawStream writes the batches next returns (columns in t's order,
	// matching the batches), until it returns nil (or an error, which fails
	// the load), into t in one transaction: one load statement across
	// batches. next may wait for the next batch. The loader owns each
	// batch next returns: it may reuse the batch's Data once its rows are
	// sent.
	LoadRawStream(ctx context.Context, t *record.Table, next func() (*RawBatch, error)) error
}

// SchemaChanger applies a source's DDL to target tables during change
// processing (ChangeProcessingDdlHandlingPolicy). t names the target table
// (schema and name as on the target). Every method is idempotent: a change
// already made (the column already added, dropped or renamed) is not an
// error, so a replay after a crash is safe.
type SchemaChanger interface {
	// AddColumn adds col (nullable: the table's existing rows have no value).
	AddColumn(ctx context.Context, t *record.Table, col record.Column) error
	// DropColumn removes the column name.
	DropColumn(ctx context.Context, t *record.Table, name string) error
	// RenameColumn renames from to to (nothing when from is gone and to exists).
	RenameColumn(ctx context.Context, t *record.Table, from, to string) error
	// RetypeColumn gives col.Name the type col.Type maps to, converting its values.
	RetypeColumn(ctx context.Context, t *record.Table, col record.Column) error
}

// TableDropper drops target tables whose source table was dropped
// (HandleSourceTableDropped).
type TableDropper interface {
	// DropTable drops t when it exists.
	DropTable(ctx context.Context, t *record.Table) error
}

// CommitPacer is implemented by change appliers that want changes held
// before they are applied, because each apply makes something costly or
// visible (a file target writes one file per table and apply). The engine
// applies what it holds once the oldest change has waited maxWait, or the
// changes' estimated size (their values' bytes) reaches maxBytes,
// whichever comes first, instead of its usual commit grouping.
type CommitPacer interface {
	CommitPace() (maxWait time.Duration, maxBytes int64)
}
