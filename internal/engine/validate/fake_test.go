package validate_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/engine/fullload"
	"github.com/godwit-dms/godwit/internal/engine/validate"
	"github.com/godwit-dms/godwit/internal/record"
)

// memDB is an in-memory endpoint: one table whose rows Read returns in
// the order given (ignoring OrderBy and ranges, which a one-partition
// table does not need), with equality filters. Loaded rows are kept.
type memDB struct {
	table *record.Table
	rows  []record.Row

	mu     sync.Mutex
	loaded []record.Row
}

func (m *memDB) OpenSnapshot(context.Context, int) (connector.Snapshot, error) {
	return memSnap{m}, nil
}

type memSnap struct{ m *memDB }

func (s memSnap) Close() error { return nil }

func (s memSnap) SplitPoints(context.Context, *record.Table, []string, int) ([]record.Row, error) {
	return nil, nil
}

func (s memSnap) Read(ctx context.Context, req *connector.ReadRequest, fn func([]record.Row) error) error {
	var out []record.Row
	for _, r := range s.m.rows {
		if !matches(s.m.table, r, req.Filters) {
			continue
		}
		row := make(record.Row, len(req.Columns))
		for i, c := range req.Columns {
			row[i] = r[colIndex(s.m.table, c)]
		}
		out = append(out, row)
	}
	if len(out) == 0 {
		return nil
	}
	return fn(out)
}

func colIndex(t *record.Table, name string) int {
	return slices.IndexFunc(t.Columns, func(c record.Column) bool { return c.Name == name })
}

func matches(t *record.Table, r record.Row, filters []record.Filter) bool {
	for _, f := range filters {
		v := fullload.KeyText(r[colIndex(t, f.Column)])
		if !slices.ContainsFunc(f.Conditions, func(c record.Condition) bool { return c.Op == record.OpEq && c.Value == v }) {
			return false
		}
	}
	return true
}

func (m *memDB) PrepareTable(context.Context, *record.Table, connector.TablePrep, bool) error {
	return nil
}
func (m *memDB) DeleteRange(context.Context, *record.Table, *record.Range) error { return nil }
func (m *memDB) FinishTable(context.Context, *record.Table, bool) error          { return nil }
func (m *memDB) Load(_ context.Context, _ *record.Table, rows []record.Row) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rows {
		m.loaded = append(m.loaded, slices.Clone(r))
	}
	return nil
}

func memJob(t *testing.T, src, tgt []record.Row) (*validate.Job, *memDB) {
	tbl := &record.Table{Schema: "s", Name: "t", PrimaryKey: []string{"id"}, Columns: []record.Column{
		{Name: "id", Type: record.Type{Kind: record.KindInt64}}, {Name: "v", Type: record.Type{Kind: record.KindString, Length: 10}}}}
	m, err := mapping.Parse(`{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1",
		"object-locator":{"schema-name":"s","table-name":"t"},"rule-action":"include"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	plans, err := m.Plan([]*record.Table{tbl})
	if err != nil {
		t.Fatal(err)
	}
	target := &memDB{table: tbl, rows: tgt}
	return &validate.Job{Source: &memDB{table: tbl, rows: src}, Target: target, Plan: plans[0],
		Settings: settings(t, nil), TaskName: "T"}, target
}

// A target that does not return its rows in key order (a key the merge
// thought both sides order alike) is compared again by key value, with
// the same outcome.
func TestOutOfOrderFallsBackToMatching(t *testing.T) {
	src := []record.Row{{int64(1), "a"}, {int64(2), "b"}, {int64(3), "c"}, {int64(4), "d"}}
	job, _ := memJob(t, src, []record.Row{{int64(1), "a"}, {int64(3), "c"}, {int64(2), "b"}, {int64(4), "d"}})
	res, err := validate.Table(testCtx(t), job)
	checkResult(t, res, err, validate.Result{State: validate.StateValidated, Compared: 4})

	job, target := memJob(t, src, []record.Row{{int64(4), "d"}, {int64(2), "x"}, {int64(5), "e"}, {int64(1), "a"}})
	res, err = validate.Table(testCtx(t), job)
	checkResult(t, res, err, validate.Result{State: validate.StateMismatched, Compared: 5, Failed: 3})
	var got []string
	for _, r := range target.loaded {
		got = append(got, r[5].(string)+" "+r[6].(string))
	}
	slices.Sort(got)
	want := []string{`{"key": ["2"]} RECORD_DIFF`, `{"key": ["3"]} MISSING_TARGET`, `{"key": ["5"]} MISSING_SOURCE`}
	if !slices.Equal(got, want) {
		t.Fatalf("failures = %q, want %q", got, want)
	}
	// Without a dialect the failures table has DMS's upper-case names in "public".
	if r := target.loaded[0]; r[0] != "T" || r[1] != "s" || r[2] != "t" || r[4] != "Row" {
		t.Fatalf("failure row %v", r)
	}
}

// FailureMaxCount counts the failures of all the task's tables.
func TestTaskFailureMaxCount(t *testing.T) {
	var task atomic.Int64
	src := []record.Row{{int64(1), "a"}, {int64(2), "b"}, {int64(3), "c"}}
	for i, want := range []validate.Result{
		{State: validate.StateMismatched, Compared: 3, Failed: 2},
		{State: validate.StateSuspended, Compared: 3, Failed: 1, Suspended: 1},
		{State: validate.StateSuspended, Compared: 3, Suspended: 2},
	} {
		job, target := memJob(t, src, []record.Row{{int64(1), "x"}, {int64(2), "y"}, {int64(3), "c"}})
		job.TaskFailures = &task
		job.Settings.FailureMaxCount = 3
		res, err := validate.Table(testCtx(t), job)
		checkResult(t, res, err, want)
		if int64(len(target.loaded)) != want.Failed {
			t.Fatalf("table %d: %d failures written", i, len(target.loaded))
		}
	}
	if task.Load() != 3 {
		t.Fatalf("task failures = %d", task.Load())
	}
}
