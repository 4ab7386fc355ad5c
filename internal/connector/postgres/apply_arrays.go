package postgres

// Runs of upserts, inserts and deletes of transactional apply are sent as
// one statement taking one binary array per column:
//
//	INSERT INTO t (c1, c2) SELECT * FROM unnest($1, $2) ON CONFLICT (c1) DO UPDATE SET ...
//	DELETE FROM t WHERE c1 = ANY($1)
//
// One prepared statement serves any number of rows, the server reads a
// few arrays instead of a parameter per value, and the plan is the same
// for every execution. Tables with a column whose type has no binary
// encoder (or no built-in array type), and runs holding a value only the
// server's text input reads, use multi-row VALUES statements instead.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/godwit-dms/godwit/internal/connector/applyplan"
	"github.com/godwit-dms/godwit/internal/record"
)

// pgArrayOIDs maps the types with a binary encoder to their built-in
// array types.
var pgArrayOIDs = map[uint32]uint32{
	oidBool: 1000, oidInt2: 1005, oidInt4: 1007, oidInt8: 1016, oidOID: 1028,
	oidText: 1009, oidVarchar: 1015, oidBPChar: 1014, oidName: 1003,
	oidNumeric: 1231, oidFloat4: 1021, oidFloat8: 1022, oidBytea: 1001,
	oidDate: 1182, oidTime: 1183, oidTimestamp: 1115, oidTimestampTZ: 1185,
	oidJSON: 199, oidJSONB: 3807, oidUUID: 2951,
}

// pgUnnestSQL is the statement of a run of kind ("u" upsert, "i" insert,
// "d" delete) with an array parameter per column (per key column for a
// delete), and its parameter columns and types.
func pgUnnestSQL(tab *applyTable, kind string) (string, []int, []uint32) {
	var cols []int
	if kind == "d" {
		cols = tab.KeyIdx
	} else {
		for i := range tab.T.Columns {
			cols = append(cols, i)
		}
	}
	oids := make([]uint32, len(cols))
	params := make([]string, len(cols))
	for j, c := range cols {
		oids[j] = tab.arrOIDs[c]
		params[j] = fmt.Sprintf("$%d", j+1)
	}
	unnest := "SELECT * FROM unnest(" + strings.Join(params, ", ") + ")"
	switch {
	case kind == "d" && len(cols) == 1:
		return "DELETE FROM " + tab.name + " WHERE " + quoteIdent(tab.T.Columns[cols[0]].Name) + " = ANY($1)", cols, oids
	case kind == "d":
		return "DELETE FROM " + tab.name + " WHERE (" + pgKeyList(tab) + ") IN (" + unnest + ")", cols, oids
	case kind == "u":
		return "INSERT INTO " + tab.name + " (" + pgColumnList(tab) + ") " + unnest + " ON CONFLICT (" + pgKeyList(tab) + ")" + pgConflictAction(tab), cols, oids
	}
	return "INSERT INTO " + tab.name + " (" + pgColumnList(tab) + ") " + unnest, cols, oids
}

// queueArrays queues the statements of a chunk of one run. It fails with
// errNeedText, queuing nothing, when a value has no binary form.
func (a *pgApply) queueArrays(ctx context.Context, chunk []applyOp) error {
	tab, kind := chunk[0].Tab, chunk[0].Kind
	rows := make([]record.Row, len(chunk))
	for i, op := range chunk {
		rows[i] = op.Row
		if kind == applyplan.Delete {
			rows[i] = op.Key
		}
	}
	switch {
	case kind == applyplan.Delete:
		return a.execArrays(ctx, tab, "d", rows)
	case kind == applyplan.Upsert && tab.upsert:
		return a.execArrays(ctx, tab, "u", rows)
	case kind == applyplan.Upsert:
		// No unique index on the key: delete, then insert. The rows are
		// encoded first, so a value without a binary form fails before
		// anything is queued.
		if err := a.encodeArrays(tab, "i", rows); err != nil {
			return err
		}
		if err := a.execArrays(ctx, tab, "d", rows); err != nil {
			return err
		}
	}
	return a.execArrays(ctx, tab, "i", rows)
}

// execArrays queues the array statement of kind for rows.
func (a *pgApply) execArrays(ctx context.Context, tab *applyTable, kind string, rows []record.Row) error {
	s, err := a.stmt(ctx, tab, "a"+kind, func() (string, []int, []uint32) { return pgUnnestSQL(tab, kind) })
	if err != nil {
		return applyError(ctx, a.pg, tab.name, err)
	}
	for i := range s.bin {
		if !s.bin[i] {
			return fmt.Errorf("applying changes to %s: the server expects type %d for an array of column %s", tab.name, s.sd.ParamOIDs[i], quoteIdent(tab.T.Columns[s.cols[i]].Name))
		}
	}
	if err := a.encodeArrays(tab, kind, rows); err != nil {
		return err
	}
	p := &a.pipe
	p.batch.ExecPrepared(s.sd.Name, p.vals, p.fmts, nil)
	p.labels = append(p.labels, tab.name)
	p.expect = append(p.expect, -1)
	p.bytes += len(p.buf)
	return a.maybeFlush(ctx)
}

// encodeArrays encodes the arrays of the statement of kind for rows into
// the pipe's values (all binary).
func (a *pgApply) encodeArrays(tab *applyTable, kind string, rows []record.Row) error {
	cols := tab.KeyIdx
	if kind != "d" {
		cols = make([]int, len(tab.T.Columns))
		for i := range cols {
			cols[i] = i
		}
	}
	p := &a.pipe
	p.buf, p.spans, p.fmts = p.buf[:0], p.spans[:0], p.fmts[:0]
	for _, col := range cols {
		start := len(p.buf)
		b := binary.BigEndian.AppendUint32(p.buf, 1) // dimensions
		flags := len(b)
		b = binary.BigEndian.AppendUint32(b, 0)             // has NULLs
		b = binary.BigEndian.AppendUint32(b, tab.oids[col]) // element type
		b = binary.BigEndian.AppendUint32(b, uint32(len(rows)))
		b = binary.BigEndian.AppendUint32(b, 1) // lower bound
		var err error
		for _, r := range rows {
			v := r[col]
			switch v {
			case nil:
				binary.BigEndian.PutUint32(b[flags:], 1)
			case record.Unchanged:
				p.buf = b
				return errNeedText
			}
			if b, err = appendBinaryValue(b, tab.encs[col], tab.kinds[col], v); err != nil {
				p.buf = b
				if errors.Is(err, errNeedText) {
					return err
				}
				return fmt.Errorf("%w: applying changes to %s: column %s: %w", ErrRowRejected, tab.name, quoteIdent(tab.T.Columns[col].Name), err)
			}
		}
		p.buf = b
		p.spans = append(p.spans, pgApplySpan{start: start, end: len(b)})
		p.fmts = append(p.fmts, 1)
	}
	p.vals = p.vals[:0]
	for _, sp := range p.spans {
		p.vals = append(p.vals, p.buf[sp.start:sp.end:sp.end])
	}
	return nil
}
