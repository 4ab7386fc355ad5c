// Package s3 is the connector for S3-style endpoints. Buckets are either
// folders under a local directory (the default), created on first use, or
// buckets of an S3-compatible API reached with aws-sdk-go-v2.
package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/netcheck"
)

// probePrefix starts the name of the object a connection check writes and
// deletes.
const probePrefix = ".godwit-connection-test-"

// Conn is an S3-style endpoint.
type Conn struct {
	cfg Config

	mu         sync.Mutex
	client     *awss3.Client
	loadClient *awss3.Client
	closed     bool

	// Full-load state (load.go).
	loadMu    sync.Mutex
	store     objectStore
	tables    map[string]*tableLoad
	taskStart time.Time // SetLoadTimestamp
	opened    time.Time

	// Change processing state (cdc.go): the last CDC file published per
	// table prefix, under loadMu.
	cdcLast   map[string]cdcMark
	cdcOnce   sync.Once
	nullOnce  sync.Once
	truncOnce sync.Once
}

// The capabilities this connector implements.
var (
	_ connector.Conn              = (*Conn)(nil)
	_ connector.ConnectionChecker = (*Conn)(nil)
	_ connector.BulkLoader        = (*Conn)(nil)
	_ connector.TargetDialect     = (*Conn)(nil)
	_ connector.ChangeApplier     = (*Conn)(nil)
	_ connector.CommitPacer       = (*Conn)(nil)
	_ connector.Factory           = New
)

// New is the connector.Factory for S3 endpoints. It does no I/O; a bad
// configuration is a StageConfig *connector.CheckError.
func New(ep connector.Endpoint) (connector.Conn, error) {
	cfg, err := ConfigFromEndpoint(ep)
	if err != nil {
		return nil, err
	}
	return NewConn(cfg), nil
}

// NewConn returns a connector for cfg without doing I/O.
func NewConn(cfg Config) *Conn {
	return &Conn{cfg: cfg, tables: map[string]*tableLoad{}, cdcLast: map[string]cdcMark{}, opened: time.Now().UTC()}
}

// Config returns the connector's configuration.
func (c *Conn) Config() Config { return c.cfg }

// IgnoredSettings implements connector.SettingsIgnorer.
func (c *Conn) IgnoredSettings() []string { return c.cfg.Ignored }

// Ping checks that the bucket can be reached: for a local store that the
// bucket's directory exists or can be created, for an API that HeadBucket
// succeeds.
func (c *Conn) Ping(ctx context.Context) error {
	if err := c.usable(); err != nil {
		return err
	}
	if c.cfg.Local() {
		_, err := localBucketDir(ctx, c.cfg)
		return err
	}
	_, err := headBucket(ctx, c.s3Client(), c.cfg)
	return err
}

// CheckConnection verifies the bucket the way a task will use it: a local
// store's root must be (or become) a writable directory holding the bucket
// folder; an API bucket must exist and be readable (source) or writable and
// deletable (target). A probe object is written and deleted.
func (c *Conn) CheckConnection(ctx context.Context) (*connector.CheckReport, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	var (
		report *connector.CheckReport
		err    error
	)
	if c.cfg.Local() {
		report, err = checkLocal(ctx, c.cfg)
	} else {
		report, err = checkRemote(ctx, c.s3Client(), c.cfg)
	}
	if err != nil {
		slog.DebugContext(ctx, "s3 connection check failed", "endpoint", c.cfg, "err", err)
	}
	return report, err
}

func (c *Conn) usable() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	return c.cfg.Validate()
}

// Close releases the connector. Files of unfinished tables that were not
// published yet are dropped.
func (c *Conn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.client = nil
	c.loadClient = nil
	c.mu.Unlock()
	c.closeLoads()
	return nil
}

// s3Client returns the API client, creating it on first use.
func (c *Conn) s3Client() *awss3.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		c.client = newClient(c.cfg, netcheck.Dialer{Source: "the object store URL in Godwit's configuration"}, 1)
	}
	return c.client
}

// s3LoadClient returns the API client of full loads, which retries (with
// the SDK's backoff) failed requests, creating it on first use.
func (c *Conn) s3LoadClient() *awss3.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loadClient == nil {
		c.loadClient = newClient(c.cfg, netcheck.Dialer{Source: "the object store URL in Godwit's configuration"}, 3)
	}
	return c.loadClient
}

// probeName is a fresh name for the check's probe object.
func probeName() string {
	b := make([]byte, 8)
	rand.Read(b)
	return probePrefix + hex.EncodeToString(b)
}
