package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQLServer is a MariaDB server with a row-based binary log, TLS, and a
// password user with all privileges.
type MySQLServer struct {
	Host           string // "127.0.0.1"
	Port           int
	User, Password string // all privileges WITH GRANT OPTION, from 127.0.0.1 and localhost
	CACertPEM      []byte // CA of the server certificate (CN/SAN localhost, 127.0.0.1)
	DataDir        string

	dir    string // parent of DataDir: config, socket, log, pid file, certificates
	mysqld string // path of the server binary

	lifeMu       sync.Mutex // serialises Start, Stop and teardown
	proc         *process   // nil while stopped
	usersCreated bool
}

// MariaDB returns the shared MariaDB server of this test binary, starting it
// on first use. Without the binaries it skips the test, or fails it when
// CI=true.
func MariaDB(t testing.TB) *MySQLServer {
	t.Helper()
	s, err := myShared.get(func() (*MySQLServer, error) {
		began := time.Now()
		s, err := startMariaDB()
		if err == nil {
			t.Logf("testenv: MariaDB on %s:%d (%s) started in %s", s.Host, s.Port, s.DataDir, time.Since(began).Round(time.Millisecond))
		}
		return s, err
	})
	if err != nil {
		unavailable(t, err)
	}
	return s
}

func startMariaDB() (*MySQLServer, error) {
	mysqld, err := findBinary([]string{"mariadbd", "mysqld"}, "/usr/sbin", "/usr/libexec", "/usr/local/mysql/bin")
	if err != nil {
		return nil, err
	}
	installDB, err := findBinary([]string{"mariadb-install-db", "mysql_install_db"}, "/usr/bin", "/usr/local/mysql/scripts")
	if err != nil {
		return nil, err
	}
	if _, err := serverIdentity(); err != nil { // platform check
		return nil, err
	}
	ca, err := sharedCA()
	if err != nil {
		return nil, err
	}
	dir, err := makeServerDir(myDirPrefix)
	if err != nil {
		return nil, err
	}
	s := &MySQLServer{
		Host:      "127.0.0.1",
		User:      "godwit",
		Password:  randomHex(16),
		CACertPEM: ca.caPEM,
		DataDir:   filepath.Join(dir, "data"),
		dir:       dir,
		mysqld:    mysqld,
	}
	if err := s.initDataDir(installDB, ca); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		if s.Port, err = freePort(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("testenv: %w", err)
		}
		err = s.Start()
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errAddrInUse) || attempt == 3 {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

func (s *MySQLServer) initDataDir(installDB string, ca *authority) error {
	args := []string{"--no-defaults", "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve", "--innodb-log-file-size=16M", "--innodb-buffer-pool-size=32M"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	key := append([]string{binaryKey(installDB), binaryKey(s.mysqld)}, args...)
	tmpl, err := cachedTemplate("my", key, identity{}, func(dir string) error {
		// Own tmpdir: concurrent bootstraps collide on temporary table files in /tmp.
		cmd := exec.Command(installDB, append(args, "--datadir="+filepath.Join(dir, "data"), "--tmpdir="+dir)...)
		cmd.Dir = dir
		return run(cmd, identity{}, filepath.Join(dir, "install-db.log"))
	})
	if err != nil {
		return err
	}
	if err := copyTree(filepath.Join(tmpl, "data"), s.DataDir, identity{}); err != nil {
		return err
	}
	files := map[string][]byte{"ca.pem": ca.caPEM, "server-cert.pem": ca.certPEM, "server-key.pem": ca.keyPEM}
	for name, data := range files {
		if err := writeOwned(filepath.Join(s.dir, name), data, identity{}); err != nil {
			return err
		}
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user = root\n"
	}
	cnf := fmt.Sprintf(`# internal/testenv
[mysqld]
%sdatadir = %[2]s/data
socket = %[2]s/mysqld.sock
pid-file = %[2]s/mariadbd.pid
log-error = %[2]s/mariadbd.log
tmpdir = %[2]s
bind-address = 127.0.0.1
skip-name-resolve
log-bin = %[2]s/data/binlog
binlog-format = ROW
binlog-row-image = FULL
server-id = 1
ssl-ca = %[2]s/ca.pem
ssl-cert = %[2]s/server-cert.pem
ssl-key = %[2]s/server-key.pem
innodb-flush-log-at-trx-commit = 2
sync-binlog = 0
local-infile = ON
innodb-buffer-pool-size = 64M
innodb-log-file-size = 16M
performance-schema = OFF
max-connections = 200
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
default-time-zone = +00:00
`, user, s.dir)
	return writeOwned(filepath.Join(s.dir, "my.cnf"), []byte(cnf), identity{})
}

// Start starts the server on its port and data directory and waits until it
// accepts connections. It does nothing if the server is running.
func (s *MySQLServer) Start() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.proc != nil && !s.proc.exited() {
		return nil
	}
	cmd := exec.Command(s.mysqld, "--defaults-file="+filepath.Join(s.dir, "my.cnf"), "--port="+strconv.Itoa(s.Port))
	cmd.Dir = s.dir
	p, err := launch(cmd, identity{}, filepath.Join(s.dir, "mariadbd.log"))
	if err != nil {
		return err
	}
	root := s.rootDB()
	defer root.Close()
	if err := p.waitReady(root.PingContext); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	if !s.usersCreated {
		for _, host := range []string{"127.0.0.1", "localhost"} {
			for _, q := range []string{
				fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%s' IDENTIFIED BY '%s'", s.User, host, s.Password),
				fmt.Sprintf("GRANT ALL PRIVILEGES ON *.* TO '%s'@'%s' WITH GRANT OPTION", s.User, host),
			} {
				if _, err := root.ExecContext(ctx, q); err != nil {
					p.kill()
					return p.withLog(fmt.Errorf("testenv: create user: %w", err))
				}
			}
		}
		s.usersCreated = true
	}
	db, err := s.open("")
	if err != nil {
		p.kill()
		return err
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		p.kill()
		return p.withLog(fmt.Errorf("testenv: connect as %s over TCP: %w", s.User, err))
	}
	s.proc = p
	return nil
}

// rootDB connects as root over the unix socket (no password; used until the
// password user exists).
func (s *MySQLServer) rootDB() *sql.DB {
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = "unix"
	cfg.Addr = filepath.Join(s.dir, "mysqld.sock")
	cfg.Timeout = 5 * time.Second
	cfg.Logger = quietLogger{}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		panic(err) // the config is fixed and valid
	}
	return sql.OpenDB(c)
}

// quietLogger silences the driver's logging while polling a starting server.
type quietLogger struct{}

func (quietLogger) Print(...any) {}

// Stop shuts the server down cleanly (SIGTERM) and waits for it to exit.
func (s *MySQLServer) Stop() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.proc == nil {
		return nil
	}
	err := s.proc.stop(syscall.SIGTERM, time.Minute)
	s.proc = nil
	return err
}

func (s *MySQLServer) running() bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	return s.proc != nil && !s.proc.exited()
}

// teardown kills the server and removes its directory.
func (s *MySQLServer) teardown() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.proc != nil {
		s.proc.kill()
		s.proc = nil
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("testenv: %w", err)
	}
	return nil
}

// DSN returns a go-sql-driver/mysql DSN for the password user and database db
// (empty for none), with parseTime=true and multiStatements=true. More
// parameters can be appended with "&".
func (s *MySQLServer) DSN(db string) string {
	return fmt.Sprintf("%s:%s@tcp(%s)/%s?parseTime=true&multiStatements=true",
		s.User, s.Password, net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), db)
}

func (s *MySQLServer) open(db string) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(s.DSN(db))
	if err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	return sql.OpenDB(c), nil
}

// Exec runs the statements in order on one session of db (empty for none) and
// fails the test on the first error. A string may hold several statements.
func (s *MySQLServer) Exec(t testing.TB, db string, sql ...string) {
	t.Helper()
	if err := s.exec(db, sql...); err != nil {
		t.Fatal(err)
	}
}

func (s *MySQLServer) exec(db string, stmts ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	pool, err := s.open(db)
	if err != nil {
		return err
	}
	defer pool.Close()
	conn, err := pool.Conn(ctx)
	if err != nil {
		return fmt.Errorf("testenv: connect to %q: %w", db, err)
	}
	defer conn.Close()
	for i, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("testenv: %s: statement %d (%s): %w", db, i+1, abbreviate(q), err)
		}
	}
	return nil
}

// NewDatabase creates a database with a unique name and drops it when the
// test ends.
func (s *MySQLServer) NewDatabase(t testing.TB) string {
	t.Helper()
	name := newDBName(t, "gw_")
	if err := s.exec("", "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.dropDatabase(name); err != nil {
			t.Logf("testenv: drop database %s: %v", name, err)
		}
	})
	return name
}

// dropDatabase kills the sessions using db (an open transaction would block
// the drop on a metadata lock) and drops it.
func (s *MySQLServer) dropDatabase(db string) error {
	if !s.running() {
		return ErrNotRunning
	}
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	pool, err := s.open("")
	if err != nil {
		return err
	}
	defer pool.Close()
	conn, err := pool.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()", db)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		conn.ExecContext(ctx, "KILL CONNECTION "+strconv.FormatInt(id, 10)) // it may have gone already
	}
	_, err = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+db)
	return err
}
