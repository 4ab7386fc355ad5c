package cdc

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/record"
)

// groupRecorder is a ChangeApplier that records the changes of each call.
type groupRecorder struct{ groups []int }

func (g *groupRecorder) ApplyTransactions(_ context.Context, _ map[string]*connector.TargetTable, txs []*record.Transaction) error {
	return g.record(txs)
}

func (g *groupRecorder) ApplyBatch(_ context.Context, _ map[string]*connector.TargetTable, txs []*record.Transaction) error {
	return g.record(txs)
}

func (g *groupRecorder) record(txs []*record.Transaction) error {
	n := 0
	for _, tx := range txs {
		n += len(tx.Changes)
	}
	g.groups = append(g.groups, n)
	return nil
}

// confirmer is the part of a ChangeStreamer the applier uses.
type confirmer struct{ connector.ChangeStreamer }

func (confirmer) Confirm(context.Context, string) error { return nil }

type noCheckpoints struct{}

func (noCheckpoints) Checkpoint(context.Context, string, map[string]*Counts, time.Duration) error {
	return nil
}

// Batch apply starts a backlog with a small group and doubles it up to
// batchMaxChanges, so that the target does not wait for a large first group
// to fill.
func TestBatchGroupsGrowFromSmall(t *testing.T) {
	rec := &groupRecorder{}
	batchBacklog(t, rec, noCheckpoints{}, 130)
	want := []int{2000, 4000, 8000, 16000, 32000, 50000, 18000}
	if !slices.Equal(rec.groups, want) {
		t.Errorf("groups = %v, want %v", rec.groups, want)
	}
}

// Transactional apply commits MinTransactionSize changes at first, then,
// while transactions keep waiting, twice the last group up to
// transactionsMaxChanges; never fewer than MinTransactionSize.
func TestTransactionGroupsGrowUnderBacklog(t *testing.T) {
	rec := &groupRecorder{}
	backlog(t, rec, noCheckpoints{}, 80, `{}`)
	want := []int{1000, 2000, 4000, 8000, 16000, 20000, 20000, 9000}
	if !slices.Equal(rec.groups, want) {
		t.Errorf("groups = %v, want %v", rec.groups, want)
	}
	rec = &groupRecorder{}
	backlog(t, rec, noCheckpoints{}, 80, `{"ChangeProcessingTuning":{"MinTransactionSize":30000}}`)
	if want := []int{30000, 30000, 20000}; !slices.Equal(rec.groups, want) {
		t.Errorf("MinTransactionSize 30000: groups = %v, want %v", rec.groups, want)
	}
}

// batchBacklog runs a batch apply loop over n transactions of 1000 inserts
// each, at positions p01, p02, ..., queued before the loop starts.
func batchBacklog(t *testing.T, ca connector.ChangeApplier, cp Checkpointer, n int) {
	t.Helper()
	backlog(t, ca, cp, n, `{"TargetMetadata":{"BatchApplyEnabled":true}}`)
}

// backlog runs an apply loop with the task settings doc over n
// transactions of 1000 inserts each, queued before the loop starts.
func backlog(t *testing.T, ca connector.ChangeApplier, cp Checkpointer, n int, doc string) {
	t.Helper()
	set, _, err := tasksettings.Parse(doc, true)
	if err != nil {
		t.Fatal(err)
	}
	a := &applier{
		job: &Job{Applier: ca, Streamer: confirmer{}, Checkpoints: cp, Settings: set},
		log: slog.New(slog.DiscardHandler),
	}
	ch := make(chan *record.Transaction, n)
	tab := &record.Table{Schema: "public", Name: "t"}
	for i := range n {
		tx := txOf(1000)
		tx.Position = fmt.Sprintf("p%02d", i+1)
		for j := range tx.Changes {
			tx.Changes[j] = record.Change{Table: tab, Op: record.OpInsert}
		}
		ch <- tx
	}
	close(ch)
	if err := a.loop(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
}
