package mysql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/godwit-dms/godwit/internal/connector"
)

// CheckConnection verifies the endpoint layer by layer — DNS, TCP, TLS per
// SslMode, authentication, the database, the AfterConnectScript, the
// privileges its role needs — and, for a CDC source, reports unmet binary
// log prerequisites as warnings. ctx bounds every step; cancelling it kills
// the running statement on the server.
func (c *Conn) CheckConnection(ctx context.Context) (*connector.CheckReport, error) {
	report, err := c.check(ctx)
	if err != nil {
		slog.DebugContext(ctx, "mysql connection check failed", "endpoint", c.cfg, "err", err)
	}
	return report, err
}

func (c *Conn) check(ctx context.Context) (*connector.CheckReport, error) {
	cfg := c.cfg
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s, err := login(ctx, cfg, c.dialer)
	if err != nil {
		return nil, err
	}
	defer s.close()
	stop := s.killOnCancel(ctx, cfg, c.dialer)
	defer stop()

	var version, current string
	if err := s.conn.QueryRowContext(ctx, "SELECT VERSION(), CURRENT_USER()").Scan(&version, &current); err != nil {
		if n := mysqlErrorNumber(err); n == erMustChangePassword || n == erMustChangePasswordLogin {
			return nil, &connector.CheckError{Stage: connector.StageAuth,
				Message: fmt.Sprintf("the password of user %q has expired: set a new one with ALTER USER ... IDENTIFIED BY ...", cfg.User), Err: err}
		}
		return nil, queryError(ctx, connector.StageAuth, "reading the server version", err)
	}
	mariaDB := strings.Contains(version, "MariaDB")
	report := &connector.CheckReport{ServerVersion: productName(mariaDB) + " " + version, Warnings: slices.Clone(cfg.Ignored)}

	if cfg.Database != "" {
		if _, err := s.conn.ExecContext(ctx, "USE "+quoteIdent(cfg.Database)); err != nil {
			var ce *connector.CheckError
			if n := mysqlErrorNumber(err); n == erBadDB || n == erDBAccessDenied {
				ce = classifyConnectError(ctx, cfg, s.mode, err).(*connector.CheckError)
			} else {
				ce = queryError(ctx, connector.StageDatabase, fmt.Sprintf("selecting database %q", cfg.Database), err)
			}
			return nil, ce
		}
	}
	if cfg.AfterConnectScript != "" {
		if _, err := s.conn.ExecContext(ctx, cfg.AfterConnectScript); err != nil {
			if ctx.Err() != nil {
				return nil, queryError(ctx, connector.StageConfig, "running the AfterConnectScript", err)
			}
			return nil, scriptError(err)
		}
	}

	g, err := loadGrants(ctx, s, mariaDB)
	if err != nil {
		return nil, err
	}
	acct := account(current)
	switch cfg.Role {
	case connector.RoleSource:
		if err := checkSourcePrivileges(ctx, s, cfg, g, acct); err != nil {
			return nil, err
		}
		// CDC prerequisites: a failure for a CDC source, advice otherwise
		// (a source used only for full load does not need them).
		if err := checkReplicationPrivileges(ctx, s, cfg, g, acct); err != nil {
			var ce *connector.CheckError
			if cfg.WantCDC || !errors.As(err, &ce) {
				return nil, err
			}
			report.Warnings = append(report.Warnings, "For CDC: "+ce.Message+".")
		}
		warnings, err := cdcWarnings(ctx, s)
		if err != nil {
			return nil, err
		}
		report.Warnings = append(report.Warnings, warnings...)
	case connector.RoleTarget:
		w, err := checkTargetPrivileges(cfg, g, acct)
		if err != nil {
			return nil, err
		}
		report.Warnings = append(report.Warnings, w...)
	}
	return report, nil
}

func productName(mariaDB bool) string {
	if mariaDB {
		return "MariaDB"
	}
	return "MySQL"
}

// quoteIdent quotes a MySQL identifier.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// quoteString quotes a MySQL string literal for a message.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}

// account formats CURRENT_USER() ("user@host") as 'user'@'host' for the
// GRANT statements messages suggest.
func account(current string) string {
	i := strings.LastIndexByte(current, '@')
	if i < 0 {
		return quoteString(current)
	}
	return quoteString(current[:i]) + "@" + quoteString(current[i+1:])
}

// loadGrants reads SHOW GRANTS. MariaDB includes the privileges of the
// current role and PUBLIC; MySQL needs USING for the active roles.
func loadGrants(ctx context.Context, s *session, mariaDB bool) (*grants, error) {
	stmt := "SHOW GRANTS"
	if !mariaDB {
		var roles *string
		if err := s.conn.QueryRowContext(ctx, "SELECT CURRENT_ROLE()").Scan(&roles); err == nil &&
			roles != nil && *roles != "" && *roles != "NONE" {
			stmt = "SHOW GRANTS FOR CURRENT_USER() USING " + *roles
		}
	}
	rows, err := s.conn.QueryContext(ctx, stmt)
	if err != nil {
		return nil, queryError(ctx, connector.StagePrivileges, "reading the user's grants", err)
	}
	defer rows.Close()
	g := newGrants()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, queryError(ctx, connector.StagePrivileges, "reading the user's grants", err)
		}
		g.add(line)
	}
	if err := rows.Err(); err != nil {
		return nil, queryError(ctx, connector.StagePrivileges, "reading the user's grants", err)
	}
	return g, nil
}

// errIsMySQL reports whether err is a server error with one of numbers.
func errIsMySQL(err error, numbers ...uint16) bool {
	n := mysqlErrorNumber(err)
	for _, m := range numbers {
		if n == m {
			return true
		}
	}
	return false
}
