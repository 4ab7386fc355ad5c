// Package applyplan is the engine-neutral half of change apply, shared by
// the database connectors: source changes resolved against their target
// tables (transformed, keyed), turned into the row operations of
// transactional apply, or folded into net changes per table for batch
// apply. A connector embeds Table in its own per-call table state and
// writes the operations in its own SQL.
package applyplan

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// Change is a source change in terms of its target table: Before and
// After transformed into target column order.
type Change[T Tab] struct {
	Op         record.ChangeOp
	Tab        T
	Before     record.Row
	After      record.Row
	BeforeFull bool
}

// Engine is what a connector gives the shared code: its name, for log
// lines, and the errors the problems found here wrap (Bad: a change or row
// that cannot be applied; NoColumn: a key column the table lacks).
type Engine struct {
	Name          string
	Bad, NoColumn error
}

// Resolve turns the changes of txs into target changes, in order.
// Changes of tables missing from tables are skipped with one log line per
// table; newTable builds the per-call state of a target table the first
// time one of its changes is seen.
func Resolve[T Tab](ctx context.Context, e Engine, tables map[string]*connector.TargetTable, txs []*record.Transaction,
	newTable func(tt *connector.TargetTable) (T, error)) ([]Change[T], []T, error) {
	n := 0
	for _, tx := range txs {
		if tx != nil {
			n += len(tx.Changes)
		}
	}
	var (
		out     = make([]Change[T], 0, n)
		order   []T
		byTT    = map[*connector.TargetTable]T{}
		skipped map[string]int
	)
	for _, tx := range txs {
		if tx == nil {
			continue
		}
		for i := range tx.Changes {
			ch := &tx.Changes[i]
			if ch.Table == nil {
				return nil, nil, fmt.Errorf("%w: change %d of transaction %s has no table", e.Bad, i, tx.ID)
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
			tab, ok := byTT[tt]
			if !ok {
				var err error
				if tab, err = newTable(tt); err != nil {
					return nil, nil, err
				}
				byTT[tt] = tab
				order = append(order, tab)
			}
			ac := Change[T]{Op: ch.Op, Tab: tab, BeforeFull: ch.BeforeFull}
			var err error
			switch ch.Op {
			case record.OpInsert, record.OpUpdate, record.OpDelete:
				if ac.Before, err = tab.base().Transform(ch.Before); err == nil {
					ac.After, err = tab.base().Transform(ch.After)
				}
			case record.OpTruncate:
			default:
				err = fmt.Errorf("%w: unknown change operation %d", e.Bad, ch.Op)
			}
			if err != nil {
				return nil, nil, fmt.Errorf("applying changes to %s: transaction %s: %w", tab.base().Label, tx.ID, err)
			}
			out = append(out, ac)
		}
	}
	for name, n := range skipped {
		slog.WarnContext(ctx, e.Name+" apply: changes of a table without a target skipped", "table", name, "changes", n)
	}
	return out, order, nil
}

// Table is the engine-neutral part of a target table's per-call
// state.
type Table struct {
	TT     *connector.TargetTable
	T      *record.Table
	Label  string
	KeyIdx []int  // the Key columns' positions in t.Columns; nil without a key
	IsKey  []bool // per column of t
	bad    error  // Engine.Bad
}

// Init resolves the key columns of tt.
func (b *Table) Init(tt *connector.TargetTable, label string, e Engine) error {
	b.TT, b.T, b.Label, b.bad = tt, tt.Target, label, e.Bad
	b.IsKey = make([]bool, len(b.T.Columns))
	for _, k := range tt.Key {
		i := slices.IndexFunc(b.T.Columns, func(c record.Column) bool { return c.Name == k })
		if i < 0 {
			return fmt.Errorf("%w: key column %q is not a column of %s", e.NoColumn, k, label)
		}
		if !b.IsKey[i] {
			b.KeyIdx = append(b.KeyIdx, i)
			b.IsKey[i] = true
		}
	}
	return nil
}

// Keyed reports whether the table has a key to find rows by.
func (b *Table) Keyed() bool { return len(b.KeyIdx) > 0 }

// Transform maps a source row to the target row (nil stays nil).
func (b *Table) Transform(row record.Row) (record.Row, error) {
	if row == nil {
		return nil, nil
	}
	row, err := b.TT.Row(row)
	if err != nil {
		return nil, err
	}
	if len(row) != len(b.T.Columns) {
		return nil, fmt.Errorf("%w: a row of %d values for the %d columns of %s", b.bad, len(row), len(b.T.Columns), b.Label)
	}
	return row, nil
}

// KeyOf encodes the key values of row into a comparable string.
func (b *Table) KeyOf(row record.Row) string {
	var buf []byte
	for _, i := range b.KeyIdx {
		buf = appendKey(buf, row[i])
	}
	return string(buf)
}

// appendKey appends a self-delimiting encoding of a canonical value:
// equal values (in the sense of the record conventions) encode equally.
func appendKey(b []byte, v any) []byte {
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
		return appendKey(b, int64(x))
	case int32:
		return appendKey(b, int64(x))
	case uint64:
		if x <= math.MaxInt64 {
			return appendKey(b, int64(x))
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

// hasUnchanged reports whether row has Unchanged values.
func hasUnchanged(row record.Row) bool {
	for _, v := range row {
		if v == record.Unchanged {
			return true
		}
	}
	return false
}

// merge is after with its Unchanged values taken from prev (a row of
// the same table an earlier change of the batch wrote).
func merge(prev, after record.Row) record.Row {
	if prev == nil || !hasUnchanged(after) {
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

// NewKeyRow is after with the key values it does not carry (Unchanged)
// taken from before: the row's key after the change.
func (b *Table) NewKeyRow(before, after record.Row) record.Row {
	for _, i := range b.KeyIdx {
		if after[i] == record.Unchanged {
			out := slices.Clone(after)
			for _, j := range b.KeyIdx {
				if out[j] == record.Unchanged {
					out[j] = before[j]
				}
			}
			return out
		}
	}
	return after
}

// OpKind is a statement kind of transactional apply.
type OpKind uint8

const (
	// Upsert writes a whole row by key: inserted, or the existing
	// row with that key updated.
	Upsert OpKind = iota + 1
	// Delete deletes the row with key's key values.
	Delete
	// Update sets the values of row that are not Unchanged on the
	// row with key's key values (the key too when it changed).
	Update
	// Insert inserts a row of a table without a key.
	Insert
	// UpdateRow updates one row (of a table without a key) equal to
	// key in every value.
	UpdateRow
	// DeleteRow deletes one row equal to key in every value.
	DeleteRow
	// Truncate empties the table.
	Truncate
	// ClearKey deletes the row with row's key values when a row with
	// key's key values exists: it makes room for a key change of a row
	// with Unchanged values (an update of the key), which a replay may
	// find done.
	ClearKey
)

// Op is one row operation of transactional apply.
type Op[T Tab] struct {
	Kind       OpKind
	Tab        T
	Row        record.Row // the new row
	Key        record.Row // the old row: its key values, or all values without a key
	KeyChanged bool       // Update: the key columns are set too
}

// Ops turns changes into the row operations that apply them
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
func Ops[T Tab](ctx context.Context, e Engine, changes []Change[T]) []Op[T] {
	ops := make([]Op[T], 0, len(changes))
	var skipped map[skipKey]int
	skip := func(_ context.Context, tab T, why string) {
		if skipped == nil {
			skipped = map[skipKey]int{}
		}
		skipped[skipKey{tab.base().Label, why}]++
	}
	defer func() {
		for s, n := range skipped {
			slog.WarnContext(ctx, e.Name+" apply: changes skipped", "table", s.table, "reason", s.why, "changes", n)
		}
	}()
	for _, ch := range changes {
		tab := ch.Tab
		switch ch.Op {
		case record.OpTruncate:
			ops = append(ops, Op[T]{Kind: Truncate, Tab: tab})
		case record.OpInsert:
			if ch.After == nil {
				skip(ctx, tab, "an insert without a new row")
				continue
			}
			switch {
			case !tab.base().Keyed():
				ops = append(ops, Op[T]{Kind: Insert, Tab: tab, Row: known(ch.After)})
			case hasUnchanged(ch.After):
				ops = append(ops, Op[T]{Kind: Update, Tab: tab, Row: ch.After, Key: ch.After})
			default:
				ops = append(ops, Op[T]{Kind: Upsert, Tab: tab, Row: ch.After})
			}
		case record.OpUpdate:
			if ch.After == nil {
				skip(ctx, tab, "an update without a new row")
				continue
			}
			before := ch.Before
			if !tab.base().Keyed() {
				if before == nil || !ch.BeforeFull {
					skip(ctx, tab, "an update of a table without a key whose old row is not logged in full")
					continue
				}
				ops = append(ops, Op[T]{Kind: UpdateRow, Tab: tab, Row: ch.After, Key: before})
				continue
			}
			after := ch.After
			if before == nil {
				before = after
			}
			after = tab.base().NewKeyRow(before, after)
			changed := tab.base().KeyOf(before) != tab.base().KeyOf(after)
			switch {
			case hasUnchanged(after) && changed:
				ops = append(ops, Op[T]{Kind: ClearKey, Tab: tab, Row: after, Key: before},
					Op[T]{Kind: Update, Tab: tab, Row: after, Key: before, KeyChanged: true})
			case hasUnchanged(after):
				ops = append(ops, Op[T]{Kind: Update, Tab: tab, Row: after, Key: before})
			case changed:
				ops = append(ops, Op[T]{Kind: Delete, Tab: tab, Key: before}, Op[T]{Kind: Upsert, Tab: tab, Row: after})
			default:
				ops = append(ops, Op[T]{Kind: Upsert, Tab: tab, Row: after})
			}
		case record.OpDelete:
			if ch.Before == nil {
				skip(ctx, tab, "a delete without its old row")
				continue
			}
			switch {
			case tab.base().Keyed():
				ops = append(ops, Op[T]{Kind: Delete, Tab: tab, Key: ch.Before})
			case !ch.BeforeFull:
				skip(ctx, tab, "a delete from a table without a key whose old row is not logged in full")
			default:
				ops = append(ops, Op[T]{Kind: DeleteRow, Tab: tab, Key: ch.Before})
			}
		}
	}
	return ops
}

// known is row with Unchanged values (meaningless in an insert) as NULL.
func known(row record.Row) record.Row {
	if !hasUnchanged(row) {
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

// skipKey counts changes that cannot be applied, per table and reason.
type skipKey struct{ table, why string }

// Segment is a run of a batch between truncates: per table, its net
// changes, or (tables without a key, or whose net changes would need
// values the batch does not have) its changes in order.
type Segment[T Tab] struct {
	Nets []*Net[T]
	// Truncate lists the tables truncated after the segment, in order.
	Truncate []T
}

// Net is the net effect of a segment's changes on one table.
type Net[T Tab] struct {
	Tab T
	// Changes are the table's Changes in the segment, for the
	// transactional path.
	Changes []Change[T]
	// Transactional: apply changes one by one (no key, or a key change
	// whose Unchanged values no earlier change of the batch supplies).
	Transactional bool

	// Dels are the old rows (their key values) whose keys must not exist
	// before rows are written: deleted rows and old keys of key changes.
	Dels    []record.Row
	delKeys map[string]bool
	// Rows are the final Rows by their key; partial ones hold Unchanged
	// values (the target's values are kept).
	Rows map[string]netRow
	seq  int
}

type netRow struct {
	Row record.Row
	seq int
}

// Final lists the rows to write in the order of their last change: whole
// rows, then rows with Unchanged values.
func (n *Net[T]) Final() (whole, partial []record.Row) {
	list := make([]netRow, 0, len(n.Rows))
	for _, r := range n.Rows {
		list = append(list, r)
	}
	slices.SortFunc(list, func(a, b netRow) int { return cmp.Compare(a.seq, b.seq) })
	for _, r := range list {
		if hasUnchanged(r.Row) {
			partial = append(partial, r.Row)
		} else {
			whole = append(whole, r.Row)
		}
	}
	return whole, partial
}

func (n *Net[T]) del(key string, before record.Row) {
	if !n.delKeys[key] {
		n.delKeys[key] = true
		n.Dels = append(n.Dels, before)
	}
}

func (n *Net[T]) put(key string, row record.Row) {
	n.seq++
	if prev, ok := n.Rows[key]; ok {
		row = merge(prev.Row, row)
	}
	n.Rows[key] = netRow{Row: row, seq: n.seq}
}

// Add folds one change into the net changes: the last change of a key
// wins; an update merges into the row an earlier change wrote; a key
// change deletes the old key and carries the row to the new one.
func (n *Net[T]) Add(ch Change[T]) {
	n.Changes = append(n.Changes, ch)
	if n.Transactional {
		return
	}
	tab := n.Tab
	switch ch.Op {
	case record.OpInsert:
		if ch.After != nil {
			n.put(tab.base().KeyOf(ch.After), ch.After)
		}
	case record.OpDelete:
		if ch.Before != nil {
			k := tab.base().KeyOf(ch.Before)
			delete(n.Rows, k)
			n.del(k, ch.Before)
		}
	case record.OpUpdate:
		if ch.After == nil {
			return
		}
		before := ch.Before
		if before == nil {
			before = ch.After
		}
		after := tab.base().NewKeyRow(before, ch.After)
		kb, ka := tab.base().KeyOf(before), tab.base().KeyOf(after)
		if kb == ka {
			n.put(ka, after)
			return
		}
		prev, had := n.Rows[kb]
		delete(n.Rows, kb)
		n.del(kb, before)
		if had {
			after = merge(prev.Row, after)
		}
		if hasUnchanged(after) {
			// The values the new key's row keeps are those of the old
			// row on the target: only an update of the key keeps them.
			n.Transactional = true
			return
		}
		n.seq++
		n.Rows[ka] = netRow{Row: after, seq: n.seq}
	}
}

// Batch is a batch apply call prepared without a session: its tables, its
// segments, and the staging rows of each table's net changes.
type Batch[T Tab] struct {
	Tabs   []T
	Segs   []*Segment[T]
	Staged map[*Net[T]]*Staged
}

// Prepare resolves the changes of txs (Resolve), folds them into segments
// of net changes (Segments) and builds the staging rows of each net change
// that is not applied change by change.
func Prepare[T Tab](ctx context.Context, e Engine, tables map[string]*connector.TargetTable, txs []*record.Transaction,
	newTable func(tt *connector.TargetTable) (T, error)) (*Batch[T], error) {
	changes, tabs, err := Resolve(ctx, e, tables, txs, newTable)
	if err != nil {
		return nil, err
	}
	b := &Batch[T]{Tabs: tabs, Staged: map[*Net[T]]*Staged{}}
	if len(changes) == 0 {
		return b, nil
	}
	b.Segs = Segments(changes)
	for _, seg := range b.Segs {
		for _, n := range seg.Nets {
			if !n.Transactional {
				b.Staged[n] = n.Stage()
			}
		}
	}
	return b, nil
}

// Staged is a table's net changes as the rows of a staging table: each
// row holds the table's columns, then an op ("D": a key to delete, "U": a
// whole final row, "P": a final row with Unchanged values), then, for "P"
// rows, a mask with a 'u' for each Unchanged column ('-' otherwise). Dels,
// Whole and Partial count the rows of each op, in that order in Rows.
type Staged struct {
	Rows                 []record.Row
	Dels, Whole, Partial int
}

// Stage builds the staging rows of n (Final's order for the rows written),
// all in one backing array.
func (n *Net[T]) Stage() *Staged {
	b := n.Tab.base()
	whole, partial := n.Final()
	s := &Staged{Dels: len(n.Dels), Whole: len(whole), Partial: len(partial)}
	total := s.Dels + s.Whole + s.Partial
	if total == 0 {
		return s
	}
	ncols := len(b.T.Columns)
	width := ncols + 2
	vals := make([]any, total*width)
	s.Rows = make([]record.Row, 0, total)
	next := func() record.Row {
		r := record.Row(vals[:width:width])
		vals = vals[width:]
		s.Rows = append(s.Rows, r)
		return r
	}
	for _, d := range n.Dels {
		r := next()
		for _, k := range b.KeyIdx {
			r[k] = d[k]
		}
		r[ncols] = "D"
	}
	for _, w := range whole {
		r := next()
		copy(r, w)
		r[ncols] = "U"
	}
	mask := make([]byte, ncols)
	for _, p := range partial {
		r := next()
		for i, v := range p {
			if v == record.Unchanged {
				mask[i] = 'u'
			} else {
				mask[i], r[i] = '-', v
			}
		}
		r[ncols], r[ncols+1] = "P", string(mask)
	}
	return s
}

// Settle decides the path of a table once the segment is complete: a row
// with Unchanged values whose key is deleted first has nothing to keep.
func (n *Net[T]) Settle() {
	if n.Transactional || !n.Tab.base().Keyed() {
		n.Transactional = true
		return
	}
	for k, r := range n.Rows {
		if n.delKeys[k] && hasUnchanged(r.Row) {
			n.Transactional = true
			return
		}
	}
}

// Segments splits changes at truncates and folds each run into net
// changes per table.
func Segments[T Tab](changes []Change[T]) []*Segment[T] {
	var segs []*Segment[T]
	cur := &Segment[T]{}
	byTab := map[T]*Net[T]{}
	// Each table's share of the changes sizes its net changes up front
	// (a segment cut by a truncate gets at most that).
	count := map[T]int{}
	for _, ch := range changes {
		count[ch.Tab]++
	}
	flush := func() {
		for _, n := range cur.Nets {
			n.Settle()
		}
		segs = append(segs, cur)
	}
	for _, ch := range changes {
		if ch.Op == record.OpTruncate {
			// The truncate ends the current run.
			cur.Truncate = append(cur.Truncate, ch.Tab)
			continue
		}
		if len(cur.Truncate) > 0 {
			flush()
			cur = &Segment[T]{}
			byTab = map[T]*Net[T]{}
		}
		n := byTab[ch.Tab]
		if n == nil {
			c := count[ch.Tab]
			n = &Net[T]{Tab: ch.Tab, Changes: make([]Change[T], 0, c), delKeys: map[string]bool{}, Rows: make(map[string]netRow, c),
				Transactional: !ch.Tab.base().Keyed()}
			byTab[ch.Tab] = n
			cur.Nets = append(cur.Nets, n)
		}
		n.Add(ch)
	}
	flush()
	return segs
}

// Tab is a connector's per-call state of a target table: a pointer to a
// struct that embeds Table.
type Tab interface {
	comparable
	base() *Table
}

func (b *Table) base() *Table { return b }
