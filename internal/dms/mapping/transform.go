package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/godwit-dms/godwit/internal/record"
)

// Transform turns one source row (values in SourceColumns order) into the
// target row (Columns order): masking and change-data-type conversions are
// applied, add-column expressions evaluated, and before-image columns take
// meta.Before (NULL when it is nil, as in full load). It is safe for
// concurrent use.
func (p *TablePlan) Transform(src record.Row, meta RowMeta) (record.Row, error) {
	out := make(record.Row, len(p.Columns))
	if err := p.TransformInto(out, src, meta); err != nil {
		return nil, err
	}
	return out, nil
}

// Passthrough reports whether the target row of a source row (values in
// Source.Columns order) is that row as it is: the plan reads every source
// column in its order, and every target column is the source column of
// its position, unmasked and unconverted (names aside).
func (p *TablePlan) Passthrough() bool {
	if p.prog == nil || len(p.prog) != len(p.SourceColumns) || len(p.SourceColumns) != len(p.Source.Columns) {
		return false
	}
	for i := range p.prog {
		cp := &p.prog[i]
		if cp.expr != nil || cp.srcName == "" || cp.before || cp.convert || len(cp.masks) > 0 || cp.src != i ||
			p.SourceColumns[i] != p.Source.Columns[i].Name {
			return false
		}
	}
	return true
}

// TransformInto is Transform writing into out, which must have one element
// per target column; it lets a caller reuse or batch-allocate rows.
func (p *TablePlan) TransformInto(out, src record.Row, meta RowMeta) error {
	if p.prog == nil || len(p.prog) != len(p.Columns) {
		return errors.New("mapping: TablePlan was not built by Plan")
	}
	if len(out) != len(p.prog) {
		return fmt.Errorf("mapping: %s: output row has %d values for %d target columns", p.Source.QualifiedName(), len(out), len(p.prog))
	}
	if len(src) != len(p.SourceColumns) {
		return fmt.Errorf("mapping: %s: row has %d values for %d source columns", p.Source.QualifiedName(), len(src), len(p.SourceColumns))
	}
	if meta.Before != nil && len(meta.Before) != len(p.SourceColumns) {
		return fmt.Errorf("mapping: %s: before-image has %d values for %d source columns", p.Source.QualifiedName(), len(meta.Before), len(p.SourceColumns))
	}
	var ec *evalCtx
	for i := range p.prog {
		cp := &p.prog[i]
		var v any
		var err error
		switch {
		case cp.expr != nil:
			if ec == nil {
				ec = &evalCtx{row: src, kinds: p.srcKinds, meta: &meta, schema: p.Source.Schema, table: p.Source.Name}
			}
			if v, err = cp.expr.eval(ec); err == nil {
				v, err = fromSQL(v, cp.typ)
			}
		case cp.srcName == "":
			// add-column without an expression: NULL.
		case cp.before:
			if meta.Before != nil {
				v, err = cp.value(meta.Before[cp.src])
			}
		default:
			v, err = cp.value(src[cp.src])
		}
		if err != nil {
			return fmt.Errorf("mapping: %s column %s: %w", p.Target.QualifiedName(), p.Columns[i].Name, err)
		}
		out[i] = v
	}
	return nil
}

// value masks and converts one source value.
func (cp *colProg) value(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if len(cp.masks) > 0 {
		s := text(sqlValue(v, cp.fromKind, false))
		for _, m := range cp.masks {
			s = m.apply(s, cp.typ)
		}
		return fromSQL(s, cp.typ)
	}
	if cp.convert {
		return convertValue(v, cp.fromKind, cp.typ)
	}
	return v, nil
}

func (m maskOp) apply(s string, t record.Type) string {
	switch m.action {
	case "data-masking-digits-mask":
		b := []byte(s)
		for i, c := range b {
			if c >= '0' && c <= '9' {
				b[i] = m.char
			}
		}
		return string(b)
	case "data-masking-digits-randomize":
		b := []byte(s)
		numeric := t.Kind != record.KindString && t.Kind != record.KindText
		first := true
		for i, c := range b {
			if c < '0' || c > '9' {
				continue
			}
			// Keep a number's length: its leading digit stays non-zero.
			if numeric && first && c != '0' {
				b[i] = byte('1' + rand.IntN(9))
			} else {
				b[i] = byte('0' + rand.IntN(10))
			}
			first = false
		}
		return string(b)
	case "data-masking-hash-mask":
		sum := sha256.Sum256([]byte(s))
		h := hex.EncodeToString(sum[:])
		if t.Length > 0 && t.Length < len(h) {
			h = h[:t.Length]
		}
		return h
	}
	return s
}
