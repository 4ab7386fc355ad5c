package testenv

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Fresh data directories (initdb, mariadb-install-db) cost seconds of CPU, so
// the first test binary to need one builds a pristine copy under /tmp and
// later servers, in this and other test binaries, copy it. The template's
// name is keyed by the binaries (path, size, modification time) and the
// setup arguments, so an upgrade builds a new one. A template is built in a
// temporary directory with an owner file and renamed into place when
// complete; the rename loser discards its copy.
const templatePrefix = "gw-tmpl-"

// cachedTemplate returns a directory whose "data" subdirectory is a pristine
// data directory made by create, which fills dir/data.
func cachedTemplate(kind string, key []string, id identity, create func(dir string) error) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, os.Geteuid())
	for _, k := range key {
		fmt.Fprintln(h, k)
	}
	final := filepath.Join(tempBase(), fmt.Sprintf("%s%s-%x", templatePrefix, kind, h.Sum(nil)[:8]))
	if st, err := os.Stat(filepath.Join(final, "data")); err == nil && st.IsDir() {
		return final, nil
	}
	tmp, err := makeServerDir(templatePrefix + kind + "-build-")
	if err != nil {
		return "", err
	}
	if err := id.chown(tmp); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := create(tmp); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	os.Remove(filepath.Join(tmp, ownerFile))
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		if _, statErr := os.Stat(filepath.Join(final, "data")); statErr != nil {
			return "", fmt.Errorf("testenv: %w", err)
		}
	}
	return final, nil
}

// binaryKey identifies an installed binary for cachedTemplate.
func binaryKey(path string) string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	st, err := os.Stat(path)
	if err != nil {
		return path
	}
	return fmt.Sprintf("%s %d %d", path, st.Size(), st.ModTime().UnixNano())
}

// copyTree copies the directory src to dst (which must not exist), keeping
// permission bits, and gives the copy to id.
func copyTree(src, dst string, id identity) error {
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, 0o700); err != nil {
				return err
			}
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
			if id.switchUser {
				return os.Lchown(target, id.uid, id.gid)
			}
			return nil
		case d.Type().IsRegular():
			if err := copyFile(path, target); err != nil {
				return err
			}
		default:
			return nil // sockets, pipes: not part of a data directory
		}
		if err := os.Chmod(target, info.Mode().Perm()); err != nil {
			return err
		}
		return id.chown(target)
	})
	if err != nil {
		return fmt.Errorf("testenv: copy %s: %w", src, err)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
