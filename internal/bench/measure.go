package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CPU accounting, as lib.sh does it, so that a run disturbed by something
// else on the machine can be spotted: "ours" is this process (Godwit, the
// SDK client, and the psql/mariadb clients it ran and reaped) plus the
// benchmark's database servers and their live children; "foreign" is all
// busy CPU of the machine minus ours. Both are in cores (1.0 = one core
// busy over the window).

// clkTck is USER_HZ, the unit of /proc's CPU times: 100 on every Linux
// architecture Go runs on.
const clkTck = 100

type cpuWatch struct {
	// servers returns the pids of the database servers in use, by name.
	servers func() map[string]int
}

// selfName is the component of this process (Godwit, the SDK client, and
// the client tools it reaped) in a CPU breakdown.
const selfName = "self"

type cpuMark struct {
	at    time.Time
	busy  int64
	parts map[string]int64 // ticks by component
}

func (m cpuMark) ours() int64 {
	var sum int64
	for _, v := range m.parts {
		sum += v
	}
	return sum
}

func (w *cpuWatch) mark() cpuMark {
	return cpuMark{at: time.Now(), busy: busyTicks(), parts: w.partTicks()}
}

// since returns the cores used by us and by others since m.
func (w *cpuWatch) since(m cpuMark) (ours, foreign float64) {
	ours, foreign, _ = w.breakdown(m)
	return ours, foreign
}

// breakdown returns the cores used by us and by others since m, and the
// CPU seconds of each of our components.
func (w *cpuWatch) breakdown(m cpuMark) (ours, foreign float64, secs map[string]float64) {
	now := w.mark()
	dt := now.at.Sub(m.at).Seconds() * clkTck
	secs = map[string]float64{}
	for k, v := range now.parts {
		secs[k] = float64(v-m.parts[k]) / clkTck
	}
	if dt <= 0 {
		return 0, 0, secs
	}
	o := now.ours() - m.ours()
	ours = float64(o) / dt
	foreign = float64(now.busy-m.busy-o) / dt
	return max(ours, 0), max(foreign, 0), secs
}

// waitQuiet waits, up to maxWait, until the processes that are not ours use
// fewer than cores cores over a one-second window (lib.sh's wait_quiet).
func (w *cpuWatch) waitQuiet(ctx context.Context, cores float64, maxWait time.Duration, logf func(string, ...any)) {
	var f float64
	for deadline := time.Now().Add(maxWait); ; {
		m := w.mark()
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		_, f = w.since(m)
		if f < cores {
			return
		}
		if time.Now().After(deadline) {
			logf("note: machine not quiet after %s (foreign load %.2f cores); measuring anyway", maxWait, f)
			return
		}
	}
}

// busyTicks is user+nice+system+irq+softirq+steal of all CPUs.
func busyTicks() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var sum int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		sum += n
	}
	return sum
}

// partTicks is the CPU time of this process and of each server with its
// live children (the children it reaped are in its own cutime).
func (w *cpuWatch) partTicks() map[string]int64 {
	parts := map[string]int64{selfName: procTicks("self")}
	var servers map[string]int
	if w.servers != nil {
		servers = w.servers()
	}
	if len(servers) == 0 {
		return parts
	}
	var pids []int
	for _, pid := range servers {
		pids = append(pids, pid)
	}
	children := childrenOf(pids)
	for name, pid := range servers {
		t := procTicks(strconv.Itoa(pid))
		for _, c := range children[pid] {
			t += procTicks(strconv.Itoa(c))
		}
		parts[name] = t
	}
	return parts
}

// statFields returns the fields of /proc/<pid>/stat after the command name:
// [0] is the state, [1] the parent pid, [11..14] utime, stime, cutime, cstime.
func statFields(pid string) []string {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return nil
	}
	return strings.Fields(string(b[i+2:]))
}

// procTicks is the CPU time of a process and of the children it reaped.
func procTicks(pid string) int64 {
	f := statFields(pid)
	if len(f) < 15 {
		return 0
	}
	var sum int64
	for _, i := range []int{11, 12, 13, 14} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		sum += n
	}
	return sum
}

// childrenOf maps each of the parents to its live child processes.
func childrenOf(parents []int) map[int][]int {
	want := map[int]bool{}
	for _, p := range parents {
		want[p] = true
	}
	out := map[int][]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid := filepath.Base(d)
		f := statFields(pid)
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if want[ppid] {
			n, _ := strconv.Atoi(pid)
			out[ppid] = append(out[ppid], n)
		}
	}
	return out
}

// rssSampler follows the resident set of this process during one run: it
// resets the kernel's high-water mark (VmHWM) at the start when the kernel
// allows it (writing 5 to /proc/self/clear_refs), and samples VmRSS every
// 50 ms besides, so the peak is known either way.
type rssSampler struct {
	hwmReset bool
	peak     atomic.Int64 // bytes
	stop     chan struct{}
	wg       sync.WaitGroup
}

// startRSS collects garbage and returns freed memory to the OS first, so
// that a run does not carry the previous run's heap.
func startRSS() *rssSampler {
	runtime.GC()
	debug.FreeOSMemory()
	s := &rssSampler{stop: make(chan struct{})}
	s.hwmReset = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	s.peak.Store(procStatus("VmRSS"))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				if v := procStatus("VmRSS"); v > s.peak.Load() {
					s.peak.Store(v)
				}
			}
		}
	}()
	return s
}

// Stop returns the peak resident set in bytes, and how it was known.
func (s *rssSampler) Stop() (int64, string) {
	close(s.stop)
	s.wg.Wait()
	peak, how := s.peak.Load(), "VmRSS sampled every 50 ms"
	if s.hwmReset {
		if hwm := procStatus("VmHWM"); hwm >= peak {
			peak, how = hwm, "VmHWM after a clear_refs reset"
		}
	}
	return peak, how
}

// procStatus returns a "kB" line of /proc/self/status in bytes.
func procStatus(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != key {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		return n << 10
	}
	return 0
}

// countingWriter counts the bytes written to it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// mib formats bytes as MiB.
func mib(b int64) string { return fmt.Sprintf("%.0f", float64(b)/(1<<20)) }
