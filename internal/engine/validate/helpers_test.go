package validate_test

import (
	"context"
	"database/sql"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/mysql"
	"github.com/godwit-dms/godwit/internal/connector/postgres"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/engine/validate"
	"github.com/godwit-dms/godwit/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// selectAll is a mapping that selects every table of schema public.
const selectAll = `{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1",
	"object-locator":{"schema-name":"public","table-name":"%"},"rule-action":"include"}]}`

func pgEndpoint(pg *testenv.PGServer, db string, role connector.Role) connector.Endpoint {
	return connector.Endpoint{Engine: "postgres", Role: role, Host: pg.Host, Port: pg.Port, Database: db,
		Username: pg.User, Password: pg.Password, SSLMode: "none"}
}

func openPG(t testing.TB, pg *testenv.PGServer, db string, role connector.Role) *postgres.Conn {
	t.Helper()
	c, err := postgres.New(pgEndpoint(pg, db, role))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*postgres.Conn)
}

func openMy(t testing.TB, my *testenv.MySQLServer, db string, role connector.Role) *mysql.Conn {
	t.Helper()
	c, err := mysql.New(connector.Endpoint{Engine: "mariadb", Role: role, Host: my.Host, Port: my.Port, Database: db,
		Username: my.User, Password: my.Password, SSLMode: "none"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*mysql.Conn)
}

// plan discovers schema.name on the source and plans it with rules.
func plan(t testing.TB, src connector.SchemaReader, rules, schema, name string) *mapping.TablePlan {
	t.Helper()
	tables, err := src.Tables(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Parse(rules)
	if err != nil {
		t.Fatal(err)
	}
	plans, err := m.Plan(tables)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plans {
		if p.Source.Schema == schema && p.Source.Name == name {
			return p
		}
	}
	t.Fatalf("no plan for %s.%s", schema, name)
	return nil
}

// settings are DMS's default validation settings, changed by fn.
func settings(t testing.TB, fn func(s *tasksettings.ValidationSettings)) tasksettings.ValidationSettings {
	t.Helper()
	s, _, err := tasksettings.Parse(`{"ValidationSettings":{"EnableValidation":true}}`, true)
	if err != nil {
		t.Fatal(err)
	}
	v := s.ValidationSettings
	if fn != nil {
		fn(&v)
	}
	return v
}

// pgPair is a PostgreSQL source and target database with the same DDL.
type pgPair struct {
	pg       *testenv.PGServer
	srcDB    string
	tgtDB    string
	src, tgt *postgres.Conn
}

func newPGPair(t testing.TB, ddl ...string) *pgPair {
	t.Helper()
	pg := testenv.Postgres(t)
	p := &pgPair{pg: pg, srcDB: pg.NewDatabase(t), tgtDB: pg.NewDatabase(t)}
	if len(ddl) > 0 {
		pg.Exec(t, p.srcDB, ddl...)
		pg.Exec(t, p.tgtDB, ddl...)
	}
	p.src = openPG(t, pg, p.srcDB, connector.RoleSource)
	p.tgt = openPG(t, pg, p.tgtDB, connector.RoleTarget)
	return p
}

// job is a validation of public.name from the source to the target.
func (p *pgPair) job(t testing.TB, name string, fn func(s *tasksettings.ValidationSettings)) *validate.Job {
	t.Helper()
	pl := plan(t, p.src, selectAll, "public", name)
	return &validate.Job{Source: p.src, Target: p.tgt, Plan: pl, TargetTable: pl.Target,
		Settings: settings(t, fn), TaskName: "TASKRESOURCEID"}
}

// failureRow is a row of awsdms_validation_failures_v1.
type failureRow struct {
	Task, Owner, Table, KeyType, Key, Type, Details string
	Time                                            time.Time
}

// pgFailures reads the failures table of a PostgreSQL target.
func pgFailures(t testing.TB, pg *testenv.PGServer, db, schema string) []failureRow {
	t.Helper()
	ctx := testCtx(t)
	conn, err := pgx.Connect(ctx, pg.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT task_name, table_owner, table_name, key_type, key, failure_type, details, failure_time
		FROM `+pgx.Identifier{schema, "awsdms_validation_failures_v1"}.Sanitize()+` ORDER BY key, failure_type`)
	if err != nil {
		t.Fatal(err)
	}
	var out []failureRow
	for rows.Next() {
		var f failureRow
		if err := rows.Scan(&f.Task, &f.Owner, &f.Table, &f.KeyType, &f.Key, &f.Type, &f.Details, &f.Time); err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// pgTableExists reports whether schema.name exists in db.
func pgTableExists(t testing.TB, pg *testenv.PGServer, db, schema, name string) bool {
	t.Helper()
	ctx := testCtx(t)
	conn, err := pgx.Connect(ctx, pg.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", schema+"."+name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// myClient is a plain client on a MariaDB database.
func myClient(t testing.TB, my *testenv.MySQLServer, db string) *sql.DB {
	t.Helper()
	cfg, err := gomysql.ParseDSN(my.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	c, err := gomysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := sql.OpenDB(c)
	t.Cleanup(func() { d.Close() })
	return d
}

// failureSummary is "KEY FAILURE_TYPE" per failure, sorted, for comparing.
func failureSummary(fs []failureRow) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Key+" "+f.Type)
	}
	slices.Sort(out)
	return out
}

func checkResult(t testing.TB, got validate.Result, err error, want validate.Result) {
	t.Helper()
	if err != nil {
		t.Fatalf("validation error: %v", err)
	}
	if got.State != want.State || got.Compared != want.Compared || got.Failed != want.Failed || got.Suspended != want.Suspended || got.Pending != want.Pending {
		t.Fatalf("result = %+v\nwant     %+v", got, want)
	}
}

func findFailure(t testing.TB, fs []failureRow, key string) failureRow {
	t.Helper()
	for _, f := range fs {
		if f.Key == key {
			return f
		}
	}
	t.Fatalf("no failure with KEY %s in %v", key, failureSummary(fs))
	return failureRow{}
}

func mustContain(t testing.TB, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%q does not contain %q", s, sub)
		}
	}
}
