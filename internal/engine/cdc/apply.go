package cdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/engine/fullload"
	"github.com/godwit-dms/godwit/internal/record"
)

// applier groups transactions into target commits.
type applier struct {
	job        *Job
	log        *slog.Logger
	checkpoint string
	pending    []*record.Transaction
	changes    int
	bytes      int64 // the size of pending's changes (Transaction.Bytes), for a CommitPacer
	oldest     time.Time
	// lastApply is when the last flush started; lastGroup the changes
	// it applied.
	lastApply time.Time
	lastGroup int
	suspended map[string]bool
	// received is the position after the last transaction received; ddls
	// the DDL statements applied since the last commit, per table.
	received string
	ddls     map[string]int64
	// took, when set, is told of each transaction taken off the queue.
	took func(*record.Transaction)
	// inflight is the batch group applying in the background, if any
	// (batch apply to a connector.BatchPreparer): the next group is
	// prepared meanwhile.
	inflight *group
}

// group is a commit group handed to the target: pending's transactions,
// txs what of them is applied (suspended tables' changes left out).
type group struct {
	pending, txs []*record.Transaction
	changes      int
	done         chan error // the background apply's result
}

func (a *applier) loop(ctx context.Context, ch <-chan *record.Transaction) error {
	set := a.job.Settings
	batch := set.TargetMetadata.BatchApplyEnabled
	tuning := set.ChangeProcessingTuning
	// When to commit: transactional apply groups up to MinTransactionSize
	// changes or CommitTimeout seconds; batch apply collects for
	// BatchApplyTimeoutMin seconds (at least) or up to batchLimit changes.
	maxChanges := max(tuning.MinTransactionSize, 1)
	maxWait := time.Duration(max(tuning.CommitTimeout, 1)) * time.Second
	if batch {
		maxWait = time.Duration(max(tuning.BatchApplyTimeoutMin, 1)) * time.Second
	}
	// A CommitPacer target (files) is applied only when the oldest change
	// has waited its maxWait or the changes reach its size.
	paceWait, paceBytes, paced := pace(a.job.Applier)
	if paced {
		maxChanges, maxWait = math.MaxInt, paceWait
	}
	// What a stream that went idle delivered is committed soon.
	const idleFlush = 50 * time.Millisecond
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// Every way out waits for a background apply (and checkpoints what it
	// committed); this one is for a way that forgot.
	defer func() { _ = a.settle(context.WithoutCancel(ctx)) }()
	for {
		var (
			tx  *record.Transaction
			ok  bool
			due bool
		)
		select {
		case <-ctx.Done():
			a.settle(ctx) // its apply ends too; what it committed is checkpointed
			return nil
		case tx, ok = <-ch:
			if !ok {
				return a.flush(ctx, batch) // the stream ended
			}
		case <-timer.C:
			due = true
		case err := <-a.applied():
			if err := a.finish(ctx, err); err != nil {
				return err
			}
		}
		if ok {
			if a.took != nil {
				a.took(tx)
			}
			if sp := a.job.StopAt; sp != nil && sp.CommitTime && tx.CommitTime.After(sp.At) {
				if err := a.flush(ctx, batch); err != nil {
					return err
				}
				return ErrStopPositionReached
			}
			if !set.ChangeProcessingDdlHandlingPolicy.HandleSourceTableTruncated {
				tx = withoutTruncates(tx)
			}
			tx = a.selected(tx)
			if a.job.Shapes != nil {
				var err error
				if tx, err = a.alterShapes(ctx, tx, batch); err != nil {
					return err
				}
			}
			// A group's age counts from when it starts (batch apply: from
			// when the last apply started), not from when its first
			// transaction was read: after a slow commit, what queued
			// meanwhile forms one group again instead of one commit each.
			if len(a.pending) == 0 {
				a.oldest = time.Now()
				if batch && !paced && !a.lastApply.IsZero() {
					// BatchApplyTimeoutMin is the least time between the
					// starts of two applies ("between each application of
					// batch changes"), not a wait after each one.
					a.oldest = a.lastApply
				}
				if paced {
					timer.Reset(paceWait)
				}
			}
			if !paced {
				timer.Reset(idleFlush) // fires once the stream has been idle that long
			}
			a.pending = append(a.pending, tx)
			a.changes += len(tx.Changes)
			a.received = tx.Position
			if paced {
				a.bytes += tx.Bytes()
			}
		}
		aged := len(a.pending) > 0 && time.Since(a.oldest) >= maxWait
		if aged && batch && !paced && len(ch) > 0 {
			// What already waits in the queue joins the group first:
			// after a slow apply, the next group is everything that
			// queued meanwhile (up to the group's limit), not one transaction.
			aged = false
		}
		limit := maxChanges
		switch {
		case paced:
		case batch:
			limit = a.batchLimit()
		case a.job.StopAfter == "":
			// (A run that ends at a position keeps its groups small, so
			// that little past the position is applied.)
			limit = a.transactionLimit(maxChanges)
		}
		full := a.changes >= limit || aged || (paced && a.bytes >= paceBytes)
		if due || full || (len(ch) == 0 && len(a.pending) > 0 && !batch && !paced) {
			// Batch groups apply in the background while the next one
			// forms, except when the run ends at a position (StopAfter):
			// then nothing after it is applied.
			background := batch && !paced && a.job.StopAfter == ""
			if err := a.apply(ctx, batch, background); err != nil {
				return err
			}
		}
		if a.job.StopAfter != "" && a.checkpoint != "" {
			if c, err := a.job.Streamer.ComparePositions(a.checkpoint, a.job.StopAfter); err == nil && c >= 0 {
				return ErrCachedChangesApplied
			}
		}
		if sp := a.job.StopAt; sp != nil && !sp.CommitTime && time.Now().After(sp.At) {
			if err := a.flush(ctx, batch); err != nil {
				return err
			}
			return ErrStopPositionReached
		}
	}
}

// flush applies the pending transactions in one target commit and
// checkpoints; it returns once nothing is left applying.
func (a *applier) flush(ctx context.Context, batch bool) error {
	return a.apply(ctx, batch, false)
}

// apply is flush, but with background set, a batch group may go on
// applying in the background (on a connector.BatchPreparer): the loop
// goes on reading, and prepares the next group while this one applies.
func (a *applier) apply(ctx context.Context, batch, background bool) error {
	if len(a.pending) == 0 {
		if background {
			return nil
		}
		return a.settle(ctx)
	}
	g := &group{pending: a.pending, changes: a.changes}
	a.pending, a.changes, a.bytes = nil, 0, 0
	preparer, _ := a.job.Applier.(connector.BatchPreparer)
	if !batch || preparer == nil {
		if err := a.settle(ctx); err != nil {
			return err
		}
		a.lastApply, a.lastGroup = time.Now(), g.changes
		g.txs = a.filterSuspended(g.pending)
		var err error
		if batch {
			err = a.job.Applier.ApplyBatch(ctx, a.job.Tables, g.txs)
		} else {
			err = a.job.Applier.ApplyTransactions(ctx, a.job.Tables, g.txs)
		}
		return a.complete(ctx, g, err)
	}
	// The group is prepared while the one before it applies; applying that
	// one to its end may suspend tables, and the group is prepared again
	// without them.
	suspended := len(a.suspended)
	g.txs = a.filterSuspended(g.pending)
	prep, err := preparer.PrepareBatch(ctx, a.job.Tables, g.txs)
	if serr := a.settle(ctx); serr != nil {
		return serr
	}
	if err == nil && len(a.suspended) != suspended {
		g.txs = a.filterSuspended(g.pending)
		prep, err = preparer.PrepareBatch(ctx, a.job.Tables, g.txs)
	}
	a.lastApply, a.lastGroup = time.Now(), g.changes
	if err != nil {
		return a.complete(ctx, g, err)
	}
	if !background {
		return a.complete(ctx, g, prep.Apply(ctx))
	}
	g.done = make(chan error, 1)
	a.inflight = g
	go func() { g.done <- prep.Apply(ctx) }()
	return nil
}

// applied is the channel the background apply's result comes on (nil, which
// never delivers, when none runs).
func (a *applier) applied() <-chan error {
	if a.inflight == nil {
		return nil
	}
	return a.inflight.done
}

// settle waits for the background apply, if any, and completes it.
func (a *applier) settle(ctx context.Context) error {
	if a.inflight == nil {
		return nil
	}
	return a.finish(ctx, <-a.inflight.done)
}

// finish completes the background apply, whose result err is.
func (a *applier) finish(ctx context.Context, err error) error {
	g := a.inflight
	a.inflight = nil
	return a.complete(ctx, g, err)
}

// complete ends a group's apply, err its result: a rejected row sends the
// group through applyOneByOne; then its counts and position are
// checkpointed and the position confirmed to the source.
func (a *applier) complete(ctx context.Context, g *group, err error) error {
	if errors.Is(err, connector.ErrRowRejected) {
		err = a.applyOneByOne(ctx, g.txs)
	}
	if err != nil {
		return err
	}
	last := g.pending[len(g.pending)-1]
	applied := map[string]*Counts{}
	for _, tx := range g.txs {
		for _, c := range tx.Changes {
			k := c.Table.Schema + "." + c.Table.Name
			n := applied[k]
			if n == nil {
				n = &Counts{}
				applied[k] = n
			}
			if a.job.WantKeys {
				n.Keys = appendKeys(n.Keys, c)
			}
			switch c.Op {
			case record.OpInsert:
				n.Inserts++
			case record.OpUpdate:
				n.Updates++
			case record.OpDelete:
				n.Deletes++
			case record.OpTruncate:
				n.Ddls++
			}
		}
	}
	a.countDDLs(applied)
	latency := time.Since(last.CommitTime)
	if err := a.job.Checkpoints.Checkpoint(context.WithoutCancel(ctx), last.Position, applied, latency); err != nil {
		return fmt.Errorf("record the CDC checkpoint: %w", err)
	}
	a.checkpoint = last.Position
	if err := a.job.Streamer.Confirm(context.WithoutCancel(ctx), last.Position); err != nil {
		a.log.Warn("confirm the position to the source", "err", err)
	}
	return nil
}

// Bounds of a batch apply group, in changes.
const (
	batchMaxChanges = 50000
	batchMinChanges = 2000
)

// batchLimit is the size at which a batch apply group is applied before
// its time: twice the last group, within the bounds. After a start or an
// idle spell the target begins with a small group instead of idling
// while the first large one fills; under a steady backlog the groups grow
// to batchMaxChanges within a few applies.
func (a *applier) batchLimit() int {
	return min(max(2*a.lastGroup, batchMinChanges), batchMaxChanges)
}

// transactionsMaxChanges bounds a transactional apply group that grows
// past MinTransactionSize under a backlog.
const transactionsMaxChanges = 20000

// transactionLimit is the size at which a transactional apply group
// commits. MinTransactionSize (least) is a least number of changes per
// target transaction, as in DMS: while transactions keep waiting, a group
// may take twice the last one, up to transactionsMaxChanges. Each group
// costs a round trip and a checkpoint during which the target waits; under
// a backlog of small transactions larger groups keep it busier (a PG→PG
// backlog of 200,000 changes: 10% more changes/s). Without a backlog nothing changes:
// a group commits as soon as no transaction waits.
func (a *applier) transactionLimit(least int) int {
	return max(least, min(2*a.lastGroup, transactionsMaxChanges))
}

// applyOneByOne applies transactions one at a time, and a failing one change
// by change, so that one rejected row costs only itself; ErrorBehavior says
// what happens to it.
func (a *applier) applyOneByOne(ctx context.Context, txs []*record.Transaction) error {
	for _, tx := range txs {
		tx = a.filterSuspended([]*record.Transaction{tx})[0]
		err := a.job.Applier.ApplyTransactions(ctx, a.job.Tables, []*record.Transaction{tx})
		if err == nil {
			continue
		}
		if !errors.Is(err, connector.ErrRowRejected) {
			return err
		}
		for _, c := range tx.Changes {
			one := &record.Transaction{ID: tx.ID, CommitTime: tx.CommitTime, Position: tx.Position, Changes: []record.Change{c}}
			if a.suspended[c.Table.Schema+"."+c.Table.Name] {
				continue
			}
			if err := a.job.Applier.ApplyTransactions(ctx, a.job.Tables, []*record.Transaction{one}); err != nil {
				if !errors.Is(err, connector.ErrRowRejected) {
					return err
				}
				if err := a.onApplyError(ctx, c, err); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// onApplyError applies ErrorBehavior's apply-error policies.
func (a *applier) onApplyError(ctx context.Context, c record.Change, cause error) error {
	eb := a.job.Settings.ErrorBehavior
	policy := eb.ApplyErrorUpdatePolicy
	switch c.Op {
	case record.OpInsert:
		policy = eb.ApplyErrorInsertPolicy
	case record.OpDelete:
		policy = eb.ApplyErrorDeletePolicy
	}
	table := c.Table.Schema + "." + c.Table.Name
	switch policy {
	case "STOP_TASK":
		return fmt.Errorf("applying a change to %s failed (ApplyError policy STOP_TASK): %w", table, cause)
	case "SUSPEND_TABLE":
		if a.suspended == nil {
			a.suspended = map[string]bool{}
		}
		a.suspended[table] = true
		a.log.Error("table suspended after an apply error", "table", table, "err", cause)
		if a.job.OnSuspend != nil {
			a.job.OnSuspend(ctx, c.Table.Schema, c.Table.Name, cause)
		}
	case "IGNORE_RECORD":
		a.log.Warn("change not applied (ApplyError policy IGNORE_RECORD)", "table", table, "op", c.Op.String(), "err", cause)
	default: // LOG_ERROR, INSERT_RECORD, UPDATE_RECORD
		a.log.Error("change not applied", "table", table, "op", c.Op.String(), "policy", policy, "err", cause)
		if a.job.OnApplyError != nil {
			a.job.OnApplyError(ctx, c, cause)
		}
	}
	return nil
}

func (a *applier) filterSuspended(txs []*record.Transaction) []*record.Transaction {
	if len(a.suspended) == 0 {
		return txs
	}
	out := make([]*record.Transaction, 0, len(txs))
	for _, tx := range txs {
		cp := *tx
		cp.Changes = nil
		for _, c := range tx.Changes {
			if !a.suspended[c.Table.Schema+"."+c.Table.Name] {
				cp.Changes = append(cp.Changes, c)
			}
		}
		out = append(out, &cp)
	}
	return out
}

// appendKeys adds the source keys of the rows a change touched (the old
// and the new key of an update that changed it).
func appendKeys(keys [][]string, c record.Change) [][]string {
	cols := c.Table.Key()
	if len(cols) == 0 {
		return keys
	}
	pos := make([]int, len(cols))
	for i, name := range cols {
		pos[i] = -1
		for j := range c.Table.Columns {
			if c.Table.Columns[j].Name == name {
				pos[i] = j
			}
		}
		if pos[i] < 0 {
			return keys
		}
	}
	for _, row := range []record.Row{c.Before, c.After} {
		if row == nil {
			continue
		}
		k := make([]string, len(pos))
		ok := true
		for i, p := range pos {
			if p >= len(row) || row[p] == nil || row[p] == record.Unchanged {
				ok = false
				break
			}
			k[i] = fullload.KeyText(row[p])
		}
		if ok {
			keys = append(keys, k)
		}
	}
	return keys
}
