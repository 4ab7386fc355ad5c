package mysql

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/godwit-dms/godwit/internal/bytearena"
	"github.com/godwit-dms/godwit/internal/record"
)

// arena copies the text and binary values of a batch into shared chunks.
type arena = bytearena.Arena

// column is how one selected column is read.
type column struct {
	name string
	kind record.Kind
	// lobMax truncates Text/JSON values to this many bytes (on a rune
	// boundary) and Blob values to this many bytes; 0 = no limit.
	lobMax int
}

// selectExpr is the select-list expression for c: FLOAT is read as DOUBLE
// (the text protocol prints FLOAT with 6 digits, which loses precision),
// LOBs are cut server-side in limited LOB mode.
func selectExpr(c column, f serverFlavor) string {
	q := quoteIdent(c.name)
	switch {
	case c.kind == record.KindFloat32 && !f.mariaDB && (f.major < 8 || (f.major == 8 && f.minor == 0 && f.patch < 17)):
		return "(" + q + " + 0e0)" // MySQL before 8.0.17 has no CAST AS DOUBLE
	case c.kind == record.KindFloat32:
		return "CAST(" + q + " AS DOUBLE)"
	case c.lobMax > 0:
		return fmt.Sprintf("LEFT(%s, %d)", q, c.lobMax)
	}
	return q
}

// decode converts a value of the text protocol (as go-sql-driver returns
// it: int64, uint64, float64 or []byte pointing into its read buffer) to
// the canonical Go value of the column's kind.
func (c *column) decode(v any, a *arena) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		return c.decodeBytes(x, a)
	case int64:
		switch c.kind {
		case record.KindInt16, record.KindInt32, record.KindInt64:
			return v, nil
		case record.KindBool:
			return x != 0, nil
		case record.KindUint64:
			return uint64(x), nil
		case record.KindFloat32, record.KindFloat64:
			return float64(x), nil
		}
		return strconv.FormatInt(x, 10), nil
	case uint64:
		if c.kind == record.KindUint64 {
			return v, nil
		}
		return strconv.FormatUint(x, 10), nil
	case float64:
		return v, nil
	case float32:
		return float64(x), nil
	}
	return nil, fmt.Errorf("column %q: unexpected %T from the driver", c.name, v)
}

func (c *column) decodeBytes(b []byte, a *arena) (any, error) {
	switch c.kind {
	case record.KindBool:
		for _, ch := range b {
			if ch != 0 && ch != '0' {
				return true, nil
			}
		}
		return false, nil
	case record.KindInt16, record.KindInt32, record.KindInt64:
		n, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", c.name, err)
		}
		return n, nil
	case record.KindUint64:
		n, err := strconv.ParseUint(string(b), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", c.name, err)
		}
		return n, nil
	case record.KindFloat32, record.KindFloat64:
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", c.name, err)
		}
		return f, nil
	case record.KindBytes, record.KindBlob:
		if c.lobMax > 0 && len(b) > c.lobMax {
			b = b[:c.lobMax]
		}
		return a.Bytes(b), nil
	case record.KindDate:
		t, ok, err := parseDate(b)
		if err != nil || !ok {
			return nil, wrapColumn(c.name, err)
		}
		return t, nil
	case record.KindTimestamp, record.KindTimestampTZ:
		t, ok, err := parseDateTime(b)
		if err != nil || !ok {
			return nil, wrapColumn(c.name, err)
		}
		return t, nil
	case record.KindText, record.KindJSON:
		if c.lobMax > 0 && len(b) > c.lobMax {
			b = truncateUTF8(b, c.lobMax)
		}
	}
	return a.String(b), nil
}

func wrapColumn(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("column %q: %w", name, err)
}

// truncateUTF8 cuts b to at most n bytes without splitting a character.
func truncateUTF8(b []byte, n int) []byte {
	b = b[:n]
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if r, size := utf8.DecodeRune(b[i:]); r == utf8.RuneError && size <= 1 {
				return b[:i]
			}
			break
		}
	}
	return b
}

// digits parses the decimal digits of b.
func digits(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		n = n*10 + int(ch-'0')
	}
	return n, true
}

// parseDate reads "YYYY-MM-DD". A zero date, or one with a zero month or
// day (which MySQL allows), has no time.Time: ok is false and the value
// becomes NULL (TYPES.md).
func parseDate(b []byte) (t time.Time, ok bool, err error) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return time.Time{}, false, fmt.Errorf("unexpected date %q", b)
	}
	y, ok1 := digits(b[0:4])
	m, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false, fmt.Errorf("unexpected date %q", b)
	}
	if m == 0 || d == 0 {
		return time.Time{}, false, nil
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), true, nil
}

// parseDateTime reads "YYYY-MM-DD HH:MM:SS[.ffffff]" as UTC.
func parseDateTime(b []byte) (time.Time, bool, error) {
	if len(b) < 19 || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false, fmt.Errorf("unexpected datetime %q", b)
	}
	day, ok, err := parseDate(b[:10])
	if err != nil || !ok {
		return time.Time{}, ok, err
	}
	h, ok1 := digits(b[11:13])
	mi, ok2 := digits(b[14:16])
	s, ok3 := digits(b[17:19])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false, fmt.Errorf("unexpected datetime %q", b)
	}
	ns := 0
	if len(b) > 19 {
		frac := b[20:]
		if b[19] != '.' || len(frac) > 9 {
			return time.Time{}, false, fmt.Errorf("unexpected datetime %q", b)
		}
		f, ok := digits(frac)
		if !ok {
			return time.Time{}, false, fmt.Errorf("unexpected datetime %q", b)
		}
		for i := len(frac); i < 9; i++ {
			f *= 10
		}
		ns = f
	}
	y, mo, d := day.Date()
	return time.Date(y, mo, d, h, mi, s, ns, time.UTC), true, nil
}
