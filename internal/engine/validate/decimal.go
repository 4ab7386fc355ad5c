package validate

import (
	"math"
	"strconv"
	"strings"
)

// decimal is an exact decimal value: digits × 10^exp, with no leading or
// trailing zeros in digits (zero has no digits), so that equal values have
// equal representations whatever their scale (1.50 = 1.5 = 15e-1).
type decimal struct {
	neg     bool
	digits  string
	exp     int
	special int8 // 0 finite; 1 NaN; 2 +Infinity; -2 -Infinity
}

// parseDecimal reads [+-]digits[.digits][e[+-]digits], and NaN / Infinity
// as PostgreSQL and Go spell them.
func parseDecimal(s string) (decimal, bool) {
	s = strings.TrimSpace(s)
	if s != "" && (s[len(s)-1] < '0' || s[len(s)-1] > '9') && s[len(s)-1] != '.' {
		switch strings.ToLower(s) {
		case "nan":
			return decimal{special: 1}, true
		case "infinity", "+infinity", "inf", "+inf":
			return decimal{special: 2}, true
		case "-infinity", "-inf":
			return decimal{special: -2}, true
		}
	}
	var d decimal
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		d.neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := s[start:i]
	frac := ""
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		frac = s[fs:i]
	}
	if intPart == "" && frac == "" {
		return decimal{}, false
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		e, err := strconv.Atoi(s[i:])
		if err != nil || e > 1<<20 || e < -(1<<20) {
			return decimal{}, false
		}
		exp = e
		i = len(s)
	}
	if i != len(s) {
		return decimal{}, false
	}
	digits := intPart + frac
	exp -= len(frac)
	digits = strings.TrimLeft(digits, "0")
	n := len(digits)
	digits = strings.TrimRight(digits, "0")
	exp += n - len(digits)
	if digits == "" {
		return decimal{}, true // zero, unsigned
	}
	d.digits, d.exp = digits, exp
	return d, true
}

// decimalOf converts a numeric value (the canonical Go values of the
// numeric kinds, and bool as 0/1) to a decimal. Floats go through their
// shortest round-trip text.
func decimalOf(v any) (decimal, bool) {
	switch x := v.(type) {
	case int64:
		return parseDecimal(strconv.FormatInt(x, 10))
	case uint64:
		return parseDecimal(strconv.FormatUint(x, 10))
	case bool:
		if x {
			return decimal{digits: "1"}, true
		}
		return decimal{}, true
	case float64:
		switch {
		case math.IsNaN(x):
			return decimal{special: 1}, true
		case math.IsInf(x, 1):
			return decimal{special: 2}, true
		case math.IsInf(x, -1):
			return decimal{special: -2}, true
		}
		return parseDecimal(strconv.FormatFloat(x, 'g', -1, 64))
	case string:
		return parseDecimal(x)
	}
	return decimal{}, false
}

func (a decimal) equal(b decimal) bool { return a == b }

// sign is -1, 0 or 1 for finite values.
func (a decimal) sign() int {
	switch {
	case a.digits == "":
		return 0
	case a.neg:
		return -1
	}
	return 1
}

// cmp orders decimals as PostgreSQL orders numerics: -Infinity < finite <
// +Infinity < NaN.
func (a decimal) cmp(b decimal) int {
	rank := func(d decimal) int {
		switch d.special {
		case -2:
			return 0
		case 2:
			return 2
		case 1:
			return 3
		}
		return 1
	}
	if ra, rb := rank(a), rank(b); ra != rb || ra != 1 {
		return cmpInt(ra, rb)
	}
	sa, sb := a.sign(), b.sign()
	if sa != sb {
		return cmpInt(sa, sb)
	}
	if sa == 0 {
		return 0
	}
	m := a.cmpAbs(b)
	if sa < 0 {
		return -m
	}
	return m
}

// cmpAbs compares magnitudes of non-zero finite decimals.
func (a decimal) cmpAbs(b decimal) int {
	// The position of the most significant digit decides first.
	ma, mb := len(a.digits)+a.exp, len(b.digits)+b.exp
	if ma != mb {
		return cmpInt(ma, mb)
	}
	n := max(len(a.digits), len(b.digits))
	for i := range n {
		ca, cb := byte('0'), byte('0')
		if i < len(a.digits) {
			ca = a.digits[i]
		}
		if i < len(b.digits) {
			cb = b.digits[i]
		}
		if ca != cb {
			return cmpInt(int(ca), int(cb))
		}
	}
	return 0
}

// text is the normalized text of d, in plain notation unless the
// exponent is extreme: equal decimals give equal text, and an integer's
// text is the one strconv gives.
func (d decimal) text() string {
	switch d.special {
	case 1:
		return "NaN"
	case 2:
		return "Infinity"
	case -2:
		return "-Infinity"
	}
	if d.digits == "" {
		return "0"
	}
	var b strings.Builder
	if d.neg {
		b.WriteByte('-')
	}
	switch {
	case d.exp >= 0 && d.exp <= 64:
		b.WriteString(d.digits)
		b.WriteString(strings.Repeat("0", d.exp))
	case d.exp < 0 && d.exp >= -64:
		point := len(d.digits) + d.exp
		if point <= 0 {
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", -point))
			b.WriteString(d.digits)
		} else {
			b.WriteString(d.digits[:point])
			b.WriteByte('.')
			b.WriteString(d.digits[point:])
		}
	default:
		b.WriteString(d.digits)
		b.WriteByte('e')
		b.WriteString(strconv.Itoa(d.exp))
	}
	return b.String()
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
