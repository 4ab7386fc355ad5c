package postgres_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/postgres"
	"github.com/godwit-dms/godwit/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// endpoint is the server's superuser on db.
func endpoint(pg *testenv.PGServer, db string, role connector.Role) connector.Endpoint {
	return connector.Endpoint{
		Engine: "postgres", Role: role,
		Host: pg.Host, Port: pg.Port, Database: db,
		Username: pg.User, Password: pg.Password,
		SSLMode: "none",
	}
}

func check(t *testing.T, ep connector.Endpoint) (*connector.CheckReport, error) {
	t.Helper()
	return checkWithin(t, ep, 30*time.Second)
}

func checkWithin(t *testing.T, ep connector.Endpoint, timeout time.Duration) (*connector.CheckReport, error) {
	t.Helper()
	c, err := postgres.New(ep)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.(connector.ConnectionChecker).CheckConnection(ctx)
}

// wantOK fails unless the check succeeded; it returns the report.
func wantOK(t *testing.T, ep connector.Endpoint) *connector.CheckReport {
	t.Helper()
	r, err := check(t, ep)
	if err != nil {
		t.Fatalf("CheckConnection: %v", err)
	}
	if !strings.HasPrefix(r.ServerVersion, "PostgreSQL ") {
		t.Errorf("ServerVersion = %q", r.ServerVersion)
	}
	return r
}

// wantStage fails unless err is a *CheckError at stage whose message
// contains every want, and neither it nor its cause mentions password.
func wantStage(t *testing.T, err error, password string, stage connector.Stage, want ...string) *connector.CheckError {
	t.Helper()
	var ce *connector.CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v (%T), want a *connector.CheckError", err, err)
	}
	if ce.Stage != stage {
		t.Errorf("stage = %q, want %q; message: %s", ce.Stage, stage, ce.Message)
	}
	for _, w := range want {
		if !strings.Contains(ce.Message, w) {
			t.Errorf("message %q does not contain %q", ce.Message, w)
		}
	}
	if password != "" {
		if strings.Contains(err.Error(), password) || (ce.Err != nil && strings.Contains(ce.Err.Error(), password)) {
			t.Errorf("error mentions the password: %v / %v", err, ce.Err)
		}
	}
	t.Logf("%s", err)
	return ce
}

// newRole creates a login role with a password, dropped when the test ends.
func newRole(t *testing.T, pg *testenv.PGServer, db, name, password string, attrs ...string) {
	t.Helper()
	pg.Exec(t, db, "CREATE ROLE "+name+" LOGIN PASSWORD '"+password+"' "+strings.Join(attrs, " "))
	t.Cleanup(func() {
		pg.Exec(t, db, "DROP OWNED BY "+name)
		pg.Exec(t, "postgres", "DROP ROLE "+name)
	})
}

func TestCheckSuccess(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, "CREATE TABLE items (id int PRIMARY KEY, name text)", "CREATE SCHEMA sales", "CREATE TABLE sales.orders (id int PRIMARY KEY)")

	for _, tc := range []struct {
		name string
		mode string
		ca   bool
	}{
		{"none", "none", false},
		{"default", "", false},
		{"require", "require", false},
		{"verify-ca", "verify-ca", true},
		{"verify-full", "verify-full", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, role := range []connector.Role{connector.RoleSource, connector.RoleTarget} {
				ep := endpoint(pg, db, role)
				ep.SSLMode = tc.mode
				if tc.ca {
					ep.CACertPEM = pg.CACertPEM
				}
				ep.WantCDC = role == connector.RoleSource
				r := wantOK(t, ep)
				if len(r.Warnings) != 0 {
					t.Errorf("%s: warnings %q, want none (wal_level is logical, slots are free)", role, r.Warnings)
				}
			}
		})
	}
}

func TestCheckSettingsFillEndpoint(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	ep := connector.Endpoint{
		Engine: "postgres", Role: connector.RoleSource, Password: pg.Password,
		Settings: map[string]any{
			"ServerName": pg.Host, "Port": float64(pg.Port), "DatabaseName": db, "Username": pg.User,
		},
	}
	wantOK(t, ep)
}

func TestPing(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	c, err := postgres.New(endpoint(pg, db, connector.RoleSource))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 2 {
		if err := c.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx); !errors.Is(err, postgres.ErrClosed) {
		t.Fatalf("Ping after Close = %v, want ErrClosed", err)
	}

	ep := endpoint(pg, db, connector.RoleSource)
	ep.Password = "Wr0ng-Passw0rd-77"
	c2, _ := postgres.New(ep)
	defer c2.Close()
	wantStage(t, c2.Ping(ctx), ep.Password, connector.StageAuth, "authentication failed")
}

func TestCheckWrongPassword(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	ep := endpoint(pg, db, connector.RoleSource)
	ep.Password = "Wr0ng-Passw0rd-77"
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StageAuth, `authentication failed for user "`+pg.User+`"`)
	wantStage(t, err, pg.Password, connector.StageAuth)
}

func TestCheckClosedPort(t *testing.T) {
	pg := testenv.Postgres(t)
	ep := endpoint(pg, "postgres", connector.RoleSource)
	ep.Port = testenv.ClosedPort(t)
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StageTCP, "connection refused", net.JoinHostPort(pg.Host, strconv.Itoa(ep.Port)))
}

func TestCheckUnresolvableHost(t *testing.T) {
	pg := testenv.Postgres(t)
	ep := endpoint(pg, "postgres", connector.RoleSource)
	ep.Host = "no-such-host.invalid"
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StageDNS, `"no-such-host.invalid"`)
}

func TestCheckMissingDatabase(t *testing.T) {
	pg := testenv.Postgres(t)
	ep := endpoint(pg, "no_such_database_here", connector.RoleSource)
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StageDatabase, `database "no_such_database_here" does not exist`)
}

func TestCheckMissingConfig(t *testing.T) {
	pg := testenv.Postgres(t)
	for name, mutate := range map[string]func(*connector.Endpoint){
		"no database": func(ep *connector.Endpoint) { ep.Database = "" },
		"no host":     func(ep *connector.Endpoint) { ep.Host = "" },
		"bad sslmode": func(ep *connector.Endpoint) { ep.SSLMode = "sometimes" },
		"bad CA":      func(ep *connector.Endpoint) { ep.SSLMode = "verify-ca"; ep.CACertPEM = []byte("not a pem") },
	} {
		t.Run(name, func(t *testing.T) {
			ep := endpoint(pg, "postgres", connector.RoleSource)
			mutate(&ep)
			c, err := postgres.New(ep)
			if err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_, err = c.(connector.ConnectionChecker).CheckConnection(ctx)
				c.Close()
			}
			wantStage(t, err, ep.Password, connector.StageConfig)
		})
	}
}

func TestCheckServerRequiresTLS(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t, testenv.RequireTLS())

	ep := endpoint(pg, db, connector.RoleSource)
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StageTLS, "requires TLS", "SslMode")

	ep.SSLMode = "require"
	wantOK(t, ep)

	// A wrong password over plain TCP is still reported as the TLS
	// requirement: pg_hba rejects before the password is checked.
	ep.SSLMode, ep.Password = "none", "Wr0ng-Passw0rd-77"
	_, err = check(t, ep)
	wantStage(t, err, ep.Password, connector.StageTLS, "SslMode")
}

func TestCheckUntrustedCertificate(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	for _, mode := range []string{"verify-full", "verify-ca"} {
		ep := endpoint(pg, db, connector.RoleSource)
		ep.SSLMode = mode
		_, err := check(t, ep)
		wantStage(t, err, ep.Password, connector.StageTLS, "not trusted", "ImportCertificate", "CertificateArn")
	}
}

func TestCheckSourceWithoutSelect(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db,
		"CREATE TABLE readable (id int)", "CREATE TABLE secret (id int)",
		"CREATE SCHEMA hidden", "CREATE TABLE hidden.stash (id int)")
	user := db + "_reader"
	newRole(t, pg, db, user, "reader-pw-123")
	pg.Exec(t, db, "GRANT SELECT ON readable TO "+user, "GRANT SELECT ON hidden.stash TO "+user)

	ep := endpoint(pg, db, connector.RoleSource)
	ep.Username, ep.Password = user, "reader-pw-123"
	_, err := check(t, ep)
	ce := wantStage(t, err, ep.Password, connector.StagePrivileges, "cannot read 2 tables", "public.secret", "hidden.stash (no USAGE on schema hidden)")
	if strings.Contains(ce.Message, "readable") {
		t.Errorf("message names a readable table: %s", ce.Message)
	}

	pg.Exec(t, db, "GRANT SELECT ON secret TO "+user, "GRANT USAGE ON SCHEMA hidden TO "+user)
	wantOK(t, ep)
}

func TestCheckCDCSourceWithoutReplication(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY)")
	user := db + "_cdc"
	newRole(t, pg, db, user, "cdc-pw-123")
	pg.Exec(t, db, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO "+user)

	ep := endpoint(pg, db, connector.RoleSource)
	ep.Username, ep.Password = user, "cdc-pw-123"
	wantOK(t, ep) // full load only: no replication needed

	ep.WantCDC = true
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StagePrivileges, "REPLICATION", "ALTER ROLE")

	pg.Exec(t, "postgres", "ALTER ROLE "+user+" WITH REPLICATION")
	wantOK(t, ep)
}

func TestCheckTargetWithoutCreate(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, "CREATE TABLE existing (id int)")
	user := db + "_writer"
	newRole(t, pg, db, user, "writer-pw-123")

	ep := endpoint(pg, db, connector.RoleTarget)
	ep.Username, ep.Password = user, "writer-pw-123"
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StagePrivileges, "cannot create tables", "GRANT CREATE ON DATABASE")

	// CREATE on the schema only: usable, with warnings about creating
	// schemas and the existing table it cannot write.
	pg.Exec(t, db, "GRANT CREATE ON SCHEMA public TO "+user)
	r := wantOK(t, ep)
	if len(r.Warnings) != 2 || !strings.Contains(r.Warnings[0], "CREATE privilege on database") || !strings.Contains(r.Warnings[1], "public.existing") {
		t.Errorf("warnings = %q", r.Warnings)
	}

	pg.Exec(t, db, "GRANT CREATE ON DATABASE "+db+" TO "+user, "GRANT INSERT, UPDATE, DELETE ON existing TO "+user)
	if r := wantOK(t, ep); len(r.Warnings) != 0 {
		t.Errorf("warnings = %q, want none", r.Warnings)
	}
}

func TestCheckCDCWarnings(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	ep := endpoint(pg, db, connector.RoleSource)
	ep.WantCDC = true
	if r := wantOK(t, ep); len(r.Warnings) != 0 {
		t.Fatalf("warnings = %q, want none", r.Warnings)
	}

	ep.Settings = map[string]any{"SlotName": "godwit_missing_slot"}
	r := wantOK(t, ep)
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], `replication slot "godwit_missing_slot" (SlotName) does not exist`) {
		t.Errorf("warnings = %q", r.Warnings)
	}

	slot := db + "_slot"
	pg.Exec(t, db, "SELECT pg_create_logical_replication_slot('"+slot+"', 'test_decoding')")
	t.Cleanup(func() { pg.Exec(t, db, "SELECT pg_drop_replication_slot('"+slot+"')") })
	ep.Settings = map[string]any{"SlotName": slot, "PluginName": "pgoutput"}
	r = wantOK(t, ep)
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], `uses plugin "test_decoding"`) {
		t.Errorf("warnings = %q", r.Warnings)
	}
	ep.Settings = map[string]any{"SlotName": slot, "PluginName": "test-decoding"}
	if r := wantOK(t, ep); len(r.Warnings) != 0 {
		t.Errorf("warnings = %q, want none", r.Warnings)
	}
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

func TestCheckBoundedByContext(t *testing.T) {
	port := silentServer(t)
	for mode, stage := range map[string]connector.Stage{"none": connector.StageAuth, "require": connector.StageTLS} {
		ep := connector.Endpoint{Engine: "postgres", Role: connector.RoleSource, Host: "127.0.0.1", Port: port,
			Database: "db", Username: "u", Password: "secret-pw-1", SSLMode: mode}
		began := time.Now()
		_, err := checkWithin(t, ep, 300*time.Millisecond)
		if d := time.Since(began); d > 5*time.Second {
			t.Errorf("%s: check took %s after a 300ms timeout", mode, d)
		}
		wantStage(t, err, ep.Password, stage, "t")
		if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "timed out") {
			t.Errorf("%s: error %v does not say it timed out", mode, err)
		}
	}
}

func TestCheckNoConnectPrivilege(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	user := db + "_nc"
	newRole(t, pg, db, user, "nc-pw-123")
	pg.Exec(t, db, "REVOKE CONNECT ON DATABASE "+db+" FROM PUBLIC")
	ep := endpoint(pg, db, connector.RoleSource)
	ep.Username, ep.Password = user, "nc-pw-123"
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StagePrivileges, "may not connect to database", "GRANT CONNECT ON DATABASE")
}

func TestCheckServerWithoutTLS(t *testing.T) {
	// A server that answers SSLRequest with 'N', as PostgreSQL does with ssl = off.
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				var req [8]byte
				if _, err := io.ReadFull(c, req[:]); err == nil {
					c.Write([]byte{'N'})
				}
				io.Copy(io.Discard, c)
			}()
		}
	}()
	ep := connector.Endpoint{Engine: "postgres", Role: connector.RoleSource, Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port,
		Database: "db", Username: "u", Password: "secret-pw-1", SSLMode: "verify-full"}
	_, err = check(t, ep)
	wantStage(t, err, ep.Password, connector.StageTLS, "does not support TLS", "SslMode is verify-full")
}

func TestCheckAfterConnectScriptFails(t *testing.T) {
	pg := testenv.Postgres(t)
	ep := endpoint(pg, pg.NewDatabase(t), connector.RoleTarget)
	ep.Settings = map[string]any{"AfterConnectScript": "SET no_such_setting = 1"}
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StageConfig, "AfterConnectScript failed", "no_such_setting")
}

// Settings Godwit keeps without acting on them are warnings of a
// connection that works; AuthenticationMethod iam is refused.
func TestCheckIgnoredSettings(t *testing.T) {
	pg := testenv.Postgres(t)
	ep := endpoint(pg, pg.NewDatabase(t), connector.RoleTarget)
	ep.Settings = map[string]any{"ExecuteTimeout": float64(30), "MapBooleanAsBoolean": true}
	ep.ExtraConnectionAttributes = "trimSpaceInChar=false"
	report := wantOK(t, ep)
	if miss := testenv.Missing(report.Warnings, "PostgreSQLSettings.ExecuteTimeout has no effect", "PostgreSQLSettings.MapBooleanAsBoolean has no effect",
		"PostgreSQLSettings.TrimSpaceInChar has no effect"); len(miss) > 0 {
		t.Errorf("warnings %q lack %q", report.Warnings, miss)
	}

	ep.Settings = map[string]any{"AuthenticationMethod": "iam"}
	_, err := postgres.New(ep)
	wantStage(t, err, ep.Password, connector.StageConfig, "AuthenticationMethod iam")
}
