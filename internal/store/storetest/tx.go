package storetest

import (
	"errors"
	"testing"

	"github.com/godwit-dms/godwit/internal/store"
)

func testTx(t *testing.T, open opener) {
	// fixture is a store with two records, one tagged, and one event;
	// writeEverything changes all of it inside tx; untouched checks that
	// nothing did change.
	type fixture struct {
		s          store.Store
		keep, gone *store.Record
	}
	setup := func(t *testing.T) fixture {
		s := open(t)
		f := fixture{s: s, keep: newRecord(kindA, "keep", "arn:test:keep"), gone: newRecord(kindA, "gone", "arn:test:gone")}
		insert(t, s, f.keep, f.gone)
		update(t, s, func(tx store.Tx) error {
			if err := tx.TagPut(t.Context(), f.keep.ARN, []store.Tag{{Key: "a", Value: "1"}}); err != nil {
				return err
			}
			return tx.EventAppend(t.Context(), &store.Event{SourceID: "keep", SourceType: "test", Message: "before"})
		})
		return f
	}
	writeEverything := func(t *testing.T, f fixture, tx store.Tx) {
		t.Helper()
		ctx := t.Context()
		must := func(what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s inside the transaction: %v", what, err)
			}
		}
		must("RecordInsert", tx.RecordInsert(ctx, newRecord(kindA, "new", "arn:test:new")))
		must("TagPut new", tx.TagPut(ctx, "arn:test:new", []store.Tag{{Key: "n", Value: "1"}}))
		changed := *f.keep
		changed.Doc = []byte(`{"changed":true}`)
		must("RecordUpdate", tx.RecordUpdate(ctx, &changed))
		must("TagPut keep", tx.TagPut(ctx, f.keep.ARN, []store.Tag{{Key: "a", Value: "2"}, {Key: "b", Value: "2"}}))
		must("TagPut loose", tx.TagPut(ctx, "arn:test:loose", []store.Tag{{Key: "l", Value: "1"}}))
		must("RecordDelete", tx.RecordDelete(ctx, kindA, "gone"))
		must("TagDelete", tx.TagDelete(ctx, f.keep.ARN, []string{"a"}))
		must("EventAppend", tx.EventAppend(ctx, &store.Event{SourceID: "keep", SourceType: "test", Message: "inside"}))
	}
	untouched := func(t *testing.T, f fixture) {
		t.Helper()
		requireNotFound(t, f.s, kindA, "new")
		if _, err := f.s.RecordGetByARN(t.Context(), "arn:test:new"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ARN of rolled-back insert: %v", err)
		}
		requireRecord(t, f.keep, get(t, f.s, kindA, "keep"))
		requireRecord(t, f.gone, get(t, f.s, kindA, "gone"))
		requireTags(t, f.s, f.keep.ARN, []store.Tag{{Key: "a", Value: "1"}})
		requireTags(t, f.s, "arn:test:new", nil)
		requireTags(t, f.s, "arn:test:loose", nil)
		events, err := f.s.EventList(t.Context(), &store.EventListParams{})
		if err != nil {
			t.Fatalf("EventList: %v", err)
		}
		if len(events) != 1 || events[0].Message != "before" {
			t.Fatalf("events after rollback: %d, want only the one from setup", len(events))
		}
	}

	t.Run("RollbackOnError", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		err := f.s.Update(t.Context(), func(tx store.Tx) error {
			writeEverything(t, f, tx)
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update returned %v, want fn's error", err)
		}
		untouched(t, f)
		// The store is still writable.
		insert(t, f.s, newRecord(kindB, "after", ""))
	})

	t.Run("RollbackOnPanic", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		type boom struct{ n int }
		func() {
			defer func() {
				if got := recover(); got != (boom{42}) {
					t.Fatalf("recovered %v, want the panic from fn", got)
				}
			}()
			_ = f.s.Update(t.Context(), func(tx store.Tx) error {
				writeEverything(t, f, tx)
				panic(boom{42})
			})
			t.Fatal("Update returned although fn panicked")
		}()
		untouched(t, f)
		insert(t, f.s, newRecord(kindB, "after", ""))
	})

	t.Run("Commit", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		update(t, f.s, func(tx store.Tx) error { writeEverything(t, f, tx); return nil })
		get(t, f.s, kindA, "new")
		requireNotFound(t, f.s, kindA, "gone")
		if got := get(t, f.s, kindA, "keep"); got.Revision != 2 {
			t.Fatalf("keep has Revision %d, want 2", got.Revision)
		}
		requireTags(t, f.s, f.keep.ARN, []store.Tag{{Key: "b", Value: "2"}})
		requireTags(t, f.s, "arn:test:new", []store.Tag{{Key: "n", Value: "1"}})
		requireTags(t, f.s, "arn:test:loose", []store.Tag{{Key: "l", Value: "1"}})
	})

	t.Run("ReadsOwnWrites", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		ctx := t.Context()
		update(t, f.s, func(tx store.Tx) error {
			writeEverything(t, f, tx)
			if _, err := tx.RecordGet(ctx, kindA, "new"); err != nil {
				t.Fatalf("tx.RecordGet of own insert: %v", err)
			}
			if _, err := tx.RecordGetByARN(ctx, "arn:test:new"); err != nil {
				t.Fatalf("tx.RecordGetByARN of own insert: %v", err)
			}
			requireNotFound(t, tx, kindA, "gone")
			if got := get(t, tx, kindA, "keep"); string(got.Doc) != `{"changed":true}` || got.Revision != 2 {
				t.Fatalf("tx.RecordGet after own update: doc %s revision %d", got.Doc, got.Revision)
			}
			list, err := tx.RecordList(ctx, &store.RecordListParams{Kind: kindA})
			if err != nil {
				t.Fatalf("tx.RecordList: %v", err)
			}
			requireStrings(t, "tx.RecordList", ids(list), []string{"keep", "new"})
			requireTags(t, tx, f.keep.ARN, []store.Tag{{Key: "b", Value: "2"}})
			requireTags(t, tx, "arn:test:new", []store.Tag{{Key: "n", Value: "1"}})
			events, err := tx.EventList(ctx, &store.EventListParams{})
			if err != nil {
				t.Fatalf("tx.EventList: %v", err)
			}
			if len(events) != 2 || events[1].Message != "inside" {
				t.Fatalf("tx.EventList: %d events, want 2 ending with the one appended here", len(events))
			}

			// Outside the transaction nothing is visible yet.
			requireNotFound(t, f.s, kindA, "new")
			get(t, f.s, kindA, "gone")
			requireTags(t, f.s, f.keep.ARN, []store.Tag{{Key: "a", Value: "1"}})
			return nil
		})
	})

	t.Run("UsableAfterError", func(t *testing.T) {
		// A failed write does not poison the transaction: the caller may
		// handle the error and carry on (or return it and roll back).
		t.Parallel()
		f := setup(t)
		ctx := t.Context()
		update(t, f.s, func(tx store.Tx) error {
			requireIs(t, tx.RecordInsert(ctx, newRecord(kindA, "keep", "")), store.ErrAlreadyExists, "duplicate insert")
			stale := *f.keep
			stale.Revision = 7
			requireIs(t, tx.RecordUpdate(ctx, &stale), store.ErrConflict, "stale update")
			requireIs(t, tx.RecordDelete(ctx, kindA, "missing"), store.ErrNotFound, "delete missing")
			return tx.RecordInsert(ctx, newRecord(kindA, "new", ""))
		})
		get(t, f.s, kindA, "new")
		requireRecord(t, f.keep, get(t, f.s, kindA, "keep"))
	})

	t.Run("UseAfterEnd", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		for _, result := range []error{nil, errBoom} {
			var leaked store.Tx
			_ = f.s.Update(t.Context(), func(tx store.Tx) error { leaked = tx; return result })
			requireEndedTx(t, leaked)
		}
		func() {
			var leaked store.Tx
			defer func() {
				_ = recover()
				requireEndedTx(t, leaked)
			}()
			_ = f.s.Update(t.Context(), func(tx store.Tx) error { leaked = tx; panic("boom") })
		}()
		requireRecord(t, f.keep, get(t, f.s, kindA, "keep"))
	})
}

// requireEndedTx checks that every method of a finished tx returns an error
// rather than panicking or writing.
func requireEndedTx(t *testing.T, tx store.Tx) {
	t.Helper()
	ctx := t.Context()
	calls := map[string]func() error{
		"RecordGet":      func() error { _, err := tx.RecordGet(ctx, kindA, "keep"); return err },
		"RecordGetByARN": func() error { _, err := tx.RecordGetByARN(ctx, "arn:test:keep"); return err },
		"RecordList": func() error {
			_, err := tx.RecordList(ctx, &store.RecordListParams{Kind: kindA})
			return err
		},
		"TagList":      func() error { _, err := tx.TagList(ctx, "arn:test:keep"); return err },
		"EventList":    func() error { _, err := tx.EventList(ctx, &store.EventListParams{}); return err },
		"RecordInsert": func() error { return tx.RecordInsert(ctx, newRecord(kindA, "late", "")) },
		"RecordUpdate": func() error { return tx.RecordUpdate(ctx, newRecord(kindA, "keep", "")) },
		"RecordDelete": func() error { return tx.RecordDelete(ctx, kindA, "keep") },
		"TagPut":       func() error { return tx.TagPut(ctx, "arn:test:keep", []store.Tag{{Key: "late", Value: "1"}}) },
		"TagDelete":    func() error { return tx.TagDelete(ctx, "arn:test:keep", []string{"a"}) },
		"EventAppend":  func() error { return tx.EventAppend(ctx, &store.Event{SourceID: "late", SourceType: "test"}) },
	}
	for name, call := range calls {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s on an ended transaction panicked: %v", name, p)
				}
			}()
			if err := call(); err == nil {
				t.Errorf("%s on an ended transaction returned no error", name)
			}
		}()
	}
}
