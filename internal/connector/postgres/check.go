package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/netcheck"
)

// CheckConnection verifies the endpoint layer by layer — DNS, TCP, TLS per
// SslMode, authentication, the database, the privileges its role needs —
// and, for a CDC source, reports unmet CDC prerequisites as warnings. ctx
// bounds every step; cancelling it cancels the running query on the server.
func (c *Conn) CheckConnection(ctx context.Context) (*connector.CheckReport, error) {
	cfg := c.cfg
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pg, err := login(ctx, cfg, c.dialer)
	if err != nil {
		slog.DebugContext(ctx, "postgres connection check failed", "endpoint", cfg, "err", err)
		return nil, err
	}
	defer closeQuietly(pg)

	report := &connector.CheckReport{ServerVersion: "PostgreSQL " + pg.PgConn().ParameterStatus("server_version"), Warnings: slices.Clone(cfg.Ignored)}
	switch cfg.Role {
	case connector.RoleSource:
		if err := checkSourcePrivileges(ctx, pg, cfg); err != nil {
			return nil, err
		}
		// CDC prerequisites: a failure for a CDC source, advice otherwise
		// (a source used only for full load does not need them).
		if err := checkReplicationPrivilege(ctx, pg, cfg); err != nil {
			var ce *connector.CheckError
			if cfg.WantCDC || !errors.As(err, &ce) {
				return nil, err
			}
			report.Warnings = append(report.Warnings, "For CDC: "+ce.Message+".")
		}
		warnings, err := cdcWarnings(ctx, pg, cfg)
		if err != nil {
			return nil, err
		}
		report.Warnings = append(report.Warnings, warnings...)
	case connector.RoleTarget:
		warnings, err := checkTargetPrivileges(ctx, pg, cfg)
		if err != nil {
			return nil, err
		}
		report.Warnings = append(report.Warnings, warnings...)
	}
	return report, nil
}

// login connects as cfg says. When the server rejects a plain connection by
// pg_hba (SQLSTATE 28000) it tries once more over TLS: if that gets past
// pg_hba, the server requires TLS for this user and database, and the
// error says to set SslMode.
func login(ctx context.Context, cfg Config, dialer netcheck.Dialer) (*pgx.Conn, error) {
	pg, err := connect(ctx, cfg, dialer, cfg.SSLMode)
	if err == nil {
		return pg, nil
	}
	if cfg.SSLMode != netcheck.SSLNone || !isSQLState(err, sqlstateInvalidAuthorization) {
		return nil, err
	}
	retry, rerr := connect(ctx, cfg, dialer, netcheck.SSLRequire)
	if rerr == nil {
		closeQuietly(retry)
	}
	var pgErr *pgconn.PgError
	if rerr == nil || (errors.As(rerr, &pgErr) && pgErr.Code != sqlstateInvalidAuthorization) {
		return nil, netcheck.TLSRequiredError(cfg.Addr(), fmt.Sprintf("user %q on database %q", cfg.User, cfg.Database), err)
	}
	return nil, err
}

func isSQLState(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}
