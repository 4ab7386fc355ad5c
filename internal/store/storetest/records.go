package storetest

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/store"
)

func testRecords(t *testing.T, open opener) {
	t.Run("InsertGet", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		before := time.Now()
		r := newRecord(kindA, "one", "arn:test:one")
		r.Parent = "arn:test:parent"
		r.Schema = 7
		insert(t, s, r)
		after := time.Now()

		if r.Revision != 1 {
			t.Fatalf("Revision after insert = %d, want 1", r.Revision)
		}
		if !r.CreatedAt.Equal(r.UpdatedAt) {
			t.Fatalf("after insert CreatedAt %s != UpdatedAt %s", r.CreatedAt, r.UpdatedAt)
		}
		// Allow for a store that keeps less than nanosecond precision.
		if r.CreatedAt.Before(before.Add(-time.Second)) || r.CreatedAt.After(after.Add(time.Second)) {
			t.Fatalf("CreatedAt %s is not between %s and %s", r.CreatedAt, before, after)
		}
		requireUTC(t, r.CreatedAt, "CreatedAt")

		requireRecord(t, r, get(t, s, kindA, "one"))
		byARN, err := s.RecordGetByARN(t.Context(), "arn:test:one")
		if err != nil {
			t.Fatalf("RecordGetByARN: %v", err)
		}
		requireRecord(t, r, byARN)
	})

	t.Run("IDUniquePerKind", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		insert(t, s, newRecord(kindA, "same", ""), newRecord(kindB, "same", ""))
		if got := get(t, s, kindB, "same"); got.Kind != kindB {
			t.Fatalf("got kind %s, want %s", got.Kind, kindB)
		}
	})

	t.Run("DuplicateID", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		insert(t, s, newRecord(kindA, "dup", "arn:test:first"))
		again := newRecord(kindA, "dup", "arn:test:second")
		err := s.Update(t.Context(), func(tx store.Tx) error { return tx.RecordInsert(t.Context(), again) })
		requireIs(t, err, store.ErrAlreadyExists, "insert duplicate ID")
		if again.Revision != 0 {
			t.Fatalf("failed insert set Revision to %d", again.Revision)
		}
		if got := get(t, s, kindA, "dup"); got.ARN != "arn:test:first" {
			t.Fatalf("stored ARN %q changed by the failed insert", got.ARN)
		}
		_, err = s.RecordGetByARN(t.Context(), "arn:test:second")
		requireIs(t, err, store.ErrNotFound, "ARN of failed insert")
	})

	t.Run("DuplicateARN", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		insert(t, s, newRecord(kindA, "first", "arn:test:taken"))
		err := s.Update(t.Context(), func(tx store.Tx) error {
			return tx.RecordInsert(t.Context(), newRecord(kindB, "second", "arn:test:taken"))
		})
		requireIs(t, err, store.ErrAlreadyExists, "insert duplicate ARN under another kind")
		requireNotFound(t, s, kindB, "second")
	})

	t.Run("EmptyARNManyTimes", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		insert(t, s, newRecord(kindA, "x", ""), newRecord(kindA, "y", ""), newRecord(kindB, "z", ""))
		insert(t, s, newRecord(kindA, "w", ""))
		list, err := s.RecordList(t.Context(), &store.RecordListParams{Kind: kindA})
		if err != nil {
			t.Fatalf("RecordList: %v", err)
		}
		requireStrings(t, "kind A", ids(list), []string{"x", "y", "w"})
		_, err = s.RecordGetByARN(t.Context(), "")
		requireIs(t, err, store.ErrNotFound, "RecordGetByARN(\"\")")
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		r := newRecord(kindA, "u", "arn:test:u")
		insert(t, s, r)
		created, firstUpdated := r.CreatedAt, r.UpdatedAt

		r.Doc = []byte(`{"changed":true}`)
		r.Schema = 2
		r.Parent = "arn:test:new-parent"
		update(t, s, func(tx store.Tx) error { return tx.RecordUpdate(t.Context(), r) })
		if r.Revision != 2 {
			t.Fatalf("Revision after update = %d, want 2", r.Revision)
		}
		if !r.UpdatedAt.After(firstUpdated) {
			t.Fatalf("UpdatedAt %s did not move past %s", r.UpdatedAt, firstUpdated)
		}
		if !r.CreatedAt.Equal(created) {
			t.Fatalf("update changed the caller's CreatedAt to %s", r.CreatedAt)
		}
		got := get(t, s, kindA, "u")
		requireRecord(t, r, got)

		// A second update from the fresh copy works and keeps CreatedAt.
		got.Doc = []byte(`{"changed":"again"}`)
		update(t, s, func(tx store.Tx) error { return tx.RecordUpdate(t.Context(), got) })
		if got.Revision != 3 || !got.UpdatedAt.After(r.UpdatedAt) {
			t.Fatalf("second update: Revision %d UpdatedAt %s (previous %s)", got.Revision, got.UpdatedAt, r.UpdatedAt)
		}
		requireRecord(t, got, get(t, s, kindA, "u"))
		if !get(t, s, kindA, "u").CreatedAt.Equal(created) {
			t.Fatal("update changed the stored CreatedAt")
		}
	})

	t.Run("UpdateLeavesARN", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		r := newRecord(kindA, "keep-arn", "arn:test:keep")
		insert(t, s, r)
		r.ARN = "arn:test:other"
		update(t, s, func(tx store.Tx) error { return tx.RecordUpdate(t.Context(), r) })
		if got := get(t, s, kindA, "keep-arn"); got.ARN != "arn:test:keep" {
			t.Fatalf("RecordUpdate changed the ARN to %q; it replaces only Doc, Schema and Parent", got.ARN)
		}
	})

	t.Run("UpdateWrongRevision", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		r := newRecord(kindA, "c", "")
		insert(t, s, r)
		stale := *r
		r.Doc = []byte(`{"v":2}`)
		update(t, s, func(tx store.Tx) error { return tx.RecordUpdate(t.Context(), r) })

		for _, rev := range []int64{stale.Revision, 0, 3, 99} {
			attempt := stale
			attempt.Revision = rev
			attempt.Doc = []byte(`{"v":"lost"}`)
			err := s.Update(t.Context(), func(tx store.Tx) error { return tx.RecordUpdate(t.Context(), &attempt) })
			requireIs(t, err, store.ErrConflict, "update with revision "+itoa(rev))
			if attempt.Revision != rev {
				t.Fatalf("failed update changed the caller's Revision from %d to %d", rev, attempt.Revision)
			}
		}
		requireRecord(t, r, get(t, s, kindA, "c"))
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		gone := newRecord(kindA, "gone", "arn:test:gone")
		kept := newRecord(kindA, "kept", "arn:test:kept")
		insert(t, s, gone, kept)
		update(t, s, func(tx store.Tx) error {
			if err := tx.TagPut(t.Context(), gone.ARN, []store.Tag{{Key: "k", Value: "v"}}); err != nil {
				return err
			}
			return tx.TagPut(t.Context(), kept.ARN, []store.Tag{{Key: "k", Value: "v"}})
		})
		update(t, s, func(tx store.Tx) error { return tx.RecordDelete(t.Context(), kindA, "gone") })

		requireNotFound(t, s, kindA, "gone")
		_, err := s.RecordGetByARN(t.Context(), gone.ARN)
		requireIs(t, err, store.ErrNotFound, "RecordGetByARN after delete")
		requireTags(t, s, gone.ARN, nil)
		requireTags(t, s, kept.ARN, []store.Tag{{Key: "k", Value: "v"}})
		requireRecord(t, kept, get(t, s, kindA, "kept"))

		err = s.Update(t.Context(), func(tx store.Tx) error { return tx.RecordDelete(t.Context(), kindA, "gone") })
		requireIs(t, err, store.ErrNotFound, "second delete")

		// The ID and ARN are free again.
		again := newRecord(kindA, "gone", "arn:test:gone")
		insert(t, s, again)
		if again.Revision != 1 {
			t.Fatalf("re-inserted record has Revision %d, want 1", again.Revision)
		}
		requireTags(t, s, again.ARN, nil)
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ctx := t.Context()
		requireNotFound(t, s, kindA, "missing")
		_, err := s.RecordGetByARN(ctx, "arn:test:missing")
		requireIs(t, err, store.ErrNotFound, "RecordGetByARN")
		err = s.Update(ctx, func(tx store.Tx) error {
			return tx.RecordUpdate(ctx, &store.Record{Kind: kindA, ID: "missing", Revision: 1, Doc: []byte(`{}`)})
		})
		requireIs(t, err, store.ErrNotFound, "RecordUpdate")
		err = s.Update(ctx, func(tx store.Tx) error { return tx.RecordDelete(ctx, kindA, "missing") })
		requireIs(t, err, store.ErrNotFound, "RecordDelete")
		// Same ID under another kind is still missing.
		insert(t, s, newRecord(kindB, "missing", ""))
		requireNotFound(t, s, kindA, "missing")
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		parent1, parent2 := "arn:test:p1", "arn:test:p2"
		mk := func(kind store.Kind, id, parent string) *store.Record {
			r := newRecord(kind, id, "")
			r.Parent = parent
			return r
		}
		// IDs deliberately out of alphabetical order, kinds interleaved,
		// across several transactions and within one.
		insert(t, s, mk(kindA, "c", parent1))
		insert(t, s, mk(kindB, "b", parent1))
		insert(t, s, mk(kindA, "a", parent2))
		insert(t, s, mk(kindA, "e", parent1), mk(kindA, "d", ""), mk(kindB, "a", parent2))

		list := func(p store.RecordListParams) []string {
			t.Helper()
			rs, err := s.RecordList(t.Context(), &p)
			if err != nil {
				t.Fatalf("RecordList(%+v): %v", p, err)
			}
			for _, r := range rs {
				requireRecord(t, r, get(t, s, r.Kind, r.ID))
			}
			return ids(rs)
		}
		requireStrings(t, "kind A", list(store.RecordListParams{Kind: kindA}), []string{"c", "a", "e", "d"})
		requireStrings(t, "kind B", list(store.RecordListParams{Kind: kindB}), []string{"b", "a"})
		requireStrings(t, "kind A parent 1", list(store.RecordListParams{Kind: kindA, Parent: parent1}), []string{"c", "e"})
		requireStrings(t, "kind B parent 2", list(store.RecordListParams{Kind: kindB, Parent: parent2}), []string{"a"})
		requireStrings(t, "unknown parent", list(store.RecordListParams{Kind: kindA, Parent: "arn:test:none"}), []string{})
		requireStrings(t, "unknown kind", list(store.RecordListParams{Kind: "storetest-none"}), []string{})

		// Updating does not move a record in creation order.
		c := get(t, s, kindA, "c")
		update(t, s, func(tx store.Tx) error { return tx.RecordUpdate(t.Context(), c) })
		requireStrings(t, "kind A after update", list(store.RecordListParams{Kind: kindA}), []string{"c", "a", "e", "d"})
	})

	t.Run("DocRoundTrip", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		docs := [][]byte{
			[]byte(`{"b":1,"a":2}`),
			[]byte("  {\n\t\"a\" : [1, 2.50, 1e3, -0, 1E+2]\n}\n"),
			[]byte(`{"s":"é\u00e9 \ud83d\ude00 日本 \"q\" \\ \/ \b\f\n\r\t \u0000"}`),
			[]byte(`{"dup":1,"dup":2}`),
			[]byte(`{"big":123456789012345678901234567890,"tiny":1e-400}`),
			[]byte(`[]`),
			[]byte(`"just a string"`),
			[]byte(`{"big":"` + strings.Repeat("x", 1<<20) + `"}`),
		}
		var rs []*store.Record
		for i, d := range docs {
			r := newRecord(kindA, "doc-"+itoa(int64(i)), "")
			r.Doc = bytes.Clone(d)
			rs = append(rs, r)
		}
		insert(t, s, rs...)
		for i, d := range docs {
			if got := get(t, s, kindA, rs[i].ID); !bytes.Equal(got.Doc, d) {
				t.Fatalf("doc %d: got %.200q, want %.200q", i, got.Doc, d)
			}
		}
		list, err := s.RecordList(t.Context(), &store.RecordListParams{Kind: kindA})
		if err != nil {
			t.Fatalf("RecordList: %v", err)
		}
		for i, r := range list {
			if !bytes.Equal(r.Doc, docs[i]) {
				t.Fatalf("listed doc %d differs", i)
			}
		}
		// Through an update too, and the caller's slice is not retained.
		r := rs[0]
		r.Doc = append([]byte(nil), docs[1]...)
		update(t, s, func(tx store.Tx) error { return tx.RecordUpdate(t.Context(), r) })
		r.Doc[0] = 'X'
		if got := get(t, s, kindA, r.ID); !bytes.Equal(got.Doc, docs[1]) {
			t.Fatalf("updated doc: got %q, want %q", got.Doc, docs[1])
		}
	})

	t.Run("ListRequiresKind", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		if _, err := s.RecordList(t.Context(), &store.RecordListParams{}); err == nil {
			t.Fatal("RecordList without Kind succeeded")
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
