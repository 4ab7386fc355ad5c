package postgres

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/bytearena"
	"github.com/godwit-dms/godwit/internal/record"
)

// cdcDecoder turns pgoutput's row messages into record.Changes whose
// values are exactly what a full-load Read of the same row gives: pgoutput
// sends each value as its type's text output (under the session settings
// cdcOpenReplication sets), and cdcDecodeText parses it into the canonical value
// the binary COPY decoder produces for the column's plan.
type cdcDecoder struct {
	c      *Conn
	tables map[[2]string]*record.Table
	rels   map[uint32]*cdcRelation
	types  typeCache
	// ddlSchema is where the DDL audit table is ("" = none).
	ddlSchema string
	// msg is the row message being decoded.
	msg cdcRowMessage
	// arena holds copies of the messages values are decoded from.
	arena bytearena.Arena
}

// cdcRelation is a relation the server described (Relation message).
type cdcRelation struct {
	// table is the shape of the relation's changes; nil when the relation
	// is not captured.
	table *record.Table
	// cols maps the message's columns to table's, with their decoding.
	cols []cdcColumn
	// keys are the message's replica identity columns.
	keys []int
	// absent are the table's generated columns, which pgoutput does not
	// send: record.Unchanged in After rows.
	absent []int
	// audit, for the DDL audit table, are the positions of its tag,
	// schema_name and object_name columns; nil for other relations.
	audit []int
}

type cdcColumn struct {
	pos   int // index in table.Columns
	dec   decoder
	money bool // money text ("-$1,234.56") read as numeric, as the full load's money::numeric
}

func newCDCDecoder(c *Conn, tables []*record.Table, ddlSchema string) *cdcDecoder {
	d := &cdcDecoder{c: c, tables: map[[2]string]*record.Table{}, rels: map[uint32]*cdcRelation{}, types: typeCache{}, ddlSchema: ddlSchema}
	for _, t := range tables {
		d.tables[[2]string{t.Schema, t.Name}] = t
	}
	return d
}

// cdcParse decodes a pgoutput message; a malformed one is an error, not
// a panic.
func cdcParse(data []byte) (m pglogrepl.Message, err error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty message", ErrReplicationProtocol)
	}
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w: malformed %q message", ErrReplicationProtocol, data[0])
		}
	}()
	m, err = pglogrepl.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %q message: %v", ErrReplicationProtocol, data[0], err)
	}
	return m, nil
}

// relation records the shape of a relation. A table of req.Tables whose
// columns (names and types) are those the server describes, generated
// columns aside (pgoutput does not send them), keeps its record.Table; one
// changed since (DDL) gets a new record.Table built from the message and
// the catalog's types, nullability and keys as they are now. Relations are
// matched to req.Tables by schema and name, columns by name.
func (d *cdcDecoder) relation(ctx context.Context, m *pglogrepl.RelationMessage) error {
	t := d.tables[[2]string{m.Namespace, m.RelationName}]
	rel := &cdcRelation{}
	d.rels[m.RelationID] = rel
	if d.ddlSchema != "" && m.Namespace == d.ddlSchema && m.RelationName == cdcAuditTable {
		rel.audit = []int{-1, -1, -1}
		for i, c := range m.Columns {
			if j := slices.Index([]string{"tag", "schema_name", "object_name"}, c.Name); j >= 0 {
				rel.audit[j] = i
			}
		}
		return nil
	}
	if t == nil {
		return nil
	}
	pg, err := d.c.data.acquire(ctx, d.c)
	if err != nil {
		return err
	}
	defer d.c.data.release(pg)
	doing := "reading the column types of " + quoteTable(m.Namespace, m.RelationName)
	n := len(m.Columns)
	oids := make([]uint32, n)
	mods := make([]int32, n)
	for i, mc := range m.Columns {
		oids[i], mods[i] = mc.DataType, mc.TypeModifier
	}
	rows, err := pg.Query(ctx, `
SELECT pg_catalog.format_type(t.o, t.m) FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY AS t(o, m, n) ORDER BY t.n`, oids, mods)
	if err != nil {
		return classify(ctx, pg, doing, err)
	}
	natives, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return classify(ctx, pg, doing, err)
	}
	if len(natives) != n {
		return fmt.Errorf("%s: %d types for %d columns", doing, len(natives), n)
	}
	if err := d.types.loadTypes(ctx, pg, append([]uint32(nil), oids...)); err != nil {
		return classify(ctx, pg, doing, err)
	}
	generated, err := cdcGenerated(ctx, pg, m.RelationID)
	if err != nil {
		return classify(ctx, pg, doing, err)
	}
	plans := make([]colPlan, n)
	rel.cols = make([]cdcColumn, n)
	sent := make(map[string]int, n)
	for i, mc := range m.Columns {
		plans[i] = d.types.plan(mc.Name, mc.DataType, mc.TypeModifier, natives[i])
		rel.cols[i] = cdcColumn{pos: i, dec: plans[i].dec, money: plans[i].read == readNumeric}
		if mc.Flags&1 != 0 {
			rel.keys = append(rel.keys, i)
		}
		sent[mc.Name] = i
	}
	// The task's shape still holds when every column it has is sent with
	// the same type, or is a generated column (never sent), and no other
	// column is sent.
	same := true
	pos := make([]int, n)
	var absent []int
	for j, col := range t.Columns {
		i, ok := sent[col.Name]
		switch {
		case ok && col.Type.Native == natives[i]:
			pos[i] = j
		case !ok && slices.Contains(generated, col.Name):
			absent = append(absent, j)
		default:
			same = false
		}
	}
	if same && n+len(absent) == len(t.Columns) {
		for i := range rel.cols {
			rel.cols[i].pos = pos[i]
		}
		rel.table, rel.absent = t, absent
		return nil
	}
	rel.table, err = cdcFreshTable(ctx, pg, m, plans, t)
	return classify(ctx, pg, doing, err)
}

// cdcGenerated lists the generated columns of a relation (PostgreSQL 12+).
func cdcGenerated(ctx context.Context, pg *pgx.Conn, relid uint32) ([]string, error) {
	if v, _, _ := strings.Cut(pg.PgConn().ParameterStatus("server_version"), "."); len(v) < 2 || v < "12" {
		return nil, nil
	}
	rows, err := pg.Query(ctx, `
SELECT attname FROM pg_catalog.pg_attribute
WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attgenerated <> ''`, relid)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func cdcColumnIndex(t *record.Table, name string) int {
	for j := range t.Columns {
		if t.Columns[j].Name == name {
			return j
		}
	}
	return -1
}

// cdcFreshTable is the shape of a relation whose columns differ from those
// the task was given: the message's columns with the catalog's types, and
// the current nullability and keys of those columns.
func cdcFreshTable(ctx context.Context, pg *pgx.Conn, m *pglogrepl.RelationMessage, plans []colPlan, old *record.Table) (*record.Table, error) {
	t := &record.Table{Schema: m.Namespace, Name: m.RelationName, RowsEstimate: old.RowsEstimate, BytesEstimate: old.BytesEstimate}
	rows, err := pg.Query(ctx, `
SELECT attname FROM pg_catalog.pg_attribute
WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attnotnull`, m.RelationID)
	if err != nil {
		return nil, err
	}
	notNull, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for i, mc := range m.Columns {
		nn := plans[i].notNull
		for _, name := range notNull {
			nn = nn || name == mc.Name
		}
		t.Columns = append(t.Columns, record.Column{Name: mc.Name, Type: plans[i].typ, Nullable: !nn})
	}
	keys := &relation{table: &record.Table{}}
	if err := readKeys(ctx, pg, []uint32{m.RelationID}, map[uint32]*relation{m.RelationID: keys}); err != nil {
		return nil, err
	}
	has := func(cols []string) bool {
		for _, c := range cols {
			if cdcColumnIndex(t, c) < 0 {
				return false
			}
		}
		return len(cols) > 0
	}
	if has(keys.table.PrimaryKey) {
		t.PrimaryKey = keys.table.PrimaryKey
	}
	for _, k := range keys.table.UniqueKeys {
		if has(k) {
			t.UniqueKeys = append(t.UniqueKeys, k)
		}
	}
	return t, nil
}

// changes appends the changes of a row message ('I', 'U', 'D', read in
// place) or a truncate message ('T') of a captured relation to out.
func (d *cdcDecoder) changes(out []record.Change, data []byte) ([]record.Change, error) {
	if data[0] == 'T' {
		msg, err := cdcParse(data)
		if err != nil {
			return out, err
		}
		for _, id := range msg.(*pglogrepl.TruncateMessage).RelationIDs {
			rel, err := d.rel(id)
			if err != nil {
				return out, err
			}
			if rel.table != nil {
				out = append(out, record.Change{Op: record.OpTruncate, Table: rel.table})
			}
		}
		return out, nil
	}
	if len(data) < 6 {
		return out, fmt.Errorf("%w: a %q message of %d bytes", ErrReplicationProtocol, data[0], len(data))
	}
	rel, err := d.rel(binary.BigEndian.Uint32(data[1:]))
	if err != nil || (rel.table == nil && rel.audit == nil) {
		return out, err
	}
	m := &d.msg
	if rel.audit != nil {
		if err := m.parse(data); err != nil || m.op != 'I' {
			return out, err
		}
		return d.auditChange(out, rel, &m.new), nil
	}
	// Decoded strings are views of this copy, which the values keep
	// alive; the connection reuses data's buffer.
	if err := m.parse(d.arena.Bytes(data)); err != nil {
		return out, err
	}
	ch := record.Change{Table: rel.table}
	if m.op != 'D' {
		if ch.After, err = rel.row(&m.new, true); err != nil {
			return out, err
		}
	}
	if m.oldKind != 0 {
		if ch.Before, err = rel.row(&m.old, false); err != nil {
			return out, err
		}
		ch.BeforeFull = m.oldKind == 'O'
	}
	switch m.op {
	case 'I':
		ch.Op = record.OpInsert
	case 'U':
		ch.Op = record.OpUpdate
		if m.oldKind == 0 {
			// The replica identity did not change: it is in the new row.
			ch.Before = make(record.Row, len(ch.After))
			for _, k := range rel.keys {
				p := rel.cols[k].pos
				ch.Before[p] = ch.After[p]
			}
		}
	case 'D':
		ch.Op = record.OpDelete
	}
	return append(out, ch), nil
}

func (d *cdcDecoder) rel(id uint32) (*cdcRelation, error) {
	rel := d.rels[id]
	if rel == nil {
		return nil, fmt.Errorf("%w: a change of relation %d before its Relation message", ErrReplicationProtocol, id)
	}
	return rel, nil
}

// row decodes a tuple into the relation's column order: NULL is nil, an
// unchanged TOASTed value record.Unchanged, and so are generated columns
// in a new row (after); in an old row they are nil.
func (r *cdcRelation) row(td *cdcTuple, after bool) (record.Row, error) {
	if len(td.kinds) != len(r.cols) {
		return nil, fmt.Errorf("%w: a row of %s.%s without its %d columns", ErrReplicationProtocol, r.table.Schema, r.table.Name, len(r.cols))
	}
	row := make(record.Row, len(r.table.Columns))
	if after {
		for _, p := range r.absent {
			row[p] = record.Unchanged
		}
	}
	for i, kind := range td.kinds {
		c := &r.cols[i]
		switch kind {
		case 'n':
		case 'u':
			row[c.pos] = record.Unchanged
		case 't':
			v, err := cdcDecodeText(c, td.vals[i])
			if err != nil {
				return nil, fmt.Errorf("%s.%s column %q: %w", r.table.Schema, r.table.Name, r.table.Columns[c.pos].Name, err)
			}
			row[c.pos] = v
		default:
			return nil, fmt.Errorf("%w: tuple value of kind %q", ErrReplicationProtocol, kind)
		}
	}
	return row, nil
}

// cdcDecodeText parses a value's text output into the canonical value the
// full load's decoder gives for the same column. b must not be reused by
// the caller: strings share its bytes (changes copies each message).
func cdcDecodeText(c *cdcColumn, b []byte) (any, error) {
	s := unsafe.String(unsafe.SliceData(b), len(b))
	if c.money {
		return cdcMoney(s)
	}
	switch c.dec {
	case decText, decJSONB, decUUID, decNumeric:
		// text, json, uuid and numeric output is the canonical text; types
		// the full load reads as ::text or through their output function
		// are read here as that same output.
		return s, nil
	case decBool:
		switch s {
		case "t":
			return true, nil
		case "f":
			return false, nil
		}
	case decInt2, decInt4, decInt8:
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			return v, nil
		}
	case decOID:
		if v, err := strconv.ParseUint(s, 10, 32); err == nil {
			return int64(v), nil
		}
	case decFloat4:
		if v, err := strconv.ParseFloat(s, 32); err == nil {
			return float64(float32(v)), nil
		}
	case decFloat8:
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			return v, nil
		}
	case decBytea:
		if h, ok := strings.CutPrefix(s, `\x`); ok {
			out := make([]byte, len(h)/2)
			if _, err := hex.Decode(out, b[2:]); err == nil && len(h)%2 == 0 {
				return out, nil
			}
		}
	case decDate:
		if t, ok := cdcParseDate(s); ok {
			return t, nil
		}
	case decTime:
		if us, rest, ok := cdcCutClock(s); ok && rest == "" {
			var tmp [16]byte
			return string(appendClock(tmp[:0], us)), nil
		}
	case decTimestamp, decTimestampTZ:
		if t, ok := cdcParseTimestamp(s, c.dec == decTimestampTZ); ok {
			return t, nil
		}
	default:
		return nil, fmt.Errorf("%w: decoder %d", ErrReplicationProtocol, c.dec)
	}
	return nil, fmt.Errorf("%w: %q is not the text of a %s value", ErrReplicationProtocol, s, cdcDecoderName(c.dec))
}

func cdcDecoderName(d decoder) string {
	switch d {
	case decBool:
		return "boolean"
	case decInt2, decInt4, decInt8:
		return "integer"
	case decOID:
		return "oid"
	case decFloat4, decFloat8:
		return "floating-point"
	case decBytea:
		return "bytea (hex)"
	case decDate:
		return "date"
	case decTime:
		return "time"
	case decTimestamp:
		return "timestamp"
	case decTimestampTZ:
		return "timestamptz"
	}
	return "text"
}

// cdcMoney turns money's output under lc_monetary C ("$1,234.56",
// "-$1,234.56") into the numeric text money::numeric gives ("1234.56").
func cdcMoney(s string) (string, error) {
	out := make([]byte, 1, len(s)+1)
	out[0] = '-'
	neg, digits := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			out = append(out, c)
			digits++
		case c == '.':
			out = append(out, c)
		case c == '-' || c == '(':
			neg = true
		}
	}
	if digits == 0 {
		return "", fmt.Errorf("%w: %q is not the text of a money value", ErrReplicationProtocol, s)
	}
	if !neg {
		out = out[1:]
	}
	return unsafe.String(unsafe.SliceData(out), len(out)), nil
}

// cdcParseDate reads a date in DateStyle ISO: "2024-02-29", "0044-03-15
// BC", "infinity", "-infinity" (clamped like the full load's).
func cdcParseDate(s string) (time.Time, bool) {
	switch s {
	case "infinity":
		return dateInfinity, true
	case "-infinity":
		return timeNegInfinity, true
	}
	y, mo, d, rest, ok := cdcCutDate(s)
	if !ok {
		return time.Time{}, false
	}
	if rest == " BC" {
		y, rest = 1-y, ""
	}
	if rest != "" {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC), true
}

// cdcParseTimestamp reads a timestamp in DateStyle ISO, with its UTC
// offset when tz ("2024-01-02 03:04:05.123456+00", "... BC").
func cdcParseTimestamp(s string, tz bool) (time.Time, bool) {
	switch s {
	case "infinity":
		return timeInfinity, true
	case "-infinity":
		return timeNegInfinity, true
	}
	y, mo, d, rest, ok := cdcCutDate(s)
	if !ok || len(rest) < 1 || rest[0] != ' ' {
		return time.Time{}, false
	}
	us, rest, ok := cdcCutClock(rest[1:])
	if !ok {
		return time.Time{}, false
	}
	off := 0
	if tz {
		if off, rest, ok = cdcCutOffset(rest); !ok {
			return time.Time{}, false
		}
	}
	if rest == " BC" {
		y, rest = 1-y, ""
	}
	if rest != "" {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	return t.Add(time.Duration(us)*time.Microsecond - time.Duration(off)*time.Second), true
}

// cdcCutDate reads "Y-MM-DD" (at least one year digit) at the start of s.
func cdcCutDate(s string) (y, mo, d int, rest string, ok bool) {
	i := 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		y = y*10 + int(s[i]-'0')
		i++
	}
	if i == 0 || len(s) < i+6 || s[i] != '-' || s[i+3] != '-' {
		return 0, 0, 0, "", false
	}
	mo, ok1 := cdcTwo(s[i+1:])
	d, ok2 := cdcTwo(s[i+4:])
	if !ok1 || !ok2 {
		return 0, 0, 0, "", false
	}
	return y, mo, d, s[i+6:], true
}

// cdcCutClock reads "HH:MM:SS[.ffffff]" at the start of s as microseconds.
func cdcCutClock(s string) (us int64, rest string, ok bool) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return 0, "", false
	}
	h, ok1 := cdcTwo(s)
	m, ok2 := cdcTwo(s[3:])
	sec, ok3 := cdcTwo(s[6:])
	if !ok1 || !ok2 || !ok3 {
		return 0, "", false
	}
	us = (int64(h)*3600 + int64(m)*60 + int64(sec)) * 1e6
	s = s[8:]
	if len(s) > 0 && s[0] == '.' {
		i, frac, scale := 1, int64(0), int64(1e6)
		for i < len(s) && i <= 6 && s[i] >= '0' && s[i] <= '9' {
			frac = frac*10 + int64(s[i]-'0')
			scale /= 10
			i++
		}
		if i == 1 {
			return 0, "", false
		}
		us += frac * scale
		s = s[i:]
	}
	return us, s, true
}

// cdcCutOffset reads a UTC offset "+HH[:MM[:SS]]" at the start of s, in
// seconds east of UTC.
func cdcCutOffset(s string) (off int, rest string, ok bool) {
	if len(s) < 3 || s[0] != '+' && s[0] != '-' {
		return 0, "", false
	}
	h, ok := cdcTwo(s[1:])
	if !ok {
		return 0, "", false
	}
	off, rest = h*3600, s[3:]
	for unit := 60; unit >= 1 && len(rest) >= 3 && rest[0] == ':'; unit /= 60 {
		v, ok := cdcTwo(rest[1:])
		if !ok {
			return 0, "", false
		}
		off += v * unit
		rest = rest[3:]
	}
	if s[0] == '-' {
		off = -off
	}
	return off, rest, true
}

// cdcTwo reads two decimal digits.
func cdcTwo(s string) (int, bool) {
	if len(s) < 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}
