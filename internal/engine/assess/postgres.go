package assess

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/record"
)

// PostgreSQL source checks ("PostgreSQL assessments").

func pgSource(s, _, _ string) bool     { return isPG(s) }
func pgSourceCDC(s, _, m string) bool  { return isPG(s) && cdcType(m) }
func pgTarget(_, t, _ string) bool     { return isPG(t) }
func pgTargetFull(_, t, m string) bool { return isPG(t) && fullLoadType(m) }
func pgTargetCDC(_, t, m string) bool  { return isPG(t) && cdcType(m) }

// longTxn is how long a transaction may have been open before
// postgres-check-longrunningtxn reports it.
const longTxn = 10 * time.Minute

// minWalSenderTimeoutMS is the smallest wal_sender_timeout (other than 0,
// no timeout) DMS CDC works with.
const minWalSenderTimeoutMS = 10000

func postgresChecks() []Check {
	return []Check{
		{Name: "postgres-check-dbversion", Applies: pgSource, Run: runPGVersion},
		{Name: "postgres-check-wallevel", Applies: pgSourceCDC, Run: runPGWalLevel},
		{Name: "postgres-check-replication-slots-count", Applies: pgSourceCDC, Run: runPGSlots},
		{Name: "postgres-check-maxwalsenders", Applies: pgSourceCDC, Run: runPGWalSenders},
		{Name: "postgres-check-walsenderstimeout", Applies: pgSourceCDC, Run: runPGWalSenderTimeout},
		{Name: "postgres-check-maxslot-wal-keep-size", Applies: pgSourceCDC, Run: runPGMaxSlotWalKeep},
		{Name: "postgres-check-longrunningtxn", Applies: pgSourceCDC, Run: runPGLongTxn},
		{Name: "postgres-check-preparedtxn", Applies: pgSourceCDC, Run: runPGPreparedTxn},
		{Name: "postgres-check-pk", Applies: pgSourceCDC, Run: runPGPK},
		{Name: "postgres-check-pk-lob", Applies: pgSource, Run: runPGPKLOB},
		{Name: "postgres-check-table-with-array", Applies: pgSource, Run: runPGArrayNoPK},
		{Name: "postgres-check-similar-table-name", Applies: pgSource, Run: runPGSimilarNames},
		{Name: "postgres-check-select-object-privileges", Applies: pgSource, Run: runPGSelectPrivileges},
		{Name: "postgres-check-limited-lob-size", Applies: pgSource, Run: runPGLimitedLOB},
		{Name: "postgres-check-postgis-data-type", Applies: pgSource, Run: runPGPostGIS},

		{Name: "postgres-check-target-privileges", Applies: pgTarget, Run: runPGTargetPrivileges},
		{Name: "postgres-check-target-secondary-indexes", Applies: pgTargetFull, Run: secondaryIndexCheck(famPostgres)},
		{Name: "postgres-check-session-replication-role", Applies: pgTarget, Run: runPGTargetFKTriggers},
		{Name: "postgres-check-batch-apply-target-pk-ui-absence", Applies: pgTargetCDC, Run: batchApplyAbsence(famPostgres)},
		{Name: "postgres-check-batch-apply-target-pk-ui-simultaneously", Applies: pgTargetCDC, Run: batchApplyBoth(famPostgres)},
		{Name: "postgres-batch-apply-lob-mode", Applies: pgTargetCDC, Run: batchApplyLOB(famPostgres)},
	}
}

func pgSourceSide(env *Env) (*endpoint, *Result) { return sqlSide(env, "source", famPostgres) }

// postgres-check-dbversion: DMS supports PostgreSQL 9.4 and later as a
// source, and documents versions up to 17.
func runPGVersion(ctx context.Context, env *Env) (Result, error) {
	d, skip := pgSourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	r, err := d.row(ctx, "the server version (server_version_num)", "SELECT current_setting('server_version_num')::int, current_setting('server_version')")
	if err != nil {
		return Result{}, err
	}
	num, version := mustInt(r[0]), str(r[1])
	res := Result{LookedAt: "server_version_num on the source", Objects: []string{"PostgreSQL " + version}}
	switch {
	case num < 90400:
		res.Status = Failed
		res.Details = fmt.Sprintf("The source runs PostgreSQL %s; DMS supports PostgreSQL 9.4 and later as a source.", version)
		res.Action = "Upgrade the source to a supported PostgreSQL version (10 or later) before migrating."
	case num >= 180000:
		res.Status = Warning
		res.Details = fmt.Sprintf("The source runs PostgreSQL %s, newer than the versions DMS documents as sources (9.4 to 17).", version)
		res.Action = "Test the migration on a copy first; report problems with this version."
	case num < 100000:
		res.Status = Passed
		res.Details = fmt.Sprintf("The source runs PostgreSQL %s, supported as a source (9.4 and later; 9.x is out of community support).", version)
	default:
		res.Status = Passed
		res.Details = fmt.Sprintf("The source runs PostgreSQL %s, supported as a source.", version)
	}
	return res, nil
}

// postgres-check-wallevel: logical decoding needs wal_level = logical.
func runPGWalLevel(ctx context.Context, env *Env) (Result, error) {
	d, skip := pgSourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	r, err := d.row(ctx, "pg_settings.wal_level", "SELECT current_setting('wal_level')")
	if err != nil {
		return Result{}, err
	}
	level := str(r[0])
	res := Result{LookedAt: "pg_settings.wal_level on the source", Objects: []string{"wal_level = " + level}}
	if level == "logical" {
		res.Status, res.Details = Passed, "wal_level is logical."
		return res, nil
	}
	res.Status = Failed
	res.Details = fmt.Sprintf("wal_level is %s: CDC reads changes through logical decoding, which needs wal_level = logical.", level)
	res.Action = "Set wal_level = logical in postgresql.conf (on Amazon RDS and Aurora: rds.logical_replication = 1 in the parameter group) and restart the server."
	return res, nil
}

// postgres-check-replication-slots-count: CDC needs a free replication slot.
func runPGSlots(ctx context.Context, env *Env) (Result, error) {
	d, skip := pgSourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	r, err := d.row(ctx, "max_replication_slots and pg_replication_slots",
		"SELECT current_setting('max_replication_slots')::int, (SELECT count(*) FROM pg_catalog.pg_replication_slots)::int")
	if err != nil {
		return Result{}, err
	}
	maxSlots, used := mustInt(r[0]), mustInt(r[1])
	res := Result{LookedAt: "max_replication_slots and the slots in pg_replication_slots on the source",
		Objects: []string{fmt.Sprintf("max_replication_slots = %d", maxSlots), fmt.Sprintf("slots in use = %d", used)}}
	if free := maxSlots - used; free >= 1 {
		res.Status = Passed
		res.Details = fmt.Sprintf("%d of max_replication_slots = %d in use; the task can create its slot.", used, maxSlots)
		return res, nil
	}
	res.Status = Failed
	res.Details = fmt.Sprintf("All %d replication slots are in use (max_replication_slots = %d): the task cannot create the slot CDC needs.", used, maxSlots)
	res.Action = "Drop unused replication slots (SELECT pg_drop_replication_slot(name)) or raise max_replication_slots and restart the server."
	return res, nil
}

// postgres-check-maxwalsenders: CDC streams through a WAL sender.
func runPGWalSenders(ctx context.Context, env *Env) (Result, error) {
	d, skip := pgSourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	r, err := d.row(ctx, "max_wal_senders and pg_stat_replication",
		"SELECT current_setting('max_wal_senders')::int, (SELECT count(*) FROM pg_catalog.pg_stat_replication)::int")
	if err != nil {
		return Result{}, err
	}
	maxSenders, used := mustInt(r[0]), mustInt(r[1])
	res := Result{LookedAt: "max_wal_senders and the WAL senders in pg_stat_replication on the source",
		Objects: []string{fmt.Sprintf("max_wal_senders = %d", maxSenders), fmt.Sprintf("WAL senders in use = %d", used)}}
	if free := maxSenders - used; free >= 1 {
		res.Status = Passed
		res.Details = fmt.Sprintf("%d of max_wal_senders = %d in use; CDC can start a WAL sender.", used, maxSenders)
		return res, nil
	}
	res.Status = Failed
	res.Details = fmt.Sprintf("No WAL sender is free (max_wal_senders = %d, %d in use): CDC cannot stream changes.", maxSenders, used)
	res.Action = "Raise max_wal_senders in postgresql.conf (one more than the replication connections you run) and restart the server."
	return res, nil
}

// postgres-check-walsenderstimeout: wal_sender_timeout must be 0 or at
// least 10 seconds.
func runPGWalSenderTimeout(ctx context.Context, env *Env) (Result, error) {
	d, skip := pgSourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	r, err := d.row(ctx, "pg_settings.wal_sender_timeout", "SELECT setting::bigint, COALESCE(unit, '') FROM pg_catalog.pg_settings WHERE name = 'wal_sender_timeout'")
	if err != nil {
		return Result{}, err
	}
	ms := mustInt(r[0])
	if str(r[1]) == "s" {
		ms *= 1000
	}
	res := Result{LookedAt: "pg_settings.wal_sender_timeout on the source", Objects: []string{fmt.Sprintf("wal_sender_timeout = %d ms", ms)}}
	switch {
	case ms == 0:
		res.Status, res.Details = Passed, "wal_sender_timeout is 0: WAL senders never time out."
	case ms >= minWalSenderTimeoutMS:
		res.Status, res.Details = Passed, fmt.Sprintf("wal_sender_timeout is %d ms (at least %d).", ms, minWalSenderTimeoutMS)
	default:
		res.Status = Failed
		res.Details = fmt.Sprintf("wal_sender_timeout is %d ms: the server drops the CDC stream when it is idle that long; DMS needs at least %d ms (or 0).", ms, minWalSenderTimeoutMS)
		res.Action = "Set wal_sender_timeout to 10000 ms or more (or 0) in postgresql.conf and reload the configuration."
	}
	return res, nil
}

// postgres-check-maxslot-wal-keep-size: with a limit, the server drops the
// WAL a stopped or slow task still needs and invalidates its slot.
func runPGMaxSlotWalKeep(ctx context.Context, env *Env) (Result, error) {
	d, skip := pgSourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	rows, err := d.rows(ctx, "pg_settings.max_slot_wal_keep_size", "SELECT setting::bigint, COALESCE(unit, '') FROM pg_catalog.pg_settings WHERE name = 'max_slot_wal_keep_size'")
	if err != nil {
		return Result{}, err
	}
	res := Result{LookedAt: "pg_settings.max_slot_wal_keep_size on the source"}
	if len(rows) == 0 {
		res.Status, res.Details = Passed, "The server has no max_slot_wal_keep_size (before PostgreSQL 13): replication slots keep all the WAL they need."
		return res, nil
	}
	size, unit := mustInt(rows[0][0]), str(rows[0][1])
	res.Objects = []string{fmt.Sprintf("max_slot_wal_keep_size = %d%s", size, unit)}
	if size < 0 {
		res.Status, res.Details = Passed, "max_slot_wal_keep_size is -1: replication slots keep all the WAL they need."
		return res, nil
	}
	res.Status = Warning
	res.Details = fmt.Sprintf("max_slot_wal_keep_size is %d%s: when a task falls behind or is stopped for longer than that much WAL, the server invalidates its slot and CDC cannot resume.", size, unit)
	res.Action = "Set max_slot_wal_keep_size = -1, or large enough for the longest time a task may be stopped, and monitor the slot's lag."
	return res, nil
}

// postgres-check-longrunningtxn: the slot is created only once the
// transactions open at that moment have ended.
func runPGLongTxn(ctx context.Context, env *Env) (Result, error) {
	d, skip := pgSourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	r, err := d.row(ctx, "the user's monitoring privileges",
		`SELECT r.rolsuper OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles g
			WHERE g.rolname = 'pg_read_all_stats' AND pg_catalog.pg_has_role(r.oid, g.oid, 'MEMBER')), current_user
		FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`)
	if err != nil {
		return Result{}, err
	}
	if !truth(r[0]) {
		return Result{}, fmt.Errorf("could not read the transactions of other sessions in pg_stat_activity on the source: user %q sees only its own; grant it pg_read_all_stats (or pg_monitor)", str(r[1]))
	}
	rows, err := d.rows(ctx, "pg_stat_activity", `
SELECT pid, COALESCE(usename, ''), COALESCE(datname, ''), floor(extract(epoch FROM now() - xact_start))::bigint, COALESCE(state, '')
FROM pg_catalog.pg_stat_activity
WHERE xact_start < now() - make_interval(secs => $1) AND pid <> pg_backend_pid()
ORDER BY xact_start`, longTxn.Seconds())
	if err != nil {
		return Result{}, err
	}
	res := Result{LookedAt: "the start of the open transactions in pg_stat_activity on the source"}
	for _, r := range rows {
		res.Objects = append(res.Objects, fmt.Sprintf("pid %d (user %s, database %s, %s, open %s)", mustInt(r[0]), str(r[1]), str(r[2]), str(r[4]),
			(time.Duration(mustInt(r[3]))*time.Second).String()))
	}
	if len(rows) == 0 {
		res.Status, res.Details = Passed, fmt.Sprintf("No transaction has been open for more than %s.", longTxn)
		return res, nil
	}
	res.Status = Warning
	res.Details = fmt.Sprintf("%s open for more than %s: %s. Creating the CDC replication slot waits until they end, and they hold back the WAL the slot retains.",
		plural(len(rows), "transaction has been", "transactions have been"), longTxn, listed(res.Objects, shown))
	res.Action = "Commit or end these sessions (pg_terminate_backend(pid)) before starting the task, and find what leaves transactions open."
	return res, nil
}

// postgres-check-preparedtxn: prepared transactions hold back the slot's
// creation like open ones.
func runPGPreparedTxn(ctx context.Context, env *Env) (Result, error) {
	d, skip := pgSourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	rows, err := d.rows(ctx, "pg_prepared_xacts", "SELECT gid, COALESCE(database, ''), COALESCE(owner, ''), prepared FROM pg_catalog.pg_prepared_xacts ORDER BY prepared")
	if err != nil {
		return Result{}, err
	}
	res := Result{LookedAt: "pg_prepared_xacts on the source"}
	for _, r := range rows {
		res.Objects = append(res.Objects, fmt.Sprintf("%s (database %s, owner %s, prepared %s)", str(r[0]), str(r[1]), str(r[2]), str(r[3])))
	}
	if len(rows) == 0 {
		res.Status, res.Details = Passed, "There are no prepared transactions."
		return res, nil
	}
	res.Status = Warning
	res.Details = fmt.Sprintf("%s waiting for COMMIT PREPARED or ROLLBACK PREPARED: %s. The CDC slot cannot be created until they are resolved.",
		plural(len(rows), "prepared transaction is", "prepared transactions are"), listed(res.Objects, shown))
	res.Action = "Resolve them with COMMIT PREPARED 'gid' or ROLLBACK PREPARED 'gid' before starting the task."
	return res, nil
}

// postgres-check-pk: without a primary key (or a replica identity) a
// table's UPDATEs and DELETEs cannot be replicated.
func runPGPK(ctx context.Context, env *Env) (Result, error) {
	looked := "pg_index (primary keys) and pg_class.relreplident of the selected tables on the source"
	d, sc, done := selectedOn(env, pgSourceSide, looked)
	if done != nil {
		return *done, nil
	}
	rows, err := d.rows(ctx, "the primary keys and replica identities of the selected tables", `
SELECT n.nspname, c.relname, c.relreplident::text,
	EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])
ORDER BY 1, 2`, sc.schemas())
	if err != nil {
		return Result{}, err
	}
	var lost, full []string
	for _, r := range rows {
		k := tableKey{str(r[0]), str(r[1])}
		if sc[k] == nil || truth(r[3]) {
			continue
		}
		switch str(r[2]) {
		case "f":
			full = append(full, k.String()+" (REPLICA IDENTITY FULL)")
		case "i":
			full = append(full, k.String()+" (REPLICA IDENTITY USING INDEX)")
		default:
			lost = append(lost, k.String())
		}
	}
	res := Result{LookedAt: looked, Objects: append(slices.Clone(lost), full...)}
	switch {
	case len(lost) > 0:
		res.Status = Failed
		res.Details = fmt.Sprintf("%s no primary key and no replica identity: %s. Their UPDATEs and DELETEs carry no old key in the WAL and cannot be replicated (with a publication they even fail on the source).",
			plural(len(lost), "table has", "tables have"), listed(lost, shown))
		res.Action = "Add a primary key to these tables, or run ALTER TABLE ... REPLICA IDENTITY FULL (or USING INDEX on a unique index of NOT NULL columns)."
	case len(full) > 0:
		res.Status = Warning
		res.Details = fmt.Sprintf("%s no primary key and replicate through their replica identity: %s. This works but logs whole rows and applies changes slowly.",
			plural(len(full), "table has", "tables have"), listed(full, shown))
		res.Action = "Add primary keys to these tables where you can."
	default:
		res.Status = Passed
		res.Details = fmt.Sprintf("Every selected table (%d) has a primary key.", len(sc))
	}
	return res, nil
}

// postgres-check-pk-lob: a primary key column of a LOB type.
func runPGPKLOB(_ context.Context, env *Env) (Result, error) {
	if _, skip := pgSourceSide(env); skip != nil {
		return *skip, nil
	}
	looked := "the types of the primary key columns of the selected tables (catalog read for the run)"
	if len(env.Plans) == 0 {
		return noTables(looked), nil
	}
	var objs []string
	for _, p := range sortedPlans(env) {
		for _, k := range p.Source.PrimaryKey {
			if c := p.Source.Column(k); c != nil && c.Type.Kind.IsLOB() {
				objs = append(objs, fmt.Sprintf("%s.%s (%s)", p.Source.QualifiedName(), c.Name, c.Type.Native))
			}
		}
	}
	res := Result{LookedAt: looked, Objects: objs}
	if len(objs) == 0 {
		res.Status, res.Details = Passed, "No primary key column of a selected table has a LOB type."
		return res, nil
	}
	res.Status = Warning
	res.Details = fmt.Sprintf("%s of a LOB type (unbounded text, bytea, JSON): %s. DMS handles such columns as LOBs: they cannot identify rows in LOB lookups, CDC or validation.",
		plural(len(objs), "primary key column is", "primary key columns are"), listed(objs, shown))
	res.Action = "Give these columns a bounded type (e.g. varchar(n)) on the source, or convert them with a change-data-type rule."
	return res, nil
}

// postgres-check-table-with-array: ARRAY columns are LOBs; without a
// primary key they cannot be looked up.
func runPGArrayNoPK(_ context.Context, env *Env) (Result, error) {
	if _, skip := pgSourceSide(env); skip != nil {
		return *skip, nil
	}
	looked := "the ARRAY columns and primary keys of the selected tables (catalog read for the run)"
	if len(env.Plans) == 0 {
		return noTables(looked), nil
	}
	var objs []string
	for _, p := range sortedPlans(env) {
		if len(p.Source.PrimaryKey) > 0 {
			continue
		}
		var arrays []string
		for _, c := range p.Source.Columns {
			if c.Type.Kind == record.KindArray && readsColumn(p, c.Name) {
				arrays = append(arrays, c.Name)
			}
		}
		if len(arrays) > 0 {
			objs = append(objs, p.Source.QualifiedName()+" ("+strings.Join(arrays, ", ")+")")
		}
	}
	res := Result{LookedAt: looked, Objects: objs}
	if len(objs) == 0 {
		res.Status, res.Details = Passed, "Every selected table with ARRAY columns has a primary key."
		return res, nil
	}
	res.Status = Warning
	res.Details = fmt.Sprintf("%s ARRAY columns but no primary key: %s. DMS migrates arrays as LOBs, which it cannot look up without a key (full LOB mode, CDC).",
		plural(len(objs), "table has", "tables have"), listed(objs, shown))
	res.Action = "Add primary keys to these tables, or use limited LOB mode."
	return res, nil
}

// postgres-check-similar-table-name: names that differ only in case
// become one table on targets that fold names.
func runPGSimilarNames(ctx context.Context, env *Env) (Result, error) {
	if _, skip := pgSourceSide(env); skip != nil {
		return *skip, nil
	}
	looked := "the names of the selected tables and of their target tables, compared without case"
	if len(env.Plans) == 0 {
		return noTables(looked), nil
	}
	groups := map[string][]string{}
	var order []string
	for _, p := range sortedPlans(env) {
		k := targetKey(env, p)
		folded := strings.ToLower(k.schema) + "." + strings.ToLower(k.name)
		if _, ok := groups[folded]; !ok {
			order = append(order, folded)
		}
		groups[folded] = append(groups[folded], p.Source.QualifiedName())
	}
	var objs []string
	for _, f := range order {
		if len(groups[f]) > 1 {
			objs = append(objs, strings.Join(groups[f], " / "))
		}
	}
	res := Result{LookedAt: looked, Objects: objs}
	if len(objs) == 0 {
		res.Status, res.Details = Passed, "No two selected tables have names that differ only in case."
		return res, nil
	}
	folding := false
	if d, skip := sqlSide(env, "target", famMySQL); skip == nil {
		r, err := d.row(ctx, "lower_case_table_names", "SELECT @@lower_case_table_names")
		if err != nil {
			return Result{}, err
		}
		folding = mustInt(r[0]) != 0
		res.LookedAt += " and lower_case_table_names on the target"
	}
	res.Details = fmt.Sprintf("%s of selected tables %s names that differ only in case: %s.",
		plural(len(objs), "group", "groups"), map[bool]string{true: "has", false: "have"}[len(objs) == 1], listed(objs, shown))
	res.Action = "Rename one table of each group on the target with a rename transformation rule, or exclude one of them."
	if folding {
		res.Status = Failed
		res.Details += " The target folds table names to lower case (lower_case_table_names), so they would be loaded into one table."
		return res, nil
	}
	res.Status = Warning
	res.Details += " They stay apart on a case-sensitive target, but collide on targets and tools that fold names."
	return res, nil
}

// postgres-check-select-object-privileges: the user must be able to read
// every selected table.
func runPGSelectPrivileges(ctx context.Context, env *Env) (Result, error) {
	looked := "has_schema_privilege(USAGE) and has_table_privilege(SELECT) of the source user on the selected tables"
	d, sc, done := selectedOn(env, pgSourceSide, looked)
	if done != nil {
		return *done, nil
	}
	rows, err := d.rows(ctx, "the user's privileges on the selected tables", `
SELECT n.nspname, c.relname, pg_catalog.has_schema_privilege(n.oid, 'USAGE'),
	pg_catalog.has_table_privilege(c.oid, 'SELECT'), current_user
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])
ORDER BY 1, 2`, sc.schemas())
	if err != nil {
		return Result{}, err
	}
	var objs []string
	user := ""
	for _, r := range rows {
		k := tableKey{str(r[0]), str(r[1])}
		user = str(r[4])
		if sc[k] == nil {
			continue
		}
		switch {
		case !truth(r[2]):
			objs = append(objs, k.String()+" (no USAGE on schema "+k.schema+")")
		case !truth(r[3]):
			objs = append(objs, k.String())
		}
	}
	res := Result{LookedAt: looked, Objects: objs}
	if len(objs) == 0 {
		res.Status, res.Details = Passed, fmt.Sprintf("The source user can read every selected table (%d).", len(sc))
		return res, nil
	}
	res.Status = Failed
	res.Details = fmt.Sprintf("User %q cannot read %s: %s. Their full load would fail.", user, plural(len(objs), "selected table", "selected tables"), listed(objs, shown))
	res.Action = fmt.Sprintf("GRANT USAGE ON SCHEMA <schema> TO %s and GRANT SELECT ON <table> TO %s (or ON ALL TABLES IN SCHEMA <schema>), or exclude the tables.", user, user)
	return res, nil
}

// postgres-check-limited-lob-size: in limited LOB mode values larger than
// the limit are cut.
func runPGLimitedLOB(ctx context.Context, env *Env) (Result, error) {
	d, skip := pgSourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	return limitedLOBCheck(ctx, env, d)
}

// limitedLOBCheck compares the largest LOB values of the tables migrated
// in limited LOB mode with their limit.
func limitedLOBCheck(ctx context.Context, env *Env, d *endpoint) (Result, error) {
	s := env.settings()
	limits := map[tableKey]int64{}
	var plans []*mapping.TablePlan
	for _, p := range sortedPlans(env) {
		if n := lobLimit(s, p); n > 0 && len(lobColumns(p)) > 0 {
			k := tableKey{p.Source.Schema, p.Source.Name}
			limits[k] = n
			plans = append(plans, p)
		}
	}
	if len(plans) == 0 {
		return Result{Status: Passed, LookedAt: "TargetMetadata (SupportLobs, FullLobMode, LimitedSizeLobMode, LobMaxSize) and the table-settings lob-settings",
			Details: "No selected table with LOB columns is migrated in limited LOB mode: LOB values are not cut."}, nil
	}
	sizes, err := largestLOBs(ctx, d, plans)
	if err != nil {
		return Result{}, err
	}
	res := Result{LookedAt: fmt.Sprintf("the largest value of each LOB column of %s in limited LOB mode (octet_length/LENGTH on the source) against LobMaxSize", plural(len(plans), "table", "tables"))}
	var largest int64
	for _, z := range sizes {
		largest = max(largest, z.bytes)
		if lim := limits[z.table]; z.bytes > lim {
			res.Objects = append(res.Objects, fmt.Sprintf("%s.%s: largest value %s > limit %s", z.table, z.column, kb(z.bytes), kb(lim)))
		}
	}
	if len(res.Objects) == 0 {
		res.Status = Passed
		res.Details = fmt.Sprintf("The largest LOB value (%s) fits the limited LOB mode limit.", kb(largest))
		return res, nil
	}
	res.Status = Failed
	res.Details = fmt.Sprintf("%s values larger than the limited LOB mode limit, which are cut when loaded: %s.",
		plural(len(res.Objects), "LOB column has", "LOB columns have"), listed(res.Objects, shown))
	res.Action = fmt.Sprintf("Raise TargetMetadata.LobMaxSize to at least %d KB (or set a lob-settings bulk-max-size for these tables), or use full LOB mode.", (largest+1023)/1024)
	return res, nil
}

// postgres-check-postgis-data-type: PostGIS columns migrate only to a
// PostgreSQL target that has PostGIS.
func runPGPostGIS(ctx context.Context, env *Env) (Result, error) {
	looked := "the PostGIS-typed columns (geometry, geography, raster) of the selected tables on the source"
	d, sc, done := selectedOn(env, pgSourceSide, looked)
	if done != nil {
		return *done, nil
	}
	rows, err := d.rows(ctx, "the PostGIS columns of the selected tables", `
SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND n.nspname = ANY($1::text[])
	AND b.typname = ANY($2::text[])
ORDER BY 1, 2, a.attnum`, sc.schemas(), postgisTypes)
	if err != nil {
		return Result{}, err
	}
	var objs []string
	for _, r := range rows {
		k := tableKey{str(r[0]), str(r[1])}
		if p := sc[k]; p != nil && readsColumn(p, str(r[2])) {
			objs = append(objs, fmt.Sprintf("%s.%s (%s)", k, str(r[2]), str(r[3])))
		}
	}
	res := Result{LookedAt: looked, Objects: objs}
	if len(objs) == 0 {
		res.Status, res.Details = Passed, "No selected column has a PostGIS type."
		return res, nil
	}
	if t, skip := sqlSide(env, "target", famPostgres); skip == nil {
		r, err := t.row(ctx, "whether PostGIS is installed", "SELECT pg_catalog.to_regtype('geometry') IS NOT NULL")
		if err != nil {
			return Result{}, err
		}
		res.LookedAt += " and whether the target has the geometry type"
		if truth(r[0]) {
			res.Status = Passed
			res.Details = fmt.Sprintf("%s a PostGIS type, and PostGIS is installed on the PostgreSQL target.", plural(len(objs), "column has", "columns have"))
			return res, nil
		}
		res.Status = Failed
		res.Details = fmt.Sprintf("%s a PostGIS type, but PostGIS is not installed in the target database: %s.", plural(len(objs), "column has", "columns have"), listed(objs, shown))
		res.Action = "Run CREATE EXTENSION postgis in the target database before the migration."
		return res, nil
	}
	res.Status = Failed
	res.Details = fmt.Sprintf("%s a PostGIS type, which DMS migrates only to PostgreSQL targets: %s.", plural(len(objs), "column has", "columns have"), listed(objs, shown))
	res.Action = "Migrate these tables to a PostgreSQL target with PostGIS, or exclude the columns (remove-column) or convert them on the source (e.g. ST_AsText in a view)."
	return res, nil
}
