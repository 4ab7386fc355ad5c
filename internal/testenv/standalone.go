package testenv

import "fmt"

// Standalone servers, for programs that are not tests (the benchmark
// command): each call starts a fresh server of its own, separate from the
// shared server of a test binary, which the caller stops and removes with
// Close. Missing binaries are reported as ErrNotInstalled.

// StartPostgres starts a new PostgreSQL server, configured as for tests
// (logical decoding, TLS, a password superuser), on a free port in a fresh
// directory.
func StartPostgres() (*PGServer, error) { return startPostgres() }

// StartMariaDB starts a new MariaDB server, configured as for tests (row
// binlog, TLS, local_infile, a password user with all privileges), on a
// free port in a fresh directory.
func StartMariaDB() (*MySQLServer, error) { return startMariaDB() }

// Close stops the server at once (immediate shutdown) and removes its
// directory. The server cannot be started again.
func (s *PGServer) Close() error { return s.teardown() }

// Close kills the server and removes its directory. The server cannot be
// started again.
func (s *MySQLServer) Close() error { return s.teardown() }

// CreateDatabase creates the database name (an unquoted identifier). Unlike
// NewDatabase, nothing drops it: it goes with the server.
func (s *PGServer) CreateDatabase(name string) error {
	if !validIdent(name) {
		return fmt.Errorf("testenv: %q is not a plain database name", name)
	}
	return s.exec("postgres", "CREATE DATABASE "+name)
}

// CreateDatabase creates the database name (an unquoted identifier). Unlike
// NewDatabase, nothing drops it: it goes with the server.
func (s *MySQLServer) CreateDatabase(name string) error {
	if !validIdent(name) {
		return fmt.Errorf("testenv: %q is not a plain database name", name)
	}
	return s.exec("", "CREATE DATABASE "+name)
}

// PID is the process id of the running server (the postmaster), 0 when it
// is stopped.
func (s *PGServer) PID() int {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.proc == nil || s.proc.exited() {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// PID is the process id of the running server, 0 when it is stopped.
func (s *MySQLServer) PID() int {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.proc == nil || s.proc.exited() {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// validIdent accepts lower-case letters, digits and underscores, not
// starting with a digit.
func validIdent(s string) bool {
	if s == "" || len(s) > 63 || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
