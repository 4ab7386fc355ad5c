// Package record is the leaf vocabulary shared by full load and CDC: tables,
// columns, engine-neutral types, rows and source positions. Connectors
// produce and consume these values; nothing here does I/O.
package record

import "fmt"

// Kind is an engine-neutral data type, after DMS's own data types.
type Kind uint8

const (
	KindUnknown     Kind = iota
	KindBool             // bool
	KindInt16            // int64
	KindInt32            // int64
	KindInt64            // int64
	KindUint64           // uint64 (MySQL BIGINT UNSIGNED)
	KindNumeric          // string: exact decimal text, e.g. "-12.3400"
	KindFloat32          // float64
	KindFloat64          // float64
	KindString           // string: bounded text (varchar(n), char(n))
	KindText             // string: unbounded text (CLOB)
	KindBytes            // []byte: bounded binary
	KindBlob             // []byte: unbounded binary (BLOB)
	KindDate             // time.Time at 00:00 UTC
	KindTime             // string "HH:MM:SS[.ffffff]"
	KindTimestamp        // time.Time, wall clock without time zone, carried as UTC
	KindTimestampTZ      // time.Time, an instant, carried as UTC
	KindJSON             // string holding JSON text
	KindUUID             // string, canonical lower-case form
	KindEnum             // string, one of Type.EnumValues
	KindArray            // string: the source's array literal text; Type.Elem says the element type
	KindInterval         // string: ISO 8601 or engine text
)

var kindNames = [...]string{"unknown", "boolean", "int2", "int4", "int8", "uint8", "numeric", "real4", "real8",
	"string", "clob", "bytes", "blob", "date", "time", "datetime", "datetimetz", "json", "uuid", "enum", "array", "interval"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// IsLOB reports whether values of the kind are large objects in DMS's sense.
func (k Kind) IsLOB() bool { return k == KindText || k == KindBlob || k == KindJSON }

// Type is a column's type.
type Type struct {
	Kind      Kind
	Length    int // characters or bytes for String/Bytes; 0 = unbounded
	Precision int // Numeric precision; fractional-second digits for Time/Timestamp(TZ)
	Scale     int // Numeric scale
	// Native is the source engine's own spelling (e.g. "character varying(64)",
	// "jsonb", "tinyint(1)"); a target of the same engine family may reuse it.
	Native string
	// Engine is the engine family Native belongs to ("postgres", "mysql").
	Engine     string
	EnumValues []string `json:",omitempty"`
	Elem       *Type    `json:",omitempty"` // Array element type
}

// Column is a table column.
type Column struct {
	Name     string
	Type     Type
	Nullable bool
}

// Table is a table's shape as discovered on the source (or declared for a target).
type Table struct {
	Schema     string
	Name       string
	Columns    []Column
	PrimaryKey []string   // column names in key order; empty when none
	UniqueKeys [][]string `json:",omitempty"`
	// RowsEstimate and BytesEstimate come from the catalog statistics; they
	// drive progress and segmenting, never correctness.
	RowsEstimate  int64
	BytesEstimate int64
}

// QualifiedName is schema.name, for messages.
func (t *Table) QualifiedName() string { return t.Schema + "." + t.Name }

// Column returns the column named n, or nil.
func (t *Table) Column(n string) *Column {
	for i := range t.Columns {
		if t.Columns[i].Name == n {
			return &t.Columns[i]
		}
	}
	return nil
}

// Key returns the columns that identify a row: the primary key, else the
// first unique key, else nil.
func (t *Table) Key() []string {
	if len(t.PrimaryKey) > 0 {
		return t.PrimaryKey
	}
	if len(t.UniqueKeys) > 0 {
		return t.UniqueKeys[0]
	}
	return nil
}

// Row is one row's values, in the order of the columns it was read with.
// The Go type of each value follows its column's Kind (see the Kind
// constants); nil is SQL NULL.
type Row []any
