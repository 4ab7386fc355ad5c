// Package storetest is the conformance suite every store.Store
// implementation must pass, in the manner of River's riverdrivertest: an
// implementation's own test calls
//
//	storetest.Run(t, func(t *testing.T) store.Store { ... })
//
// and gets one subtest per behaviour of the store package's contract.
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/store"
)

// Run runs the conformance suite. open must return a new, empty, open store
// each time it is called; it is called from parallel subtests. Run closes
// every store it opens when the subtest that opened it ends (Close must
// therefore be idempotent if open also arranges to close it).
//
// Persistence across a close and reopen cannot be expressed through open;
// implementations test it themselves.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	h := func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		if s == nil {
			t.Fatal("open returned a nil store")
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}

	t.Run("Record", func(t *testing.T) { t.Parallel(); testRecords(t, h) })
	t.Run("Tx", func(t *testing.T) { t.Parallel(); testTx(t, h) })
	t.Run("Tag", func(t *testing.T) { t.Parallel(); testTags(t, h) })
	t.Run("Event", func(t *testing.T) { t.Parallel(); testEvents(t, h) })
	t.Run("Concurrency", func(t *testing.T) { t.Parallel(); testConcurrency(t, h) })
	t.Run("Context", func(t *testing.T) { t.Parallel(); testContext(t, h) })
	t.Run("Close", func(t *testing.T) { t.Parallel(); testClose(t, h) })
}

type opener func(t *testing.T) store.Store

const (
	kindA store.Kind = "storetest-a"
	kindB store.Kind = "storetest-b"
)

var errBoom = errors.New("storetest: boom")

// newRecord returns a record with a small JSON document naming it.
func newRecord(kind store.Kind, id, arn string) *store.Record {
	return &store.Record{
		Kind:   kind,
		ID:     id,
		ARN:    arn,
		Schema: 1,
		Doc:    fmt.Appendf(nil, `{"id":%q}`, id),
	}
}

// update runs fn in s.Update and fails the test on error.
func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// insert inserts records in one transaction and returns them as stored.
func insert(t *testing.T, s store.Store, rs ...*store.Record) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, r := range rs {
			if err := tx.RecordInsert(t.Context(), r); err != nil {
				return fmt.Errorf("insert %s/%s: %w", r.Kind, r.ID, err)
			}
		}
		return nil
	})
}

func get(t *testing.T, r store.Reader, kind store.Kind, id string) *store.Record {
	t.Helper()
	got, err := r.RecordGet(t.Context(), kind, id)
	if err != nil {
		t.Fatalf("RecordGet(%s, %s): %v", kind, id, err)
	}
	return got
}

func requireIs(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want one wrapping %v", what, err, target)
	}
}

func requireNotFound(t *testing.T, r store.Reader, kind store.Kind, id string) {
	t.Helper()
	_, err := r.RecordGet(t.Context(), kind, id)
	requireIs(t, err, store.ErrNotFound, fmt.Sprintf("RecordGet(%s, %s)", kind, id))
}

// requireRecord fails unless got equals want field by field (times with
// time.Equal, documents byte for byte) and got's times are in UTC.
func requireRecord(t *testing.T, want, got *store.Record) {
	t.Helper()
	if got == nil {
		t.Fatalf("got nil record, want %s/%s", want.Kind, want.ID)
	}
	if got.Kind != want.Kind || got.ID != want.ID || got.ARN != want.ARN || got.Parent != want.Parent ||
		got.Revision != want.Revision || got.Schema != want.Schema {
		t.Fatalf("record mismatch:\n got  %s\n want %s", describe(got), describe(want))
	}
	if !bytes.Equal(got.Doc, want.Doc) {
		t.Fatalf("record %s/%s: doc\n got  %q\n want %q", want.Kind, want.ID, got.Doc, want.Doc)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("record %s/%s: times got created %s updated %s, want created %s updated %s",
			want.Kind, want.ID, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
	requireUTC(t, got.CreatedAt, "CreatedAt")
	requireUTC(t, got.UpdatedAt, "UpdatedAt")
}

func requireUTC(t *testing.T, ts time.Time, what string) {
	t.Helper()
	if ts.Location() != time.UTC {
		t.Fatalf("%s %s is in %s, want UTC", what, ts, ts.Location())
	}
}

func describe(r *store.Record) string {
	return fmt.Sprintf("{Kind:%s ID:%s ARN:%s Parent:%s Revision:%d Schema:%d}", r.Kind, r.ID, r.ARN, r.Parent, r.Revision, r.Schema)
}

// ids returns the IDs of rs in order.
func ids(rs []*store.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func requireStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: got %q, want %q", what, got, want)
		}
	}
}
