package storetest

import (
	"testing"

	"github.com/godwit-dms/godwit/internal/store"
)

// requireTags fails unless the tags of arn are exactly want, in order.
func requireTags(t *testing.T, r store.Reader, arn string, want []store.Tag) {
	t.Helper()
	got, err := r.TagList(t.Context(), arn)
	if err != nil {
		t.Fatalf("TagList(%s): %v", arn, err)
	}
	if got == nil {
		t.Fatalf("TagList(%s) returned nil, want an empty slice", arn)
	}
	if len(got) != len(want) {
		t.Fatalf("TagList(%s) = %v, want %v", arn, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("TagList(%s) = %v, want %v", arn, got, want)
		}
	}
}

func testTags(t *testing.T, open opener) {
	t.Run("PutOverwriteDelete", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ctx := t.Context()
		r := newRecord(kindA, "tagged", "arn:test:tagged")
		insert(t, s, r)
		requireTags(t, s, r.ARN, nil)

		update(t, s, func(tx store.Tx) error {
			return tx.TagPut(ctx, r.ARN, []store.Tag{{Key: "b", Value: "2"}, {Key: "a", Value: "1"}})
		})
		requireTags(t, s, r.ARN, []store.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}})

		update(t, s, func(tx store.Tx) error {
			return tx.TagPut(ctx, r.ARN, []store.Tag{{Key: "b", Value: "20"}, {Key: "c", Value: ""}})
		})
		requireTags(t, s, r.ARN, []store.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "20"}, {Key: "c", Value: ""}})

		update(t, s, func(tx store.Tx) error { return tx.TagDelete(ctx, r.ARN, []string{"b", "unknown"}) })
		requireTags(t, s, r.ARN, []store.Tag{{Key: "a", Value: "1"}, {Key: "c", Value: ""}})

		update(t, s, func(tx store.Tx) error {
			if err := tx.TagPut(ctx, r.ARN, nil); err != nil {
				return err
			}
			return tx.TagDelete(ctx, r.ARN, nil)
		})
		requireTags(t, s, r.ARN, []store.Tag{{Key: "a", Value: "1"}, {Key: "c", Value: ""}})
		// Tagging does not touch the record.
		requireRecord(t, r, get(t, s, kindA, "tagged"))
	})

	t.Run("OrderedByKeyBytes", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		arn := "arn:test:order"
		update(t, s, func(tx store.Tx) error {
			return tx.TagPut(t.Context(), arn, []store.Tag{
				{Key: "alpha"}, {Key: "Zeta"}, {Key: "beta"}, {Key: "Beta"}, {Key: "a b"}, {Key: "aws:x"}, {Key: "é"},
			})
		})
		requireTags(t, s, arn, []store.Tag{
			{Key: "Beta"}, {Key: "Zeta"}, {Key: "a b"}, {Key: "alpha"}, {Key: "aws:x"}, {Key: "beta"}, {Key: "é"},
		})
	})

	t.Run("ARNWithoutRecord", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		arn := "arn:test:not-a-record"
		update(t, s, func(tx store.Tx) error {
			return tx.TagPut(t.Context(), arn, []store.Tag{{Key: "k", Value: "v"}})
		})
		requireTags(t, s, arn, []store.Tag{{Key: "k", Value: "v"}})
		requireTags(t, s, "arn:test:other", nil)
		update(t, s, func(tx store.Tx) error { return tx.TagDelete(t.Context(), arn, []string{"k"}) })
		requireTags(t, s, arn, nil)
	})
}
