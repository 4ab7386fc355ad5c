package testenv

import "errors"

// ErrNotInstalled: the server binaries (or a user to run them as) are not
// available on this machine. Postgres and MariaDB skip the test on it, unless
// CI=true.
var ErrNotInstalled = errors.New("testenv: database server not installed")

// ErrNotRunning: the server was stopped (Stop) and not started again.
var ErrNotRunning = errors.New("testenv: server is not running")

// ErrStartTimeout: the server did not accept connections within the start timeout.
var ErrStartTimeout = errors.New("testenv: server did not become ready in time")

// errAddrInUse: the server could not bind its port; the caller retries with another.
var errAddrInUse = errors.New("testenv: port already in use")
