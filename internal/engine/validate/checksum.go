package validate

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// PartitionChecksummer is an optional capability of a connector.Snapshot
// that lets validation skip the row-by-row comparison of partitions that
// are identical: each side digests the partition on the server and only
// the digests travel.
//
// PartitionChecksum digests the values of cols (in that order) of the rows
// of t inside r (rows with NULL in a range column excluded, as for Read),
// taken in r.Columns order, and counts them. Two snapshots of the same
// engine family must return the same sum exactly when the rows hold the
// same values in the columns' native text forms. Column names may differ
// between the sides; their values and order must not. For PostgreSQL,
// with the session settings the connector always uses (TimeZone UTC,
// DateStyle ISO, extra_float_digits 3), inside the snapshot:
//
//	SELECT count(*), coalesce(md5(string_agg(md5(ROW(c1, c2, ...)::text), '' ORDER BY k1, k2)), '')
//	FROM t WHERE k1 IS NOT NULL AND (k1, k2) >= (from) AND (k1, k2) < (to)
//
// Validation uses it only when both snapshots implement it, every compared
// column is copied as it is between columns of the same native type and
// engine, the table has no source filters, and neither collation handling
// nor partial LOB validation is on. Where the digests differ the partition
// is compared row by row, so a checksum can never hide a difference the
// row comparison would find, only save work.
type PartitionChecksummer interface {
	PartitionChecksum(ctx context.Context, t *record.Table, cols []string, r *record.Range) (sum string, rows int64, err error)
}

// checksumColumns returns the columns a checksum covers on each side, or
// ok=false when the table is not eligible (see PartitionChecksummer).
func (s *spec) checksumColumns() (src, tgt []string, ok bool) {
	set := s.job.Settings
	if len(s.plan.Filters) > 0 || set.HandleCollationDiff || s.lobMax > 0 {
		return nil, nil, false
	}
	family := ""
	if d, ok := s.job.Target.(connector.TargetDialect); ok {
		family = d.Family()
	}
	idx := slices.Clone(s.keyAt)
	for _, c := range s.cols {
		idx = append(idx, c.at)
	}
	for _, i := range idx {
		cp := &s.plan.Columns[i]
		sc := s.src.Column(cp.Source)
		tc := s.tgt.Column(cp.Name)
		if cp.Source == "" || cp.Expression != "" || cp.BeforeImageOf != "" || len(cp.Masks) > 0 || sc == nil || tc == nil {
			return nil, nil, false
		}
		st, tt := sc.Type, tc.Type
		if st.Native == "" || st.Engine == "" || st.Engine != family || tt.Native != st.Native || tt.Engine != st.Engine ||
			cp.Type.Kind != st.Kind || cp.Type.Native != st.Native {
			return nil, nil, false
		}
		src = append(src, sc.Name)
		tgt = append(tgt, tc.Name)
	}
	return src, tgt, true
}

// sameChecksum digests the partition on both sides at once and reports
// whether they agree, with the row count.
func (r *runner) sameChecksum(ctx context.Context, part partition) (bool, int64, error) {
	sreq, treq := r.requests(part)
	var wg sync.WaitGroup
	var sum [2]string
	var rows [2]int64
	var errs [2]error
	for i, side := range []struct {
		snap connector.Snapshot
		t    *record.Table
		cols []string
		rng  *record.Range
	}{{r.src, r.s.src, r.sumCols[0], sreq.Range}, {r.tgt, r.s.tgt, r.sumCols[1], treq.Range}} {
		wg.Go(func() {
			sum[i], rows[i], errs[i] = side.snap.(PartitionChecksummer).PartitionChecksum(ctx, side.t, side.cols, side.rng)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return false, 0, fmt.Errorf("checksum a partition of %s: %w", []string{"the source", "the target"}[i], err)
		}
	}
	return sum[0] == sum[1] && rows[0] == rows[1], rows[0], nil
}
