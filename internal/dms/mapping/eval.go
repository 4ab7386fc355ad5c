package mapping

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/godwit-dms/godwit/internal/record"
)

// node is an expression tree node. Values are SQLite storage classes: nil,
// int64, float64, string, []byte.
type node interface {
	eval(c *evalCtx) (any, error)
}

// evalCtx is one row's evaluation.
type evalCtx struct {
	row           record.Row
	kinds         []record.Kind
	meta          *RowMeta
	schema, table string
	now           time.Time
}

// clock returns 'now', fixed for the row as SQLite fixes it per statement.
func (c *evalCtx) clock() time.Time {
	if c.now.IsZero() {
		c.now = time.Now().UTC()
	}
	return c.now
}

type litNode struct{ v any }

func (n *litNode) eval(*evalCtx) (any, error) { return n.v, nil }

// colNode is a $column reference; idx is its position in SourceColumns
// once bound by Plan.
type colNode struct {
	name string
	idx  int
	kind record.Kind
}

func (n *colNode) eval(c *evalCtx) (any, error) {
	if n.idx < 0 || n.idx >= len(c.row) {
		return nil, fmt.Errorf("column $%s is not bound", n.name)
	}
	return sqlValue(c.row[n.idx], n.kind, true), nil
}

type header uint8

const (
	hOperation header = iota
	hTimestamp
	hCommitTimestamp
	hChangeSeq
	hStreamPosition
	hUser
	hTransactionID
	mSourceSchema
	mSourceTable
	mSourceColumn
	mSourceColumnType
)

var headerNames = map[string]header{
	"AR_H_OPERATION":              hOperation,
	"AR_H_TIMESTAMP":              hTimestamp,
	"AR_H_COMMIT_TIMESTAMP":       hCommitTimestamp,
	"AR_H_CHANGE_SEQ":             hChangeSeq,
	"AR_H_STREAM_POSITION":        hStreamPosition,
	"AR_H_USER":                   hUser,
	"AR_H_TRANSACTION_ID":         hTransactionID,
	"AR_M_SOURCE_SCHEMA":          mSourceSchema,
	"AR_M_SOURCE_TABLE_NAME":      mSourceTable,
	"AR_M_SOURCE_COLUMN_NAME":     mSourceColumn,
	"AR_M_SOURCE_COLUMN_DATATYPE": mSourceColumnType,
}

type headerNode struct {
	h    header
	name string
}

func (n *headerNode) eval(c *evalCtx) (any, error) {
	m := c.meta
	switch n.h {
	case hOperation:
		if m.Operation == "" {
			return "INSERT", nil
		}
		return m.Operation, nil
	case hTimestamp, hCommitTimestamp:
		if m.Timestamp.IsZero() {
			return nil, nil
		}
		return m.Timestamp.UTC().Format("2006-01-02 15:04:05.000000"), nil
	case hChangeSeq:
		return nullIfEmpty(m.ChangeSeq), nil
	case hStreamPosition:
		return nullIfEmpty(m.StreamPosition), nil
	case mSourceSchema:
		return c.schema, nil
	case mSourceTable:
		return c.table, nil
	}
	// AR_H_USER, AR_H_TRANSACTION_ID and the column metadata (which has no
	// column to describe in add-column) are NULL.
	return nil, nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// compareValues orders two non-NULL values: numbers < text < blobs.
func compareValues(a, b any) int {
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra - rb
	}
	switch ra {
	case 1:
		ai, aInt := a.(int64)
		bi, bInt := b.(int64)
		if aInt && bInt {
			return cmpOrdered(ai, bi)
		}
		return cmpOrdered(toFloat(a), toFloat(b))
	case 2:
		return strings.Compare(a.(string), b.(string))
	}
	return bytes.Compare(a.([]byte), b.([]byte))
}

func rank(v any) int {
	switch v.(type) {
	case int64, float64:
		return 1
	case string:
		return 2
	}
	return 3
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func boolValue(b bool) any {
	if b {
		return int64(1)
	}
	return int64(0)
}

// truth is SQLite's truth value; null is set for NULL.
func truth(v any) (val, null bool) {
	switch x := v.(type) {
	case nil:
		return false, true
	case int64:
		return x != 0, false
	case float64:
		return x != 0, false
	}
	return toFloat(v) != 0, false
}

// ---- operators ------------------------------------------------------------------

type cmpNode struct {
	op       string
	l, r     node
	laf, raf affinity // set by bind
}

func (n *cmpNode) eval(c *evalCtx) (any, error) {
	l, err := n.l.eval(c)
	if err != nil {
		return nil, err
	}
	r, err := n.r.eval(c)
	if err != nil {
		return nil, err
	}
	if l == nil || r == nil {
		return nil, nil
	}
	l, r = compareAff(l, r, n.laf, n.raf)
	d := compareValues(l, r)
	switch n.op {
	case "=":
		return boolValue(d == 0), nil
	case "!=":
		return boolValue(d != 0), nil
	case "<":
		return boolValue(d < 0), nil
	case "<=":
		return boolValue(d <= 0), nil
	case ">":
		return boolValue(d > 0), nil
	}
	return boolValue(d >= 0), nil
}

type isNode struct {
	l, r     node
	not      bool
	laf, raf affinity
}

func (n *isNode) eval(c *evalCtx) (any, error) {
	l, err := n.l.eval(c)
	if err != nil {
		return nil, err
	}
	r, err := n.r.eval(c)
	if err != nil {
		return nil, err
	}
	var eq bool
	switch {
	case l == nil || r == nil:
		eq = l == nil && r == nil
	default:
		l, r = compareAff(l, r, n.laf, n.raf)
		eq = compareValues(l, r) == 0
	}
	return boolValue(eq != n.not), nil
}

type logicNode struct {
	or   bool
	l, r node
}

func (n *logicNode) eval(c *evalCtx) (any, error) {
	lv, err := n.l.eval(c)
	if err != nil {
		return nil, err
	}
	l, lnull := truth(lv)
	if !lnull && l == n.or { // true OR x, false AND x
		return boolValue(n.or), nil
	}
	rv, err := n.r.eval(c)
	if err != nil {
		return nil, err
	}
	r, rnull := truth(rv)
	if !rnull && r == n.or {
		return boolValue(n.or), nil
	}
	if lnull || rnull {
		return nil, nil
	}
	return boolValue(!n.or), nil
}

type notNode struct{ x node }

func (n *notNode) eval(c *evalCtx) (any, error) {
	v, err := n.x.eval(c)
	if err != nil {
		return nil, err
	}
	t, null := truth(v)
	if null {
		return nil, nil
	}
	return boolValue(!t), nil
}

type inNode struct {
	x    node
	list []node
	not  bool
	aff  affinity
}

func (n *inNode) eval(c *evalCtx) (any, error) {
	x, err := n.x.eval(c)
	if err != nil || x == nil {
		return nil, err
	}
	sawNull := false
	for _, e := range n.list {
		v, err := e.eval(c)
		if err != nil {
			return nil, err
		}
		if v == nil {
			sawNull = true
			continue
		}
		a, b := compareAff(x, v, n.aff, exprAffinity(e))
		if compareValues(a, b) == 0 {
			return boolValue(!n.not), nil
		}
	}
	if sawNull {
		return nil, nil
	}
	return boolValue(n.not), nil
}

type betweenNode struct {
	x, lo, hi       node
	not             bool
	xaf, loaf, hiaf affinity // set by bind
}

func (n *betweenNode) eval(c *evalCtx) (any, error) {
	var v [3]any
	for i, e := range []node{n.x, n.lo, n.hi} {
		var err error
		if v[i], err = e.eval(c); err != nil {
			return nil, err
		}
	}
	if v[0] == nil {
		return nil, nil
	}
	// x >= lo AND x <= hi, with three-valued logic.
	result := any(boolValue(true))
	for _, b := range []struct {
		bound any
		aff   affinity
		sign  int
	}{{v[1], n.loaf, 1}, {v[2], n.hiaf, -1}} {
		if b.bound == nil {
			result = nil
			continue
		}
		l, r := compareAff(v[0], b.bound, n.xaf, b.aff)
		if compareValues(l, r)*b.sign < 0 {
			return boolValue(n.not), nil
		}
	}
	if result == nil {
		return nil, nil
	}
	return boolValue(!n.not), nil
}

type likeNode struct {
	x, pat, esc node
	not         bool
}

func (n *likeNode) eval(c *evalCtx) (any, error) {
	x, err := n.x.eval(c)
	if err != nil {
		return nil, err
	}
	pat, err := n.pat.eval(c)
	if err != nil {
		return nil, err
	}
	esc := rune(-1)
	if n.esc != nil {
		e, err := n.esc.eval(c)
		if err != nil {
			return nil, err
		}
		if e == nil {
			return nil, nil
		}
		s := text(e)
		if utf8.RuneCountInString(s) != 1 {
			return nil, fmt.Errorf("ESCAPE expression must be a single character")
		}
		esc, _ = utf8.DecodeRuneInString(s)
	}
	if x == nil || pat == nil {
		return nil, nil
	}
	return boolValue(likeMatch([]rune(text(pat)), []rune(text(x)), esc) != n.not), nil
}

func foldASCII(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}

// likeMatch is SQLite's LIKE: % and _, ASCII case-insensitive.
func likeMatch(p, s []rune, esc rune) bool {
	pi, si := 0, 0
	star, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			pc := p[pi]
			switch {
			case pc == esc && pi+1 < len(p):
				if foldASCII(p[pi+1]) == foldASCII(s[si]) {
					pi += 2
					si++
					continue
				}
			case pc == '%':
				star, starS = pi, si
				pi++
				continue
			case pc == '_' || foldASCII(pc) == foldASCII(s[si]):
				pi++
				si++
				continue
			}
		}
		if star >= 0 {
			starS++
			si = starS
			pi = star + 1
			continue
		}
		return false
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p)
}

type concatNode struct{ l, r node }

func (n *concatNode) eval(c *evalCtx) (any, error) {
	l, err := n.l.eval(c)
	if err != nil {
		return nil, err
	}
	r, err := n.r.eval(c)
	if err != nil {
		return nil, err
	}
	if l == nil || r == nil {
		return nil, nil
	}
	return text(l) + text(r), nil
}

type unaryNode struct {
	op string
	x  node
}

func (n *unaryNode) eval(c *evalCtx) (any, error) {
	v, err := n.x.eval(c)
	if err != nil || v == nil {
		return nil, err
	}
	switch n.op {
	case "+":
		return v, nil
	case "~":
		i, _ := toInt64(numeric(v))
		return ^i, nil
	}
	switch x := numeric(v).(type) {
	case int64:
		if x == math.MinInt64 {
			return -float64(x), nil
		}
		return -x, nil
	case float64:
		return -x, nil
	}
	return nil, nil
}

type arithNode struct {
	op   string
	l, r node
}

func (n *arithNode) eval(c *evalCtx) (any, error) {
	l, err := n.l.eval(c)
	if err != nil {
		return nil, err
	}
	r, err := n.r.eval(c)
	if err != nil {
		return nil, err
	}
	if l == nil || r == nil {
		return nil, nil
	}
	return arith(n.op, numeric(l), numeric(r)), nil
}

// arith applies a binary arithmetic operator to two numbers (int64 or
// float64) with SQLite's rules: integer overflow becomes REAL, division by
// zero is NULL.
func arith(op string, a, b any) any {
	ai, aInt := a.(int64)
	bi, bInt := b.(int64)
	switch op {
	case "&", "|", "<<", ">>":
		x, _ := toInt64(a)
		y, _ := toInt64(b)
		switch op {
		case "&":
			return x & y
		case "|":
			return x | y
		case ">>":
			y = -y
		}
		switch {
		case y >= 64:
			return int64(0)
		case y >= 0:
			return x << uint(y)
		case y <= -64:
			if x < 0 {
				return int64(-1)
			}
			return int64(0)
		}
		return x >> uint(-y)
	case "%":
		x, _ := toInt64(a)
		y, _ := toInt64(b)
		if y == 0 {
			return nil
		}
		if y == -1 {
			y = 1
		}
		if aInt && bInt {
			return x % y
		}
		return float64(x % y)
	}
	if aInt && bInt {
		switch op {
		case "+":
			if s := ai + bi; (s > ai) == (bi > 0) {
				return s
			}
		case "-":
			if s := ai - bi; (s < ai) == (bi > 0) {
				return s
			}
		case "*":
			if ai == 0 || bi == 0 {
				return int64(0)
			}
			if p := ai * bi; p/bi == ai && !(ai == -1 && bi == math.MinInt64) && !(bi == -1 && ai == math.MinInt64) {
				return p
			}
		case "/":
			if bi == 0 {
				return nil
			}
			if !(ai == math.MinInt64 && bi == -1) {
				return ai / bi
			}
		}
	}
	x, y := toFloat(a), toFloat(b)
	var f float64
	switch op {
	case "+":
		f = x + y
	case "-":
		f = x - y
	case "*":
		f = x * y
	case "/":
		if y == 0 {
			return nil
		}
		f = x / y
	}
	if math.IsNaN(f) {
		return nil
	}
	return f
}

type whenClause struct{ when, then node }

type caseNode struct {
	base  node
	whens []whenClause
	els   node
}

func (n *caseNode) eval(c *evalCtx) (any, error) {
	var base any
	if n.base != nil {
		var err error
		if base, err = n.base.eval(c); err != nil {
			return nil, err
		}
	}
	for _, w := range n.whens {
		v, err := w.when.eval(c)
		if err != nil {
			return nil, err
		}
		var hit bool
		if n.base != nil {
			if base != nil && v != nil {
				a, b := compareAff(base, v, exprAffinity(n.base), exprAffinity(w.when))
				hit = compareValues(a, b) == 0
			}
		} else {
			hit, _ = truth(v)
		}
		if hit {
			return w.then.eval(c)
		}
	}
	if n.els != nil {
		return n.els.eval(c)
	}
	return nil, nil
}

type castNode struct {
	x   node
	aff affinity
}

func (n *castNode) eval(c *evalCtx) (any, error) {
	v, err := n.x.eval(c)
	if err != nil || v == nil {
		return nil, err
	}
	return castTo(v, n.aff), nil
}

func castTo(v any, aff affinity) any {
	switch aff {
	case affText:
		return text(v)
	case affBlob:
		if b, ok := v.([]byte); ok {
			return b
		}
		return []byte(text(v))
	case affInteger:
		switch x := numeric(v).(type) {
		case int64:
			return x
		case float64:
			switch {
			case math.IsNaN(x):
				return int64(0)
			case x >= math.MaxInt64:
				return int64(math.MaxInt64)
			case x <= math.MinInt64:
				return int64(math.MinInt64)
			}
			return int64(x)
		}
	case affReal:
		return toFloat(v)
	}
	// NUMERIC: integers stay integers, integral reals become integers.
	switch x := numeric(v).(type) {
	case float64:
		if x == math.Trunc(x) && x > math.MinInt64 && x < math.MaxInt64 {
			return int64(x)
		}
		return x
	case int64:
		return x
	}
	return v
}

// ---- functions ------------------------------------------------------------------

type fnDef struct {
	min, max int // max < 0: unlimited
	f        func(c *evalCtx, args []any) (any, error)
}

type callNode struct {
	name string
	fn   *fnDef
	args []node
}

func (n *callNode) eval(c *evalCtx) (any, error) {
	args := make([]any, len(n.args))
	for i, a := range n.args {
		v, err := a.eval(c)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return n.fn.f(c, args)
}
