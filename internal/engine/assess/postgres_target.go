package assess

import (
	"context"
	"fmt"
	"strings"

	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
)

// PostgreSQL target checks.

// postgres-check-target-privileges: the target user must be able to create
// the target schemas and tables and write the existing ones as the
// migration type and TargetTablePrepMode need.
func runPGTargetPrivileges(ctx context.Context, env *Env) (Result, error) {
	d, skip := sqlSide(env, "target", famPostgres)
	if skip != nil {
		return *skip, nil
	}
	looked := "has_database_privilege, has_schema_privilege and has_table_privilege of the target user on the target schemas and tables"
	if len(env.Plans) == 0 {
		return noTables(looked), nil
	}
	r, err := d.row(ctx, "the user's CREATE privilege on the database", "SELECT current_user, pg_catalog.has_database_privilege(current_database(), 'CREATE'), current_database()")
	if err != nil {
		return Result{}, err
	}
	user, dbCreate, dbName := str(r[0]), truth(r[1]), str(r[2])
	schemas := targetSchemas(env)
	srows, err := d.rows(ctx, "the user's privileges on the target schemas", `
SELECT s, n.oid IS NOT NULL,
	COALESCE(pg_catalog.has_schema_privilege(n.oid, 'USAGE'), false),
	COALESCE(pg_catalog.has_schema_privilege(n.oid, 'CREATE'), false)
FROM unnest($1::text[]) s LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = s`, schemas)
	if err != nil {
		return Result{}, err
	}
	type schemaPriv struct{ exists, usage, create bool }
	sp := map[string]schemaPriv{}
	for _, r := range srows {
		sp[str(r[0])] = schemaPriv{truth(r[1]), truth(r[2]), truth(r[3])}
	}
	trows, err := d.rows(ctx, "the user's privileges on the target tables", `
SELECT n.nspname, c.relname,
	pg_catalog.has_table_privilege(c.oid, 'INSERT'), pg_catalog.has_table_privilege(c.oid, 'UPDATE'),
	pg_catalog.has_table_privilege(c.oid, 'DELETE'), pg_catalog.has_table_privilege(c.oid, 'TRUNCATE'),
	pg_catalog.pg_has_role(c.relowner, 'MEMBER')
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])`, schemas)
	if err != nil {
		return Result{}, err
	}
	type tablePriv struct{ insert, update, delete, truncate, owner bool }
	tp := map[tableKey]tablePriv{}
	for _, r := range trows {
		tp[tableKey{str(r[0]), str(r[1])}] = tablePriv{truth(r[2]), truth(r[3]), truth(r[4]), truth(r[5]), truth(r[6])}
	}

	prep := env.settings().FullLoadSettings.TargetTablePrepMode
	full, cdc := fullLoadType(env.MigrationType), cdcType(env.MigrationType)
	var failed, warned []string
	needCreate := map[string]bool{} // schemas where tables must be created
	for _, p := range sortedPlans(env) {
		k := targetKey(env, p)
		t, exists := tp[k]
		if !exists || (full && prep == tasksettings.PrepDropAndCreate) {
			needCreate[k.schema] = true
		}
		if !exists {
			continue
		}
		var missing []string
		if full && prep == tasksettings.PrepDropAndCreate && !t.owner {
			missing = append(missing, "ownership (to drop it)")
		}
		if !t.insert {
			missing = append(missing, "INSERT")
		}
		if full && prep == tasksettings.PrepTruncateBeforeLoad && !t.truncate {
			missing = append(missing, "TRUNCATE")
		}
		if cdc && !t.update {
			missing = append(missing, "UPDATE")
		}
		if cdc && !t.delete {
			missing = append(missing, "DELETE")
		}
		if len(missing) > 0 {
			failed = append(failed, fmt.Sprintf("table %s: %s", k, strings.Join(missing, ", ")))
		} else if full && !cdc && !t.delete {
			warned = append(warned, fmt.Sprintf("table %s: DELETE (to resume an interrupted load)", k))
		}
	}
	for _, s := range schemas {
		p := sp[s]
		switch {
		case !p.exists && !dbCreate:
			failed = append(failed, fmt.Sprintf("schema %s does not exist and the user may not create schemas (CREATE on database %s)", s, dbName))
		case p.exists && !p.usage:
			failed = append(failed, fmt.Sprintf("schema %s: USAGE", s))
		case p.exists && needCreate[s] && !p.create:
			failed = append(failed, fmt.Sprintf("schema %s: CREATE (to create tables)", s))
		}
	}
	res := Result{LookedAt: looked, Objects: append(failed, warned...)}
	switch {
	case len(failed) > 0:
		res.Status = Failed
		res.Details = fmt.Sprintf("Target user %q lacks privileges the task needs: %s.", user, listed(failed, shown))
		res.Action = fmt.Sprintf("Grant them, e.g. GRANT CREATE ON DATABASE %s TO %s; GRANT USAGE, CREATE ON SCHEMA <schema> TO %s; GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA <schema> TO %s.",
			dbName, user, user, user)
	case len(warned) > 0:
		res.Status = Warning
		res.Details = fmt.Sprintf("Target user %q can load the tables but lacks: %s.", user, listed(warned, shown))
		res.Action = fmt.Sprintf("GRANT DELETE ON the tables TO %s.", user)
	default:
		res.Status = Passed
		res.Details = fmt.Sprintf("Target user %q has the privileges the task needs on %s.", user, plural(len(env.Plans), "target table", "target tables"))
	}
	return res, nil
}

// postgres-check-session-replication-role: foreign keys and triggers on
// the target tables fire during the load unless session_replication_role
// is replica, and foreign keys referencing the tables block TRUNCATE.
func runPGTargetFKTriggers(ctx context.Context, env *Env) (Result, error) {
	d, skip := sqlSide(env, "target", famPostgres)
	if skip != nil {
		return *skip, nil
	}
	looked := "pg_constraint (foreign keys), pg_trigger and session_replication_role on the target"
	if len(env.Plans) == 0 {
		return noTables(looked), nil
	}
	r, err := d.row(ctx, "session_replication_role", "SELECT current_setting('session_replication_role')")
	if err != nil {
		return Result{}, err
	}
	role := str(r[0])
	replica := role == "replica"
	schemas := targetSchemas(env)
	rows, err := d.rows(ctx, "the foreign keys and triggers of the target tables", `
SELECT 'fk', n.nspname, c.relname, k.conname, rn.nspname, r.relname
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class c ON c.oid = k.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_class r ON r.oid = k.confrelid JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
WHERE k.contype = 'f' AND (n.nspname = ANY($1::text[]) OR rn.nspname = ANY($1::text[]))
UNION ALL
SELECT 'trigger', n.nspname, c.relname, t.tgname, t.tgenabled::text, ''
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND n.nspname = ANY($1::text[])
ORDER BY 1, 2, 3, 4`, schemas)
	if err != nil {
		return Result{}, err
	}
	planned := plansByTarget(env)
	prep := env.settings().FullLoadSettings.TargetTablePrepMode
	full := fullLoadType(env.MigrationType)
	kept := keptTables(env)
	var failed, warned []string
	for _, r := range rows {
		child := tableKey{str(r[1]), str(r[2])}
		name := str(r[3])
		if str(r[0]) == "trigger" {
			enabled := str(r[4])
			fires := enabled == "A" || (enabled == "O" && !replica) || (enabled == "R" && replica)
			if planned[child] != nil && kept && fires {
				warned = append(warned, fmt.Sprintf("%s: trigger %s", child, name))
			}
			continue
		}
		parent := tableKey{str(r[4]), str(r[5])}
		if planned[child] != nil && kept && !replica {
			warned = append(warned, fmt.Sprintf("%s: foreign key %s referencing %s", child, name, parent))
		}
		if planned[parent] != nil && child != parent && full {
			switch prep {
			case tasksettings.PrepTruncateBeforeLoad:
				failed = append(failed, fmt.Sprintf("%s: referenced by foreign key %s of %s, so TRUNCATE is refused", parent, name, child))
			case tasksettings.PrepDropAndCreate:
				warned = append(warned, fmt.Sprintf("%s: referenced by foreign key %s of %s, which DROP ... CASCADE removes", parent, name, child))
			}
		}
	}
	res := Result{LookedAt: looked, Objects: append(failed, warned...)}
	res.Objects = append(res.Objects, "session_replication_role = "+role)
	switch {
	case len(failed) > 0:
		res.Status = Failed
		res.Details = fmt.Sprintf("Foreign keys on the target stop the table preparation: %s.", listed(failed, shown))
		res.Action = "Drop these foreign keys during the full load and create them again afterwards, or use TargetTablePrepMode DO_NOTHING with emptied tables."
	case len(warned) > 0:
		res.Status = Warning
		res.Details = fmt.Sprintf("With session_replication_role = %s, foreign keys and triggers on the target act during the load: %s. Rows whose parent is not loaded yet are rejected, and triggers slow the load or change the data.",
			role, listed(warned, shown))
		res.Action = "Set session_replication_role = replica for the target user (ALTER ROLE ... SET session_replication_role = replica) during the migration, or drop or disable the foreign keys and triggers until it is done."
	default:
		res.Status = Passed
		res.Details = fmt.Sprintf("No foreign key or trigger acts on the target tables during the load (session_replication_role = %s).", role)
	}
	return res, nil
}
