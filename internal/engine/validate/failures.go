package validate

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/engine/fullload"
	"github.com/godwit-dms/godwit/internal/record"
)

// FailuresTable is the name of DMS's validation failures control table.
const FailuresTable = "awsdms_validation_failures_v1"

// Failure types, as FAILURE_TYPE holds them.
const (
	RecordDiff    = "RECORD_DIFF"
	MissingSource = "MISSING_SOURCE" // the row is only on the target
	MissingTarget = "MISSING_TARGET" // the row is only on the source
)

// maxFailures is where DMS stops validating whatever TableFailureMaxCount
// says: more than 10,000 failed records.
const maxFailures = 10000

// maxMissingSourceKeys bounds the target-only keys remembered to report
// each once.
const maxMissingSourceKeys = 100_000

// detailsMax is the size of the DETAILS column.
const detailsMax = 8000

// failure is one row of the failures table, before it is written.
type failure struct {
	key     []string // source key values as text
	typ     string
	details string
	at      time.Time
}

// displayKey is the text of a key value in KEY and in Rows' keys.
func displayKey(v any) string { return fullload.KeyText(v) }

// keyJSON is KEY: {"key": ["v1", "v2"]}.
func keyJSON(key []string) string {
	var b strings.Builder
	b.WriteString(`{"key": [`)
	for i, k := range key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(k))
	}
	b.WriteString("]}")
	return b.String()
}

// details is DETAILS of a RECORD_DIFF: the differing columns with the
// source value, then the target value, as DMS writes them:
// [[{'COL': 'src', 'COL2': 'src2'}, {'COL': 'tgt', 'COL2': 'tgt2'}],]
func (s *spec) details(src, tgt record.Row, diff []int) string {
	var side [2]strings.Builder
	for j, i := range diff {
		c := &s.cols[i]
		for k, v := range [2]any{src[c.at], tgt[c.tat]} {
			if j > 0 {
				side[k].WriteString(", ")
			}
			side[k].WriteString(quoteDetail(c.name))
			side[k].WriteString(": ")
			side[k].WriteString(quoteDetail(displayText(v)))
		}
	}
	out := "[[{" + side[0].String() + "}, {" + side[1].String() + "}],]"
	return truncate(out, detailsMax)
}

// quoteDetail writes s as a single-quoted literal, escaping \ and '.
func quoteDetail(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}

// truncate cuts s to at most n characters.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-3]) + "..."
}

// failureLog writes a table's failures to the target and keeps the
// counts: up to the table's (and the task's) limit; past it differences
// are only counted, as suspended records.
type failureLog struct {
	target connector.BulkLoader
	table  *record.Table // the failures table on the target
	task   string
	owner  string // source schema and table, as TABLE_OWNER / TABLE_NAME
	name   string
	limit  int64 // failures the table may record
	job    *Job

	createMu sync.Mutex
	created  bool // the table is known to exist

	mu        sync.Mutex
	failed    int64
	suspended int64
	// missingSource remembers the target-only keys reported, where
	// partitions may see a row twice (unordered keys).
	missingSource map[string]bool
}

func newFailureLog(job *Job, s *spec) *failureLog {
	limit := int64(job.Settings.TableFailureMaxCount)
	if limit <= 0 || limit > maxFailures {
		limit = maxFailures
	}
	return &failureLog{target: job.Target, table: failuresTable(job), task: job.TaskName,
		owner: s.src.Schema, name: s.src.Name, limit: limit, job: job, missingSource: map[string]bool{}}
}

// failuresTable is awsdms_validation_failures_v1 as DMS creates it: in the
// control schema, column names lower case on PostgreSQL, upper case elsewhere.
func failuresTable(job *Job) *record.Table {
	family := ""
	if d, ok := job.Target.(connector.TargetDialect); ok {
		family = d.Family()
	}
	schema := job.ControlSchema
	if schema == "" {
		schema = defaultControlSchema(family)
	}
	name := func(n string) string {
		if family == "postgres" {
			return strings.ToLower(n)
		}
		return n
	}
	str := func(n string, l int) record.Column {
		return record.Column{Name: name(n), Type: record.Type{Kind: record.KindString, Length: l}}
	}
	return &record.Table{Schema: schema, Name: FailuresTable, Columns: []record.Column{
		str("TASK_NAME", 128),
		str("TABLE_OWNER", 128),
		str("TABLE_NAME", 128),
		{Name: name("FAILURE_TIME"), Type: record.Type{Kind: record.KindTimestamp, Precision: 3}},
		str("KEY_TYPE", 128),
		{Name: name("KEY"), Type: record.Type{Kind: record.KindText}},
		str("FAILURE_TYPE", 128),
		str("DETAILS", detailsMax),
	}}
}

// defaultControlSchema is where DMS puts control tables when
// ControlSchema is empty.
func defaultControlSchema(family string) string {
	switch family {
	case "mysql":
		return "awsdms_control"
	case "sqlserver":
		return "dbo"
	}
	return "public"
}

// seenMissingSource reports whether the target-only key was reported
// already, and remembers it.
func (l *failureLog) seenMissingSource(norm string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.missingSource[norm] {
		return true
	}
	// Bounded: past it a row seen by two partitions may count twice.
	if len(l.missingSource) < maxMissingSourceKeys {
		l.missingSource[norm] = true
	}
	return false
}

// room is how many more failures may be recorded.
func (l *failureLog) room() int64 {
	n := l.limit - l.failed
	if tf := l.job.TaskFailures; tf != nil && l.job.Settings.FailureMaxCount > 0 {
		n = min(n, int64(l.job.Settings.FailureMaxCount)-tf.Load())
	}
	return max(n, 0)
}

// add records a partition's failures (and differences it found past its
// own buffer) and writes what the limits let through.
func (l *failureLog) add(ctx context.Context, fs []failure, extra int64) error {
	if len(fs) == 0 && extra == 0 {
		return nil
	}
	l.mu.Lock()
	n := min(int64(len(fs)), l.room())
	l.failed += n
	l.suspended += int64(len(fs)) - n + extra
	if tf := l.job.TaskFailures; tf != nil {
		tf.Add(n)
	}
	l.mu.Unlock()
	if n == 0 {
		return nil
	}
	if err := l.ensure(ctx); err != nil {
		return err
	}
	rows := make([]record.Row, n)
	for i := range rows {
		f := &fs[i]
		rows[i] = record.Row{l.task, l.owner, l.name, f.at, "Row", keyJSON(f.key), f.typ, f.details}
	}
	for len(rows) > 0 {
		b := rows[:min(len(rows), 1000)]
		rows = rows[len(b):]
		if err := l.target.Load(ctx, l.table, b); err != nil {
			return fmt.Errorf("write %s.%s: %w", l.table.Schema, l.table.Name, err)
		}
	}
	return nil
}

// ensure makes the failures table when it is missing, once per table
// validated. Tables validated at the same time may race to create it; the
// loser finds it there on its second try.
func (l *failureLog) ensure(ctx context.Context) error {
	l.createMu.Lock()
	defer l.createMu.Unlock()
	if l.created {
		return nil
	}
	err := l.target.PrepareTable(ctx, l.table, connector.PrepDoNothing, false)
	if err != nil && ctx.Err() == nil {
		err = l.target.PrepareTable(ctx, l.table, connector.PrepDoNothing, false)
	}
	if err != nil {
		return fmt.Errorf("create %s.%s: %w", l.table.Schema, l.table.Name, err)
	}
	l.created = true
	return nil
}

func (l *failureLog) counts() (failed, suspended int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed, l.suspended
}
