package fullload

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/record"
)

// keyInfo says how a table's rows are ordered and resumed.
type keyInfo struct {
	src []string // source key columns
	pos []int    // their positions in plan.SourceColumns
	tgt []string // the target columns they land in
	ok  bool     // ordered, resumable loading is possible
}

func keyOf(plan *mapping.TablePlan) keyInfo {
	k := keyInfo{src: plan.Source.Key()}
	if len(k.src) == 0 {
		return k
	}
	for _, c := range k.src {
		col := plan.Source.Column(c)
		if col == nil || col.Type.Kind == record.KindBytes || col.Type.Kind == record.KindBlob || col.Type.Kind.IsLOB() {
			return k
		}
		p := indexOf(plan.SourceColumns, c)
		t, ok := targetNames(plan, []string{c})
		if p < 0 || !ok {
			return k
		}
		k.pos = append(k.pos, p)
		k.tgt = append(k.tgt, t[0])
	}
	k.ok = true
	return k
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// targetName maps source columns to target columns; ok=false when one is not loaded as is.
func targetNames(plan *mapping.TablePlan, cols []string) ([]string, bool) {
	out := make([]string, 0, len(cols))
	for _, c := range cols {
		found := ""
		src := plan.Source.Column(c)
		for _, cp := range plan.Columns {
			// A column is loaded as is when it is copied, not computed,
			// masked or converted to another kind.
			if cp.Source == c && cp.Expression == "" && cp.BeforeImageOf == "" && len(cp.Masks) == 0 &&
				src != nil && cp.Type.Kind == src.Type.Kind {
				found = cp.Name
				break
			}
		}
		if found == "" {
			return nil, false
		}
		out = append(out, found)
	}
	return out, true
}

// KeyText is the persisted text of a key value, which connectors bind as a
// parameter of the column's type.
func KeyText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.999999")
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

func textRow(vals []string) record.Row {
	if vals == nil {
		return nil
	}
	out := make(record.Row, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}

func rowText(r record.Row) []string {
	if r == nil {
		return nil
	}
	out := make([]string, len(r))
	for i, v := range r {
		out[i] = KeyText(v)
	}
	return out
}

// tableRun is one table's load.
type tableRun struct {
	// raw: rows move in the engines' own format (see rawEligible).
	raw  atomic.Bool
	r    *runner
	plan *mapping.TablePlan
	tgt  *record.Table
	key  keyInfo
	// files: the target publishes whole files; an unfinished table is
	// loaded into it again from the start, never resumed.
	files bool
	mu    sync.Mutex // guards ts
	ts    *dms.TableStats
}

func (tr *tableRun) report(ctx context.Context, fn func(ts *dms.TableStats)) error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	fn(tr.ts)
	cp := *tr.ts
	cp.Segments = append([]dms.SegmentProgress(nil), tr.ts.Segments...)
	return tr.r.job.Reporter.Table(context.WithoutCancel(ctx), &cp)
}

// table loads one table. The caller took a sub-task slot for it, which the
// table gives back when it is done.
func (r *runner) table(ctx context.Context, plan *mapping.TablePlan) (int64, error) {
	job := r.job
	src := plan.Source
	tgt := *plan.Target
	if s := job.Settings.TargetMetadata.TargetSchema; s != "" {
		tgt.Schema = s
	}
	tr := &tableRun{r: r, plan: plan, tgt: &tgt, key: keyOf(plan),
		ts: &dms.TableStats{TaskARN: job.TaskARN, SchemaName: src.Schema, TableName: src.Name, TableState: dms.TableBeforeLoad,
			RunID: job.RunID, ValidationState: "Not enabled"}}
	log := r.log.With("table", src.QualifiedName())
	prev := job.Previous[Key(src.Schema, src.Name)]
	held := true
	defer func() {
		if held {
			r.release()
		}
	}()
	if job.Resume && prev != nil && prev.TableState == dms.TableCompleted && !prev.ReloadRequested {
		// Already loaded by an earlier run.
		err := tr.report(ctx, func(ts *dms.TableStats) {
			*ts = *prev
			ts.RunID = job.RunID
			ts.ReloadRequested = false
		})
		return 0, err
	}
	unfinished := prev != nil && prev.TableState == dms.TableFullLoad && prev.RunID != 0
	// File targets publish whole files: an unfinished table is loaded again
	// from the start, after removing what the unfinished load published.
	// So is one whose segments were parts of the source's storage: the
	// target's rows do not say which part they came from.
	tr.files = job.Target.Family() == "s3"
	stored := unfinished && storedSegments(prev.Segments)
	resume := job.Resume && unfinished && len(prev.Segments) > 0 && tr.key.ok && !prev.ReloadRequested && !tr.files && !stored
	if (prev != nil && prev.ReloadRequested) || (!job.Resume && len(job.Previous) == 0 && job.Reload) {
		tr.ts.FullLoadReloaded = true
	}
	prep := connector.TablePrep(job.Settings.FullLoadSettings.TargetTablePrepMode)
	deferPK := job.Settings.FullLoadSettings.CreatePkAfterFullLoad
	// A table this load creates without its key has no index to keep up:
	// its segments only append rows.
	bare := deferPK && prep == connector.PrepDropAndCreate && !tr.files
	var segs []dms.SegmentProgress
	if resume {
		segs = append(segs, prev.Segments...)
		tr.ts.FullLoadRows = prev.FullLoadRows
		tr.ts.FullLoadStartTime = prev.FullLoadStartTime
		tr.ts.Segments = segs
		for k := range segs {
			// Read in storage order and never settled (the process died):
			// nothing says where the segment can go on from.
			if segs[k].Position != "" && !segs[k].Done {
				log.Info("the table's load starts again: it was read in storage order, and its resume point was never checked", "segment", k, "rows", segs[k].Rows)
				restart(tr.ts, k)
			}
		}
		log.Info("resuming table load", "rows_already_loaded", prev.FullLoadRows, "segments", len(segs))
	} else {
		if stored && job.Resume {
			log.Info("the table's load starts again: its segments were parts of the source's storage, which a load cannot go on from", "rows", prev.FullLoadRows)
		}
		// What the unfinished load wrote goes, where preparing the table
		// would keep it.
		if unfinished && (tr.files || stored && job.Resume && prep == connector.PrepDoNothing) {
			if err := job.Target.DeleteRange(ctx, &tgt, nil); err != nil {
				return 0, tr.fail(ctx, fmt.Errorf("remove what the unfinished load wrote: %w", err))
			}
		}
		if err := job.Target.PrepareTable(ctx, &tgt, prep, deferPK); err != nil {
			return 0, tr.fail(ctx, err)
		}
		var err error
		segs, err = r.segments(ctx, plan, tr.key, bare)
		if err != nil {
			return 0, tr.fail(ctx, err)
		}
		if storedSegments(segs) {
			log.Info("table cut into parts of the source's storage, loaded side by side into a table without indexes", "segments", len(segs))
		}
		tr.ts.FullLoadStartTime = time.Now().UTC()
	}
	if err := tr.report(ctx, func(ts *dms.TableStats) {
		ts.TableState = dms.TableFullLoad
		ts.Segments = segs
	}); err != nil {
		return 0, err
	}
	tr.raw.Store(r.rawEligible(plan))

	// The first pending segment runs on the slot held; the others take their own.
	var wg sync.WaitGroup
	errs := make([]error, len(segs))
	first := true
	for i := range segs {
		if segs[i].Done {
			continue
		}
		if !first {
			if err := r.acquire(ctx); err != nil {
				errs[i] = err
				break
			}
		}
		first = false
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.release()
			errs[i] = tr.segment(ctx, i, resume)
		}()
	}
	held = first // no segment took the held slot
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return tr.ts.FullLoadRows, tr.fail(ctx, err)
	}
	if err := job.Target.FinishTable(ctx, &tgt, deferPK); err != nil {
		return tr.ts.FullLoadRows, tr.fail(ctx, err)
	}
	err := tr.report(ctx, func(ts *dms.TableStats) {
		ts.TableState = dms.TableCompleted
		ts.FullLoadEndTime = time.Now().UTC()
	})
	log.Info("table loaded", "rows", tr.ts.FullLoadRows, "raw_copy", tr.raw.Load())
	return tr.ts.FullLoadRows, err
}

// fail records why the table stopped. Rejected rows make a table error
// (the task goes on); anything else is returned as is.
func (tr *tableRun) fail(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if !errors.Is(err, connector.ErrRowRejected) {
		return fmt.Errorf("table %s: %w", tr.plan.Source.QualifiedName(), err)
	}
	tr.r.log.Warn("table error", "table", tr.plan.Source.QualifiedName(), "err", err)
	_ = tr.report(ctx, func(ts *dms.TableStats) {
		ts.TableState = dms.TableError
		ts.LastError = err.Error()
		ts.FullLoadErrorRows++
	})
	return fmt.Errorf("%w: %s: %v", errTableError, tr.plan.Source.QualifiedName(), err)
}

// segments cuts a table into the ranges loaded in parallel. Into a bare
// target (no index to keep up) a table goes in parts of the source's
// storage when the source can cut them, each read in storage order.
func (r *runner) segments(ctx context.Context, plan *mapping.TablePlan, key keyInfo, bare bool) ([]dms.SegmentProgress, error) {
	whole := []dms.SegmentProgress{{Index: 0, Columns: key.src}}
	pl := plan.ParallelLoad
	switch {
	case pl != nil && pl.Type == "ranges":
		var out []dms.SegmentProgress
		var from []string
		for i, b := range pl.Boundaries {
			to := rowText(b)
			out = append(out, dms.SegmentProgress{Index: i, Columns: pl.Columns, From: from, To: to})
			from = to
		}
		return append(out, dms.SegmentProgress{Index: len(out), Columns: pl.Columns, From: from}), nil
	case pl != nil && pl.Type == "none":
		return whole, nil
	}
	n := r.job.Settings.FullLoadSettings.MaxFullLoadSubTasks
	auto := pl != nil && (pl.Type == "partitions-auto" || pl.Type == "subpartitions-auto")
	if !auto {
		n = autoSegments(n, runtime.NumCPU(), bare)
	}
	if !key.ok || n < 2 || (!auto && plan.Source.RowsEstimate < r.job.SegmentRows) {
		return whole, nil
	}
	if pl != nil && pl.NumberOfPartitions > 0 {
		n = min(n, pl.NumberOfPartitions)
	}
	if sp, ok := r.snap.(connector.StorageSplitter); bare && !auto && ok {
		places, err := sp.StorageSplitPoints(ctx, plan.Source, n)
		if err != nil {
			return nil, fmt.Errorf("split %s into segments: %w", plan.Source.QualifiedName(), err)
		}
		if len(places) > 0 {
			out := make([]dms.SegmentProgress, 0, len(places)+1)
			from := ""
			for i, p := range append(places, "") {
				out = append(out, dms.SegmentProgress{Index: i, Stored: &record.StorageRange{From: from, To: p}})
				from = p
			}
			return out, nil
		}
	}
	points, err := r.snap.SplitPoints(ctx, plan.Source, key.src, n)
	if err != nil {
		return nil, fmt.Errorf("split %s into segments: %w", plan.Source.QualifiedName(), err)
	}
	if len(points) == 0 {
		return whole, nil
	}
	var out []dms.SegmentProgress
	var from []string
	for i, p := range points {
		to := rowText(p)
		out = append(out, dms.SegmentProgress{Index: i, Columns: key.src, From: from, To: to})
		from = to
	}
	return append(out, dms.SegmentProgress{Index: len(out), Columns: key.src, From: from}), nil
}

// autoSegments is how many segments a large keyed table is cut into
// without a parallel-load rule, with subTasks sub-tasks on cpus CPUs.
// Splitting a table on its own initiative pays only with cores to run the
// segments, and each segment keeps two server backends busy (the source's
// read, the target's write): at most one segment per two CPUs. A split
// costs the target too: every segment but the last inserts into the middle
// of the key's index, where page splits leave pages half full (2M rows
// loaded in two key ranges made a primary key 40% larger than one stream
// did). A bare target (no index during the load) pays nothing of that:
// there, one segment per CPU.
func autoSegments(subTasks, cpus int, bare bool) int {
	if bare {
		return min(subTasks, cpus)
	}
	return min(subTasks, cpus/2)
}

// storedSegments says whether a table was cut into parts of the source's
// storage.
func storedSegments(segs []dms.SegmentProgress) bool {
	for _, s := range segs {
		if s.Stored != nil {
			return true
		}
	}
	return false
}

type batch struct {
	rows    []record.Row
	lastKey []string
	pos     string // the last row's place on the source (a read in storage order)
}

// segment loads one segment: a reader goroutine feeds transformed batches
// of CommitRate rows to the loader, which commits each and records the
// segment's progress.
func (tr *tableRun) segment(ctx context.Context, i int, resume bool) error {
	job := tr.r.job
	tr.mu.Lock()
	seg := tr.ts.Segments[i]
	tr.mu.Unlock()
	plan := tr.plan
	commitRate := job.Settings.FullLoadSettings.CommitRate
	if commitRate <= 0 {
		commitRate = 10000
	}
	req := &connector.ReadRequest{Table: plan.Source, Columns: plan.SourceColumns, Filters: plan.Filters, BatchRows: commitRate}
	if tm := job.Settings.TargetMetadata; tm.SupportLobs && !tm.FullLobMode && tm.LimitedSizeLobMode && tm.LobMaxSize > 0 {
		req.LOBMaxBytes = tm.LobMaxSize * 1024
	}
	if plan.LOB != nil && plan.LOB.Mode == "limited" && plan.LOB.BulkMaxSizeKB > 0 {
		req.LOBMaxBytes = plan.LOB.BulkMaxSizeKB * 1024
	}
	from := seg.From
	keyed := tr.key.ok && equalCols(seg.Columns, tr.key.src)
	if keyed && seg.LastKey != nil {
		// Rows up to the last committed key are on the target; the segment
		// goes on from there, that key included (it is deleted and loaded again).
		from = seg.LastKey
	}
	if len(seg.Columns) > 0 && (from != nil || seg.To != nil) {
		req.Range = &record.Range{Columns: seg.Columns, From: textRow(from), To: textRow(seg.To)}
	}
	if tr.key.ok {
		req.OrderBy = tr.key.src
	}
	if seg.Stored != nil {
		req.Stored = seg.Stored
		if resume && seg.Rows > 0 {
			// The rows a part loaded are not told apart from the others'.
			return fmt.Errorf("segment %d of %s was a part of the source's storage and cannot go on from its %d rows", i, plan.Source.QualifiedName(), seg.Rows)
		}
		resume = false
	}
	if resume {
		// Whatever a crash left on the target beyond the persisted progress goes.
		var del *record.Range
		if req.Range != nil {
			cols, ok := targetNames(plan, req.Range.Columns)
			if !ok {
				return fmt.Errorf("cannot resume segment %d: its range columns are not loaded as they are", i)
			}
			del = &record.Range{Columns: cols, From: req.Range.From, To: req.Range.To}
		}
		if err := job.Target.DeleteRange(ctx, tr.tgt, del); err != nil {
			return fmt.Errorf("clear the unfinished part of segment %d: %w", i, err)
		}
		// The row at the last committed key is deleted and loaded again.
		if keyed && seg.Rows > 0 && seg.LastKey != nil {
			_ = tr.report(ctx, func(ts *dms.TableStats) {
				ts.FullLoadRows -= 1
				ts.Segments[i].Rows -= 1
			})
		}
	}

	// A read of a whole table from its start may come in storage order,
	// where the snapshot can tell afterwards where it can go on from.
	_, checker := tr.r.snap.(connector.StorageOrderChecker)
	req.StorageOrder = keyed && req.Range == nil && checker
	if tr.raw.Load() {
		err := tr.rawSegment(ctx, i, req)
		if !errors.Is(err, errors.ErrUnsupported) {
			return err
		}
		// The engines refused the raw format for this table: nothing of the
		// refused batch was written; go on with decoded rows from the
		// segment's progress.
		tr.r.log.Info("raw copy refused; loading decoded rows", "table", plan.Source.QualifiedName(), "reason", err)
		tr.raw.Store(false)
		return tr.segment(ctx, i, true)
	}
	read := func(ctx context.Context, fn func(rows []record.Row, pos string) error) error {
		return tr.r.snap.Read(ctx, req, func(rows []record.Row) error { return fn(rows, "") })
	}
	if pr, ok := tr.r.snap.(connector.PositionedReader); ok && req.StorageOrder {
		read = func(ctx context.Context, fn func(rows []record.Row, pos string) error) error {
			return pr.ReadPositioned(ctx, req, fn)
		}
	}
	ch := make(chan batch, 1)
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var readErr error
	go func() {
		defer close(ch)
		meta := mapping.RowMeta{Operation: "INSERT", Timestamp: job.LoadTime}
		width := len(plan.Columns)
		readErr = read(rctx, func(rows []record.Row, pos string) error {
			// One allocation for the batch's rows: the reader reuses its own.
			backing := make([]any, len(rows)*width)
			out := make([]record.Row, len(rows))
			for i, src := range rows {
				out[i] = backing[i*width : (i+1)*width : (i+1)*width]
				if err := plan.TransformInto(out[i], src, meta); err != nil {
					return fmt.Errorf("transform a row of %s: %w", plan.Source.QualifiedName(), err)
				}
			}
			b := batch{rows: out, pos: pos}
			if tr.key.ok && len(rows) > 0 {
				last := rows[len(rows)-1]
				b.lastKey = make([]string, len(tr.key.pos))
				for k, p := range tr.key.pos {
					b.lastKey[k] = KeyText(last[p])
				}
			}
			select {
			case ch <- b:
				return nil
			case <-rctx.Done():
				return context.Cause(rctx)
			}
		})
	}()
	// A target that keeps a load open across batches commits the batches
	// of CommitEvery at once; others commit each batch.
	load := func(next func() (batch, error)) error {
		b, err := next()
		if err != nil || b.rows == nil {
			return err
		}
		return job.Target.Load(ctx, tr.tgt, b.rows)
	}
	if sl, ok := job.Target.(connector.StreamLoader); ok {
		load = func(next func() (batch, error)) error {
			return sl.LoadStream(ctx, tr.tgt, func() ([]record.Row, error) {
				b, err := next()
				return b.rows, err
			})
		}
	}
	err := loadGroups(ctx, job.CommitEvery, ch, func(b batch) (int64, mark) { return int64(len(b.rows)), mark{key: b.lastKey, pos: b.pos} }, load,
		func(rows int64, last mark) error { return tr.progress(ctx, i, rows, last) })
	if err != nil {
		cancel(err)
		for range ch {
		}
	} else if readErr != nil {
		err = fmt.Errorf("read %s: %w", plan.Source.QualifiedName(), readErr)
	}
	return tr.end(ctx, i, err)
}

// end closes the run of segment i, which err ended (nil: it loaded its
// last row): a segment ended early settles its progress (settle).
func (tr *tableRun) end(ctx context.Context, i int, err error) error {
	if err != nil {
		tr.settle(ctx, i)
		return err
	}
	return tr.report(ctx, func(ts *dms.TableStats) {
		ts.Segments[i].Done = true
		ts.Segments[i].Position = ""
	})
}

// progress records that a commit loaded rows more of segment i, up to the
// mark last (its key nil: unchanged, or no key).
func (tr *tableRun) progress(ctx context.Context, i int, rows int64, last mark) error {
	return tr.report(ctx, func(ts *dms.TableStats) {
		ts.FullLoadRows += rows
		ts.Segments[i].Rows += rows
		if last.key != nil {
			ts.Segments[i].LastKey = last.key
			ts.Segments[i].Position = last.pos
		}
	})
}

// settleTimeout bounds the check of where a segment read in storage order
// can go on from (it reads the table once; storage order is only used for
// tables small enough for that to be quick).
const settleTimeout = 2 * time.Minute

// settle makes the progress of segment i, read in storage order and ended
// before its last row, a place a read in key order can go on from: its
// last key when the source confirms, in the same snapshot, that the rows
// came in key order up to there; otherwise the segment starts again
// (restart). It runs after ctx ended too: the snapshot is still open.
func (tr *tableRun) settle(ctx context.Context, i int) {
	tr.mu.Lock()
	seg := tr.ts.Segments[i]
	tr.mu.Unlock()
	if seg.Position == "" || tr.files || seg.Stored != nil {
		return // nothing read in storage order, or nothing to resume
	}
	ok := false
	if chk, is := tr.r.snap.(connector.StorageOrderChecker); is && seg.LastKey != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
		var err error
		ok, err = chk.KeysOrderedThrough(cctx, tr.plan.Source, tr.key.src, textRow(seg.LastKey), seg.Position)
		cancel()
		switch {
		case err != nil:
			tr.r.log.Warn("cannot check where the table's load can go on; it will start again", "table", tr.plan.Source.QualifiedName(), "err", err)
		case !ok:
			tr.r.log.Info("the rows loaded so far did not come in key order; the table's load will start again", "table", tr.plan.Source.QualifiedName(), "rows", seg.Rows)
		}
	}
	_ = tr.report(ctx, func(ts *dms.TableStats) {
		if !ok {
			restart(ts, i)
		}
		ts.Segments[i].Position = ""
	})
}

// restart forgets the progress of segment i: it is loaded again from its
// start (after its range is cleared on the target).
func restart(ts *dms.TableStats, i int) {
	ts.FullLoadRows -= ts.Segments[i].Rows
	ts.Segments[i].Rows = 0
	ts.Segments[i].LastKey = nil
	ts.Segments[i].Position = ""
}

func equalCols(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
