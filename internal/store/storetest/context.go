package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/godwit-dms/godwit/internal/store"
)

func testContext(t *testing.T, open opener) {
	t.Run("CanceledBeforeCall", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		r := newRecord(kindA, "r", "arn:test:r")
		insert(t, s, r)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		requireCanceled := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%s with a canceled context: got %v, want context.Canceled", what, err)
			}
		}
		_, err := s.RecordGet(ctx, kindA, "r")
		requireCanceled("RecordGet", err)
		_, err = s.RecordGetByARN(ctx, r.ARN)
		requireCanceled("RecordGetByARN", err)
		_, err = s.RecordList(ctx, &store.RecordListParams{Kind: kindA})
		requireCanceled("RecordList", err)
		_, err = s.TagList(ctx, r.ARN)
		requireCanceled("TagList", err)
		_, err = s.EventList(ctx, &store.EventListParams{})
		requireCanceled("EventList", err)
		err = s.Update(ctx, func(tx store.Tx) error {
			return tx.RecordInsert(ctx, newRecord(kindA, "never", ""))
		})
		requireCanceled("Update", err)
		requireNotFound(t, s, kindA, "never")
	})

	t.Run("CanceledBeforeCommit", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		err := s.Update(ctx, func(tx store.Tx) error {
			if err := tx.RecordInsert(ctx, newRecord(kindA, "never", "")); err != nil {
				return err
			}
			cancel()
			return nil
		})
		if err == nil {
			t.Fatal("Update whose context was canceled before commit returned nil")
		}
		requireNotFound(t, s, kindA, "never")
		// The store recovers.
		insert(t, s, newRecord(kindA, "after", ""))
	})

	t.Run("CanceledInsideTx", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		err := s.Update(t.Context(), func(tx store.Tx) error {
			cancel()
			if err := tx.RecordInsert(ctx, newRecord(kindA, "never", "")); !errors.Is(err, context.Canceled) {
				t.Errorf("tx.RecordInsert with a canceled context: got %v, want context.Canceled", err)
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update: got %v, want fn's error", err)
		}
		requireNotFound(t, s, kindA, "never")
	})
}

func testClose(t *testing.T, open opener) {
	t.Run("Idempotent", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		insert(t, s, newRecord(kindA, "r", ""))
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := s.RecordGet(t.Context(), kindA, "r"); err == nil {
			t.Fatal("RecordGet after Close returned no error")
		}
		if err := s.Update(t.Context(), func(store.Tx) error { return nil }); err == nil {
			t.Fatal("Update after Close returned no error")
		}
	})
}
