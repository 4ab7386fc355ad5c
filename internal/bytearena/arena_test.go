package bytearena

import (
	"bytes"
	"testing"
)

// Copies do not change with their source, and a copy never grows into
// the next one.
func TestArena(t *testing.T) {
	var a Arena
	src := []byte("hello")
	b := a.Bytes(src)
	s := a.String(src)
	big := a.Bytes(bytes.Repeat([]byte{'x'}, large+1))
	src[0] = 'j'
	if string(b) != "hello" || s != "hello" || len(big) != large+1 {
		t.Fatalf("copies changed: %q %q %d", b, s, len(big))
	}
	b = append(b, '!') // full capacity: reallocates instead of writing over s
	if s != "hello" {
		t.Fatalf("an append to one copy wrote into the next: %q", s)
	}
	if e := a.Bytes(nil); e == nil || len(e) != 0 || a.String(nil) != "" {
		t.Fatalf("empty values: %v", e)
	}
}
