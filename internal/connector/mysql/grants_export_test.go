package mysql

import "testing"

func TestParseGrants(t *testing.T) {
	g := ParseGrants([]string{
		"GRANT USAGE ON *.* TO `u`@`%`",
		"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `u`@`%`",
		"GRANT SELECT ON `app\\_db`.* TO `u`@`%`",
		"GRANT INSERT, UPDATE ON `other`.`t1` TO `u`@`%`",
	})
	cases := []struct {
		db, table, priv string
		want            bool
	}{
		{"app_db", "x", "SELECT", true}, {"appXdb", "x", "SELECT", false}, {"other", "t1", "INSERT", true},
		{"other", "t2", "INSERT", false}, {"other", "t1", "DELETE", false},
	}
	for _, c := range cases {
		if got := g.OnTable(c.db, c.table, c.priv); got != c.want {
			t.Errorf("OnTable(%s, %s, %s) = %v, want %v", c.db, c.table, c.priv, got, c.want)
		}
	}
	if !g.OnServer("REPLICATION CLIENT") || g.OnServer("SUPER") || !g.OnDatabase("app_db", "SELECT") {
		t.Error("server or database privileges wrong")
	}
}
