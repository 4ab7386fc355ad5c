package mapping

import (
	"cmp"
	"slices"
	"strings"

	"github.com/godwit-dms/godwit/internal/record"
)

// Plan applies the rules to the tables discovered on the source.
//
// Selection: a table is selected when an include or explicit rule matches
// it and no exclude rule does (exclude wins). When several include rules
// match, their filters are all applied (AND) and the highest load-order wins.
//
// Transformation: locators match source names. For one object, when several
// rules of the same kind of action match, the lowest rule-id wins (DMS allows
// one rule per object); different actions compose and are applied in a
// fixed order: rename, replace-prefix, replace-suffix, remove-prefix,
// remove-suffix, add-prefix, add-suffix, then case conversion
// (convert-lowercase and convert-uppercase are one kind). Schema rules, then
// table rules, then column rules. Data-masking rules of different kinds
// combine with each other and with change-data-type.
//
// Target columns are the kept source columns in source order, then
// add-column columns in rule-id order, then before-image columns.
//
// Tables are returned by load-order (higher first), then source schema, then
// source name. An empty result is not an error here.
func (m *Mappings) Plan(tables []*record.Table) ([]*TablePlan, error) {
	var plans []*TablePlan
	seen := map[[2]string]bool{}
	for _, t := range tables {
		if t == nil {
			continue
		}
		key := [2]string{t.Schema, t.Name}
		if seen[key] {
			continue
		}
		seen[key] = true
		incl := m.selectedBy(t)
		if len(incl) == 0 {
			continue
		}
		p, err := m.planTable(t, incl)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	slices.SortStableFunc(plans, func(a, b *TablePlan) int {
		if a.LoadOrder != b.LoadOrder {
			return cmp.Compare(b.LoadOrder, a.LoadOrder)
		}
		if c := strings.Compare(a.Source.Schema, b.Source.Schema); c != 0 {
			return c
		}
		return strings.Compare(a.Source.Name, b.Source.Name)
	})
	targets := map[[2]string]*TablePlan{}
	for _, p := range plans {
		key := [2]string{p.Target.Schema, p.Target.Name}
		if q, dup := targets[key]; dup {
			return nil, ruleErr(p.nameRule, "Tables %s and %s both map to target table %s; DMS can't replicate two source tables to one target table.",
				q.Source.QualifiedName(), p.Source.QualifiedName(), p.Target.QualifiedName())
		}
		targets[key] = p
	}
	return plans, nil
}

// selectedBy returns the include/explicit rules selecting t, or nil when t
// is not selected (no include matches, or an exclude does).
func (m *Mappings) selectedBy(t *record.Table) []*selectionRule {
	var incl []*selectionRule
	for _, s := range m.selections {
		if !s.schema.match(t.Schema) || !s.table.match(t.Name) {
			continue
		}
		if s.action == "exclude" {
			return nil
		}
		incl = append(incl, s)
	}
	return incl
}

// colProg says how Transform fills one target column.
type colProg struct {
	srcName  string // source column read (value or before-image); "" for add-column
	src      int    // its index in SourceColumns
	before   bool   // a before-image column
	expr     node   // bound add-column expression
	convert  bool   // change-data-type changed the kind
	fromKind record.Kind
	typ      record.Type
	masks    []maskOp
}

type maskOp struct {
	action string
	char   byte
}

// colState is a source column on its way to the target.
type colState struct {
	src      *record.Column
	name     string
	nameRule string // last rule that changed the name
	typ      record.Type
	typeRule string
	masks    []*transformRule
	keep     bool
}

type tableBuilder struct {
	t       *record.Table
	applied map[string]bool
}

func (b *tableBuilder) mark(ids ...string) {
	for _, id := range ids {
		b.applied[id] = true
	}
}

func (m *Mappings) planTable(t *record.Table, incl []*selectionRule) (*TablePlan, error) {
	b := &tableBuilder{t: t, applied: map[string]bool{}}
	p := &TablePlan{Source: t}
	for _, s := range incl {
		b.mark(s.id)
		p.LoadOrder = max(p.LoadOrder, s.loadOrder)
		for _, f := range s.filters {
			if err := checkFilter(s.id, t, f); err != nil {
				return nil, err
			}
			p.Filters = append(p.Filters, record.Filter{Column: f.Column, Conditions: slices.Clone(f.Conditions)})
		}
	}

	var schemaRules, tableRules, colRules []*transformRule
	var pkRule *transformRule
	for _, r := range m.transforms {
		if !r.loc.matchTable(t) {
			continue
		}
		switch r.target {
		case "schema":
			schemaRules = append(schemaRules, r)
		case "table":
			if r.action == "define-primary-key" {
				if pkRule == nil {
					pkRule = r
				}
				continue
			}
			tableRules = append(tableRules, r)
		case "column":
			colRules = append(colRules, r)
		}
		// table-tablespace and index-tablespace rules are Oracle-only and
		// accepted without effect.
	}

	schema, ids, changed := applyNames(t.Schema, schemaRules)
	b.mark(ids...)
	name, ids, tchanged := applyNames(t.Name, tableRules)
	b.mark(ids...)
	p.nameRule = cmp.Or(tchanged, changed)

	states, err := b.columnStates(colRules)
	if err != nil {
		return nil, err
	}
	var cols []ColumnPlan
	var progs []colProg
	var owners []string // rule that named each column, for duplicate errors
	targetOf := map[string]string{}
	for i := range states {
		st := &states[i]
		if !st.keep {
			continue
		}
		targetOf[st.src.Name] = st.name
		cols = append(cols, ColumnPlan{Name: st.name, Type: st.typ, Nullable: st.src.Nullable, Source: st.src.Name, Masks: maskNames(st.masks)})
		progs = append(progs, st.prog(false))
		owners = append(owners, st.nameRule)
	}

	// add-column: one column per new name, lowest rule-id first.
	bnd := &binder{column: func(n string) (*record.Column, bool) {
		c := t.Column(n)
		return c, c != nil
	}}
	added := map[string]bool{}
	for _, r := range colRules {
		if r.action != "add-column" || added[r.value] {
			continue
		}
		added[r.value] = true
		cp := colProg{src: -1, typ: r.dataType}
		if r.expr != nil {
			n, err := bind(r.expr, bnd)
			if err != nil {
				return nil, ruleErr(r.id, "The expression can't be applied to table %s: %v.", t.QualifiedName(), err)
			}
			cp.expr = n
		}
		b.mark(r.id)
		cols = append(cols, ColumnPlan{Name: r.value, Type: r.dataType, Nullable: true, Expression: r.exprText})
		progs = append(progs, cp)
		owners = append(owners, r.id)
	}

	// add-before-image-columns: the lowest rule-id matching the table.
	for _, r := range colRules {
		if r.action != "add-before-image-columns" {
			continue
		}
		key := t.Key()
		for i := range states {
			st := &states[i]
			if !st.keep || r.loc.hasColumn && !r.loc.column.match(st.src.Name) {
				continue
			}
			switch r.biFilter {
			case "pk-only":
				if !slices.Contains(key, st.src.Name) {
					continue
				}
			case "non-lob":
				if st.typ.Kind.IsLOB() {
					continue
				}
			}
			b.mark(r.id)
			cols = append(cols, ColumnPlan{Name: r.biPrefix + st.name + r.biSuffix, Type: st.typ, Nullable: true,
				BeforeImageOf: st.src.Name, Masks: maskNames(st.masks)})
			progs = append(progs, st.prog(true))
			owners = append(owners, r.id)
		}
		break
	}

	if len(cols) == 0 {
		id := ""
		for _, r := range colRules {
			if r.action == "include-column" || r.action == "remove-column" {
				id = r.id
				break
			}
		}
		return nil, ruleErr(id, "No columns of table %s are left for the target.", t.QualifiedName())
	}
	byName := map[string]int{}
	for i, c := range cols {
		if j, dup := byName[c.Name]; dup {
			return nil, ruleErr(cmp.Or(owners[i], owners[j]), "Column %s appears twice in target table %s.%s.", c.Name, schema, name)
		}
		byName[c.Name] = i
	}

	// SourceColumns: what the kept columns and the expressions read, in
	// source order.
	need := map[string]bool{}
	for _, c := range progs {
		if c.srcName != "" {
			need[c.srcName] = true
		}
	}
	for _, ref := range bnd.refs {
		need[ref.name] = true
	}
	index := map[string]int{}
	for _, c := range t.Columns {
		if need[c.Name] {
			if _, dup := index[c.Name]; dup {
				continue
			}
			index[c.Name] = len(p.SourceColumns)
			p.SourceColumns = append(p.SourceColumns, c.Name)
			p.srcKinds = append(p.srcKinds, c.Type.Kind)
		}
	}
	for i := range progs {
		if progs[i].srcName != "" {
			progs[i].src = index[progs[i].srcName]
		}
	}
	for _, ref := range bnd.refs {
		ref.idx = index[ref.name]
	}

	// Keys.
	mapKey := func(key []string) []string {
		out := make([]string, 0, len(key))
		for _, k := range key {
			n, ok := targetOf[k]
			if !ok {
				return nil
			}
			out = append(out, n)
		}
		return out
	}
	pk := mapKey(t.PrimaryKey)
	var uks [][]string
	for _, uk := range t.UniqueKeys {
		if k := mapKey(uk); len(k) > 0 {
			uks = append(uks, k)
		}
	}
	if pkRule != nil {
		keyCols := make([]string, 0, len(pkRule.pkCols))
		for _, c := range pkRule.pkCols {
			n := c
			if _, ok := byName[c]; !ok {
				if n, ok = targetOf[c]; !ok {
					return nil, ruleErr(pkRule.id, "primary-key-def column %s is not a column of target table %s.%s.", c, schema, name)
				}
			}
			keyCols = append(keyCols, n)
		}
		b.mark(pkRule.id)
		p.KeyName = pkRule.pkName
		if pkRule.pkOrigin == "unique-index" {
			uks = append([][]string{keyCols}, uks...)
		} else {
			pk = keyCols
			for _, n := range keyCols {
				cols[byName[n]].Nullable = false
			}
		}
	}
	if len(pk) == 0 {
		pk = nil
	}

	// Table settings: exact names; lowest rule-id per setting.
	for _, s := range m.settings {
		if s.schema != t.Schema || s.table != t.Name {
			continue
		}
		if s.parallel != nil && p.ParallelLoad == nil {
			if err := checkParallelLoad(s, t); err != nil {
				return nil, err
			}
			p.ParallelLoad = cloneParallelLoad(s.parallel)
			b.mark(s.id)
		}
		if s.lob != nil && p.LOB == nil {
			l := *s.lob
			p.LOB = &l
			b.mark(s.id)
		}
	}

	target := &record.Table{Schema: schema, Name: name, PrimaryKey: pk, UniqueKeys: uks,
		RowsEstimate: t.RowsEstimate, BytesEstimate: t.BytesEstimate}
	for _, c := range cols {
		target.Columns = append(target.Columns, record.Column{Name: c.Name, Type: c.Type, Nullable: c.Nullable})
	}
	p.Target, p.Columns, p.prog = target, cols, progs
	for id := range b.applied {
		p.RuleIDs = append(p.RuleIDs, id)
	}
	slices.SortFunc(p.RuleIDs, compareIDs)
	return p, nil
}

// columnStates applies the column rules to each source column: names,
// include/remove, change-data-type and masking.
func (b *tableBuilder) columnStates(colRules []*transformRule) ([]colState, error) {
	t := b.t
	includeMode := slices.ContainsFunc(colRules, func(r *transformRule) bool { return r.action == "include-column" })
	states := make([]colState, len(t.Columns))
	for i := range t.Columns {
		c := &t.Columns[i]
		st := colState{src: c, name: c.Name, typ: c.Type, keep: !includeMode}
		var nameRules []*transformRule
		var typeRule *transformRule
		removed := false
		for _, r := range colRules {
			if !r.loc.matchColumn(c) {
				continue
			}
			switch {
			case slices.Contains(nameActions, r.action):
				nameRules = append(nameRules, r)
			case r.action == "include-column":
				st.keep = true
				b.mark(r.id)
			case r.action == "remove-column":
				removed = true
				b.mark(r.id)
			case r.action == "change-data-type":
				if typeRule == nil {
					typeRule = r
				}
			case strings.HasPrefix(r.action, "data-masking-"):
				if !slices.ContainsFunc(st.masks, func(m *transformRule) bool { return m.action == r.action }) {
					st.masks = append(st.masks, r)
				}
			}
		}
		if removed {
			st.keep = false
		}
		if st.keep {
			var ids []string
			st.name, ids, st.nameRule = applyNames(c.Name, nameRules)
			b.mark(ids...)
			if typeRule != nil {
				st.typ = typeRule.dataType
				st.typeRule = typeRule.id
				b.mark(typeRule.id)
			}
			for _, r := range st.masks {
				if err := checkMask(r, t, c, st.typ); err != nil {
					return nil, err
				}
				b.mark(r.id)
			}
		}
		states[i] = st
	}
	return states, nil
}

func (st *colState) prog(before bool) colProg {
	cp := colProg{srcName: st.src.Name, before: before, fromKind: st.src.Type.Kind, typ: st.typ,
		convert: st.typ.Kind != st.src.Type.Kind}
	for _, r := range st.masks {
		cp.masks = append(cp.masks, maskOp{action: r.action, char: r.maskChar})
	}
	return cp
}

func maskNames(rs []*transformRule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.action)
	}
	return out
}

func checkMask(r *transformRule, t *record.Table, c *record.Column, typ record.Type) *Error {
	switch typ.Kind {
	case record.KindString, record.KindText:
		return nil
	case record.KindInt16, record.KindInt32, record.KindInt64, record.KindUint64, record.KindNumeric,
		record.KindFloat32, record.KindFloat64:
		if r.action == "data-masking-digits-randomize" {
			return nil
		}
	}
	return ruleErr(r.id, "%s can't be applied to column %s of table %s, which is %s; it needs a string column (use change-data-type).",
		r.action, c.Name, t.QualifiedName(), typ.Kind)
}

// nameOrder is the order in which name actions compose.
var nameOrder = map[string]int{
	"rename": 0, "replace-prefix": 1, "replace-suffix": 2, "remove-prefix": 3, "remove-suffix": 4,
	"add-prefix": 5, "add-suffix": 6, "convert-lowercase": 7, "convert-uppercase": 7,
}

// applyNames applies name actions (rules in rule-id order) to a name: the
// lowest rule-id per kind of action, composed in nameOrder. It returns the
// rules used and the last one that changed the name.
func applyNames(name string, rules []*transformRule) (string, []string, string) {
	var pick [8]*transformRule
	for _, r := range rules {
		k, ok := nameOrder[r.action]
		if ok && pick[k] == nil {
			pick[k] = r
		}
	}
	var ids []string
	changed := ""
	for _, r := range pick {
		if r == nil {
			continue
		}
		ids = append(ids, r.id)
		before := name
		switch r.action {
		case "rename":
			name = r.value
		case "convert-lowercase":
			name = strings.ToLower(name)
		case "convert-uppercase":
			name = strings.ToUpper(name)
		case "add-prefix":
			name = r.value + name
		case "add-suffix":
			name += r.value
		case "remove-prefix":
			name = strings.TrimPrefix(name, r.value)
		case "remove-suffix":
			name = strings.TrimSuffix(name, r.value)
		case "replace-prefix":
			if rest, ok := strings.CutPrefix(name, r.oldValue); ok {
				name = r.value + rest
			}
		case "replace-suffix":
			if rest, ok := strings.CutSuffix(name, r.oldValue); ok {
				name = rest + r.value
			}
		}
		if name != before {
			changed = r.id
		}
	}
	return name, ids, changed
}

// checkFilter checks a selection filter against the table it applies to.
func checkFilter(id string, t *record.Table, f record.Filter) *Error {
	c := t.Column(f.Column)
	if c == nil {
		return ruleErr(id, "Filter column %s is not a column of table %s.", f.Column, t.QualifiedName())
	}
	if c.Type.Kind.IsLOB() {
		return ruleErr(id, "Filter column %s of table %s is a LOB column; DMS can't filter on LOB columns.", f.Column, t.QualifiedName())
	}
	for _, cond := range f.Conditions {
		for _, v := range []string{cond.Value, cond.Start, cond.End} {
			if v == "" {
				continue
			}
			if _, err := fromSQL(v, c.Type); err != nil {
				return ruleErr(id, "Filter value %q is not valid for column %s (%s) of table %s.", v, c.Name, c.Type.Kind, t.QualifiedName())
			}
		}
	}
	return nil
}

func checkParallelLoad(s *settingsRule, t *record.Table) *Error {
	if s.parallel.Type != "ranges" {
		return nil
	}
	for _, name := range s.parallel.Columns {
		c := t.Column(name)
		if c == nil {
			return ruleErr(s.id, "parallel-load column %s is not a column of table %s.", name, t.QualifiedName())
		}
		switch k := c.Type.Kind; {
		case k.IsLOB(), k == record.KindFloat32, k == record.KindFloat64:
			return ruleErr(s.id, "parallel-load column %s of table %s is %s; ranges can't use LOB or floating-point columns.", name, t.QualifiedName(), k)
		}
	}
	return nil
}

func cloneParallelLoad(p *ParallelLoad) *ParallelLoad {
	c := *p
	c.Columns = slices.Clone(p.Columns)
	c.Partitions = slices.Clone(p.Partitions)
	c.Subpartitions = slices.Clone(p.Subpartitions)
	c.Boundaries = make([]record.Row, len(p.Boundaries))
	for i, r := range p.Boundaries {
		c.Boundaries[i] = slices.Clone(r)
	}
	return &c
}
