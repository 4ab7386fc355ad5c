package mapping

// pattern is a DMS object-locator name: % matches any run of characters, _
// one character, [_] a literal underscore, [ab] a set and [a-d] a range.
// Matching is case-sensitive. An unclosed or empty bracket is a literal '['.
type pattern struct {
	raw  string
	toks []ptok
	// exact is set for names that must be taken literally (explicit
	// selection, table settings, define-primary-key).
	exact bool
}

type ptokKind uint8

const (
	tokLit ptokKind = iota // one literal character
	tokOne                 // _
	tokAny                 // %
	tokSet                 // [...]
)

type ptok struct {
	kind ptokKind
	r    rune
	set  []runeRange
}

type runeRange struct{ lo, hi rune }

func compilePattern(s string) pattern {
	p := pattern{raw: s}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '%':
			// Consecutive % are one.
			if n := len(p.toks); n > 0 && p.toks[n-1].kind == tokAny {
				continue
			}
			p.toks = append(p.toks, ptok{kind: tokAny})
		case '_':
			p.toks = append(p.toks, ptok{kind: tokOne})
		case '[':
			end := -1
			for j := i + 1; j < len(rs); j++ {
				if rs[j] == ']' {
					end = j
					break
				}
			}
			if end <= i+1 {
				p.toks = append(p.toks, ptok{kind: tokLit, r: c})
				continue
			}
			var set []runeRange
			body := rs[i+1 : end]
			for k := 0; k < len(body); k++ {
				if k+2 < len(body) && body[k+1] == '-' {
					lo, hi := body[k], body[k+2]
					if lo > hi {
						lo, hi = hi, lo
					}
					set = append(set, runeRange{lo, hi})
					k += 2
					continue
				}
				set = append(set, runeRange{body[k], body[k]})
			}
			p.toks = append(p.toks, ptok{kind: tokSet, set: set})
			i = end
		default:
			p.toks = append(p.toks, ptok{kind: tokLit, r: c})
		}
	}
	return p
}

// exactPattern is a name matched literally.
func exactPattern(s string) pattern { return pattern{raw: s, exact: true} }

func (t ptok) matches(r rune) bool {
	switch t.kind {
	case tokLit:
		return t.r == r
	case tokOne:
		return true
	case tokSet:
		for _, rg := range t.set {
			if r >= rg.lo && r <= rg.hi {
				return true
			}
		}
	}
	return false
}

// match reports whether name matches the pattern. It runs in
// O(len(name)·len(pattern)) with the usual backtrack-to-last-% scheme.
func (p pattern) match(name string) bool {
	if p.exact {
		return p.raw == name
	}
	if !p.hasWildcard() {
		return p.raw == name
	}
	s := []rune(name)
	toks := p.toks
	si, ti := 0, 0
	star, starS := -1, 0
	for si < len(s) {
		if ti < len(toks) && toks[ti].kind != tokAny && toks[ti].matches(s[si]) {
			si++
			ti++
			continue
		}
		if ti < len(toks) && toks[ti].kind == tokAny {
			star, starS = ti, si
			ti++
			continue
		}
		if star >= 0 {
			starS++
			si = starS
			ti = star + 1
			continue
		}
		return false
	}
	for ti < len(toks) && toks[ti].kind == tokAny {
		ti++
	}
	return ti == len(toks)
}

// hasWildcard reports whether the pattern is more than a literal name.
func (p pattern) hasWildcard() bool {
	if p.exact {
		return false
	}
	for _, t := range p.toks {
		if t.kind != tokLit {
			return true
		}
	}
	return false
}
