package mysql

// The engine-neutral half of change apply: source changes resolved against
// their target tables (transformed, keyed), turned into the operations of
// transactional apply, or folded into net changes for batch apply. The
// PostgreSQL connector has the same file; keep them in step.

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// applyChange is a source change in terms of its target table: Before and
// After transformed into target column order.
type applyChange struct {
	op         record.ChangeOp
	tab        *applyTable
	before     record.Row
	after      record.Row
	beforeFull bool
}

// applyResolve turns the changes of txs into target changes, in order.
// Changes of tables missing from tables are skipped with one log line per
// table; newTable builds the per-call state of a target table the first
// time one of its changes is seen.
func applyResolve(ctx context.Context, tables map[string]*connector.TargetTable, txs []*record.Transaction,
	newTable func(tt *connector.TargetTable) (*applyTable, error)) ([]applyChange, []*applyTable, error) {
	var (
		out     []applyChange
		order   []*applyTable
		byTT    = map[*connector.TargetTable]*applyTable{}
		skipped map[string]int
	)
	for _, tx := range txs {
		if tx == nil {
			continue
		}
		for i := range tx.Changes {
			ch := &tx.Changes[i]
			if ch.Table == nil {
				return nil, nil, fmt.Errorf("%w: change %d of transaction %s has no table", ErrUnsupported, i, tx.ID)
			}
			name := ch.Table.Schema + "." + ch.Table.Name
			tt := tables[name]
			if tt == nil || tt.Target == nil {
				if skipped == nil {
					skipped = map[string]int{}
				}
				skipped[name]++
				continue
			}
			tab := byTT[tt]
			if tab == nil {
				var err error
				if tab, err = newTable(tt); err != nil {
					return nil, nil, err
				}
				byTT[tt] = tab
				order = append(order, tab)
			}
			ac := applyChange{op: ch.Op, tab: tab, beforeFull: ch.BeforeFull}
			var err error
			switch ch.Op {
			case record.OpInsert, record.OpUpdate, record.OpDelete:
				if ac.before, err = tab.transform(ch.Before); err == nil {
					ac.after, err = tab.transform(ch.After)
				}
			case record.OpTruncate:
			default:
				err = fmt.Errorf("%w: unknown change operation %d", ErrUnsupported, ch.Op)
			}
			if err != nil {
				return nil, nil, fmt.Errorf("applying changes to %s: transaction %s: %w", tab.label, tx.ID, err)
			}
			out = append(out, ac)
		}
	}
	for name, n := range skipped {
		slog.WarnContext(ctx, "mysql apply: changes of a table without a target skipped", "table", name, "changes", n)
	}
	return out, order, nil
}

// applyTableBase is the engine-neutral part of a target table's per-call
// state.
type applyTableBase struct {
	tt     *connector.TargetTable
	t      *record.Table
	label  string
	keyIdx []int  // the Key columns' positions in t.Columns; nil without a key
	isKey  []bool // per column of t
}

// initBase resolves the key columns of tt.
func (b *applyTableBase) initBase(tt *connector.TargetTable, label string) error {
	b.tt, b.t, b.label = tt, tt.Target, label
	b.isKey = make([]bool, len(b.t.Columns))
	for _, k := range tt.Key {
		i := slices.IndexFunc(b.t.Columns, func(c record.Column) bool { return c.Name == k })
		if i < 0 {
			return fmt.Errorf("%w: key column %q is not a column of %s", ErrUnsupported, k, label)
		}
		if !b.isKey[i] {
			b.keyIdx = append(b.keyIdx, i)
			b.isKey[i] = true
		}
	}
	return nil
}

// keyed reports whether the table has a key to find rows by.
func (b *applyTableBase) keyed() bool { return len(b.keyIdx) > 0 }

// transform maps a source row to the target row (nil stays nil).
func (b *applyTableBase) transform(row record.Row) (record.Row, error) {
	if row == nil {
		return nil, nil
	}
	if b.tt.Transform != nil {
		out, err := b.tt.Transform(row)
		if err != nil {
			return nil, err
		}
		row = out
	}
	if len(row) != len(b.t.Columns) {
		return nil, fmt.Errorf("%w: a row of %d values for the %d columns of %s", ErrUnsupported, len(row), len(b.t.Columns), b.label)
	}
	return row, nil
}

// keyOf encodes the key values of row into a comparable string.
func (b *applyTableBase) keyOf(row record.Row) string {
	var buf []byte
	for _, i := range b.keyIdx {
		buf = applyAppendKey(buf, row[i])
	}
	return string(buf)
}

// applyAppendKey appends a self-delimiting encoding of a canonical value:
// equal values (in the sense of the record conventions) encode equally.
func applyAppendKey(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, 'n')
	case bool:
		if x {
			return append(b, 'b', 1)
		}
		return append(b, 'b', 0)
	case int64:
		return binary.BigEndian.AppendUint64(append(b, 'i'), uint64(x))
	case int:
		return applyAppendKey(b, int64(x))
	case int32:
		return applyAppendKey(b, int64(x))
	case uint64:
		if x <= math.MaxInt64 {
			return applyAppendKey(b, int64(x))
		}
		return binary.BigEndian.AppendUint64(append(b, 'u'), x)
	case float64:
		if x == 0 {
			x = 0 // -0 equals 0
		}
		if math.IsNaN(x) {
			x = math.NaN()
		}
		return binary.BigEndian.AppendUint64(append(b, 'f'), math.Float64bits(x))
	case string:
		b = binary.AppendUvarint(append(b, 's'), uint64(len(x)))
		return append(b, x...)
	case []byte:
		b = binary.AppendUvarint(append(b, 'x'), uint64(len(x)))
		return append(b, x...)
	case time.Time:
		b = binary.BigEndian.AppendUint64(append(b, 't'), uint64(x.Unix()))
		return binary.BigEndian.AppendUint32(b, uint32(x.Nanosecond()))
	}
	if v == record.Unchanged {
		return append(b, '?')
	}
	s := fmt.Sprintf("%T:%v", v, v)
	b = binary.AppendUvarint(append(b, 'o'), uint64(len(s)))
	return append(b, s...)
}

// applyPartial reports whether row has Unchanged values.
func applyPartial(row record.Row) bool {
	for _, v := range row {
		if v == record.Unchanged {
			return true
		}
	}
	return false
}

// applyMerge is after with its Unchanged values taken from prev (a row of
// the same table an earlier change of the batch wrote).
func applyMerge(prev, after record.Row) record.Row {
	if prev == nil || !applyPartial(after) {
		return after
	}
	out := slices.Clone(after)
	for i, v := range out {
		if v == record.Unchanged {
			out[i] = prev[i]
		}
	}
	return out
}

// newKeyRow is after with the key values it does not carry (Unchanged)
// taken from before: the row's key after the change.
func (b *applyTableBase) newKeyRow(before, after record.Row) record.Row {
	for _, i := range b.keyIdx {
		if after[i] == record.Unchanged {
			out := slices.Clone(after)
			for _, j := range b.keyIdx {
				if out[j] == record.Unchanged {
					out[j] = before[j]
				}
			}
			return out
		}
	}
	return after
}

// applyOpKind is a statement kind of transactional apply.
type applyOpKind uint8

const (
	// applyUpsert writes a whole row by key: inserted, or the existing
	// row with that key updated.
	applyUpsert applyOpKind = iota + 1
	// applyDelete deletes the row with key's key values.
	applyDelete
	// applyUpdate sets the values of row that are not Unchanged on the
	// row with key's key values (the key too when it changed).
	applyUpdate
	// applyInsert inserts a row of a table without a key.
	applyInsert
	// applyUpdateRow updates one row (of a table without a key) equal to
	// key in every value.
	applyUpdateRow
	// applyDeleteRow deletes one row equal to key in every value.
	applyDeleteRow
	// applyTruncate empties the table.
	applyTruncate
	// applyClearKey deletes the row with row's key values when a row with
	// key's key values exists: it makes room for a key change of a row
	// with Unchanged values (an update of the key), which a replay may
	// find done.
	applyClearKey
)

// applyOp is one row operation of transactional apply.
type applyOp struct {
	kind       applyOpKind
	tab        *applyTable
	row        record.Row // the new row
	key        record.Row // the old row: its key values, or all values without a key
	keyChanged bool       // applyUpdate: the key columns are set too
}

// applyOps turns changes into the row operations that apply them
// idempotently, in order:
//   - insert: upsert (with a key) or insert (without);
//   - update with every new value: upsert, after deleting the old key when
//     the key changed; with Unchanged values: an update of the values sent,
//     the key included when it changed (a missing row cannot be written;
//     a key change first clears the new key if the old one still exists,
//     as after a replay re-created it);
//   - delete: by key, or the first row equal to the old row;
//   - truncate.
//
// An update whose full new row is upserted has the effect of "update, and
// insert when no row was updated": the upsert updates the row when it
// exists and inserts it when not.
func applyOps(ctx context.Context, changes []applyChange) []applyOp {
	ops := make([]applyOp, 0, len(changes))
	var skipped map[applySkipped]int
	applySkip := func(_ context.Context, tab *applyTable, why string) {
		if skipped == nil {
			skipped = map[applySkipped]int{}
		}
		skipped[applySkipped{tab.label, why}]++
	}
	defer func() {
		for s, n := range skipped {
			slog.WarnContext(ctx, "mysql apply: changes skipped", "table", s.table, "reason", s.why, "changes", n)
		}
	}()
	for _, ch := range changes {
		tab := ch.tab
		switch ch.op {
		case record.OpTruncate:
			ops = append(ops, applyOp{kind: applyTruncate, tab: tab})
		case record.OpInsert:
			if ch.after == nil {
				applySkip(ctx, tab, "an insert without a new row")
				continue
			}
			switch {
			case !tab.keyed():
				ops = append(ops, applyOp{kind: applyInsert, tab: tab, row: applyKnown(ch.after)})
			case applyPartial(ch.after):
				ops = append(ops, applyOp{kind: applyUpdate, tab: tab, row: ch.after, key: ch.after})
			default:
				ops = append(ops, applyOp{kind: applyUpsert, tab: tab, row: ch.after})
			}
		case record.OpUpdate:
			if ch.after == nil {
				applySkip(ctx, tab, "an update without a new row")
				continue
			}
			before := ch.before
			if !tab.keyed() {
				if before == nil || !ch.beforeFull {
					applySkip(ctx, tab, "an update of a table without a key whose old row is not logged in full")
					continue
				}
				ops = append(ops, applyOp{kind: applyUpdateRow, tab: tab, row: ch.after, key: before})
				continue
			}
			after := ch.after
			if before == nil {
				before = after
			}
			after = tab.newKeyRow(before, after)
			changed := tab.keyOf(before) != tab.keyOf(after)
			switch {
			case applyPartial(after) && changed:
				ops = append(ops, applyOp{kind: applyClearKey, tab: tab, row: after, key: before},
					applyOp{kind: applyUpdate, tab: tab, row: after, key: before, keyChanged: true})
			case applyPartial(after):
				ops = append(ops, applyOp{kind: applyUpdate, tab: tab, row: after, key: before})
			case changed:
				ops = append(ops, applyOp{kind: applyDelete, tab: tab, key: before}, applyOp{kind: applyUpsert, tab: tab, row: after})
			default:
				ops = append(ops, applyOp{kind: applyUpsert, tab: tab, row: after})
			}
		case record.OpDelete:
			if ch.before == nil {
				applySkip(ctx, tab, "a delete without its old row")
				continue
			}
			switch {
			case tab.keyed():
				ops = append(ops, applyOp{kind: applyDelete, tab: tab, key: ch.before})
			case !ch.beforeFull:
				applySkip(ctx, tab, "a delete from a table without a key whose old row is not logged in full")
			default:
				ops = append(ops, applyOp{kind: applyDeleteRow, tab: tab, key: ch.before})
			}
		}
	}
	return ops
}

// applyKnown is row with Unchanged values (meaningless in an insert) as NULL.
func applyKnown(row record.Row) record.Row {
	if !applyPartial(row) {
		return row
	}
	out := slices.Clone(row)
	for i, v := range out {
		if v == record.Unchanged {
			out[i] = nil
		}
	}
	return out
}

// applySkipped counts changes that cannot be applied, per table and reason.
type applySkipped struct{ table, why string }

// applySegment is a run of a batch between truncates: per table, its net
// changes, or (tables without a key, or whose net changes would need
// values the batch does not have) its changes in order.
type applySegment struct {
	nets []*applyNet
	// truncate lists the tables truncated after the segment, in order.
	truncate []*applyTable
}

// applyNet is the net effect of a segment's changes on one table.
type applyNet struct {
	tab *applyTable
	// changes are the table's changes in the segment, for the
	// transactional path.
	changes []applyChange
	// transactional: apply changes one by one (no key, or a key change
	// whose Unchanged values no earlier change of the batch supplies).
	transactional bool

	// dels are the old rows (their key values) whose keys must not exist
	// before rows are written: deleted rows and old keys of key changes.
	dels    []record.Row
	delKeys map[string]bool
	// rows are the final rows by their key; partial ones hold Unchanged
	// values (the target's values are kept).
	rows map[string]*applyNetRow
	seq  int
}

type applyNetRow struct {
	row record.Row
	seq int
}

// final lists the rows to write in the order of their last change: whole
// rows, then rows with Unchanged values.
func (n *applyNet) final() (whole, partial []record.Row) {
	list := make([]*applyNetRow, 0, len(n.rows))
	for _, r := range n.rows {
		list = append(list, r)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	for _, r := range list {
		if applyPartial(r.row) {
			partial = append(partial, r.row)
		} else {
			whole = append(whole, r.row)
		}
	}
	return whole, partial
}

func (n *applyNet) del(key string, before record.Row) {
	if !n.delKeys[key] {
		n.delKeys[key] = true
		n.dels = append(n.dels, before)
	}
}

func (n *applyNet) put(key string, row record.Row) {
	n.seq++
	prev := n.rows[key]
	if prev != nil {
		row = applyMerge(prev.row, row)
	}
	n.rows[key] = &applyNetRow{row: row, seq: n.seq}
}

// add folds one change into the net changes: the last change of a key
// wins; an update merges into the row an earlier change wrote; a key
// change deletes the old key and carries the row to the new one.
func (n *applyNet) add(ch applyChange) {
	n.changes = append(n.changes, ch)
	if n.transactional {
		return
	}
	tab := n.tab
	switch ch.op {
	case record.OpInsert:
		if ch.after != nil {
			n.put(tab.keyOf(ch.after), ch.after)
		}
	case record.OpDelete:
		if ch.before != nil {
			k := tab.keyOf(ch.before)
			delete(n.rows, k)
			n.del(k, ch.before)
		}
	case record.OpUpdate:
		if ch.after == nil {
			return
		}
		before := ch.before
		if before == nil {
			before = ch.after
		}
		after := tab.newKeyRow(before, ch.after)
		kb, ka := tab.keyOf(before), tab.keyOf(after)
		if kb == ka {
			n.put(ka, after)
			return
		}
		prev := n.rows[kb]
		delete(n.rows, kb)
		n.del(kb, before)
		if prev != nil {
			after = applyMerge(prev.row, after)
		}
		if applyPartial(after) {
			// The values the new key's row keeps are those of the old
			// row on the target: only an update of the key keeps them.
			n.transactional = true
			return
		}
		n.seq++
		n.rows[ka] = &applyNetRow{row: after, seq: n.seq}
	}
}

// settle decides the path of a table once the segment is complete: a row
// with Unchanged values whose key is deleted first has nothing to keep.
func (n *applyNet) settle() {
	if n.transactional || !n.tab.keyed() {
		n.transactional = true
		return
	}
	for k, r := range n.rows {
		if n.delKeys[k] && applyPartial(r.row) {
			n.transactional = true
			return
		}
	}
}

// applySegments splits changes at truncates and folds each run into net
// changes per table.
func applySegments(changes []applyChange) []*applySegment {
	var segs []*applySegment
	cur := &applySegment{}
	byTab := map[*applyTable]*applyNet{}
	flush := func() {
		for _, n := range cur.nets {
			n.settle()
		}
		segs = append(segs, cur)
	}
	for _, ch := range changes {
		if ch.op == record.OpTruncate {
			// The truncate ends the current run.
			cur.truncate = append(cur.truncate, ch.tab)
			continue
		}
		if len(cur.truncate) > 0 {
			flush()
			cur = &applySegment{}
			byTab = map[*applyTable]*applyNet{}
		}
		n := byTab[ch.tab]
		if n == nil {
			n = &applyNet{tab: ch.tab, delKeys: map[string]bool{}, rows: map[string]*applyNetRow{}, transactional: !ch.tab.keyed()}
			byTab[ch.tab] = n
			cur.nets = append(cur.nets, n)
		}
		n.add(ch)
	}
	flush()
	return segs
}
