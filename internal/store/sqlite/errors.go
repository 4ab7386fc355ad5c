package sqlite

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var (
	// ErrTxDone: a Tx was used after the Update that created it returned.
	ErrTxDone = errors.New("sqlite store: transaction has already ended")
	// ErrClosed: the Store was used after Close.
	ErrClosed = errors.New("sqlite store: closed")
	// ErrSchemaTooNew: the database was written by a newer Godwit whose
	// schema this build does not know.
	ErrSchemaTooNew = errors.New("sqlite store: database schema is newer than this build")
)

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY constraint
// failure, judged by the extended SQLite result code (the driver turns
// extended result codes on for every connection).
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}
