package mysql

import (
	"context"
	"fmt"
	"strings"

	"github.com/godwit-dms/godwit/internal/connector"
)

// maxListed is how many tables a privilege message names.
const maxListed = 5

// systemSchemas are never migrated.
const systemSchemas = "'mysql', 'information_schema', 'performance_schema', 'sys'"

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// checkSourcePrivileges fails when the user cannot read every base table of
// the database (of every user database, without DatabaseName). Tables SHOW
// GRANTS does not cover are probed with SELECT ... LIMIT 0, which also
// catches privileges from roles and column grants.
func checkSourcePrivileges(ctx context.Context, s *session, cfg Config, g *grants, acct string) error {
	if cfg.Database != "" && g.onDatabase(cfg.Database, "SELECT") {
		return nil
	}
	if cfg.Database == "" && g.onServer("SELECT") {
		return nil
	}
	q := "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND "
	var args []any
	if cfg.Database != "" {
		q += "TABLE_SCHEMA = ?"
		args = append(args, cfg.Database)
	} else {
		q += "TABLE_SCHEMA NOT IN (" + systemSchemas + ")"
	}
	q += " ORDER BY TABLE_SCHEMA, TABLE_NAME"
	rows, err := s.conn.QueryContext(ctx, q, args...)
	if err != nil {
		return queryError(ctx, connector.StagePrivileges, "listing the tables", err)
	}
	var suspects []tableKey
	for rows.Next() {
		var k tableKey
		if err := rows.Scan(&k.db, &k.table); err != nil {
			rows.Close()
			return queryError(ctx, connector.StagePrivileges, "listing the tables", err)
		}
		if !g.onTable(k.db, k.table, "SELECT") {
			suspects = append(suspects, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return queryError(ctx, connector.StagePrivileges, "listing the tables", err)
	}

	var denied []string
	for _, k := range suspects {
		probe, err := s.conn.QueryContext(ctx, "SELECT * FROM "+quoteIdent(k.db)+"."+quoteIdent(k.table)+" LIMIT 0")
		if err == nil {
			probe.Close()
			continue
		}
		if errIsMySQL(err, erTableAccessDenied, erColumnAccessDenied) {
			denied = append(denied, k.db+"."+k.table)
			continue
		}
		if ctx.Err() != nil {
			return queryError(ctx, connector.StagePrivileges, "checking which tables the user can read", err)
		}
		// Anything else (a table dropped meanwhile, a broken table) is not a
		// privilege problem.
	}
	if len(denied) == 0 {
		return nil
	}
	where := fmt.Sprintf("database %q", cfg.Database)
	grant := fmt.Sprintf("GRANT SELECT ON %s.* TO %s", quoteIdent(cfg.Database), acct)
	if cfg.Database == "" {
		where = "the server"
		grant = fmt.Sprintf("GRANT SELECT ON <database>.* TO %s", acct)
	}
	return &connector.CheckError{
		Stage: connector.StagePrivileges,
		Message: fmt.Sprintf("user %q cannot read %d %s in %s: %s. Grant SELECT on them (e.g. %s), or exclude them in the table mappings",
			cfg.User, len(denied), plural(len(denied), "table", "tables"), where, listedNames(denied), grant),
		Err: ErrMissingPrivileges,
	}
}

func listedNames(names []string) string {
	if len(names) <= maxListed {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(names)-maxListed)
}

// checkReplicationPrivileges fails when the user may not read the binary
// log: CDC needs REPLICATION SLAVE (to stream it) and REPLICATION CLIENT
// (BINLOG MONITOR on MariaDB 10.5+, to read positions). The latter is
// confirmed with SHOW BINARY LOGS when SHOW GRANTS does not show it.
func checkReplicationPrivileges(ctx context.Context, s *session, cfg Config, g *grants, acct string) error {
	var missing []string
	if !g.onServer("REPLICATION SLAVE") && !g.onServer("REPLICATION REPLICA") {
		missing = append(missing, "REPLICATION SLAVE")
	}
	if !g.onServer("REPLICATION CLIENT") && !g.onServer("BINLOG MONITOR") && !g.onServer("SUPER") {
		rows, err := s.conn.QueryContext(ctx, "SHOW BINARY LOGS")
		switch {
		case err == nil:
			rows.Close()
		case errIsMySQL(err, erNoBinaryLogging):
			// Allowed, but binary logging is off: cdcWarnings says so.
		case errIsMySQL(err, erSpecificAccessDenied):
			missing = append(missing, "REPLICATION CLIENT")
		case ctx.Err() != nil:
			return queryError(ctx, connector.StagePrivileges, "checking the user's replication privileges", err)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &connector.CheckError{
		Stage: connector.StagePrivileges,
		Message: fmt.Sprintf("user %q lacks %s, which CDC needs to read the binary log: run GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO %s",
			cfg.User, strings.Join(missing, " and "), acct),
		Err: ErrMissingPrivileges,
	}
}

// Target privileges: without the required ones a task cannot create and
// load tables; without the others CDC apply and some preparation modes fail.
var (
	targetRequired    = []string{"CREATE", "INSERT", "DROP"}
	targetRecommended = []string{"ALTER", "DELETE", "INDEX", "SELECT", "UPDATE"}
)

// checkTargetPrivileges checks the target privileges on the database (on
// the server, without DatabaseName) from SHOW GRANTS.
func checkTargetPrivileges(cfg Config, g *grants, acct string) ([]string, error) {
	has := func(p string) bool {
		if cfg.Database == "" {
			return g.onServer(p)
		}
		return g.onDatabase(cfg.Database, p)
	}
	lacking := func(privs []string) []string {
		var out []string
		for _, p := range privs {
			if !has(p) {
				out = append(out, p)
			}
		}
		return out
	}
	where, on := fmt.Sprintf("database %q", cfg.Database), quoteIdent(cfg.Database)+".*"
	if cfg.Database == "" {
		where, on = "the server", "*.*"
	}
	if miss := lacking(targetRequired); len(miss) > 0 {
		return nil, &connector.CheckError{
			Stage: connector.StagePrivileges,
			Message: fmt.Sprintf("user %q cannot create and load tables in %s: it lacks %s. Run GRANT %s ON %s TO %s",
				cfg.User, where, strings.Join(miss, ", "), strings.Join(append(targetRequired, targetRecommended...), ", "), on, acct),
			Err: ErrMissingPrivileges,
		}
	}
	if miss := lacking(targetRecommended); len(miss) > 0 {
		return []string{fmt.Sprintf("user %q lacks %s on %s: applying changes (CDC) and some target table preparation modes need them. Run GRANT %s ON %s TO %s",
			cfg.User, strings.Join(miss, ", "), where, strings.Join(miss, ", "), on, acct)}, nil
	}
	return nil, nil
}
