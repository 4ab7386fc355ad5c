package postgres

import (
	"context"
	"fmt"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// A whole table is read in storage order (a sequential scan, through a
// small ring of shared buffers) rather than in key order (a walk of the
// key's index, which reads every heap page through the buffer pool and
// visits each row through the index) when the engine allows it and the
// table is an ordinary one of at most storageOrderMaxBytes: checking where
// an interrupted read can go on (KeysOrderedThrough) reads the table once,
// which is kept short.
const storageOrderMaxBytes = 8 << 30

var _ connector.StorageOrderChecker = (*Snapshot)(nil)

// storageOrderFits says whether ReadRaw reads req in storage order.
func storageOrderFits(rel *relation, req *connector.ReadRequest) bool {
	return req.StorageOrder && rel.plain && req.Range == nil && req.After == nil && len(req.Filters) == 0 &&
		req.Table.BytesEstimate <= storageOrderMaxBytes
}

// KeysOrderedThrough implements connector.StorageOrderChecker: one
// statement in the snapshot looks for a row stored up to pos with a key
// above last, or one stored after pos without.
func (s *Snapshot) KeysOrderedThrough(ctx context.Context, t *record.Table, key []string, last record.Row, pos string) (bool, error) {
	var block uint32
	var item uint16
	if n, err := fmt.Sscanf(pos, "(%d,%d)", &block, &item); n != 2 || err != nil || pos != fmt.Sprintf("(%d,%d)", block, item) {
		return false, nil // unorderedPosition, or nothing a read wrote
	}
	if len(key) == 0 || len(key) != len(last) {
		return false, fmt.Errorf("%w: %d key values for %d key columns", ErrBadValue, len(last), len(key))
	}
	pg, err := s.acquireTable(ctx, t)
	if err != nil {
		return false, err
	}
	defer s.release(pg)
	rel, err := s.relation(ctx, pg, t)
	if err != nil {
		return false, classify(ctx, pg, "reading the table's columns", err)
	}
	plans, err := rel.plansFor(key)
	if err != nil {
		return false, err
	}
	above, err := rowCompare(plans, ">", last, true)
	if err != nil {
		return false, err
	}
	tid := fmt.Sprintf("'(%d,%d)'::tid", block, item)
	q := "SELECT EXISTS (SELECT 1 FROM " + rel.from() + " WHERE ctid <= " + tid + " AND " + above + ")" +
		" OR EXISTS (SELECT 1 FROM " + rel.from() + " WHERE ctid > " + tid + " AND (" + above + ") IS NOT TRUE)"
	var out bool
	if err := pg.QueryRow(ctx, q).Scan(&out); err != nil {
		return false, classify(ctx, pg, "checking the key order of "+quoteTable(rel.table.Schema, rel.table.Name), err)
	}
	return !out, nil
}
