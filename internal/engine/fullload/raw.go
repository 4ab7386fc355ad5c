package fullload

import (
	"context"
	"fmt"
	"sync"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/record"
)

// rawPath says whether a table can be copied in the engines' own wire
// format: both endpoints speak the same raw format, the plan copies every
// column as it is, and the target table's columns have the source's native
// types (checked on the target after PrepareTable).
type rawPath struct {
	once    sync.Once
	targets map[string]*record.Table // target tables by schema.name, read once
	err     error
}

func (r *runner) rawEligible(ctx context.Context, plan *mapping.TablePlan, tgt *record.Table) bool {
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
	sr, ok := r.job.Target.(connector.SchemaReader)
	if !ok {
		return false
	}
	r.raw.once.Do(func() {
		tables, err := sr.Tables(ctx)
		r.raw.targets, r.raw.err = map[string]*record.Table{}, err
		for _, t := range tables {
			r.raw.targets[t.Schema+"."+t.Name] = t
		}
	})
	if r.raw.err != nil {
		return false
	}
	have := r.raw.targets[tgt.Schema+"."+tgt.Name]
	if have == nil || len(have.Columns) != len(tgt.Columns) {
		return false
	}
	for i := range tgt.Columns {
		if have.Columns[i].Name != tgt.Columns[i].Name || have.Columns[i].Type.Native != plan.Source.Column(plan.SourceColumns[i]).Type.Native {
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
	for b := range ch {
		if err := rl.LoadRaw(ctx, tr.tgt, b); err != nil {
			cancel(err)
			for range ch {
			}
			return err
		}
		n := int64(b.Rows)
		var last []string
		if tr.key.ok && b.LastKey != nil {
			last = rowText(b.LastKey)
		}
		if err := tr.report(ctx, func(ts *dms.TableStats) {
			ts.FullLoadRows += n
			ts.Segments[i].Rows += n
			if last != nil {
				ts.Segments[i].LastKey = last
			}
		}); err != nil {
			cancel(err)
			for range ch {
			}
			return err
		}
	}
	if readErr != nil {
		return fmt.Errorf("read %s: %w", tr.plan.Source.QualifiedName(), readErr)
	}
	return tr.report(ctx, func(ts *dms.TableStats) { ts.Segments[i].Done = true })
}
