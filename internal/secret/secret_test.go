package secret

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpenAndPersistence(t *testing.T) {
	dir := t.TempDir()
	b1, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	sealed := b1.Seal([]byte("hunter2"))
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("sealed value contains the plaintext")
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	b2, err := LoadOrCreate(dir) // same key from disk
	if err != nil {
		t.Fatal(err)
	}
	got, err := b2.Open(sealed)
	if err != nil || string(got) != "hunter2" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other, _ := LoadOrCreate(t.TempDir())
	if _, err := other.Open(sealed); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("other key opened the value: %v", err)
	}
	if _, err := b2.Open([]byte{1, 2}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("short value: %v", err)
	}
}
