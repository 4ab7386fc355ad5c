package fullload

import (
	"context"
	"errors"
	"time"
)

// mark is where a batch ends: its last row's key (nil: none, or
// unchanged) and, for a read in storage order, its place on the source.
type mark struct {
	key []string
	pos string
}

// loadGroups loads the batches of ch through load: each call takes the
// batches that come within every of its start (next returns the zero B
// after them, or at the end of ch), then the rows and the last mark
// (size's) of what it committed are reported. A load that takes one batch
// and returns is a commit per batch.
func loadGroups[B any](ctx context.Context, every time.Duration, ch <-chan B, size func(B) (int64, mark),
	load func(next func() (B, error)) error, report func(rows int64, last mark) error) error {
	for {
		var (
			rows  int64
			last  mark
			start = time.Now()
			took  int
			ended bool
		)
		err := load(func() (B, error) {
			var none B
			// Once the load holds rows, it commits at every, even when
			// the next batch is slow to come.
			var due <-chan time.Time
			if rows > 0 {
				left := every - time.Since(start)
				if left <= 0 {
					return none, nil
				}
				t := time.NewTimer(left)
				defer t.Stop()
				due = t.C
			}
			select {
			case <-due:
				return none, nil
			case b, ok := <-ch:
				if !ok {
					ended = true
					return none, nil
				}
				took++
				n, m := size(b)
				rows += n
				if m.key != nil {
					last = m
				}
				return b, nil
			case <-ctx.Done():
				return none, context.Cause(ctx)
			}
		})
		if err == nil && rows > 0 {
			err = report(rows, last)
		}
		if err != nil || ended {
			return err
		}
		if took == 0 {
			return errors.New("a load returned without taking a batch")
		}
	}
}
