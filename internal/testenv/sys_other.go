//go:build !linux

package testenv

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
)

func serverIdentity() (identity, error) {
	return identity{}, fmt.Errorf("%w: testenv supports linux only, not %s", ErrNotInstalled, runtime.GOOS)
}

func procAttr(identity) *syscall.SysProcAttr { return nil }

// processAlive errs on the side of keeping leftover directories.
func processAlive(int) bool { return true }

// ClosedPort returns a loopback TCP port with nothing listening on it.
func ClosedPort(t testing.TB) int {
	t.Helper()
	return FreePort(t)
}
