package mysql

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// minSegmentRows is the smallest segment SplitPoints proposes.
const minSegmentRows = 1000

var errEnough = errors.New("enough split points")

// SplitPoints proposes at most n-1 ascending, distinct boundaries on cols
// that cut t into n ranges of similar size. A single integer column is cut
// arithmetically between its MIN and MAX; other keys are read once in key
// order, keeping every (rows/n)-th key, rows being the table's estimate
// when it is large enough for n segments, else its exact count. Tables of
// fewer than minSegmentRows rows per segment get fewer boundaries.
func (s *Snapshot) SplitPoints(ctx context.Context, t *record.Table, cols []string, n int) ([]record.Row, error) {
	if n < 2 || len(cols) == 0 {
		return nil, nil
	}
	for _, name := range cols {
		if t.Column(name) == nil {
			return nil, fmt.Errorf("%w: table %s has no column %q", ErrUnsupported, t.QualifiedName(), name)
		}
	}
	var pts []record.Row
	err := s.onSession(ctx, t.QualifiedName(), func(ss *snapSession) error {
		var err error
		pts, err = s.split(ctx, ss, t, cols, n)
		return err
	})
	return pts, err
}

func (s *Snapshot) split(ctx context.Context, ss *snapSession, t *record.Table, cols []string, n int) ([]record.Row, error) {
	w := newWhere(t)
	if err := w.rangeOf(&record.Range{Columns: cols}); err != nil {
		return nil, err
	}
	from := qualified(t.Schema, t.Name) + w.sql()
	label := "splitting " + t.QualifiedName()
	// InnoDB counts rows by reading a whole index: a table estimated large
	// enough for n segments is cut by its estimate, a smaller or unknown
	// one is counted.
	count := t.RowsEstimate
	if count < int64(n)*minSegmentRows {
		if err := ss.conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+from).Scan(&count); err != nil {
			return nil, classify(ctx, label, err, 0)
		}
	}
	n = int(min(int64(n), count/minSegmentRows))
	if n < 2 {
		return nil, nil
	}
	if len(cols) == 1 && isIntegerKind(t.Column(cols[0]).Type.Kind) {
		// MIN and MAX skip NULLs by themselves; with the IS NOT NULL
		// condition MariaDB scans the whole index instead of reading its ends.
		return s.splitInteger(ctx, ss, t, cols[0], qualified(t.Schema, t.Name), n)
	}

	// Every step-th key, read in order.
	step := count / int64(n)
	var out []record.Row
	var seen int64
	next := step
	plan := &readPlan{cols: make([]column, len(cols))}
	exprs := make([]string, len(cols))
	for i, name := range cols {
		plan.cols[i] = column{name: name, kind: t.Column(name).Type.Kind}
		exprs[i] = selectExpr(plan.cols[i], s.flavor)
	}
	plan.query = "SELECT " + joinComma(exprs) + " FROM " + from + " ORDER BY " + joinQuoted(cols)
	err := s.stream(ctx, ss, label, plan, defaultBatchRows, func(rows []record.Row) error {
		for _, r := range rows {
			seen++
			if seen < next {
				continue
			}
			if len(out) == 0 || !rowsEqual(out[len(out)-1], r) {
				out = append(out, slices.Clone(r))
			}
			next += step
			if len(out) == n-1 {
				return errEnough
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	return out, nil
}

func isIntegerKind(k record.Kind) bool {
	switch k {
	case record.KindInt16, record.KindInt32, record.KindInt64, record.KindUint64:
		return true
	}
	return false
}

// splitInteger cuts [MIN, MAX] of an integer column into n equal spans.
func (s *Snapshot) splitInteger(ctx context.Context, ss *snapSession, t *record.Table, col, from string, n int) ([]record.Row, error) {
	var lo, hi string
	q := "SELECT CAST(MIN(" + quoteIdent(col) + ") AS CHAR), CAST(MAX(" + quoteIdent(col) + ") AS CHAR) FROM " + from
	if err := ss.conn.QueryRowContext(ctx, q).Scan(&lo, &hi); err != nil {
		return nil, classify(ctx, "splitting "+t.QualifiedName(), err, 0)
	}
	min, ok1 := new(big.Int).SetString(lo, 10)
	max, ok2 := new(big.Int).SetString(hi, 10)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("splitting %s: unexpected bounds %q, %q", t.QualifiedName(), lo, hi)
	}
	span := new(big.Int).Sub(max, min)
	span.Add(span, big.NewInt(1))
	unsigned := t.Column(col).Type.Kind == record.KindUint64
	var out []record.Row
	var prev *big.Int
	for i := 1; i < n; i++ {
		b := new(big.Int).Mul(span, big.NewInt(int64(i)))
		b.Quo(b, big.NewInt(int64(n)))
		b.Add(b, min)
		if b.Cmp(min) <= 0 || b.Cmp(max) > 0 || (prev != nil && b.Cmp(prev) <= 0) {
			continue
		}
		prev = b
		if unsigned {
			out = append(out, record.Row{b.Uint64()})
		} else {
			out = append(out, record.Row{b.Int64()})
		}
	}
	return out, nil
}

func joinComma(s []string) string { return strings.Join(s, ", ") }

// rowsEqual compares canonical values.
func rowsEqual(a, b record.Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		switch x := a[i].(type) {
		case []byte:
			y, ok := b[i].([]byte)
			if !ok || !bytes.Equal(x, y) {
				return false
			}
		case time.Time:
			y, ok := b[i].(time.Time)
			if !ok || !x.Equal(y) {
				return false
			}
		default:
			if a[i] != b[i] {
				return false
			}
		}
	}
	return true
}

func joinQuoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return joinComma(q)
}
