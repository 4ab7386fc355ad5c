package mysql_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/mysql"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

func simpleTable(schema, name string) *record.Table {
	return &record.Table{Schema: schema, Name: name, PrimaryKey: []string{"id"}, Columns: []record.Column{
		{Name: "id", Type: record.Type{Kind: record.KindInt64}},
		{Name: "v", Type: record.Type{Kind: record.KindString, Length: 10}, Nullable: true},
	}}
}

func TestPrepareTableModes(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	fresh := db + "_new" // created by PrepareTable
	t.Cleanup(func() { my.Exec(t, "", "DROP DATABASE IF EXISTS "+fresh) })
	target := openConn(t, my, "", connector.RoleTarget, nil)
	if target.Family() != "mysql" || target.DefaultSchema() != "" {
		t.Errorf("dialect %q %q", target.Family(), target.DefaultSchema())
	}
	ctx := testCtx(t)
	admin := clientDB(t, my, "")
	count := func(schema, table string) string {
		return queryStrings(t, admin, fmt.Sprintf("SELECT COUNT(*) FROM `%s`.`%s`", schema, table))[0][0]
	}
	tb := simpleTable(fresh, "t")
	for _, prep := range []connector.TablePrep{connector.PrepDoNothing, connector.PrepTruncate, connector.PrepDropAndCreate} {
		name := "created by " + string(prep)
		tb := simpleTable(fresh, name)
		if err := target.PrepareTable(ctx, tb, prep, false); err != nil {
			t.Fatalf("%s on a missing table: %v", prep, err)
		}
		if got := count(fresh, name); got != "0" {
			t.Errorf("%s: %s rows", prep, got)
		}
	}
	got := queryStrings(t, admin, "SELECT ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'created by DO_NOTHING'", fresh)
	if fmt.Sprint(got) != "[[InnoDB utf8mb4_general_ci]]" {
		t.Errorf("engine and charset: %v", got)
	}

	if err := target.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	if err := target.Load(ctx, tb, []record.Row{{int64(1), "a"}, {int64(2), "b"}}); err != nil {
		t.Fatal(err)
	}
	if err := target.PrepareTable(ctx, tb, connector.PrepDoNothing, false); err != nil {
		t.Fatal(err)
	}
	if got := count(fresh, "t"); got != "2" {
		t.Errorf("DO_NOTHING kept %s rows, want 2", got)
	}
	if err := target.PrepareTable(ctx, tb, connector.PrepTruncate, false); err != nil {
		t.Fatal(err)
	}
	if got := count(fresh, "t"); got != "0" {
		t.Errorf("TRUNCATE_BEFORE_LOAD left %s rows", got)
	}
	if err := target.Load(ctx, tb, []record.Row{{int64(1), "a"}}); err != nil {
		t.Fatal(err)
	}
	// DROP_AND_CREATE takes the new shape.
	tb.Columns = append(tb.Columns, record.Column{Name: "added", Type: record.Type{Kind: record.KindDate}, Nullable: true})
	if err := target.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	if got := count(fresh, "t"); got != "0" {
		t.Errorf("DROP_AND_CREATE left %s rows", got)
	}
	if err := target.Load(ctx, tb, []record.Row{{int64(1), "a", nil}}); err != nil {
		t.Fatalf("load into the re-created table: %v", err)
	}

	// TRUNCATE of a table a foreign key references falls back to DELETE.
	my.Exec(t, fresh, "CREATE TABLE child (id int PRIMARY KEY, p bigint, FOREIGN KEY (p) REFERENCES t (id))")
	if err := target.PrepareTable(ctx, tb, connector.PrepTruncate, false); err != nil {
		t.Errorf("TRUNCATE_BEFORE_LOAD of a referenced table: %v", err)
	}
	if got := count(fresh, "t"); got != "0" {
		t.Errorf("TRUNCATE_BEFORE_LOAD left %s rows", got)
	}

	// Types are fitted into InnoDB's limits: a 3072-byte key, a 65,535-byte row.
	wide := &record.Table{Schema: fresh, Name: "wide", PrimaryKey: []string{"k1", "k2"}, UniqueKeys: [][]string{{"u"}}}
	for _, n := range []string{"k1", "k2", "u", "w1", "w2", "w3", "w4", "w5"} {
		wide.Columns = append(wide.Columns, record.Column{Name: n, Type: record.Type{Kind: record.KindString, Length: 10000, Engine: "postgres"}})
	}
	if err := target.PrepareTable(ctx, wide, connector.PrepDropAndCreate, false); err != nil {
		t.Fatalf("a table beyond InnoDB's limits: %v", err)
	}
	long := strings.Repeat("é", 5000)
	if err := target.Load(ctx, wide, []record.Row{{"a", "b", "c", long, long, long, long, long}}); err != nil {
		t.Fatal(err)
	}

	if err := target.PrepareTable(ctx, tb, "SOMETHING", false); !errors.Is(err, mysql.ErrUnsupported) {
		t.Errorf("unknown mode: %v", err)
	}
}

// With TargetDbType specific-database every table goes to DatabaseName;
// by default (multiple-databases) each source schema is a database.
func TestTargetDbType(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	other := my.NewDatabase(t)
	ctx := testCtx(t)
	admin := clientDB(t, my, "")

	specific := openConn(t, my, db, connector.RoleTarget, map[string]any{"TargetDbType": "specific-database"})
	tb := simpleTable("some_source_schema", "t1")
	if err := specific.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	if err := specific.Load(ctx, tb, []record.Row{{int64(1), "x"}}); err != nil {
		t.Fatal(err)
	}
	if got := queryStrings(t, admin, "SELECT v FROM "+db+".t1"); fmt.Sprint(got) != "[[x]]" {
		t.Errorf("specific-database: %v", got)
	}

	multiple := openConn(t, my, db, connector.RoleTarget, nil)
	tb = simpleTable(other, "t2")
	if err := multiple.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	if err := multiple.Load(ctx, tb, []record.Row{{int64(2), "y"}}); err != nil {
		t.Fatal(err)
	}
	if got := queryStrings(t, admin, "SELECT v FROM "+other+".t2"); fmt.Sprint(got) != "[[y]]" {
		t.Errorf("multiple-databases: %v", got)
	}
}

func TestDeleteRange(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	target := openConn(t, my, "", connector.RoleTarget, nil)
	ctx := testCtx(t)
	tb := &record.Table{Schema: db, Name: "seg", PrimaryKey: []string{"a", "b"}, Columns: []record.Column{
		{Name: "a", Type: record.Type{Kind: record.KindString, Length: 5}},
		{Name: "b", Type: record.Type{Kind: record.KindInt32}},
	}}
	if err := target.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	var rows []record.Row
	for _, a := range []string{"x", "y", "z"} {
		for b := range 4 {
			rows = append(rows, record.Row{a, int64(b)})
		}
	}
	if err := target.Load(ctx, tb, rows); err != nil {
		t.Fatal(err)
	}
	cnt := clientDB(t, my, db)
	left := func() string {
		var out []string
		for _, r := range queryStrings(t, cnt, "SELECT CONCAT(a, b) FROM seg ORDER BY a, b") {
			out = append(out, r[0])
		}
		return fmt.Sprint(out)
	}
	if err := target.DeleteRange(ctx, tb, &record.Range{Columns: []string{"a", "b"}, From: record.Row{"x", int64(2)}, To: record.Row{"y", int64(3)}}); err != nil {
		t.Fatal(err)
	}
	if got := left(); got != "[x0 x1 y3 z0 z1 z2 z3]" {
		t.Errorf("after deleting [x2, y3): %s", got)
	}
	if err := target.DeleteRange(ctx, tb, &record.Range{Columns: []string{"a"}, From: record.Row{"z"}}); err != nil {
		t.Fatal(err)
	}
	if got := left(); got != "[x0 x1 y3]" {
		t.Errorf("after deleting [z, ): %s", got)
	}
	if err := target.DeleteRange(ctx, tb, nil); err != nil {
		t.Fatal(err)
	}
	if got := left(); got != "[]" {
		t.Errorf("after deleting everything: %s", got)
	}
}

func TestDeferredPrimaryKey(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	target := openConn(t, my, "", connector.RoleTarget, nil)
	ctx := testCtx(t)
	tb := simpleTable(db, "late")
	tb.UniqueKeys = [][]string{{"v"}}
	if err := target.PrepareTable(ctx, tb, connector.PrepDropAndCreate, true); err != nil {
		t.Fatal(err)
	}
	admin := clientDB(t, my, "")
	keys := func() string {
		return fmt.Sprint(queryStrings(t, admin, "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'late' ORDER BY INDEX_NAME", db))
	}
	if got := keys(); got != "[]" {
		t.Errorf("keys before FinishTable: %s", got)
	}
	if err := target.Load(ctx, tb, []record.Row{{int64(1), "a"}, {int64(2), "b"}}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if err := target.FinishTable(ctx, tb, true); err != nil {
			t.Fatal(err)
		}
	}
	if got := keys(); got != "[[PRIMARY id] [uk_1 v]]" {
		t.Errorf("keys after FinishTable: %s", got)
	}
	if err := target.FinishTable(ctx, simpleTable(db, "late"), false); err != nil {
		t.Errorf("FinishTable without deferPK: %v", err)
	}
}
