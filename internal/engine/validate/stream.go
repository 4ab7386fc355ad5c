package validate

import (
	"context"
	"errors"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/record"
)

// errStopped ends a read its consumer no longer wants. The read's callback
// returns it, so connectors end the query and keep the session.
var errStopped = errors.New("validate: read stopped")

// stream turns a push-style Snapshot.Read into a pull iterator: the read
// runs in its own goroutine and hands over batches it owns (copied or
// transformed), at most two ahead, so memory is bounded by the batch size.
type stream[T any] struct {
	ch    chan []T
	stop  chan struct{}
	errc  chan error
	batch []T
	i     int
	done  bool
	err   error
}

// startStream runs read, whose emit hands a batch to the consumer.
func startStream[T any](ctx context.Context, read func(ctx context.Context, emit func([]T) error) error) *stream[T] {
	st := &stream[T]{ch: make(chan []T, 2), stop: make(chan struct{}), errc: make(chan error, 1)}
	go func() {
		err := read(ctx, func(b []T) error {
			select {
			case st.ch <- b:
				return nil
			case <-st.stop:
				return errStopped
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
		close(st.ch)
		st.errc <- err
	}()
	return st
}

// next returns the next item; ok is false at the end or on error.
func (st *stream[T]) next() (item T, ok bool, err error) {
	for st.i >= len(st.batch) {
		if st.done {
			return item, false, st.err
		}
		b, open := <-st.ch
		if !open {
			st.done = true
			st.err = <-st.errc
			if errors.Is(st.err, errStopped) {
				st.err = nil
			}
			return item, false, st.err
		}
		st.batch, st.i = b, 0
	}
	item = st.batch[st.i]
	st.i++
	return item, true, nil
}

// close stops the read if it is still going and waits for it to end, so
// its session is back in the snapshot.
func (st *stream[T]) close() {
	if st.done {
		return
	}
	close(st.stop)
	for range st.ch {
	}
	st.done = true
	st.err = <-st.errc
}

// srow is a source row: transformed into the target's columns, with the
// raw key values for KEY.
type srow struct {
	vals record.Row
	key  []any
}

// readSource streams the source rows req selects, transformed by the plan.
func (s *spec) readSource(ctx context.Context, snap connector.Snapshot, req *connector.ReadRequest) *stream[srow] {
	return startStream(ctx, func(ctx context.Context, emit func([]srow) error) error {
		return snap.Read(ctx, req, func(rows []record.Row) error {
			out, err := s.transform(rows)
			if err != nil {
				return err
			}
			return emit(out)
		})
	})
}

// transform turns raw source rows into srows.
func (s *spec) transform(rows []record.Row) ([]srow, error) {
	nk := len(s.srcKeyAt)
	out := make([]srow, len(rows))
	keys := make([]any, len(rows)*nk)
	meta := mapping.RowMeta{Operation: "INSERT"}
	for i, raw := range rows {
		v, err := s.plan.Transform(raw, meta)
		if err != nil {
			return nil, err
		}
		k := keys[i*nk : (i+1)*nk : (i+1)*nk]
		for j, at := range s.srcKeyAt {
			k[j] = raw[at]
		}
		out[i] = srow{vals: v, key: k}
	}
	return out, nil
}

// readTarget streams the target rows req selects, copied out of the
// connector's reused batch.
func readTarget(ctx context.Context, snap connector.Snapshot, req *connector.ReadRequest) *stream[record.Row] {
	return startStream(ctx, func(ctx context.Context, emit func([]record.Row) error) error {
		return snap.Read(ctx, req, func(rows []record.Row) error {
			return emit(copyRows(rows))
		})
	})
}

// copyRows copies a batch into one allocation.
func copyRows(rows []record.Row) []record.Row {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows[0])
	flat := make([]any, len(rows)*n)
	out := make([]record.Row, len(rows))
	for i, r := range rows {
		row := flat[i*n : (i+1)*n : (i+1)*n]
		copy(row, r)
		out[i] = row
	}
	return out
}
