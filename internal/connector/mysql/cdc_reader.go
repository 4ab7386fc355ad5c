package mysql

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// maxTableIDs bounds the table ids remembered between transactions (each
// transaction maps the tables it uses again).
const maxTableIDs = 4096

// binlogStream turns binary log events into transactions.
type binlogStream struct {
	fn      func(*record.Transaction) error
	tables  map[tableKey]*record.Table
	schemas map[string]bool // of the captured tables
	convs   map[tableKey]map[string]*charsetConv
	byID    map[uint64]*cdcTable // table id → table (t nil when not captured)

	fd   *formatDescription
	file string // the binary log file being read
	pos  uint64 // where the next event starts in it (for messages)

	// The open transaction.
	inTx    bool
	txID    string
	gtid    string // GTID of the next transaction or statement
	changes []record.Change
	// arena and slab hold the decoded values and rows. They serve every
	// transaction of the stream: their chunks are never written over, so a
	// delivered transaction's values stay as they are, and a small
	// transaction does not cost a new 64 KB chunk and 1,024-slot slab (that
	// was half of Godwit's CPU in a backlog of small transactions).
	arena *arena
	slab  *rowSlab

	last    time.Time           // when a transaction was last delivered
	skipped *record.Transaction // the last transaction not delivered (no captured changes)
	warned  map[string]bool
	// reload reads a captured table's definition again (after ALTER TABLE).
	reload func(ctx context.Context, t *record.Table) (*record.Table, map[string]*charsetConv, error)
}

// reloadTable replaces the definition of the captured table t by the one
// the server has now: the rows logged after an ALTER TABLE have the new
// shape, which their changes carry (record.Change.Table) so the engine
// can bring the target along.
func (s *binlogStream) reloadTable(ctx context.Context, t *record.Table) error {
	nt, convs, err := s.reload(ctx, t)
	if err != nil {
		return fmt.Errorf("reading the definition of %s after ALTER TABLE: %w", t.QualifiedName(), err)
	}
	k := tableKey{t.Schema, t.Name}
	s.tables[k], s.convs[k] = nt, convs
	clear(s.byID) // table maps name the new definition from now on
	slog.InfoContext(ctx, "mysql cdc: table altered", "table", t.QualifiedName(), "columns", len(nt.Columns))
	return nil
}

// run reads events until an error.
func (s *binlogStream) run(ctx context.Context, w *wireConn) error {
	for {
		ev, err := readEvent(ctx, w, binlogPos{file: s.file, pos: s.pos})
		if err != nil {
			return err
		}
		if err := s.event(ctx, ev); err != nil {
			return err
		}
	}
}

// readEvent reads the next event of a binary log dump; at (where the
// reading is) places errors.
func readEvent(ctx context.Context, w *wireConn, at binlogPos) ([]byte, error) {
	p, err := w.readPacket()
	if err != nil {
		return nil, binlogStreamError(ctx, at, "reading the binary log", err)
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("reading the binary log: empty packet")
	}
	switch p[0] {
	case 0x00: // an event
	case 0xff:
		return nil, binlogStreamError(ctx, at, "reading the binary log", wireErrPacket(p))
	case 0xfe: // end of data: the server stopped sending (shutting down)
		return nil, fmt.Errorf("reading the binary log: %w: the server ended the binary log stream", ErrConnectionLost)
	default:
		return nil, fmt.Errorf("reading the binary log: unexpected packet 0x%02x", p[0])
	}
	return p[1:], nil
}

// event handles one event (header, body, and checksum if any).
func (s *binlogStream) event(ctx context.Context, ev []byte) error {
	h, err := parseEventHeader(ev)
	if err != nil {
		return fmt.Errorf("binary log %s after %d: %w", s.file, s.pos, err)
	}
	if h.typ == evFormatDescription {
		fd, err := parseFormatDescription(ev[eventHeaderLen:])
		if err != nil {
			return fmt.Errorf("binary log %s: %w", s.file, err)
		}
		s.fd = fd
		return nil
	}
	if ev, err = stripChecksum(s.fd, h, ev); err != nil {
		return fmt.Errorf("binary log %s at %d: %w", s.file, h.logPos, err)
	}
	body := ev[eventHeaderLen:]
	if h.logPos != 0 && h.flags&logEventArtificial == 0 {
		s.pos = uint64(h.logPos)
	}
	switch h.typ {
	case evRotate:
		file, pos, err := parseRotateEvent(body)
		if err != nil {
			return s.bad(h, err)
		}
		s.file, s.pos = file, pos
	case evGTID:
		if s.gtid, err = parseMySQLGTID(body); err != nil {
			return s.bad(h, err)
		}
	case evAnonymousGTID, evGTIDTagged:
		s.gtid = ""
	case evMariaGTID:
		gtid, flags, err := parseMariaGTID(body, h.serverID)
		if err != nil {
			return s.bad(h, err)
		}
		s.gtid = gtid
		if flags&mariaGTIDStandalone == 0 {
			s.begin(h)
		}
	case evQuery:
		q, err := parseQueryEvent(body, s.fd.postHeaderLen(evQuery, 13))
		if err != nil {
			return s.bad(h, err)
		}
		return s.query(ctx, h, q)
	case evTableMap:
		if err := s.tableMap(body); err != nil {
			return s.bad(h, err)
		}
	case evWriteRowsV1, evUpdateRowsV1, evDeleteRowsV1, evWriteRowsV2, evUpdateRowsV2, evDeleteRowsV2:
		if err := s.rows(h, body); err != nil {
			return s.bad(h, err)
		}
	case evXID, evXAPrepare:
		return s.commit(ctx, h)
	case evTransactionPayload:
		return fmt.Errorf("%w: the binary log holds compressed transactions (binlog_transaction_compression = ON), which CDC cannot read", ErrCDCNotConfigured)
	case evPartialUpdateRows:
		return fmt.Errorf("%w: the binary log holds partial JSON updates (binlog_row_value_options = PARTIAL_JSON), which CDC cannot read", ErrCDCNotConfigured)
	case evWriteRowsV0, evWriteRowsV0 + 1, evDeleteRowsV0:
		return fmt.Errorf("%w: the binary log holds rows events of MySQL 5.1.15 and older", ErrUnsupported)
	case evHeartbeat, evHeartbeatV2:
		return s.idle(ctx)
	case evIncident:
		slog.WarnContext(ctx, "mysql cdc: the binary log records an incident on the source: changes around it may be missing",
			"file", s.file, "pos", h.logPos)
	default:
		if h.typ >= evMariaQueryCompr && h.typ <= evMariaRowsComprLast {
			return fmt.Errorf("%w: the binary log holds compressed events (log_bin_compress = ON), which CDC cannot read", ErrCDCNotConfigured)
		}
	}
	return nil
}

// stripChecksum verifies and removes the checksum of event ev (header h)
// of a file described by fd (nil before its format description).
func stripChecksum(fd *formatDescription, h eventHeader, ev []byte) ([]byte, error) {
	switch {
	case h.typ == evRotate || fd == nil:
		// Artificial events (the first ROTATE, made before any format
		// description) carry the checksum of the session's algorithm:
		// strip it when it verifies.
		if v, err := verifyChecksum(ev); err == nil {
			return v, nil
		}
	case fd.checksum == checksumCRC32 && h.typ != evHeartbeat && h.typ != evHeartbeatV2:
		return verifyChecksum(ev)
	}
	return ev, nil
}

// bad places an error of event h in the binary log.
func (s *binlogStream) bad(h eventHeader, err error) error {
	return fmt.Errorf("binary log %s, event ending at %d: %w", s.file, h.logPos, err)
}

// begin opens a transaction at event h (its GTID, or the position of the
// event as ID).
func (s *binlogStream) begin(h eventHeader) {
	s.inTx = true
	s.txID = s.gtid
	if s.txID == "" {
		s.txID = eventStart(s.file, h)
	}
	s.gtid = ""
	s.changes = nil
}

// commit ends the open transaction at event h and delivers it.
func (s *binlogStream) commit(ctx context.Context, h eventHeader) error {
	if !s.inTx {
		return nil
	}
	tx := &record.Transaction{
		ID:         s.txID,
		CommitTime: time.Unix(int64(h.timestamp), 0).UTC(),
		Position:   binlogPos{file: s.file, pos: uint64(h.logPos)}.String(),
		Changes:    s.changes,
	}
	s.inTx, s.changes = false, nil
	if len(s.byID) > maxTableIDs {
		clear(s.byID) // table ids change with DDL: forget old ones now and then
	}
	return s.deliver(ctx, tx)
}

// deliver hands tx to fn. A transaction without captured changes is
// delivered (with no changes) only to carry the position forward every
// cdcPositionAdvanceEvery.
func (s *binlogStream) deliver(ctx context.Context, tx *record.Transaction) error {
	if len(tx.Changes) == 0 && time.Since(s.last) < cdcPositionAdvanceEvery {
		s.skipped = tx
		return nil
	}
	s.last, s.skipped = time.Now(), nil
	if err := s.fn(tx); err != nil {
		return err
	}
	return ctx.Err()
}

// idle runs on a heartbeat (the server has nothing to send): a skipped
// transaction's position is delivered once cdcPositionAdvanceEvery passed.
func (s *binlogStream) idle(ctx context.Context) error {
	if s.skipped == nil || s.inTx {
		return nil
	}
	return s.deliver(ctx, s.skipped)
}

// query handles a statement event: transaction control, TRUNCATE, DDL.
func (s *binlogStream) query(ctx context.Context, h eventHeader, q binlogQuery) error {
	text := skipSQLComments(q.query)
	word := strings.ToUpper(sqlFirstWord(text))
	switch word {
	case "BEGIN":
		if !s.inTx {
			s.begin(h)
		}
		return nil
	case "COMMIT":
		return s.commit(ctx, h)
	case "ROLLBACK":
		if strings.Contains(strings.ToUpper(text), " TO ") {
			return nil // ROLLBACK TO SAVEPOINT: what was undone is not logged
		}
		// A transaction that changed a non-transactional (MyISAM) table
		// is logged even when rolled back, its transactional changes
		// included: the source kept only the non-transactional ones, which
		// CDC cannot tell apart. Nothing of it is delivered.
		if s.inTx && len(s.changes) > 0 {
			slog.WarnContext(ctx, "mysql cdc: a rolled-back transaction changed non-transactional tables; its changes are not applied",
				"id", s.txID, "position", binlogPos{file: s.file, pos: uint64(h.logPos)}.String())
		}
		s.inTx, s.changes = false, nil
		return nil
	case "SAVEPOINT", "RELEASE":
		return nil
	case "XA":
		rest := strings.ToUpper(strings.TrimSpace(text[2:]))
		switch {
		case strings.HasPrefix(rest, "START"), strings.HasPrefix(rest, "BEGIN"):
			if !s.inTx {
				s.begin(h)
			}
		case strings.HasPrefix(rest, "COMMIT") && s.inTx: // XA COMMIT ... ONE PHASE
			return s.commit(ctx, h)
		}
		return nil
	}
	if s.inTx {
		switch word {
		case "INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD":
			s.warnOnce(ctx, "statement", "mysql cdc: a change was logged as a statement, not as rows (a session with binlog_format other than ROW): it is not captured",
				"schema", q.schema, "query", abbreviateSQL(text))
		}
		return nil
	}
	id := s.gtid
	s.gtid = ""
	if id == "" {
		id = eventStart(s.file, h)
	}
	tx := &record.Transaction{
		ID:         id,
		CommitTime: time.Unix(int64(h.timestamp), 0).UTC(),
		Position:   binlogPos{file: s.file, pos: uint64(h.logPos)}.String(),
	}
	if word == "TRUNCATE" {
		if t := s.lookup(statementTable(text, q.schema)); t != nil {
			tx.Changes = []record.Change{{Op: record.OpTruncate, Table: t}}
		}
		return s.deliver(ctx, tx)
	}
	if word == "DROP" {
		for _, k := range droppedTables(text, q.schema) {
			if t := s.lookup(k); t != nil {
				tx.Changes = append(tx.Changes, record.Change{Op: record.OpDropTable, Table: t})
			}
		}
		if len(tx.Changes) > 0 {
			return s.deliver(ctx, tx)
		}
	}
	if word == "ALTER" && s.reload != nil {
		if t := s.lookup(statementTable(text, q.schema)); t != nil {
			if err := s.reloadTable(ctx, t); err != nil {
				return err
			}
			return s.deliver(ctx, tx)
		}
	}
	if s.schemas[q.schema] {
		slog.InfoContext(ctx, "mysql cdc: DDL in the binary log is not applied", "schema", q.schema,
			"query", abbreviateSQL(text), "position", tx.Position)
	}
	return s.deliver(ctx, tx)
}

func (s *binlogStream) warnOnce(ctx context.Context, key, msg string, args ...any) {
	if s.warned == nil {
		s.warned = map[string]bool{}
	}
	if !s.warned[key] {
		s.warned[key] = true
		slog.WarnContext(ctx, msg, args...)
	}
}

// lookup finds a captured table: exactly, else ignoring case (servers
// with lower_case_table_names).
func (s *binlogStream) lookup(k tableKey) *record.Table {
	if t := s.tables[k]; t != nil || k.table == "" {
		return t
	}
	for kk, t := range s.tables {
		if strings.EqualFold(kk.db, k.db) && strings.EqualFold(kk.table, k.table) {
			return t
		}
	}
	return nil
}

// tableMap records what table a table id stands for.
func (s *binlogStream) tableMap(body []byte) error {
	phl := s.fd.postHeaderLen(evTableMap, 8)
	id, ok := binlogTableID(body, phl)
	if !ok {
		return errors.New("malformed table map event")
	}
	if ct := s.byID[id]; ct != nil && bytes.Equal(ct.raw, body) {
		return nil // the same table as last time
	}
	tm, err := parseTableMap(body, phl)
	if err != nil {
		return err
	}
	ct := &cdcTable{}
	if t := s.lookup(tableKey{tm.schema, tm.table}); t != nil {
		convs := s.convs[tableKey{t.Schema, t.Name}]
		if ct, err = newCDCTable(tm, t, convs); err != nil {
			// Rows logged before columns were added at the end of the
			// table (an ALTER TABLE made while the task was stopped, the
			// definition read since): they have the leading columns.
			p := earlierShape(tm, t)
			if p == nil {
				return err
			}
			if ct, err = newCDCTable(tm, p, convs); err != nil {
				return err
			}
		}
	}
	ct.raw = append([]byte(nil), body...)
	s.byID[id] = ct
	return nil
}

// earlierShape is t as it was before columns were added at its end, when
// the table map tm has fewer columns than t (by count, or by name when the
// binary log names them) and keeps t's key; nil otherwise.
func earlierShape(tm *tableMapEvent, t *record.Table) *record.Table {
	n := len(tm.types)
	if n >= len(t.Columns) {
		return nil
	}
	for i, name := range tm.names {
		if t.Columns[i].Name != name {
			return nil
		}
	}
	p := *t
	p.Columns = t.Columns[:n:n]
	within := func(cols []string) bool {
		for _, k := range cols {
			if !slices.ContainsFunc(p.Columns, func(c record.Column) bool { return c.Name == k }) {
				return false
			}
		}
		return true
	}
	if !within(t.Key()) {
		return nil
	}
	p.UniqueKeys = nil
	for _, u := range t.UniqueKeys {
		if within(u) {
			p.UniqueKeys = append(p.UniqueKeys, u)
		}
	}
	return &p
}

// rows decodes a rows event of a captured table into the open transaction.
func (s *binlogStream) rows(h eventHeader, body []byte) error {
	ev, err := parseRows(h.typ, body, s.fd.postHeaderLen(h.typ, 8))
	if err != nil {
		return err
	}
	ct := s.byID[ev.tableID]
	if ct == nil {
		return fmt.Errorf("rows of table id %d without its table map", ev.tableID)
	}
	if ct.t == nil {
		return nil // not a captured table
	}
	if !s.inTx {
		s.begin(h)
	}
	if s.arena == nil {
		s.arena, s.slab = &arena{}, &rowSlab{}
	}
	s.changes, err = ct.decodeRows(ev, s.arena, s.slab, s.changes)
	return err
}

// skipSQLComments drops blanks and /* */ or -- / # comments before a
// statement.
func skipSQLComments(q string) string {
	for {
		q = strings.TrimLeft(q, " \t\r\n")
		switch {
		case strings.HasPrefix(q, "/*"):
			end := strings.Index(q[2:], "*/")
			if end < 0 {
				return ""
			}
			q = q[2+end+2:]
		case strings.HasPrefix(q, "--"), strings.HasPrefix(q, "#"):
			end := strings.IndexByte(q, '\n')
			if end < 0 {
				return ""
			}
			q = q[end+1:]
		default:
			return q
		}
	}
}

func sqlFirstWord(q string) string {
	for i, c := range q {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
			return q[:i]
		}
	}
	return q
}

// statementTable reads the table of a statement about one table:
// "TRUNCATE [TABLE] [db.]tbl", "ALTER [ONLINE] [IGNORE] TABLE [IF EXISTS]
// [db.]tbl ..."; db is the statement's default database.
func statementTable(q, db string) tableKey {
	k, _, _ := readTableName(skipWords(q[len(sqlFirstWord(q)):], "TABLE", "ONLINE", "IGNORE", "IF", "EXISTS"), db)
	return k
}

// droppedTables reads the tables of "DROP TABLE [IF EXISTS] [db.]tbl [,
// [db.]tbl]..."; nil for any other statement (DROP TEMPORARY TABLE too:
// temporary tables are not captured).
func droppedTables(q, db string) []tableKey {
	rest := skipSQLComments(strings.TrimSpace(q[len(sqlFirstWord(q)):]))
	if w := sqlFirstWord(rest); !strings.EqualFold(w, "TABLE") {
		return nil
	}
	rest = skipWords(rest, "TABLE", "IF", "EXISTS")
	var out []tableKey
	for {
		k, r, ok := readTableName(rest, db)
		if !ok {
			return out
		}
		out = append(out, k)
		r = skipSQLComments(strings.TrimLeft(r, " \t\r\n"))
		if !strings.HasPrefix(r, ",") {
			return out
		}
		rest = skipSQLComments(strings.TrimLeft(r[1:], " \t\r\n"))
	}
}

// skipWords skips the leading words of s (and comments) that are among words.
func skipWords(s string, words ...string) string {
	s = skipSQLComments(strings.TrimSpace(s))
	for {
		w := sqlFirstWord(s)
		if w == "" || !slices.ContainsFunc(words, func(x string) bool { return strings.EqualFold(x, w) }) {
			return s
		}
		s = skipSQLComments(s[len(w):])
	}
}

// readTableName reads "[db.]tbl" at the start of s.
func readTableName(s, db string) (k tableKey, rest string, ok bool) {
	first, rest, ok := readSQLIdent(s)
	if !ok {
		return tableKey{}, s, false
	}
	r := strings.TrimLeft(rest, " \t\r\n")
	if strings.HasPrefix(r, ".") {
		second, rest, ok := readSQLIdent(strings.TrimLeft(r[1:], " \t\r\n"))
		if !ok {
			return tableKey{}, s, false
		}
		return tableKey{first, second}, rest, true
	}
	return tableKey{db, first}, rest, true
}

// readSQLIdent reads a bare or backquoted identifier.
func readSQLIdent(s string) (ident, rest string, ok bool) {
	if strings.HasPrefix(s, "`") {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			if s[i] == '`' {
				if i+1 < len(s) && s[i+1] == '`' {
					b.WriteByte('`')
					i++
					continue
				}
				return b.String(), s[i+1:], true
			}
			b.WriteByte(s[i])
		}
		return "", "", false
	}
	i := 0
	for i < len(s) {
		c := s[i]
		if c == '.' || c == ';' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '/' {
			break
		}
		i++
	}
	return s[:i], s[i:], i > 0
}

func abbreviateSQL(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 300 {
		return string(truncateUTF8([]byte(q), 300)) + "…"
	}
	return q
}

// eventStart is the position of the start of event h.
func eventStart(file string, h eventHeader) string {
	pos := uint64(h.logPos)
	if pos >= uint64(h.size) {
		pos -= uint64(h.size)
	}
	return binlogPos{file: file, pos: pos}.String()
}
