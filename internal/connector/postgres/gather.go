package postgres

import (
	"bufio"
	"io"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Gathered reads. A server streaming to Godwit (the walsender's decoded
// changes, a COPY TO of a full load) sends each piece as soon as the socket
// takes it, so a reader that keeps the socket empty gets one small piece
// per read: a wakeup and a system call per change, or per 8 KB of a COPY,
// CPU that a small machine's servers need. After a read that found little,
// a gathering reader pauses briefly so that the next read takes what
// arrived meanwhile in one piece; a read that found much is followed at
// once. The pause adds at most gatherPause to the latency of what arrives.
const (
	gatherBuffer = 256 << 10
	gatherSmall  = 32 << 10
	gatherPause  = time.Millisecond
)

// gather pauses before a read when it is on and the last read returned
// fewer than gatherSmall bytes. A session's reads go through one: the
// replication connection's always gathers; a snapshot session's gathers
// only while it streams a COPY TO (Snapshot.copyTo), so that its other
// statements are not delayed.
type gather struct {
	r      io.Reader
	pause  func()
	on     atomic.Bool
	small  bool
	paused int // pauses made (tests read it)
}

func newGather() *gather {
	return &gather{pause: func() { time.Sleep(gatherPause) }}
}

// frontend is BuildFrontend for a session whose reads go through g: a
// buffer that takes up to gatherBuffer bytes a read, in front of g.
func (g *gather) frontend(r io.Reader, w io.Writer) *pgproto3.Frontend {
	g.r = r
	return pgproto3.NewFrontend(bufio.NewReaderSize(g, gatherBuffer), w)
}

func (g *gather) Read(p []byte) (int, error) {
	if g.small && g.on.Load() {
		g.pause()
		g.paused++
	}
	n, err := g.r.Read(p)
	g.small = n < gatherSmall
	return n, err
}

// cdcFrontend is the protocol reader of a replication connection, always
// gathering.
func cdcFrontend(r io.Reader, w io.Writer) *pgproto3.Frontend {
	g := newGather()
	g.on.Store(true)
	return g.frontend(r, w)
}
