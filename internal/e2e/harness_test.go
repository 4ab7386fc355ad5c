// Package e2e drives a real Godwit server through real clients: the Go
// SDK's DMS client, the aws CLI and boto3, against real PostgreSQL and
// MariaDB servers started by internal/testenv.
package e2e

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"

	"github.com/godwit-dms/godwit/internal/app"
	"github.com/godwit-dms/godwit/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// syncBuffer is a log sink tests can search.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is a Godwit started for one test.
type server struct {
	URL     string
	App     *app.App
	Creds   app.Credentials
	Logs    *syncBuffer
	DataDir string
	// Bodies records every response body the SDK client received.
	Bodies *syncBuffer
}

type options struct {
	noEngine        bool
	authNone        bool
	dataDir         string
	testAssessments bool
	readOnly        map[string]string
	segmentRows     int64
}

// withSegmentRows lets a full load cut tables of more than n rows into
// segments of its own accord.
func withSegmentRows(n int64) option { return func(o *options) { o.segmentRows = n } }

// withTestAssessments adds the godwit-test-sleep assessment.
func withTestAssessments() option { return func(o *options) { o.testAssessments = true } }

// withReadOnlyKey adds a read-only key pair.
func withReadOnlyKey(id, secret string) option {
	return func(o *options) { o.readOnly = map[string]string{id: secret} }
}

type option func(*options)

// withoutEngine starts the API without the engine: instances stay "creating".
func withoutEngine() option { return func(o *options) { o.noEngine = true } }
func withAuthNone() option  { return func(o *options) { o.authNone = true } }
func withDataDir(d string) option {
	return func(o *options) { o.dataDir = d }
}

func startServer(t *testing.T, opts ...option) *server {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Config{DataDir: o.dataDir, AuthNone: o.authNone, Logger: log,
		TestAssessments: o.testAssessments, ReadOnlyKeys: o.readOnly,
		ConnectionTestTimeout: 20 * time.Second, MinTaskRunningTime: 200 * time.Millisecond,
		// Full loads commit (and record progress) every 20 ms, not every
		// second: tests stop and kill tasks mid-load, and see their progress.
		FullLoadCommitInterval: 20 * time.Millisecond, FullLoadSegmentRows: o.segmentRows})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !o.noEngine {
		a.Start(ctx)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.Serve(ctx, l)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = a.Close()
		if t.Failed() {
			t.Logf("server logs:\n%s", logs.String())
		}
	})
	return &server{URL: "http://" + l.Addr().String(), App: a, Creds: a.Credentials(), Logs: logs, DataDir: o.dataDir, Bodies: &syncBuffer{}}
}

// recorder keeps every response body so tests can check what left the server.
type recorder struct {
	next http.RoundTripper
	out  *syncBuffer
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.out.Write(b)
	r.out.Write([]byte("\n"))
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// client is the Go SDK's DMS client pointed at the server.
func (s *server) client(t *testing.T) *dmssdk.Client {
	t.Helper()
	creds := credentials.NewStaticCredentialsProvider(s.Creds.AccessKeyID, s.Creds.SecretAccessKey, "")
	if s.Creds.AccessKeyID == "" {
		creds = credentials.NewStaticCredentialsProvider("anything", "anything", "")
	}
	return dmssdk.New(dmssdk.Options{
		Region:           "us-east-1",
		Credentials:      creds,
		BaseEndpoint:     aws.String(s.URL),
		HTTPClient:       &http.Client{Transport: recorder{next: http.DefaultTransport, out: s.Bodies}},
		RetryMaxAttempts: 1,
	})
}

// cliEnv is the environment for the aws CLI / boto3 against the server.
func (s *server) cliEnv() []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"AWS_ACCESS_KEY_ID="+s.Creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+s.Creds.SecretAccessKey,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_PAGER=",
	)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
