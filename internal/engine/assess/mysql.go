package assess

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/connector/mysql"
)

// MySQL / MariaDB / Aurora MySQL source checks ("MySQL assessments").

func mySource(s, _, _ string) bool         { return isMy(s) }
func mySourceCDC(s, _, m string) bool      { return isMy(s) && cdcType(m) }
func myEither(s, t, _ string) bool         { return isMy(s) || isMy(t) }
func mySourceNoAurora(s, _, _ string) bool { return isMy(s) && !isAurora(s) }
func myTarget(_, t, _ string) bool         { return isMy(t) }
func myTargetFull(_, t, m string) bool     { return isMy(t) && fullLoadType(m) }
func myTargetCDC(_, t, m string) bool      { return isMy(t) && cdcType(m) }

// minBinlogRetention is the binary log retention DMS recommends for CDC.
const minBinlogRetention = 24 * time.Hour

func mysqlChecks() []Check {
	return []Check{
		{Name: "mysql-check-supported-version", Applies: myEither, Run: runMyVersion},
		{Name: "mysql-check-binlog-enabled", Applies: mySourceCDC, Run: runMyBinlogEnabled},
		{Name: "mysql-check-binlog-format", Applies: mySourceCDC, Run: runMyBinlogFormat},
		{Name: "mysql-check-binlog-image", Applies: mySourceCDC, Run: runMyBinlogImage},
		{Name: "mysql-check-binlog-compression", Applies: mySourceCDC, Run: runMyBinlogCompression},
		{Name: "mysql-check-server-id", Applies: mySourceCDC, Run: runMyServerID},
		{Name: "mysql-check-expire-logs-days", Applies: mySourceCDC, Run: runMyExpireLogs},
		{Name: "mysql-check-binlog-retention-time", Applies: mySourceCDC, Run: runMyBinlogRetention},
		{Name: "mysql-check-replication-privileges", Applies: mySourceCDC, Run: runMyReplicationPrivileges},
		{Name: "mysql-check-select-privileges", Applies: mySource, Run: runMySelectPrivileges},
		{Name: "mysql-check-table-storage-engine", Applies: mySourceNoAurora, Run: runMyStorageEngine},
		{Name: "mysql-check-auto-increment", Applies: mySource, Run: columnFeatureCheck(autoIncrement)},
		{Name: "mysql-check-invisible-columns", Applies: mySource, Run: columnFeatureCheck(invisibleColumns)},
		{Name: "mysql-check-generated-columns", Applies: mySource, Run: columnFeatureCheck(generatedColumns)},
		{Name: "mysql-check-table-partition", Applies: mySource, Run: runMyPartitions},

		{Name: "mysql-check-target-privileges", Applies: myTarget, Run: runMyTargetPrivileges},
		{Name: "mysql-check-secondary-indexes", Applies: myTargetFull, Run: secondaryIndexCheck(famMySQL)},
		{Name: "mysql-check-fk-target", Applies: myTarget, Run: runMyTargetFK},
		{Name: "mysql-check-target-localinfile-set", Applies: myTargetFull, Run: runMyLocalInfile},
		{Name: "mysql-check-max-allowed-packet-lob", Applies: myTarget, Run: runMyMaxAllowedPacket},
		{Name: "mysql-check-batch-apply-target-pk-ui-absence", Applies: myTargetCDC, Run: batchApplyAbsence(famMySQL)},
		{Name: "mysql-check-batch-apply-target-pk-ui-simultaneously", Applies: myTargetCDC, Run: batchApplyBoth(famMySQL)},
		{Name: "mysql-batch-apply-lob-mode", Applies: myTargetCDC, Run: batchApplyLOB(famMySQL)},
	}
}

func mySourceSide(env *Env) (*endpoint, *Result) { return sqlSide(env, "source", famMySQL) }

// globalVars reads server variables (names in lower case; absent ones are
// missing from the map).
func globalVars(ctx context.Context, d *endpoint, names ...string) (map[string]string, error) {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "'" + n + "'"
	}
	rows, err := d.rows(ctx, "the server variables "+strings.Join(names, ", "),
		"SHOW GLOBAL VARIABLES WHERE Variable_name IN ("+strings.Join(quoted, ", ")+")")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range rows {
		out[strings.ToLower(str(r[0]))] = str(r[1])
	}
	return out, nil
}

// oneVar reads one server variable; a server without it is an error.
func oneVar(ctx context.Context, d *endpoint, name string) (string, error) {
	vars, err := globalVars(ctx, d, name)
	if err != nil {
		return "", err
	}
	v, ok := vars[name]
	if !ok {
		return "", fmt.Errorf("could not read the server variable %s on the %s: the server does not have it", name, d.side)
	}
	return v, nil
}

// mysql-check-supported-version: DMS supports MySQL 5.5 and later and
// MariaDB 10.0.24 and later.
func runMyVersion(ctx context.Context, env *Env) (Result, error) {
	res := Result{Status: Passed}
	var sides []string
	var problems, ok []string
	for _, side := range []string{"source", "target"} {
		d, skip := sqlSide(env, side, famMySQL)
		if skip != nil {
			continue
		}
		sides = append(sides, side)
		r, err := d.row(ctx, "the server version", "SELECT VERSION()")
		if err != nil {
			return Result{}, err
		}
		v := str(r[0])
		mariaDB := strings.Contains(strings.ToLower(v), "mariadb")
		var major, minor, patch int
		fmt.Sscanf(v, "%d.%d.%d", &major, &minor, &patch)
		product := "MySQL"
		if mariaDB {
			product = "MariaDB"
		}
		res.Objects = append(res.Objects, fmt.Sprintf("%s: %s %s", side, product, v))
		ver := major*10000 + minor*100 + patch
		switch {
		case mariaDB && ver < 100024:
			problems = append(problems, fmt.Sprintf("the %s runs MariaDB %s (DMS supports 10.0.24 and later)", side, v))
		case !mariaDB && ver < 50500:
			problems = append(problems, fmt.Sprintf("the %s runs MySQL %s (DMS supports 5.5 and later)", side, v))
		default:
			ok = append(ok, fmt.Sprintf("the %s runs %s %d.%d.%d", side, product, major, minor, patch))
		}
	}
	if len(sides) == 0 {
		return Result{Status: Skipped, Details: "Not applicable: neither endpoint is a MySQL-compatible database Godwit can query.", LookedAt: "the endpoints' engines"}, nil
	}
	res.LookedAt = "SELECT VERSION() on the MySQL-compatible " + strings.Join(sides, " and ")
	if len(problems) > 0 {
		res.Status = Failed
		res.Details = "Unsupported version: " + strings.Join(problems, "; ") + "."
		res.Action = "Upgrade the server to a supported version (MySQL 5.7/8.0 or MariaDB 10.4 and later are best tested)."
		return res, nil
	}
	res.Details = "Supported version: " + strings.Join(ok, "; ") + "."
	return res, nil
}

// mysql-check-binlog-enabled: CDC reads the binary log.
func runMyBinlogEnabled(ctx context.Context, env *Env) (Result, error) {
	d, skip := mySourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	v, err := oneVar(ctx, d, "log_bin")
	if err != nil {
		return Result{}, err
	}
	res := Result{LookedAt: "the log_bin variable on the source", Objects: []string{"log_bin = " + v}}
	if truth(v) {
		res.Status, res.Details = Passed, "Binary logging is enabled (log_bin = ON)."
		return res, nil
	}
	res.Status = Failed
	res.Details = "Binary logging is off (log_bin = OFF): CDC reads changes from the binary log."
	res.Action = "Start the server with log_bin (and a server_id) in its configuration; on Amazon RDS enable automated backups."
	return res, nil
}

// mysql-check-binlog-format: CDC needs row-based logging. The checksum
// setting is reported with it (DMS reads CRC32 and NONE binary logs).
func runMyBinlogFormat(ctx context.Context, env *Env) (Result, error) {
	d, skip := mySourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	vars, err := globalVars(ctx, d, "binlog_format", "binlog_checksum")
	if err != nil {
		return Result{}, err
	}
	format, checksum := vars["binlog_format"], vars["binlog_checksum"]
	if format == "" {
		return Result{}, fmt.Errorf("could not read the server variable binlog_format on the source: the server does not have it")
	}
	res := Result{LookedAt: "the binlog_format and binlog_checksum variables on the source",
		Objects: []string{"binlog_format = " + format}}
	if checksum != "" {
		res.Objects = append(res.Objects, "binlog_checksum = "+checksum)
	}
	csNote := ""
	switch strings.ToUpper(checksum) {
	case "", "NONE", "CRC32":
		if checksum != "" {
			csNote = fmt.Sprintf(" binlog_checksum is %s, which CDC can read.", checksum)
		}
	default:
		csNote = fmt.Sprintf(" binlog_checksum is %s, which CDC cannot read: use CRC32 or NONE.", checksum)
	}
	if strings.EqualFold(format, "ROW") && !strings.Contains(csNote, "cannot") {
		res.Status, res.Details = Passed, "binlog_format is ROW."+csNote
		return res, nil
	}
	res.Status = Failed
	if !strings.EqualFold(format, "ROW") {
		res.Details = fmt.Sprintf("binlog_format is %s: CDC needs the row images of ROW logging.%s", format, csNote)
		res.Action = "Set binlog_format = ROW in the server configuration (SET GLOBAL binlog_format = 'ROW' applies to new sessions until restart)."
	} else {
		res.Details = "binlog_format is ROW." + csNote
		res.Action = "Set binlog_checksum = CRC32 (or NONE) in the server configuration."
	}
	return res, nil
}

// mysql-check-binlog-image: the row images must hold every column.
func runMyBinlogImage(ctx context.Context, env *Env) (Result, error) {
	d, skip := mySourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	vars, err := globalVars(ctx, d, "binlog_row_image")
	if err != nil {
		return Result{}, err
	}
	v, ok := vars["binlog_row_image"]
	res := Result{LookedAt: "the binlog_row_image variable on the source"}
	if !ok {
		res.Status, res.Details = Passed, "The server has no binlog_row_image (before MySQL 5.6): row images are always full."
		return res, nil
	}
	res.Objects = []string{"binlog_row_image = " + v}
	if strings.EqualFold(v, "FULL") {
		res.Status, res.Details = Passed, "binlog_row_image is FULL."
		return res, nil
	}
	res.Status = Failed
	res.Details = fmt.Sprintf("binlog_row_image is %s: the binary log leaves out the values of columns that did not change, so CDC cannot write whole rows to the target.", v)
	res.Action = "Set binlog_row_image = FULL in the server configuration (SET GLOBAL binlog_row_image = 'FULL' applies to new sessions until restart)."
	return res, nil
}

// mysql-check-binlog-compression: compressed binary log events cannot be read.
func runMyBinlogCompression(ctx context.Context, env *Env) (Result, error) {
	d, skip := mySourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	vars, err := globalVars(ctx, d, "binlog_transaction_compression", "log_bin_compress")
	if err != nil {
		return Result{}, err
	}
	res := Result{LookedAt: "binlog_transaction_compression (MySQL) and log_bin_compress (MariaDB) on the source"}
	var on []string
	for _, n := range []string{"binlog_transaction_compression", "log_bin_compress"} {
		if v, ok := vars[n]; ok {
			res.Objects = append(res.Objects, n+" = "+v)
			if truth(v) {
				on = append(on, n)
			}
		}
	}
	if len(on) == 0 {
		res.Status, res.Details = Passed, "Binary log compression is off."
		return res, nil
	}
	res.Status = Failed
	res.Details = fmt.Sprintf("Binary log compression is on (%s): CDC cannot read compressed binary log events.", strings.Join(on, ", "))
	res.Action = "Turn it off: SET GLOBAL " + on[0] + " = OFF, and in the server configuration."
	return res, nil
}

// mysql-check-server-id: a server that writes a binary log for CDC needs
// a server_id of 1 or more.
func runMyServerID(ctx context.Context, env *Env) (Result, error) {
	d, skip := mySourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	v, err := oneVar(ctx, d, "server_id")
	if err != nil {
		return Result{}, err
	}
	res := Result{LookedAt: "the server_id variable on the source", Objects: []string{"server_id = " + v}}
	if n, ok := integer(v); ok && n >= 1 {
		res.Status, res.Details = Passed, "server_id is "+v+"."
		return res, nil
	}
	res.Status = Failed
	res.Details = fmt.Sprintf("server_id is %s: replication clients such as CDC need a server_id of 1 or more.", v)
	res.Action = "Set server_id to a unique value of 1 or more in the server configuration and restart it."
	return res, nil
}

// binlogRetention is the server's binary log retention from its
// variables (0 = kept until purged by hand).
func binlogRetention(ctx context.Context, d *endpoint) (time.Duration, []string, error) {
	vars, err := globalVars(ctx, d, "binlog_expire_logs_seconds", "expire_logs_days")
	if err != nil {
		return 0, nil, err
	}
	var objs []string
	for _, n := range []string{"binlog_expire_logs_seconds", "expire_logs_days"} {
		if v, ok := vars[n]; ok {
			objs = append(objs, n+" = "+v)
		}
	}
	if v, ok := vars["binlog_expire_logs_seconds"]; ok {
		if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 {
			return time.Duration(n * float64(time.Second)), objs, nil
		}
	}
	if v, ok := vars["expire_logs_days"]; ok {
		if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 {
			return time.Duration(n * 24 * float64(time.Hour)), objs, nil
		}
	}
	return 0, objs, nil
}

func retentionResult(res Result, keep time.Duration) Result {
	switch {
	case keep == 0:
		res.Status, res.Details = Passed, "Binary logs are not removed automatically."
	case keep >= minBinlogRetention:
		res.Status, res.Details = Passed, fmt.Sprintf("Binary logs are kept %s (at least %s).", keep, minBinlogRetention)
	default:
		res.Status = Warning
		res.Details = fmt.Sprintf("Binary logs are kept only %s: a CDC task stopped (or behind) for longer cannot resume, its position is gone.", keep)
		res.Action = "Keep binary logs at least 24 hours: binlog_expire_logs_seconds = 86400 or more (expire_logs_days = 1 on older servers)."
	}
	return res
}

// mysql-check-expire-logs-days: binary logs must outlive a stopped task.
func runMyExpireLogs(ctx context.Context, env *Env) (Result, error) {
	d, skip := mySourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	keep, objs, err := binlogRetention(ctx, d)
	if err != nil {
		return Result{}, err
	}
	return retentionResult(Result{LookedAt: "binlog_expire_logs_seconds and expire_logs_days on the source", Objects: objs}, keep), nil
}

// mysql-check-binlog-retention-time: on Amazon RDS and Aurora the retention
// is the 'binlog retention hours' configuration (NULL: removed as soon as
// possible); elsewhere the server variables decide.
func runMyBinlogRetention(ctx context.Context, env *Env) (Result, error) {
	d, skip := mySourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	r, err := d.row(ctx, "whether mysql.rds_show_configuration exists",
		"SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'mysql' AND ROUTINE_NAME = 'rds_show_configuration'")
	if err != nil {
		return Result{}, err
	}
	if mustInt(r[0]) == 0 {
		keep, objs, err := binlogRetention(ctx, d)
		if err != nil {
			return Result{}, err
		}
		return retentionResult(Result{LookedAt: "binlog_expire_logs_seconds and expire_logs_days on the source (not an Amazon RDS server: no mysql.rds_show_configuration)", Objects: objs}, keep), nil
	}
	rows, err := d.rows(ctx, "mysql.rds_show_configuration", "CALL mysql.rds_show_configuration")
	if err != nil {
		return Result{}, err
	}
	res := Result{LookedAt: "'binlog retention hours' of mysql.rds_show_configuration on the source"}
	for _, r := range rows {
		if !strings.EqualFold(str(r[0]), "binlog retention hours") {
			continue
		}
		res.Objects = []string{"binlog retention hours = " + str(r[1])}
		if r[1] == nil || strings.EqualFold(str(r[1]), "NULL") {
			res.Status = Failed
			res.Details = "binlog retention hours is NULL: Amazon RDS removes binary logs as soon as it can, before CDC reads them."
			res.Action = "CALL mysql.rds_set_configuration('binlog retention hours', 24) (or more)."
			return res, nil
		}
		h, _ := strconv.ParseFloat(str(r[1]), 64)
		return retentionResult(res, time.Duration(h*float64(time.Hour))), nil
	}
	return Result{}, fmt.Errorf("could not read 'binlog retention hours' on the source: mysql.rds_show_configuration does not list it")
}

// myGrantsOf reads and parses the current user's SHOW GRANTS (with the
// active roles on MySQL), and returns the account.
func myGrantsOf(ctx context.Context, d *endpoint) (*mysql.Grants, string, error) {
	r, err := d.row(ctx, "the server version and current user", "SELECT VERSION(), CURRENT_USER()")
	if err != nil {
		return nil, "", err
	}
	stmt := "SHOW GRANTS"
	if !strings.Contains(strings.ToLower(str(r[0])), "mariadb") {
		if rr, err := d.rows(ctx, "the active roles", "SELECT CURRENT_ROLE()"); err == nil && len(rr) == 1 {
			if roles := str(rr[0][0]); roles != "" && roles != "NONE" {
				stmt = "SHOW GRANTS FOR CURRENT_USER() USING " + roles
			}
		}
	}
	rows, err := d.rows(ctx, "the user's grants (SHOW GRANTS)", stmt)
	if err != nil {
		return nil, "", err
	}
	lines := make([]string, 0, len(rows))
	for _, r := range rows {
		lines = append(lines, str(r[0]))
	}
	return mysql.ParseGrants(lines), str(r[1]), nil
}

// mysql-check-replication-privileges: CDC needs REPLICATION SLAVE and
// REPLICATION CLIENT (BINLOG MONITOR on MariaDB 10.5+).
func runMyReplicationPrivileges(ctx context.Context, env *Env) (Result, error) {
	d, skip := mySourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	g, user, err := myGrantsOf(ctx, d)
	if err != nil {
		return Result{}, err
	}
	var missing []string
	if !g.OnServer("REPLICATION SLAVE") && !g.OnServer("REPLICATION REPLICA") {
		missing = append(missing, "REPLICATION SLAVE")
	}
	if !g.OnServer("REPLICATION CLIENT") && !g.OnServer("BINLOG MONITOR") && !g.OnServer("SUPER") {
		missing = append(missing, "REPLICATION CLIENT")
	}
	res := Result{LookedAt: "SHOW GRANTS of the source user " + user, Objects: missing}
	if len(missing) == 0 {
		res.Status, res.Details = Passed, fmt.Sprintf("User %s may read the binary log (REPLICATION SLAVE and REPLICATION CLIENT).", user)
		return res, nil
	}
	res.Status = Failed
	res.Details = fmt.Sprintf("User %s lacks %s on *.*: CDC cannot read the binary log.", user, strings.Join(missing, " and "))
	res.Action = fmt.Sprintf("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO %s (MariaDB 10.5+: REPLICATION SLAVE, BINLOG MONITOR).", user)
	return res, nil
}

// mysql-check-select-privileges: the user must be able to read every
// selected table. Tables SHOW GRANTS does not cover are probed with
// SELECT ... LIMIT 0, which also catches role and column grants.
func runMySelectPrivileges(ctx context.Context, env *Env) (Result, error) {
	d, skip := mySourceSide(env)
	if skip != nil {
		return *skip, nil
	}
	looked := "SHOW GRANTS of the source user, and SELECT ... LIMIT 0 on the tables the grants do not cover"
	if len(env.Plans) == 0 {
		return noTables(looked), nil
	}
	g, user, err := myGrantsOf(ctx, d)
	if err != nil {
		return Result{}, err
	}
	var denied []string
	for _, p := range sortedPlans(env) {
		k := tableKey{p.Source.Schema, p.Source.Name}
		if g.OnTable(k.schema, k.name, "SELECT") {
			continue
		}
		if _, _, err := d.q.QueryRows(ctx, "SELECT * FROM "+d.table(k.schema, k.name)+" LIMIT 0"); err != nil {
			if ctx.Err() != nil {
				return Result{}, fmt.Errorf("could not probe table %s on the source: %w", k, err)
			}
			denied = append(denied, k.String())
		}
	}
	res := Result{LookedAt: looked, Objects: denied}
	if len(denied) == 0 {
		res.Status, res.Details = Passed, fmt.Sprintf("User %s can read every selected table (%d).", user, len(env.Plans))
		return res, nil
	}
	res.Status = Failed
	res.Details = fmt.Sprintf("User %s cannot read %s: %s. Their full load would fail.", user, plural(len(denied), "selected table", "selected tables"), listed(denied, shown))
	res.Action = fmt.Sprintf("GRANT SELECT ON <database>.* TO %s, or exclude the tables.", user)
	return res, nil
}

// mysql-check-table-storage-engine: tables not in InnoDB are read without
// a consistent snapshot and are not transactional.
func runMyStorageEngine(ctx context.Context, env *Env) (Result, error) {
	looked := "information_schema.TABLES.ENGINE of the selected tables on the source"
	d, sc, done := selectedOn(env, mySourceSide, looked)
	if done != nil {
		return *done, nil
	}
	cond, args := d.inList("TABLE_SCHEMA", 1, sc.schemas())
	rows, err := d.rows(ctx, "information_schema.TABLES", "SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(ENGINE, '') FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND "+cond+" ORDER BY 1, 2", args...)
	if err != nil {
		return Result{}, err
	}
	var objs []string
	for _, r := range rows {
		k := tableKey{str(r[0]), str(r[1])}
		if sc[k] != nil && !strings.EqualFold(str(r[2]), "InnoDB") {
			objs = append(objs, fmt.Sprintf("%s (%s)", k, str(r[2])))
		}
	}
	res := Result{LookedAt: looked, Objects: objs}
	if len(objs) == 0 {
		res.Status, res.Details = Passed, "All selected tables use InnoDB."
		return res, nil
	}
	res.Status = Warning
	res.Details = fmt.Sprintf("%s not use InnoDB: %s. They are not read inside the consistent snapshot the full load and CDC start from, so changes made during the load can be missed or doubled.",
		plural(len(objs), "selected table does", "selected tables do"), listed(objs, shown))
	res.Action = "Convert them with ALTER TABLE ... ENGINE = InnoDB, or stop writes to them during the full load."
	return res, nil
}

// A columnFeature is a kind of column information_schema.COLUMNS.EXTRA tells.
type columnFeature struct {
	what    string // plural noun
	where   string // SQL condition on EXTRA
	details string // what happens to them, after the list
	action  string
}

var (
	autoIncrement = columnFeature{what: "AUTO_INCREMENT columns", where: "EXTRA LIKE '%auto_increment%'",
		details: "Their values are migrated, but the target columns are created without AUTO_INCREMENT.",
		action:  "After the migration, add AUTO_INCREMENT (MySQL) or an identity/sequence default (PostgreSQL) to the target columns and set the counter past the largest value."}
	invisibleColumns = columnFeature{what: "invisible columns", where: "EXTRA LIKE '%INVISIBLE%'",
		details: "DMS does not migrate invisible columns (SELECT * leaves them out); Godwit reads them by name and creates them as ordinary visible columns.",
		action:  "Check that the target should have these columns, and make them invisible there again if needed."}
	generatedColumns = columnFeature{what: "generated columns", where: "(EXTRA LIKE '%GENERATED%' OR EXTRA IN ('VIRTUAL', 'PERSISTENT', 'STORED'))",
		details: "Their computed values are migrated into ordinary columns; loading into an existing generated column on the target fails.",
		action:  "Exclude them with remove-column and define them as generated columns on the target, or check that plain columns are acceptable."}
)

func columnFeatureCheck(f columnFeature) func(context.Context, *Env) (Result, error) {
	return func(ctx context.Context, env *Env) (Result, error) {
		d, skip := mySourceSide(env)
		if skip != nil {
			return *skip, nil
		}
		looked := "information_schema.COLUMNS.EXTRA of the selected tables on the source"
		sc := env.scope()
		if len(sc) == 0 {
			return noTables(looked), nil
		}
		cond, args := d.inList("TABLE_SCHEMA", 1, sc.schemas())
		rows, err := d.rows(ctx, "information_schema.COLUMNS", "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, EXTRA FROM information_schema.COLUMNS WHERE "+
			f.where+" AND "+cond+" ORDER BY 1, 2, ORDINAL_POSITION", args...)
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
			res.Status, res.Details = Passed, "No selected table has "+f.what+"."
			return res, nil
		}
		res.Status = Warning
		res.Details = fmt.Sprintf("The selected tables have %s: %s. %s", plural(len(objs), strings.TrimSuffix(f.what, "s"), f.what), listed(objs, shown), f.details)
		res.Action = f.action
		return res, nil
	}
}

// mysql-check-table-partition: partitioned tables are created without
// their partitions on the target.
func runMyPartitions(ctx context.Context, env *Env) (Result, error) {
	looked := "information_schema.PARTITIONS of the selected tables on the source"
	d, sc, done := selectedOn(env, mySourceSide, looked)
	if done != nil {
		return *done, nil
	}
	cond, args := d.inList("TABLE_SCHEMA", 1, sc.schemas())
	rows, err := d.rows(ctx, "information_schema.PARTITIONS", "SELECT TABLE_SCHEMA, TABLE_NAME, COUNT(*), MAX(PARTITION_METHOD) FROM information_schema.PARTITIONS WHERE PARTITION_NAME IS NOT NULL AND "+
		cond+" GROUP BY TABLE_SCHEMA, TABLE_NAME ORDER BY 1, 2", args...)
	if err != nil {
		return Result{}, err
	}
	var objs []string
	for _, r := range rows {
		k := tableKey{str(r[0]), str(r[1])}
		if sc[k] != nil {
			objs = append(objs, fmt.Sprintf("%s (%s, %s)", k, str(r[3]), plural(int(mustInt(r[2])), "partition", "partitions")))
		}
	}
	res := Result{LookedAt: looked, Objects: objs}
	if len(objs) == 0 {
		res.Status, res.Details = Passed, "No selected table is partitioned."
		return res, nil
	}
	res.Status = Warning
	res.Details = fmt.Sprintf("%s partitioned: %s. Their rows are migrated, but the target tables are created unpartitioned, and partition maintenance (ADD/DROP/TRUNCATE PARTITION) is not replicated by CDC.",
		plural(len(objs), "selected table is", "selected tables are"), listed(objs, shown))
	res.Action = "Create the target tables partitioned yourself before the load (TargetTablePrepMode DO_NOTHING or TRUNCATE_BEFORE_LOAD), and repeat partition maintenance on the target."
	return res, nil
}
