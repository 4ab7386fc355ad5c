package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// process is a running server. Its stdout and stderr go to a log file, which
// is appended to across restarts.
type process struct {
	cmd      *exec.Cmd
	logPath  string
	logStart int64 // size of the log when this process started
	done     chan struct{}
	waitErr  error // set before done is closed
}

func launch(cmd *exec.Cmd, id identity, logPath string) (*process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	if err := id.chown(logPath); err != nil {
		f.Close()
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("testenv: %w", err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = procAttr(id)
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("testenv: start %s: %w", cmd.Path, err)
	}
	p := &process{cmd: cmd, logPath: logPath, logStart: st.Size(), done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig and waits up to grace for the process to exit, then kills it.
func (p *process) stop(sig os.Signal, grace time.Duration) error {
	if p.exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("testenv: signal %s: %w", filepath.Base(p.cmd.Path), err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	p.cmd.Process.Kill()
	select {
	case <-p.done:
		return fmt.Errorf("testenv: %s ignored %v for %s and was killed", filepath.Base(p.cmd.Path), sig, grace)
	case <-time.After(10 * time.Second):
		return fmt.Errorf("testenv: %s (pid %d) does not exit", filepath.Base(p.cmd.Path), p.cmd.Process.Pid)
	}
}

// kill stops the process at once and waits for it.
func (p *process) kill() {
	if p.exited() {
		return
	}
	p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// waitReady polls probe until it succeeds, the process exits, or the start
// timeout passes. Errors carry the tail of this process's log.
func (p *process) waitReady(probe func(ctx context.Context) error) error {
	deadline := time.Now().Add(startTimeout)
	for {
		if p.exited() {
			return p.withLog(fmt.Errorf("testenv: %s exited during startup: %v", filepath.Base(p.cmd.Path), p.waitErr))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := probe(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			p.kill()
			return p.withLog(fmt.Errorf("%w (%s): %v", ErrStartTimeout, startTimeout, err))
		}
		select {
		case <-p.done:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// withLog appends the log tail to err, and marks a failed bind as errAddrInUse.
func (p *process) withLog(err error) error {
	tail := logTail(p.logPath, p.logStart)
	if strings.Contains(tail, "Address already in use") {
		err = fmt.Errorf("%w: %w", errAddrInUse, err)
	}
	return fmt.Errorf("%w\n--- %s ---\n%s", err, p.logPath, tail)
}

// logTail returns the last lines of a log written since offset from.
func logTail(path string, from int64) string {
	const max = 6 << 10
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err.Error()
	}
	if st.Size()-from > max {
		from = st.Size() - max
	}
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return err.Error()
	}
	b, _ := io.ReadAll(f)
	return strings.TrimRight(string(b), "\n")
}

// findBinary returns the first of names found on PATH or in the given
// directories.
func findBinary(names []string, dirs ...string) (string, error) {
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	for _, dir := range dirs {
		for _, name := range names {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%w: none of %s on PATH or in %s", ErrNotInstalled, strings.Join(names, ", "), strings.Join(dirs, ", "))
}

// run runs a setup command (initdb, mariadb-install-db) as id, with its
// output in logPath, and includes the output in the error.
func run(cmd *exec.Cmd, id identity, logPath string) error {
	p, err := launch(cmd, id, logPath)
	if err != nil {
		return err
	}
	select {
	case <-p.done:
	case <-time.After(2 * startTimeout):
		p.kill()
		return p.withLog(fmt.Errorf("testenv: %s: still running after %s, killed", strings.Join(cmd.Args, " "), 2*startTimeout))
	}
	if p.waitErr != nil || p.cmd.ProcessState == nil || !p.cmd.ProcessState.Success() {
		return p.withLog(fmt.Errorf("testenv: %s: %v", strings.Join(cmd.Args, " "), p.waitErr))
	}
	return nil
}
