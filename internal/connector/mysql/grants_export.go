package mysql

// Grants is what a MySQL account may do, as its SHOW GRANTS lines say (role
// grants, PROXY and routines are ignored: they never grant a whole table).
type Grants struct{ g *grants }

// ParseGrants reads SHOW GRANTS lines.
func ParseGrants(lines []string) *Grants {
	g := newGrants()
	for _, l := range lines {
		g.add(l)
	}
	return &Grants{g: g}
}

// OnServer says whether priv is held on *.*.
func (g *Grants) OnServer(priv string) bool { return g.g.onServer(priv) }

// OnDatabase says whether priv is held on every table of db.
func (g *Grants) OnDatabase(db, priv string) bool { return g.g.onDatabase(db, priv) }

// OnTable says whether priv is held on db.table.
func (g *Grants) OnTable(db, table, priv string) bool { return g.g.onTable(db, table, priv) }
