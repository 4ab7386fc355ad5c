// Package bytearena copies many small byte values into shared chunks, so
// that decoding a batch of rows or messages costs a few allocations
// instead of one per value.
package bytearena

import "unsafe"

const (
	chunk = 64 << 10
	large = 4 << 10 // values above this get their own allocation
)

// Arena hands out copies of byte values cut from shared chunks. A chunk is
// never written again once a value is cut from it: strings made from it
// stay immutable, and a retained value keeps only its chunk alive. The
// zero Arena is ready to use; it is not safe for concurrent use.
type Arena struct{ buf []byte }

// Bytes is a copy of b (empty, not nil, when b is empty).
func (a *Arena) Bytes(b []byte) []byte {
	if len(b) == 0 {
		return []byte{}
	}
	if len(b) > large {
		return append([]byte(nil), b...)
	}
	if cap(a.buf)-len(a.buf) < len(b) {
		a.buf = make([]byte, 0, chunk)
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.buf[start:len(a.buf):len(a.buf)]
}

// String is b as a string sharing a copy's bytes.
func (a *Arena) String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	c := a.Bytes(b)
	return unsafe.String(unsafe.SliceData(c), len(c))
}
