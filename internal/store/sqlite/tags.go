package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/godwit-dms/godwit/internal/store"
)

// tagList returns the tags of arn ordered by key (byte order).
func tagList(ctx context.Context, q querier, arn string) ([]store.Tag, error) {
	rows, err := q.QueryContext(ctx, `SELECT key, value FROM tags WHERE arn = ? ORDER BY key`, arn)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list tags of %s: %w", arn, err)
	}
	defer rows.Close()
	out := []store.Tag{}
	for rows.Next() {
		var t store.Tag
		if err := rows.Scan(&t.Key, &t.Value); err != nil {
			return nil, fmt.Errorf("sqlite store: list tags of %s: %w", arn, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: list tags of %s: %w", arn, err)
	}
	return out, nil
}

func tagPut(ctx context.Context, q querier, arn string, tags []store.Tag) error {
	if arn == "" {
		return errors.New("sqlite store: put tags: empty ARN")
	}
	for _, t := range tags {
		if t.Key == "" {
			return fmt.Errorf("sqlite store: put tags on %s: empty key", arn)
		}
		if _, err := q.ExecContext(ctx,
			`INSERT INTO tags (arn, key, value) VALUES (?, ?, ?)
			 ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value`,
			arn, t.Key, t.Value); err != nil {
			return fmt.Errorf("sqlite store: put tag %q on %s: %w", t.Key, arn, err)
		}
	}
	return nil
}

func tagDelete(ctx context.Context, q querier, arn string, keys []string) error {
	for _, k := range keys {
		if _, err := q.ExecContext(ctx, `DELETE FROM tags WHERE arn = ? AND key = ?`, arn, k); err != nil {
			return fmt.Errorf("sqlite store: delete tag %q of %s: %w", k, arn, err)
		}
	}
	return nil
}
