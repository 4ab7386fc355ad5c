package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/go-sql-driver/mysql" // database/sql driver "mysql"
	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/testenv"
)

// Database names, as in ../shared/bench/maria_pg.sh: the MariaDB source
// table lives in bench, the MariaDB target table in bench2; PostgreSQL
// uses a database bench on each of its two servers.
const (
	pgDB        = "bench"
	mariaSrcDB  = "bench"
	mariaDstDB  = "bench2"
	pgBinDirEnv = "PG_BIN"
)

// tools are the stock clients the raw pipes are measured with.
type tools struct {
	psql    string
	mariadb string
}

// findTools finds psql like lib.sh finds the PostgreSQL binaries ($PG_BIN,
// the newest /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin, PATH; the
// Debian /usr/bin/psql is a Perl wrapper, so the real binary is
// preferred), and the MariaDB client ($MARIA_CLI, mariadb, mysql).
func findTools(needMaria bool) (tools, error) {
	var t tools
	var dirs []string
	if d := os.Getenv(pgBinDirEnv); d != "" {
		dirs = append(dirs, d)
	}
	for _, pattern := range []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"} {
		m, _ := filepath.Glob(pattern)
		slices.SortFunc(m, func(a, b string) int { return versionOf(b) - versionOf(a) }) // newest first
		dirs = append(dirs, m...)
	}
	for _, d := range dirs {
		if p := filepath.Join(d, "psql"); isExecutable(p) {
			t.psql = p
			break
		}
	}
	if t.psql == "" {
		p, err := exec.LookPath("psql")
		if err != nil {
			return t, fmt.Errorf("psql not found (set %s): %w", pgBinDirEnv, err)
		}
		t.psql = p
	}
	if !needMaria {
		return t, nil
	}
	for _, name := range []string{os.Getenv("MARIA_CLI"), "mariadb", "mysql"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			t.mariadb = p
			return t, nil
		}
	}
	return t, errors.New("the MariaDB client (mariadb) was not found; set MARIA_CLI")
}

// versionOf is the number in a path like /usr/lib/postgresql/15/bin.
func versionOf(dir string) int {
	for _, part := range strings.Split(dir, "/") {
		part = strings.TrimPrefix(part, "pgsql-")
		if n, err := strconv.Atoi(part); err == nil {
			return n
		}
	}
	return 0
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// pgSettings are lib.sh's pg_start settings (its postgresql.conf block),
// applied over internal/testenv's test settings with ALTER SYSTEM: in
// particular fsync, synchronous_commit and full_page_writes go back to
// their defaults (on), as on the shared scripts' servers.
func pgSettings(sharedBuffers string) [][2]string {
	return [][2]string{
		{"shared_buffers", sharedBuffers},
		{"work_mem", "64MB"},
		{"maintenance_work_mem", "512MB"},
		{"max_wal_size", "8GB"},
		{"min_wal_size", "1GB"},
		{"checkpoint_timeout", "30min"},
		{"wal_compression", "off"},
		{"jit", "off"},
		{"log_min_messages", "warning"},
		{"fsync", "on"},
		{"synchronous_commit", "on"},
		{"full_page_writes", "on"},
	}
}

// pgSide is a PostgreSQL server of the benchmark with its database.
type pgSide struct {
	name  string // pgsrc, pgdst
	srv   *testenv.PGServer
	psqlB string
}

// startPG starts a fresh PostgreSQL server, reconfigures it like lib.sh
// (and with the extra settings) and creates the benchmark database.
func startPG(ctx context.Context, name, sharedBuffers, psql string, extra ...[2]string) (*pgSide, error) {
	srv, err := testenv.StartPostgres()
	if err != nil {
		return nil, err
	}
	p := &pgSide{name: name, srv: srv, psqlB: psql}
	fail := func(err error) (*pgSide, error) {
		srv.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var stmts []string
	for _, kv := range append(pgSettings(sharedBuffers), extra...) {
		stmts = append(stmts, fmt.Sprintf("ALTER SYSTEM SET %s = '%s'", kv[0], kv[1]))
	}
	if err := pgExec(ctx, srv.DSN("postgres"), stmts...); err != nil {
		return fail(err)
	}
	// shared_buffers (and track_commit_timestamp) need a restart.
	if err := srv.Stop(); err != nil {
		return fail(err)
	}
	if err := srv.Start(); err != nil {
		return fail(err)
	}
	if err := srv.CreateDatabase(pgDB); err != nil {
		return fail(err)
	}
	var sb string
	if err := p.queryRow(ctx, "SHOW shared_buffers", &sb); err != nil {
		return fail(err)
	}
	if !strings.EqualFold(sb, sharedBuffers) {
		return fail(fmt.Errorf("shared_buffers is %s after the restart, want %s", sb, sharedBuffers))
	}
	if err := p.warmSharedBuffers(ctx); err != nil {
		return fail(err)
	}
	return p, nil
}

// warmSharedBuffers has every shared buffer used once, as on a server that
// has run for a while. A fresh server's shared memory is mapped but not
// yet touched: the first use of a buffer costs a kernel page fault and the
// clearing of the page. A load that starts a new bulk-write ring of
// buffers per statement (Godwit's, one COPY per commit interval) reaches
// untouched buffers that a single-COPY pipe, which reuses one ring, never
// does; without this, the first measured run of a fresh server charges
// those faults to whichever load comes first to them (measured with perf:
// clear_page_erms under ReadBufferExtended in the first run only). A plain
// INSERT takes a new buffer for every page it extends the table by, until
// the pool is used; the table is dropped at once, its buffers freed.
func (p *pgSide) warmSharedBuffers(ctx context.Context) error {
	var blocks int64
	if err := p.queryRow(ctx, "SELECT setting::bigint FROM pg_catalog.pg_settings WHERE name = 'shared_buffers'", &blocks); err != nil {
		return err
	}
	// Four rows of 1,800 bytes fill an 8 kB page; a quarter more pages
	// than buffers.
	rows := blocks * 4 * 5 / 4
	return p.exec(ctx, "CREATE UNLOGGED TABLE godwit_bench_warm (pad text)",
		fmt.Sprintf("INSERT INTO godwit_bench_warm SELECT repeat('w', 1800) FROM generate_series(1, %d)", rows),
		"DROP TABLE godwit_bench_warm")
}

// settings describes the server's effective settings that matter here.
func (p *pgSide) settings(ctx context.Context) string {
	var v string
	err := p.queryRow(ctx, `SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY name) FROM pg_settings
		WHERE name IN ('shared_buffers', 'fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', 'max_wal_size',
		'checkpoint_timeout', 'wal_compression', 'jit', 'ssl', 'server_version')`, &v)
	if err != nil {
		return err.Error()
	}
	return v
}

// dsn is a pgx URL for the benchmark database (no TLS).
func (p *pgSide) dsn() string { return p.srv.DSN(pgDB) }

// conninfo is psql's connection string (no TLS; the password goes in PGPASSWORD).
func (p *pgSide) conninfo() string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", p.srv.Host, p.srv.Port, p.srv.User, pgDB)
}

// psql is `psql -X -q -v ON_ERROR_STOP=1 -c sql` on the benchmark database,
// with PGTZ=UTC, as lib.sh runs it.
func (p *pgSide) psql(ctx context.Context, sql string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, p.psqlB, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", p.conninfo(), "-c", sql)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+p.srv.Password, "PGTZ=UTC", "PGSSLMODE=disable")
	return cmd
}

func (p *pgSide) exec(ctx context.Context, stmts ...string) error {
	if err := pgExec(ctx, p.dsn(), stmts...); err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	return nil
}

func (p *pgSide) queryRow(ctx context.Context, q string, dst ...any) error {
	conn, err := pgx.Connect(ctx, p.dsn())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.QueryRow(ctx, q).Scan(dst...)
}

func (p *pgSide) count(ctx context.Context) (int64, error) {
	var n int64
	err := p.queryRow(ctx, "SELECT count(*) FROM t", &n)
	return n, err
}

// checkpoint runs CHECKPOINT (before every measurement, as pg_copy.sh does).
func (p *pgSide) checkpoint(ctx context.Context) error { return p.exec(ctx, "CHECKPOINT") }

// pgExec runs each statement on its own, with the simple protocol (ALTER
// SYSTEM, VACUUM and CHECKPOINT cannot run in a transaction block).
func pgExec(ctx context.Context, dsn string, stmts ...string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, q := range stmts {
		if _, err := conn.PgConn().Exec(ctx, q).ReadAll(); err != nil {
			return fmt.Errorf("%s: %w", abbreviate(q), err)
		}
	}
	return nil
}

func abbreviate(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 100 {
		return q[:97] + "..."
	}
	return q
}

// mariaSide is the MariaDB server of the benchmark.
type mariaSide struct {
	srv *testenv.MySQLServer
	cli string
}

// mariaGlobals are lib.sh's maria_start options that differ from
// internal/testenv's test configuration, set at run time.
func mariaGlobals(bufferPool int64) [][2]string {
	return [][2]string{
		{"innodb_buffer_pool_size", strconv.FormatInt(bufferPool, 10)},
		{"innodb_log_file_size", strconv.FormatInt(1<<30, 10)},
		{"innodb_flush_log_at_trx_commit", "1"},
		{"max_allowed_packet", strconv.FormatInt(256<<20, 10)},
		{"max_binlog_size", strconv.FormatInt(1<<30, 10)},
	}
}

// startMaria starts a fresh MariaDB server, reconfigures it like lib.sh and
// creates the benchmark databases.
func startMaria(ctx context.Context, bufferPool int64, cli string) (*mariaSide, error) {
	srv, err := testenv.StartMariaDB()
	if err != nil {
		return nil, err
	}
	m := &mariaSide{srv: srv, cli: cli}
	fail := func(err error) (*mariaSide, error) {
		srv.Close()
		return nil, fmt.Errorf("mariadb: %w", err)
	}
	globals := mariaGlobals(bufferPool)
	var stmts []string
	for _, kv := range globals {
		stmts = append(stmts, fmt.Sprintf("SET GLOBAL %s = %s", kv[0], kv[1]))
	}
	if err := m.exec(ctx, "", stmts...); err != nil {
		return fail(err)
	}
	// The buffer pool and the redo log are resized in the background.
	deadline := time.Now().Add(2 * time.Minute)
	for _, kv := range globals {
		for {
			var got string
			if err := m.queryRow(ctx, "", "SELECT @@GLOBAL."+kv[0], &got); err != nil {
				return fail(err)
			}
			if got == kv[1] {
				break
			}
			if time.Now().After(deadline) {
				return fail(fmt.Errorf("%s is %s, want %s", kv[0], got, kv[1]))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	for _, db := range []string{mariaSrcDB, mariaDstDB} {
		if err := srv.CreateDatabase(db); err != nil {
			return fail(err)
		}
	}
	return m, nil
}

// settings describes the server's effective settings that matter here.
func (m *mariaSide) settings(ctx context.Context) string {
	var v string
	err := m.queryRow(ctx, "", `SELECT CONCAT_WS(' ', CONCAT('version=', @@version), CONCAT('innodb_buffer_pool_size=', @@innodb_buffer_pool_size),
		CONCAT('innodb_log_file_size=', @@innodb_log_file_size), CONCAT('innodb_flush_log_at_trx_commit=', @@innodb_flush_log_at_trx_commit),
		CONCAT('log_bin=', @@log_bin), CONCAT('binlog_format=', @@binlog_format), CONCAT('sync_binlog=', @@sync_binlog),
		CONCAT('local_infile=', @@local_infile), CONCAT('max_allowed_packet=', @@max_allowed_packet))`, &v)
	if err != nil {
		return err.Error()
	}
	return v
}

func (m *mariaSide) open(db string) (*sql.DB, error) {
	return sql.Open("mysql", m.srv.DSN(db))
}

// exec runs the statements in order on one session of db.
func (m *mariaSide) exec(ctx context.Context, db string, stmts ...string) error {
	pool, err := m.open(db)
	if err != nil {
		return err
	}
	defer pool.Close()
	conn, err := pool.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("mariadb: %s: %w", abbreviate(q), err)
		}
	}
	return nil
}

func (m *mariaSide) queryRow(ctx context.Context, db, q string, dst ...any) error {
	pool, err := m.open(db)
	if err != nil {
		return err
	}
	defer pool.Close()
	return pool.QueryRowContext(ctx, q).Scan(dst...)
}

func (m *mariaSide) count(ctx context.Context, db string) (int64, error) {
	var n int64
	err := m.queryRow(ctx, db, "SELECT count(*) FROM t", &n)
	return n, err
}

// client is the mariadb command line client on db, over TCP without TLS
// (the 10.11+ client turns TLS on by default; the shared scripts' servers
// have none, and Godwit's endpoints use SslMode none), with args before
// the database name.
func (m *mariaSide) client(ctx context.Context, db string, args ...string) *exec.Cmd {
	all := []string{"--no-defaults", "-h" + m.srv.Host, "-P" + strconv.Itoa(m.srv.Port), "-u" + m.srv.User, "-p" + m.srv.Password, "--skip-ssl"}
	all = append(all, args...)
	all = append(all, db)
	return exec.CommandContext(ctx, m.cli, all...)
}
