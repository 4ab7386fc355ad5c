package validate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

const (
	// batchRows is the read batch: with two batches in flight per side it
	// bounds a comparison's memory.
	batchRows = 1000
	// lookupKeys is how many keys one lookup read asks for.
	lookupKeys = 500
	// maxPartitions bounds how many partitions a table is cut into.
	maxPartitions = 10000
)

// errOutOfOrder: a side's rows did not come in the key order the merge
// expects; the partition is compared again by key value.
var errOutOfOrder = errors.New("rows out of key order")

// partition is a range of the source key: [from, to), nil = unbounded.
type partition struct {
	from, to record.Row
}

// runner compares the partitions of one table.
type runner struct {
	s        *spec
	src, tgt connector.Snapshot
	log      *failureLog
	// pendingMax bounds the rows an unordered partition holds while
	// waiting for their match.
	pendingMax int
	checksum   bool        // both snapshots checksum partitions
	sumCols    [2][]string // the columns checksummed on the source and the target
	compared   atomic.Int64
	logger     *slog.Logger
}

// partRun is one partition's comparison: its counts and the failures it
// found, written when it ends.
type partRun struct {
	r        *runner
	compared int64
	fails    []failure
	extra    int64 // failures past the buffer, counted only
}

func (p *partRun) fail(key []string, typ, details string) {
	if int64(len(p.fails)) >= p.r.log.limit {
		p.extra++
		return
	}
	p.fails = append(p.fails, failure{key: key, typ: typ, details: details, at: time.Now().UTC().Truncate(time.Millisecond)})
}

// compareRow compares a source row with its target row.
func (p *partRun) compareRow(s srow, t record.Row) {
	p.compared++
	if d := p.r.s.diff(s.vals, t); d != nil {
		p.fail(p.r.s.keyTextOf(s.key), RecordDiff, p.r.s.details(s.vals, t, d))
	}
}

func (p *partRun) missingTarget(s srow) {
	p.compared++
	p.fail(p.r.s.keyTextOf(s.key), MissingTarget, "")
}

func (p *partRun) missingSource(t record.Row) {
	p.compared++
	key := make([]string, len(p.r.s.tgtKey))
	for i := range key {
		key[i] = displayKey(t[i])
	}
	p.fail(key, MissingSource, "")
}

// keyTextOf is the text of raw source key values.
func (s *spec) keyTextOf(key []any) []string {
	out := make([]string, len(key))
	for i, v := range key {
		out[i] = displayKey(v)
	}
	return out
}

// requests builds the reads of a partition on both sides.
func (r *runner) requests(part partition) (src, tgt *connector.ReadRequest) {
	s := r.s
	src = &connector.ReadRequest{Table: s.src, Columns: s.plan.SourceColumns, Filters: s.plan.Filters,
		Range: &record.Range{Columns: s.srcKey, From: part.from, To: part.to}, BatchRows: batchRows, LOBMaxBytes: s.lobMax}
	tgt = &connector.ReadRequest{Table: s.tgt, Columns: s.tgtCols,
		Range: &record.Range{Columns: s.tgtKey, From: textRow(part.from), To: textRow(part.to)}, BatchRows: batchRows, LOBMaxBytes: s.lobMax}
	// Ordered by key on both sides even where the orders may differ: where
	// they agree (same engine and collation) rows pair up as they come.
	src.OrderBy, tgt.OrderBy = s.srcKey, s.tgtKey
	return src, tgt
}

// textRow is a bound as the text KeyText makes of each value, which every
// connector reads as a value of the column's type.
func textRow(r record.Row) record.Row {
	if r == nil {
		return nil
	}
	out := make(record.Row, len(r))
	for i, v := range r {
		out[i] = displayKey(v)
	}
	return out
}

// partition compares one partition: by checksum when both sides can and
// agree, else row by row.
func (r *runner) partition(ctx context.Context, part partition) error {
	p := &partRun{r: r}
	if r.checksum {
		same, rows, err := r.sameChecksum(ctx, part)
		if err != nil {
			return err
		}
		if same {
			p.compared = rows
			return r.finish(ctx, p)
		}
	}
	var err error
	if r.s.ordered {
		err = p.merge(ctx, part)
		if errors.Is(err, errOutOfOrder) {
			// Start the partition again, matching by value.
			r.logger.Warn("a side's rows came out of key order; comparing the partition by key value",
				"from", part.from, "to", part.to)
			p = &partRun{r: r}
			err = p.match(ctx, part)
		}
	} else {
		err = p.match(ctx, part)
	}
	if err != nil {
		return err
	}
	return r.finish(ctx, p)
}

func (r *runner) finish(ctx context.Context, p *partRun) error {
	r.compared.Add(p.compared)
	return r.log.add(ctx, p.fails, p.extra)
}

// merge compares a partition whose rows both sides return in the same key
// order: a merge join, holding one row per side.
func (p *partRun) merge(ctx context.Context, part partition) error {
	s := p.r.s
	sreq, treq := p.r.requests(part)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	src := s.readSource(ctx, p.r.src, sreq)
	defer src.close()
	var tgt *stream[record.Row]

	var prevS, prevT record.Row
	nextS := func() (srow, bool, error) {
		row, ok, err := src.next()
		if ok {
			if prevS != nil && s.compareSourceKeys(prevS, row.vals) >= 0 {
				return row, false, errOutOfOrder
			}
			prevS = row.vals
		}
		return row, ok, err
	}
	nextT := func() (record.Row, bool, error) {
		row, ok, err := tgt.next()
		if ok {
			if prevT != nil && s.compareTargetKeys(prevT, row) >= 0 {
				return row, false, errOutOfOrder
			}
			prevT = row
		}
		return row, ok, err
	}
	sr, sok, err := nextS()
	if err != nil {
		return err
	}
	// The target is read once the source read holds its session (or is
	// over): sessions are always taken source first, so workers never
	// wait on each other in a cycle when the snapshots have few sessions.
	tgt = readTarget(ctx, p.r.tgt, treq)
	defer tgt.close()
	tr, tok, err := nextT()
	if err != nil {
		return err
	}
	for sok || tok {
		c := 0
		switch {
		case !tok:
			c = -1
		case !sok:
			c = 1
		default:
			c = s.compareKeys(sr.vals, tr)
		}
		switch {
		case c < 0:
			p.missingTarget(sr)
		case c > 0:
			p.missingSource(tr)
		default:
			p.compareRow(sr, tr)
		}
		if c <= 0 {
			if sr, sok, err = nextS(); err != nil {
				return err
			}
		}
		if c >= 0 {
			if tr, tok, err = nextT(); err != nil {
				return err
			}
		}
	}
	return nil
}

// compareSourceKeys orders two transformed source rows by key.
func (s *spec) compareSourceKeys(a, b record.Row) int {
	for i, k := range s.keys {
		if c := k.compareKey(a[s.keyAt[i]], b[s.keyAt[i]]); c != 0 {
			return c
		}
	}
	return 0
}

// match compares a partition whose key order may differ between the
// sides (text keys under different collations): rows are paired by key
// value as both streams go, and those waiting for their pair are held.
// When too many wait, both reads pause (each side resumes after the last
// key it read, in its own order), the waiting rows are looked up on the
// other side, and the reads go on; at the end the rows left are looked up.
// A source row is compared exactly once, in its own partition; a row
// found only on the target is reported once even when the target's
// ranges, ordered by another collation, overlap.
func (p *partRun) match(ctx context.Context, part partition) error {
	m := &matcher{p: p, part: part, srcWait: map[string]srow{}, tgtWait: map[string]record.Row{}}
	for {
		paused, err := m.run(ctx)
		if err != nil {
			return err
		}
		if err := p.resolve(ctx, m.srcWait, m.tgtWait); err != nil {
			return err
		}
		if !paused {
			return nil
		}
	}
}

// matcher is the state of match across pauses.
type matcher struct {
	p                *partRun
	part             partition
	srcWait          map[string]srow
	tgtWait          map[string]record.Row
	afterS, afterT   record.Row // the last key read on each side
	srcDone, tgtDone bool
}

func (m *matcher) onSource(k string, sr srow) {
	if tr, ok := m.tgtWait[k]; ok {
		delete(m.tgtWait, k)
		m.p.compareRow(sr, tr)
		return
	}
	m.srcWait[k] = sr
}

func (m *matcher) onTarget(k string, tr record.Row) {
	if sr, ok := m.srcWait[k]; ok {
		delete(m.srcWait, k)
		m.p.compareRow(sr, tr)
		return
	}
	m.tgtWait[k] = tr
}

// run reads both sides from where they stopped until they end, or until
// too many rows wait (paused).
func (m *matcher) run(ctx context.Context) (paused bool, err error) {
	p, s := m.p, m.p.r.s
	sreq, treq := p.r.requests(m.part)
	sreq.After, treq.After = m.afterS, m.afterT
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var src *stream[srow]
	var tgt *stream[record.Row]
	var sr srow
	var tr record.Row
	sok, tok := false, false
	if !m.srcDone {
		src = s.readSource(ctx, p.r.src, sreq)
		defer src.close()
		if sr, sok, err = src.next(); err != nil {
			return false, err
		}
	}
	// The target is read once the source read holds its session (or is
	// over): sessions are always taken source first, so workers never
	// wait on each other in a cycle when the snapshots have few sessions.
	if !m.tgtDone {
		tgt = readTarget(ctx, p.r.tgt, treq)
		defer tgt.close()
		if tr, tok, err = tgt.next(); err != nil {
			return false, err
		}
	}
	m.srcDone, m.tgtDone = !sok, !tok
	for sok || tok {
		switch {
		case sok && tok:
			ks, kt := s.sourceNorm(sr.vals), s.targetNorm(tr)
			if ks == kt {
				p.compareRow(sr, tr)
			} else {
				m.onSource(ks, sr)
				m.onTarget(kt, tr)
			}
		case sok:
			m.onSource(s.sourceNorm(sr.vals), sr)
		default:
			m.onTarget(s.targetNorm(tr), tr)
		}
		if sok {
			m.afterS = sr.key
			if sr, sok, err = src.next(); err != nil {
				return false, err
			}
			m.srcDone = !sok
		}
		if tok {
			m.afterT = tr[:len(s.tgtKey):len(s.tgtKey)]
			if tr, tok, err = tgt.next(); err != nil {
				return false, err
			}
			m.tgtDone = !tok
		}
		if len(m.srcWait)+len(m.tgtWait) >= p.r.pendingMax && (sok || tok) {
			// The rows in hand are read again after the pause.
			return true, nil
		}
	}
	return false, nil
}

func (s *spec) sourceNorm(vals record.Row) string {
	return s.norm(func(i int) any { return vals[s.keyAt[i]] })
}

func (s *spec) targetNorm(row record.Row) string {
	return s.norm(func(i int) any { return row[i] })
}

// resolve looks the held rows up on the other side and empties the maps:
// a source row is compared with the target row found, or is missing on
// the target; a target row whose source row exists belongs to that row's
// partition, otherwise it is missing on the source.
func (p *partRun) resolve(ctx context.Context, srcWait map[string]srow, tgtWait map[string]record.Row) error {
	r := p.r
	if len(srcWait) > 0 {
		keys := make([]string, 0, len(srcWait))
		for k := range srcWait {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for chunk := range slices.Chunk(keys, lookupKeys) {
			vals := make([][]any, len(chunk))
			for i, k := range chunk {
				vals[i] = keyValues(srcWait[k].vals, r.s.keyAt)
			}
			found, err := r.s.lookupTarget(ctx, r.tgt, vals)
			if err != nil {
				return err
			}
			for _, k := range chunk {
				if tr, ok := found[k]; ok {
					p.compareRow(srcWait[k], tr)
				} else {
					p.missingTarget(srcWait[k])
				}
				delete(srcWait, k)
			}
		}
	}
	if len(tgtWait) > 0 {
		keys := make([]string, 0, len(tgtWait))
		for k := range tgtWait {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for chunk := range slices.Chunk(keys, lookupKeys) {
			vals := make([][]any, len(chunk))
			for i, k := range chunk {
				vals[i] = tgtWait[k][:len(r.s.tgtKey)]
			}
			found, err := r.s.lookupSource(ctx, r.src, vals, nil)
			if err != nil {
				return err
			}
			for _, k := range chunk {
				if _, ok := found[k]; !ok && !r.log.seenMissingSource(k) {
					p.missingSource(tgtWait[k])
				}
				delete(tgtWait, k)
			}
		}
	}
	return nil
}

func keyValues(row record.Row, at []int) []any {
	out := make([]any, len(at))
	for i, a := range at {
		out[i] = row[a]
	}
	return out
}

// keyFilters selects rows by key: per key column, the values asked for.
// With a composite key that is a superset of the keys (every combination
// of the columns' values), which the caller narrows down.
func keyFilters(cols []string, keys [][]string) []record.Filter {
	out := make([]record.Filter, len(cols))
	for j, c := range cols {
		seen := map[string]bool{}
		out[j].Column = c
		for _, k := range keys {
			if !seen[k[j]] {
				seen[k[j]] = true
				out[j].Conditions = append(out[j].Conditions, record.Condition{Op: record.OpEq, Value: k[j]})
			}
		}
	}
	return out
}

func texts(vals [][]any) [][]string {
	out := make([][]string, len(vals))
	for i, v := range vals {
		out[i] = make([]string, len(v))
		for j, x := range v {
			out[i][j] = displayKey(x)
		}
	}
	return out
}

// lookupTarget reads the target rows of the given keys (target-side key
// values), by matching key.
func (s *spec) lookupTarget(ctx context.Context, snap connector.Snapshot, keys [][]any) (map[string]record.Row, error) {
	return s.lookupTargetText(ctx, snap, texts(keys))
}

func (s *spec) lookupTargetText(ctx context.Context, snap connector.Snapshot, keys [][]string) (map[string]record.Row, error) {
	req := &connector.ReadRequest{Table: s.tgt, Columns: s.tgtCols, Filters: keyFilters(s.tgtKey, keys),
		BatchRows: batchRows, LOBMaxBytes: s.lobMax}
	out := map[string]record.Row{}
	err := snap.Read(ctx, req, func(rows []record.Row) error {
		for _, r := range copyRows(rows) {
			out[s.targetNorm(r)] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look rows up in target table %s: %w", s.tgt.QualifiedName(), err)
	}
	return out, nil
}

// lookupSource reads the source rows of the given keys (values of the
// key as on the target, or as text), transformed, by matching key; when
// rows is nil only the keys found are kept.
func (s *spec) lookupSource(ctx context.Context, snap connector.Snapshot, keys [][]any, rows map[string]srow) (map[string]bool, error) {
	return s.lookupSourceText(ctx, snap, texts(keys), rows)
}

func (s *spec) lookupSourceText(ctx context.Context, snap connector.Snapshot, keys [][]string, rows map[string]srow) (map[string]bool, error) {
	filters := append(slices.Clone(s.plan.Filters), keyFilters(s.srcKey, keys)...)
	req := &connector.ReadRequest{Table: s.src, Columns: s.plan.SourceColumns, Filters: filters,
		BatchRows: batchRows, LOBMaxBytes: s.lobMax}
	found := map[string]bool{}
	err := snap.Read(ctx, req, func(batch []record.Row) error {
		out, err := s.transform(batch)
		if err != nil {
			return err
		}
		for _, sr := range out {
			k := s.sourceNorm(sr.vals)
			found[k] = true
			if rows != nil {
				rows[k] = sr
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look rows up in source table %s: %w", s.src.QualifiedName(), err)
	}
	return found, nil
}
