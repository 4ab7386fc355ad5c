package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/record"
)

// shapeTracker follows the DDL of a task's source tables during change
// processing (cdc.ShapeTracker). A source reports a table's new shape with
// the first change made after the DDL (PostgreSQL's Relation message, a
// MySQL table definition read again after ALTER TABLE); the tracker
// compares it with the shape the target reflects, works out the column
// changes (added, dropped, renamed, retyped), applies them to the target
// through its mapped names when HandleSourceTableAltered says so, and
// re-plans the table's rules on the new shape.
//
// The shape the target reflects is kept on the task (CDCShapes), so a
// table altered while the task was stopped is still brought along when
// the task resumes.
type shapeTracker struct {
	maps     *mapping.Mappings
	settings *tasksettings.Settings
	// changer alters target tables; nil when the target cannot (the
	// target then keeps its shape).
	changer connector.SchemaChanger
	known   map[string]*record.Table // by "schema.table": the shape the target reflects
	plans   map[string]*mapping.TablePlan
	// same remembers change shapes found equal to a known shape.
	same map[*record.Table]*record.Table
	save func(key string, shape json.RawMessage) error
	log  *slog.Logger
	// reshaped, when set, hears of a table's new plan and target table.
	reshaped func(key string, p *mapping.TablePlan, tt *connector.TargetTable)
}

// newShapeTracker starts from the plans of the run and the shapes saved
// by earlier runs (saved); targets gets the target tables of the saved
// shapes.
func newShapeTracker(maps *mapping.Mappings, settings *tasksettings.Settings, plans []*mapping.TablePlan,
	saved map[string]json.RawMessage, targets map[string]*connector.TargetTable, changer connector.SchemaChanger,
	save func(key string, shape json.RawMessage) error, log *slog.Logger) *shapeTracker {
	s := &shapeTracker{maps: maps, settings: settings, changer: changer, known: map[string]*record.Table{},
		plans: map[string]*mapping.TablePlan{}, same: map[*record.Table]*record.Table{}, save: save, log: log}
	for _, p := range plans {
		k := p.Source.Schema + "." + p.Source.Name
		s.known[k], s.plans[k] = p.Source, p
		raw := saved[k]
		if raw == nil {
			continue
		}
		var t record.Table
		if err := json.Unmarshal(raw, &t); err != nil {
			log.Warn("the saved shape of a table cannot be read; using its shape now", "table", k, "err", err)
			continue
		}
		np, err := maps.Plan([]*record.Table{&t})
		if err != nil || len(np) != 1 {
			log.Warn("the table mappings do not apply to the saved shape of a table; using its shape now", "table", k, "err", err)
			continue
		}
		s.known[k], s.plans[k] = &t, np[0]
		targets[k] = targetTable(np[0], settings)
	}
	return s
}

// Altered says whether c's table shape differs from the one the target reflects.
func (s *shapeTracker) Altered(c *record.Change) bool {
	if c.Table == nil || c.Op == record.OpTruncate || c.Op == record.OpDropTable {
		return false
	}
	known := s.known[c.Table.Schema+"."+c.Table.Name]
	if known == nil || known == c.Table || s.same[c.Table] == known {
		return false
	}
	if sameShape(known, c.Table) {
		s.same[c.Table] = known
		return false
	}
	return true
}

// Alter brings the target along to t's shape.
func (s *shapeTracker) Alter(ctx context.Context, tables map[string]*connector.TargetTable, t *record.Table) (int, error) {
	k := t.Schema + "." + t.Name
	old, oldPlan, oldTT := s.known[k], s.plans[k], tables[k]
	if old == nil || oldTT == nil {
		return 0, nil
	}
	plans, err := s.maps.Plan([]*record.Table{t})
	if err != nil {
		return 0, fmt.Errorf("the table mappings do not apply to the table's new shape: %w", err)
	}
	if len(plans) != 1 {
		return 0, fmt.Errorf("the table mappings no longer select the table after its DDL")
	}
	np := plans[0]
	ops := diffShapes(old, t)
	newTT := targetTable(np, s.settings)
	applied := 0
	if s.settings.ChangeProcessingDdlHandlingPolicy.HandleSourceTableAltered && s.changer != nil {
		if applied, err = s.applyOps(ctx, oldTT.Target, oldPlan, np, ops); err != nil {
			return applied, err
		}
		tables[k] = newTT
	} else {
		// The target keeps its columns: rows of the new shape fill those
		// of its columns the new plan still has, NULL the others.
		tables[k] = projected(newTT, oldTT.Target)
		s.log.Warn("source DDL not applied to the target (HandleSourceTableAltered is false or the target cannot be altered)",
			"table", k, "ddl", fmt.Sprint(ops))
	}
	s.known[k], s.plans[k] = t, np
	if s.reshaped != nil {
		s.reshaped(k, np, tables[k])
	}
	raw, err := json.Marshal(t)
	if err == nil {
		err = s.save(k, raw)
	}
	if err != nil {
		return applied, fmt.Errorf("recording the table's new shape: %w", err)
	}
	return applied, nil
}

// Dropped drops the target table of t when HandleSourceTableDropped says
// so and the target can; either way the table's later changes (were it
// created again) are not applied.
func (s *shapeTracker) Dropped(ctx context.Context, tables map[string]*connector.TargetTable, t *record.Table) (int, error) {
	k := t.Schema + "." + t.Name
	tt := tables[k]
	if tt == nil {
		return 0, nil
	}
	delete(tables, k)
	delete(s.known, k)
	dropper, ok := s.changer.(connector.TableDropper)
	if !s.settings.ChangeProcessingDdlHandlingPolicy.HandleSourceTableDropped || !ok {
		s.log.Warn("source table dropped; the target table is kept (HandleSourceTableDropped is false or the target cannot drop it)", "table", k)
		return 0, nil
	}
	if err := dropper.DropTable(ctx, tt.Target); err != nil {
		return 0, err
	}
	s.log.Info("source table dropped; target table dropped", "table", k, "target", tt.Target.Schema+"."+tt.Target.Name)
	return 1, nil
}

// applyOps applies ops to the target table tgt, naming columns as the old
// plan (columns dropped or renamed) and the new plan (columns added,
// renamed or retyped) do. It returns the statements applied.
func (s *shapeTracker) applyOps(ctx context.Context, tgt *record.Table, oldPlan, np *mapping.TablePlan, ops []shapeOp) (int, error) {
	n := 0
	for _, op := range ops {
		var err error
		switch op.kind {
		case opAdd:
			for i, cp := range np.Columns {
				if cp.Source == op.col.Name && err == nil {
					err = s.changer.AddColumn(ctx, tgt, np.Target.Columns[i])
					n++
				}
			}
		case opDrop:
			for _, cp := range oldPlan.Columns {
				if cp.Source == op.from && err == nil {
					err = s.changer.DropColumn(ctx, tgt, cp.Name)
					n++
				}
			}
		case opRename:
			from, to := targetNames(oldPlan, op.from), targetNames(np, op.col.Name)
			for i := range min(len(from), len(to)) {
				if from[i] != to[i] && err == nil {
					err = s.changer.RenameColumn(ctx, tgt, from[i], to[i])
					n++
				}
			}
		case opRetype:
			for i, cp := range np.Columns {
				if cp.Source == op.col.Name && err == nil {
					err = s.changer.RetypeColumn(ctx, tgt, np.Target.Columns[i])
					n++
				}
			}
		}
		if err != nil {
			return n, err
		}
		s.log.Info("source DDL applied to the target", "table", tgt.Schema+"."+tgt.Name, "ddl", op.String())
	}
	return n, nil
}

// targetNames are the target columns a plan fills from the source column src.
func targetNames(p *mapping.TablePlan, src string) []string {
	var out []string
	for _, cp := range p.Columns {
		if cp.Source == src {
			out = append(out, cp.Name)
		}
	}
	return out
}

// projected is tt writing into the columns of target (by name) instead of
// its own.
func projected(tt *connector.TargetTable, target *record.Table) *connector.TargetTable {
	pos := make([]int, len(target.Columns))
	for i, c := range target.Columns {
		pos[i] = -1
		for j, d := range tt.Target.Columns {
			if d.Name == c.Name {
				pos[i] = j
			}
		}
	}
	return &connector.TargetTable{Target: target, Key: target.Key(), Transform: func(src record.Row) (record.Row, error) {
		if src == nil {
			return nil, nil
		}
		row, err := tt.Row(src)
		if err != nil || row == nil {
			return row, err
		}
		out := make(record.Row, len(pos))
		for i, j := range pos {
			if j >= 0 {
				out[i] = row[j]
			}
		}
		return out, nil
	}}
}

type shapeOpKind int

const (
	opAdd shapeOpKind = iota
	opDrop
	opRename
	opRetype
)

// shapeOp is one column change between two shapes of a table.
type shapeOp struct {
	kind shapeOpKind
	col  record.Column // the column in the new shape (add, rename, retype)
	from string        // the column's name in the old shape (drop, rename)
}

func (o shapeOp) String() string {
	switch o.kind {
	case opAdd:
		return "ADD COLUMN " + o.col.Name + " " + o.col.Type.Native
	case opDrop:
		return "DROP COLUMN " + o.from
	case opRename:
		return "RENAME COLUMN " + o.from + " TO " + o.col.Name
	}
	return "ALTER COLUMN " + o.col.Name + " TYPE " + o.col.Type.Native
}

// sameShape: the same columns, in the same order, of the same types.
func sameShape(a, b *record.Table) bool {
	if len(a.Columns) != len(b.Columns) {
		return false
	}
	for i := range a.Columns {
		if a.Columns[i].Name != b.Columns[i].Name || !sameType(a.Columns[i].Type, b.Columns[i].Type) {
			return false
		}
	}
	return true
}

func sameType(a, b record.Type) bool {
	return a.Kind == b.Kind && a.Native == b.Native
}

// diffShapes works out the column changes from old to new. Columns are
// matched by name; a column of old missing from new and a column of new
// missing from old are one renamed column when they have the same type and
// sit after the same column that both shapes have (a rename keeps a
// column's place, an added column goes last). Renames come first, then
// drops, adds and type changes.
func diffShapes(old, new *record.Table) []shapeOp {
	in := func(t *record.Table, name string) bool { return t.Column(name) != nil }
	// after is the nearest earlier column of t that other has too.
	after := func(t, other *record.Table, i int) string {
		for j := i - 1; j >= 0; j-- {
			if in(other, t.Columns[j].Name) {
				return t.Columns[j].Name
			}
		}
		return ""
	}
	var renames, drops, adds, retypes []shapeOp
	renamed := map[string]bool{}
	for i, c := range old.Columns {
		if in(new, c.Name) {
			continue
		}
		op := shapeOp{kind: opDrop, from: c.Name}
		for j, d := range new.Columns {
			if !in(old, d.Name) && !renamed[d.Name] && sameType(c.Type, d.Type) && after(old, new, i) == after(new, old, j) {
				op = shapeOp{kind: opRename, from: c.Name, col: d}
				renamed[d.Name] = true
				break
			}
		}
		if op.kind == opRename {
			renames = append(renames, op)
		} else {
			drops = append(drops, op)
		}
	}
	for _, d := range new.Columns {
		switch {
		case !in(old, d.Name) && !renamed[d.Name]:
			adds = append(adds, shapeOp{kind: opAdd, col: d})
		case in(old, d.Name) && !sameType(old.Column(d.Name).Type, d.Type):
			retypes = append(retypes, shapeOp{kind: opRetype, col: d, from: d.Name})
		}
	}
	return append(append(append(renames, drops...), adds...), retypes...)
}
