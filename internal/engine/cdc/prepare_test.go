package cdc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// preparer is a BatchPreparer that logs what happens, in order. The apply
// of the group numbered stall waits until the next group is prepared (or
// fails after a while); the group numbered reject fails with ErrRowRejected.
type preparer struct {
	mu       sync.Mutex
	events   []string
	prepared int
	next     chan struct{} // closed when group stall+1 is prepared
	stall    int
	reject   int
	oneByOne int // ApplyTransactions calls
}

func (p *preparer) log(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, fmt.Sprintf(format, args...))
}

func (p *preparer) ApplyTransactions(context.Context, map[string]*connector.TargetTable, []*record.Transaction) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.oneByOne++
	return nil
}

func (p *preparer) ApplyBatch(context.Context, map[string]*connector.TargetTable, []*record.Transaction) error {
	return errors.New("ApplyBatch called on a BatchPreparer")
}

func (p *preparer) PrepareBatch(_ context.Context, _ map[string]*connector.TargetTable, txs []*record.Transaction) (connector.PreparedBatch, error) {
	p.mu.Lock()
	p.prepared++
	n := p.prepared
	p.mu.Unlock()
	p.log("prepare %d", n)
	if n == p.stall+1 {
		close(p.next)
	}
	return &prepared{p: p, n: n}, nil
}

type prepared struct {
	p *preparer
	n int
}

func (b *prepared) Apply(context.Context) error {
	b.p.log("apply %d", b.n)
	if b.n == b.p.stall {
		select {
		case <-b.p.next:
		case <-time.After(5 * time.Second):
			return errors.New("the next group was not prepared while this one applied")
		}
	}
	if b.n == b.p.reject {
		return fmt.Errorf("%w: group %d", connector.ErrRowRejected, b.n)
	}
	b.p.log("applied %d", b.n)
	return nil
}

// checkpointLog logs each checkpoint into the preparer's events.
type checkpointLog struct{ p *preparer }

func (c checkpointLog) Checkpoint(_ context.Context, pos string, _ map[string]*Counts, _ time.Duration) error {
	c.p.log("checkpoint %s", pos)
	return nil
}

// order checks that each pair of events happened, the first before the
// second.
func order(t *testing.T, events []string, pairs ...[2]string) {
	t.Helper()
	for _, pr := range pairs {
		i, j := slices.Index(events, pr[0]), slices.Index(events, pr[1])
		if i < 0 || j < 0 || i > j {
			t.Errorf("want %q before %q in %q", pr[0], pr[1], events)
		}
	}
}

func checkpoints(events []string) []string {
	var out []string
	for _, e := range events {
		if pos, ok := strings.CutPrefix(e, "checkpoint "); ok {
			out = append(out, pos)
		}
	}
	return out
}

// On a BatchPreparer, a batch group is prepared while the one before it
// applies (group 2's apply waits for group 3 to be prepared); each group
// applies after the one before it is checkpointed, the checkpoints come in
// order, and the run ends with every group applied and checkpointed.
// Groups: 2, 4 and 8 transactions of 1000 changes.
func TestBatchPreparedWhileTheGroupBeforeApplies(t *testing.T) {
	p := &preparer{stall: 2, next: make(chan struct{})}
	batchBacklog(t, p, checkpointLog{p}, 14)
	got := p.events
	order(t, got,
		[2]string{"prepare 1", "apply 1"}, [2]string{"applied 1", "checkpoint p02"}, [2]string{"checkpoint p02", "apply 2"},
		[2]string{"prepare 3", "applied 2"}, [2]string{"applied 2", "checkpoint p06"}, [2]string{"checkpoint p06", "apply 3"},
		[2]string{"applied 3", "checkpoint p14"})
	if cp := checkpoints(got); !slices.Equal(cp, []string{"p02", "p06", "p14"}) {
		t.Errorf("checkpoints %q, want p02, p06, p14", cp)
	}
}

// A group that applies in the background and rejects a row goes through
// the change-by-change path before the next group applies, and is
// checkpointed.
func TestBatchRejectedInTheBackground(t *testing.T) {
	p := &preparer{stall: 2, reject: 2, next: make(chan struct{})}
	batchBacklog(t, p, checkpointLog{p}, 14)
	got := p.events
	order(t, got, [2]string{"prepare 3", "checkpoint p06"}, [2]string{"checkpoint p06", "apply 3"})
	if slices.Contains(got, "applied 2") {
		t.Errorf("group 2 was applied: %q", got)
	}
	if cp := checkpoints(got); !slices.Equal(cp, []string{"p02", "p06", "p14"}) {
		t.Errorf("checkpoints %q, want p02, p06, p14", cp)
	}
	if p.oneByOne != 4 {
		t.Errorf("group 2 went through %d one-by-one applies, want 4 (its transactions)", p.oneByOne)
	}
}
