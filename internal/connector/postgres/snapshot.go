package postgres

import (
	"context"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// defaultBatchRows is the batch size of a Read that sets none.
const defaultBatchRows = 10000

// Snapshot is an exported PostgreSQL snapshot shared by up to sessions
// sessions. A coordinator session holds the exporting transaction open;
// each reading session runs in a REPEATABLE READ READ ONLY transaction
// that imported the snapshot, and is reused by later reads.
type Snapshot struct {
	c     *Conn
	id    string
	coord *pgx.Conn
	slots chan struct{} // one token per session that may run

	mu     sync.Mutex
	idle   []*pgx.Conn
	held   map[*pgx.Conn][]string // tables whose lock each session holds (acquireTable)
	noLock atomic.Bool            // the server refuses LOCK TABLE in a read-only transaction
	rels   map[[2]string]*relation
	closed bool
}

var _ connector.Snapshot = (*Snapshot)(nil)

// OpenSnapshot exports a snapshot of the database for up to sessions
// concurrent reads.
func (c *Conn) OpenSnapshot(ctx context.Context, sessions int) (connector.Snapshot, error) {
	return c.openSnapshot(ctx, "", sessions)
}

// OpenSnapshotAt joins a snapshot exported elsewhere, for example by the
// creation of a logical replication slot, so that the rows read are exactly
// those before the slot's first change. The coordinator imports it and
// exports it again, so the exporter may let its snapshot go once
// OpenSnapshotAt has returned.
func (c *Conn) OpenSnapshotAt(ctx context.Context, snapshotName string, sessions int) (connector.Snapshot, error) {
	if !validSnapshotName(snapshotName) {
		return nil, fmt.Errorf("%w: %q is not a snapshot name", ErrBadValue, snapshotName)
	}
	return c.openSnapshot(ctx, snapshotName, sessions)
}

func (c *Conn) openSnapshot(ctx context.Context, join string, sessions int) (*Snapshot, error) {
	if sessions < 1 {
		sessions = 1
	}
	coord, err := openSession(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	begin := "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	if join != "" {
		begin += "; SET TRANSACTION SNAPSHOT '" + join + "'"
	}
	if err := coord.PgConn().Exec(ctx, begin).Close(); err != nil {
		err = classify(ctx, coord, "starting the snapshot transaction", err)
		closeQuietly(coord)
		return nil, err
	}
	var id string
	if err := coord.QueryRow(ctx, "SELECT pg_catalog.pg_export_snapshot()").Scan(&id); err != nil {
		err = classify(ctx, coord, "exporting the snapshot", err)
		closeQuietly(coord)
		return nil, err
	}
	if !validSnapshotName(id) {
		closeQuietly(coord)
		return nil, fmt.Errorf("%w: the server exported snapshot %q", ErrBadValue, id)
	}
	return &Snapshot{c: c, id: id, coord: coord, slots: make(chan struct{}, sessions), rels: map[[2]string]*relation{},
		held: map[*pgx.Conn][]string{}}, nil
}

// validSnapshotName accepts what pg_export_snapshot returns
// ("00000003-0000001B-1"), nothing that could break out of a literal.
func validSnapshotName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f' || c == '-') {
			return false
		}
	}
	return true
}

// ID is the name of the exported snapshot.
func (s *Snapshot) ID() string { return s.id }

// acquire waits for a free session slot and returns a session inside the
// snapshot.
func (s *Snapshot) acquire(ctx context.Context) (*pgx.Conn, error) {
	return s.acquireHolding(ctx, "")
}

// acquireHolding is acquire that, when a session of the snapshot holds the
// lock of table (quoted name; "" for none), waits for that session to be
// free and returns it.
func (s *Snapshot) acquireHolding(ctx context.Context, table string) (*pgx.Conn, error) {
	for {
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			<-s.slots
			return nil, ErrSnapshotClosed
		}
		pg, wait := s.takeIdle(table)
		s.mu.Unlock()
		if pg != nil {
			return pg, nil
		}
		if !wait {
			return s.openInSnapshot(ctx)
		}
		<-s.slots
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// takeIdle takes an idle session (under mu): the last one, or with table
// one that holds table's lock. It drops idle sessions that broke. wait says
// that a busy session holds table and none of the idle ones does.
func (s *Snapshot) takeIdle(table string) (pg *pgx.Conn, wait bool) {
	s.idle = slices.DeleteFunc(s.idle, func(pg *pgx.Conn) bool {
		if pg.IsClosed() {
			delete(s.held, pg)
			return true
		}
		return false
	})
	if table != "" && s.heldBy(nil, table) {
		i := slices.IndexFunc(s.idle, func(pg *pgx.Conn) bool { return slices.Contains(s.held[pg], table) })
		if i < 0 {
			return nil, true
		}
		pg = s.idle[i]
		s.idle = slices.Delete(s.idle, i, i+1)
		return pg, false
	}
	if len(s.idle) == 0 {
		return nil, false
	}
	pg = s.idle[len(s.idle)-1]
	s.idle = s.idle[:len(s.idle)-1]
	return pg, false
}

// openInSnapshot opens a session in the snapshot, in the slot the caller
// took (given back on failure).
func (s *Snapshot) openInSnapshot(ctx context.Context) (*pgx.Conn, error) {
	g := newGather()
	pg, err := openSession(ctx, s.c, g)
	if err == nil {
		err = pg.PgConn().Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '"+s.id+"'").Close()
		if err != nil {
			err = classify(ctx, pg, "joining the snapshot", err)
			closeQuietly(pg)
		}
	}
	if err != nil {
		<-s.slots
		return nil, err
	}
	pg.PgConn().CustomData()[gatherKey] = g
	return pg, nil
}

// gatherKey holds a snapshot session's reader in its CustomData.
const gatherKey = "godwit gather"

// copyTo runs a COPY TO on a session of the snapshot, its reads gathered
// while the rows stream.
func (s *Snapshot) copyTo(ctx context.Context, pg *pgx.Conn, w io.Writer, q string) error {
	if g, ok := pg.PgConn().CustomData()[gatherKey].(*gather); ok {
		g.on.Store(true)
		defer g.on.Store(false)
	}
	_, err := pg.PgConn().CopyTo(ctx, w, q)
	return err
}

// release gives a session back; one that broke or left its transaction is
// closed (the next acquire opens a new one in the snapshot).
func (s *Snapshot) release(pg *pgx.Conn) {
	defer func() { <-s.slots }()
	s.mu.Lock()
	if !pg.IsClosed() && !s.closed && pg.PgConn().TxStatus() == 'T' {
		s.idle = append(s.idle, pg)
		s.mu.Unlock()
		return
	}
	delete(s.held, pg)
	s.mu.Unlock()
	closeQuietly(pg)
}

// relation returns the read plan of a table, looked up once per snapshot.
func (s *Snapshot) relation(ctx context.Context, pg *pgx.Conn, t *record.Table) (*relation, error) {
	key := [2]string{t.Schema, t.Name}
	s.mu.Lock()
	rel := s.rels[key]
	s.mu.Unlock()
	if rel != nil {
		return rel, nil
	}
	rel, err := lookupRelation(ctx, pg, t.Schema, t.Name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.rels[key] = rel
	s.mu.Unlock()
	return rel, nil
}

// Close ends the snapshot: the coordinator's transaction and the idle
// sessions now, sessions in use when their read returns.
func (s *Snapshot) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	for _, pg := range idle {
		closeQuietly(pg)
	}
	closeQuietly(s.coord)
	return nil
}

// Read streams the rows req selects to fn in batches, through a binary
// COPY of a SELECT on one of the snapshot's sessions.
func (s *Snapshot) Read(ctx context.Context, req *connector.ReadRequest, fn func(rows []record.Row) error) error {
	return s.read(ctx, req, func(rows []record.Row, _ string) error { return fn(rows) }, false)
}

// ReadPositioned implements connector.PositionedReader: Read that, with
// req.StorageOrder, may read a whole table in storage order (as ReadRaw
// does), each batch with its last row's place.
func (s *Snapshot) ReadPositioned(ctx context.Context, req *connector.ReadRequest, fn func(rows []record.Row, pos string) error) error {
	return s.read(ctx, req, fn, true)
}

func (s *Snapshot) read(ctx context.Context, req *connector.ReadRequest, fn func(rows []record.Row, pos string) error, positioned bool) error {
	if req == nil || req.Table == nil {
		return fmt.Errorf("%w: a read needs a table", ErrNoSuchTable)
	}
	pg, rel, err := s.tableSession(ctx, req.Table)
	if err != nil {
		return err
	}
	defer s.release(pg)
	storage, err := inStorageOrder(rel, req, positioned)
	if err != nil {
		return err
	}
	q, fields, err := readQuery(rel, req, storage, s.c.cfg.FailOnLOBTruncation)
	if err != nil {
		return err
	}
	if storage {
		if err := scanInStorageOrder(ctx, pg); err != nil {
			return err
		}
	}
	batch := req.BatchRows
	if batch <= 0 {
		batch = defaultBatchRows
	}
	var fnErr error
	var pt positionTracker
	cr := newCopyReader(fields, batch, func(rows []record.Row) error {
		if !storage {
			fnErr = fn(rows, "")
			return fnErr
		}
		// The ctid after the columns goes: fn sees the columns only.
		n := len(fields) - 1
		for i, row := range rows {
			b, _ := row[n].([]byte)
			pt.note(b)
			rows[i] = row[:n]
		}
		fnErr = fn(rows, pt.position())
		for i, row := range rows {
			rows[i] = row[:n+1]
		}
		return fnErr
	})
	err = s.copyTo(ctx, pg, cr, q)
	if fnErr != nil {
		return fnErr
	}
	doing := "reading " + quoteTable(rel.table.Schema, rel.table.Name)
	if perr := cr.parseError(doing); perr != nil {
		return perr
	}
	if err != nil {
		return classify(ctx, pg, doing, err)
	}
	return cr.finish()
}

// readQuery builds the COPY of a read and the decoding of its fields;
// with storage, the rows' ctid follows the columns (as bytes) instead of
// an ORDER BY.
func readQuery(rel *relation, req *connector.ReadRequest, storage, failLOB bool) (string, []field, error) {
	names := req.Columns
	if len(names) == 0 {
		names = make([]string, len(rel.plans))
		for i := range rel.plans {
			names[i] = rel.plans[i].name
		}
	}
	plans, err := rel.plansFor(names)
	if err != nil {
		return "", nil, err
	}
	list := make([]string, len(plans))
	fields := make([]field, len(plans))
	for i, p := range plans {
		list[i], fields[i] = selectExpr(p, req.LOBMaxBytes, failLOB)
	}
	if storage {
		list = append(list, `ctid AS "godwit position"`)
		fields = append(fields, field{dec: decBytea})
	}
	where, err := whereClause(rel, filterSpec{filters: req.Filters, rng: req.Range, orderBy: req.OrderBy, after: req.After, stored: req.Stored, source: true})
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	b.WriteString("COPY (SELECT ")
	b.WriteString(strings.Join(list, ", "))
	b.WriteString(" FROM ")
	b.WriteString(rel.from())
	b.WriteString(where)
	if len(req.OrderBy) > 0 && !storage {
		if _, err := rel.plansFor(req.OrderBy); err != nil {
			return "", nil, err
		}
		// Qualified, so that a key the select list casts to text still
		// sorts by its own type (as After and Range compare it).
		b.WriteString(" ORDER BY ")
		for i, c := range req.OrderBy {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteTable(rel.table.Schema, rel.table.Name) + "." + quoteIdent(c))
		}
	}
	b.WriteString(") TO STDOUT (FORMAT binary)")
	return b.String(), fields, nil
}

// selectExpr is the SELECT item of a column and how its field decodes.
// With lobMax, LOB columns are cut on the server (characters for text,
// bytes for bytea) and again to lobMax bytes on the client; with failLOB
// the server keeps one more, so that the client sees a longer value and
// fails. The server cuts a text or varchar value only when it is longer
// than that in bytes (one of at most n bytes has at most n characters):
// left() walks every value's characters, which cost a 2M-row read with a
// short text column and a jsonb one 45% more of the source's CPU. A jsonb
// value is cut by the client alone: the server would make its text twice.
func selectExpr(p *colPlan, lobMax int, failLOB bool) (string, field) {
	col := quoteIdent(p.name)
	f := field{dec: p.dec}
	expr := col
	switch p.read {
	case readText:
		expr = col + "::text"
	case readNumeric:
		expr = col + "::numeric"
	case readOutput:
		expr = "CASE WHEN " + col + " IS NULL THEN NULL ELSE pg_catalog.format('%s', " + col + ") END"
	}
	if lobMax > 0 && p.typ.Kind.IsLOB() {
		f.lobMax, f.failLOB, f.name = lobMax, failLOB, p.name
		n := fmt.Sprint(lobMax)
		if failLOB {
			n = fmt.Sprint(lobMax + 1)
		}
		switch {
		case p.dec == decBytea:
			expr = "CASE WHEN octet_length(" + col + ") > " + n + " THEN substring(" + col + " from 1 for " + n + ") ELSE " + col + " END"
		case p.dec == decJSONB:
			// decode cuts the text after the version byte.
		case p.read == readRaw && (p.base.oid == oidText || p.base.oid == oidVarchar):
			// The cast costs nothing here; for other types (json,
			// unbounded char) the CASE would run it twice.
			t := col + "::text"
			expr = "CASE WHEN octet_length(" + t + ") > " + n + " THEN left(" + t + ", " + n + ") ELSE " + t + " END"
			f.dec = decText
		default:
			if p.read == readRaw {
				expr += "::text"
			}
			expr = "left(" + expr + ", " + n + ")"
			f.dec = decText
		}
	}
	return expr, f
}

// SplitPoints proposes at most n-1 ascending, distinct boundaries on cols
// that cut the table into n ranges of similar size: arithmetic on min and
// max for a single integer column, else the first rows of the ntile(n)
// groups of the (sampled, for large tables) key order.
func (s *Snapshot) SplitPoints(ctx context.Context, t *record.Table, cols []string, n int) ([]record.Row, error) {
	if n < 2 || len(cols) == 0 {
		return nil, nil
	}
	pg, rel, err := s.tableSession(ctx, t)
	if err != nil {
		return nil, err
	}
	defer s.release(pg)
	plans, err := rel.plansFor(cols)
	if err != nil {
		return nil, err
	}
	if len(plans) == 1 && (plans[0].dec == decInt2 || plans[0].dec == decInt4 || plans[0].dec == decInt8) {
		out, err := intSplits(ctx, pg, rel, plans[0], n)
		return out, classify(ctx, pg, "splitting "+quoteTable(t.Schema, t.Name), err)
	}
	out, err := sampleSplits(ctx, pg, rel, plans, t.RowsEstimate, n)
	return out, classify(ctx, pg, "splitting "+quoteTable(t.Schema, t.Name), err)
}

func intSplits(ctx context.Context, pg *pgx.Conn, rel *relation, p *colPlan, n int) ([]record.Row, error) {
	col := quoteIdent(p.name)
	var lo, hi *int64
	if err := pg.QueryRow(ctx, "SELECT min("+col+")::int8, max("+col+")::int8 FROM "+rel.from()).Scan(&lo, &hi); err != nil {
		return nil, err
	}
	if lo == nil || hi == nil || *lo == *hi {
		return nil, nil
	}
	span := uint64(*hi - *lo) // exact: hi > lo, the difference fits in 64 unsigned bits
	var out []record.Row
	last := *lo
	for i := 1; i < n; i++ {
		// lo + span*i/n without overflow.
		h, l := bits.Mul64(span, uint64(i))
		q, _ := bits.Div64(h, l, uint64(n))
		b := *lo + int64(q)
		if b > last && b <= *hi {
			out = append(out, record.Row{b})
			last = b
		}
	}
	return out, nil
}

// sampleTarget is how many rows a sample for split points aims at.
const sampleTarget = 200_000

func sampleSplits(ctx context.Context, pg *pgx.Conn, rel *relation, plans []*colPlan, estimate int64, n int) ([]record.Row, error) {
	cols := make([]string, len(plans))
	var notNull []string
	for i, p := range plans {
		cols[i] = quoteIdent(p.name)
		notNull = append(notNull, cols[i]+" IS NOT NULL")
	}
	list := strings.Join(cols, ", ")
	sample := ""
	if target := max(int64(sampleTarget), int64(n)*1000); estimate > 2*target {
		sample = fmt.Sprintf(" TABLESAMPLE SYSTEM (%.6f)", 100*float64(target)/float64(estimate))
	}
	exprs := make([]string, len(plans))
	fields := make([]field, len(plans))
	for i, p := range plans {
		exprs[i], fields[i] = selectExpr(p, 0, false)
	}
	q := fmt.Sprintf(`COPY (SELECT %s FROM (
	SELECT DISTINCT %s FROM (
		SELECT DISTINCT ON ("godwit tile") %s FROM (
			SELECT %s, ntile(%d) OVER (ORDER BY %s) AS "godwit tile" FROM %s%s WHERE %s) tiles
		WHERE "godwit tile" > 1 ORDER BY "godwit tile", %s) firsts) bounds
ORDER BY %s) TO STDOUT (FORMAT binary)`,
		strings.Join(exprs, ", "), list, list, list, n, list, rel.from(), sample, strings.Join(notNull, " AND "), list, list)
	var out []record.Row
	cr := newCopyReader(fields, n, func(rows []record.Row) error {
		for _, r := range rows {
			out = append(out, append(record.Row(nil), r...))
		}
		return nil
	})
	if _, err := pg.PgConn().CopyTo(ctx, cr, q); err != nil {
		return nil, err
	}
	if err := cr.finish(); err != nil {
		return nil, err
	}
	return out, nil
}
