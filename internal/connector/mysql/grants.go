package mysql

import (
	"strings"
)

// grants is what SHOW GRANTS says the session may do: privileges on the
// server, on databases (LIKE patterns, as MySQL stores them) and on
// tables. Column privileges are not recorded: they never grant a whole
// table. Only the privilege lists are kept — SHOW GRANTS lines can carry
// password hashes and are never put in messages.
type grants struct {
	global map[string]bool
	dbs    []dbGrant
	tables map[tableKey]map[string]bool
}

type dbGrant struct {
	pattern string
	privs   map[string]bool
}

type tableKey struct{ db, table string }

// allPrivileges is how SHOW GRANTS spells every privilege at a level.
const allPrivileges = "ALL PRIVILEGES"

func newGrants() *grants {
	return &grants{global: map[string]bool{}, tables: map[tableKey]map[string]bool{}}
}

// onServer says whether priv is held on *.*.
func (g *grants) onServer(priv string) bool {
	return g.global[priv] || g.global[allPrivileges]
}

// onDatabase says whether priv is held on every table of db.
func (g *grants) onDatabase(db, priv string) bool {
	if g.onServer(priv) {
		return true
	}
	for _, d := range g.dbs {
		if (d.privs[priv] || d.privs[allPrivileges]) && likeMatch(d.pattern, db) {
			return true
		}
	}
	return false
}

// onTable says whether priv is held on db.table.
func (g *grants) onTable(db, table, priv string) bool {
	if g.onDatabase(db, priv) {
		return true
	}
	p := g.tables[tableKey{db, table}]
	return p[priv] || p[allPrivileges]
}

// add records one line of SHOW GRANTS. Lines it does not understand (role
// grants, PROXY, routines) are ignored.
func (g *grants) add(line string) {
	privs, obj, ok := parseGrant(line)
	if !ok {
		return
	}
	var set map[string]bool
	switch {
	case len(obj) == 2 && obj[0] == "*" && obj[1] == "*":
		set = g.global
	case len(obj) == 2 && obj[1] == "*":
		set = map[string]bool{}
		g.dbs = append(g.dbs, dbGrant{pattern: obj[0], privs: set})
	case len(obj) == 2:
		k := tableKey{obj[0], obj[1]}
		if g.tables[k] == nil {
			g.tables[k] = map[string]bool{}
		}
		set = g.tables[k]
	default:
		return
	}
	for _, p := range privs {
		set[p] = true
	}
}

// token is a lexical unit of a GRANT statement.
type token struct {
	text   string
	quoted bool // a `quoted` or 'quoted' name, unescaped
}

// lexGrant splits a GRANT statement into words, quoted names and the
// punctuation , ( ) . @ *.
func lexGrant(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '`' || c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for j < len(s) {
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c { // doubled quote
						b.WriteByte(c)
						j += 2
						continue
					}
					break
				}
				if s[j] == '\\' && c != '`' && j+1 < len(s) {
					b.WriteByte(s[j+1])
					j += 2
					continue
				}
				b.WriteByte(s[j])
				j++
			}
			toks = append(toks, token{text: b.String(), quoted: true})
			i = j + 1
		case strings.IndexByte(",().@*", c) >= 0:
			toks = append(toks, token{text: string(c)})
			i++
		default:
			j := i
			for j < len(s) && strings.IndexByte(" \t\r\n`'\",().@*", s[j]) < 0 {
				j++
			}
			toks = append(toks, token{text: s[i:j]})
			i = j
		}
	}
	return toks
}

// parseGrant reads "GRANT priv [(cols)], ... ON [TABLE] db.tbl TO ...".
// It returns the table-wide privileges and the object as [db, table] with
// "*" for wildcards. ok is false for anything else.
func parseGrant(line string) (privs []string, obj []string, ok bool) {
	toks := lexGrant(line)
	if len(toks) < 2 || !strings.EqualFold(toks[0].text, "GRANT") || toks[0].quoted {
		return nil, nil, false
	}
	i := 1
	var words []string
	columnsOnly := false
	flush := func() {
		if len(words) > 0 && !columnsOnly {
			privs = append(privs, strings.ToUpper(strings.Join(words, " ")))
		}
		words, columnsOnly = nil, false
	}
	for ; i < len(toks); i++ {
		t := toks[i]
		if t.quoted {
			return nil, nil, false // GRANT `role` TO ...
		}
		switch {
		case t.text == ",":
			flush()
		case t.text == "(":
			// A column list: the privilege covers only those columns.
			columnsOnly = true
			for i < len(toks) && toks[i].text != ")" {
				i++
			}
		case strings.EqualFold(t.text, "ON") && len(words) > 0:
			flush()
			return parseObject(toks[i+1:], privs)
		default:
			words = append(words, t.text)
		}
	}
	return nil, nil, false
}

// parseObject reads the object after ON.
func parseObject(toks []token, privs []string) ([]string, []string, bool) {
	if len(toks) > 0 && !toks[0].quoted {
		switch strings.ToUpper(toks[0].text) {
		case "TABLE":
			toks = toks[1:]
		case "PROCEDURE", "FUNCTION", "PACKAGE":
			return nil, nil, false
		}
	}
	if len(toks) < 3 || toks[1].text != "." || toks[1].quoted {
		return nil, nil, false
	}
	name := func(t token) (string, bool) {
		if t.quoted {
			return t.text, true
		}
		if t.text == "*" || (t.text != "," && t.text != "(" && t.text != ")" && t.text != "@" && t.text != ".") {
			return t.text, true
		}
		return "", false
	}
	db, ok1 := name(toks[0])
	tbl, ok2 := name(toks[2])
	if !ok1 || !ok2 {
		return nil, nil, false
	}
	if toks[0].quoted && db == "*" { // a database literally named "*" is not a wildcard
		return nil, nil, false
	}
	return privs, []string{db, tbl}, true
}

// likeMatch matches s against a MySQL database grant pattern: % any
// run, _ any one character, \ escapes the next.
func likeMatch(pattern, s string) bool {
	p, r := []rune(pattern), []rune(s)
	var match func(pi, si int) bool
	match = func(pi, si int) bool {
		for pi < len(p) {
			switch p[pi] {
			case '%':
				for pi < len(p) && p[pi] == '%' {
					pi++
				}
				if pi == len(p) {
					return true
				}
				for k := si; k <= len(r); k++ {
					if match(pi, k) {
						return true
					}
				}
				return false
			case '_':
				if si >= len(r) {
					return false
				}
				pi, si = pi+1, si+1
			case '\\':
				if pi+1 < len(p) {
					pi++
				}
				fallthrough
			default:
				if si >= len(r) || r[si] != p[pi] {
					return false
				}
				pi, si = pi+1, si+1
			}
		}
		return si == len(r)
	}
	return match(0, 0)
}
