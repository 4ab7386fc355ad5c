package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/jackc/pgx/v5"

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

var (
	_ connector.StorageOrderChecker = (*Snapshot)(nil)
	_ connector.PositionedReader    = (*Snapshot)(nil)
	_ connector.StorageSplitter     = (*Snapshot)(nil)
)

// inStorageOrder says whether a read comes in storage order: a part cut
// by StorageSplitPoints always (refused on a relation whose rows have no
// place of their own), and, when whole (ReadRaw, ReadPositioned), a whole
// table that req.StorageOrder allows to.
func inStorageOrder(rel *relation, req *connector.ReadRequest, whole bool) (bool, error) {
	if req.Stored != nil {
		if !rel.plain {
			return false, fmt.Errorf("%w: %s is not an ordinary table; it cannot be read by storage place", ErrBadValue, quoteTable(rel.table.Schema, rel.table.Name))
		}
		return true, nil
	}
	return whole && req.StorageOrder && rel.plain && req.Range == nil && req.After == nil && len(req.Filters) == 0 &&
		req.Table.BytesEstimate <= storageOrderMaxBytes, nil
}

// StorageSplitPoints implements connector.StorageSplitter: block numbers
// that cut an ordinary table's pages into n about equal parts, each read
// by a TID range scan (PostgreSQL 14 and later; earlier servers would
// scan the whole table for each part, and get no places).
func (s *Snapshot) StorageSplitPoints(ctx context.Context, t *record.Table, n int) ([]string, error) {
	if n < 2 {
		return nil, nil
	}
	pg, rel, err := s.tableSession(ctx, t)
	if err != nil {
		return nil, err
	}
	defer s.release(pg)
	if !rel.plain {
		return nil, nil
	}
	var version int
	var pages int64
	err = pg.QueryRow(ctx, "SELECT current_setting('server_version_num')::int, pg_catalog.pg_relation_size($1::oid) / current_setting('block_size')::int8", rel.oid).Scan(&version, &pages)
	if err != nil {
		return nil, classify(ctx, pg, "splitting "+quoteTable(t.Schema, t.Name), err)
	}
	if version < 140000 || pages < int64(n) {
		return nil, nil
	}
	out := make([]string, 0, n-1)
	for i := 1; i < n; i++ {
		out = append(out, fmt.Sprintf("(%d,0)", pages*int64(i)/int64(n)))
	}
	return out, nil
}

// parseTID is the tid literal of a place "(block,item)", refusing
// anything else.
func parseTID(place string) (string, error) {
	var block uint32
	var item uint16
	if n, err := fmt.Sscanf(place, "(%d,%d)", &block, &item); n != 2 || err != nil || place != fmt.Sprintf("(%d,%d)", block, item) {
		return "", fmt.Errorf("%w: %q is not a place in a table (block,item)", ErrBadValue, place)
	}
	return "'" + place + "'::tid", nil
}

// scanInStorageOrder readies a snapshot session for a read in storage
// order: the scan must go from the first page to the last, not joined to
// another scan of the table where that one is, and not split among
// parallel workers.
func scanInStorageOrder(ctx context.Context, pg *pgx.Conn) error {
	if err := pg.PgConn().Exec(ctx, "SET LOCAL synchronize_seqscans = off; SET LOCAL max_parallel_workers_per_gather = 0").Close(); err != nil {
		return classify(ctx, pg, "setting up a read in storage order", err)
	}
	return nil
}

// positionTracker follows the ctids of a read in storage order (binary:
// block then item, big-endian).
type positionTracker struct {
	last   [6]byte
	broken bool // a ctid missing, or not after the one before
}

// note takes the next row's ctid.
func (t *positionTracker) note(b []byte) {
	// Byte order is ctid order, and no row is at (0,0), where last starts.
	if len(b) != len(t.last) || bytes.Compare(b, t.last[:]) <= 0 {
		t.broken = true
		return
	}
	copy(t.last[:], b)
}

// unorderedPosition is the Position of a read whose rows did not come in
// storage order after all; KeysOrderedThrough says no to it.
const unorderedPosition = "unordered"

// position is the last row's ctid, "(block,item)".
func (t *positionTracker) position() string {
	if t.broken {
		return unorderedPosition
	}
	return fmt.Sprintf("(%d,%d)", binary.BigEndian.Uint32(t.last[:4]), binary.BigEndian.Uint16(t.last[4:]))
}

// KeysOrderedThrough implements connector.StorageOrderChecker: one
// statement in the snapshot looks for a row stored up to pos with a key
// above last, or one stored after pos without.
func (s *Snapshot) KeysOrderedThrough(ctx context.Context, t *record.Table, key []string, last record.Row, pos string) (bool, error) {
	tid, err := parseTID(pos)
	if err != nil {
		return false, nil // unorderedPosition, or nothing a read wrote
	}
	if len(key) == 0 || len(key) != len(last) {
		return false, fmt.Errorf("%w: %d key values for %d key columns", ErrBadValue, len(last), len(key))
	}
	pg, rel, err := s.tableSession(ctx, t)
	if err != nil {
		return false, err
	}
	defer s.release(pg)
	plans, err := rel.plansFor(key)
	if err != nil {
		return false, err
	}
	above, err := rowCompare(plans, ">", last, true)
	if err != nil {
		return false, err
	}
	q := "SELECT EXISTS (SELECT 1 FROM " + rel.from() + " WHERE ctid <= " + tid + " AND " + above + ")" +
		" OR EXISTS (SELECT 1 FROM " + rel.from() + " WHERE ctid > " + tid + " AND (" + above + ") IS NOT TRUE)"
	var out bool
	if err := pg.QueryRow(ctx, q).Scan(&out); err != nil {
		return false, classify(ctx, pg, "checking the key order of "+quoteTable(rel.table.Schema, rel.table.Name), err)
	}
	return !out, nil
}
