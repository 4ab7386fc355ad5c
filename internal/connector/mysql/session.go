package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
)

// Session settings of the data sessions (reads, loads, catalog queries).
const (
	// readSQLMode keeps string literals and identifiers as this package
	// writes them (no ANSI_QUOTES, no NO_BACKSLASH_ESCAPES) and CHAR values
	// unpadded.
	readSQLMode = "NO_ENGINE_SUBSTITUTION"
	// loadSQLMode makes INSERT fail on bad data instead of changing it, and
	// keeps a 0 loaded into an AUTO_INCREMENT column a 0.
	loadSQLMode = "STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"
	// netTimeoutSeconds bounds how long the server waits on a slow client
	// (a reader whose consumer is loading) or a slow client stream (LOAD
	// DATA fed by a reader): long, since both sides are ours.
	netTimeoutSeconds = 8 * 3600
)

// setupStatement is run on every new data session; optional ones may name
// variables the server does not have (MySQL vs MariaDB).
type setupStatement struct {
	sql      string
	optional bool
}

func sessionSetup(sqlMode string, extra ...setupStatement) []setupStatement {
	s := []setupStatement{
		{sql: "SET time_zone = '+00:00'"},
		{sql: "SET sql_mode = '" + sqlMode + "'"},
		{sql: fmt.Sprintf("SET net_read_timeout = %d, net_write_timeout = %d", netTimeoutSeconds, netTimeoutSeconds)},
		{sql: "SET max_statement_time = 0", optional: true},              // MariaDB
		{sql: "SET max_execution_time = 0", optional: true},              // MySQL
		{sql: "SET information_schema_stats_expiry = 0", optional: true}, // MySQL 8: fresh TABLE_ROWS
	}
	return append(s, extra...)
}

// setupConnector runs the setup statements on each new session.
type setupConnector struct {
	driver.Connector
	setup []setupStatement
}

func (s *setupConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := s.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, ErrInvalidConfig
	}
	for _, st := range s.setup {
		if _, err := ex.ExecContext(ctx, st.sql, nil); err != nil {
			if st.optional && errIsMySQL(err, erUnknownSystemVariable) {
				continue
			}
			conn.Close()
			return nil, fmt.Errorf("setting up the session (%s): %w", st.sql, err)
		}
	}
	return conn, nil
}

// openDataDB opens a pool of data sessions: no default database (every
// name is qualified), text protocol with client-side parameter
// interpolation (so rows can be decoded straight from the wire), temporal
// values left as text, UTC, the AfterConnectScript and then setup on every
// new session.
func openDataDB(cfg Config, c *Conn, setup []setupStatement) (*sql.DB, error) {
	dc, err := driverConfig(cfg, c.dialer, cfg.SSLMode, "")
	if err != nil {
		return nil, err
	}
	dc.ParseTime = false
	dc.Loc = time.UTC
	dc.InterpolateParams = true
	dc.AllowAllFiles = false
	base, err := newDriverConnector(dc)
	if err != nil {
		return nil, err
	}
	var conn driver.Connector = base
	if cfg.AfterConnectScript != "" {
		conn = &scriptConnector{Connector: base, script: cfg.AfterConnectScript}
	}
	return sql.OpenDB(&setupConnector{Connector: conn, setup: setup}), nil
}

// dataDB returns the connector's pool of data sessions (catalog queries,
// target preparation and loads), creating it on first use.
func (c *Conn) dataDB() (*sql.DB, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.data == nil {
		db, err := openDataDB(c.cfg, c, sessionSetup(loadSQLMode, setupStatement{sql: "SET sql_notes = 0"}))
		if err != nil {
			return nil, err
		}
		c.data = db
	}
	return c.data, nil
}

// serverFlavor is what kind of server the endpoint is.
type serverFlavor struct {
	mariaDB bool
	version string
	major   int
	minor   int
	patch   int
}

// flavor reads (once) the server's product and version.
func (c *Conn) flavor(ctx context.Context) (serverFlavor, error) {
	c.mu.Lock()
	f, ok := c.flav, c.flavKnown
	c.mu.Unlock()
	if ok {
		return f, nil
	}
	db, err := c.dataDB()
	if err != nil {
		return serverFlavor{}, err
	}
	var v string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return serverFlavor{}, classify(ctx, "reading the server version", err, 0)
	}
	f = parseFlavor(v)
	c.mu.Lock()
	c.flav, c.flavKnown = f, true
	c.mu.Unlock()
	return f, nil
}

func parseFlavor(v string) serverFlavor {
	f := serverFlavor{mariaDB: strings.Contains(strings.ToLower(v), "mariadb"), version: v}
	fmt.Sscanf(v, "%d.%d.%d", &f.major, &f.minor, &f.patch)
	return f
}

// mysqlError returns the server error in err, or nil.
func mysqlError(err error) *gomysql.MySQLError {
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		return me
	}
	return nil
}
