// Package store is Godwit's state store: the single source of truth for every
// DMS resource. Describe operations read only the store; the engine writes
// progress back into it. Implementations: sqlite (the embedded default).
// Every implementation must pass storetest.Run.
package store

import (
	"context"
	"time"
)

// Kind names a family of persisted records ("replication-instance",
// "endpoint", "connection", ...). Kinds are defined by the callers; the store
// treats them as opaque strings.
type Kind string

// Record is one persisted, versioned JSON document.
type Record struct {
	Kind Kind
	// ID is unique within Kind (for example the lower-cased identifier, or a
	// composite key such as "<instance-arn>|<endpoint-arn>").
	ID string
	// ARN is unique across the whole store when non-empty.
	ARN string
	// Parent is the ARN of an owning record, or empty. RecordList can filter
	// on it (table statistics of a task, connections of an instance...).
	Parent string
	// Revision is 1 after insert and bumped by every update; RecordUpdate
	// fails with ErrConflict when the caller's Revision is not the stored one.
	Revision int64
	// Schema is the version of the document layout in Doc, chosen by the caller.
	Schema int
	// Doc is the JSON document.
	Doc       []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RecordListParams selects records; results are in creation order, then by ID.
type RecordListParams struct {
	Kind   Kind   // required
	Parent string // optional: only records with this parent
}

// Tag is a resource tag, keyed by the resource ARN.
type Tag struct {
	Key   string
	Value string
}

// Event is an append-only lifecycle event (DescribeEvents).
type Event struct {
	Seq        int64 // assigned by the store, increasing
	SourceID   string
	SourceType string
	Message    string
	Categories []string
	Date       time.Time
}

// EventListParams selects events; results are ordered by Seq.
type EventListParams struct {
	SourceID   string    // optional exact match
	SourceType string    // optional exact match
	Since      time.Time // optional, inclusive
	Until      time.Time // optional, inclusive
}

// Reader is what both a Store and a Tx can read.
type Reader interface {
	// RecordGet returns ErrNotFound when absent.
	RecordGet(ctx context.Context, kind Kind, id string) (*Record, error)
	// RecordGetByARN returns ErrNotFound when absent.
	RecordGetByARN(ctx context.Context, arn string) (*Record, error)
	RecordList(ctx context.Context, params *RecordListParams) ([]*Record, error)
	// TagList returns the tags of arn ordered by key; none is an empty slice.
	TagList(ctx context.Context, arn string) ([]Tag, error)
	EventList(ctx context.Context, params *EventListParams) ([]*Event, error)
}

// Tx is a read-write transaction. Everything done through one Tx commits or
// rolls back together.
type Tx interface {
	Reader
	// RecordInsert stores r with Revision 1 and sets r.Revision, r.CreatedAt
	// and r.UpdatedAt. ErrAlreadyExists when (Kind, ID) or a non-empty ARN is taken.
	RecordInsert(ctx context.Context, r *Record) error
	// RecordUpdate replaces Doc, Schema, Parent of the record (Kind, ID) when
	// r.Revision equals the stored revision, then bumps r.Revision and
	// r.UpdatedAt. ErrNotFound when absent, ErrConflict on a revision mismatch.
	RecordUpdate(ctx context.Context, r *Record) error
	// RecordDelete removes the record and the tags of its ARN. ErrNotFound when absent.
	RecordDelete(ctx context.Context, kind Kind, id string) error
	// TagPut adds or overwrites tags on arn (which need not be a record's ARN).
	TagPut(ctx context.Context, arn string, tags []Tag) error
	// TagDelete removes the given keys from arn; unknown keys are ignored.
	TagDelete(ctx context.Context, arn string, keys []string) error
	// EventAppend stores e and sets e.Seq.
	EventAppend(ctx context.Context, e *Event) error
}

// Store is a state store.
type Store interface {
	Reader
	// Update runs fn in one read-write transaction: fn's error (or a panic)
	// rolls everything back; otherwise it commits. Transactions are
	// serialised; Update is safe for concurrent use. Inside fn, read through
	// tx (reads through the Store do not see the transaction's writes), and
	// never call Update again: it would wait for the transaction it is in.
	Update(ctx context.Context, fn func(tx Tx) error) error
	Close() error
}
