package postgres

import (
	"context"
	"fmt"

	"github.com/godwit-dms/godwit/internal/record"
)

// PartitionChecksum digests the rows of t inside r (in r's column order,
// else the table's key order) on the server, within the snapshot: the count
// and an md5 over the md5 of each row's text. Data validation compares the
// digests of both sides and reads the rows only where they differ.
func (s *Snapshot) PartitionChecksum(ctx context.Context, t *record.Table, cols []string, r *record.Range) (string, int64, error) {
	pg, rel, err := s.tableSession(ctx, t)
	if err != nil {
		return "", 0, err
	}
	defer s.release(pg)
	if _, err := rel.plansFor(cols); err != nil {
		return "", 0, err
	}
	order := t.Key()
	if r != nil && len(r.Columns) > 0 {
		order = r.Columns
	}
	if len(order) == 0 {
		return "", 0, fmt.Errorf("%w: a checksum needs the rows in key order", ErrNoSuchColumn)
	}
	where, err := whereClause(rel, filterSpec{rng: r, source: true})
	if err != nil {
		return "", 0, err
	}
	q := fmt.Sprintf("SELECT count(*), coalesce(md5(string_agg(md5(ROW(%s)::text), '' ORDER BY %s)), '') FROM %s%s",
		quoteIdents(cols), quoteIdents(order), rel.from(), where)
	var n int64
	var sum string
	if err := pg.QueryRow(ctx, q).Scan(&n, &sum); err != nil {
		return "", 0, classify(ctx, pg, "checksumming "+quoteTable(rel.table.Schema, rel.table.Name), err)
	}
	return sum, n, nil
}
