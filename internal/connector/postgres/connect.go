package postgres

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/netcheck"
)

// sslRequestCode is the protocol code of SSLRequest.
const sslRequestCode = 80877103

// connect opens a session to cfg using TLS as mode says. DNS, TCP and TLS
// run through netcheck; every failure is returned as a classified
// *connector.CheckError.
func connect(ctx context.Context, cfg Config, dialer netcheck.Dialer, mode netcheck.SSLMode) (*pgx.Conn, error) {
	cc, err := connConfig(cfg, dialer, mode)
	if err != nil {
		return nil, err
	}
	pg, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, classifyConnectError(ctx, cfg, err)
	}
	return pg, nil
}

// connConfig builds the pgx configuration. Every field a PG* environment
// variable could have set is overwritten, so only the endpoint decides.
func connConfig(cfg Config, dialer netcheck.Dialer, mode netcheck.SSLMode) (*pgx.ConnConfig, error) {
	tlsCfg, err := netcheck.TLSConfig(mode, cfg.CACertPEM, cfg.Host)
	if err != nil {
		return nil, err
	}
	cc, err := pgx.ParseConfig("")
	if err != nil {
		return nil, configError("cannot prepare the PostgreSQL connection (check the PG* environment variables of this server): %v", err)
	}
	cc.Host = cfg.Host
	cc.Port = uint16(cfg.Port)
	cc.Database = cfg.Database
	cc.User = cfg.User
	cc.Password = cfg.Password
	cc.TLSConfig = nil // TLS is negotiated in AfterNetConnect, where its failures are classified.
	cc.Fallbacks = nil
	cc.ConnectTimeout = 0 // ctx bounds the connection.
	cc.KerberosSrvName, cc.KerberosSpn = "", ""
	cc.SSLNegotiation, cc.SSLCertMode = "", ""
	cc.MinProtocolVersion, cc.MaxProtocolVersion = "", ""
	cc.ChannelBinding, cc.RequireAuth = "prefer", ""
	cc.ValidateConnect, cc.AfterConnect, cc.OAuthTokenProvider = nil, nil, nil
	cc.RuntimeParams = map[string]string{"application_name": "godwit"}
	// The dialer resolves the name itself, to report DNS and TCP failures
	// against the host the user gave.
	cc.LookupFunc = func(_ context.Context, host string) ([]string, error) { return []string{host}, nil }
	cc.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		return c, shield(err)
	}
	cc.AfterNetConnect = func(ctx context.Context, _ *pgconn.Config, conn net.Conn) (net.Conn, error) {
		if tlsCfg == nil {
			return conn, nil
		}
		tc, err := startTLS(ctx, conn, tlsCfg, cfg.Addr(), mode, len(cfg.CACertPEM) > 0)
		if err != nil {
			// pgconn closes the conn it gets back even on error, so it must
			// not be nil.
			return conn, shield(err)
		}
		return tc, nil
	}
	if script := cfg.AfterConnectScript; script != "" {
		cc.AfterConnect = func(ctx context.Context, pc *pgconn.PgConn) error {
			if err := pc.Exec(ctx, script).Close(); err != nil {
				return scriptError(err)
			}
			return nil
		}
	}
	// Cancelling ctx cancels the running statement on the server too.
	cc.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 2 * time.Second}
	}
	return cc, nil
}

// scriptError reports a failed AfterConnectScript (its text is not
// repeated: it is the user's own, and may be long).
func scriptError(err error) error {
	msg := err.Error()
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		msg = fmt.Sprintf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	}
	return shield(&connector.CheckError{Stage: connector.StageConfig,
		Message: "the endpoint's AfterConnectScript failed: " + msg + ". Check PostgreSQLSettings.AfterConnectScript", Err: err})
}

// shield hides the cause of a *connector.CheckError from pgconn, which
// replaces any error wrapping a net timeout with a bare timeout error;
// errors.As still finds the CheckError.
func shield(err error) error {
	var ce *connector.CheckError
	if errors.As(err, &ce) {
		return shielded{ce}
	}
	return err
}

type shielded struct{ ce *connector.CheckError }

func (s shielded) Error() string { return s.ce.Error() }

func (s shielded) As(target any) bool {
	if p, ok := target.(**connector.CheckError); ok {
		*p = s.ce
		return true
	}
	return false
}

// startTLS sends SSLRequest and, if the server agrees, runs the TLS
// handshake, all bounded by ctx.
func startTLS(ctx context.Context, conn net.Conn, tlsCfg *tls.Config, addr string, mode netcheck.SSLMode, haveCA bool) (net.Conn, error) {
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	var req [8]byte
	binary.BigEndian.PutUint32(req[0:4], 8)
	binary.BigEndian.PutUint32(req[4:8], sslRequestCode)
	var resp [1]byte
	_, err := conn.Write(req[:])
	if err == nil {
		_, err = io.ReadFull(conn, resp[:])
	}
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		conn.Close()
		return nil, netcheck.TLSError(ctx, err, addr, mode, haveCA)
	}
	conn.SetDeadline(time.Time{})
	switch resp[0] {
	case 'S':
		tc, err := netcheck.Handshake(ctx, conn, tlsCfg, addr, mode, haveCA)
		if err != nil {
			return nil, err // not a nil *tls.Conn in a non-nil net.Conn
		}
		return tc, nil
	case 'N':
		conn.Close()
		return nil, netcheck.NoServerTLSError(addr, mode)
	default:
		conn.Close()
		return nil, &connector.CheckError{
			Stage:   connector.StageTLS,
			Message: fmt.Sprintf("the server at %s did not answer the TLS request like PostgreSQL does: check that the endpoint's port is a PostgreSQL server", addr),
			Err:     ErrUnexpectedSSLResponse,
		}
	}
}

// classifyConnectError turns a failed connection attempt into a
// *connector.CheckError: a server error by SQLSTATE, else the netcheck
// error from the dial or TLS hooks.
func classifyConnectError(ctx context.Context, cfg Config, err error) error {
	// A CheckError (from the dial, TLS or after-connect hooks) is already
	// classified, even when it holds a server error.
	var ce *connector.CheckError
	if errors.As(err, &ce) {
		return ce
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return serverConnectError(cfg, pgErr)
	}
	addr := cfg.Addr()
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return &connector.CheckError{Stage: connector.StageAuth, Message: fmt.Sprintf("logging in to %s was canceled", addr), Err: err}
	case pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded):
		return &connector.CheckError{Stage: connector.StageAuth,
			Message: fmt.Sprintf("the server at %s accepted the connection but did not complete the login in time: check that it is a responsive PostgreSQL server", addr),
			Err:     err}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return &connector.CheckError{Stage: connector.StageAuth,
			Message: fmt.Sprintf("the server at %s closed the connection during login: check that the port is a PostgreSQL server and its log for the reason", addr),
			Err:     err}
	}
	return &connector.CheckError{Stage: connector.StageAuth,
		Message: fmt.Sprintf("cannot log in to %s as user %q: %v", addr, cfg.User, errors.Unwrap(err)),
		Err:     err}
}

// serverConnectError classifies an error the server sent during startup.
func serverConnectError(cfg Config, e *pgconn.PgError) *connector.CheckError {
	addr := cfg.Addr()
	ce := &connector.CheckError{Err: e}
	switch e.Code {
	case sqlstateInvalidPassword:
		ce.Stage = connector.StageAuth
		ce.Message = fmt.Sprintf("authentication failed for user %q at %s: the user name or password is wrong. Check the endpoint's Username and Password", cfg.User, addr)
	case sqlstateInvalidAuthorization:
		ce.Stage = connector.StageAuth
		ce.Message = fmt.Sprintf("the server at %s refused user %q for database %q (%s): check that pg_hba.conf allows this user, database and client address, and that the role may log in",
			addr, cfg.User, cfg.Database, e.Message)
	case sqlstateInvalidCatalogName:
		ce.Stage = connector.StageDatabase
		ce.Message = fmt.Sprintf("database %q does not exist on %s: check the endpoint's DatabaseName", cfg.Database, addr)
	case sqlstateInsufficientPriv:
		ce.Stage = connector.StagePrivileges
		ce.Message = fmt.Sprintf("user %q may not connect to database %q: grant it with GRANT CONNECT ON DATABASE %s TO %s",
			cfg.User, cfg.Database, pgx.Identifier{cfg.Database}.Sanitize(), pgx.Identifier{cfg.User}.Sanitize())
	case sqlstateTooManyConnections:
		ce.Stage = connector.StageDatabase
		ce.Message = fmt.Sprintf("the server at %s has no connection slot free for user %q (%s): close idle connections or raise max_connections / the role's connection limit", addr, cfg.User, e.Message)
	case sqlstateCannotConnectNow, sqlstateAdminShutdown:
		ce.Stage = connector.StageDatabase
		ce.Message = fmt.Sprintf("the server at %s does not accept connections right now (%s): try again when it has started", addr, e.Message)
	default:
		ce.Stage = connector.StageAuth
		ce.Message = fmt.Sprintf("the server at %s refused the connection for user %q: %s (SQLSTATE %s)", addr, cfg.User, e.Message, e.Code)
	}
	return ce
}

// queryError reports a failed check query at stage; a done ctx is reported
// as a timeout or cancellation of what was being done.
func queryError(ctx context.Context, stage connector.Stage, doing string, err error) *connector.CheckError {
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &connector.CheckError{Stage: stage, Message: fmt.Sprintf("timed out %s", doing), Err: errors.Join(ctx.Err(), err)}
	case ctx.Err() != nil:
		return &connector.CheckError{Stage: stage, Message: fmt.Sprintf("canceled while %s", doing), Err: errors.Join(ctx.Err(), err)}
	case errors.As(err, &pgErr) && pgErr.Code == sqlstateQueryCanceled:
		return &connector.CheckError{Stage: stage, Message: fmt.Sprintf("the server canceled the query while %s (statement_timeout?)", doing), Err: err}
	case errors.As(err, &pgErr):
		return &connector.CheckError{Stage: stage, Message: fmt.Sprintf("failed %s: %s (SQLSTATE %s)", doing, pgErr.Message, pgErr.Code), Err: err}
	}
	return &connector.CheckError{Stage: stage, Message: fmt.Sprintf("failed %s: %v", doing, err), Err: err}
}
