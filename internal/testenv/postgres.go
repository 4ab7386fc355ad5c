package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// execTimeout bounds one Exec call, NewDatabase and the drop at cleanup.
const execTimeout = 2 * time.Minute

// pgBinDirs are searched for initdb and postgres after PATH.
var pgBinDirs = []string{"/usr/lib/postgresql/15/bin", "/usr/local/pgsql/bin"}

// PGServer is a PostgreSQL server configured for logical decoding, with a
// password superuser (scram-sha-256 over TCP) and TLS.
type PGServer struct {
	Host           string // "127.0.0.1"
	Port           int
	User, Password string // superuser
	CACertPEM      []byte // CA of the server certificate (CN/SAN localhost, 127.0.0.1)
	DataDir        string

	dir      string // parent of DataDir; also the unix socket directory
	postgres string // path of the postgres binary
	id       identity

	lifeMu sync.Mutex // serialises Start, Stop and teardown
	proc   *process   // nil while stopped

	passwordSet bool

	mu      sync.Mutex // guards tlsOnly and pg_hba.conf
	tlsOnly map[string]bool
}

// DBOption configures a database made by NewDatabase.
type DBOption func(*dbOptions)

type dbOptions struct {
	requireTLS bool
}

// RequireTLS makes a database that accepts TLS connections only: a non-TLS
// connection to it is rejected by pg_hba.conf (SQLSTATE 28000). Its name
// starts with "tlsonly_" and DSN returns sslmode=require for it.
func RequireTLS() DBOption {
	return func(o *dbOptions) { o.requireTLS = true }
}

// Postgres returns the shared PostgreSQL server of this test binary, starting
// it on first use. Without the binaries it skips the test, or fails it when
// CI=true.
func Postgres(t testing.TB) *PGServer {
	t.Helper()
	s, err := pgShared.get(func() (*PGServer, error) {
		began := time.Now()
		s, err := startPostgres()
		if err == nil {
			t.Logf("testenv: PostgreSQL on %s:%d (%s) started in %s", s.Host, s.Port, s.DataDir, time.Since(began).Round(time.Millisecond))
		}
		return s, err
	})
	if err != nil {
		unavailable(t, err)
	}
	return s
}

func startPostgres() (*PGServer, error) {
	postgres, err := findBinary([]string{"postgres"}, pgBinDirs...)
	if err != nil {
		return nil, err
	}
	// initdb from the same installation as postgres when possible.
	initdb, err := findBinary([]string{"initdb"}, append([]string{filepath.Dir(postgres)}, pgBinDirs...)...)
	if err != nil {
		return nil, err
	}
	id, err := serverIdentity()
	if err != nil {
		return nil, err
	}
	ca, err := sharedCA()
	if err != nil {
		return nil, err
	}
	dir, err := makeServerDir(pgDirPrefix)
	if err != nil {
		return nil, err
	}
	s := &PGServer{
		Host:      "127.0.0.1",
		User:      "godwit",
		Password:  randomHex(16),
		CACertPEM: ca.caPEM,
		DataDir:   filepath.Join(dir, "data"),
		dir:       dir,
		postgres:  postgres,
		id:        id,
		tlsOnly:   map[string]bool{},
	}
	if err := s.initDataDir(initdb, ca); err != nil {
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

func (s *PGServer) initDataDir(initdb string, ca *authority) error {
	if err := s.id.chown(s.dir); err != nil {
		return err
	}
	// The template has no superuser password; Start sets a fresh one over the
	// unix socket (trust) on first start.
	key := []string{binaryKey(initdb), binaryKey(s.postgres), s.User, "UTF8", "C"}
	tmpl, err := cachedTemplate("pg", key, s.id, func(dir string) error {
		cmd := exec.Command(initdb, "-D", filepath.Join(dir, "data"), "-U", s.User,
			"--auth-local=trust", "--auth-host=scram-sha-256",
			"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+dir)
		return run(cmd, s.id, filepath.Join(dir, "initdb.log"))
	})
	if err != nil {
		return err
	}
	if err := copyTree(filepath.Join(tmpl, "data"), s.DataDir, s.id); err != nil {
		return err
	}

	if err := writeOwned(filepath.Join(s.DataDir, "server.crt"), ca.certPEM, s.id); err != nil {
		return err
	}
	if err := writeOwned(filepath.Join(s.DataDir, "server.key"), ca.keyPEM, s.id); err != nil {
		return err
	}
	conf := fmt.Sprintf(`
# internal/testenv
listen_addresses = '127.0.0.1'
unix_socket_directories = '%s'
max_connections = 200
shared_buffers = 64MB
huge_pages = off
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
fsync = off
synchronous_commit = off
full_page_writes = off
min_wal_size = 32MB
max_wal_size = 256MB
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
password_encryption = 'scram-sha-256'
timezone = 'UTC'
log_timezone = 'UTC'
`, s.dir)
	f, err := os.OpenFile(filepath.Join(s.DataDir, "postgresql.conf"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("testenv: %w", err)
	}
	if _, err := f.WriteString(conf); err != nil {
		f.Close()
		return fmt.Errorf("testenv: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("testenv: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeHBA()
}

// writeHBA writes pg_hba.conf: trust over the socket, scram-sha-256 over
// TCP, and a reject line for non-TLS connections to each RequireTLS
// database (PostgreSQL 15 has no regular expressions for database names, so
// the names are listed). Callers hold s.mu.
func (s *PGServer) writeHBA() error {
	var b strings.Builder
	b.WriteString("# internal/testenv; rewritten by NewDatabase(t, RequireTLS())\n")
	b.WriteString("local all all trust\n")
	b.WriteString("local replication all trust\n")
	names := make([]string, 0, len(s.tlsOnly))
	for name := range s.tlsOnly {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(&b, "hostnossl %s all 127.0.0.1/32 reject\n", name)
	}
	b.WriteString("host all all 127.0.0.1/32 scram-sha-256\n")
	b.WriteString("host replication all 127.0.0.1/32 scram-sha-256\n")
	return writeOwned(filepath.Join(s.DataDir, "pg_hba.conf"), []byte(b.String()), s.id)
}

// Start starts the server on its port and data directory and waits until it
// accepts connections. It does nothing if the server is running.
func (s *PGServer) Start() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.proc != nil && !s.proc.exited() {
		return nil
	}
	cmd := exec.Command(s.postgres, "-D", s.DataDir, "-p", strconv.Itoa(s.Port))
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "HOME="+s.dir)
	p, err := launch(cmd, s.id, filepath.Join(s.dir, "postgres.log"))
	if err != nil {
		return err
	}
	if err := p.waitReady(func(ctx context.Context) error { return ping(ctx, s.socketDSN()) }); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	if !s.passwordSet {
		conn, err := pgconn.Connect(ctx, s.socketDSN())
		if err == nil {
			err = conn.Exec(ctx, fmt.Sprintf("ALTER ROLE %s PASSWORD '%s'", s.User, s.Password)).Close()
			conn.Close(ctx)
		}
		if err != nil {
			p.kill()
			return p.withLog(fmt.Errorf("testenv: set the password of %s: %w", s.User, err))
		}
		s.passwordSet = true
	}
	if err := ping(ctx, s.DSN("postgres")); err != nil {
		p.kill()
		return p.withLog(fmt.Errorf("testenv: connect as %s over TCP: %w", s.User, err))
	}
	s.proc = p
	return nil
}

// socketDSN connects as the superuser over the unix socket (trust).
func (s *PGServer) socketDSN() string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=postgres sslmode=disable", s.dir, s.Port, s.User)
}

func ping(ctx context.Context, dsn string) error {
	conn, err := pgconn.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// Stop shuts the server down (fast shutdown: sessions are terminated, a
// checkpoint is written) and waits for it to exit.
func (s *PGServer) Stop() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.proc == nil {
		return nil
	}
	err := s.proc.stop(os.Interrupt, time.Minute)
	s.proc = nil
	return err
}

func (s *PGServer) running() bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	return s.proc != nil && !s.proc.exited()
}

// teardown stops the server at once (immediate shutdown) and removes its
// directory.
func (s *PGServer) teardown() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	var errs []error
	if s.proc != nil {
		errs = append(errs, s.proc.stop(syscall.SIGQUIT, 10*time.Second))
		s.proc = nil
	}
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, fmt.Errorf("testenv: %w", err))
	}
	return errors.Join(errs...)
}

// DSN returns a pgx/libpq URL for the superuser and database db. sslmode is
// disable, or require for a RequireTLS database. More parameters can be
// appended with "&".
func (s *PGServer) DSN(db string) string {
	s.mu.Lock()
	mode := "disable"
	if s.tlsOnly[db] {
		mode = "require"
	}
	s.mu.Unlock()
	return s.dsn(db, mode)
}

func (s *PGServer) dsn(db, sslmode string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(s.User, s.Password),
		Host:     net.JoinHostPort(s.Host, strconv.Itoa(s.Port)),
		Path:     "/" + db,
		RawQuery: "sslmode=" + sslmode,
	}
	return u.String()
}

// Exec runs the statements in order on one session of db as the superuser,
// and fails the test on the first error. A string may hold several
// statements separated by semicolons.
func (s *PGServer) Exec(t testing.TB, db string, sql ...string) {
	t.Helper()
	if err := s.exec(db, sql...); err != nil {
		t.Fatal(err)
	}
}

func (s *PGServer) exec(db string, stmts ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN(db))
	if err != nil {
		return fmt.Errorf("testenv: connect to %q: %w", db, err)
	}
	defer conn.Close(ctx)
	for i, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("testenv: %s: statement %d (%s): %w", db, i+1, abbreviate(q), err)
		}
	}
	return nil
}

// NewDatabase creates a database with a unique name and drops it (WITH
// (FORCE), after dropping its replication slots) when the test ends.
func (s *PGServer) NewDatabase(t testing.TB, opts ...DBOption) string {
	t.Helper()
	var o dbOptions
	for _, opt := range opts {
		opt(&o)
	}
	prefix := "gw_"
	if o.requireTLS {
		prefix = "tlsonly_"
	}
	name := newDBName(t, prefix)
	if err := s.exec("postgres", "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.dropDatabase(name); err != nil {
			t.Logf("testenv: drop database %s: %v", name, err)
		}
	})
	if o.requireTLS {
		if err := s.requireTLS(name); err != nil {
			t.Fatal(err)
		}
	}
	return name
}

// requireTLS adds a reject line for non-TLS connections to db, reloads the
// configuration and waits until the postmaster applies it (the reload is
// asynchronous).
func (s *PGServer) requireTLS(db string) error {
	s.mu.Lock()
	s.tlsOnly[db] = true
	err := s.writeHBA()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if err := s.exec("postgres", "SELECT pg_reload_conf()"); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgconn.Connect(ctx, s.dsn(db, "disable"))
		if err == nil {
			conn.Close(ctx)
		}
		cancel()
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr) && pgErr.Code == "28000": // rejected by pg_hba.conf
			return nil
		case err != nil:
			return fmt.Errorf("testenv: check that %s rejects non-TLS connections: %w", db, err)
		case time.Now().After(deadline):
			return fmt.Errorf("testenv: %s still accepts non-TLS connections after pg_reload_conf", db)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dropDatabase drops db WITH (FORCE). FORCE does not get past replication
// slots, so those are dropped first (after terminating their walsenders).
func (s *PGServer) dropDatabase(db string) error {
	if !s.running() {
		return ErrNotRunning
	}
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for {
		_, err := conn.Exec(ctx, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
			WHERE database = $1 AND active_pid IS NOT NULL`, db)
		if err == nil {
			_, err = conn.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
				WHERE database = $1 AND NOT active`, db)
		}
		if err == nil {
			_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
		}
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "55006" { // object_in_use: a slot is still active
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// writeOwned writes a private file owned by id.
func writeOwned(path string, data []byte, id identity) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("testenv: %w", err)
	}
	return id.chown(path)
}

func abbreviate(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 120 {
		return q[:117] + "..."
	}
	return q
}
