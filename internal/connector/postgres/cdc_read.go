package postgres

import (
	"bufio"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// How the replication connection reads. The walsender sends each decoded
// change as soon as the socket takes it, so a reader that keeps the socket
// empty gets one small message per read: a wakeup and a system call per
// change on both sides, CPU that a small machine's target needs. After a
// read that found little, the reader pauses briefly so that the next one
// takes what arrived meanwhile in one piece; a read that found much is
// followed at once. The pause adds at most cdcReadPause to a change's
// latency.
const (
	cdcReadBuffer = 256 << 10
	cdcSmallRead  = 32 << 10
	cdcReadPause  = time.Millisecond
)

// cdcFrontend is the protocol reader of a replication connection: reads
// coalesced by cdcGather, through a buffer that takes up to cdcReadBuffer
// bytes a read.
func cdcFrontend(r io.Reader, w io.Writer) *pgproto3.Frontend {
	g := &cdcGather{r: r, pause: func() { time.Sleep(cdcReadPause) }}
	return pgproto3.NewFrontend(bufio.NewReaderSize(g, cdcReadBuffer), w)
}

// cdcGather pauses before a read when the last one returned fewer than
// cdcSmallRead bytes.
type cdcGather struct {
	r     io.Reader
	pause func()
	small bool
}

func (g *cdcGather) Read(p []byte) (int, error) {
	if g.small {
		g.pause()
	}
	n, err := g.r.Read(p)
	g.small = n < cdcSmallRead
	return n, err
}
