package mysql_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/mysql"
	"github.com/godwit-dms/godwit/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// endpoint is the server's all-privileges user on db.
func endpoint(my *testenv.MySQLServer, db string, role connector.Role) connector.Endpoint {
	return connector.Endpoint{
		Engine: "mariadb", Role: role,
		Host: my.Host, Port: my.Port, Database: db,
		Username: my.User, Password: my.Password,
		SSLMode: "none",
	}
}

func check(t *testing.T, ep connector.Endpoint) (*connector.CheckReport, error) {
	t.Helper()
	return checkWithin(t, ep, 30*time.Second)
}

func checkWithin(t *testing.T, ep connector.Endpoint, timeout time.Duration) (*connector.CheckReport, error) {
	t.Helper()
	c, err := mysql.New(ep)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.(connector.ConnectionChecker).CheckConnection(ctx)
}

func wantOK(t *testing.T, ep connector.Endpoint) *connector.CheckReport {
	t.Helper()
	r, err := check(t, ep)
	if err != nil {
		t.Fatalf("CheckConnection: %v", err)
	}
	if !strings.HasPrefix(r.ServerVersion, "MariaDB ") {
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

// newUser creates user@'%' with a password (and extra clauses such as
// REQUIRE SSL), dropped when the test ends.
func newUser(t *testing.T, my *testenv.MySQLServer, name, password string, clauses ...string) {
	t.Helper()
	my.Exec(t, "", "CREATE USER '"+name+"'@'%' IDENTIFIED BY '"+password+"' "+strings.Join(clauses, " "))
	t.Cleanup(func() { my.Exec(t, "", "DROP USER '"+name+"'@'%'") })
}

// userName derives a user name (at most 32 characters) from a database name.
func userName(db, suffix string) string {
	name := db
	if len(name) > 24 {
		name = name[len(name)-24:]
	}
	return name + "_" + suffix
}

func TestCheckSuccess(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE items (id int PRIMARY KEY, name text)")

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
				ep := endpoint(my, db, role)
				ep.SSLMode = tc.mode
				if tc.ca {
					ep.CACertPEM = my.CACertPEM
				}
				ep.WantCDC = role == connector.RoleSource
				if r := wantOK(t, ep); len(r.Warnings) != 0 {
					t.Errorf("%s: warnings %q, want none (the test server logs ROW/FULL binlogs)", role, r.Warnings)
				}
			}
		})
	}
}

func TestCheckServerLevel(t *testing.T) {
	my := testenv.MariaDB(t)
	for _, role := range []connector.Role{connector.RoleSource, connector.RoleTarget} {
		wantOK(t, endpoint(my, "", role))
	}
}

func TestCheckSettingsFillEndpoint(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	ep := connector.Endpoint{
		Engine: "mysql", Role: connector.RoleSource, Password: my.Password,
		Settings: map[string]any{
			"ServerName": my.Host, "Port": float64(my.Port), "DatabaseName": db, "Username": my.User,
			"ServerTimezone": "America/New_York", "AfterConnectScript": "SET SESSION sql_mode = 'ANSI_QUOTES'; SET @godwit = 1",
		},
	}
	wantOK(t, ep)
}

func TestCheckAfterConnectScriptFails(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	ep := endpoint(my, db, connector.RoleSource)
	ep.Settings = map[string]any{"AfterConnectScript": "SET SESSION no_such_variable = 1"}
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StageConfig, "AfterConnectScript failed", "no_such_variable")
}

func TestCheckBadConfig(t *testing.T) {
	my := testenv.MariaDB(t)
	for name, mutate := range map[string]func(*connector.Endpoint){
		"bad time zone":    func(ep *connector.Endpoint) { ep.Settings = map[string]any{"ServerTimezone": "Mars/Olympus"} },
		"no user":          func(ep *connector.Endpoint) { ep.Username = "" },
		"bad TargetDbType": func(ep *connector.Endpoint) { ep.Settings = map[string]any{"TargetDbType": "some"} },
		"specific, no db": func(ep *connector.Endpoint) {
			ep.Role, ep.Database = connector.RoleTarget, ""
			ep.Settings = map[string]any{"TargetDbType": "specific-database"}
		},
		"verify-ca bad PEM": func(ep *connector.Endpoint) { ep.SSLMode = "verify-ca"; ep.CACertPEM = []byte("junk") },
	} {
		t.Run(name, func(t *testing.T) {
			ep := endpoint(my, "", connector.RoleSource)
			mutate(&ep)
			_, err := check(t, ep)
			wantStage(t, err, ep.Password, connector.StageConfig)
		})
	}
}

func TestPing(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	c, err := mysql.New(endpoint(my, db, connector.RoleSource))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	c.Close()
	if err := c.Ping(ctx); !errors.Is(err, mysql.ErrClosed) {
		t.Fatalf("Ping after Close = %v, want ErrClosed", err)
	}

	c2, _ := mysql.New(endpoint(my, "no_such_db_here", connector.RoleSource))
	defer c2.Close()
	wantStage(t, c2.Ping(ctx), my.Password, connector.StageDatabase, `database "no_such_db_here" does not exist`)
}

func TestCheckWrongPassword(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	ep := endpoint(my, db, connector.RoleSource)
	ep.Password = "Wr0ng-Passw0rd-77"
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StageAuth, `authentication failed for user "`+my.User+`"`)
	wantStage(t, err, my.Password, connector.StageAuth)
}

func TestCheckClosedPort(t *testing.T) {
	my := testenv.MariaDB(t)
	ep := endpoint(my, "", connector.RoleSource)
	ep.Port = testenv.ClosedPort(t)
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StageTCP, "connection refused", net.JoinHostPort(my.Host, strconv.Itoa(ep.Port)))
}

func TestCheckUnresolvableHost(t *testing.T) {
	my := testenv.MariaDB(t)
	ep := endpoint(my, "", connector.RoleSource)
	ep.Host = "no-such-host.invalid"
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StageDNS, `"no-such-host.invalid"`)
}

func TestCheckMissingDatabase(t *testing.T) {
	my := testenv.MariaDB(t)
	ep := endpoint(my, "no_such_database_here", connector.RoleSource)
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StageDatabase, `database "no_such_database_here" does not exist`)
}

func TestCheckNoPrivilegesOnDatabase(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	user := userName(db, "none")
	newUser(t, my, user, "none-pw-123")
	ep := endpoint(my, db, connector.RoleSource)
	ep.Username, ep.Password = user, "none-pw-123"
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StagePrivileges, "may not use database")
}

func TestCheckUserRequiresTLS(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	user := userName(db, "tls")
	newUser(t, my, user, "tls-pw-123", "REQUIRE SSL")
	my.Exec(t, "", "GRANT ALL ON "+db+".* TO '"+user+"'@'%'")

	ep := endpoint(my, db, connector.RoleTarget)
	ep.Username, ep.Password = user, "tls-pw-123"
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StageTLS, "requires TLS", "SslMode")

	ep.SSLMode = "require"
	wantOK(t, ep)

	ep.SSLMode, ep.Password = "none", "Wr0ng-Passw0rd-77"
	_, err = check(t, ep)
	wantStage(t, err, ep.Password, connector.StageAuth, "authentication failed")
}

func TestCheckUntrustedCertificate(t *testing.T) {
	my := testenv.MariaDB(t)
	for _, mode := range []string{"verify-full", "verify-ca"} {
		ep := endpoint(my, "", connector.RoleSource)
		ep.SSLMode = mode
		_, err := check(t, ep)
		wantStage(t, err, ep.Password, connector.StageTLS, "not trusted", "ImportCertificate", "CertificateArn")
	}
}

func TestCheckSourceWithoutSelect(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE readable (id int)", "CREATE TABLE secret (id int)", "CREATE TABLE partial (id int, x int)")
	user := userName(db, "rd")
	newUser(t, my, user, "reader-pw-123")
	my.Exec(t, "",
		"GRANT SELECT ON "+db+".readable TO '"+user+"'@'%'",
		"GRANT INSERT ON "+db+".secret TO '"+user+"'@'%'",
		"GRANT SELECT (id) ON "+db+".partial TO '"+user+"'@'%'")

	ep := endpoint(my, db, connector.RoleSource)
	ep.Username, ep.Password = user, "reader-pw-123"
	_, err := check(t, ep)
	ce := wantStage(t, err, ep.Password, connector.StagePrivileges, "cannot read 2 tables", db+".partial", db+".secret")
	if strings.Contains(ce.Message, "readable") {
		t.Errorf("message names a readable table: %s", ce.Message)
	}

	// Privileges through a role count.
	role := userName(db, "role")
	my.Exec(t, "", "CREATE ROLE "+role, "GRANT SELECT ON "+db+".* TO "+role,
		"GRANT "+role+" TO '"+user+"'@'%'", "SET DEFAULT ROLE "+role+" FOR '"+user+"'@'%'")
	t.Cleanup(func() { my.Exec(t, "", "DROP ROLE "+role) })
	wantOK(t, ep)
}

func TestCheckCDCSourceWithoutReplication(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY)")
	user := userName(db, "cdc")
	newUser(t, my, user, "cdc-pw-123")
	my.Exec(t, "", "GRANT SELECT ON "+db+".* TO '"+user+"'@'%'")

	ep := endpoint(my, db, connector.RoleSource)
	ep.Username, ep.Password = user, "cdc-pw-123"
	wantOK(t, ep) // full load only

	ep.WantCDC = true
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StagePrivileges, "lacks REPLICATION SLAVE and REPLICATION CLIENT", "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.*")

	my.Exec(t, "", "GRANT REPLICATION SLAVE ON *.* TO '"+user+"'@'%'")
	_, err = check(t, ep)
	wantStage(t, err, ep.Password, connector.StagePrivileges, "lacks REPLICATION CLIENT,")

	my.Exec(t, "", "GRANT REPLICATION CLIENT ON *.* TO '"+user+"'@'%'")
	wantOK(t, ep)
}

func TestCheckTargetWithoutCreate(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	user := userName(db, "wr")
	newUser(t, my, user, "writer-pw-123")
	my.Exec(t, "", "GRANT SELECT, INSERT ON "+db+".* TO '"+user+"'@'%'")

	ep := endpoint(my, db, connector.RoleTarget)
	ep.Username, ep.Password = user, "writer-pw-123"
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StagePrivileges, "cannot create and load tables", "lacks CREATE, DROP")

	my.Exec(t, "", "GRANT CREATE, DROP ON "+db+".* TO '"+user+"'@'%'")
	r := wantOK(t, ep)
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "lacks ALTER, DELETE, INDEX, UPDATE") {
		t.Errorf("warnings = %q", r.Warnings)
	}
}

func TestCheckCDCWarnings(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	ep := endpoint(my, db, connector.RoleSource)
	ep.WantCDC = true
	if r := wantOK(t, ep); len(r.Warnings) != 0 {
		t.Fatalf("warnings = %q, want none", r.Warnings)
	}

	my.Exec(t, "", "SET GLOBAL binlog_row_image = 'MINIMAL'")
	t.Cleanup(func() { my.Exec(t, "", "SET GLOBAL binlog_row_image = 'FULL'") })
	r := wantOK(t, ep)
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "binlog_row_image is MINIMAL but CDC needs FULL") {
		t.Errorf("warnings = %q", r.Warnings)
	}

	// Not a CDC source: the same findings are advice, not failures.
	ep.WantCDC = false
	if r := wantOK(t, ep); len(r.Warnings) != 1 {
		t.Errorf("warnings = %q, want the binlog_row_image advice", r.Warnings)
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
	ep := connector.Endpoint{Engine: "mysql", Role: connector.RoleSource, Host: "127.0.0.1", Port: silentServer(t),
		Username: "u", Password: "secret-pw-1"}
	began := time.Now()
	_, err := checkWithin(t, ep, 300*time.Millisecond)
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("check took %s after a 300ms timeout", d)
	}
	wantStage(t, err, ep.Password, connector.StageAuth, "in time")
}

// Settings Godwit keeps without acting on them are warnings of a
// connection that works; AuthenticationMethod iam is refused.
func TestCheckIgnoredSettings(t *testing.T) {
	my := testenv.MariaDB(t)
	ep := endpoint(my, my.NewDatabase(t), connector.RoleSource)
	ep.Settings = map[string]any{"ExecuteTimeout": float64(30)}
	ep.ExtraConnectionAttributes = "eventsPollInterval=5"
	report := wantOK(t, ep)
	if miss := testenv.Missing(report.Warnings, "MySQLSettings.ExecuteTimeout has no effect", "MySQLSettings.EventsPollInterval has no effect"); len(miss) > 0 {
		t.Errorf("warnings %q lack %q", report.Warnings, miss)
	}

	ep.Settings = map[string]any{"AuthenticationMethod": "iam"}
	_, err := check(t, ep)
	wantStage(t, err, ep.Password, connector.StageConfig, "AuthenticationMethod iam")
}
