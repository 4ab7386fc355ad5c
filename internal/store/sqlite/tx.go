package sqlite

import (
	"context"
	"database/sql"
	"sync/atomic"

	"github.com/godwit-dms/godwit/internal/store"
)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tx is the store.Tx handed to Update's fn. Once Update returns, every method
// fails with ErrTxDone.
type tx struct {
	sqlTx *sql.Tx
	done  atomic.Bool
}

var _ store.Tx = (*tx)(nil)

// end marks t finished and reports whether this call did it.
func (t *tx) end() bool { return t.done.CompareAndSwap(false, true) }

func (t *tx) q() (querier, error) {
	if t.done.Load() {
		return nil, ErrTxDone
	}
	return t.sqlTx, nil
}

func (t *tx) RecordGet(ctx context.Context, kind store.Kind, id string) (*store.Record, error) {
	q, err := t.q()
	if err != nil {
		return nil, err
	}
	return recordGet(ctx, q, kind, id)
}

func (t *tx) RecordGetByARN(ctx context.Context, arn string) (*store.Record, error) {
	q, err := t.q()
	if err != nil {
		return nil, err
	}
	return recordGetByARN(ctx, q, arn)
}

func (t *tx) RecordList(ctx context.Context, params *store.RecordListParams) ([]*store.Record, error) {
	q, err := t.q()
	if err != nil {
		return nil, err
	}
	return recordList(ctx, q, params)
}

func (t *tx) TagList(ctx context.Context, arn string) ([]store.Tag, error) {
	q, err := t.q()
	if err != nil {
		return nil, err
	}
	return tagList(ctx, q, arn)
}

func (t *tx) EventList(ctx context.Context, params *store.EventListParams) ([]*store.Event, error) {
	q, err := t.q()
	if err != nil {
		return nil, err
	}
	return eventList(ctx, q, params)
}

func (t *tx) RecordInsert(ctx context.Context, r *store.Record) error {
	q, err := t.q()
	if err != nil {
		return err
	}
	return recordInsert(ctx, q, r)
}

func (t *tx) RecordUpdate(ctx context.Context, r *store.Record) error {
	q, err := t.q()
	if err != nil {
		return err
	}
	return recordUpdate(ctx, q, r)
}

func (t *tx) RecordDelete(ctx context.Context, kind store.Kind, id string) error {
	q, err := t.q()
	if err != nil {
		return err
	}
	return recordDelete(ctx, q, kind, id)
}

func (t *tx) TagPut(ctx context.Context, arn string, tags []store.Tag) error {
	q, err := t.q()
	if err != nil {
		return err
	}
	return tagPut(ctx, q, arn, tags)
}

func (t *tx) TagDelete(ctx context.Context, arn string, keys []string) error {
	q, err := t.q()
	if err != nil {
		return err
	}
	return tagDelete(ctx, q, arn, keys)
}

func (t *tx) EventAppend(ctx context.Context, e *store.Event) error {
	q, err := t.q()
	if err != nil {
		return err
	}
	return eventAppend(ctx, q, e)
}
