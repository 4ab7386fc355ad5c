// Package sqlite is Godwit's embedded state store: one SQLite database file,
// dir/state.db, in WAL mode, driven through database/sql with the pure-Go
// modernc.org/sqlite driver.
//
// Writes go through a pool of exactly one connection that begins every
// transaction with BEGIN IMMEDIATE, so Update calls queue in Go instead of
// failing with SQLITE_BUSY, and a second process on the same file waits on
// busy_timeout. Reads outside a transaction use a separate read-only pool and
// run concurrently with each other and with the writer.
//
// fn passed to Update must not call Update on the same Store: the inner call
// would wait for the write connection the outer one holds.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/godwit-dms/godwit/internal/store"
)

// FileName is the database file Open creates inside its directory.
const FileName = "state.db"

// busyTimeoutMillis bounds how long a connection waits on a lock held by
// another process (or by the writer, for a checkpoint) before SQLITE_BUSY.
const busyTimeoutMillis = 10000

// Store is a store.Store backed by SQLite. It is safe for concurrent use.
type Store struct {
	path  string
	write *sql.DB // exactly one connection, BEGIN IMMEDIATE
	read  *sql.DB // read-only connections

	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool
}

var _ store.Store = (*Store)(nil)

// Open opens, creating when needed, the directory dir and the database
// dir/state.db, and applies any pending schema migrations.
func Open(ctx context.Context, dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("sqlite store: open: empty directory")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("sqlite store: open: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("sqlite store: open: %w", err)
	}

	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	// The first connection switches the file to WAL and creates the schema
	// before any reader opens it.
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}

	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := read.PingContext(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	return &Store{path: path, write: write, read: read}, nil
}

// dsn builds a file: URI for the modernc driver. Every connection gets
// busy_timeout, foreign_keys and synchronous=NORMAL; the writer also sets WAL
// mode (persistent in the file) and BEGIN IMMEDIATE; readers are query_only.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	if u.Path != "" && u.Path[0] != '/' { // Windows drive letter: file:///C:/...
		u.Path = "/" + u.Path
	}
	return u.String()
}

// Path returns the database file's absolute path.
func (s *Store) Path() string { return s.path }

// Close closes the database. It is idempotent: later calls return nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.closeErr = errors.Join(s.read.Close(), s.write.Close())
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("sqlite store: close: %w", s.closeErr)
		}
	})
	return s.closeErr
}

// Update runs fn in one read-write transaction and commits when fn returns
// nil. When fn returns an error, Update rolls back and returns that error
// unchanged; when fn panics, Update rolls back and the panic continues.
// Transactions are serialised.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite store: begin: %w", err)
	}
	t := &tx{sqlTx: sqlTx}
	// Runs on return and while a panic (or runtime.Goexit) unwinds; the
	// panic carries on afterwards, with its original stack.
	defer func() {
		if t.end() {
			_ = sqlTx.Rollback() // ErrTxDone when ctx already rolled it back
		}
	}()

	if err := fn(t); err != nil {
		return err
	}
	if !t.end() {
		return ErrTxDone // cannot happen: only this function ends t
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite store: commit: %w", err)
	}
	return nil
}

func (s *Store) reader() (querier, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	return s.read, nil
}

// RecordGet implements store.Reader.
func (s *Store) RecordGet(ctx context.Context, kind store.Kind, id string) (*store.Record, error) {
	q, err := s.reader()
	if err != nil {
		return nil, err
	}
	return recordGet(ctx, q, kind, id)
}

// RecordGetByARN implements store.Reader.
func (s *Store) RecordGetByARN(ctx context.Context, arn string) (*store.Record, error) {
	q, err := s.reader()
	if err != nil {
		return nil, err
	}
	return recordGetByARN(ctx, q, arn)
}

// RecordList implements store.Reader.
func (s *Store) RecordList(ctx context.Context, params *store.RecordListParams) ([]*store.Record, error) {
	q, err := s.reader()
	if err != nil {
		return nil, err
	}
	return recordList(ctx, q, params)
}

// TagList implements store.Reader.
func (s *Store) TagList(ctx context.Context, arn string) ([]store.Tag, error) {
	q, err := s.reader()
	if err != nil {
		return nil, err
	}
	return tagList(ctx, q, arn)
}

// EventList implements store.Reader.
func (s *Store) EventList(ctx context.Context, params *store.EventListParams) ([]*store.Event, error) {
	q, err := s.reader()
	if err != nil {
		return nil, err
	}
	return eventList(ctx, q, params)
}
