package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/godwit-dms/godwit/internal/connector"
)

// sessionParams are set on every session that reads or writes data, so that
// text output (arrays, intervals, values read as ::text) is the same
// whatever the server's or the role's defaults.
var sessionParams = map[string]string{
	"application_name":   "godwit",
	"DateStyle":          "ISO, MDY",
	"IntervalStyle":      "postgres",
	"TimeZone":           "UTC",
	"extra_float_digits": "3",
	"bytea_output":       "hex",
	"client_encoding":    "UTF8",
	// A full load runs long statements and keeps its snapshot transaction
	// open while it loads: the role's timeouts must not end them.
	"statement_timeout":                   "0",
	"idle_in_transaction_session_timeout": "0",
}

// openSession connects a data session: like connect, with sessionParams,
// its reads through g when g is not nil. A failure that a retry may cure
// (network, server starting or full) wraps ErrConnectionLost.
func openSession(ctx context.Context, c *Conn, g *gather) (*pgx.Conn, error) {
	cc, err := connConfig(c.cfg, c.dialer, c.cfg.SSLMode)
	if err != nil {
		return nil, err
	}
	for k, v := range sessionParams {
		cc.RuntimeParams[k] = v
	}
	if g != nil {
		cc.BuildFrontend = g.frontend
	}
	pg, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		err = classifyConnectError(ctx, c.cfg, err)
		var ce *connector.CheckError
		if errors.As(err, &ce) {
			switch ce.Stage {
			case connector.StageDNS, connector.StageTCP, connector.StageTLS, connector.StageDatabase:
				if ctx.Err() == nil {
					return nil, fmt.Errorf("%w: %w", ErrConnectionLost, err)
				}
			}
		}
		return nil, err
	}
	return pg, nil
}

// maxIdle bounds the sessions a pool keeps open between uses.
const maxIdle = 8

// pool keeps idle data sessions of a connector for reuse. It does not bound
// how many are open: its callers (the engine's table workers) do.
type pool struct {
	mu     sync.Mutex
	idle   []*pgx.Conn
	closed bool
}

// acquire returns an idle session in no transaction, or a new one.
func (p *pool) acquire(ctx context.Context, c *Conn) (*pgx.Conn, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	for len(p.idle) > 0 {
		pg := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !pg.IsClosed() {
			p.mu.Unlock()
			return pg, nil
		}
	}
	p.mu.Unlock()
	return openSession(ctx, c, nil)
}

// release gives a session back; a broken one, one left in a transaction,
// or one beyond maxIdle is closed.
func (p *pool) release(pg *pgx.Conn) {
	if pg == nil {
		return
	}
	if pg.IsClosed() {
		return
	}
	p.mu.Lock()
	if !p.closed && pg.PgConn().TxStatus() == 'I' && len(p.idle) < maxIdle {
		p.idle = append(p.idle, pg)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	closeQuietly(pg)
}

// close closes the idle sessions; sessions in use are closed on release.
func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.closed = true
	p.mu.Unlock()
	for _, pg := range idle {
		closeQuietly(pg)
	}
}

// isConnectionLoss reports whether err says the session broke rather than
// the statement failed. pg is the session the statement ran on (may be nil).
func isConnectionLoss(ctx context.Context, pg *pgx.Conn, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case len(pgErr.Code) == 5 && pgErr.Code[:2] == sqlstateClassConnection,
			pgErr.Code == sqlstateAdminShutdown, pgErr.Code == sqlstateCrashShutdown, pgErr.Code == sqlstateCannotConnectNow:
			return true
		}
		return false
	}
	switch {
	case errors.Is(err, ErrConnectionLost):
		return true
	case errors.Is(err, ErrCopyProtocol):
		// The reader closed a session whose stream it could not parse.
		return false
	}
	var netErr net.Error
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &netErr) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	return pg != nil && pg.IsClosed()
}

// classify wraps a failed statement's error: a broken session with
// ErrConnectionLost, a done ctx with ctx's error; doing says what failed.
func classify(ctx context.Context, pg *pgx.Conn, doing string, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("%s: %w (%w)", doing, ctx.Err(), err)
	case isConnectionLoss(ctx, pg, err) && !errors.Is(err, ErrConnectionLost):
		return fmt.Errorf("%s: %w: %w", doing, ErrConnectionLost, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}
