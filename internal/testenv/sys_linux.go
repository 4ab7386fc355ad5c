package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"testing"
)

// serverIdentity is the OS user the PostgreSQL server runs as. PostgreSQL
// refuses to run as root, so under root it is "nobody"; otherwise the current
// user (no switch).
func serverIdentity() (identity, error) {
	if os.Geteuid() != 0 {
		return identity{uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return identity{}, fmt.Errorf("%w: running as root and no user %q to run PostgreSQL as: %v", ErrNotInstalled, "nobody", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return identity{}, fmt.Errorf("testenv: uid of nobody: %w", err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return identity{}, fmt.Errorf("testenv: gid of nobody: %w", err)
	}
	return identity{uid: uid, gid: gid, switchUser: true}, nil
}

// procAttr puts a server in its own process group (a Ctrl-C aimed at `go
// test` does not reach it directly) and asks the kernel to SIGKILL it when
// the test binary dies, so a crashed or timed-out test binary leaves no
// server behind. (Pdeathsig is tied to the forking OS thread; Go keeps its
// threads unless a goroutine exits while locked to one, which test code here
// does not do.)
func procAttr(id identity) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if id.switchUser {
		a.Credential = &syscall.Credential{Uid: uint32(id.uid), Gid: uint32(id.gid)}
	}
	return a
}

// processAlive reports whether a process with this pid exists.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	// A zombie still answers kill(pid, 0); /proc tells it apart. (The state
	// is the field after the command name, which is in parentheses.)
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
			return b[i+2] != 'Z' && b[i+2] != 'X'
		}
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ClosedPort returns a loopback TCP port on which connections are refused.
// The port is held by a socket that is bound but never listens, so nothing
// else can take it until the test ends.
func ClosedPort(t testing.TB) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("testenv: socket: %v", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		t.Fatalf("testenv: bind: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		t.Fatalf("testenv: getsockname: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	return sa.(*syscall.SockaddrInet4).Port
}
