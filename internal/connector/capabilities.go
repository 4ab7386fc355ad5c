package connector

import (
	"context"

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
