package cdc

import "github.com/godwit-dms/godwit/internal/record"

// RowSelector says whether a row of table t meets a table's source
// filters; known is false when the row does not carry the filtered
// columns' values.
type RowSelector func(t *record.Table, row record.Row) (match, known bool)

// selected is tx with the task's source filters applied to its changes,
// so that the target holds the source rows the filters select, as after
// the full load:
//   - an insert of a row the filters do not select is dropped;
//   - an update whose new row they do not select becomes a delete of the
//     old row (it may have been selected before); one whose new row they
//     select stays an update, which puts the row on the target when it
//     was not there;
//   - a delete of a row they do not select is dropped; one whose old row
//     is not known in full (only its key) is kept, a delete of a row the
//     target does not hold changing nothing.
//
// A change whose row lacks a filtered column's value is kept as it is.
func (a *applier) selected(tx *record.Transaction) *record.Transaction {
	if len(a.job.Select) == 0 {
		return tx
	}
	var out []record.Change
	for i := range tx.Changes {
		ch := &tx.Changes[i]
		keep, repl := a.selectChange(ch)
		if out == nil && keep && repl == nil {
			continue // unchanged so far
		}
		if out == nil {
			out = append(make([]record.Change, 0, len(tx.Changes)), tx.Changes[:i]...)
		}
		switch {
		case repl != nil:
			out = append(out, *repl)
		case keep:
			out = append(out, *ch)
		}
	}
	if out == nil {
		return tx
	}
	cp := *tx
	cp.Changes = out
	return &cp
}

// selectChange says whether ch is kept, or what replaces it.
func (a *applier) selectChange(ch *record.Change) (keep bool, repl *record.Change) {
	if ch.Table == nil {
		return true, nil
	}
	sel := a.job.Select[ch.Table.Schema+"."+ch.Table.Name]
	if sel == nil {
		return true, nil
	}
	switch ch.Op {
	case record.OpInsert:
		m, known := sel(ch.Table, ch.After)
		return m || !known, nil
	case record.OpUpdate:
		if m, known := sel(ch.Table, ch.After); m || !known {
			return true, nil
		}
		if ch.BeforeFull {
			if m, known := sel(ch.Table, ch.Before); known && !m {
				return false, nil // neither row selected
			}
		}
		return false, &record.Change{Op: record.OpDelete, Table: ch.Table, Before: ch.Before, BeforeFull: ch.BeforeFull}
	case record.OpDelete:
		if !ch.BeforeFull {
			return true, nil
		}
		m, known := sel(ch.Table, ch.Before)
		return m || !known, nil
	}
	return true, nil
}
