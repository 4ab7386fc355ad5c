package testenv

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestZZTiming(t *testing.T) {
	id, _ := serverIdentity()
	tmpl, _ := filepath.Glob("/tmp/gw-tmpl-pg-*")
	dir, _ := makeServerDir(pgDirPrefix)
	id.chown(dir)
	b := time.Now()
	if err := copyTree(filepath.Join(tmpl[0], "data"), filepath.Join(dir, "data"), id); err != nil {
		t.Fatal(err)
	}
	t.Log("copy", time.Since(b))
	os.RemoveAll(dir)
	b = time.Now()
	s, err := startPostgres()
	if err != nil {
		t.Fatal(err)
	}
	t.Log("full", time.Since(b))
	log, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
	t.Log(string(log))
	s.teardown()
}
