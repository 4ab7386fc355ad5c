package mysql

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/godwit-dms/godwit/internal/record"
)

// tableMapEvent describes the table of the rows events that follow it.
type tableMapEvent struct {
	id     uint64
	schema string
	table  string
	types  []byte
	meta   [][2]byte
	names  []string // from binlog_row_metadata = FULL; nil otherwise
}

// optional metadata field carrying the column names.
const tableMapColumnName = 4

// binlogTableIDLen is the width of table ids in TABLE_MAP and rows events.
func binlogTableIDLen(postHeaderLen int) int {
	if postHeaderLen == 6 {
		return 4
	}
	return 6
}

// parseTableMap reads a TABLE_MAP event body.
func parseTableMap(body []byte, postHeaderLen int) (*tableMapEvent, error) {
	r := wireReader{b: body}
	tm := &tableMapEvent{}
	if binlogTableIDLen(postHeaderLen) == 4 {
		tm.id = uint64(r.uint32())
	} else {
		tm.id = r.uint48()
	}
	r.skip(postHeaderLen - binlogTableIDLen(postHeaderLen))
	n := int(r.uint8())
	tm.schema = string(r.bytes(n))
	r.skip(1)
	n = int(r.uint8())
	tm.table = string(r.bytes(n))
	r.skip(1)
	ncols := int(r.lenenc())
	if r.err != nil || ncols > r.len() {
		return nil, errors.New("malformed table map event")
	}
	tm.types = r.bytes(ncols)
	metaBlock := r.lenencBytes()
	mr := wireReader{b: metaBlock}
	tm.meta = make([][2]byte, ncols)
	for i, t := range tm.types {
		switch binlogMetaLen(t) {
		case 1:
			tm.meta[i][0] = mr.uint8()
		case 2:
			tm.meta[i][0] = mr.uint8()
			tm.meta[i][1] = mr.uint8()
		}
	}
	if mr.err != nil {
		return nil, fmt.Errorf("table map of %s.%s: malformed column metadata", tm.schema, tm.table)
	}
	r.skip((ncols + 7) / 8) // nullability
	if r.err != nil {
		return nil, fmt.Errorf("table map of %s.%s: %w", tm.schema, tm.table, r.err)
	}
	// Optional metadata: type, length, value.
	for r.len() > 0 {
		typ := r.uint8()
		val := r.lenencBytes()
		if r.err != nil {
			break // ignore a malformed tail: names are an optimisation
		}
		if typ == tableMapColumnName {
			vr := wireReader{b: val}
			names := make([]string, 0, ncols)
			for vr.len() > 0 && vr.err == nil {
				names = append(names, string(vr.lenencBytes()))
			}
			if vr.err == nil && len(names) == ncols {
				tm.names = names
			}
		}
	}
	return tm, nil
}

// cdcTable is a captured table as a table map describes it: a decoder per
// binary log column and where its value goes in the task's row.
type cdcTable struct {
	t      *record.Table
	decs   []*colDecoder
	target []int  // binary log column → index in t.Columns; -1 = not in t
	types  []byte // binary log column types and metadata (to skip a column not in t)
	meta   [][2]byte
	raw    []byte // the table map body, to reuse the mapping when it repeats
}

// newCDCTable maps a table map onto t: by name when the binary log has
// column names, else by position (the column counts must agree).
func newCDCTable(tm *tableMapEvent, t *record.Table, convs map[string]*charsetConv) (*cdcTable, error) {
	ct := &cdcTable{t: t, decs: make([]*colDecoder, len(tm.types)), target: make([]int, len(tm.types)),
		types: tm.types, meta: tm.meta}
	label := t.QualifiedName()
	if tm.names != nil {
		seen := make([]bool, len(t.Columns))
		for i, name := range tm.names {
			ct.target[i] = -1
			for j := range t.Columns {
				if t.Columns[j].Name == name {
					ct.target[i], seen[j] = j, true
					break
				}
			}
		}
		for j, ok := range seen {
			if !ok {
				return nil, fmt.Errorf("table %s: column %q is not in the binary log (the table changed since its definition was read)",
					label, t.Columns[j].Name)
			}
		}
	} else {
		if len(tm.types) != len(t.Columns) {
			return nil, fmt.Errorf("table %s has %d columns in the binary log but %d in the task's definition: the table changed since its definition was read",
				label, len(tm.types), len(t.Columns))
		}
		for i := range ct.target {
			ct.target[i] = i
		}
	}
	for i, typ := range tm.types {
		j := ct.target[i]
		if j < 0 {
			continue
		}
		col := &t.Columns[j]
		d, err := newColDecoder(typ, tm.meta[i], col, convs[col.Name])
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", label, err)
		}
		ct.decs[i] = d
	}
	return ct, nil
}

// rowsEvent is a decoded WRITE/UPDATE/DELETE_ROWS event.
type rowsEvent struct {
	tableID uint64
	op      record.ChangeOp
	ncols   int
	present []byte // columns of the (before) image
	after   []byte // columns of the after image (updates)
	rows    []byte
}

// parseRows reads the header of a rows event; the rows stay encoded.
func parseRows(typ byte, body []byte, postHeaderLen int) (*rowsEvent, error) {
	ev := &rowsEvent{}
	switch typ {
	case evWriteRowsV1, evWriteRowsV2:
		ev.op = record.OpInsert
	case evUpdateRowsV1, evUpdateRowsV2:
		ev.op = record.OpUpdate
	default:
		ev.op = record.OpDelete
	}
	r := wireReader{b: body}
	idLen := 6
	if postHeaderLen == 6 {
		idLen = 4
	}
	if idLen == 4 {
		ev.tableID = uint64(r.uint32())
	} else {
		ev.tableID = r.uint48()
	}
	r.skip(2) // flags
	if typ >= evWriteRowsV2 && typ <= evDeleteRowsV2 {
		extra := int(r.uint16())
		r.skip(extra - 2)
	}
	ev.ncols = int(r.lenenc())
	nb := (ev.ncols + 7) / 8
	ev.present = r.bytes(nb)
	if ev.op == record.OpUpdate {
		ev.after = r.bytes(nb)
	}
	if r.err != nil {
		return nil, errors.New("malformed rows event")
	}
	ev.rows = r.rest()
	return ev, nil
}

// rowSlab hands out rows cut from shared chunks, so a rows event costs a
// few allocations instead of one per row.
type rowSlab struct{ buf []any }

func (s *rowSlab) row(n int) record.Row {
	if len(s.buf) < n {
		s.buf = make([]any, max(1024, n))
	}
	r := s.buf[:n:n]
	s.buf = s.buf[n:]
	return r
}

// decodeRows appends the changes of a rows event to changes.
func (ct *cdcTable) decodeRows(ev *rowsEvent, a *arena, slab *rowSlab, changes []record.Change) ([]record.Change, error) {
	if ev.ncols != len(ct.decs) {
		return changes, fmt.Errorf("table %s: a rows event has %d columns, its table map %d", ct.t.QualifiedName(), ev.ncols, len(ct.decs))
	}
	data := ev.rows
	var err error
	for len(data) > 0 {
		c := record.Change{Op: ev.op, Table: ct.t}
		var row record.Row
		var full bool
		switch ev.op {
		case record.OpInsert:
			row, _, data, err = ct.decodeImage(data, ev.present, record.Unchanged, a, slab)
			c.After = row
		case record.OpDelete:
			row, full, data, err = ct.decodeImage(data, ev.present, nil, a, slab)
			c.Before, c.BeforeFull = row, full
		case record.OpUpdate:
			row, full, data, err = ct.decodeImage(data, ev.present, nil, a, slab)
			c.Before, c.BeforeFull = row, full
			if err == nil {
				c.After, _, data, err = ct.decodeImage(data, ev.after, record.Unchanged, a, slab)
			}
		}
		if err != nil {
			return changes, fmt.Errorf("table %s: %w", ct.t.QualifiedName(), err)
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// decodeImage decodes one row image: a NULL bitmap over the present
// columns, then their non-NULL values. Columns the image lacks get
// missing; full says the image has every column of the task's table.
func (ct *cdcTable) decodeImage(data, present []byte, missing any, a *arena, slab *rowSlab) (record.Row, bool, []byte, error) {
	npresent := 0
	for _, b := range present {
		npresent += bits.OnesCount8(b)
	}
	nb := (npresent + 7) / 8
	if len(data) < nb {
		return nil, false, nil, errBadBinlogValue
	}
	nulls := data[:nb]
	data = data[nb:]
	row := slab.row(len(ct.t.Columns))
	full := true
	k := 0
	for i, d := range ct.decs {
		j := ct.target[i]
		if present[i>>3]&(1<<(i&7)) == 0 {
			if j >= 0 {
				row[j] = missing
				full = false
			}
			continue
		}
		isNull := nulls[k>>3]&(1<<(k&7)) != 0
		k++
		if isNull {
			if j >= 0 {
				row[j] = nil
			}
			continue
		}
		if j < 0 {
			n, err := binlogValueSize(ct.types[i], ct.meta[i], data)
			if err != nil {
				return nil, false, nil, err
			}
			data = data[n:]
			continue
		}
		v, n, err := d.decode(data, a)
		if err != nil {
			return nil, false, nil, err
		}
		row[j] = v
		data = data[n:]
	}
	return row, full, data, nil
}

// binlogTableID reads the table id at the start of a TABLE_MAP or rows event.
func binlogTableID(body []byte, postHeaderLen int) (uint64, bool) {
	r := wireReader{b: body}
	var id uint64
	if binlogTableIDLen(postHeaderLen) == 4 {
		id = uint64(r.uint32())
	} else {
		id = r.uint48()
	}
	return id, r.err == nil
}

// binlogValueSize is the size of a binary log value of type typ at the start of
// data, for a column that is skipped.
func binlogValueSize(typ byte, meta [2]byte, data []byte) (int, error) {
	n, prefix := 0, 0
	switch typ {
	case mtTiny, mtYear:
		n = 1
	case mtShort:
		n = 2
	case mtInt24, mtDate, mtNewDate, mtTime:
		n = 3
	case mtLong, mtFloat, mtTimestamp:
		n = 4
	case mtLongLong, mtDouble, mtDateTime:
		n = 8
	case mtTime2:
		n = 3 + (int(meta[0])+1)/2
	case mtDateTime2:
		n = 5 + (int(meta[0])+1)/2
	case mtTimestamp2:
		n = 4 + (int(meta[0])+1)/2
	case mtNewDecimal:
		if meta[1] > meta[0] || meta[0] > 65 {
			return 0, errBadBinlogValue
		}
		n = binDecimalSize(int(meta[0]), int(meta[1]))
	case mtBit:
		n = int(meta[1])
		if meta[0] > 0 {
			n++
		}
	case mtVarchar, mtVarString, mtVarcharComp:
		prefix = 1
		if int(meta[0])|int(meta[1])<<8 > 255 {
			prefix = 2
		}
	case mtString:
		realType, length := meta[0], int(meta[1])
		if realType&0x30 != 0x30 {
			length |= int((realType&0x30)^0x30) << 4
			realType |= 0x30
		}
		switch {
		case realType == mtEnum || realType == mtSet:
			n = length
		case length > 255:
			prefix = 2
		default:
			prefix = 1
		}
	case mtBlob, mtTinyBlob, mtMediumBlob, mtLongBlob, mtGeometry, mtJSON, mtBlobComp:
		prefix = int(meta[0])
	default:
		return 0, fmt.Errorf("binary log column type %d is not supported by CDC", typ)
	}
	if prefix > 0 {
		if len(data) < prefix {
			return 0, errBadBinlogValue
		}
		for i := prefix - 1; i >= 0; i-- {
			n = n<<8 | int(data[i])
		}
		n += prefix
	}
	if n > len(data) {
		return 0, errBadBinlogValue
	}
	return n, nil
}
