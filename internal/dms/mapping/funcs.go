package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// funcs are the SQLite scalar functions the interpreter knows. SQLite's
// lower() and upper() fold ASCII only (without ICU), and so do these.
var funcs map[string]*fnDef

func init() {
	funcs = map[string]*fnDef{
		"lower":       {1, 1, strFn(func(s string) string { return mapASCII(s, 'A', 'Z', 'a'-'A') })},
		"upper":       {1, 1, strFn(func(s string) string { return mapASCII(s, 'a', 'z', 'A'-'a') })},
		"length":      {1, 1, fnLength},
		"substr":      {2, 3, fnSubstr},
		"substring":   {2, 3, fnSubstr},
		"trim":        {1, 2, trimFn(true, true)},
		"ltrim":       {1, 2, trimFn(true, false)},
		"rtrim":       {1, 2, trimFn(false, true)},
		"replace":     {3, 3, fnReplace},
		"ifnull":      {2, 2, fnCoalesce},
		"coalesce":    {2, -1, fnCoalesce},
		"nullif":      {2, 2, fnNullif},
		"iif":         {3, 3, fnIif},
		"abs":         {1, 1, fnAbs},
		"round":       {1, 2, fnRound},
		"instr":       {2, 2, fnInstr},
		"typeof":      {1, 1, fnTypeof},
		"hex":         {1, 1, fnHex},
		"min":         {2, -1, minMax(-1)},
		"max":         {2, -1, minMax(1)},
		"concat":      {1, -1, fnConcat},
		"concat_ws":   {2, -1, fnConcatWS},
		"hash_sha256": {1, 1, fnSHA256},
		// operation_indicator(deleted, updated, inserted) flags rows by
		// the source operation (DMS extension).
		"operation_indicator": {3, 3, fnOperationIndicator},
		"datetime":            {0, -1, timeFn(fmtDatetime)},
		"date":                {0, -1, timeFn(fmtDate)},
		"time":                {0, -1, timeFn(fmtTime)},
		"julianday":           {0, -1, timeFn(fmtJulian)},
		"unixepoch":           {0, -1, timeFn(fmtUnix)},
		"strftime":            {1, -1, fnStrftime},
	}
}

func mapASCII(s string, lo, hi byte, delta int) string {
	b := []byte(s)
	for i, c := range b {
		if c >= lo && c <= hi {
			b[i] = byte(int(c) + delta)
		}
	}
	return string(b)
}

func strFn(f func(string) string) func(*evalCtx, []any) (any, error) {
	return func(_ *evalCtx, a []any) (any, error) {
		if a[0] == nil {
			return nil, nil
		}
		return f(text(a[0])), nil
	}
}

func anyNull(a []any) bool {
	for _, v := range a {
		if v == nil {
			return true
		}
	}
	return false
}

func fnLength(_ *evalCtx, a []any) (any, error) {
	switch x := a[0].(type) {
	case nil:
		return nil, nil
	case []byte:
		return int64(len(x)), nil
	}
	return int64(utf8.RuneCountInString(text(a[0]))), nil
}

// fnSubstr is substr(X, Y[, Z]) with SQLite's 1-based, negative-from-end
// positions; characters for text, bytes for blobs.
func fnSubstr(_ *evalCtx, a []any) (any, error) {
	if anyNull(a) {
		return nil, nil
	}
	b, isBlob := a[0].([]byte)
	var rs []rune
	n := int64(len(b))
	if !isBlob {
		rs = []rune(text(a[0]))
		n = int64(len(rs))
	}
	start, _ := toInt64(castTo(a[1], affInteger))
	length := int64(math.MaxInt32)
	if len(a) == 3 {
		length, _ = toInt64(castTo(a[2], affInteger))
	}
	if start < 0 {
		start += n + 1
		if start < 1 {
			length += start - 1
			start = 1
		}
	} else if start == 0 {
		length--
		start = 1
	}
	if length < 0 {
		start += length
		length = -length
		if start < 1 {
			length += start - 1
			start = 1
		}
	}
	from := start - 1
	if from > n {
		from = n
	}
	to := from + length
	if to > n || to < from {
		to = n
	}
	if isBlob {
		return append([]byte(nil), b[from:to]...), nil
	}
	return string(rs[from:to]), nil
}

func trimFn(left, right bool) func(*evalCtx, []any) (any, error) {
	return func(_ *evalCtx, a []any) (any, error) {
		if anyNull(a) {
			return nil, nil
		}
		cut := " "
		if len(a) == 2 {
			cut = text(a[1])
		}
		s := text(a[0])
		if left {
			s = strings.TrimLeft(s, cut)
		}
		if right {
			s = strings.TrimRight(s, cut)
		}
		return s, nil
	}
}

func fnReplace(_ *evalCtx, a []any) (any, error) {
	if anyNull(a) {
		return nil, nil
	}
	s, old := text(a[0]), text(a[1])
	if old == "" {
		return s, nil
	}
	return strings.ReplaceAll(s, old, text(a[2])), nil
}

func fnCoalesce(_ *evalCtx, a []any) (any, error) {
	for _, v := range a {
		if v != nil {
			return v, nil
		}
	}
	return nil, nil
}

func fnNullif(_ *evalCtx, a []any) (any, error) {
	if a[0] != nil && a[1] != nil && compareValues(a[0], a[1]) == 0 {
		return nil, nil
	}
	return a[0], nil
}

func fnIif(_ *evalCtx, a []any) (any, error) {
	if t, _ := truth(a[0]); t {
		return a[1], nil
	}
	return a[2], nil
}

func fnAbs(_ *evalCtx, a []any) (any, error) {
	if a[0] == nil {
		return nil, nil
	}
	switch x := numeric(a[0]).(type) {
	case int64:
		if x == math.MinInt64 {
			return nil, errIntegerOverflow
		}
		if x < 0 {
			return -x, nil
		}
		return x, nil
	case float64:
		return math.Abs(x), nil
	}
	return nil, nil
}

type exprError string

func (e exprError) Error() string { return string(e) }

const errIntegerOverflow = exprError("integer overflow")

// fnRound is round(X[, N]): a REAL rounded half away from zero.
func fnRound(_ *evalCtx, a []any) (any, error) {
	if anyNull(a) {
		return nil, nil
	}
	x := toFloat(a[0])
	n := int64(0)
	if len(a) == 2 {
		n, _ = toInt64(castTo(a[1], affInteger))
	}
	if n < 0 {
		n = 0
	}
	if n > 30 {
		n = 30
	}
	if n == 0 {
		return math.Round(x), nil
	}
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return x, nil
	}
	p := math.Pow(10, float64(n))
	if r := math.Round(x*p) / p; !math.IsInf(x*p, 0) {
		// Correct binary artefacts the way printf("%.*f") would.
		f, err := strconv.ParseFloat(strconv.FormatFloat(r, 'f', int(n), 64), 64)
		if err == nil {
			return f, nil
		}
		return r, nil
	}
	return x, nil
}

func fnInstr(_ *evalCtx, a []any) (any, error) {
	if anyNull(a) {
		return nil, nil
	}
	hb, hBlob := a[0].([]byte)
	nb, nBlob := a[1].([]byte)
	if hBlob && nBlob {
		return int64(strings.Index(string(hb), string(nb)) + 1), nil
	}
	h, n := text(a[0]), text(a[1])
	i := strings.Index(h, n)
	if i < 0 {
		return int64(0), nil
	}
	return int64(utf8.RuneCountInString(h[:i]) + 1), nil
}

func fnTypeof(_ *evalCtx, a []any) (any, error) {
	switch a[0].(type) {
	case nil:
		return "null", nil
	case int64:
		return "integer", nil
	case float64:
		return "real", nil
	case string:
		return "text", nil
	}
	return "blob", nil
}

func fnHex(_ *evalCtx, a []any) (any, error) {
	if a[0] == nil {
		return "", nil
	}
	if b, ok := a[0].([]byte); ok {
		return strings.ToUpper(hex.EncodeToString(b)), nil
	}
	return strings.ToUpper(hex.EncodeToString([]byte(text(a[0])))), nil
}

func minMax(sign int) func(*evalCtx, []any) (any, error) {
	return func(_ *evalCtx, a []any) (any, error) {
		if anyNull(a) {
			return nil, nil
		}
		best := a[0]
		for _, v := range a[1:] {
			if compareValues(v, best)*sign > 0 {
				best = v
			}
		}
		return best, nil
	}
}

func fnConcat(_ *evalCtx, a []any) (any, error) {
	var b strings.Builder
	for _, v := range a {
		b.WriteString(text(v))
	}
	return b.String(), nil
}

func fnConcatWS(_ *evalCtx, a []any) (any, error) {
	if a[0] == nil {
		return nil, nil
	}
	var parts []string
	for _, v := range a[1:] {
		if v != nil {
			parts = append(parts, text(v))
		}
	}
	return strings.Join(parts, text(a[0])), nil
}

func fnSHA256(_ *evalCtx, a []any) (any, error) {
	if a[0] == nil {
		return nil, nil
	}
	sum := sha256.Sum256([]byte(text(a[0])))
	return hex.EncodeToString(sum[:]), nil
}

func fnOperationIndicator(c *evalCtx, a []any) (any, error) {
	switch strings.ToUpper(c.meta.Operation) {
	case "DELETE":
		return a[0], nil
	case "UPDATE":
		return a[1], nil
	}
	return a[2], nil
}
