package mysql

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// where builds a WHERE clause with parameters: values travel as driver
// arguments the driver interpolates (text protocol), except exact decimals,
// which are checked and written as bare numeric literals so that MySQL
// compares them as DECIMAL, not as DOUBLE.
type where struct {
	t     *record.Table
	terms []string
	args  []any
}

func newWhere(t *record.Table) *where { return &where{t: t} }

// column returns the quoted column and its definition.
func (w *where) column(name string) (string, *record.Column, error) {
	c := w.t.Column(name)
	if c == nil {
		return "", nil, fmt.Errorf("%w: table %s has no column %q", ErrUnsupported, w.t.QualifiedName(), name)
	}
	return quoteIdent(name), c, nil
}

// value returns the SQL placeholder (or literal) for v compared with c,
// adding its argument.
func (w *where) value(c *record.Column, v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", fmt.Errorf("%w: NULL bound on column %q", ErrUnsupported, c.Name)
	case string:
		switch c.Type.Kind {
		case record.KindNumeric:
			if !isDecimalLiteral(x) {
				return "", fmt.Errorf("%w: %q is not a number (column %q)", ErrUnsupported, x, c.Name)
			}
			return x, nil
		case record.KindInt16, record.KindInt32, record.KindInt64, record.KindUint64,
			record.KindFloat32, record.KindFloat64, record.KindBool:
			// Text bounds (table-settings boundaries) on a numeric column.
			tv, err := textValue(c, x)
			if err != nil {
				return "", err
			}
			return w.value(c, tv)
		}
	case int:
		v = int64(x)
	case int32:
		v = int64(x)
	case int16:
		v = int64(x)
	case int8:
		v = int64(x)
	case uint32:
		v = uint64(x)
	case float32:
		v = float64(x)
	case int64, uint64, float64, bool, []byte:
	case time.Time:
		v = x.UTC()
	default:
		return "", fmt.Errorf("%w: value of type %T for column %q", ErrUnsupported, v, c.Name)
	}
	if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return "", fmt.Errorf("%w: %v cannot be compared in MySQL (column %q)", ErrUnsupported, f, c.Name)
	}
	w.args = append(w.args, v)
	return "?", nil
}

// textValue converts a filter's text to a value of the column's kind.
func textValue(c *record.Column, s string) (any, error) {
	bad := func() error {
		return fmt.Errorf("%w: filter value %q does not fit column %q (%s)", ErrUnsupported, s, c.Name, c.Type.Kind)
	}
	switch c.Type.Kind {
	case record.KindInt16, record.KindInt32, record.KindInt64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, bad()
		}
		return n, nil
	case record.KindUint64:
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, bad()
		}
		return n, nil
	case record.KindFloat32, record.KindFloat64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, bad()
		}
		return f, nil
	case record.KindNumeric:
		if !isDecimalLiteral(strings.TrimSpace(s)) {
			return nil, bad()
		}
		return strings.TrimSpace(s), nil
	case record.KindBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "1", "t", "true", "y", "yes", "on":
			return true, nil
		case "0", "f", "false", "n", "no", "off":
			return false, nil
		}
		return nil, bad()
	case record.KindBytes, record.KindBlob:
		return []byte(s), nil
	}
	return s, nil
}

// isDecimalLiteral accepts [+-]digits[.digits][e[+-]digits].
func isDecimalLiteral(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// filters adds the DMS source filters: conditions OR'ed within a filter,
// filters AND'ed.
func (w *where) filters(fs []record.Filter) error {
	for _, f := range fs {
		col, c, err := w.column(f.Column)
		if err != nil {
			return err
		}
		if len(f.Conditions) == 0 {
			continue
		}
		var ors []string
		for _, cond := range f.Conditions {
			term, err := w.condition(col, c, cond)
			if err != nil {
				return err
			}
			ors = append(ors, term)
		}
		w.terms = append(w.terms, "("+strings.Join(ors, " OR ")+")")
	}
	return nil
}

func (w *where) condition(col string, c *record.Column, cond record.Condition) (string, error) {
	one := func(op, text string) (string, error) {
		v, err := textValue(c, text)
		if err != nil {
			return "", err
		}
		p, err := w.value(c, v)
		if err != nil {
			return "", err
		}
		return col + " " + op + " " + p, nil
	}
	between := func(not string) (string, error) {
		lo, err := textValue(c, cond.Start)
		if err != nil {
			return "", err
		}
		hi, err := textValue(c, cond.End)
		if err != nil {
			return "", err
		}
		pl, err := w.value(c, lo)
		if err != nil {
			return "", err
		}
		ph, err := w.value(c, hi)
		if err != nil {
			return "", err
		}
		return col + not + " BETWEEN " + pl + " AND " + ph, nil
	}
	switch strings.ToLower(string(cond.Op)) {
	case string(record.OpEq):
		return one("=", cond.Value)
	case string(record.OpNotEq):
		return one("<>", cond.Value)
	case string(record.OpLte), "ste":
		return one("<=", cond.Value)
	case string(record.OpGte):
		return one(">=", cond.Value)
	case string(record.OpBetween):
		return between("")
	case string(record.OpNotBetween):
		return between(" NOT")
	case string(record.OpNull):
		return col + " IS NULL", nil
	case string(record.OpNotNull):
		return col + " IS NOT NULL", nil
	}
	return "", fmt.Errorf("%w: filter operator %q", ErrUnsupported, cond.Op)
}

// tuple compares the columns with values: (c1, c2) op (v1, v2) as a
// row-value comparison, plus a bound on the first column alone so the
// optimizer can range-scan the key (MySQL does not range-optimize
// row-value inequalities).
func (w *where) tuple(cols []string, op string, vals record.Row) error {
	if len(vals) != len(cols) {
		return fmt.Errorf("%w: %d values for the %d columns %v", ErrUnsupported, len(vals), len(cols), cols)
	}
	quoted := make([]string, len(cols))
	ps := make([]string, len(cols))
	for i, name := range cols {
		col, c, err := w.column(name)
		if err != nil {
			return err
		}
		p, err := w.value(c, vals[i])
		if err != nil {
			return err
		}
		quoted[i], ps[i] = col, p
	}
	if len(cols) == 1 {
		w.terms = append(w.terms, quoted[0]+" "+op+" "+ps[0])
		return nil
	}
	w.terms = append(w.terms, "("+strings.Join(quoted, ", ")+") "+op+" ("+strings.Join(ps, ", ")+")")
	lead := strings.TrimSuffix(op, "=") + "="
	first := w.t.Column(cols[0])
	p, err := w.value(first, vals[0])
	if err != nil {
		return err
	}
	w.terms = append(w.terms, quoted[0]+" "+lead+" "+p)
	return nil
}

// rangeOf adds From <= (cols) < To and cols IS NOT NULL.
func (w *where) rangeOf(r *record.Range) error {
	if r == nil {
		return nil
	}
	if len(r.Columns) == 0 {
		return fmt.Errorf("%w: a range without columns", ErrUnsupported)
	}
	for _, name := range r.Columns {
		col, _, err := w.column(name)
		if err != nil {
			return err
		}
		w.terms = append(w.terms, col+" IS NOT NULL")
	}
	if r.From != nil {
		if err := w.tuple(r.Columns, ">=", r.From); err != nil {
			return err
		}
	}
	if r.To != nil {
		if err := w.tuple(r.Columns, "<", r.To); err != nil {
			return err
		}
	}
	return nil
}

// sql is " WHERE ..." or "".
func (w *where) sql() string {
	if len(w.terms) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.terms, " AND ")
}
