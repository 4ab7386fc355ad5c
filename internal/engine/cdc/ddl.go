package cdc

import (
	"context"
	"fmt"

	"github.com/godwit-dms/godwit/internal/record"
)

// alterShapes handles the source DDL met in tx: the changes before the first
// change of a new table shape are committed (with what is pending), then
// the target is altered, and so on; what follows the last DDL is returned
// to be applied as usual. A transaction split this way is checkpointed at
// the position before it until its last part commits, so a replay applies
// it again (appliers and DDL are idempotent).
func (a *applier) alterShapes(ctx context.Context, tx *record.Transaction, batch bool) (*record.Transaction, error) {
	for {
		i := -1
		for j := range tx.Changes {
			if tx.Changes[j].Op == record.OpDropTable || a.job.Shapes.Altered(&tx.Changes[j]) {
				i = j
				break
			}
		}
		if i < 0 {
			return tx, nil
		}
		if i > 0 {
			head := &record.Transaction{ID: tx.ID, CommitTime: tx.CommitTime, Position: a.received, Changes: tx.Changes[:i]}
			a.pending = append(a.pending, head)
		}
		if err := a.flush(ctx, batch); err != nil {
			return nil, err
		}
		c := tx.Changes[i]
		var n int
		var err error
		rest := *tx
		if c.Op == record.OpDropTable {
			n, err = a.job.Shapes.Dropped(ctx, a.job.Tables, c.Table)
			rest.Changes = tx.Changes[i+1:]
		} else {
			n, err = a.job.Shapes.Alter(ctx, a.job.Tables, c.Table)
			rest.Changes = tx.Changes[i:]
		}
		if err != nil {
			return nil, fmt.Errorf("applying the DDL of %s.%s: %w", c.Table.Schema, c.Table.Name, err)
		}
		if n > 0 {
			if a.ddls == nil {
				a.ddls = map[string]int64{}
			}
			a.ddls[c.Table.Schema+"."+c.Table.Name] += int64(n)
		}
		tx = &rest
	}
}

// countDDLs adds the DDL statements applied since the last commit to the
// counts of the commit being checkpointed.
func (a *applier) countDDLs(applied map[string]*Counts) {
	for table, n := range a.ddls {
		c := applied[table]
		if c == nil {
			c = &Counts{}
			applied[table] = c
		}
		c.Ddls += n
	}
	clear(a.ddls)
}

// withoutTruncates is tx without its TRUNCATEs (HandleSourceTableTruncated
// false: the target keeps its rows).
func withoutTruncates(tx *record.Transaction) *record.Transaction {
	for i := range tx.Changes {
		if tx.Changes[i].Op != record.OpTruncate {
			continue
		}
		cp := *tx
		cp.Changes = make([]record.Change, 0, len(tx.Changes)-1)
		for _, c := range tx.Changes {
			if c.Op != record.OpTruncate {
				cp.Changes = append(cp.Changes, c)
			}
		}
		return &cp
	}
	return tx
}
