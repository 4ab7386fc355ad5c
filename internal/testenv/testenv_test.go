package testenv_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/godwit-dms/godwit/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var dbName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func pgConnect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx := ctxFor(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func pgString(t *testing.T, conn *pgx.Conn, q string) string {
	t.Helper()
	var v string
	if err := conn.QueryRow(ctxFor(t), q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	if !dbName.MatchString(db) {
		t.Errorf("database name %q is not a plain identifier", db)
	}
	if other := pg.NewDatabase(t); other == db {
		t.Errorf("NewDatabase returned %q twice", db)
	}
	if !strings.Contains(pg.DSN(db), "sslmode=disable") {
		t.Errorf("DSN(%q) = %q, want sslmode=disable", db, pg.DSN(db))
	}

	pg.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t VALUES (1, 'a'); INSERT INTO t VALUES (2, 'b')")

	plain := pgConnect(t, pg.DSN(db))
	for setting, want := range map[string]string{
		"wal_level":             "logical",
		"max_replication_slots": "20",
		"max_wal_senders":       "20",
		"ssl":                   "on",
		"fsync":                 "off",
		"max_connections":       "200",
	} {
		if got := pgString(t, plain, "SHOW "+setting); got != want {
			t.Errorf("SHOW %s = %q, want %q", setting, got, want)
		}
	}
	if got := pgString(t, plain, "SELECT count(*)::text FROM t"); got != "2" {
		t.Errorf("rows in t = %s, want 2", got)
	}
	if got := pgString(t, plain, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"); got != "false" {
		t.Errorf("sslmode=disable connection uses TLS: %s", got)
	}

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pg.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"localhost", "127.0.0.1"} {
		cfg, err := pgx.ParseConfig("postgres://" + pg.User + ":" + pg.Password + "@" + net.JoinHostPort(host, strconv.Itoa(pg.Port)) + "/" + db +
			"?sslmode=verify-full&sslrootcert=" + caFile)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.ConnectConfig(ctxFor(t), cfg)
		if err != nil {
			t.Fatalf("verify-full via %s: %v", host, err)
		}
		if got := pgString(t, conn, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"); got != "true" {
			t.Errorf("verify-full via %s: ssl = %s", host, got)
		}
		conn.Close(context.Background())
	}

	// Logical decoding works, and the slot does not stop the drop at cleanup.
	pg.Exec(t, db, "SELECT pg_create_logical_replication_slot('"+db+"_slot', 'pgoutput')")
}

func TestPostgresRequireTLS(t *testing.T) {
	t.Parallel()
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t, testenv.RequireTLS())
	if !dbName.MatchString(db) {
		t.Errorf("database name %q is not a plain identifier", db)
	}
	dsn := pg.DSN(db)
	if !strings.Contains(dsn, "sslmode=require") {
		t.Fatalf("DSN(%q) = %q, want sslmode=require", db, dsn)
	}
	conn := pgConnect(t, dsn)
	if got := pgString(t, conn, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"); got != "true" {
		t.Errorf("ssl = %s", got)
	}
	pg.Exec(t, db, "CREATE TABLE t (id int)")

	_, err := pgx.Connect(ctxFor(t), strings.Replace(dsn, "sslmode=require", "sslmode=disable", 1))
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "28000" {
		t.Errorf("non-TLS connection to %s: err = %v, want SQLSTATE 28000", db, err)
	}
	// Other databases still take non-TLS connections.
	pgConnect(t, pg.DSN("postgres"))
}

// TestPostgresCleanup: a subtest's database and its replication slot are
// gone once the subtest ends.
func TestPostgresCleanup(t *testing.T) {
	t.Parallel()
	pg := testenv.Postgres(t)
	var db string
	t.Run("sub", func(t *testing.T) {
		db = pg.NewDatabase(t)
		pg.Exec(t, db, "SELECT pg_create_logical_replication_slot('"+db+"', 'test_decoding')")
		// An open session must not block the drop either.
		conn := pgConnect(t, pg.DSN(db))
		_ = conn
	})
	conn := pgConnect(t, pg.DSN("postgres"))
	var n int
	if err := conn.QueryRow(ctxFor(t), "SELECT (SELECT count(*) FROM pg_database WHERE datname = $1) + (SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1)", db).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database or slot %s still exists after cleanup", db)
	}
}

// TestPostgresStopStart is not parallel: it takes the shared server down.
func TestPostgresStopStart(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, "CREATE TABLE t (id int)", "INSERT INTO t VALUES (42)")
	conn := pgConnect(t, pg.DSN(db))

	began := time.Now()
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Stop took %s", time.Since(began).Round(time.Millisecond))
	if err := conn.Ping(ctxFor(t)); err == nil {
		t.Error("session survived Stop")
	}
	_, err := pgx.Connect(ctxFor(t), pg.DSN(db))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("connect while stopped: err = %v, want connection refused", err)
	}

	began = time.Now()
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Start took %s", time.Since(began).Round(time.Millisecond))
	if got := pgString(t, pgConnect(t, pg.DSN(db)), "SELECT id::text FROM t"); got != "42" {
		t.Errorf("after restart: id = %s, want 42", got)
	}
}

func mysqlOpen(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mysqlString(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	var v sql.NullString
	if err := db.QueryRowContext(ctxFor(t), q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v.String
}

func TestMariaDB(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	name := my.NewDatabase(t)
	if !dbName.MatchString(name) {
		t.Errorf("database name %q is not a plain identifier", name)
	}
	my.Exec(t, name, "CREATE TABLE t (id int PRIMARY KEY, v varchar(10))", "INSERT INTO t VALUES (1, 'a'); INSERT INTO t VALUES (2, 'b')")

	db := mysqlOpen(t, my.DSN(name))
	for q, want := range map[string]string{
		"SELECT @@log_bin":           "1",
		"SELECT @@binlog_format":     "ROW",
		"SELECT @@binlog_row_image":  "FULL",
		"SELECT @@server_id":         "1",
		"SELECT @@local_infile":      "1",
		"SELECT @@have_ssl":          "YES",
		"SELECT DATABASE()":          name,
		"SELECT COUNT(*) FROM t":     "2",
		"SELECT @@sql_log_bin":       "1",
		"SELECT @@bind_address":      "127.0.0.1",
		"SELECT @@skip_name_resolve": "1",
	} {
		if got := mysqlString(t, db, q); got != want {
			t.Errorf("%s = %q, want %q", q, got, want)
		}
	}
	var varName, cipher string
	if err := db.QueryRowContext(ctxFor(t), "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&varName, &cipher); err != nil {
		t.Fatal(err)
	}
	if cipher != "" {
		t.Errorf("plain connection uses TLS (%s)", cipher)
	}

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(my.CACertPEM) {
		t.Fatal("CACertPEM holds no certificate")
	}
	for _, host := range []string{"localhost", "127.0.0.1"} {
		key := "testenv-" + strings.ReplaceAll(host, ".", "-")
		if err := mysql.RegisterTLSConfig(key, &tls.Config{RootCAs: pool, ServerName: host}); err != nil {
			t.Fatal(err)
		}
		tdb := mysqlOpen(t, my.DSN(name)+"&tls="+key)
		if err := tdb.QueryRowContext(ctxFor(t), "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&varName, &cipher); err != nil {
			t.Fatalf("TLS via %s: %v", host, err)
		}
		if cipher == "" {
			t.Errorf("TLS via %s: Ssl_cipher is empty", host)
		}
	}
}

// TestMariaDBCleanup: a subtest's database is gone once the subtest ends,
// even with a session holding an open transaction on it.
func TestMariaDBCleanup(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	var name string
	t.Run("sub", func(t *testing.T) {
		name = my.NewDatabase(t)
		my.Exec(t, name, "CREATE TABLE t (id int PRIMARY KEY) ENGINE=InnoDB")
		db := mysqlOpen(t, my.DSN(name))
		tx, err := db.BeginTx(ctxFor(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("INSERT INTO t VALUES (1)"); err != nil {
			t.Fatal(err)
		}
		_ = tx // left open on purpose
	})
	db := mysqlOpen(t, my.DSN(""))
	if got := mysqlString(t, db, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '"+name+"'"); got != "0" {
		t.Errorf("database %s still exists after cleanup", name)
	}
}

// TestMariaDBStopStart is not parallel: it takes the shared server down.
func TestMariaDBStopStart(t *testing.T) {
	my := testenv.MariaDB(t)
	name := my.NewDatabase(t)
	my.Exec(t, name, "CREATE TABLE t (id int)", "INSERT INTO t VALUES (42)")

	began := time.Now()
	if err := my.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Stop took %s", time.Since(began).Round(time.Millisecond))
	db := mysqlOpen(t, my.DSN(name))
	if err := db.PingContext(ctxFor(t)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("ping while stopped: err = %v, want connection refused", err)
	}

	began = time.Now()
	if err := my.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Start took %s", time.Since(began).Round(time.Millisecond))
	if got := mysqlString(t, db, "SELECT id FROM t"); got != "42" {
		t.Errorf("after restart: id = %s, want 42", got)
	}
}

func TestPorts(t *testing.T) {
	t.Parallel()
	free := testenv.FreePort(t)
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(free)))
	if err != nil {
		t.Fatalf("FreePort %d: %v", free, err)
	}
	l.Close()

	closed := testenv.ClosedPort(t)
	_, err = net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(closed)), 5*time.Second)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial ClosedPort %d: err = %v, want connection refused", closed, err)
	}
}
