// Package validate is DMS row-level data validation: it compares a
// table's rows on the source (after the table mapping's transformations)
// with the rows on the target, and records each difference in the
// awsdms_validation_failures_v1 control table on the target.
//
// A table is cut into partitions of about PartitionSize rows by its
// primary key (the first unique key without one), using the source's
// split points, inside one consistent snapshot per side. ThreadCount
// workers compare the partitions. Where both snapshots can checksum a
// partition (PartitionChecksummer) and the columns are copied as they are
// between engines of one family, identical partitions are settled by
// their checksums; the others are compared row by row:
//
//   - keys that both servers order by value (integers, numerics, dates and
//     timestamps) are merge-joined, both sides read in key order in
//     batches, one row per side in hand;
//   - text keys, whose order depends on each side's collation, are paired
//     by value as both sides stream; rows waiting for their pair are held
//     up to a bound, past which both reads pause (each resumes after the
//     last key it read) while the waiting rows are looked up on the other
//     side by key.
//
// Either way memory stays bounded whatever the size of the table. Reads
// take a snapshot session on the source before the target, so workers
// sharing snapshots of few sessions (MySQL without RELOAD has one) never
// wait on each other in a cycle.
//
// Values are compared by kind, not by text: integers by value across
// int64/uint64, numerics as exact decimals whatever their scale, floats
// identical or one ULP apart (at single precision when one side is
// REAL), strings exactly (blank-padded CHAR(n) without trailing blanks;
// with HandleCollationDiff also without case), bytes exactly, bool and
// 0/1 alike, dates and timestamps as instants at microseconds, JSON as
// values (key order ignored), UUIDs without case, enums by label.
// SkipLobColumns leaves LOB columns out; ValidationPartialLobSize (KB)
// compares only the beginning of LOBs. Before-image, masked and load-time expression
// columns are not compared: their values are not a copy of the source.
//
// StateTableError is not produced here: it is for the caller, for a table
// whose load failed and which is therefore not validated.
package validate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/record"
)

// ValidationState values.
const (
	StateValidated    = "Validated"
	StateMismatched   = "Mismatched records"
	StateNoPrimaryKey = "No primary key"
	StateTableError   = "Table error"
	StateError        = "Error"
	StateSuspended    = "Suspended records"
)

// ErrBadJob: the job is incomplete or inconsistent.
var ErrBadJob = errors.New("validate: bad job")

// Source is the source endpoint.
type Source interface {
	connector.SnapshotReader
}

// Target is the target endpoint: read to compare, loaded with the
// failures table. When it is a connector.TargetDialect its Family names
// the failures table's columns and picks the default control schema.
type Target interface {
	connector.SnapshotReader
	connector.BulkLoader
}

// Job is the validation of one table.
type Job struct {
	Source Source
	Target Target
	// Plan is the table's mapping: Target has the target names and types;
	// Columns map target ← source.
	Plan *mapping.TablePlan
	// TargetTable is the target table as loaded (Plan.Target with
	// TargetSchema applied); nil = Plan.Target.
	TargetTable *record.Table
	Settings    tasksettings.ValidationSettings
	// TaskName is the task's resource id, for TASK_NAME.
	TaskName string
	// ControlSchema is where awsdms_validation_failures_v1 lives; "" = the
	// target's default: "public" on PostgreSQL, "awsdms_control" on MySQL.
	ControlSchema string
	Log           *slog.Logger
	// TaskFailures, when set, counts the failures the whole task recorded,
	// shared by its tables' jobs, for Settings.FailureMaxCount.
	TaskFailures *atomic.Int64
}

// Result is a table's validation outcome, for its TableStatistics.
type Result struct {
	State   string // ValidationState
	Details string // ValidationStateDetails
	// Compared counts the rows compared (source rows, and rows found only
	// on the target); Pending, Failed and Suspended are
	// ValidationPendingRecords, ValidationFailedRecords and
	// ValidationSuspendedRecords. Failed counts the rows written to the
	// failures table; differences past TableFailureMaxCount (or the task's
	// FailureMaxCount) are Suspended.
	Compared, Pending, Failed, Suspended int64
}

// Table validates one table: it cuts the table into partitions of
// Settings.PartitionSize rows by the key (SplitPoints on the source),
// opens one consistent snapshot on each side, compares the partitions with
// Settings.ThreadCount workers and writes a row to the failures table for
// each difference. A table without a usable key is "No primary key"
// without comparing. The error is non-nil only when validation could not
// run; the Result is then "Error".
func Table(ctx context.Context, job *Job) (Result, error) {
	began := time.Now()
	log := logger(job)
	s, res, err := prepare(job)
	if err != nil || res != nil {
		return *res, err
	}
	threads := threadCount(job)
	srcSnap, tgtSnap, err := openSnapshots(ctx, job, threads)
	if err != nil {
		return failed(err)
	}
	defer srcSnap.Close()
	defer tgtSnap.Close()

	r := &runner{s: s, src: srcSnap, tgt: tgtSnap, log: newFailureLog(job, s), pendingMax: pendingMax(job), logger: log}
	if _, ok := srcSnap.(PartitionChecksummer); ok {
		if _, ok := tgtSnap.(PartitionChecksummer); ok {
			r.sumCols[0], r.sumCols[1], r.checksum = s.checksumColumns()
		}
	}
	parts, err := r.partitions(ctx)
	if err != nil {
		return failed(err)
	}
	log.Info("validating table", "partitions", len(parts), "threads", threads, "ordered_key", s.ordered,
		"checksums", r.checksum, "columns", len(s.cols), "not_compared", s.skipped)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan partition)
	var wg sync.WaitGroup
	for range min(threads, len(parts)) {
		wg.Go(func() {
			for part := range work {
				if err := r.partition(ctx, part); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
feed:
	for _, p := range parts {
		select {
		case work <- p:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return failed(fmt.Errorf("validate %s: %w", s.src.QualifiedName(), err))
	}
	res = r.result()
	log.Info("table validated", "state", res.State, "compared", res.Compared, "failed", res.Failed,
		"suspended", res.Suspended, "elapsed", time.Since(began).Round(time.Millisecond))
	return *res, nil
}

// Rows validates the rows of the given keys again (CDC re-checks): keys
// are source key values as text, as fullload.KeyText makes them, in key
// column order. A key found on neither side (a row deleted on both) is
// compared and equal.
func Rows(ctx context.Context, job *Job, keys [][]string) (Result, error) {
	r, p, res, err := compareKeys(ctx, job, keys)
	if res != nil || err != nil {
		return *res, err
	}
	if err := r.finish(ctx, p); err != nil {
		return failed(err)
	}
	return *r.result(), nil
}

// Mismatched compares the rows of keys like Rows but records nothing: it
// returns the keys whose rows differ or are missing on one side, for a
// caller that checks them again later before recording them with Rows.
func Mismatched(ctx context.Context, job *Job, keys [][]string) ([][]string, error) {
	_, p, res, err := compareKeys(ctx, job, keys)
	if err != nil {
		return nil, err
	}
	if res != nil {
		return nil, nil // the table cannot be validated (no usable key); its state says why
	}
	out := make([][]string, 0, len(p.fails))
	for _, f := range p.fails {
		out = append(out, f.key)
	}
	return out, nil
}

// compareKeys compares the rows of keys; res is set when the table is not
// validated or the comparison could not run.
func compareKeys(ctx context.Context, job *Job, keys [][]string) (*runner, *partRun, *Result, error) {
	fail := func(err error) (*runner, *partRun, *Result, error) {
		r, err := failed(err)
		return nil, nil, &r, err
	}
	s, res, err := prepare(job)
	if err != nil || res != nil {
		return nil, nil, res, err
	}
	for _, k := range keys {
		if len(k) != len(s.srcKey) {
			return fail(fmt.Errorf("%w: key %q has %d values for the %d key columns of %s", ErrBadJob, k, len(k), len(s.srcKey), s.src.QualifiedName()))
		}
	}
	srcSnap, tgtSnap, err := openSnapshots(ctx, job, 1)
	if err != nil {
		return fail(err)
	}
	defer srcSnap.Close()
	defer tgtSnap.Close()
	r := &runner{s: s, src: srcSnap, tgt: tgtSnap, log: newFailureLog(job, s), logger: logger(job)}
	p := &partRun{r: r}
	seen := map[string]bool{}
	for i := 0; i < len(keys); i += lookupKeys {
		chunk := keys[i:min(i+lookupKeys, len(keys))]
		srows := map[string]srow{}
		if _, err := s.lookupSourceText(ctx, srcSnap, chunk, srows); err != nil {
			return fail(err)
		}
		trows, err := s.lookupTargetText(ctx, tgtSnap, chunk)
		if err != nil {
			return fail(err)
		}
		for _, k := range chunk {
			n := s.norm(func(i int) any { return k[i] })
			if seen[n] {
				continue
			}
			seen[n] = true
			sr, inS := srows[n]
			tr, inT := trows[n]
			switch {
			case inS && inT:
				p.compareRow(sr, tr)
			case inS:
				p.missingTarget(sr)
			case inT:
				p.missingSource(tr)
			default:
				p.compared++
			}
		}
	}
	return r, p, nil, nil
}

// prepare works out the job's comparison; res is set when the table is
// not validated (no key) or the job is bad.
func prepare(job *Job) (*spec, *Result, error) {
	if job == nil || job.Source == nil || job.Target == nil {
		err := fmt.Errorf("%w: a job needs a source and a target", ErrBadJob)
		return nil, &Result{State: StateError, Details: err.Error()}, err
	}
	s, err := newSpec(job)
	var nv *notValidated
	switch {
	case errors.As(err, &nv):
		logger(job).Info("table not validated", "state", nv.state, "reason", nv.details)
		return nil, &Result{State: nv.state, Details: nv.details}, nil
	case err != nil:
		return nil, &Result{State: StateError, Details: err.Error()}, err
	}
	return s, nil, nil
}

func failed(err error) (Result, error) {
	return Result{State: StateError, Details: err.Error()}, err
}

func logger(job *Job) *slog.Logger {
	log := job.Log
	if log == nil {
		log = slog.Default()
	}
	if job.Plan != nil && job.Plan.Source != nil {
		log = log.With("table", job.Plan.Source.QualifiedName())
	}
	return log
}

func threadCount(job *Job) int {
	n := job.Settings.ThreadCount
	if n <= 0 {
		n = 5
	}
	return min(n, 64)
}

func pendingMax(job *Job) int {
	n := job.Settings.PartitionSize
	if n <= 0 {
		n = 10000
	}
	return min(max(n, 1000), 20000)
}

// openSnapshots opens a consistent snapshot on each side.
func openSnapshots(ctx context.Context, job *Job, sessions int) (src, tgt connector.Snapshot, err error) {
	src, err = job.Source.OpenSnapshot(ctx, sessions)
	if err != nil {
		return nil, nil, fmt.Errorf("open a snapshot of the source: %w", err)
	}
	tgt, err = job.Target.OpenSnapshot(ctx, sessions)
	if err != nil {
		src.Close()
		return nil, nil, fmt.Errorf("open a snapshot of the target: %w", err)
	}
	return src, tgt, nil
}

// partitions cuts the source key into ranges of about PartitionSize rows.
func (r *runner) partitions(ctx context.Context) ([]partition, error) {
	size := int64(r.s.job.Settings.PartitionSize)
	if size <= 0 {
		size = 10000
	}
	est := r.s.src.RowsEstimate
	n := int64(1)
	if est > size {
		n = min(int64(math.Ceil(float64(est)/float64(size))), maxPartitions)
	}
	if n < 2 {
		return []partition{{}}, nil
	}
	points, err := r.src.SplitPoints(ctx, r.s.src, r.s.srcKey, int(n))
	if err != nil {
		return nil, fmt.Errorf("split %s into partitions: %w", r.s.src.QualifiedName(), err)
	}
	parts := make([]partition, 0, len(points)+1)
	var from record.Row
	for _, p := range points {
		parts = append(parts, partition{from: from, to: p})
		from = p
	}
	return append(parts, partition{from: from}), nil
}

// result sums up the comparison.
func (r *runner) result() *Result {
	failed, suspended := r.log.counts()
	res := &Result{Compared: r.compared.Load(), Failed: failed, Suspended: suspended}
	where := r.log.table.Schema + "." + r.log.table.Name
	switch {
	case suspended > 0:
		res.State = StateSuspended
		res.Details = fmt.Sprintf("%d records failed validation (see %s); the failure limit was reached and %d more differing records were not recorded.",
			failed, where, suspended)
	case failed > 0:
		res.State = StateMismatched
		res.Details = fmt.Sprintf("%d records failed validation; see %s.", failed, where)
	default:
		res.State = StateValidated
	}
	return res
}
