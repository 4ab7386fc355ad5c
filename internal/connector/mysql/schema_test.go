package mysql_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

func TestTablesAndSchemas(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	other := my.NewDatabase(t)
	my.Exec(t, db,
		"CREATE TABLE `we``ird name` (`select` int NOT NULL, `a b` varchar(10) NOT NULL, `x` text, PRIMARY KEY (`a b`, `select`))",
		"CREATE TABLE uk (id int NOT NULL, code varchar(8) NOT NULL, maybe int NULL, UNIQUE KEY u_maybe (maybe), UNIQUE KEY u_code (code), KEY plain (id))",
		"CREATE TABLE nopk (a int, b int)",
		"CREATE TABLE prefixed (t text, UNIQUE KEY (t(10)))",
		"CREATE VIEW v AS SELECT * FROM nopk",
		"INSERT INTO nopk VALUES (1,1),(2,2),(3,3)",
		"ANALYZE TABLE nopk",
	)
	my.Exec(t, other, "CREATE TABLE elsewhere (id int PRIMARY KEY)")

	// Restricted to the endpoint's database.
	c := openConn(t, my, db, connector.RoleSource, nil)
	ctx := testCtx(t)
	schemas, err := c.Schemas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(schemas, []string{db}) {
		t.Errorf("Schemas = %q, want only %q", schemas, db)
	}
	tables, err := c.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range tables {
		names = append(names, tb.Name)
	}
	if want := []string{"nopk", "prefixed", "uk", "we`ird name"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("tables = %q, want %q (base tables only)", names, want)
	}

	weird := tables[3]
	if !reflect.DeepEqual(weird.PrimaryKey, []string{"a b", "select"}) {
		t.Errorf("composite key = %q", weird.PrimaryKey)
	}
	var cols []string
	for _, c := range weird.Columns {
		cols = append(cols, c.Name)
	}
	if !reflect.DeepEqual(cols, []string{"select", "a b", "x"}) || weird.Columns[0].Nullable || !weird.Columns[2].Nullable {
		t.Errorf("columns = %+v", weird.Columns)
	}

	uk := tables[2]
	if len(uk.PrimaryKey) != 0 || !reflect.DeepEqual(uk.UniqueKeys, [][]string{{"code"}, {"maybe"}}) {
		t.Errorf("uk: primary %q unique %q (NOT NULL unique keys first, no plain indexes)", uk.PrimaryKey, uk.UniqueKeys)
	}
	if !reflect.DeepEqual(uk.Key(), []string{"code"}) {
		t.Errorf("uk.Key() = %q", uk.Key())
	}
	if nopk := tables[0]; len(nopk.PrimaryKey) != 0 || len(nopk.UniqueKeys) != 0 || nopk.RowsEstimate != 3 || nopk.BytesEstimate <= 0 {
		t.Errorf("nopk: keys %q %q, estimates %d rows %d bytes", nopk.PrimaryKey, nopk.UniqueKeys, nopk.RowsEstimate, nopk.BytesEstimate)
	}
	if p := tables[1]; len(p.UniqueKeys) != 0 {
		t.Errorf("a unique prefix index is not a row key: %q", p.UniqueKeys)
	}

	// Server level: every user database, no system ones.
	all := openConn(t, my, "", connector.RoleSource, nil)
	schemas, err = all.Schemas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(schemas, db) || !slices.Contains(schemas, other) || slices.Contains(schemas, "mysql") ||
		slices.Contains(schemas, "information_schema") || slices.Contains(schemas, "performance_schema") || slices.Contains(schemas, "sys") {
		t.Errorf("server-level Schemas = %q", schemas)
	}
	findTable(t, all, other, "elsewhere")

	// Quoted names read back.
	my.Exec(t, db, "INSERT INTO `we``ird name` VALUES (1, 'k', 'v')")
	rows := readAll(t, c, &connector.ReadRequest{Table: weird, OrderBy: weird.PrimaryKey,
		Filters: []record.Filter{{Column: "select", Conditions: []record.Condition{{Op: "eq", Value: "1"}}}}})
	if len(rows) != 1 || rows[0][1] != "k" {
		t.Errorf("rows of the quoted table = %v", rows)
	}
}
