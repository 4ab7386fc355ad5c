package s3_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/s3"
	"github.com/godwit-dms/godwit/internal/testenv"
)

func check(t *testing.T, ep connector.Endpoint) (*connector.CheckReport, error) {
	t.Helper()
	c, err := s3.New(ep)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return c.(connector.ConnectionChecker).CheckConnection(ctx)
}

func wantStage(t *testing.T, err error, stage connector.Stage, want ...string) *connector.CheckError {
	t.Helper()
	var ce *connector.CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v (%T), want a *connector.CheckError", err, err)
	}
	if ce.Stage != stage {
		t.Errorf("stage = %q, want %q; message: %s", ce.Stage, stage, ce.Message)
	}
	for _, w := range want {
		if !strings.Contains(ce.Message, w) {
			t.Errorf("message %q does not contain %q", ce.Message, w)
		}
	}
	t.Logf("%s", err)
	return ce
}

func localEndpoint(root string, role connector.Role, settings map[string]any) connector.Endpoint {
	return connector.Endpoint{Engine: "s3", Role: role, Settings: settings, ObjectStore: connector.ObjectStore{LocalRoot: root}}
}

func TestLocalSuccess(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store", "buckets") // created on first use
	for _, role := range []connector.Role{connector.RoleTarget, connector.RoleSource} {
		ep := localEndpoint(root, role, map[string]any{"BucketName": "my-bucket", "BucketFolder": "/exports/2024/", "CompressionType": "GZIP"})
		r, err := check(t, ep)
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		if r.ServerVersion == "" || len(r.Warnings) != 0 {
			t.Errorf("report = %+v", r)
		}
	}
	dir := filepath.Join(root, "my-bucket", "exports", "2024")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("bucket folder: %v", err)
	}
	if len(entries) != 0 {
		t.Errorf("probe objects left behind: %v", entries)
	}

	c, err := s3.New(localEndpoint(root, connector.RoleTarget, map[string]any{"BucketName": "other-bucket"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	c.Close()
	if err := c.Ping(context.Background()); !errors.Is(err, s3.ErrClosed) {
		t.Fatalf("Ping after Close = %v, want ErrClosed", err)
	}
}

func TestLocalRootUnderFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ep := localEndpoint(filepath.Join(file, "store"), connector.RoleTarget, map[string]any{"BucketName": "my-bucket"})
	_, err := check(t, ep)
	wantStage(t, err, connector.StageStorage, "the object store directory", file+" is a file, not a directory")

	// The bucket folder itself is a file.
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "my-bucket"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = check(t, localEndpoint(root, connector.RoleTarget, map[string]any{"BucketName": "my-bucket"}))
	wantStage(t, err, connector.StageStorage, `the folder of bucket "my-bucket"`, "is a file, not a directory")
}

func TestLocalPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may write anywhere")
	}
	root := t.TempDir()
	if err := os.Chmod(root, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(root, 0o700) })
	_, err := check(t, localEndpoint(root, connector.RoleTarget, map[string]any{"BucketName": "my-bucket"}))
	wantStage(t, err, connector.StageStorage, "permission denied")
}

func TestBadConfig(t *testing.T) {
	root := t.TempDir()
	for name, tc := range map[string]struct {
		settings map[string]any
		want     string
	}{
		"missing bucket":   {map[string]any{"BucketFolder": "x"}, "BucketName is required"},
		"no settings":      {nil, "BucketName is required"},
		"bad bucket":       {map[string]any{"BucketName": "../etc"}, "not a valid bucket name"},
		"upper case":       {map[string]any{"BucketName": "MyBucket"}, "lower-case"},
		"folder traversal": {map[string]any{"BucketName": "my-bucket", "BucketFolder": "a/../../b"}, `".."`},
		"compression":      {map[string]any{"BucketName": "my-bucket", "CompressionType": "zip"}, "CompressionType"},
		"encryption":       {map[string]any{"BucketName": "my-bucket", "EncryptionMode": "rot13"}, "EncryptionMode"},
		"kms key, no kms":  {map[string]any{"BucketName": "my-bucket", "ServerSideEncryptionKmsKeyId": "k"}, "sse-kms"},
		"canned acl":       {map[string]any{"BucketName": "my-bucket", "CannedAclForObjects": "everyone"}, "CannedAclForObjects"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := check(t, localEndpoint(root, connector.RoleTarget, tc.settings))
			wantStage(t, err, connector.StageConfig, tc.want)
		})
	}
	_, err := check(t, localEndpoint("", connector.RoleTarget, map[string]any{"BucketName": "my-bucket"}))
	wantStage(t, err, connector.StageConfig, "no object store")
	ep := localEndpoint("", connector.RoleTarget, map[string]any{"BucketName": "my-bucket"})
	ep.ObjectStore.URL = "ftp://example"
	_, err = check(t, ep)
	wantStage(t, err, connector.StageConfig, "not an http(s) URL")
}

// fakeS3 is a path-style S3 API with just what a connection check uses.
type fakeS3 struct {
	mu      sync.Mutex
	buckets map[string]map[string]string
	deny    map[string]bool // operation → answer AccessDenied
	keyID   string          // the only access key it knows
	ops     []string
}

func newFakeS3(t *testing.T, buckets ...string) (*fakeS3, *httptest.Server) {
	f := &fakeS3{buckets: map[string]map[string]string{}, deny: map[string]bool{}, keyID: "AKIDGOOD"}
	for _, b := range buckets {
		f.buckets[b] = map[string]string{}
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeS3) fail(w http.ResponseWriter, r *http.Request, status int, code string) {
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>1</RequestId></Error>`, code, code)
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Server", "FakeS3")
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	op := map[string]string{http.MethodHead: "HeadBucket", http.MethodGet: "ListObjectsV2", http.MethodPut: "PutObject", http.MethodDelete: "DeleteObject"}[r.Method]
	f.ops = append(f.ops, op)
	if !strings.Contains(r.Header.Get("Authorization"), "Credential="+f.keyID+"/") {
		f.fail(w, r, http.StatusForbidden, "InvalidAccessKeyId")
		return
	}
	objects, ok := f.buckets[bucket]
	if !ok {
		f.fail(w, r, http.StatusNotFound, "NoSuchBucket")
		return
	}
	if f.deny[op] {
		f.fail(w, r, http.StatusForbidden, "AccessDenied")
		return
	}
	switch op {
	case "HeadBucket":
	case "ListObjectsV2":
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>%s</Name><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`, bucket)
	case "PutObject":
		b, _ := io.ReadAll(r.Body)
		objects[key] = string(b)
	case "DeleteObject":
		delete(objects, key)
		w.WriteHeader(http.StatusNoContent)
	}
}

func remoteEndpoint(url string, role connector.Role, settings map[string]any) connector.Endpoint {
	return connector.Endpoint{Engine: "s3", Role: role, Settings: settings, ObjectStore: connector.ObjectStore{
		URL: url, Region: "us-east-1", AccessKeyID: "AKIDGOOD", SecretAccessKey: "secret-key-1", PathStyle: true,
	}}
}

func TestRemoteSuccess(t *testing.T) {
	f, srv := newFakeS3(t, "data")
	ep := remoteEndpoint(srv.URL, connector.RoleTarget, map[string]any{"BucketName": "data", "BucketFolder": "in"})
	r, err := check(t, ep)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.ServerVersion, "FakeS3") {
		t.Errorf("ServerVersion = %q", r.ServerVersion)
	}
	if got := strings.Join(f.ops, ","); got != "HeadBucket,PutObject,DeleteObject" {
		t.Errorf("operations = %s", got)
	}
	if len(f.buckets["data"]) != 0 {
		t.Errorf("probe left behind: %v", f.buckets["data"])
	}

	f.ops = nil
	ep.Role = connector.RoleSource
	if _, err := check(t, ep); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.ops, ","); got != "HeadBucket,ListObjectsV2" {
		t.Errorf("operations = %s", got)
	}
}

func TestRemoteFailures(t *testing.T) {
	f, srv := newFakeS3(t, "data")
	ep := remoteEndpoint(srv.URL, connector.RoleTarget, map[string]any{"BucketName": "missing"})
	_, err := check(t, ep)
	wantStage(t, err, connector.StageStorage, `bucket "missing" does not exist`)

	ep = remoteEndpoint(srv.URL, connector.RoleTarget, map[string]any{"BucketName": "data"})
	ep.ObjectStore.AccessKeyID = "AKIDBAD"
	_, err = check(t, ep)
	wantStage(t, err, connector.StageAuth, "access key ID")

	ep = remoteEndpoint(srv.URL, connector.RoleTarget, map[string]any{"BucketName": "data"})
	f.deny["HeadBucket"] = true
	_, err = check(t, ep)
	wantStage(t, err, connector.StagePrivileges, "access denied", "s3:ListBucket")
	f.deny["HeadBucket"] = false

	f.deny["PutObject"] = true
	_, err = check(t, ep)
	wantStage(t, err, connector.StagePrivileges, "access denied", "write objects", "s3:PutObject")
	f.deny["PutObject"] = false

	f.deny["DeleteObject"] = true
	_, err = check(t, ep)
	wantStage(t, err, connector.StagePrivileges, "s3:DeleteObject")
}

func TestRemoteNetwork(t *testing.T) {
	ep := remoteEndpoint(fmt.Sprintf("http://127.0.0.1:%d", testenv.ClosedPort(t)), connector.RoleTarget, map[string]any{"BucketName": "data"})
	_, err := check(t, ep)
	wantStage(t, err, connector.StageTCP, "connection refused")

	ep = remoteEndpoint("http://no-such-host.invalid:9000", connector.RoleTarget, map[string]any{"BucketName": "data"})
	_, err = check(t, ep)
	wantStage(t, err, connector.StageDNS, "no-such-host.invalid")
}

func TestRemoteUntrustedTLS(t *testing.T) {
	f := &fakeS3{buckets: map[string]map[string]string{"data": {}}, deny: map[string]bool{}, keyID: "AKIDGOOD"}
	srv := httptest.NewTLSServer(f)
	defer srv.Close()
	_, err := check(t, remoteEndpoint(srv.URL, connector.RoleTarget, map[string]any{"BucketName": "data"}))
	wantStage(t, err, connector.StageTLS, "TLS handshake with the object store", "certificate")
}
