package postgres

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// PostgreSQL's binary numeric: int16 ndigits, int16 weight, uint16 sign,
// uint16 dscale, then ndigits base-10000 digits, most significant first;
// the first digit is worth 10000^weight.
const (
	numericPos  = 0x0000
	numericNeg  = 0x4000
	numericNaN  = 0xC000
	numericPInf = 0xD000
	numericNInf = 0xF000
	// maxDecimalExponent bounds exponents in numeric text, so that "1e999999999"
	// is refused instead of spelled out.
	maxDecimalExponent = 200_000
)

// appendNumericText writes a binary numeric as exact decimal text with
// dscale fraction digits ("-12.3400", "0.001", "NaN", "Infinity").
func appendNumericText(b []byte, data []byte) ([]byte, error) {
	if len(data) < 8 {
		return b, fmt.Errorf("%w: numeric of %d bytes", ErrCopyProtocol, len(data))
	}
	ndigits := int(int16(binary.BigEndian.Uint16(data[0:])))
	weight := int(int16(binary.BigEndian.Uint16(data[2:])))
	sign := binary.BigEndian.Uint16(data[4:])
	dscale := int(binary.BigEndian.Uint16(data[6:]))
	if ndigits < 0 || len(data) != 8+2*ndigits {
		return b, fmt.Errorf("%w: numeric with %d digits in %d bytes", ErrCopyProtocol, ndigits, len(data))
	}
	switch sign {
	case numericNaN:
		return append(b, "NaN"...), nil
	case numericPInf:
		return append(b, "Infinity"...), nil
	case numericNInf:
		return append(b, "-Infinity"...), nil
	case numericNeg:
		if ndigits > 0 {
			b = append(b, '-')
		}
	case numericPos:
	default:
		return b, fmt.Errorf("%w: numeric sign %#x", ErrCopyProtocol, sign)
	}
	digit := func(i int) int {
		if i < 0 || i >= ndigits {
			return 0
		}
		return int(binary.BigEndian.Uint16(data[8+2*i:]))
	}
	if weight < 0 || ndigits == 0 {
		b = append(b, '0')
	} else {
		for i := 0; i <= weight; i++ {
			d := digit(i)
			if i == 0 {
				b = appendUint(b, uint64(d))
				continue
			}
			b = append(b, byte('0'+d/1000), byte('0'+d/100%10), byte('0'+d/10%10), byte('0'+d%10))
		}
	}
	if dscale > 0 {
		b = append(b, '.')
		written := 0
		for i := weight + 1; written < dscale; i++ {
			d := digit(i)
			group := [4]byte{byte('0' + d/1000), byte('0' + d/100%10), byte('0' + d/10%10), byte('0' + d%10)}
			n := min(4, dscale-written)
			b = append(b, group[:n]...)
			written += n
		}
	}
	return b, nil
}

func appendUint(b []byte, v uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// appendNumericBinary writes decimal text (an optional sign, digits with an
// optional point, an optional exponent; or NaN, Infinity, -Infinity) as a
// binary numeric. The scale is the number of fraction digits written.
func appendNumericBinary(b []byte, s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	neg := false
	body := s
	if body != "" && (body[0] == '-' || body[0] == '+') {
		neg = body[0] == '-'
		body = body[1:]
	}
	switch strings.ToLower(body) {
	case "nan":
		if s[0] == '-' || s[0] == '+' {
			break
		}
		return appendNumericHeader(b, 0, 0, numericNaN, 0), nil
	case "infinity", "inf":
		if neg {
			return appendNumericHeader(b, 0, 0, numericNInf, 0), nil
		}
		return appendNumericHeader(b, 0, 0, numericPInf, 0), nil
	}
	mant, exp, ok := strings.Cut(body, "e")
	if !ok {
		mant, exp, _ = strings.Cut(body, "E")
	}
	intPart, fracPart, _ := strings.Cut(mant, ".")
	if (intPart == "" && fracPart == "") || !allDigits(intPart) || !allDigits(fracPart) {
		return b, fmt.Errorf("%w: %q is not a decimal number", ErrBadValue, s)
	}
	shift := 0
	if exp != "" || strings.ContainsAny(body, "eE") {
		e, err := parseExponent(exp)
		if err != nil {
			return b, fmt.Errorf("%w: %q is not a decimal number", ErrBadValue, s)
		}
		shift = e
	}
	// The digits are intPart+fracPart with the point after
	// len(intPart)+shift of them: pad with zeros so that the point is
	// inside them, then to whole base-10000 digits on both sides.
	point := len(intPart) + shift
	lead, trail := 0, 0
	dscale := len(intPart) + len(fracPart) - point
	if dscale < 0 {
		trail, dscale = -dscale, 0
	}
	if point < 0 {
		lead, point = -point, 0
	}
	if dscale > 0x3FFF || point > 4*0x7FFF {
		return b, fmt.Errorf("%w: %q is out of PostgreSQL's numeric range", ErrBadValue, s)
	}
	if r := point % 4; r != 0 {
		lead += 4 - r
		point += 4 - r
	}
	n := lead + len(intPart) + len(fracPart) + trail
	if r := n % 4; r != 0 {
		trail += 4 - r
		n += 4 - r
	}
	digitAt := func(i int) uint16 {
		i -= lead
		switch {
		case i < 0:
			return 0
		case i < len(intPart):
			return uint16(intPart[i] - '0')
		case i < len(intPart)+len(fracPart):
			return uint16(fracPart[i-len(intPart)] - '0')
		}
		return 0
	}
	var stack [32]uint16
	groups := stack[:0]
	for i := 0; i < n; i += 4 {
		groups = append(groups, digitAt(i)*1000+digitAt(i+1)*100+digitAt(i+2)*10+digitAt(i+3))
	}
	weight := point/4 - 1
	for len(groups) > 0 && groups[0] == 0 {
		groups = groups[1:]
		weight--
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	sign := uint16(numericPos)
	if len(groups) == 0 {
		weight = 0
	} else if neg {
		sign = numericNeg
	}
	b = appendNumericHeader(b, len(groups), weight, sign, dscale)
	for _, g := range groups {
		b = binary.BigEndian.AppendUint16(b, g)
	}
	return b, nil
}

func appendNumericHeader(b []byte, ndigits, weight int, sign uint16, dscale int) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(ndigits))
	b = binary.BigEndian.AppendUint16(b, uint16(int16(weight)))
	b = binary.BigEndian.AppendUint16(b, sign)
	return binary.BigEndian.AppendUint16(b, uint16(dscale))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parseExponent(s string) (int, error) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || !allDigits(s) || len(s) > 7 {
		return 0, ErrBadValue
	}
	e := 0
	for i := 0; i < len(s); i++ {
		e = e*10 + int(s[i]-'0')
	}
	if e > maxDecimalExponent {
		return 0, ErrBadValue
	}
	if neg {
		e = -e
	}
	return e, nil
}
