package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
)

// Snapshot is a consistent view of a MySQL/MariaDB source shared by up to
// Sessions() concurrent reads, each session a REPEATABLE READ transaction
// started WITH CONSISTENT SNAPSHOT at the same point, which BinlogPosition
// names.
type Snapshot struct {
	c      *Conn
	db     *sql.DB
	flavor serverFlavor

	sessions []*snapSession
	free     chan *snapSession
	mu       sync.Mutex
	live     int // sessions not lost; free is closed when none is left

	file string
	pos  uint64
	gtid string

	closeOnce sync.Once
	closeErr  error
}

// snapSession is one connection of a snapshot.
type snapSession struct {
	conn *sql.Conn
	id   int64 // CONNECTION_ID(), to kill its running query
	// holds: the tables it has read, whose metadata locks its transaction
	// holds; lost: it broke and left the snapshot (both under
	// Snapshot.mu).
	holds map[string]bool
	lost  bool
}

// OpenSnapshot opens sessions connections in one consistent snapshot.
//
// With the RELOAD privilege, FLUSH TABLES WITH READ LOCK stops commits
// while every session starts its transaction WITH CONSISTENT SNAPSHOT and
// the binary log position is read; the lock is then released. Without it
// the snapshot has one session, and reads take turns on it: MariaDB gives
// that session's snapshot its exact binary log position
// (binlog_snapshot_file/position); MySQL has no such status, so the
// position is read just before the snapshot starts and may be a little
// behind it (logged: CDC then applies some changes twice, none is lost).
func (c *Conn) OpenSnapshot(ctx context.Context, sessions int) (connector.Snapshot, error) {
	return c.openSnapshot(ctx, sessions)
}

func (c *Conn) openSnapshot(ctx context.Context, sessions int) (*Snapshot, error) {
	if sessions < 1 {
		sessions = 1
	}
	f, err := c.flavor(ctx)
	if err != nil {
		return nil, err
	}
	db, err := openDataDB(c.cfg, c, sessionSetup(readSQLMode))
	if err != nil {
		return nil, err
	}
	s := &Snapshot{c: c, db: db, flavor: f}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()

	// Connect every session first: nothing but the lock itself should
	// happen while writes wait behind it.
	for len(s.sessions) < sessions {
		if _, err := s.newSession(ctx); err != nil {
			return nil, err
		}
	}
	first := s.sessions[0]
	locked, err := s.lock(ctx, first)
	if err != nil {
		return nil, err
	}
	if !locked {
		if sessions > 1 {
			slog.InfoContext(ctx, "mysql snapshot: tables could not be locked, so the snapshot uses one session and reads take turns on it",
				"endpoint", c.cfg, "sessions_asked", sessions)
		}
		for _, ss := range s.sessions[1:] {
			ss.conn.Close()
		}
		s.sessions = s.sessions[:1]
		if !f.mariaDB {
			// MySQL has no position of a snapshot: read it just before the
			// snapshot starts, so changes committed in between are in the
			// snapshot and again in the binary log (replayed, not lost).
			if err := s.readPosition(ctx, first, false); err != nil {
				return nil, err
			}
		}
	}
	for _, ss := range s.sessions {
		if err := ss.begin(ctx); err != nil {
			if locked {
				_, _ = first.conn.ExecContext(context.WithoutCancel(ctx), "UNLOCK TABLES")
			}
			return nil, err
		}
	}
	if locked || f.mariaDB {
		posErr := s.readPosition(ctx, first, locked)
		if locked {
			if _, err := first.conn.ExecContext(ctx, "UNLOCK TABLES"); err != nil {
				return nil, classify(ctx, "unlocking tables", err, 0)
			}
		}
		if posErr != nil {
			return nil, posErr
		}
	}
	if len(s.sessions) > 1 {
		for _, ss := range s.sessions {
			if _, err := ss.conn.ExecContext(ctx, fmt.Sprintf("SET SESSION lock_wait_timeout = %d", snapshotLockWaitSeconds)); err != nil {
				return nil, classify(ctx, "preparing the snapshot sessions", err, 0)
			}
		}
	}
	s.free = make(chan *snapSession, len(s.sessions))
	for _, ss := range s.sessions {
		s.free <- ss
	}
	s.live = len(s.sessions)
	ok = true
	slog.DebugContext(ctx, "mysql snapshot opened", "sessions", len(s.sessions), "locked", locked,
		"binlog_file", s.file, "binlog_pos", s.pos, "gtid", s.gtid)
	return s, nil
}

// lockWaitSeconds bounds how long FLUSH TABLES WITH READ LOCK waits for
// running statements: while it waits, writes on the source wait behind it.
const lockWaitSeconds = 30

// snapshotLockWaitSeconds bounds how long a read of a snapshot of several
// sessions waits for a table's metadata lock before it looks again. Each
// session's transaction holds the lock of every table it read until the
// snapshot closes. A DDL statement on such a table waits for that session,
// and a first read of the table by another session queues behind the
// statement: the three would wait for one another for lock_wait_timeout (a
// year by default). A read that waited this long runs again on a session
// that holds the table, which needs no lock (onSession); when none does,
// the lock is someone else's and the read waits again.
const snapshotLockWaitSeconds = 2

// lock takes FLUSH TABLES WITH READ LOCK on ss. It reports false, without
// error, when the user lacks RELOAD, and on MariaDB when the lock is not
// granted in time (a single session then needs no lock); MySQL needs the
// lock for a consistent position, so a timeout is an error there.
func (s *Snapshot) lock(ctx context.Context, ss *snapSession) (bool, error) {
	if _, err := ss.conn.ExecContext(ctx, fmt.Sprintf("SET SESSION lock_wait_timeout = %d", lockWaitSeconds)); err != nil {
		return false, classify(ctx, "preparing the snapshot lock", err, 0)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.killQuery(ss) })
	_, err := ss.conn.ExecContext(ctx, "FLUSH TABLES WITH READ LOCK")
	stop()
	switch {
	case err == nil:
		_, err = ss.conn.ExecContext(ctx, "SET SESSION lock_wait_timeout = DEFAULT")
		return true, classify(ctx, "preparing the snapshot lock", err, 0)
	case errIsMySQL(err, erSpecificAccessDenied, erAccessDenied, erDBAccessDenied):
		slog.InfoContext(ctx, "mysql snapshot: the user lacks RELOAD (FLUSH TABLES WITH READ LOCK)", "endpoint", s.c.cfg)
		return false, nil
	case errIsMySQL(err, erLockWaitTimeout) && s.flavor.mariaDB && ctx.Err() == nil:
		slog.WarnContext(ctx, "mysql snapshot: FLUSH TABLES WITH READ LOCK timed out behind long-running statements", "endpoint", s.c.cfg,
			"lock_wait_timeout", lockWaitSeconds)
		return false, nil
	case errIsMySQL(err, erLockWaitTimeout):
		return false, fmt.Errorf("locking tables for the snapshot: FLUSH TABLES WITH READ LOCK waited %ds for running statements (long queries or transactions on the source?): %w",
			lockWaitSeconds, err)
	}
	return false, classify(ctx, "locking tables for the snapshot", err, 0)
}

func (s *Snapshot) newSession(ctx context.Context) (*snapSession, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, classify(ctx, "opening a snapshot session", err, 0)
	}
	ss := &snapSession{conn: conn, holds: map[string]bool{}}
	s.sessions = append(s.sessions, ss)
	if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&ss.id); err != nil {
		return nil, classify(ctx, "opening a snapshot session", err, 0)
	}
	return ss, nil
}

func (ss *snapSession) begin(ctx context.Context) error {
	for _, q := range []string{
		"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
		"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
	} {
		if _, err := ss.conn.ExecContext(ctx, q); err != nil {
			return classify(ctx, "starting the snapshot transaction", err, 0)
		}
	}
	return nil
}

// readPosition reads the binary log position of the snapshot: under the
// lock, the server's current one; without it, MariaDB's position of the
// session's snapshot. A server without a binary log has none (empty file).
func (s *Snapshot) readPosition(ctx context.Context, ss *snapSession, locked bool) error {
	if s.flavor.mariaDB {
		if !locked {
			if err := s.snapshotStatus(ctx, ss); err != nil {
				return err
			}
		} else if err := s.masterStatus(ctx, ss); err != nil {
			if !errIsMySQL(err, erSpecificAccessDenied) {
				return err
			}
			// No BINLOG MONITOR: the session's snapshot position is the
			// same under the lock and needs no privilege.
			if err := s.snapshotStatus(ctx, ss); err != nil {
				return err
			}
		}
		if s.file != "" {
			var gtid sql.NullString
			q := "SELECT @@GLOBAL.gtid_binlog_pos"
			args := []any{}
			if !locked {
				q = "SELECT BINLOG_GTID_POS(?, ?)"
				args = append(args, s.file, s.pos)
			}
			if err := ss.conn.QueryRowContext(ctx, q, args...).Scan(&gtid); err != nil {
				slog.WarnContext(ctx, "mysql snapshot: cannot read the GTID position", "err", err)
			}
			s.gtid = gtid.String
		}
		return nil
	}
	if err := s.masterStatus(ctx, ss); err != nil {
		if errIsMySQL(err, erSpecificAccessDenied) {
			slog.WarnContext(ctx, "mysql snapshot: the user may not read the binary log position (REPLICATION CLIENT): the snapshot has none", "endpoint", s.c.cfg)
			return nil
		}
		return err
	}
	if !locked && s.file != "" {
		slog.WarnContext(ctx, "mysql snapshot: without RELOAD the binary log position is read just before the snapshot starts: changes committed in between will be applied again by CDC",
			"endpoint", s.c.cfg)
	}
	return nil
}

// masterStatus reads SHOW MASTER STATUS (SHOW BINARY LOG STATUS on MySQL
// 8.4+, which removed the former).
func (s *Snapshot) masterStatus(ctx context.Context, ss *snapSession) error {
	rows, err := ss.conn.QueryContext(ctx, "SHOW MASTER STATUS")
	if errIsMySQL(err, erParseError) {
		rows, err = ss.conn.QueryContext(ctx, "SHOW BINARY LOG STATUS")
	}
	if err != nil {
		if errIsMySQL(err, erSpecificAccessDenied) {
			return err
		}
		return classify(ctx, "reading the binary log position", err, 0)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return classify(ctx, "reading the binary log position", err, 0)
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return classify(ctx, "reading the binary log position", err, 0)
		}
		for i, name := range cols {
			switch strings.ToLower(name) {
			case "file":
				s.file = vals[i].String
			case "position":
				s.pos, _ = strconv.ParseUint(vals[i].String, 10, 64)
			case "executed_gtid_set": // MySQL
				s.gtid = strings.ReplaceAll(vals[i].String, "\n", "")
			}
		}
	}
	return classify(ctx, "reading the binary log position", rows.Err(), 0)
}

// snapshotStatus reads MariaDB's binlog_snapshot_file/position: the binary
// log position of this session's consistent snapshot.
func (s *Snapshot) snapshotStatus(ctx context.Context, ss *snapSession) error {
	rows, err := ss.conn.QueryContext(ctx, "SHOW SESSION STATUS LIKE 'binlog_snapshot_%'")
	if err != nil {
		return classify(ctx, "reading the snapshot's binary log position", err, 0)
	}
	defer rows.Close()
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return classify(ctx, "reading the snapshot's binary log position", err, 0)
		}
		switch strings.ToLower(name) {
		case "binlog_snapshot_file":
			s.file = value
		case "binlog_snapshot_position":
			s.pos, _ = strconv.ParseUint(value, 10, 64)
		}
	}
	return classify(ctx, "reading the snapshot's binary log position", rows.Err(), 0)
}

// BinlogPosition is the binary log position the snapshot corresponds to:
// file and pos as SHOW MASTER STATUS gives them, and the GTID set (MariaDB
// gtid_binlog_pos, or MySQL's executed GTID set). file is empty when the
// server has no binary log (or the user may not read it).
func (s *Snapshot) BinlogPosition() (file string, pos uint64, gtid string) {
	return s.file, s.pos, s.gtid
}

// Sessions is how many reads the snapshot serves at once.
func (s *Snapshot) Sessions() int { return len(s.sessions) }

// acquire waits for a free session.
func (s *Snapshot) acquire(ctx context.Context) (*snapSession, error) {
	if s.free == nil {
		return nil, ErrClosed
	}
	select {
	case ss, ok := <-s.free:
		if !ok || ss == nil {
			return nil, fmt.Errorf("%w: every session of the snapshot was lost", ErrConnectionLost)
		}
		return ss, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// onSession runs run (a statement on table) on a free session, and again
// on a session of the snapshot that holds the table when it waited too long
// for the table's lock.
func (s *Snapshot) onSession(ctx context.Context, table string, run func(*snapSession) error) error {
	var want *snapSession // a session that holds the table, once a wait timed out
	for {
		ss, err := s.acquireSession(ctx, want)
		if err != nil {
			return err
		}
		err = run(ss)
		s.release(ctx, ss, err)
		if !errIsMySQL(err, erLockWaitTimeout) || ctx.Err() != nil {
			if err == nil {
				s.mu.Lock()
				ss.holds[table] = true
				s.mu.Unlock()
			}
			return err
		}
		// When no session holds the table, the lock is not the
		// snapshot's: wait for it again.
		if want = s.holder(table); want != nil {
			slog.InfoContext(ctx, "mysql snapshot: a DDL statement waits for this snapshot's hold on a table; reading it on the session that holds it",
				"table", table)
		}
	}
}

// holder is a live session that has read table, or nil.
func (s *Snapshot) holder(table string) *snapSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.sessions {
		if ss.holds[table] && !ss.lost {
			return ss
		}
	}
	return nil
}

// acquireSession waits for want to be free (for any session when want is
// nil).
func (s *Snapshot) acquireSession(ctx context.Context, want *snapSession) (*snapSession, error) {
	for {
		ss, err := s.acquire(ctx)
		if err != nil {
			return nil, err
		}
		if want == nil || ss == want {
			return ss, nil
		}
		s.free <- ss
		s.mu.Lock()
		lost := want.lost
		s.mu.Unlock()
		if lost {
			return nil, fmt.Errorf("%w: the snapshot session holding the table was lost", ErrConnectionLost)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// release returns ss to the snapshot after a read that ended with err. A
// session that broke (connection lost, or a read cancelled mid-result,
// which closes the connection) cannot rejoin the snapshot: it is dropped,
// and the remaining sessions serve the reads.
func (s *Snapshot) release(ctx context.Context, ss *snapSession, err error) {
	if err != nil && !ss.alive() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.live--
		ss.lost = true
		slog.WarnContext(ctx, "mysql snapshot: a session was lost", "sessions_left", s.live, "err", err)
		if s.live == 0 {
			close(s.free)
		}
		return
	}
	s.free <- ss
}

// alive pings the session.
func (ss *snapSession) alive() bool {
	ctx, cancel := context.WithTimeout(context.Background(), killTimeout)
	defer cancel()
	return ss.conn.PingContext(ctx) == nil
}

// killQuery stops the statement a session is running, from another
// connection, so that an abandoned result set need not be read to its end.
func (s *Snapshot) killQuery(ss *snapSession) error {
	ctx, cancel := context.WithTimeout(context.Background(), killTimeout)
	defer cancel()
	_, err := s.db.ExecContext(ctx, fmt.Sprintf("KILL QUERY %d", ss.id))
	return err
}

// Close ends every session's transaction and closes them.
func (s *Snapshot) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		for _, ss := range s.sessions {
			_, _ = ss.conn.ExecContext(context.Background(), "ROLLBACK")
			if err := ss.conn.Close(); err != nil && !errors.Is(err, sql.ErrConnDone) {
				errs = append(errs, err)
			}
		}
		errs = append(errs, s.db.Close())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
