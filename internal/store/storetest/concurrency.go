package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/godwit-dms/godwit/internal/store"
)

const (
	goroutines = 8
	increments = 25
)

type counterDoc struct {
	N int `json:"n"`
}

func bump(r *store.Record) error {
	var d counterDoc
	if err := json.Unmarshal(r.Doc, &d); err != nil {
		return err
	}
	d.N++
	doc, err := json.Marshal(d)
	if err != nil {
		return err
	}
	r.Doc = doc
	return nil
}

func requireCount(t *testing.T, s store.Store, id string) {
	t.Helper()
	got := get(t, s, kindA, id)
	var d counterDoc
	if err := json.Unmarshal(got.Doc, &d); err != nil {
		t.Fatalf("counter doc %q: %v", got.Doc, err)
	}
	const want = goroutines * increments
	if d.N != want || got.Revision != want+1 {
		t.Fatalf("counter = %d at revision %d, want %d at revision %d", d.N, got.Revision, want, want+1)
	}
}

// hammer runs step goroutines*increments times from goroutines goroutines.
func hammer(t *testing.T, step func() error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range increments {
				if err := step(); err != nil {
					errs <- fmt.Errorf("goroutine %d increment %d: %w", g, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

func testConcurrency(t *testing.T, open opener) {
	t.Run("OptimisticUpdates", func(t *testing.T) {
		// Read outside a transaction, write with the revision read, retry
		// on ErrConflict: no update is lost and none fails otherwise.
		t.Parallel()
		s := open(t)
		ctx := t.Context()
		insert(t, s, &store.Record{Kind: kindA, ID: "counter", Doc: []byte(`{"n":0}`)})
		hammer(t, func() error {
			for {
				r, err := s.RecordGet(ctx, kindA, "counter")
				if err != nil {
					return err
				}
				if err := bump(r); err != nil {
					return err
				}
				err = s.Update(ctx, func(tx store.Tx) error { return tx.RecordUpdate(ctx, r) })
				if errors.Is(err, store.ErrConflict) {
					continue
				}
				return err
			}
		})
		requireCount(t, s, "counter")
	})

	t.Run("SerialisedTransactions", func(t *testing.T) {
		// Read-modify-write inside one transaction never conflicts, because
		// transactions are serialised.
		t.Parallel()
		s := open(t)
		ctx := t.Context()
		insert(t, s, &store.Record{Kind: kindA, ID: "counter", Doc: []byte(`{"n":0}`)})
		hammer(t, func() error {
			return s.Update(ctx, func(tx store.Tx) error {
				r, err := tx.RecordGet(ctx, kindA, "counter")
				if err != nil {
					return err
				}
				if err := bump(r); err != nil {
					return err
				}
				if err := tx.RecordUpdate(ctx, r); err != nil {
					return err
				}
				return tx.EventAppend(ctx, &store.Event{SourceID: "counter", SourceType: "test", Message: string(r.Doc)})
			})
		})
		requireCount(t, s, "counter")
		events, err := s.EventList(ctx, &store.EventListParams{SourceID: "counter"})
		if err != nil {
			t.Fatalf("EventList: %v", err)
		}
		if len(events) != goroutines*increments {
			t.Fatalf("%d events, want %d", len(events), goroutines*increments)
		}
		// Seq order is commit order, so the counter in the messages climbs.
		for i, e := range events {
			if want := fmt.Sprintf(`{"n":%d}`, i+1); e.Message != want {
				t.Fatalf("event %d message %s, want %s", i, e.Message, want)
			}
		}
	})
}
