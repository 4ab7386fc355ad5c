package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; migrations[i] takes the database from
// PRAGMA user_version i to i+1. Append new steps, never edit released ones.
//
// Times are INTEGER nanoseconds since the Unix epoch (UTC). Record documents
// are BLOBs so they round-trip byte for byte.
var migrations = [][]string{
	// 1: records, tags, events.
	{
		`CREATE TABLE records (
			kind       TEXT    NOT NULL,
			id         TEXT    NOT NULL,
			arn        TEXT    NOT NULL DEFAULT '',
			parent     TEXT    NOT NULL DEFAULT '',
			revision   INTEGER NOT NULL,
			schema     INTEGER NOT NULL,
			doc        BLOB    NOT NULL,
			created_at INTEGER NOT NULL,
			updated_at INTEGER NOT NULL,
			seq        INTEGER NOT NULL,
			PRIMARY KEY (kind, id)
		) STRICT`,
		// seq is the creation order; the unique index also makes MAX(seq) cheap.
		`CREATE UNIQUE INDEX records_seq ON records (seq)`,
		`CREATE INDEX records_kind_seq ON records (kind, seq)`,
		`CREATE INDEX records_parent ON records (parent, kind, seq)`,
		// An ARN is unique across the store when it is set; many records may
		// have none.
		`CREATE UNIQUE INDEX records_arn ON records (arn) WHERE arn <> ''`,
		`CREATE TABLE tags (
			arn   TEXT NOT NULL,
			key   TEXT NOT NULL,
			value TEXT NOT NULL,
			PRIMARY KEY (arn, key)
		) STRICT, WITHOUT ROWID`,
		`CREATE TABLE events (
			seq         INTEGER PRIMARY KEY AUTOINCREMENT,
			source_id   TEXT    NOT NULL,
			source_type TEXT    NOT NULL,
			message     TEXT    NOT NULL,
			categories  TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(categories)),
			date        INTEGER NOT NULL
		) STRICT`,
		`CREATE INDEX events_source ON events (source_id, source_type)`,
		`CREATE INDEX events_date ON events (date)`,
	},
}

// migrate brings the database up to the newest schema in one immediate
// transaction, so two processes opening the same file cannot both apply a step.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite store: migrate: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("sqlite store: migrate: read user_version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("%w: database is at version %d, this build knows %d", ErrSchemaTooNew, version, len(migrations))
	}
	if version == len(migrations) {
		return nil
	}
	for v := version; v < len(migrations); v++ {
		for _, stmt := range migrations[v] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("sqlite store: migrate to version %d: %w", v+1, err)
			}
		}
	}
	// PRAGMA does not take bound parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations))); err != nil {
		return fmt.Errorf("sqlite store: migrate: set user_version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite store: migrate: commit: %w", err)
	}
	return nil
}
