package mapping

import (
	"encoding/json"
	"math"
	"slices"
	"strings"

	"github.com/godwit-dms/godwit/internal/record"
)

type selectionRule struct {
	id, name  string
	action    string // include|exclude|explicit
	schema    pattern
	table     pattern
	tableType string // table|view|all; record.Table has no kind, so Plan cannot tell views apart
	loadOrder int
	filters   []record.Filter
}

// locator is a transformation object-locator. Names are matched against the
// source names (DMS: locators and expressions refer to the source).
type locator struct {
	schema, table, column pattern
	hasTable, hasColumn   bool
	dataType              string // object-locator data-type: select columns by DMS type
}

func (l *locator) matchTable(t *record.Table) bool {
	return l.schema.match(t.Schema) && (!l.hasTable || l.table.match(t.Name))
}

func (l *locator) matchColumn(c *record.Column) bool {
	if l.hasColumn && !l.column.match(c.Name) {
		return false
	}
	return l.dataType == "" || kindMatchesDataType(c.Type.Kind, l.dataType)
}

type transformRule struct {
	id, name string
	target   string // schema|table|column|table-tablespace|index-tablespace
	action   string
	loc      locator
	value    string
	oldValue string

	exprText string
	expr     node // parsed add-column expression, unbound; nil when none

	dataType record.Type

	pkName   string
	pkOrigin string // primary-key|unique-index
	pkCols   []string

	biPrefix, biSuffix, biFilter string

	maskChar byte // data-masking-digits-mask
}

type settingsRule struct {
	id, name      string
	schema, table string
	parallel      *ParallelLoad
	lob           *LOBSettings
}

const maxLoadOrder = math.MaxInt32

// Parse parses and validates a TableMappings document. Every problem is an
// *Error naming the rule (RuleID "" for the document itself).
func Parse(doc string) (*Mappings, error) {
	if strings.TrimSpace(doc) == "" {
		return nil, &Error{Reason: "Table mappings document is empty."}
	}
	top, perr := decodeObj(json.RawMessage(doc), "document", "")
	if perr != nil {
		return nil, &Error{Reason: "Table mappings must be a JSON object with a \"rules\" array."}
	}
	rules, ok, perr := top.array("rules")
	if perr != nil || !ok {
		return nil, &Error{Reason: "Table mappings must be a JSON object with a \"rules\" array."}
	}
	m := &Mappings{}
	seen := map[string]bool{}
	for i, raw := range rules {
		ro, perr := decodeObj(raw, "rule", "")
		if perr != nil {
			return nil, ruleErr("", "Rule %d of the rules array is not a JSON object.", i+1)
		}
		id, ok, perr := ro.str("rule-id")
		if perr != nil || !ok || id == "" {
			return nil, ruleErr("", "Rule %d of the rules array has no rule-id.", i+1)
		}
		ro.id = id
		if !isRuleID(id) {
			return nil, ruleErr(id, "rule-id must be a numeric string.")
		}
		key := normalizeID(id)
		if seen[key] {
			return nil, ruleErr(id, "Duplicate rule-id %s.", id)
		}
		seen[key] = true
		name, ok, perr := ro.str("rule-name")
		if perr != nil {
			return nil, perr
		}
		if !ok || strings.TrimSpace(name) == "" {
			return nil, ruleErr(id, "rule-name is required.")
		}
		typ, ok, perr := ro.str("rule-type")
		if perr != nil {
			return nil, perr
		}
		if !ok || typ == "" {
			return nil, ruleErr(id, "rule-type is required.")
		}
		switch typ {
		case "selection":
			r, err := parseSelection(ro, id, name)
			if err != nil {
				return nil, err
			}
			m.selections = append(m.selections, r)
		case "transformation":
			r, err := parseTransformation(ro, id, name)
			if err != nil {
				return nil, err
			}
			m.transforms = append(m.transforms, r)
		case "table-settings":
			r, err := parseSettings(ro, id, name)
			if err != nil {
				return nil, err
			}
			m.settings = append(m.settings, r)
		case "validation", "object-mapping", "post-processing":
			// Accepted and kept; Plan does not apply them (see the package doc).
			m.ignored = append(m.ignored, ignoredRule{id: id, typ: typ})
		default:
			return nil, ruleErr(id, "Unsupported rule-type %q.", typ)
		}
	}
	if len(m.selections) == 0 {
		return nil, &Error{Reason: "At least one selection rule is required."}
	}
	slices.SortStableFunc(m.selections, func(a, b *selectionRule) int { return compareIDs(a.id, b.id) })
	slices.SortStableFunc(m.transforms, func(a, b *transformRule) int { return compareIDs(a.id, b.id) })
	slices.SortStableFunc(m.settings, func(a, b *settingsRule) int { return compareIDs(a.id, b.id) })
	return m, nil
}

func isRuleID(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func normalizeID(s string) string {
	t := strings.TrimLeft(s, "0")
	if t == "" {
		return "0"
	}
	return t
}

// compareIDs orders numeric rule ids by value.
func compareIDs(a, b string) int {
	a, b = normalizeID(a), normalizeID(b)
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func requiredName(o obj, key string) (string, *Error) {
	s, ok, err := o.str(key)
	if err != nil {
		return "", err
	}
	if !ok || s == "" {
		return "", ruleErr(o.id, "%s is required.", o.name(key))
	}
	return s, nil
}

// ---- selection --------------------------------------------------------------

func parseSelection(o obj, id, name string) (*selectionRule, *Error) {
	r := &selectionRule{id: id, name: name}
	action, _, err := o.str("rule-action")
	if err != nil {
		return nil, err
	}
	switch action {
	case "include", "exclude", "explicit":
		r.action = action
	case "":
		return nil, ruleErr(id, "rule-action is required.")
	default:
		return nil, ruleErr(id, "Invalid rule-action %q for a selection rule; use include, exclude or explicit.", action)
	}
	loc, ok, err := o.object("object-locator")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ruleErr(id, "object-locator is required.")
	}
	schema, err := requiredName(loc, "schema-name")
	if err != nil {
		return nil, err
	}
	table, err := requiredName(loc, "table-name")
	if err != nil {
		return nil, err
	}
	if r.action == "explicit" {
		if strings.Contains(schema, "%") || strings.Contains(table, "%") {
			return nil, ruleErr(id, "Wildcards are not allowed in an explicit selection rule; give the exact schema and table name.")
		}
		r.schema, r.table = exactPattern(schema), exactPattern(table)
	} else {
		r.schema, r.table = compilePattern(schema), compilePattern(table)
	}
	tt, _, err := loc.str("table-type")
	if err != nil {
		return nil, err
	}
	switch tt {
	case "", "table", "view", "all":
		r.tableType = tt
	default:
		return nil, ruleErr(id, "Invalid object-locator.table-type %q; use table, view or all.", tt)
	}
	lo, _, err := o.int("load-order", 0, maxLoadOrder)
	if err != nil {
		return nil, err
	}
	r.loadOrder = int(lo)
	filters, _, err := o.array("filters")
	if err != nil {
		return nil, err
	}
	if len(filters) > 0 && r.action != "include" {
		return nil, ruleErr(id, "Filters are allowed only in a selection rule with rule-action include.")
	}
	for i, raw := range filters {
		f, err := parseFilter(raw, id, i+1)
		if err != nil {
			return nil, err
		}
		r.filters = append(r.filters, f)
	}
	return r, nil
}

func parseFilter(raw json.RawMessage, id string, n int) (record.Filter, *Error) {
	o, err := decodeObj(raw, "filter", id)
	if err != nil {
		return record.Filter{}, ruleErr(id, "Filter %d is not a JSON object.", n)
	}
	ft, _, err := o.str("filter-type")
	if err != nil {
		return record.Filter{}, err
	}
	if ft != "source" {
		return record.Filter{}, ruleErr(id, "Filter %d: filter-type must be \"source\".", n)
	}
	col, _, err := o.str("column-name")
	if err != nil {
		return record.Filter{}, err
	}
	if col == "" {
		return record.Filter{}, ruleErr(id, "Filter %d: column-name is required.", n)
	}
	conds, _, err := o.array("filter-conditions")
	if err != nil {
		return record.Filter{}, err
	}
	if len(conds) == 0 {
		return record.Filter{}, ruleErr(id, "Filter %d on column %s has no filter-conditions.", n, col)
	}
	f := record.Filter{Column: col}
	for i, craw := range conds {
		co, err := decodeObj(craw, "filter-condition", id)
		if err != nil {
			return record.Filter{}, ruleErr(id, "Filter %d: condition %d is not a JSON object.", n, i+1)
		}
		op, _, err := co.str("filter-operator")
		if err != nil {
			return record.Filter{}, err
		}
		c := record.Condition{}
		need := func(key string) (string, *Error) {
			v, ok, err := co.str(key)
			if err != nil {
				return "", err
			}
			if !ok {
				return "", ruleErr(id, "Filter %d on column %s: operator %s needs %s.", n, col, op, key)
			}
			return v, nil
		}
		switch op {
		case "eq", "noteq", "lte", "ste", "gte":
			c.Op = record.Op(op)
			if op == "ste" {
				c.Op = record.OpLte
			}
			if c.Value, err = need("value"); err != nil {
				return record.Filter{}, err
			}
		case "between", "notbetween":
			c.Op = record.Op(op)
			if c.Start, err = need("start-value"); err != nil {
				return record.Filter{}, err
			}
			if c.End, err = need("end-value"); err != nil {
				return record.Filter{}, err
			}
		case "null", "notnull":
			c.Op = record.Op(op)
		case "":
			return record.Filter{}, ruleErr(id, "Filter %d on column %s: filter-operator is required.", n, col)
		default:
			return record.Filter{}, ruleErr(id, "Filter %d on column %s: unsupported filter-operator %q.", n, col, op)
		}
		f.Conditions = append(f.Conditions, c)
	}
	if len(f.Conditions) > 1 {
		for _, c := range f.Conditions {
			if c.Op == record.OpNotEq || c.Op == record.OpNotBetween || c.Op == record.OpNotNull {
				return record.Filter{}, ruleErr(id, "Filter %d on column %s: a %s condition must be the only condition in its filter.", n, col, c.Op)
			}
		}
	}
	return f, nil
}

// ---- transformation -----------------------------------------------------------

var nameActions = []string{"rename", "convert-lowercase", "convert-uppercase", "add-prefix", "add-suffix",
	"remove-prefix", "remove-suffix", "replace-prefix", "replace-suffix"}

var columnOnlyActions = []string{"add-column", "include-column", "remove-column", "change-data-type",
	"add-before-image-columns", "data-masking-digits-mask", "data-masking-digits-randomize", "data-masking-hash-mask"}

func parseTransformation(o obj, id, name string) (*transformRule, *Error) {
	r := &transformRule{id: id, name: name}
	var err *Error
	if r.target, _, err = o.str("rule-target"); err != nil {
		return nil, err
	}
	switch r.target {
	case "schema", "table", "column", "table-tablespace", "index-tablespace":
	case "":
		return nil, ruleErr(id, "rule-target is required.")
	default:
		return nil, ruleErr(id, "Invalid rule-target %q; use schema, table, column, table-tablespace or index-tablespace.", r.target)
	}
	if r.action, _, err = o.str("rule-action"); err != nil {
		return nil, err
	}
	if r.action == "" {
		return nil, ruleErr(id, "rule-action is required.")
	}
	isName := slices.Contains(nameActions, r.action)
	isColumn := slices.Contains(columnOnlyActions, r.action)
	switch {
	case !isName && !isColumn && r.action != "define-primary-key":
		return nil, ruleErr(id, "Unsupported rule-action %q for a transformation rule.", r.action)
	case isColumn && r.target != "column":
		return nil, ruleErr(id, "rule-action %s requires rule-target column.", r.action)
	case r.action == "define-primary-key" && r.target != "table":
		return nil, ruleErr(id, "rule-action define-primary-key requires rule-target table.")
	}

	loc, ok, err := o.object("object-locator")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ruleErr(id, "object-locator is required.")
	}
	if err := r.parseLocator(loc); err != nil {
		return nil, err
	}

	value, hasValue, err := o.str("value")
	if err != nil {
		return nil, err
	}
	r.value = value
	needValue := func() *Error {
		if value == "" {
			return ruleErr(id, "value is required for rule-action %s.", r.action)
		}
		return nil
	}
	switch r.action {
	case "rename", "add-prefix", "add-suffix", "remove-prefix", "remove-suffix":
		if err := needValue(); err != nil {
			return nil, err
		}
	case "replace-prefix", "replace-suffix":
		old, _, err := o.str("old-value")
		if err != nil {
			return nil, err
		}
		if old == "" {
			return nil, ruleErr(id, "old-value is required for rule-action %s.", r.action)
		}
		if !hasValue {
			return nil, ruleErr(id, "value is required for rule-action %s.", r.action)
		}
		r.oldValue = old
	case "add-column":
		if err := needValue(); err != nil {
			return nil, err
		}
		if err := r.parseDataType(o); err != nil {
			return nil, err
		}
		expr, _, err := o.str("expression")
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(expr) != "" {
			n, perr := parseExpr(expr)
			if perr != nil {
				return nil, ruleErr(id, "Invalid expression: %v.", perr)
			}
			r.exprText, r.expr = expr, n
		}
	case "change-data-type":
		if err := r.parseDataType(o); err != nil {
			return nil, err
		}
	case "define-primary-key":
		if err := r.parsePK(o); err != nil {
			return nil, err
		}
	case "add-before-image-columns":
		if err := r.parseBeforeImage(o); err != nil {
			return nil, err
		}
	case "data-masking-digits-mask":
		r.maskChar = '*'
		if hasValue {
			if len(value) != 1 || value[0] <= ' ' || value[0] > '~' {
				return nil, ruleErr(id, "value of data-masking-digits-mask must be one printable ASCII character other than a space.")
			}
			r.maskChar = value[0]
		}
	}
	return r, nil
}

func (r *transformRule) parseLocator(loc obj) *Error {
	schema, err := requiredName(loc, "schema-name")
	if err != nil {
		return err
	}
	table, hasTable, err := loc.str("table-name")
	if err != nil {
		return err
	}
	column, hasColumn, err := loc.str("column-name")
	if err != nil {
		return err
	}
	dt, _, err := loc.str("data-type")
	if err != nil {
		return err
	}
	hasTable = hasTable && table != ""
	hasColumn = hasColumn && column != ""
	switch r.target {
	case "table":
		if !hasTable {
			return ruleErr(r.id, "object-locator.table-name is required for rule-target table.")
		}
	case "column":
		if !hasTable {
			return ruleErr(r.id, "object-locator.table-name is required for rule-target column.")
		}
		switch r.action {
		case "add-column", "add-before-image-columns":
		default:
			if !hasColumn && dt == "" {
				return ruleErr(r.id, "object-locator.column-name is required for rule-action %s.", r.action)
			}
		}
	}
	if dt != "" {
		if _, ok := dataTypeKind(dt); !ok {
			return ruleErr(r.id, "Unsupported object-locator.data-type %q.", dt)
		}
		if r.target != "column" {
			return ruleErr(r.id, "object-locator.data-type applies only to rule-target column.")
		}
	}
	if r.action == "define-primary-key" {
		if strings.Contains(schema, "%") || strings.Contains(table, "%") {
			return ruleErr(r.id, "Wildcards are not allowed in the object-locator of a define-primary-key rule.")
		}
		r.loc = locator{schema: exactPattern(schema), table: exactPattern(table), hasTable: true}
		return nil
	}
	r.loc = locator{schema: compilePattern(schema), hasTable: hasTable, hasColumn: hasColumn, dataType: dt}
	if hasTable {
		r.loc.table = compilePattern(table)
	}
	if hasColumn {
		r.loc.column = compilePattern(column)
	}
	return nil
}

func (r *transformRule) parseDataType(o obj) *Error {
	dto, ok, err := o.object("data-type")
	if err != nil {
		return err
	}
	if !ok {
		return ruleErr(r.id, "data-type is required for rule-action %s.", r.action)
	}
	t, err := parseDataType(dto)
	if err != nil {
		return err
	}
	r.dataType = t
	return nil
}

func (r *transformRule) parsePK(o obj) *Error {
	def, ok, err := o.object("primary-key-def")
	if err != nil {
		return err
	}
	if !ok {
		return ruleErr(r.id, "primary-key-def is required for rule-action define-primary-key.")
	}
	if r.pkName, err = requiredName(def, "name"); err != nil {
		return err
	}
	origin, _, err := def.str("origin")
	if err != nil {
		return err
	}
	switch origin {
	case "":
		origin = "primary-key"
	case "primary-key", "unique-index":
	default:
		return ruleErr(r.id, "Invalid primary-key-def.origin %q; use primary-key or unique-index.", origin)
	}
	r.pkOrigin = origin
	cols, _, err := def.strList("columns")
	if err != nil {
		return err
	}
	if len(cols) == 0 {
		return ruleErr(r.id, "primary-key-def.columns must list at least one column.")
	}
	seen := map[string]bool{}
	for _, c := range cols {
		switch {
		case c == "":
			return ruleErr(r.id, "primary-key-def.columns has an empty column name.")
		case strings.Contains(c, "%"):
			return ruleErr(r.id, "Wildcards are not allowed in primary-key-def.columns.")
		case seen[c]:
			return ruleErr(r.id, "primary-key-def.columns lists %s twice.", c)
		}
		seen[c] = true
	}
	r.pkCols = cols
	return nil
}

func (r *transformRule) parseBeforeImage(o obj) *Error {
	r.biPrefix, r.biFilter = "BI_", "pk-only"
	def, ok, err := o.object("before-image-def")
	if err != nil || !ok {
		return err
	}
	if p, ok, err := def.str("column-prefix"); err != nil {
		return err
	} else if ok {
		r.biPrefix = p
	}
	if s, ok, err := def.str("column-suffix"); err != nil {
		return err
	} else if ok {
		r.biSuffix = s
	}
	if r.biPrefix == "" && r.biSuffix == "" {
		return ruleErr(r.id, "before-image-def needs a column-prefix or a column-suffix.")
	}
	f, ok, err := def.str("column-filter")
	if err != nil {
		return err
	}
	if ok {
		switch f {
		case "pk-only", "non-lob", "all":
			r.biFilter = f
		default:
			return ruleErr(r.id, "Invalid before-image-def.column-filter %q; use pk-only, non-lob or all.", f)
		}
	}
	return nil
}

// ---- table settings -------------------------------------------------------------

const exactNameMessage = "Exact schema and table name required when using table settings rule."

func parseSettings(o obj, id, name string) (*settingsRule, *Error) {
	r := &settingsRule{id: id, name: name}
	loc, ok, err := o.object("object-locator")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ruleErr(id, exactNameMessage)
	}
	if r.schema, _, err = loc.str("schema-name"); err != nil {
		return nil, err
	}
	if r.table, _, err = loc.str("table-name"); err != nil {
		return nil, err
	}
	if r.schema == "" || r.table == "" || strings.Contains(r.schema, "%") || strings.Contains(r.table, "%") {
		return nil, ruleErr(id, exactNameMessage)
	}
	if pl, ok, err := o.object("parallel-load"); err != nil {
		return nil, err
	} else if ok {
		if r.parallel, err = parseParallelLoad(pl); err != nil {
			return nil, err
		}
	}
	if lo, ok, err := o.object("lob-settings"); err != nil {
		return nil, err
	} else if ok {
		mode, _, err := lo.str("mode")
		if err != nil {
			return nil, err
		}
		switch mode {
		case "limited", "unlimited", "none":
		case "":
			return nil, ruleErr(id, "lob-settings.mode is required.")
		default:
			return nil, ruleErr(id, "Invalid lob-settings.mode %q; use limited, unlimited or none.", mode)
		}
		size, _, err := lo.int("bulk-max-size", 0, math.MaxInt32)
		if err != nil {
			return nil, err
		}
		r.lob = &LOBSettings{Mode: mode, BulkMaxSizeKB: int(size)}
	}
	return r, nil
}

func parseParallelLoad(o obj) (*ParallelLoad, *Error) {
	id := o.id
	typ, _, err := o.str("type")
	if err != nil {
		return nil, err
	}
	p := &ParallelLoad{Type: typ}
	switch typ {
	case "partitions-auto", "subpartitions-auto", "partitions-list", "ranges", "none":
	case "":
		return nil, ruleErr(id, "parallel-load.type is required.")
	default:
		return nil, ruleErr(id, "Invalid parallel-load.type %q; use partitions-auto, subpartitions-auto, partitions-list, ranges or none.", typ)
	}
	if p.Columns, _, err = o.strList("columns"); err != nil {
		return nil, err
	}
	if p.Partitions, _, err = o.strList("partitions"); err != nil {
		return nil, err
	}
	if p.Subpartitions, _, err = o.strList("subpartitions"); err != nil {
		return nil, err
	}
	n, _, err := o.int("number-of-partitions", 0, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	p.NumberOfPartitions = int(n)
	bounds, _, err := o.array("boundaries")
	if err != nil {
		return nil, err
	}
	for i, raw := range bounds {
		var vals []json.RawMessage
		if json.Unmarshal(raw, &vals) != nil {
			return nil, ruleErr(id, "parallel-load.boundaries[%d] must be an array of values.", i)
		}
		row := make(record.Row, len(vals))
		for j, v := range vals {
			s, ok, bad := scalarText(v)
			if bad {
				return nil, ruleErr(id, "parallel-load.boundaries[%d][%d] must be a string or a number.", i, j)
			}
			if ok {
				row[j] = s
			}
		}
		p.Boundaries = append(p.Boundaries, row)
	}
	switch typ {
	case "ranges":
		if len(p.Columns) == 0 {
			return nil, ruleErr(id, "parallel-load type ranges needs columns.")
		}
		if len(p.Columns) > 10 {
			return nil, ruleErr(id, "parallel-load type ranges allows at most 10 columns.")
		}
		seen := map[string]bool{}
		for _, c := range p.Columns {
			if c == "" || seen[c] {
				return nil, ruleErr(id, "parallel-load.columns must be distinct, non-empty column names.")
			}
			seen[c] = true
		}
		if len(p.Boundaries) == 0 {
			return nil, ruleErr(id, "parallel-load type ranges needs boundaries.")
		}
		for i, b := range p.Boundaries {
			if len(b) != len(p.Columns) {
				return nil, ruleErr(id, "parallel-load.boundaries[%d] has %d values but there are %d columns.", i, len(b), len(p.Columns))
			}
		}
	case "partitions-list":
		if len(p.Partitions) == 0 && len(p.Subpartitions) == 0 {
			return nil, ruleErr(id, "parallel-load type partitions-list needs partitions.")
		}
	}
	return p, nil
}
