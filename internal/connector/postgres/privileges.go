package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/connector"
)

// maxListed is how many tables a privilege message names.
const maxListed = 5

// userTables restricts pg_class c / pg_namespace n to ordinary and
// partitioned tables in user schemas, leaving out extension-owned tables.
const userTables = `
	c.relkind IN ('r', 'p')
	AND n.nspname NOT IN ('pg_catalog', 'information_schema')
	AND n.nspname NOT LIKE 'pg\_toast%'
	AND n.nspname NOT LIKE 'pg\_temp\_%'
	AND NOT EXISTS (
		SELECT 1 FROM pg_catalog.pg_depend d
		WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`

// tablesLacking lists (up to maxListed) the user tables on which the
// session lacks USAGE on the schema or priv on the table, and how many
// there are in all.
func tablesLacking(ctx context.Context, pg *pgx.Conn, priv string) (names []string, total int, err error) {
	q := `
SELECT n.nspname, c.relname, pg_catalog.has_schema_privilege(n.oid, 'USAGE'), count(*) OVER ()
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE ` + userTables + `
	AND NOT (pg_catalog.has_schema_privilege(n.oid, 'USAGE') AND pg_catalog.has_table_privilege(c.oid, $1))
ORDER BY 1, 2
LIMIT ` + fmt.Sprint(maxListed)
	rows, err := pg.Query(ctx, q, priv)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var schema, table string
		var usage bool
		if err := rows.Scan(&schema, &table, &usage, &total); err != nil {
			return nil, 0, err
		}
		name := schema + "." + table
		if !usage {
			name += fmt.Sprintf(" (no USAGE on schema %s)", schema)
		}
		names = append(names, name)
	}
	return names, total, rows.Err()
}

// listed joins names and says how many more there are.
func listed(names []string, total int) string {
	s := strings.Join(names, ", ")
	if more := total - len(names); more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// checkSourcePrivileges fails when the user cannot read every user table of
// the database.
func checkSourcePrivileges(ctx context.Context, pg *pgx.Conn, cfg Config) error {
	names, total, err := tablesLacking(ctx, pg, "SELECT")
	if err != nil {
		return queryError(ctx, connector.StagePrivileges, "checking which tables the user can read", err)
	}
	if total == 0 {
		return nil
	}
	return &connector.CheckError{
		Stage: connector.StagePrivileges,
		Message: fmt.Sprintf("user %q cannot read %d %s in database %q: %s. Grant USAGE on their schemas and SELECT on the tables "+
			"(e.g. GRANT SELECT ON ALL TABLES IN SCHEMA <schema> TO %s), or exclude them in the table mappings",
			cfg.User, total, plural(total, "table", "tables"), cfg.Database, listed(names, total), pgx.Identifier{cfg.User}.Sanitize()),
		Err: ErrMissingPrivileges,
	}
}

// checkReplicationPrivilege fails when the user may not stream changes:
// CDC needs superuser, the REPLICATION attribute, or (on Amazon RDS)
// membership of rds_replication.
func checkReplicationPrivilege(ctx context.Context, pg *pgx.Conn, cfg Config) error {
	var super, repl, rds bool
	err := pg.QueryRow(ctx, `
SELECT r.rolsuper, r.rolreplication,
	EXISTS (SELECT 1 FROM pg_catalog.pg_roles g
		WHERE g.rolname = 'rds_replication' AND pg_catalog.pg_has_role(r.oid, g.oid, 'MEMBER'))
FROM pg_catalog.pg_roles r
WHERE r.rolname = current_user`).Scan(&super, &repl, &rds)
	if err != nil {
		return queryError(ctx, connector.StagePrivileges, "checking the user's replication privilege", err)
	}
	if super || repl || rds {
		return nil
	}
	user := pgx.Identifier{cfg.User}.Sanitize()
	return &connector.CheckError{
		Stage: connector.StagePrivileges,
		Message: fmt.Sprintf("user %q may not read changes for CDC: it has neither the REPLICATION attribute nor superuser. "+
			"Run ALTER ROLE %s WITH REPLICATION (on Amazon RDS: GRANT rds_replication TO %s)", cfg.User, user, user),
		Err: ErrMissingPrivileges,
	}
}

// checkTargetPrivileges fails when the user can create tables neither in a
// new schema (CREATE on the database) nor in its current schema. Existing
// tables it cannot write are warnings: only tasks that load into them fail.
func checkTargetPrivileges(ctx context.Context, pg *pgx.Conn, cfg Config) ([]string, error) {
	var dbCreate, schemaCreate bool
	var schema *string
	err := pg.QueryRow(ctx, `
SELECT pg_catalog.has_database_privilege(current_database(), 'CREATE'),
	current_schema(),
	COALESCE(pg_catalog.has_schema_privilege(current_schema(), 'CREATE'), false)`).Scan(&dbCreate, &schema, &schemaCreate)
	if err != nil {
		return nil, queryError(ctx, connector.StagePrivileges, "checking the user's CREATE privilege", err)
	}
	user := pgx.Identifier{cfg.User}.Sanitize()
	if !dbCreate && !schemaCreate {
		where := "it has no current schema (check search_path)"
		grant := fmt.Sprintf("GRANT CREATE ON DATABASE %s TO %s", pgx.Identifier{cfg.Database}.Sanitize(), user)
		if schema != nil {
			where = fmt.Sprintf("nor on schema %s", *schema)
			grant += fmt.Sprintf(" (or GRANT USAGE, CREATE ON SCHEMA %s TO %s)", pgx.Identifier{*schema}.Sanitize(), user)
		}
		return nil, &connector.CheckError{
			Stage: connector.StagePrivileges,
			Message: fmt.Sprintf("user %q cannot create tables in database %q: it has no CREATE privilege on the database, %s. Run %s",
				cfg.User, cfg.Database, where, grant),
			Err: ErrMissingPrivileges,
		}
	}
	var warnings []string
	if !dbCreate {
		warnings = append(warnings, fmt.Sprintf("user %q has no CREATE privilege on database %q: tasks can only create tables in existing schemas it may create in (such as %s), not create target schemas",
			cfg.User, cfg.Database, deref(schema)))
	}
	names, total, err := tablesLacking(ctx, pg, "INSERT")
	if err != nil {
		return nil, queryError(ctx, connector.StagePrivileges, "checking which tables the user can write", err)
	}
	if total > 0 {
		warnings = append(warnings, fmt.Sprintf("user %q cannot insert into %d existing %s in database %q: %s. A task that loads into them will fail: grant INSERT, UPDATE and DELETE on them to %s",
			cfg.User, total, plural(total, "table", "tables"), cfg.Database, listed(names, total), user))
	}
	return warnings, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
