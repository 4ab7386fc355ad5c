package engine

import (
	"sync"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// sourceIdleAfter: when no transaction was read from the source for this
// long, change capture has caught up and CDCLatencySource is 0, as DMS
// resets it when a read finds no new event.
const sourceIdleAfter = 5 * time.Second

// cdcMonitor follows a running change processing: what was read from the
// source, what waits to be committed on the target, what was applied. It
// gives the CDCLatencySource and CDCLatencyTarget figures and the columns
// of awsdms_status and awsdms_history. The cdc pipeline feeds it
// (cdc.Monitor from the reading goroutine, applied from the checkpointer).
type cdcMonitor struct {
	// volume: measure the size of the changes (awsdms_history's
	// TIMESLOT_VOLUME), not needed otherwise.
	volume bool

	mu sync.Mutex
	// waiting are the transactions read and not yet committed on the
	// target, in commit order; waitingChanges counts their changes.
	waiting        []monitoredTx
	waitingChanges int64
	last           monitoredTx // the last transaction read
	lastRead       time.Time   // when it was read
	applied        monitoredTx // the last transaction committed on the target
	// records and bytes total the changes committed on the target.
	records, bytes int64
}

type monitoredTx struct {
	position string
	commit   time.Time
	changes  int64
	bytes    int64
}

func (m *cdcMonitor) Streaming(from string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.waiting, m.waitingChanges = nil, 0
}

func (m *cdcMonitor) Captured(tx *record.Transaction, received time.Time) {
	mt := monitoredTx{position: tx.Position, commit: tx.CommitTime, changes: int64(len(tx.Changes))}
	if m.volume {
		mt.bytes = tx.Bytes()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.waiting = append(m.waiting, mt)
	m.waitingChanges += mt.changes
	m.last, m.lastRead = mt, received
}

// applied records that every transaction read up to position pos is
// committed on the target.
func (m *cdcMonitor) appliedUpTo(pos string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, mt := range m.waiting {
		if mt.position != pos {
			continue
		}
		for _, done := range m.waiting[:i+1] {
			m.records += done.changes
			m.bytes += done.bytes
			m.waitingChanges -= done.changes
		}
		m.applied = mt
		m.waiting = append(m.waiting[:0], m.waiting[i+1:]...)
		return
	}
}

// latency is CDCLatencySource (the age of the last event read from the
// source while events keep coming; 0 once capture is idle) and
// CDCLatencyTarget (the age of the oldest event waiting to be committed
// on the target; the source latency when nothing waits), in seconds.
func (m *cdcMonitor) latency(now time.Time) (source, target int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.last.commit.IsZero() && now.Sub(m.lastRead) < sourceIdleAfter {
		source = max(0, int64(now.Sub(m.last.commit).Seconds()))
	}
	target = source
	if len(m.waiting) > 0 && !m.waiting[0].commit.IsZero() {
		target = max(source, int64(now.Sub(m.waiting[0].commit).Seconds()))
	}
	return source, target
}

// monitorState is a consistent copy of what awsdms_status shows.
type monitorState struct {
	pending                int64
	current, tail, applied monitoredTx
	records, bytes         int64
}

func (m *cdcMonitor) state() monitorState {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := monitorState{pending: m.waitingChanges, current: m.last, tail: m.applied, applied: m.applied, records: m.records, bytes: m.bytes}
	if len(m.waiting) > 0 {
		st.tail = m.waiting[0]
	}
	return st
}
