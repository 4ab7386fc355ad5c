package assess_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/mysql"
	"github.com/godwit-dms/godwit/internal/connector/postgres"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/engine/assess"
	"github.com/godwit-dms/godwit/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// pgConn opens a PostgreSQL connector on db as user (the superuser when "").
func pgConn(t testing.TB, pg *testenv.PGServer, db string, role connector.Role, user, password string) connector.Conn {
	t.Helper()
	if user == "" {
		user, password = pg.User, pg.Password
	}
	c, err := postgres.New(connector.Endpoint{Engine: "postgres", Role: role, Host: pg.Host, Port: pg.Port,
		Database: db, Username: user, Password: password, SSLMode: "none"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// myConn opens a MariaDB connector; a target sends every table to db
// (TargetDbType specific-database).
func myConn(t testing.TB, my *testenv.MySQLServer, db string, role connector.Role, user, password string) connector.Conn {
	t.Helper()
	if user == "" {
		user, password = my.User, my.Password
	}
	ep := connector.Endpoint{Engine: "mariadb", Role: role, Host: my.Host, Port: my.Port,
		Database: db, Username: user, Password: password, SSLMode: "none"}
	if role == connector.RoleTarget {
		ep.Settings = map[string]any{"TargetDbType": "specific-database"}
	}
	c, err := mysql.New(ep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// task describes the Env of a test.
type task struct {
	source, target       connector.Conn
	srcEngine, tgtEngine string
	migrationType        string
	mappings             string // "" selects every table of schema
	schema               string
	settings             string
	discover             connector.Conn // reads the source's tables; source when nil
}

func family(engine string) string {
	switch engine {
	case "postgres":
		return "postgres"
	case "mariadb", "mysql":
		return "mysql"
	}
	return engine
}

// env builds the Env of a task the way the engine does: the source's
// tables, the mappings' plans, the settings merged over DMS's defaults.
func env(t testing.TB, tk task) *assess.Env {
	t.Helper()
	if tk.migrationType == "" {
		tk.migrationType = "full-load-and-cdc"
	}
	if tk.mappings == "" {
		tk.mappings = fmt.Sprintf(`{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":%q,"table-name":"%%"},"rule-action":"include"}]}`, tk.schema)
	}
	maps, err := mapping.Parse(tk.mappings)
	if err != nil {
		t.Fatal(err)
	}
	settings, _, err := tasksettings.Parse(tk.settings, false)
	if err != nil {
		t.Fatal(err)
	}
	disc := tk.discover
	if disc == nil {
		disc = tk.source
	}
	tables, err := disc.(connector.SchemaReader).Tables(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	plans, err := maps.Plan(tables)
	if err != nil {
		t.Fatal(err)
	}
	return &assess.Env{Source: tk.source, Target: tk.target, SourceEngine: tk.srcEngine, TargetEngine: tk.tgtEngine,
		SourceFamily: family(tk.srcEngine), TargetFamily: family(tk.tgtEngine), MigrationType: tk.migrationType,
		Settings: settings, Mappings: maps, Tables: tables, Plans: plans}
}

// run runs the named check of Default, which must apply to the Env's task.
func run(t testing.TB, name string, e *assess.Env) assess.Result {
	t.Helper()
	res, err := tryRun(t, name, e)
	if err != nil {
		t.Fatalf("%s could not run: %v", name, err)
	}
	t.Logf("%s: %s: %s | looked at: %s | action: %s | objects: %q", name, res.Status, res.Details, res.LookedAt, res.Action, res.Objects)
	return res
}

func tryRun(t testing.TB, name string, e *assess.Env) (assess.Result, error) {
	t.Helper()
	c, ok := assess.Default().Get(name)
	if !ok {
		t.Fatalf("no check %s", name)
	}
	if !c.Applies(e.SourceEngine, e.TargetEngine, e.MigrationType) {
		t.Fatalf("%s does not apply to %s → %s %s", name, e.SourceEngine, e.TargetEngine, e.MigrationType)
	}
	return c.Run(testCtx(t), e)
}

// expect runs the check and wants status; every object in want must be
// named by one of the result's objects.
func expect(t testing.TB, name string, e *assess.Env, status string, want ...string) assess.Result {
	t.Helper()
	res := run(t, name, e)
	if res.Status != status {
		t.Errorf("%s: status %s, want %s (%s)", name, res.Status, status, res.Details)
	}
	if res.Details == "" || res.LookedAt == "" {
		t.Errorf("%s: empty Details or LookedAt: %+v", name, res)
	}
	if (res.Status == assess.Failed || res.Status == assess.Warning) && res.Action == "" {
		t.Errorf("%s: %s without an Action", name, res.Status)
	}
	for _, w := range want {
		found := false
		for _, o := range res.Objects {
			if strings.Contains(o, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no object names %q: %q", name, w, res.Objects)
		}
	}
	return res
}

// notNamed fails when an object of res names s.
func notNamed(t testing.TB, name string, res assess.Result, s string) {
	t.Helper()
	for _, o := range res.Objects {
		if strings.Contains(o, s) {
			t.Errorf("%s: object %q should not be reported", name, o)
		}
	}
}

// pgRole creates a login role, dropped (with what it owns and was granted
// in dbs) at the end of the test.
func pgRole(t testing.TB, pg *testenv.PGServer, name, password string, dbs ...string) {
	t.Helper()
	pg.Exec(t, "postgres", fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", name, password))
	t.Cleanup(func() {
		for _, db := range dbs {
			pg.Exec(t, db, "DROP OWNED BY "+name)
		}
		pg.Exec(t, "postgres", "DROP ROLE "+name)
	})
}

// myUser creates a MariaDB user, dropped at the end of the test.
func myUser(t testing.TB, my *testenv.MySQLServer, name, password string, grants ...string) {
	t.Helper()
	my.Exec(t, "", fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", name, password))
	t.Cleanup(func() { my.Exec(t, "", fmt.Sprintf("DROP USER '%s'@'%%'", name)) })
	for _, g := range grants {
		my.Exec(t, "", fmt.Sprintf(g, "'"+name+"'@'%'"))
	}
}

// fakeConn is an endpoint that is not a SQL database.
type fakeConn struct{}

func (fakeConn) Ping(context.Context) error { return nil }
func (fakeConn) Close() error               { return nil }
