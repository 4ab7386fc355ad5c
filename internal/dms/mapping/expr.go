package mapping

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The expression language is the SQLite subset DMS documents for
// add-column: $column references (source column names, case-sensitive),
// the $AR_H_* header and $AR_M_* metadata columns, literals ('text', numbers,
// x'hex' blobs, NULL, TRUE, FALSE), || + - * / % & | << >> ~, comparisons
// (= == != <> < <= > >= IS [NOT], IN, LIKE [ESCAPE], BETWEEN, ISNULL,
// NOTNULL, NOT NULL), AND/OR/NOT, CASE, CAST and the functions in funcs.

type tokKind uint8

const (
	tEOF tokKind = iota
	tNum
	tStr
	tBlob
	tIdent
	tCol
	tOp
)

type token struct {
	kind tokKind
	text string // identifier, operator, column name or decoded literal
	pos  int
}

func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			start := i
			if c == '0' && i+1 < len(src) && (src[i+1] == 'x' || src[i+1] == 'X') {
				i += 2
				for i < len(src) && isHex(src[i]) {
					i++
				}
				if i == start+2 {
					return nil, fmt.Errorf("malformed hex number at offset %d", start)
				}
			} else {
				for i < len(src) && src[i] >= '0' && src[i] <= '9' {
					i++
				}
				if i < len(src) && src[i] == '.' {
					i++
					for i < len(src) && src[i] >= '0' && src[i] <= '9' {
						i++
					}
				}
				if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
					j := i + 1
					if j < len(src) && (src[j] == '+' || src[j] == '-') {
						j++
					}
					if j >= len(src) || src[j] < '0' || src[j] > '9' {
						return nil, fmt.Errorf("malformed number at offset %d", start)
					}
					for j < len(src) && src[j] >= '0' && src[j] <= '9' {
						j++
					}
					i = j
				}
			}
			if i < len(src) && isIdentByte(src[i]) {
				return nil, fmt.Errorf("malformed number at offset %d", start)
			}
			toks = append(toks, token{kind: tNum, text: src[start:i], pos: start})
		case c == '\'' || c == '"':
			// SQLite takes an unresolvable "identifier" as a string literal;
			// there are no identifiers here, so "x" is always text.
			s, n, err := quoted(src[i:], c)
			if err != nil {
				return nil, fmt.Errorf("%v at offset %d", err, i)
			}
			toks = append(toks, token{kind: tStr, text: s, pos: i})
			i += n
		case (c == 'x' || c == 'X') && i+1 < len(src) && src[i+1] == '\'':
			s, n, err := quoted(src[i+1:], '\'')
			if err != nil {
				return nil, fmt.Errorf("%v at offset %d", err, i)
			}
			b, herr := hex.DecodeString(s)
			if herr != nil {
				return nil, fmt.Errorf("malformed blob literal at offset %d", i)
			}
			toks = append(toks, token{kind: tBlob, text: string(b), pos: i})
			i += 1 + n
		case c == '$':
			start := i
			i++
			for i < len(src) {
				r, w := utf8.DecodeRuneInString(src[i:])
				if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					break
				}
				i += w
			}
			if i == start+1 {
				return nil, fmt.Errorf("'$' must be followed by a column name at offset %d", start)
			}
			toks = append(toks, token{kind: tCol, text: src[start+1 : i], pos: start})
		case isIdentStart(c):
			start := i
			for i < len(src) && isIdentByte(src[i]) {
				i++
			}
			toks = append(toks, token{kind: tIdent, text: src[start:i], pos: start})
		default:
			op := ""
			for _, o := range []string{"||", "<=", ">=", "<>", "!=", "==", "<<", ">>"} {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				if !strings.ContainsRune("=<>+-*/%(),&|~", rune(c)) {
					r, _ := utf8.DecodeRuneInString(src[i:])
					return nil, fmt.Errorf("unexpected character %q at offset %d", r, i)
				}
				op = src[i : i+1]
			}
			toks = append(toks, token{kind: tOp, text: op, pos: i})
			i += len(op)
		}
	}
	return append(toks, token{kind: tEOF, pos: len(src)}), nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentByte(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' }

// quoted reads a q-quoted literal at the start of s, with qq as an escaped q.
func quoted(s string, q byte) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] == q {
			if i+1 < len(s) && s[i+1] == q {
				b.WriteByte(q)
				i++
				continue
			}
			return b.String(), i + 1, nil
		}
		b.WriteByte(s[i])
	}
	return "", 0, errors.New("unterminated string")
}

// ---- parser -------------------------------------------------------------------

const maxExprDepth = 100

type parser struct {
	toks  []token
	i     int
	depth int
}

func parseExpr(src string) (node, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, fmt.Errorf("unexpected %s at offset %d", t.describe(), t.pos)
	}
	return n, nil
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tStr:
		return "string literal"
	case tCol:
		return "$" + t.text
	}
	return strconv.Quote(t.text)
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// isKw reports whether the next token is the keyword kw (case-insensitive).
func (p *parser) isKw(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) isKwAt(off int, kw string) bool {
	if p.i+off >= len(p.toks) {
		return false
	}
	t := p.toks[p.i+off]
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) isOp(op string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == op
}

func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(op string) error {
	if !p.acceptOp(op) {
		t := p.peek()
		return fmt.Errorf("expected %q, found %s at offset %d", op, t.describe(), t.pos)
	}
	return nil
}

func (p *parser) expectKw(kw string) error {
	if !p.acceptKw(kw) {
		t := p.peek()
		return fmt.Errorf("expected %s, found %s at offset %d", kw, t.describe(), t.pos)
	}
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxExprDepth {
		return errors.New("expression is nested too deeply")
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) expr() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	return p.or()
}

func (p *parser) or() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.acceptKw("OR") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &logicNode{or: true, l: l, r: r}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.acceptKw("AND") {
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &logicNode{l: l, r: r}
	}
	return l, nil
}

func (p *parser) not() (node, error) {
	if p.acceptKw("NOT") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &notNode{x: x}, nil
	}
	return p.equality()
}

func (p *parser) equality() (node, error) {
	l, err := p.relational()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isOp("=") || p.isOp("==") || p.isOp("!=") || p.isOp("<>"):
			op := p.next().text
			r, err := p.relational()
			if err != nil {
				return nil, err
			}
			if op == "==" {
				op = "="
			} else if op == "<>" {
				op = "!="
			}
			l = &cmpNode{op: op, l: l, r: r}
		case p.isKw("IS"):
			p.next()
			not := p.acceptKw("NOT")
			r, err := p.relational()
			if err != nil {
				return nil, err
			}
			l = &isNode{l: l, r: r, not: not}
		case p.isKw("ISNULL"):
			p.next()
			l = &isNode{l: l, r: &litNode{}}
		case p.isKw("NOTNULL"):
			p.next()
			l = &isNode{l: l, r: &litNode{}, not: true}
		case p.isKw("NOT") && p.isKwAt(1, "NULL"):
			p.i += 2
			l = &isNode{l: l, r: &litNode{}, not: true}
		case p.isKw("IN") || p.isKw("NOT") && p.isKwAt(1, "IN"):
			not := p.acceptKw("NOT")
			p.next()
			if err := p.expect("("); err != nil {
				return nil, err
			}
			in := &inNode{x: l, not: not}
			if !p.isOp(")") {
				for {
					e, err := p.expr()
					if err != nil {
						return nil, err
					}
					in.list = append(in.list, e)
					if !p.acceptOp(",") {
						break
					}
				}
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			l = in
		case p.isKw("LIKE") || p.isKw("NOT") && p.isKwAt(1, "LIKE"):
			not := p.acceptKw("NOT")
			p.next()
			pat, err := p.relational()
			if err != nil {
				return nil, err
			}
			lk := &likeNode{x: l, pat: pat, not: not}
			if p.acceptKw("ESCAPE") {
				if lk.esc, err = p.relational(); err != nil {
					return nil, err
				}
			}
			l = lk
		case p.isKw("BETWEEN") || p.isKw("NOT") && p.isKwAt(1, "BETWEEN"):
			not := p.acceptKw("NOT")
			p.next()
			lo, err := p.relational()
			if err != nil {
				return nil, err
			}
			if err := p.expectKw("AND"); err != nil {
				return nil, err
			}
			hi, err := p.relational()
			if err != nil {
				return nil, err
			}
			l = &betweenNode{x: l, lo: lo, hi: hi, not: not}
		default:
			return l, nil
		}
	}
}

func (p *parser) relational() (node, error) {
	l, err := p.bitwise()
	if err != nil {
		return nil, err
	}
	for p.isOp("<") || p.isOp("<=") || p.isOp(">") || p.isOp(">=") {
		op := p.next().text
		r, err := p.bitwise()
		if err != nil {
			return nil, err
		}
		l = &cmpNode{op: op, l: l, r: r}
	}
	return l, nil
}

func (p *parser) bitwise() (node, error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	for p.isOp("&") || p.isOp("|") || p.isOp("<<") || p.isOp(">>") {
		op := p.next().text
		r, err := p.additive()
		if err != nil {
			return nil, err
		}
		l = &arithNode{op: op, l: l, r: r}
	}
	return l, nil
}

func (p *parser) additive() (node, error) {
	l, err := p.multiplicative()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") {
		op := p.next().text
		r, err := p.multiplicative()
		if err != nil {
			return nil, err
		}
		l = &arithNode{op: op, l: l, r: r}
	}
	return l, nil
}

func (p *parser) multiplicative() (node, error) {
	l, err := p.concat()
	if err != nil {
		return nil, err
	}
	for p.isOp("*") || p.isOp("/") || p.isOp("%") {
		op := p.next().text
		r, err := p.concat()
		if err != nil {
			return nil, err
		}
		l = &arithNode{op: op, l: l, r: r}
	}
	return l, nil
}

func (p *parser) concat() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.acceptOp("||") {
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &concatNode{l: l, r: r}
	}
	return l, nil
}

func (p *parser) unary() (node, error) {
	if p.isOp("-") || p.isOp("+") || p.isOp("~") {
		op := p.next().text
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &unaryNode{op: op, x: x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case tNum:
		return &litNode{v: numberLiteral(t.text)}, nil
	case tStr:
		return &litNode{v: t.text}, nil
	case tBlob:
		return &litNode{v: []byte(t.text)}, nil
	case tCol:
		if h, ok := headerNames[strings.ToUpper(t.text)]; ok {
			return &headerNode{h: h, name: t.text}, nil
		}
		return &colNode{name: t.text, idx: -1}, nil
	case tOp:
		if t.text == "(" {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return e, nil
		}
	case tIdent:
		switch strings.ToUpper(t.text) {
		case "NULL":
			return &litNode{}, nil
		case "TRUE":
			return &litNode{v: int64(1)}, nil
		case "FALSE":
			return &litNode{v: int64(0)}, nil
		case "CURRENT_TIMESTAMP":
			return &callNode{name: "datetime", fn: funcs["datetime"]}, nil
		case "CURRENT_DATE":
			return &callNode{name: "date", fn: funcs["date"]}, nil
		case "CURRENT_TIME":
			return &callNode{name: "time", fn: funcs["time"]}, nil
		case "CASE":
			return p.caseExpr()
		case "CAST":
			return p.castExpr()
		}
		if p.isOp("(") {
			return p.call(t)
		}
		return nil, fmt.Errorf("unknown identifier %q at offset %d (columns are written $name)", t.text, t.pos)
	}
	return nil, fmt.Errorf("unexpected %s at offset %d", t.describe(), t.pos)
}

func numberLiteral(s string) any {
	if len(s) > 2 && (s[1] == 'x' || s[1] == 'X') {
		u, err := strconv.ParseUint(s[2:], 16, 64)
		if err != nil {
			return float64(0) // SQLite: hex literals over 64 bits are an error; rare
		}
		return int64(u)
	}
	if !strings.ContainsAny(s, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

func (p *parser) caseExpr() (node, error) {
	c := &caseNode{}
	if !p.isKw("WHEN") {
		b, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.base = b
	}
	for p.acceptKw("WHEN") {
		w, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.expectKw("THEN"); err != nil {
			return nil, err
		}
		th, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.whens = append(c.whens, whenClause{when: w, then: th})
	}
	if len(c.whens) == 0 {
		t := p.peek()
		return nil, fmt.Errorf("CASE needs at least one WHEN, found %s at offset %d", t.describe(), t.pos)
	}
	if p.acceptKw("ELSE") {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.els = e
	}
	if err := p.expectKw("END"); err != nil {
		return nil, err
	}
	return c, nil
}

func (p *parser) castExpr() (node, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.expectKw("AS"); err != nil {
		return nil, err
	}
	var words []string
	for p.peek().kind == tIdent {
		words = append(words, p.next().text)
	}
	if len(words) == 0 {
		t := p.peek()
		return nil, fmt.Errorf("CAST needs a type name, found %s at offset %d", t.describe(), t.pos)
	}
	// Optional (n) or (n, m) size, ignored as SQLite does.
	if p.acceptOp("(") {
		for !p.isOp(")") {
			if p.peek().kind == tEOF {
				return nil, errors.New("unterminated type size in CAST")
			}
			p.next()
		}
		p.next()
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	return &castNode{x: x, aff: typeAffinity(strings.Join(words, " "))}, nil
}

func (p *parser) call(name token) (node, error) {
	lname := strings.ToLower(name.text)
	fn, ok := funcs[lname]
	if !ok {
		return nil, fmt.Errorf("unsupported function %s at offset %d", name.text, name.pos)
	}
	p.next() // (
	c := &callNode{name: lname, fn: fn}
	if !p.isOp(")") {
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, e)
			if !p.acceptOp(",") {
				break
			}
		}
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	if len(c.args) < fn.min || fn.max >= 0 && len(c.args) > fn.max {
		return nil, fmt.Errorf("wrong number of arguments to function %s()", lname)
	}
	return c, nil
}
