package fullload

import (
	"context"
	"fmt"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
)

// rawEligible says whether a table can be copied in the engines' own wire
// format: both endpoints speak the same raw format and the plan copies
// every column as it is, with the source's native type. The target table
// itself is checked by the loader (RawLoader.LoadRawStream compares its
// columns' types and refuses the batch, writing nothing, when one
// differs), so a table created or changed by PrepareTable a moment ago is
// judged as it is then.
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

// rawSegment is segment's loop on the raw path. Rows read in storage
// order (req.StorageOrder): a segment that ends before its last row
// settles where it can go on from.
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
	err := loadGroups(ctx, job.CommitEvery, ch, func(b *connector.RawBatch) (int64, mark) {
		if tr.key.ok && b.LastKey != nil {
			return int64(b.Rows), mark{key: rowText(b.LastKey), pos: b.Position}
		}
		return int64(b.Rows), mark{}
	}, func(next func() (*connector.RawBatch, error)) error {
		return rl.LoadRawStream(ctx, tr.tgt, next)
	}, func(rows int64, last mark) error {
		return tr.progress(ctx, i, rows, last)
	})
	if err != nil {
		cancel(err)
		for range ch {
		}
	} else if readErr != nil {
		err = fmt.Errorf("read %s: %w", tr.plan.Source.QualifiedName(), readErr)
	}
	return tr.end(ctx, i, err)
}
