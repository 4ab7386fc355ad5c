// Package mysql is the MySQL / MariaDB connector: it checks endpoints layer
// by layer the way DMS TestConnection does, discovers tables, reads them
// inside a consistent snapshot tied to a binary log position, and loads
// rows into target tables (LOAD DATA LOCAL, or multi-row INSERTs where the
// server refuses local files). TYPES.md maps its types both ways.
package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/netcheck"
)

// Conn is a MySQL or MariaDB endpoint. Its pool connects on first use;
// CheckConnection uses connections of its own.
type Conn struct {
	cfg    Config
	dialer netcheck.Dialer

	mu     sync.Mutex
	db     *sql.DB
	data   *sql.DB // data sessions: catalog, target DDL and loads (session.go)
	closed bool

	flav      serverFlavor
	flavKnown bool
	// targetCols caches the column types of target tables (load.go).
	targetCols map[string]map[string]string
	// noLocalInfile is set once the server refused LOAD DATA LOCAL: loads
	// use multi-row INSERTs from then on.
	noLocalInfile atomic.Bool
	// maxPacket is the size multi-row INSERTs are cut to (load.go).
	maxPacket atomic.Int64
}

// The capabilities this connector implements.
var (
	_ connector.Conn              = (*Conn)(nil)
	_ connector.ConnectionChecker = (*Conn)(nil)
	_ connector.SchemaReader      = (*Conn)(nil)
	_ connector.SnapshotReader    = (*Conn)(nil)
	_ connector.Snapshot          = (*Snapshot)(nil)
	_ connector.BulkLoader        = (*Conn)(nil)
	_ connector.TargetDialect     = (*Conn)(nil)
	_ connector.Factory           = New
)

// New is the connector.Factory for MySQL, MariaDB and Aurora MySQL
// endpoints. It does no I/O; a bad configuration is a StageConfig
// *connector.CheckError.
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

// DB returns the connection pool (on the endpoint's database, running the
// AfterConnectScript on each new session), creating it on first use.
func (c *Conn) DB() (*sql.DB, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.db == nil {
		dc, err := driverConfig(c.cfg, c.dialer, c.cfg.SSLMode, c.cfg.Database)
		if err != nil {
			return nil, err
		}
		base, err := newDriverConnector(dc)
		if err != nil {
			return nil, err
		}
		c.db = sql.OpenDB(&scriptConnector{Connector: base, script: c.cfg.AfterConnectScript})
	}
	return c.db, nil
}

// Ping checks that a session can be opened and is alive. Failures are
// classified like CheckConnection's.
func (c *Conn) Ping(ctx context.Context) error {
	db, err := c.DB()
	if err != nil {
		return err
	}
	if err := db.PingContext(ctx); err != nil {
		return classifyConnectError(ctx, c.cfg, c.cfg.SSLMode, err)
	}
	return nil
}

// Close closes the pool, if it was opened.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	if c.db != nil {
		errs = append(errs, c.db.Close())
		c.db = nil
	}
	if c.data != nil {
		errs = append(errs, c.data.Close())
		c.data = nil
	}
	return errors.Join(errs...)
}

// scriptConnector runs the AfterConnectScript on every new session.
type scriptConnector struct {
	driver.Connector
	script string
}

func (s *scriptConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := s.Connector.Connect(ctx)
	if err != nil || s.script == "" {
		return conn, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, ErrInvalidConfig
	}
	if _, err := ex.ExecContext(ctx, s.script, nil); err != nil {
		conn.Close()
		return nil, scriptError(err)
	}
	return conn, nil
}
