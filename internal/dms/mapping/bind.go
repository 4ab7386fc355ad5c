package mapping

import (
	"fmt"
	"strings"

	"github.com/godwit-dms/godwit/internal/record"
)

// ---- affinity ---------------------------------------------------------------

type affinity uint8

const (
	affNone affinity = iota
	affText
	affNumeric
	affInteger
	affReal
	affBlob
)

func (a affinity) numeric() bool { return a == affNumeric || a == affInteger || a == affReal }

// typeAffinity is SQLite's rule for a declared type name.
func typeAffinity(name string) affinity {
	u := strings.ToUpper(name)
	switch {
	case strings.Contains(u, "INT"):
		return affInteger
	case strings.Contains(u, "CHAR"), strings.Contains(u, "CLOB"), strings.Contains(u, "TEXT"):
		return affText
	case u == "" || strings.Contains(u, "BLOB"):
		return affBlob
	case strings.Contains(u, "REAL"), strings.Contains(u, "FLOA"), strings.Contains(u, "DOUB"):
		return affReal
	}
	return affNumeric
}

func kindAffinity(k record.Kind) affinity {
	switch k {
	case record.KindBool, record.KindInt16, record.KindInt32, record.KindInt64, record.KindUint64,
		record.KindNumeric, record.KindFloat32, record.KindFloat64:
		return affNumeric
	case record.KindBytes, record.KindBlob:
		return affNone
	}
	return affText
}

// exprAffinity is the affinity an operand carries into a comparison: a
// column's, a CAST's, or none.
func exprAffinity(n node) affinity {
	switch x := n.(type) {
	case *colNode:
		return kindAffinity(x.kind)
	case *castNode:
		return x.aff
	}
	return affNone
}

// compareAff applies SQLite's comparison affinity rules to two operands.
func compareAff(l, r any, la, ra affinity) (any, any) {
	switch {
	case la.numeric() && !ra.numeric():
		r = numericAff(r)
	case ra.numeric() && !la.numeric():
		l = numericAff(l)
	case la == affText && ra == affNone:
		r = textAff(r)
	case ra == affText && la == affNone:
		l = textAff(l)
	}
	return l, r
}

func numericAff(v any) any {
	if s, ok := v.(string); ok {
		if n, exact := numberExact(s); exact {
			return n
		}
	}
	return v
}

func textAff(v any) any {
	switch v.(type) {
	case int64, float64:
		return text(v)
	}
	return v
}

// ---- binding --------------------------------------------------------------------

// binder resolves $column references against one source table.
type binder struct {
	column func(name string) (*record.Column, bool)
	refs   []*colNode
}

// bind returns a copy of n whose column references are checked and
// recorded; their indexes are filled in once SourceColumns are known.
func bind(n node, b *binder) (node, error) {
	var err error
	bindAll := func(ns ...*node) {
		for _, p := range ns {
			if err == nil && *p != nil {
				*p, err = bind(*p, b)
			}
		}
	}
	switch x := n.(type) {
	case *litNode, *headerNode:
		return x, nil
	case *colNode:
		col, ok := b.column(x.name)
		if !ok {
			return nil, fmt.Errorf("no column %s", x.name)
		}
		c := &colNode{name: x.name, idx: -1, kind: col.Type.Kind}
		b.refs = append(b.refs, c)
		return c, nil
	case *cmpNode:
		c := *x
		bindAll(&c.l, &c.r)
		c.laf, c.raf = exprAffinity(c.l), exprAffinity(c.r)
		return &c, err
	case *isNode:
		c := *x
		bindAll(&c.l, &c.r)
		c.laf, c.raf = exprAffinity(c.l), exprAffinity(c.r)
		return &c, err
	case *logicNode:
		c := *x
		bindAll(&c.l, &c.r)
		return &c, err
	case *notNode:
		c := *x
		bindAll(&c.x)
		return &c, err
	case *inNode:
		c := *x
		c.list = append([]node(nil), x.list...)
		bindAll(&c.x)
		for i := range c.list {
			bindAll(&c.list[i])
		}
		c.aff = exprAffinity(c.x)
		return &c, err
	case *betweenNode:
		c := *x
		bindAll(&c.x, &c.lo, &c.hi)
		c.xaf, c.loaf, c.hiaf = exprAffinity(c.x), exprAffinity(c.lo), exprAffinity(c.hi)
		return &c, err
	case *likeNode:
		c := *x
		bindAll(&c.x, &c.pat, &c.esc)
		return &c, err
	case *concatNode:
		c := *x
		bindAll(&c.l, &c.r)
		return &c, err
	case *unaryNode:
		c := *x
		bindAll(&c.x)
		return &c, err
	case *arithNode:
		c := *x
		bindAll(&c.l, &c.r)
		return &c, err
	case *caseNode:
		c := *x
		c.whens = append([]whenClause(nil), x.whens...)
		bindAll(&c.base, &c.els)
		for i := range c.whens {
			bindAll(&c.whens[i].when, &c.whens[i].then)
		}
		return &c, err
	case *castNode:
		c := *x
		bindAll(&c.x)
		return &c, err
	case *callNode:
		c := *x
		c.args = append([]node(nil), x.args...)
		for i := range c.args {
			bindAll(&c.args[i])
		}
		return &c, err
	}
	return nil, fmt.Errorf("unknown expression node %T", n)
}
