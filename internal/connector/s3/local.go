package s3

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/godwit-dms/godwit/internal/connector"
)

// localBucketDir makes sure the store root, the bucket folder and the
// endpoint's folder in it are directories, creating them if missing, and
// returns the endpoint's folder.
func localBucketDir(ctx context.Context, cfg Config) (string, error) {
	root := filepath.Clean(cfg.Store.LocalRoot)
	steps := []struct{ what, path string }{
		{"the object store directory", root},
		{fmt.Sprintf("the folder of bucket %q", cfg.Bucket), filepath.Join(root, cfg.Bucket)},
	}
	if cfg.Folder != "" {
		steps = append(steps, struct{ what, path string }{
			fmt.Sprintf("the folder %q of bucket %q", cfg.Folder, cfg.Bucket),
			filepath.Join(root, cfg.Bucket, filepath.FromSlash(cfg.Folder)),
		})
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return "", canceled(ctx, "preparing the local bucket")
		}
		if err := os.MkdirAll(s.path, 0o755); err != nil {
			return "", fsError("create "+s.what, s.path, err)
		}
	}
	return steps[len(steps)-1].path, nil
}

// checkLocal checks a local bucket: its directories exist or can be
// created, and an object can be written there and deleted.
func checkLocal(ctx context.Context, cfg Config) (*connector.CheckReport, error) {
	dir, err := localBucketDir(ctx, cfg)
	if err != nil {
		return nil, err
	}
	probe := filepath.Join(dir, probeName())
	f, err := os.OpenFile(probe, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fsError(fmt.Sprintf("write a test object to bucket %q", cfg.Bucket), probe, err)
	}
	_, werr := f.WriteString("godwit connection test\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(probe)
		return nil, fsError(fmt.Sprintf("write a test object to bucket %q", cfg.Bucket), probe, werr)
	}
	if err := os.Remove(probe); err != nil {
		return nil, fsError(fmt.Sprintf("delete the test object from bucket %q", cfg.Bucket), probe, err)
	}
	return &connector.CheckReport{ServerVersion: "local object store", Warnings: slices.Clone(cfg.Ignored)}, nil
}

// fsError classifies a file system failure by errno, naming the path and
// what was being done ("create the folder of bucket ...").
func fsError(doing, path string, err error) *connector.CheckError {
	var msg string
	switch {
	case errors.Is(err, syscall.ENOTDIR) || errors.Is(err, ErrNotDirectory):
		msg = fmt.Sprintf("cannot %s %s: %s is a file, not a directory. Move it away or configure another object store directory",
			doing, path, firstNonDirectory(path))
	case errors.Is(err, fs.ErrPermission):
		msg = fmt.Sprintf("cannot %s %s: permission denied. Give the user the Godwit server runs as (uid %d) write access to it",
			doing, path, os.Geteuid())
	case errors.Is(err, syscall.EROFS):
		msg = fmt.Sprintf("cannot %s %s: the file system is read-only", doing, path)
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		msg = fmt.Sprintf("cannot %s %s: no space left on the device (or quota exceeded)", doing, path)
	case errors.Is(err, syscall.ENAMETOOLONG):
		msg = fmt.Sprintf("cannot %s %s: the path is too long", doing, path)
	default:
		msg = fmt.Sprintf("cannot %s %s: %v", doing, path, err)
	}
	return &connector.CheckError{Stage: connector.StageStorage, Message: msg, Err: err}
}

// firstNonDirectory returns the first existing ancestor of path (or path
// itself) that is not a directory, or path when there is none.
func firstNonDirectory(path string) string {
	var chain []string
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		chain = append(chain, p)
		if parent := filepath.Dir(p); parent == p {
			break
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		fi, err := os.Stat(chain[i])
		if err != nil {
			break
		}
		if !fi.IsDir() {
			return chain[i]
		}
	}
	return path
}

// canceled reports a done ctx during a storage step.
func canceled(ctx context.Context, doing string) *connector.CheckError {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &connector.CheckError{Stage: connector.StageStorage, Message: "timed out " + doing, Err: ctx.Err()}
	}
	return &connector.CheckError{Stage: connector.StageStorage, Message: "canceled while " + doing, Err: ctx.Err()}
}
