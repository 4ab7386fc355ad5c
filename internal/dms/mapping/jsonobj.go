package mapping

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// obj is one JSON object of the document, read field by field with exact
// (case-sensitive) key names, so that every problem names its field and rule.
// Unknown keys are ignored, as DMS does.
type obj struct {
	m    map[string]json.RawMessage
	path string // "object-locator", "parallel-load", ... for messages
	id   string // the rule id, for errors
}

func decodeObj(raw json.RawMessage, path, id string) (obj, *Error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return obj{}, ruleErr(id, "%s must be a JSON object.", path)
	}
	return obj{m: m, path: path, id: id}, nil
}

func (o obj) name(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// str reads a string; a JSON number is accepted as its text (DMS documents
// such as {"rule-id": 1} are common). Absent and null are "not set".
func (o obj) str(key string) (string, bool, *Error) {
	raw, ok := o.m[key]
	if !ok || isNull(raw) {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, true, nil
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&n); err == nil {
		return n.String(), true, nil
	}
	return "", false, ruleErr(o.id, "%s must be a string.", o.name(key))
}

// int reads an integer given as a JSON number or a numeric string.
func (o obj) int(key string, min, max int64) (int64, bool, *Error) {
	s, ok, err := o.str(key)
	if err != nil {
		return 0, false, ruleErr(o.id, "%s must be an integer.", o.name(key))
	}
	if !ok {
		return 0, false, nil
	}
	n, perr := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if perr != nil {
		return 0, false, ruleErr(o.id, "%s must be an integer, not %q.", o.name(key), s)
	}
	if n < min || n > max {
		return 0, false, ruleErr(o.id, "%s must be between %d and %d.", o.name(key), min, max)
	}
	return n, true, nil
}

func (o obj) object(key string) (obj, bool, *Error) {
	raw, ok := o.m[key]
	if !ok || isNull(raw) {
		return obj{}, false, nil
	}
	sub, err := decodeObj(raw, o.name(key), o.id)
	return sub, err == nil, err
}

func (o obj) array(key string) ([]json.RawMessage, bool, *Error) {
	raw, ok := o.m[key]
	if !ok || isNull(raw) {
		return nil, false, nil
	}
	var a []json.RawMessage
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, false, ruleErr(o.id, "%s must be an array.", o.name(key))
	}
	return a, true, nil
}

// strList reads an array of strings (numbers accepted as their text).
func (o obj) strList(key string) ([]string, bool, *Error) {
	a, ok, err := o.array(key)
	if err != nil || !ok {
		return nil, ok, err
	}
	out := make([]string, 0, len(a))
	for _, raw := range a {
		s, ok, err := scalarText(raw)
		if err || !ok {
			return nil, false, ruleErr(o.id, "%s must be an array of strings.", o.name(key))
		}
		out = append(out, s)
	}
	return out, true, nil
}

// scalarText is a string or number as text; ok is false for null.
func scalarText(raw json.RawMessage) (s string, ok bool, bad bool) {
	if isNull(raw) {
		return "", false, false
	}
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, true, false
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&n); err == nil {
		return n.String(), true, false
	}
	return "", false, true
}
