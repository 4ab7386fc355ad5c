package postgres

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

// piecesReader returns its pieces one a read (an error piece as the
// read's error), and records whether each read came after a pause.
type piecesReader struct {
	pieces [][]byte
	errs   map[int]error
	paused bool
	log    []bool // per read: a pause came before it
}

func (r *piecesReader) Read(p []byte) (int, error) {
	r.log = append(r.log, r.paused)
	r.paused = false
	i := len(r.log) - 1
	if i >= len(r.pieces) {
		return 0, io.EOF
	}
	if err := r.errs[i]; err != nil {
		return 0, err
	}
	return copy(p, r.pieces[i]), nil
}

// A gathering reader passes every byte and error through, pausing
// only after a read that found little.
func TestGatherPausesAfterSmallReads(t *testing.T) {
	big := bytes.Repeat([]byte("x"), gatherSmall)
	src := &piecesReader{
		pieces: [][]byte{[]byte("ab"), big, []byte("c"), nil, []byte("d"), big, big},
		errs:   map[int]error{3: os.ErrDeadlineExceeded},
	}
	g := &gather{r: src, pause: func() { src.paused = true }}
	g.on.Store(true)
	var got []byte
	buf := make([]byte, 2*gatherSmall)
	var errs []error
	for {
		n, err := g.Read(buf)
		got = append(got, buf[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	want := append(append(append(append([]byte("ab"), big...), "cd"...), big...), big...)
	if !bytes.Equal(got, want) {
		t.Errorf("read %d bytes, want %d in order", len(got), len(want))
	}
	if len(errs) != 1 || !errors.Is(errs[0], os.ErrDeadlineExceeded) {
		t.Errorf("errors = %v, want the one deadline error", errs)
	}
	// Reads: "ab" (first, no pause), big (after a small read), "c" (after
	// a big one), the error (after a small one), "d" (after an empty
	// one), big, big (after a big one), EOF (after a big one).
	wantLog := []bool{false, true, false, true, true, true, false, false}
	if len(src.log) != len(wantLog) {
		t.Fatalf("%d reads, want %d", len(src.log), len(wantLog))
	}
	for i := range wantLog {
		if src.log[i] != wantLog[i] {
			t.Errorf("read %d: paused before it = %v, want %v", i, src.log[i], wantLog[i])
		}
	}
}

// A reader that is off passes reads through without pausing.
func TestGatherOffDoesNotPause(t *testing.T) {
	src := &piecesReader{pieces: [][]byte{[]byte("a"), []byte("b"), []byte("c")}}
	g := &gather{r: src, pause: func() { src.paused = true }}
	buf := make([]byte, 16)
	for {
		if _, err := g.Read(buf); err != nil {
			break
		}
	}
	for i, p := range src.log {
		if p {
			t.Errorf("read %d came after a pause", i)
		}
	}
	if g.paused != 0 {
		t.Errorf("%d pauses", g.paused)
	}
}
