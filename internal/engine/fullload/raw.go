package fullload

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
)

// rawEligible says whether a table can be copied in the engines' own wire
// format: both endpoints speak the same raw format and the plan copies
// every column as it is, with the source's native type. The target table
// itself is checked by the loader (RawLoader.LoadRaw compares its columns'
// types and refuses the batch, writing nothing, when one differs), so a
// table created or changed by PrepareTable a moment ago is judged as it
// is then.
func (r *runner) rawEligible(plan *mapping.TablePlan) bool {
	_, ok1 := r.snap.(connector.RawSnapshot)
	_, ok2 := r.job.Target.(connector.RawLoader)
	sf, ok3 := r.job.Source.(connector.RawCopier)
	tf, ok4 := r.job.Target.(connector.RawCopier)
	if !ok1 || !ok2 || !ok3 || !ok4 || sf.RawFamily() != tf.RawFamily() {
		return false
	}
	if len(plan.Columns) != len(plan.SourceColumns) || len(plan.Filters) > 0 {
		return false
	}
	for i, cp := range plan.Columns {
		src := plan.Source.Column(plan.SourceColumns[i])
		if src == nil || cp.Source != src.Name || cp.Expression != "" || cp.BeforeImageOf != "" || len(cp.Masks) > 0 ||
			cp.Type.Native != src.Type.Native || cp.Type.Engine != src.Type.Engine {
			return false
		}
	}
	return true
}

// rawSegment is segment's loop on the raw path.
func (tr *tableRun) rawSegment(ctx context.Context, i int, req *connector.ReadRequest) error {
	job := tr.r.job
	rs := tr.r.snap.(connector.RawSnapshot)
	rl := job.Target.(connector.RawLoader)
	ch := make(chan *connector.RawBatch, 1)
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var readErr error
	go func() {
		defer close(ch)
		readErr = rs.ReadRaw(rctx, req, func(b *connector.RawBatch) error {
			select {
			case ch <- b:
				return nil
			case <-rctx.Done():
				return context.Cause(rctx)
			}
		})
	}()
	err := loadGroups(ctx, job.CommitEvery, ch, func(b *connector.RawBatch) (int64, []string) {
		if tr.key.ok && b.LastKey != nil {
			return int64(b.Rows), rowText(b.LastKey)
		}
		return int64(b.Rows), nil
	}, func(next func() (*connector.RawBatch, error)) error {
		return rl.LoadRawStream(ctx, tr.tgt, next)
	}, func(rows int64, last []string) error {
		return tr.progress(ctx, i, rows, last)
	})
	if err != nil {
		cancel(err)
		for range ch {
		}
		return err
	}
	if readErr != nil {
		return fmt.Errorf("read %s: %w", tr.plan.Source.QualifiedName(), readErr)
	}
	return tr.report(ctx, func(ts *dms.TableStats) { ts.Segments[i].Done = true })
}

// loadGroups loads the batches of ch through load: each call takes the
// batches that come within every of its start (next returns the zero B
// after them, or at the end of ch), then the rows and last key (size's) of
// what it committed are reported. A load that takes one batch and returns
// is a commit per batch.
func loadGroups[B any](ctx context.Context, every time.Duration, ch <-chan B, size func(B) (int64, []string),
	load func(next func() (B, error)) error, report func(rows int64, last []string) error) error {
	for {
		var (
			rows  int64
			last  []string
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
				n, k := size(b)
				rows += n
				if k != nil {
					last = k
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
