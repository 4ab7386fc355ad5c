// Package testenv starts throwaway PostgreSQL and MariaDB servers for tests.
//
// Each test binary gets at most one server of each kind, started from the
// installed binaries on first use, on a free loopback port, in a fresh
// directory under /tmp, configured for CDC (PostgreSQL wal_level=logical;
// MariaDB log_bin with binlog_format=ROW and binlog_row_image=FULL) and with
// TLS from a CA generated at start. Each test gets its own database:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
//
//	func TestX(t *testing.T) {
//		pg := testenv.Postgres(t)
//		db := pg.NewDatabase(t)
//		conn, err := pgx.Connect(ctx, pg.DSN(db))
//		...
//	}
//
// Without the binaries the test is skipped, or fails when CI=true. A test that
// calls Stop must not run in parallel with other tests of its package.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// startTimeout bounds how long a server may take to accept connections.
const startTimeout = 60 * time.Second

// The servers of this test binary. They are shared by all its tests, so they
// live at package level; Main stops them.
var (
	pgShared  lazy[*PGServer]
	myShared  lazy[*MySQLServer]
	caShared  lazy[*authority]
	sweepOnce sync.Once
	dbCounter atomic.Uint64
)

// Main runs the tests, then stops every server this package started and
// removes their directories. Use it in TestMain: os.Exit(testenv.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if s, ok := pgShared.peek(); ok {
		if err := s.teardown(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	if s, ok := myShared.peek(); ok {
		if err := s.teardown(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	return code
}

// lazy runs a constructor once; later callers get the same value or error.
// Callers block while the first one constructs.
type lazy[T any] struct {
	mu   sync.Mutex
	done bool
	v    T
	err  error
}

func (l *lazy[T]) get(construct func() (T, error)) (T, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.v, l.err = construct()
		l.done = true
	}
	return l.v, l.err
}

// peek returns the value if it was constructed successfully.
func (l *lazy[T]) peek() (T, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.v, l.done && l.err == nil
}

// unavailable ends the test for a server that could not be started: a skip
// when it is simply not installed (outside CI), a failure otherwise.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	t.Fatal(err)
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return p
}

func freePort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// identity is an OS user; switchUser says processes must be started as it.
type identity struct {
	uid, gid   int
	switchUser bool
}

func (id identity) chown(paths ...string) error {
	if !id.switchUser {
		return nil
	}
	for _, p := range paths {
		if err := os.Chown(p, id.uid, id.gid); err != nil {
			return fmt.Errorf("testenv: %w", err)
		}
	}
	return nil
}

// Directory layout. Server directories live directly under /tmp with short
// names (unix socket paths are limited to ~100 bytes, and a server running as
// another user must be able to reach them) and hold an owner file with the
// pid of the test binary, so a later run can remove directories whose owner
// died.
const (
	pgDirPrefix = "gw-pg-"
	myDirPrefix = "gw-my-"
	ownerFile   = "owner.pid"
)

func tempBase() string {
	if os.Geteuid() == 0 {
		return "/tmp"
	}
	if d := os.TempDir(); len(d) <= 60 {
		return d
	}
	return "/tmp"
}

func makeServerDir(prefix string) (string, error) {
	sweepOnce.Do(sweepStale)
	dir, err := os.MkdirTemp(tempBase(), prefix)
	if err != nil {
		return "", fmt.Errorf("testenv: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("testenv: %w", err)
	}
	return dir, nil
}

// sweepStale removes server (and unfinished template) directories left by
// test binaries that died without running Main's teardown, once their server
// is gone too.
func sweepStale() {
	for _, prefix := range []string{pgDirPrefix, myDirPrefix, templatePrefix} {
		dirs, _ := filepath.Glob(filepath.Join(tempBase(), prefix+"*"))
		for _, dir := range dirs {
			owner, err := readPID(filepath.Join(dir, ownerFile))
			if err != nil || owner == os.Getpid() || processAlive(owner) {
				continue
			}
			alive := false
			for _, pidFile := range []string{filepath.Join(dir, "data", "postmaster.pid"), filepath.Join(dir, "mariadbd.pid")} {
				if pid, err := readPID(pidFile); err == nil && processAlive(pid) {
					alive = true
				}
			}
			if !alive {
				os.RemoveAll(dir)
			}
		}
	}
}

// readPID reads the number on the first line of a pid file.
func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(first))
}

// newDBName returns a unique, unquoted-identifier-safe database name:
// prefix, a fragment of the test name, a counter and a random suffix.
func newDBName(t testing.TB, prefix string) string {
	var b strings.Builder
	b.WriteString(prefix)
	underscore := false
	n := 0
	for _, r := range strings.ToLower(t.Name()) {
		if n >= 24 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			underscore = false
			n++
		} else if !underscore && n > 0 {
			b.WriteByte('_')
			underscore = true
			n++
		}
	}
	if !underscore && n > 0 {
		b.WriteByte('_')
	}
	fmt.Fprintf(&b, "%d_%s", dbCounter.Add(1), randomHex(3))
	return b.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
