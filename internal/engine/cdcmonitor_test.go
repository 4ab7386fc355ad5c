package engine

import (
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

func TestCDCMonitorLatency(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tx := func(pos string, commit time.Time, n int) *record.Transaction {
		return &record.Transaction{Position: pos, CommitTime: commit, Changes: make([]record.Change, n)}
	}
	m := &cdcMonitor{}
	if s, g := m.latency(t0); s != 0 || g != 0 {
		t.Fatalf("nothing read: latency %d/%d", s, g)
	}
	// Two transactions read 3 s after their commits, none applied yet.
	m.Captured(tx("a", t0, 2), t0.Add(3*time.Second))
	m.Captured(tx("b", t0.Add(time.Second), 1), t0.Add(4*time.Second))
	if s, g := m.latency(t0.Add(4 * time.Second)); s != 3 || g != 4 {
		t.Fatalf("latency %d/%d, want source 3 (last read), target 4 (oldest waiting)", s, g)
	}
	if st := m.state(); st.pending != 3 || st.tail.position != "a" || st.current.position != "b" {
		t.Fatalf("state %+v", st)
	}
	m.appliedUpTo("a")
	if st := m.state(); st.pending != 1 || st.records != 2 || st.tail.position != "b" || st.applied.position != "a" {
		t.Fatalf("after applying a: %+v", st)
	}
	m.appliedUpTo("b")
	if s, g := m.latency(t0.Add(5 * time.Second)); s != 4 || g != 4 {
		t.Fatalf("all applied: latency %d/%d, want the source's for both", s, g)
	}
	// Capture idle: DMS resets the source latency to 0.
	if s, g := m.latency(t0.Add(4*time.Second + sourceIdleAfter)); s != 0 || g != 0 {
		t.Fatalf("idle: latency %d/%d", s, g)
	}
	// A restart of the stream forgets what waited (it is read again).
	m.Captured(tx("c", t0.Add(10*time.Second), 5), t0.Add(10*time.Second))
	m.Streaming("b")
	if st := m.state(); st.pending != 0 || st.records != 3 {
		t.Fatalf("after a restart: %+v", st)
	}
}
