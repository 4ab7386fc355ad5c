package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/record"
)

// snapshotLockWait bounds how long a session of a snapshot of several
// sessions waits for a table's lock before it looks again. Each session's
// transaction holds the lock of every table it read until the snapshot
// closes. A DDL statement on such a table (ALTER TABLE) waits for that
// session, and a first read of the table by another session queues behind
// the statement: the three wait for one another, and the server cannot see
// the cycle, which goes through Godwit (the holder is idle, waiting for the
// queued read to end). A read that waited this long runs on a session that
// holds the table instead, which needs no new lock; when none does, the lock
// is someone else's and the read waits again.
const snapshotLockWait = 2 * time.Second

// tableSession is acquireTable followed by t's relation (its columns'
// read plans): the session, which the caller releases, and the relation.
func (s *Snapshot) tableSession(ctx context.Context, t *record.Table) (*pgx.Conn, *relation, error) {
	pg, err := s.acquireTable(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	rel, err := s.relation(ctx, pg, t)
	if err != nil {
		err = classify(ctx, pg, "reading the table's columns", err)
		s.release(pg)
		return nil, nil, err
	}
	return pg, rel, nil
}

// acquireTable is acquire for statements on t: on a snapshot of several
// sessions, the session returned holds t's lock (ACCESS SHARE, taken with
// LOCK TABLE under snapshotLockWait, in a savepoint so that a timeout
// leaves the snapshot's transaction as it was).
func (s *Snapshot) acquireTable(ctx context.Context, t *record.Table) (*pgx.Conn, error) {
	pg, err := s.acquire(ctx)
	if err != nil || cap(s.slots) == 1 || s.noLock.Load() {
		return pg, err
	}
	name := quoteTable(t.Schema, t.Name)
	for {
		if s.holds(pg, name) {
			return pg, nil
		}
		err := pg.PgConn().Exec(ctx, "SAVEPOINT godwit_lock; SET LOCAL lock_timeout = "+
			fmt.Sprint(snapshotLockWait.Milliseconds())+"; LOCK TABLE "+name+" IN ACCESS SHARE MODE; RELEASE SAVEPOINT godwit_lock; SET LOCAL lock_timeout = DEFAULT").Close()
		if err == nil {
			s.mu.Lock()
			s.held[pg] = append(s.held[pg], name)
			s.mu.Unlock()
			return pg, nil
		}
		readOnly := isSQLState(err, sqlstateReadOnlyTransaction)
		if (readOnly || isSQLState(err, sqlstateLockNotAvailable)) && ctx.Err() == nil {
			err = pg.PgConn().Exec(ctx, "ROLLBACK TO SAVEPOINT godwit_lock; RELEASE SAVEPOINT godwit_lock").Close()
		}
		if err != nil {
			err = classify(ctx, pg, "locking "+name+" for reading", err)
			s.release(pg)
			return nil, err
		}
		if readOnly {
			// Before PostgreSQL 13 a read-only transaction cannot LOCK
			// TABLE: the reads take their locks as they go, as before.
			s.noLock.Store(true)
			return pg, nil
		}
		s.mu.Lock()
		elsewhere := s.heldBy(pg, name)
		s.mu.Unlock()
		if !elsewhere {
			continue
		}
		slog.InfoContext(ctx, "postgres snapshot: a statement waits for this snapshot's hold on a table; reading it on the session that holds it",
			"table", name)
		s.release(pg)
		if pg, err = s.acquireHolding(ctx, name); err != nil {
			return nil, err
		}
	}
}

// holds reports whether pg's transaction holds the lock of table name.
func (s *Snapshot) holds(pg *pgx.Conn, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.held[pg], name)
}

// heldBy reports (under mu) whether a session other than pg holds name.
func (s *Snapshot) heldBy(pg *pgx.Conn, name string) bool {
	for other, names := range s.held {
		if other != pg && slices.Contains(names, name) {
			return true
		}
	}
	return false
}
