package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/godwit-dms/godwit/internal/connector"
)

// objectStore is where a target's files go: folders under a local
// directory, or an S3-compatible API. Keys are slash-separated and
// relative to the bucket.
type objectStore interface {
	// list returns the names of the objects directly under prefix (which
	// ends in "/"), without the prefix.
	list(ctx context.Context, prefix string) ([]string, error)
	// listAll returns the paths of every object under prefix, in its
	// folders too, relative to prefix ("a.csv", "2024/01/31/b.csv").
	listAll(ctx context.Context, prefix string) ([]string, error)
	// publish makes the complete file at staged the object key, atomically
	// (nobody sees a partial object), and removes staged.
	publish(ctx context.Context, staged, key string) error
	// remove deletes key; a missing key is not an error.
	remove(ctx context.Context, key string) error
	// read returns a small object, or false when it does not exist.
	read(ctx context.Context, key string) ([]byte, bool, error)
	// write stores a small object.
	write(ctx context.Context, key string, data []byte) error
	// stagingDir is the local directory where files are written before
	// they are published.
	stagingDir() string
}

// LocalStagingDir is the folder of a local object store where files are
// staged: beside the buckets (a bucket name cannot start with a dot), so a
// publish is a rename within one file system.
const LocalStagingDir = ".godwit-staging"

// localStore keeps a bucket as the folder LocalRoot/<bucket>.
type localStore struct {
	root    string // the bucket's folder
	staging string
}

func newLocalStore(cfg Config) *localStore {
	root := filepath.Clean(cfg.Store.LocalRoot)
	return &localStore{
		root:    filepath.Join(root, cfg.Bucket),
		staging: filepath.Join(root, LocalStagingDir),
	}
}

func (s *localStore) path(key string) string { return filepath.Join(s.root, filepath.FromSlash(key)) }

func (s *localStore) stagingDir() string { return s.staging }

func (s *localStore) list(ctx context.Context, prefix string) ([]string, error) {
	entries, err := os.ReadDir(s.path(prefix))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fsError("list the folder", s.path(prefix), err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func (s *localStore) listAll(ctx context.Context, prefix string) ([]string, error) {
	root := s.path(prefix)
	var names []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			names = append(names, filepath.ToSlash(rel))
		}
		return ctx.Err()
	})
	if errors.Is(err, fs.ErrNotExist) {
		return names, nil
	}
	if err != nil {
		return nil, fsError("list the folder", root, err)
	}
	return names, nil
}

// pruneDirs removes the empty folders dirs (relative to prefix, deepest
// first) and their empty parents up to prefix: a local store has real
// folders, which emptied date folders would leave behind.
func (s *localStore) pruneDirs(prefix string, dirs []string) {
	root := s.path(prefix)
	for _, d := range dirs {
		for p := filepath.Join(root, filepath.FromSlash(d)); len(p) > len(root); p = filepath.Dir(p) {
			if os.Remove(p) != nil {
				break
			}
		}
	}
}

func (s *localStore) publish(ctx context.Context, staged, key string) error {
	dst := s.path(key)
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fsError("create the folder", dir, err)
	}
	err := os.Rename(staged, dst)
	if errors.Is(err, syscall.EXDEV) {
		// The bucket folder is another file system: copy beside the
		// destination under a hidden name, then rename.
		err = copyThenRename(staged, dst)
		if err == nil {
			os.Remove(staged)
		}
	}
	if err != nil {
		return fsError("publish the file", dst, err)
	}
	return syncDir(dir)
}

func copyThenRename(src, dst string) error {
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".godwit-tmp")
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fsError("open the folder", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fsError("sync the folder", dir, err)
	}
	return nil
}

func (s *localStore) remove(ctx context.Context, key string) error {
	p := s.path(key)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fsError("delete the file", p, err)
	}
	return nil
}

func (s *localStore) read(ctx context.Context, key string) ([]byte, bool, error) {
	b, err := os.ReadFile(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fsError("read the file", s.path(key), err)
	}
	return b, true, nil
}

func (s *localStore) write(ctx context.Context, key string, data []byte) error {
	if err := os.MkdirAll(s.staging, 0o755); err != nil {
		return fsError("create the staging folder", s.staging, err)
	}
	f, err := os.CreateTemp(s.staging, "small-*")
	if err != nil {
		return fsError("create a file in", s.staging, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return fsError("write the file", f.Name(), err)
	}
	return s.publish(ctx, f.Name(), key)
}

// remoteStore keeps a bucket in an S3-compatible API.
type remoteStore struct {
	cfg     Config
	client  *awss3.Client
	staging string
}

func newRemoteStore(cfg Config, client *awss3.Client) *remoteStore {
	dir := cfg.Target.TempDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "godwit-s3-staging")
	}
	return &remoteStore{cfg: cfg, client: client, staging: dir}
}

func (s *remoteStore) stagingDir() string { return s.staging }

// fail classifies a failed API call (see apiError); a network failure or
// a 5xx answer also wraps connector.ErrConnectionLost: trying again later
// may succeed.
func (s *remoteStore) fail(ctx context.Context, op, doing string, err error) error {
	ce := apiError(ctx, s.cfg, op, doing, err)
	transient := ce.Stage == connector.StageTCP || ce.Stage == connector.StageDNS
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500 {
		transient = true
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) {
		transient = true
	}
	if transient && ctx.Err() == nil {
		return fmt.Errorf("%w: %w", connector.ErrConnectionLost, ce)
	}
	return ce
}

func (s *remoteStore) list(ctx context.Context, prefix string) ([]string, error) {
	return s.listKeys(ctx, prefix, false)
}

func (s *remoteStore) listAll(ctx context.Context, prefix string) ([]string, error) {
	return s.listKeys(ctx, prefix, true)
}

// listKeys lists the objects under prefix, without it: those directly
// under it, or all of them with deep.
func (s *remoteStore) listKeys(ctx context.Context, prefix string, deep bool) ([]string, error) {
	in := &awss3.ListObjectsV2Input{Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(prefix)}
	if !deep {
		in.Delimiter = aws.String("/")
	}
	var names []string
	p := awss3.NewListObjectsV2Paginator(s.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.fail(ctx, "ListObjectsV2", "list objects in bucket", err)
		}
		for _, o := range page.Contents {
			if name, ok := strings.CutPrefix(aws.ToString(o.Key), prefix); ok && name != "" && (deep || !strings.Contains(name, "/")) {
				names = append(names, name)
			}
		}
	}
	return names, nil
}

func (s *remoteStore) publish(ctx context.Context, staged, key string) error {
	f, err := os.Open(staged)
	if err != nil {
		return fsError("open the staged file", staged, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fsError("read the staged file", staged, err)
	}
	in := s.putInput(key, f, fi.Size())
	in.ContentType = aws.String(contentType(key))
	_, err = s.client.PutObject(ctx, in)
	if err != nil {
		return s.fail(ctx, "PutObject", "write objects to bucket", err)
	}
	f.Close()
	os.Remove(staged)
	return nil
}

func contentType(key string) string {
	switch {
	case strings.HasSuffix(key, ".csv"):
		return "text/csv"
	case strings.HasSuffix(key, ".gz"):
		return "application/gzip"
	case strings.HasSuffix(key, ".parquet"):
		return "application/vnd.apache.parquet"
	}
	return "application/octet-stream"
}

func (s *remoteStore) remove(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	if err != nil {
		var nk *types.NoSuchKey
		if errors.As(err, &nk) {
			return nil
		}
		return s.fail(ctx, "DeleteObject", "delete objects from bucket", err)
	}
	return nil
}

func (s *remoteStore) read(ctx context.Context, key string) ([]byte, bool, error) {
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	if err != nil {
		var nk *types.NoSuchKey
		if errors.As(err, &nk) {
			return nil, false, nil
		}
		return nil, false, s.fail(ctx, "GetObject", "read objects in bucket", err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, 1<<20))
	if err != nil {
		return nil, false, fmt.Errorf("read %s from bucket %q: %w", key, s.cfg.Bucket, err)
	}
	return b, true, nil
}

// putInput is the PutObject of size bytes of body at key, with the
// endpoint's ObjectOptions.
func (s *remoteStore) putInput(key string, body io.Reader, size int64) *awss3.PutObjectInput {
	in := &awss3.PutObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key), Body: body, ContentLength: aws.Int64(size)}
	o := s.cfg.Target.Objects
	switch o.Encryption {
	case "sse-s3":
		in.ServerSideEncryption = types.ServerSideEncryptionAes256
	case "sse-kms":
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		if o.KMSKeyID != "" {
			in.SSEKMSKeyId = aws.String(o.KMSKeyID)
		}
	}
	if o.CannedACL != "" {
		in.ACL = types.ObjectCannedACL(o.CannedACL)
	}
	if o.ExpectedBucketOwner != "" {
		in.ExpectedBucketOwner = aws.String(o.ExpectedBucketOwner)
	}
	return in
}

func (s *remoteStore) write(ctx context.Context, key string, data []byte) error {
	_, err := s.client.PutObject(ctx, s.putInput(key, bytes.NewReader(data), int64(len(data))))
	if err != nil {
		return s.fail(ctx, "PutObject", "write objects to bucket", err)
	}
	return nil
}

// keyJoin joins a prefix ending in "/" and a name.
func keyJoin(prefix, name string) string { return path.Join(prefix, name) }
