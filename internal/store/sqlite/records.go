package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/godwit-dms/godwit/internal/store"
)

const recordColumns = `kind, id, arn, parent, revision, schema, doc, created_at, updated_at`

func scanRecord(sc interface{ Scan(...any) error }) (*store.Record, error) {
	var (
		r                store.Record
		kind             string
		created, updated int64
	)
	if err := sc.Scan(&kind, &r.ID, &r.ARN, &r.Parent, &r.Revision, &r.Schema, &r.Doc, &created, &updated); err != nil {
		return nil, err
	}
	r.Kind = store.Kind(kind)
	r.CreatedAt = fromNanos(created)
	r.UpdatedAt = fromNanos(updated)
	return &r, nil
}

func recordGet(ctx context.Context, q querier, kind store.Kind, id string) (*store.Record, error) {
	row := q.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM records WHERE kind = ? AND id = ?`, string(kind), id)
	r, err := scanRecord(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("record %s %q: %w", kind, id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite store: get record %s %q: %w", kind, id, err)
	}
	return r, nil
}

func recordGetByARN(ctx context.Context, q querier, arn string) (*store.Record, error) {
	if arn == "" {
		return nil, fmt.Errorf("record with empty ARN: %w", store.ErrNotFound)
	}
	row := q.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM records WHERE arn = ? AND arn <> ''`, arn)
	r, err := scanRecord(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("record %s: %w", arn, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite store: get record %s: %w", arn, err)
	}
	return r, nil
}

// recordList returns the records in creation order (seq), then ID.
func recordList(ctx context.Context, q querier, params *store.RecordListParams) ([]*store.Record, error) {
	if params == nil || params.Kind == "" {
		return nil, errors.New("sqlite store: list records: kind is required")
	}
	query := `SELECT ` + recordColumns + ` FROM records WHERE kind = ?`
	args := []any{string(params.Kind)}
	if params.Parent != "" {
		query += ` AND parent = ?`
		args = append(args, params.Parent)
	}
	query += ` ORDER BY seq, id`

	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list records %s: %w", params.Kind, err)
	}
	defer rows.Close()
	out := []*store.Record{}
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: list records %s: %w", params.Kind, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: list records %s: %w", params.Kind, err)
	}
	return out, nil
}

func recordInsert(ctx context.Context, q querier, r *store.Record) error {
	if r == nil || r.Kind == "" || r.ID == "" {
		return errors.New("sqlite store: insert record: kind and id are required")
	}
	doc := r.Doc
	if doc == nil {
		doc = []byte{}
	}
	now := time.Now().UnixNano()
	_, err := q.ExecContext(ctx,
		`INSERT INTO records (kind, id, arn, parent, revision, schema, doc, created_at, updated_at, seq)
		 VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM records))`,
		string(r.Kind), r.ID, r.ARN, r.Parent, r.Schema, doc, now, now)
	if isUniqueViolation(err) {
		return fmt.Errorf("record %s %q (ARN %q): %w", r.Kind, r.ID, r.ARN, store.ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: insert record %s %q: %w", r.Kind, r.ID, err)
	}
	r.Revision = 1
	r.CreatedAt = fromNanos(now)
	r.UpdatedAt = r.CreatedAt
	return nil
}

// recordUpdate is a compare-and-swap on revision. updated_at moves strictly
// forward even when the clock does not.
func recordUpdate(ctx context.Context, q querier, r *store.Record) error {
	if r == nil || r.Kind == "" || r.ID == "" {
		return errors.New("sqlite store: update record: kind and id are required")
	}
	doc := r.Doc
	if doc == nil {
		doc = []byte{}
	}
	var (
		revision int64
		updated  int64
	)
	err := q.QueryRowContext(ctx,
		`UPDATE records
		 SET doc = ?, schema = ?, parent = ?, revision = revision + 1, updated_at = MAX(?, updated_at + 1)
		 WHERE kind = ? AND id = ? AND revision = ?
		 RETURNING revision, updated_at`,
		doc, r.Schema, r.Parent, time.Now().UnixNano(), string(r.Kind), r.ID, r.Revision,
	).Scan(&revision, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return recordUpdateMiss(ctx, q, r)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: update record %s %q: %w", r.Kind, r.ID, err)
	}
	r.Revision = revision
	r.UpdatedAt = fromNanos(updated)
	return nil
}

// recordUpdateMiss tells a missing record from a stale revision.
func recordUpdateMiss(ctx context.Context, q querier, r *store.Record) error {
	var stored int64
	err := q.QueryRowContext(ctx, `SELECT revision FROM records WHERE kind = ? AND id = ?`, string(r.Kind), r.ID).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("record %s %q: %w", r.Kind, r.ID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: update record %s %q: %w", r.Kind, r.ID, err)
	}
	return fmt.Errorf("record %s %q: have revision %d, stored %d: %w", r.Kind, r.ID, r.Revision, stored, store.ErrConflict)
}

func recordDelete(ctx context.Context, q querier, kind store.Kind, id string) error {
	var arn string
	err := q.QueryRowContext(ctx, `DELETE FROM records WHERE kind = ? AND id = ? RETURNING arn`, string(kind), id).Scan(&arn)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("record %s %q: %w", kind, id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite store: delete record %s %q: %w", kind, id, err)
	}
	if arn == "" {
		return nil
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM tags WHERE arn = ?`, arn); err != nil {
		return fmt.Errorf("sqlite store: delete tags of %s: %w", arn, err)
	}
	return nil
}
