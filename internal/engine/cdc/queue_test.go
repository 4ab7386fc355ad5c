package cdc

import (
	"context"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

func txOf(n int) *record.Transaction {
	return &record.Transaction{Changes: make([]record.Change, n)}
}

// The queue holds up to maxQueuedChanges changes: a put beyond waits until
// the applier takes some; a transaction larger than the bound goes alone.
func TestQueueBoundsChanges(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q := newQueue()
	if err := q.put(ctx, txOf(maxQueuedChanges-10)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- q.put(ctx, txOf(20)) }()
	select {
	case err := <-done:
		t.Fatalf("a put beyond the bound returned at once (%v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	q.took(<-q.ch)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	q.took(<-q.ch)
	if err := q.put(ctx, txOf(3*maxQueuedChanges)); err != nil {
		t.Fatalf("a transaction larger than the bound into an empty queue: %v", err)
	}
	if got := q.queued.Load(); got != 3*maxQueuedChanges {
		t.Errorf("queued = %d", got)
	}
	short, stop := context.WithCancel(ctx)
	stop()
	if err := q.put(short, txOf(1)); err == nil {
		t.Error("a put into a full queue with a done context returned nil")
	}
}
