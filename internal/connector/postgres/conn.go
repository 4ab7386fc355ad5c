// Package postgres is the PostgreSQL connector: it checks endpoints layer by
// layer the way DMS TestConnection does, and opens the connections the
// engine reads and writes through.
package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/netcheck"
)

// Conn is a PostgreSQL endpoint. Its session is opened on first use (Ping);
// CheckConnection uses a connection of its own.
type Conn struct {
	cfg    Config
	dialer netcheck.Dialer

	mu     sync.Mutex
	pg     *pgx.Conn
	closed bool

	// data holds the idle sessions of schema reads and loads.
	data pool
	// targets caches the catalog view of target tables for Load.
	targetsMu sync.Mutex
	targets   map[[2]string]*relation
	// cdc is the change capture state (cdc_stream.go).
	cdc cdcState
}

// The capabilities this connector implements.
var (
	_ connector.Conn              = (*Conn)(nil)
	_ connector.ConnectionChecker = (*Conn)(nil)
	_ connector.SchemaReader      = (*Conn)(nil)
	_ connector.SnapshotReader    = (*Conn)(nil)
	_ connector.BulkLoader        = (*Conn)(nil)
	_ connector.TargetDialect     = (*Conn)(nil)
	_ connector.ChangeStreamer    = (*Conn)(nil)
	_ connector.Factory           = New
)

// New is the connector.Factory for PostgreSQL endpoints. It does no I/O; a
// bad configuration is a StageConfig *connector.CheckError.
func New(ep connector.Endpoint) (connector.Conn, error) {
	cfg, err := ConfigFromEndpoint(ep)
	if err != nil {
		return nil, err
	}
	return NewConn(cfg), nil
}

// NewConn returns a connector for cfg without connecting.
func NewConn(cfg Config) *Conn { return &Conn{cfg: cfg} }

// Config returns the connector's configuration.
func (c *Conn) Config() Config { return c.cfg }

// IgnoredSettings implements connector.SettingsIgnorer.
func (c *Conn) IgnoredSettings() []string { return c.cfg.Ignored }

// Ping connects if needed and checks the session is alive. Connection
// failures are classified like CheckConnection's.
func (c *Conn) Ping(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if c.pg == nil || c.pg.IsClosed() {
		pg, err := connect(ctx, c.cfg, c.dialer, c.cfg.SSLMode)
		if err != nil {
			return err
		}
		c.pg = pg
	}
	if err := c.pg.Ping(ctx); err != nil {
		closeQuietly(c.pg)
		c.pg = nil
		return queryError(ctx, connector.StageTCP, "pinging the server", err)
	}
	return nil
}

// Close ends the sessions it holds; sessions in use by a running call are
// closed when the call returns. Open snapshots have their own sessions and
// are closed by their Close.
func (c *Conn) Close() error {
	c.data.close()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.pg == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.pg.Close(ctx)
	c.pg = nil
	return err
}

// closeQuietly ends a session whose context may already be done.
func closeQuietly(pg *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = pg.Close(ctx)
}
