package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/netcheck"
)

// driverLogger sends the driver's own log lines to slog at debug level
// instead of stderr.
type driverLogger struct{}

func (driverLogger) Print(v ...any) { slog.Debug("mysql driver: " + fmt.Sprint(v...)) }

// driverConfig builds the go-sql-driver configuration: DNS and TCP through
// the netcheck dialer, TLS from the SslMode, connect time bounded by ctx.
func driverConfig(cfg Config, dialer netcheck.Dialer, mode netcheck.SSLMode, dbName string) (*gomysql.Config, error) {
	tlsCfg, err := netcheck.TLSConfig(mode, cfg.CACertPEM, cfg.Host)
	if err != nil {
		return nil, err
	}
	dc := gomysql.NewConfig()
	dc.User = cfg.User
	dc.Passwd = cfg.Password
	dc.Net = "tcp"
	dc.Addr = cfg.Addr()
	dc.DBName = dbName
	dc.TLS = tlsCfg
	dc.DialFunc = dialer.DialContext
	dc.Logger = driverLogger{}
	dc.ParseTime = true
	if cfg.Location != nil {
		dc.Loc = cfg.Location
	}
	// The AfterConnectScript may hold several statements.
	dc.MultiStatements = cfg.AfterConnectScript != ""
	return dc, nil
}

func newDriverConnector(dc *gomysql.Config) (driver.Connector, error) {
	c, err := gomysql.NewConnector(dc)
	if err != nil {
		return nil, configError("cannot prepare the MySQL connection: %v", err)
	}
	return c, nil
}

// session is the single connection a connection check runs on.
type session struct {
	db   *sql.DB
	conn *sql.Conn
	mode netcheck.SSLMode // the SslMode it was opened with
}

func (s *session) close() {
	s.conn.Close()
	s.db.Close()
}

// openSession opens one server-level connection (no database selected).
// The error is the driver's, unclassified.
func openSession(ctx context.Context, cfg Config, dialer netcheck.Dialer, mode netcheck.SSLMode) (*session, error) {
	dc, err := driverConfig(cfg, dialer, mode, "")
	if err != nil {
		return nil, err
	}
	base, err := newDriverConnector(dc)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(base)
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &session{db: db, conn: conn, mode: mode}, nil
}

// login opens the check session. When the server denies a plain
// connection (1045) it tries once more over TLS: if that logs in, the
// account (REQUIRE SSL) or the server (require_secure_transport) only
// accepts TLS, and the error says to set SslMode.
func login(ctx context.Context, cfg Config, dialer netcheck.Dialer) (*session, error) {
	s, err := openSession(ctx, cfg, dialer, cfg.SSLMode)
	if err == nil {
		return s, nil
	}
	if cfg.SSLMode == netcheck.SSLNone && mysqlErrorNumber(err) == erAccessDenied {
		if retry, rerr := openSession(ctx, cfg, dialer, netcheck.SSLRequire); rerr == nil {
			retry.close()
			return nil, netcheck.TLSRequiredError(cfg.Addr(), fmt.Sprintf("user %q", cfg.User), err)
		}
	}
	return nil, classifyConnectError(ctx, cfg, cfg.SSLMode, err)
}

// killOnCancel arranges that cancelling ctx also kills the statement the
// session is running on the server (the driver only drops the connection).
func (s *session) killOnCancel(ctx context.Context, cfg Config, dialer netcheck.Dialer) (stop func() bool) {
	var id int64
	if err := s.conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		return func() bool { return true }
	}
	return context.AfterFunc(ctx, func() {
		kctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		k, err := openSession(kctx, Config{Host: cfg.Host, Port: cfg.Port, User: cfg.User, Password: cfg.Password, CACertPEM: cfg.CACertPEM}, dialer, s.mode)
		if err != nil {
			return
		}
		defer k.close()
		_, _ = k.conn.ExecContext(kctx, fmt.Sprintf("KILL QUERY %d", id))
	})
}

// mysqlErrorNumber is the server error number in err, or 0.
func mysqlErrorNumber(err error) uint16 {
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// classifyConnectError turns a failed login into a *connector.CheckError:
// the netcheck error from the dialer, a TLS failure, or the server's error
// by number.
func classifyConnectError(ctx context.Context, cfg Config, mode netcheck.SSLMode, err error) error {
	var ce *connector.CheckError
	if errors.As(err, &ce) {
		return ce
	}
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		return serverConnectError(cfg, me)
	}
	addr := cfg.Addr()
	switch {
	case errors.Is(err, gomysql.ErrNoTLS):
		return netcheck.NoServerTLSError(addr, mode)
	case netcheck.IsTLSError(err):
		return netcheck.TLSError(ctx, err, addr, mode, len(cfg.CACertPEM) > 0)
	case errors.Is(err, gomysql.ErrCleartextPassword), errors.Is(err, gomysql.ErrNativePassword),
		errors.Is(err, gomysql.ErrOldPassword), errors.Is(err, gomysql.ErrUnknownPlugin):
		return &connector.CheckError{Stage: connector.StageAuth,
			Message: fmt.Sprintf("user %q at %s uses an authentication method this server cannot use (%v): switch the account to caching_sha2_password or mysql_native_password", cfg.User, addr, err),
			Err:     err}
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return &connector.CheckError{Stage: connector.StageAuth, Message: fmt.Sprintf("logging in to %s was canceled", addr), Err: err}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &connector.CheckError{Stage: connector.StageAuth,
			Message: fmt.Sprintf("the server at %s accepted the connection but did not complete the login in time: check that it is a responsive MySQL server", addr),
			Err:     err}
	case errors.Is(err, gomysql.ErrInvalidConn) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return &connector.CheckError{Stage: connector.StageAuth,
			Message: fmt.Sprintf("the server at %s closed the connection during login: check that the port is a MySQL server and the server's error log", addr),
			Err:     err}
	}
	return &connector.CheckError{Stage: connector.StageAuth,
		Message: fmt.Sprintf("cannot log in to %s as user %q: %v", addr, cfg.User, err), Err: err}
}

// serverConnectError classifies an error the server sent during login.
func serverConnectError(cfg Config, me *gomysql.MySQLError) *connector.CheckError {
	addr := cfg.Addr()
	ce := &connector.CheckError{Stage: connector.StageAuth, Err: me}
	switch me.Number {
	case erAccessDenied:
		ce.Message = fmt.Sprintf("authentication failed for user %q at %s: the password is wrong, the user does not exist, or it may not connect from this host (server: %s). Check the endpoint's Username and Password",
			cfg.User, addr, me.Message)
	case erSecureTransportRequired:
		ce.Stage = connector.StageTLS
		ce.Message = fmt.Sprintf("the server at %s requires TLS (require_secure_transport), but the endpoint's SslMode is %s: set SslMode to require, verify-ca or verify-full", addr, cfg.SSLMode)
	case erHostNotPrivileged:
		ce.Message = fmt.Sprintf("the server at %s does not let this host connect (%s): create the user for this client's host, e.g. '%s'@'%%'", addr, me.Message, cfg.User)
	case erHostIsBlocked:
		ce.Message = fmt.Sprintf("the server at %s blocks this host after too many failed connections: run FLUSH HOSTS on the server (or raise max_connect_errors)", addr)
	case erAccountLockedMySQL, erAccountLockedMariaDB:
		ce.Message = fmt.Sprintf("the account of user %q is locked: run ALTER USER ... ACCOUNT UNLOCK", cfg.User)
	case erMustChangePasswordLogin, erMustChangePassword:
		ce.Message = fmt.Sprintf("the password of user %q has expired: set a new one with ALTER USER ... IDENTIFIED BY ...", cfg.User)
	case erNotSupportedAuthMode:
		ce.Message = fmt.Sprintf("the server at %s asks for an authentication method this client does not support (%s)", addr, me.Message)
	case erConCount, erTooManyUserConnections:
		ce.Stage = connector.StageDatabase
		ce.Message = fmt.Sprintf("the server at %s has no connection free for user %q (%s): close idle connections or raise max_connections / the user's connection limit", addr, cfg.User, me.Message)
	case erBadDB:
		ce.Stage = connector.StageDatabase
		ce.Message = fmt.Sprintf("database %q does not exist on %s: check the endpoint's DatabaseName", cfg.Database, addr)
	case erDBAccessDenied:
		ce.Stage = connector.StagePrivileges
		ce.Message = fmt.Sprintf("user %q may not use database %q on %s: it has no privileges on it (or the database does not exist)", cfg.User, cfg.Database, addr)
	default:
		ce.Message = fmt.Sprintf("the server at %s refused the login of user %q: %s (error %d)", addr, cfg.User, me.Message, me.Number)
	}
	return ce
}

// queryError reports a failed check statement at stage; a done ctx is
// reported as a timeout or cancellation of what was being done.
func queryError(ctx context.Context, stage connector.Stage, doing string, err error) *connector.CheckError {
	var me *gomysql.MySQLError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &connector.CheckError{Stage: stage, Message: fmt.Sprintf("timed out %s", doing), Err: errors.Join(ctx.Err(), err)}
	case ctx.Err() != nil:
		return &connector.CheckError{Stage: stage, Message: fmt.Sprintf("canceled while %s", doing), Err: errors.Join(ctx.Err(), err)}
	case errors.As(err, &me) && me.Number == erQueryInterrupted:
		return &connector.CheckError{Stage: stage, Message: fmt.Sprintf("the server interrupted the query while %s (max_statement_time?)", doing), Err: err}
	case errors.As(err, &me):
		return &connector.CheckError{Stage: stage, Message: fmt.Sprintf("failed %s: %s (error %d)", doing, me.Message, me.Number), Err: err}
	}
	return &connector.CheckError{Stage: stage, Message: fmt.Sprintf("failed %s: %v", doing, err), Err: err}
}

// scriptError reports a failed AfterConnectScript.
func scriptError(err error) *connector.CheckError {
	var me *gomysql.MySQLError
	msg := fmt.Sprintf("the AfterConnectScript failed: %v. Fix MySQLSettings.AfterConnectScript", err)
	if errors.As(err, &me) {
		msg = fmt.Sprintf("the AfterConnectScript failed: %s (error %d). Fix MySQLSettings.AfterConnectScript", me.Message, me.Number)
	}
	return &connector.CheckError{Stage: connector.StageConfig, Message: msg, Err: err}
}
