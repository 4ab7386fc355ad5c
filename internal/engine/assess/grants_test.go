package assess

import "testing"

func TestGrants(t *testing.T) {
	g := newGrants()
	for _, line := range []string{
		"GRANT USAGE ON *.* TO `u`@`%`",
		"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*ABC'",
		"GRANT SELECT, INSERT ON `db\\_1`.* TO `u`@`%`",
		"GRANT ALL PRIVILEGES ON `all%`.* TO `u`@`%`",
		"GRANT SELECT (`a`, `b`), UPDATE ON `d`.`t` TO `u`@`%`",
		"GRANT SELECT ON TABLE `we``ird`.`x.y` TO `u`@`%`",
		"GRANT EXECUTE ON PROCEDURE `d`.`p` TO `u`@`%`",
		"GRANT `role1`@`%` TO `u`@`%`",
		"GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION",
	} {
		g.add(line)
	}
	cases := []struct {
		db, table, priv string
		want            bool
	}{
		{"any", "t", "REPLICATION SLAVE", true},
		{"any", "t", "SELECT", false},
		{"db_1", "t", "SELECT", true},
		{"db_1", "t", "INSERT", true},
		{"dbx1", "t", "SELECT", false}, // \_ is a literal underscore
		{"db_1", "t", "UPDATE", false},
		{"allthings", "t", "DROP", true},
		{"d", "t", "UPDATE", true},
		{"d", "t", "SELECT", false}, // column privilege only
		{"we`ird", "x.y", "SELECT", true},
		{"d", "p", "EXECUTE", false},
	}
	for _, c := range cases {
		if got := g.onTable(c.db, c.table, c.priv); got != c.want {
			t.Errorf("onTable(%s, %s, %s) = %v, want %v", c.db, c.table, c.priv, got, c.want)
		}
	}
	if !g.onServer("REPLICATION CLIENT") || g.onServer("PROXY") {
		t.Errorf("server privileges: %v", g.global)
	}
}

func TestLikeMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"abc", "abc", true}, {"abc", "abd", false}, {"a%", "a", true}, {"a%", "abc", true}, {"%c", "abc", true},
		{"a_c", "abc", true}, {"a_c", "ac", false}, {`a\_c`, "a_c", true}, {`a\_c`, "abc", false}, {"%", "", true},
	} {
		if got := likeMatch(c.pattern, c.name); got != c.want {
			t.Errorf("likeMatch(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}
