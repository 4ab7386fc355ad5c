// Package app assembles a Godwit server from its configuration: state store,
// secrets, credentials, service, engine and the HTTP handler. cmd/godwit and
// the end-to-end tests both start servers through it.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/godwit-dms/godwit/internal/apiserver"
	"github.com/godwit-dms/godwit/internal/awsjson"
	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/mysql"
	"github.com/godwit-dms/godwit/internal/connector/postgres"
	"github.com/godwit-dms/godwit/internal/connector/s3"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/engine"
	"github.com/godwit-dms/godwit/internal/engine/assess"
	"github.com/godwit-dms/godwit/internal/secret"
	"github.com/godwit-dms/godwit/internal/service"
	"github.com/godwit-dms/godwit/internal/sigv4"
	"github.com/godwit-dms/godwit/internal/store/sqlite"
)

// Config is everything a server is started with.
type Config struct {
	Listen    string // host:port
	DataDir   string
	Region    string
	AccountID string
	// AuthNone turns SigV4 verification off (local use only).
	AuthNone bool
	// AccessKeyID/SecretAccessKey: the accepted key pair. Empty = the pair
	// stored in the data dir, generated on first start.
	AccessKeyID, SecretAccessKey string
	TLSCertFile, TLSKeyFile      string
	// S3Root is the directory of local buckets (default <DataDir>/buckets).
	S3Root string
	// S3EndpointURL, when set, sends S3-style endpoints to an S3-compatible API.
	S3EndpointURL, S3AccessKeyID, S3SecretAccessKey, S3Region string
	S3PathStyle                                               bool
	ConnectionTestTimeout                                     time.Duration
	// ReadOnlyKeys are extra key pairs (id → secret) that may call Describe
	// and List operations but change nothing (AccessDeniedFault).
	ReadOnlyKeys map[string]string
	// TestAssessments adds the godwit-test-sleep assessment (for tests of cancellation).
	TestAssessments bool
	// MinTaskRunningTime is the shortest time a task is reported running
	// (default 1 s; negative = 0).
	MinTaskRunningTime time.Duration
	// FullLoadCommitInterval is how long one load statement of a full load
	// takes batches before it commits and the progress is recorded
	// (default 1 s).
	FullLoadCommitInterval time.Duration
	// FullLoadSegmentRows is the table size above which a full load may cut
	// a keyed table into segments of its own accord (default 1,000,000).
	FullLoadSegmentRows int64
	Logger              *slog.Logger
}

// App is a running Godwit.
type App struct {
	cfg     Config
	log     *slog.Logger
	store   *sqlite.Store
	engine  *engine.Engine
	handler http.Handler
	keys    Credentials
	// KeysGenerated is true when this start created the key pair.
	KeysGenerated bool
}

// Registry returns the connectors Godwit ships, by DMS engine name.
func Registry() *connector.Registry {
	r := connector.NewRegistry()
	r.Register(postgres.New, "postgres", "aurora-postgresql", "aurora-postgresql-serverless")
	r.Register(mysql.New, "mysql", "mariadb", "aurora", "aurora-serverless", "gcp-mysql")
	r.Register(s3.New, "s3")
	return r
}

// New opens the state and builds the server; Start runs the engine.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("app: a data directory is required")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	if cfg.S3Root == "" {
		cfg.S3Root = filepath.Join(cfg.DataDir, "buckets")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	a := &App{cfg: cfg, log: log}
	if !cfg.AuthNone || cfg.AccessKeyID != "" {
		creds, generated, err := loadCredentials(cfg)
		if err != nil {
			return nil, err
		}
		a.keys, a.KeysGenerated = creds, generated
	}
	box, err := secret.LoadOrCreate(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	a.store = st
	svc := &service.Service{
		Store:      st,
		Account:    dms.Account{Partition: "aws", Region: cfg.Region, ID: cfg.AccountID},
		Secrets:    box,
		Logger:     log,
		TaskLogDir: filepath.Join(cfg.DataDir, "tasklogs"),
	}
	svc.ReadOnlyKeys = map[string]bool{}
	for id := range cfg.ReadOnlyKeys {
		svc.ReadOnlyKeys[id] = true
	}
	svc.RequestKey = func(ctx context.Context) (string, bool) {
		r, ok := awsjson.RequestFrom(ctx)
		if !ok || r.AccessKeyID == "" {
			return "", false
		}
		return r.AccessKeyID, true
	}
	checks := assess.Default()
	if cfg.TestAssessments {
		checks = assess.NewRegistry(append(checks.All(), assess.TestSleepCheck(time.Minute))...)
	}
	svc.Checks = checks
	minRunning := cfg.MinTaskRunningTime
	if minRunning == 0 {
		minRunning = time.Second
	}
	a.engine = engine.New(svc, Registry(), engine.Config{
		ConnectionTestTimeout:  cfg.ConnectionTestTimeout,
		MinRunningTime:         minRunning,
		FullLoadCommitInterval: cfg.FullLoadCommitInterval,
		FullLoadSegmentRows:    cfg.FullLoadSegmentRows,
		Checks:                 checks,
		ObjectStore: connector.ObjectStore{LocalRoot: cfg.S3Root, URL: cfg.S3EndpointURL, Region: cfg.S3Region,
			AccessKeyID: cfg.S3AccessKeyID, SecretAccessKey: cfg.S3SecretAccessKey, PathStyle: cfg.S3PathStyle},
	}, log)
	svc.Engine = a.engine
	svc.Buckets = a.engine
	srv := &apiserver.Server{Svc: svc}
	h := &awsjson.Handler{Ops: srv, Logger: log, ToFault: apiserver.ToFault, Authorize: srv.Authorize}
	if !cfg.AuthNone {
		keys := sigv4.StaticKeys{a.keys.AccessKeyID: a.keys.SecretAccessKey}
		for id, secret := range cfg.ReadOnlyKeys {
			keys[id] = secret
		}
		h.Verifier = &sigv4.Verifier{Keys: keys, Service: "dms"}
	}
	a.handler = h
	return a, nil
}

// Credentials returns the accepted key pair (empty with authentication off).
func (a *App) Credentials() Credentials { return a.keys }

// Handler is the HTTP handler of the DMS API.
func (a *App) Handler() http.Handler { return a.handler }

// Start runs the engine (replication instances and their work).
func (a *App) Start(ctx context.Context) { a.engine.Start(ctx) }

// Serve answers API requests on l until ctx ends, then shuts down gracefully.
func (a *App) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	if a.cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(a.cfg.TLSCertFile, a.cfg.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

// Close stops the engine and closes the state store.
func (a *App) Close() error {
	a.engine.Stop()
	return a.store.Close()
}
