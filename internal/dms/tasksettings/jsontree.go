package tasksettings

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// node is one JSON value in an order-preserving tree. Objects keep their
// members in source order with an index by decoded name; every other value
// (string, number, true/false/null, array) is kept as its compact source text,
// so numbers such as 1.0 or 2.50 and string escapes come back exactly as the
// user wrote them. Arrays are opaque because merging replaces them whole.
type node struct {
	raw     []byte         // non-objects: compact JSON text
	members []member       // objects only, in order
	index   map[string]int // objects only (non-nil marks an object)
}

type member struct {
	key    string // decoded name, used for matching
	rawKey []byte // the name as written: a JSON string token
	val    *node
}

func newObject() *node { return &node{index: map[string]int{}} }

func (n *node) isObject() bool { return n != nil && n.index != nil }

func (n *node) isNull() bool { return n != nil && !n.isObject() && string(n.raw) == "null" }

// kind names the JSON type of n for error messages.
func (n *node) kind() string {
	switch {
	case n.isObject():
		return "object"
	case len(n.raw) == 0:
		return "nothing"
	}
	switch n.raw[0] {
	case '"':
		return "string"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// get returns the member value named key, or nil when n is not an object or
// has no such member. Matching is exact (case-sensitive): DMS itself has both
// HistoryTimeslotInMinutes and historyTimeslotInMinutes as distinct keys.
func (n *node) get(key string) *node {
	if !n.isObject() {
		return nil
	}
	if i, ok := n.index[key]; ok {
		return n.members[i].val
	}
	return nil
}

// set replaces the value of key, or appends key when absent.
func (n *node) set(key string, v *node) {
	if i, ok := n.index[key]; ok {
		n.members[i].val = v
		return
	}
	rawKey, _ := json.Marshal(key) // a string always marshals
	n.append(key, rawKey, v)
}

func (n *node) append(key string, rawKey []byte, v *node) {
	n.index[key] = len(n.members)
	n.members = append(n.members, member{key: key, rawKey: rawKey, val: v})
}

// clone copies the object structure; raw texts are immutable and shared.
func (n *node) clone() *node {
	if !n.isObject() {
		return &node{raw: n.raw}
	}
	c := &node{members: make([]member, len(n.members)), index: make(map[string]int, len(n.members))}
	for i, m := range n.members {
		c.members[i] = member{key: m.key, rawKey: m.rawKey, val: m.val.clone()}
		c.index[m.key] = i
	}
	return c
}

// merge deep-merges src over dst and returns the result. When both are
// objects dst is updated in place: existing members keep their position and
// are merged recursively, new members are appended in src's order. Otherwise
// (arrays, scalars, null, or a type change) src replaces dst. src is never
// modified or aliased.
func merge(dst, src *node) *node {
	if !dst.isObject() || !src.isObject() {
		return src.clone()
	}
	for _, m := range src.members {
		if i, ok := dst.index[m.key]; ok {
			dst.members[i].val = merge(dst.members[i].val, m.val)
			continue
		}
		dst.append(m.key, m.rawKey, m.val.clone())
	}
	return dst
}

// appendTo writes n as compact JSON.
func (n *node) appendTo(buf []byte) []byte {
	if !n.isObject() {
		return append(buf, n.raw...)
	}
	buf = append(buf, '{')
	for i, m := range n.members {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, m.rawKey...)
		buf = append(buf, ':')
		buf = m.val.appendTo(buf)
	}
	return append(buf, '}')
}

func (n *node) String() string { return string(n.appendTo(nil)) }

// parseDocument parses a task settings document. Empty or blank input is an
// empty object. The top level must be an object.
func parseDocument(doc string) (*node, *Error) {
	b := []byte(doc)
	if len(trimWS(b)) == 0 {
		return newObject(), nil
	}
	if !json.Valid(b) {
		var raw json.RawMessage
		reason := "not valid JSON"
		if err := json.Unmarshal(b, &raw); err != nil {
			reason += ": " + err.Error()
		}
		return nil, errorf("", reason)
	}
	if !utf8.Valid(b) {
		return nil, errorf("", "not valid JSON: invalid UTF-8")
	}
	p := parser{b: b}
	v := p.value()
	if !v.isObject() {
		return nil, errorf("", "must be a JSON object (got "+v.kind()+")")
	}
	return v, nil
}

func trimWS(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}

// parser walks JSON that json.Valid has already accepted, so it does no
// error checking of its own. Nesting depth is bounded by json.Valid's limit.
type parser struct {
	b []byte
	i int
}

func (p *parser) skipWS() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value() *node {
	p.skipWS()
	start := p.i
	switch p.b[p.i] {
	case '{':
		return p.object()
	case '[':
		p.skipArray()
		return &node{raw: compact(p.b[start:p.i])}
	case '"':
		p.skipString()
	default:
		p.skipScalar()
	}
	return &node{raw: p.b[start:p.i]}
}

// object parses an object. A repeated name is merged over the earlier one,
// so the tree never holds duplicates.
func (p *parser) object() *node {
	n := newObject()
	p.i++ // {
	p.skipWS()
	if p.b[p.i] == '}' {
		p.i++
		return n
	}
	for {
		p.skipWS()
		start := p.i
		p.skipString()
		rawKey := p.b[start:p.i]
		p.skipWS()
		p.i++ // :
		v := p.value()
		key := decodeString(rawKey)
		if i, ok := n.index[key]; ok {
			n.members[i].val = merge(n.members[i].val, v)
		} else {
			n.append(key, rawKey, v)
		}
		p.skipWS()
		if p.b[p.i] == ',' {
			p.i++
			continue
		}
		p.i++ // }
		return n
	}
}

func (p *parser) skipString() {
	p.i++ // opening quote
	for {
		switch p.b[p.i] {
		case '\\':
			p.i += 2
		case '"':
			p.i++
			return
		default:
			p.i++
		}
	}
}

func (p *parser) skipScalar() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return
		}
		p.i++
	}
}

func (p *parser) skipArray() {
	depth := 0
	for {
		switch p.b[p.i] {
		case '"':
			p.skipString()
			continue
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		}
		p.i++
		if depth == 0 {
			return
		}
	}
}

// elements splits a raw (valid) JSON array into its element values.
func elements(raw []byte) []*node {
	p := parser{b: raw}
	p.skipWS()
	p.i++ // [
	p.skipWS()
	var out []*node
	if p.b[p.i] == ']' {
		return out
	}
	for {
		out = append(out, p.value())
		p.skipWS()
		if p.b[p.i] == ',' {
			p.i++
			continue
		}
		return out
	}
}

// decodeString decodes a valid JSON string token.
func decodeString(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	_ = json.Unmarshal(raw, &s) // raw is a valid string token
	return s
}

func compact(raw []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw // unreachable for validated input
	}
	return buf.Bytes()
}
