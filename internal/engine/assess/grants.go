package assess

import "strings"

// grants is what a MySQL user's SHOW GRANTS says it may do. Column
// privileges, routines, PROXY and role grants are ignored: they never grant
// a whole table.
type grants struct {
	global map[string]bool
	dbs    []dbGrant
	tables map[tableKey]map[string]bool
}

type dbGrant struct {
	pattern string // a LIKE pattern, as MySQL stores database grants
	privs   map[string]bool
}

const allPrivileges = "ALL PRIVILEGES"

func newGrants() *grants {
	return &grants{global: map[string]bool{}, tables: map[tableKey]map[string]bool{}}
}

func (g *grants) onServer(priv string) bool { return g.global[priv] || g.global[allPrivileges] }

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

func (g *grants) onTable(db, table, priv string) bool {
	if g.onDatabase(db, priv) {
		return true
	}
	p := g.tables[tableKey{db, table}]
	return p[priv] || p[allPrivileges]
}

// add records one SHOW GRANTS line: GRANT <privileges> ON <db>.<table> TO ...
func (g *grants) add(line string) {
	rest, ok := strings.CutPrefix(line, "GRANT ")
	if !ok {
		return
	}
	privText, after, ok := strings.Cut(rest, " ON ")
	if !ok {
		return // a role grant
	}
	object, _, ok := cutUnquoted(after, " TO ")
	if !ok {
		return
	}
	object = strings.TrimPrefix(object, "TABLE ")
	if strings.HasPrefix(object, "FUNCTION ") || strings.HasPrefix(object, "PROCEDURE ") || strings.HasPrefix(object, "PACKAGE ") {
		return
	}
	db, table, ok := cutUnquoted(object, ".")
	if !ok {
		return // PROXY ON 'user'@'host'
	}
	privs := map[string]bool{}
	for _, p := range splitPrivileges(privText) {
		if strings.Contains(p, "(") {
			continue // column privilege
		}
		p = strings.ToUpper(strings.TrimSpace(p))
		if p == "ALL" {
			p = allPrivileges
		}
		privs[p] = true
	}
	db, table = unquoteIdent(db), unquoteIdent(table)
	switch {
	case db == "*" && table == "*":
		for p := range privs {
			g.global[p] = true
		}
	case table == "*":
		g.dbs = append(g.dbs, dbGrant{pattern: db, privs: privs})
	default:
		k := tableKey{db, table}
		if g.tables[k] == nil {
			g.tables[k] = map[string]bool{}
		}
		for p := range privs {
			g.tables[k][p] = true
		}
	}
}

// cutUnquoted is strings.Cut that ignores sep inside backquotes or quotes.
func cutUnquoted(s, sep string) (string, string, bool) {
	var quote byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '`' || c == '\'' || c == '"':
			quote = c
		case strings.HasPrefix(s[i:], sep):
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}

// splitPrivileges splits "SELECT, INSERT (a, b), UPDATE" at the commas
// outside parentheses.
func splitPrivileges(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func unquoteIdent(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	}
	return s
}

// likeMatch matches name against a database grant pattern: % and _ are
// wildcards, \ escapes them.
func likeMatch(pattern, name string) bool {
	if pattern == "" {
		return name == ""
	}
	switch c := pattern[0]; c {
	case '%':
		for i := 0; i <= len(name); i++ {
			if likeMatch(pattern[1:], name[i:]) {
				return true
			}
		}
		return false
	case '_':
		return name != "" && likeMatch(pattern[1:], name[1:])
	case '\\':
		if len(pattern) > 1 {
			return name != "" && name[0] == pattern[1] && likeMatch(pattern[2:], name[1:])
		}
	}
	return name != "" && name[0] == pattern[0] && likeMatch(pattern[1:], name[1:])
}
