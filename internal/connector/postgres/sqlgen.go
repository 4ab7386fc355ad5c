package postgres

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/record"
)

// quoteIdent quotes an identifier: "Order Items", "select", "a""b".
func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

// quoteTable quotes schema.name.
func quoteTable(schema, name string) string { return pgx.Identifier{schema, name}.Sanitize() }

// quoteIdents quotes and joins names with ", ".
func quoteIdents(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}

// quoteString writes s as an escape string constant, which means the same
// whatever standard_conforming_strings says. PostgreSQL text cannot hold
// NUL, so a string with one is refused.
func quoteString(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", fmt.Errorf("%w: text with a NUL byte", ErrBadValue)
	}
	var b strings.Builder
	b.Grow(len(s) + 3)
	b.WriteString("E'")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String(), nil
}

// literal writes v as a constant compared with the column p: a canonical
// value (as a Read produced it) or the user's text (a filter value or a
// table-settings boundary). The constant is left untyped, so the server
// reads it with the column's own type and no type modifier: an explicit
// cast would apply one ('abcdef'::character is 'a', '1010'::bit is '1').
// With infinity, the values ±infinity are clamped to on read stand for
// ±infinity again. Literals are inlined because COPY takes no parameters.
func literal(v any, p *colPlan, infinity bool) (string, error) {
	if v == nil {
		return "NULL", nil
	}
	text, err := valueText(v, p.typ.Kind)
	if infinity {
		if t, ok := v.(time.Time); ok {
			switch {
			case p.dec == decDate && t.Equal(dateInfinity), p.dec != decDate && t.Equal(timeInfinity):
				text = "infinity"
			case t.Equal(timeNegInfinity) && (p.dec == decDate || p.dec == decTimestamp || p.dec == decTimestampTZ):
				text = "-infinity"
			}
		}
	}
	if err != nil {
		return "", fmt.Errorf("column %s: %w", quoteIdent(p.name), err)
	}
	q, err := quoteString(text)
	if err != nil {
		return "", fmt.Errorf("column %s: %w", quoteIdent(p.name), err)
	}
	return q, nil
}

// valueText is PostgreSQL's input text for a canonical value of a column
// of kind k (which decides how a time.Time is written).
func valueText(v any, k record.Kind) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case []byte:
		return `\x` + hex.EncodeToString(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case int:
		return strconv.Itoa(v), nil
	case int32:
		return strconv.FormatInt(int64(v), 10), nil
	case uint64:
		return strconv.FormatUint(v, 10), nil
	case float64:
		return string(appendFloat(nil, v, 64)), nil
	case float32:
		return string(appendFloat(nil, float64(v), 32)), nil
	case bool:
		if v {
			return "true", nil
		}
		return "false", nil
	case time.Time:
		switch k {
		case record.KindDate:
			return string(appendDate(nil, v)), nil
		case record.KindTimestamp:
			return string(appendTimestamp(nil, v, false)), nil
		}
		return string(appendTimestamp(nil, v, true)), nil
	}
	return "", fmt.Errorf("%w: unsupported Go type %T", ErrBadValue, v)
}

// appendFloat writes f the way PostgreSQL reads it back exactly.
func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

// appendDate writes t's date (its wall clock's) as YYYY-MM-DD, with " BC"
// before year 1.
func appendDate(b []byte, t time.Time) []byte {
	y, m, d := t.Date()
	b, bc := appendYear(b, y)
	b = append(b, '-')
	b = append2(b, int(m))
	b = append(b, '-')
	b = append2(b, d)
	if bc {
		b = append(b, " BC"...)
	}
	return b
}

// appendTimestamp writes t as YYYY-MM-DD HH:MM:SS[.ffffff]: with zone, the
// instant in UTC and "+00"; without, its wall clock.
func appendTimestamp(b []byte, t time.Time, zone bool) []byte {
	if zone {
		t = t.UTC()
	}
	y, m, d := t.Date()
	b, bc := appendYear(b, y)
	b = append(b, '-')
	b = append2(b, int(m))
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, ' ')
	b = appendClock(b, int64(t.Hour())*3600e6+int64(t.Minute())*60e6+int64(t.Second())*1e6+int64(t.Nanosecond()/1000))
	if zone {
		b = append(b, "+00"...)
	}
	if bc {
		b = append(b, " BC"...)
	}
	return b
}

// appendYear writes a year of at least 4 digits; years before 1 are BC
// (Go's year 0 is 1 BC).
func appendYear(b []byte, y int) ([]byte, bool) {
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	if y < 1000 {
		b = append(b, "000"[:4-len(strconv.Itoa(y))]...)
	}
	return strconv.AppendInt(b, int64(y), 10), bc
}

// appendClock writes microseconds since midnight as HH:MM:SS[.ffffff],
// without trailing zeros in the fraction (as PostgreSQL prints time).
func appendClock(b []byte, us int64) []byte {
	sec := us / 1e6
	frac := us % 1e6
	b = append2(b, int(sec/3600))
	b = append(b, ':')
	b = append2(b, int(sec/60%60))
	b = append(b, ':')
	b = append2(b, int(sec%60))
	if frac != 0 {
		var digits [7]byte
		digits[0] = '.'
		for i := 6; i >= 1; i-- {
			digits[i] = byte('0' + frac%10)
			frac /= 10
		}
		n := 7
		for digits[n-1] == '0' {
			n--
		}
		b = append(b, digits[:n]...)
	}
	return b
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10%10), byte('0'+v%10)) }

// whereClause builds the conditions of a read: filters (conditions of one
// filter OR'ed, filters AND'ed), the range and the resume point.
func whereClause(rel *relation, req filterSpec) (string, error) {
	var parts []string
	for _, f := range req.filters {
		p, err := rel.planFor(f.Column)
		if err != nil {
			return "", err
		}
		col := quoteIdent(p.name)
		var ors []string
		for _, c := range f.Conditions {
			s, err := condition(col, p, c)
			if err != nil {
				return "", err
			}
			ors = append(ors, s)
		}
		if len(ors) > 0 {
			parts = append(parts, "("+strings.Join(ors, " OR ")+")")
		}
	}
	if r := req.rng; r != nil && len(r.Columns) > 0 {
		plans, err := rel.plansFor(r.Columns)
		if err != nil {
			return "", err
		}
		for _, p := range plans {
			parts = append(parts, quoteIdent(p.name)+" IS NOT NULL")
		}
		if r.From != nil {
			s, err := rowCompare(plans, ">=", r.From, req.source)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		if r.To != nil {
			s, err := rowCompare(plans, "<", r.To, req.source)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
	}
	if st := req.stored; st != nil {
		for _, b := range []struct{ op, place string }{{">=", st.From}, {"<", st.To}} {
			if b.place == "" {
				continue
			}
			tid, err := parseTID(b.place)
			if err != nil {
				return "", err
			}
			parts = append(parts, "ctid "+b.op+" "+tid)
		}
	}
	if req.after != nil {
		if len(req.after) != len(req.orderBy) {
			return "", fmt.Errorf("%w: After has %d values for %d OrderBy columns", ErrBadValue, len(req.after), len(req.orderBy))
		}
		plans, err := rel.plansFor(req.orderBy)
		if err != nil {
			return "", err
		}
		s, err := rowCompare(plans, ">", req.after, req.source)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(parts, " AND "), nil
}

// filterSpec is what whereClause needs of a read or a delete.
type filterSpec struct {
	filters []record.Filter
	rng     *record.Range
	orderBy []string
	after   record.Row
	stored  *record.StorageRange // a part cut by StorageSplitPoints
	// source: the values came from this connector's reads, where
	// ±infinity was clamped (see literal).
	source bool
}

// condition is one filter condition on col.
func condition(col string, p *colPlan, c record.Condition) (string, error) {
	lit := func(s string) (string, error) { return literal(s, p, false) }
	switch c.Op {
	case record.OpNull:
		return col + " IS NULL", nil
	case record.OpNotNull:
		return col + " IS NOT NULL", nil
	case record.OpBetween, record.OpNotBetween:
		from, err := lit(c.Start)
		if err != nil {
			return "", err
		}
		to, err := lit(c.End)
		if err != nil {
			return "", err
		}
		op := " BETWEEN "
		if c.Op == record.OpNotBetween {
			op = " NOT BETWEEN "
		}
		return col + op + from + " AND " + to, nil
	}
	ops := map[record.Op]string{record.OpEq: " = ", record.OpNotEq: " <> ", record.OpLte: " <= ", "ste": " <= ", record.OpGte: " >= "}
	op, ok := ops[c.Op]
	if !ok {
		return "", fmt.Errorf("%w: unknown filter operator %q", ErrBadValue, c.Op)
	}
	v, err := lit(c.Value)
	if err != nil {
		return "", err
	}
	return col + op + v, nil
}

// rowCompare is (c1, c2, ...) op (v1, v2, ...), lexicographic as record.Range says.
func rowCompare(plans []*colPlan, op string, vals record.Row, infinity bool) (string, error) {
	if len(vals) != len(plans) {
		return "", fmt.Errorf("%w: %d bound values for %d columns", ErrBadValue, len(vals), len(plans))
	}
	cols := make([]string, len(plans))
	lits := make([]string, len(plans))
	for i, p := range plans {
		cols[i] = quoteIdent(p.name)
		l, err := literal(vals[i], p, infinity)
		if err != nil {
			return "", err
		}
		lits[i] = l
	}
	if len(plans) == 1 {
		return cols[0] + " " + op + " " + lits[0], nil
	}
	return "(" + strings.Join(cols, ", ") + ") " + op + " (" + strings.Join(lits, ", ") + ")", nil
}

// plansFor returns the plans of the named columns, in order.
func (r *relation) plansFor(names []string) ([]*colPlan, error) {
	out := make([]*colPlan, len(names))
	for i, n := range names {
		p, err := r.planFor(n)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}
