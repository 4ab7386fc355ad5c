package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/store"
)

// eventAppend stores e and sets e.Seq. A zero e.Date is set to now; e.Date is
// written back in UTC.
func eventAppend(ctx context.Context, q querier, e *store.Event) error {
	if e == nil {
		return errors.New("sqlite store: append event: nil event")
	}
	date := e.Date
	if date.IsZero() {
		date = time.Now()
	}
	nanos, err := toNanos(date)
	if err != nil {
		return fmt.Errorf("sqlite store: append event: %w", err)
	}
	categories := e.Categories
	if categories == nil {
		categories = []string{}
	}
	cats, err := json.Marshal(categories)
	if err != nil {
		return fmt.Errorf("sqlite store: append event: %w", err)
	}
	var seq int64
	err = q.QueryRowContext(ctx,
		`INSERT INTO events (source_id, source_type, message, categories, date) VALUES (?, ?, ?, ?, ?) RETURNING seq`,
		e.SourceID, e.SourceType, e.Message, string(cats), nanos,
	).Scan(&seq)
	if err != nil {
		return fmt.Errorf("sqlite store: append event for %s %q: %w", e.SourceType, e.SourceID, err)
	}
	e.Seq = seq
	e.Date = fromNanos(nanos)
	return nil
}

// eventList returns the matching events ordered by Seq. nil params lists all.
func eventList(ctx context.Context, q querier, params *store.EventListParams) ([]*store.Event, error) {
	var (
		where []string
		args  []any
	)
	if params != nil {
		if params.SourceID != "" {
			where = append(where, `source_id = ?`)
			args = append(args, params.SourceID)
		}
		if params.SourceType != "" {
			where = append(where, `source_type = ?`)
			args = append(args, params.SourceType)
		}
		if !params.Since.IsZero() {
			where = append(where, `date >= ?`)
			args = append(args, clampNanos(params.Since))
		}
		if !params.Until.IsZero() {
			where = append(where, `date <= ?`)
			args = append(args, clampNanos(params.Until))
		}
	}
	query := `SELECT seq, source_id, source_type, message, categories, date FROM events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY seq`

	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: list events: %w", err)
	}
	defer rows.Close()
	out := []*store.Event{}
	for rows.Next() {
		var (
			e     store.Event
			cats  string
			nanos int64
		)
		if err := rows.Scan(&e.Seq, &e.SourceID, &e.SourceType, &e.Message, &cats, &nanos); err != nil {
			return nil, fmt.Errorf("sqlite store: list events: %w", err)
		}
		if err := json.Unmarshal([]byte(cats), &e.Categories); err != nil {
			return nil, fmt.Errorf("sqlite store: list events: categories of event %d: %w", e.Seq, err)
		}
		e.Date = fromNanos(nanos)
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: list events: %w", err)
	}
	return out, nil
}
