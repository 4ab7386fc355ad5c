package assess

import (
	"context"
	"fmt"
	"strings"

	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
)

// MySQL / MariaDB / Aurora MySQL target checks.

// mysql-check-target-privileges: the target user must be able to create,
// prepare and write the target tables as the migration type and
// TargetTablePrepMode need.
func runMyTargetPrivileges(ctx context.Context, env *Env) (Result, error) {
	d, skip := sqlSide(env, "target", famMySQL)
	if skip != nil {
		return *skip, nil
	}
	looked := "SHOW GRANTS of the target user, for each target database and table"
	if len(env.Plans) == 0 {
		return noTables(looked), nil
	}
	g, user, err := myGrantsOf(ctx, d)
	if err != nil {
		return Result{}, err
	}
	s := env.settings()
	full, cdc := fullLoadType(env.MigrationType), cdcType(env.MigrationType)
	required := []string{"CREATE", "INSERT"}
	if full {
		switch s.FullLoadSettings.TargetTablePrepMode {
		case tasksettings.PrepDropAndCreate, tasksettings.PrepTruncateBeforeLoad:
			required = append(required, "DROP") // TRUNCATE TABLE needs DROP too
		}
		if s.FullLoadSettings.CreatePkAfterFullLoad {
			required = append(required, "ALTER")
		}
	}
	if cdc {
		required = append(required, "UPDATE", "DELETE")
	}
	recommended := []string{"SELECT"}
	if !cdc {
		recommended = append(recommended, "DELETE") // a resumed load deletes what it loads again
	}
	var failed, warned []string
	for _, p := range sortedPlans(env) {
		k := targetKey(env, p)
		var miss, rec []string
		for _, priv := range required {
			if !g.OnTable(k.schema, k.name, priv) {
				miss = append(miss, priv)
			}
		}
		for _, priv := range recommended {
			if !g.OnTable(k.schema, k.name, priv) {
				rec = append(rec, priv)
			}
		}
		if len(miss) > 0 {
			failed = append(failed, k.String()+": "+strings.Join(miss, ", "))
		}
		if len(rec) > 0 {
			warned = append(warned, k.String()+": "+strings.Join(rec, ", "))
		}
	}
	res := Result{LookedAt: looked, Objects: append(failed, warned...)}
	grant := fmt.Sprintf("GRANT %s ON <database>.* TO %s", strings.Join(append(required, recommended...), ", "), user)
	switch {
	case len(failed) > 0:
		res.Status = Failed
		res.Details = fmt.Sprintf("Target user %s lacks privileges the task needs on %s: %s.", user, plural(len(failed), "target table", "target tables"), listed(failed, shown))
		res.Action = grant + "."
	case len(warned) > 0:
		res.Status = Warning
		res.Details = fmt.Sprintf("Target user %s can load the tables but lacks: %s.", user, listed(warned, shown))
		res.Action = grant + "."
	default:
		res.Status = Passed
		res.Details = fmt.Sprintf("Target user %s has the privileges the task needs on %s.", user, plural(len(env.Plans), "target table", "target tables"))
	}
	return res, nil
}

// mysql-check-fk-target: foreign keys on the target tables reject rows
// whose parent is not loaded yet, and a referenced table cannot be dropped.
func runMyTargetFK(ctx context.Context, env *Env) (Result, error) {
	d, skip := sqlSide(env, "target", famMySQL)
	if skip != nil {
		return *skip, nil
	}
	looked := "information_schema.REFERENTIAL_CONSTRAINTS of the target tables and foreign_key_checks of a target session"
	if len(env.Plans) == 0 {
		return noTables(looked), nil
	}
	r, err := d.row(ctx, "foreign_key_checks", "SELECT @@foreign_key_checks")
	if err != nil {
		return Result{}, err
	}
	checks := truth(r[0])
	schemas := targetSchemas(env)
	c1, a1 := d.inList("CONSTRAINT_SCHEMA", 1, schemas)
	c2, a2 := d.inList("UNIQUE_CONSTRAINT_SCHEMA", 1, schemas)
	rows, err := d.rows(ctx, "information_schema.REFERENTIAL_CONSTRAINTS",
		"SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE ("+
			c1+") OR ("+c2+") ORDER BY 1, 2, 3", append(a1, a2...)...)
	if err != nil {
		return Result{}, err
	}
	planned := plansByTarget(env)
	full := fullLoadType(env.MigrationType)
	kept := keptTables(env)
	drop := full && env.settings().FullLoadSettings.TargetTablePrepMode == tasksettings.PrepDropAndCreate
	var failed, warned []string
	for _, r := range rows {
		child, parent := tableKey{str(r[0]), str(r[1])}, tableKey{str(r[3]), str(r[4])}
		name := str(r[2])
		if planned[child] != nil && kept && checks {
			warned = append(warned, fmt.Sprintf("%s: foreign key %s referencing %s", child, name, parent))
		}
		if planned[parent] != nil && child != parent && drop && checks {
			if planned[child] == nil {
				failed = append(failed, fmt.Sprintf("%s: referenced by foreign key %s of %s, so DROP TABLE is refused", parent, name, child))
			} else {
				warned = append(warned, fmt.Sprintf("%s: referenced by foreign key %s of %s, so DROP TABLE is refused unless %s is dropped first", parent, name, child, child))
			}
		}
	}
	res := Result{LookedAt: looked, Objects: append(append(failed, warned...), fmt.Sprintf("foreign_key_checks = %d", mustInt(r[0])))}
	switch {
	case len(failed) > 0:
		res.Status = Failed
		res.Details = fmt.Sprintf("Foreign keys on the target stop the table preparation: %s.", listed(failed, shown))
		res.Action = "Drop these foreign keys during the migration, or set initstmt=SET FOREIGN_KEY_CHECKS=0 in the target endpoint's extra connection attributes (AfterConnectScript)."
	case len(warned) > 0:
		res.Status = Warning
		res.Details = fmt.Sprintf("Foreign keys are checked on the target tables during the load: %s. Rows whose parent row is not loaded yet are rejected.", listed(warned, shown))
		res.Action = "Set initstmt=SET FOREIGN_KEY_CHECKS=0 in the target endpoint's extra connection attributes (AfterConnectScript), or drop the foreign keys until the migration is done."
	default:
		res.Status = Passed
		if checks {
			res.Details = "No foreign key involves the target tables."
		} else {
			res.Details = "Target sessions run with foreign_key_checks = 0: foreign keys do not act during the load."
		}
	}
	return res, nil
}

// mysql-check-target-localinfile-set: the full load streams rows with LOAD
// DATA LOCAL INFILE, which needs local_infile on the server.
func runMyLocalInfile(ctx context.Context, env *Env) (Result, error) {
	d, skip := sqlSide(env, "target", famMySQL)
	if skip != nil {
		return *skip, nil
	}
	v, err := oneVar(ctx, d, "local_infile")
	if err != nil {
		return Result{}, err
	}
	res := Result{LookedAt: "the local_infile variable on the target", Objects: []string{"local_infile = " + v}}
	if truth(v) {
		res.Status, res.Details = Passed, "local_infile is ON: the full load can use LOAD DATA LOCAL INFILE."
		return res, nil
	}
	res.Status = Warning
	res.Details = "local_infile is OFF: the server refuses LOAD DATA LOCAL INFILE, so the full load falls back to multi-row INSERTs, which are several times slower."
	res.Action = "SET GLOBAL local_infile = ON (and local_infile = 1 in the server configuration; on Amazon RDS in the parameter group)."
	return res, nil
}

// mysql-check-max-allowed-packet-lob: a row with a LOB larger than
// max_allowed_packet cannot be sent to the target in one statement.
func runMyMaxAllowedPacket(ctx context.Context, env *Env) (Result, error) {
	d, skip := sqlSide(env, "target", famMySQL)
	if skip != nil {
		return *skip, nil
	}
	v, err := oneVar(ctx, d, "max_allowed_packet")
	if err != nil {
		return Result{}, err
	}
	packet, _ := integer(v)
	res := Result{LookedAt: "max_allowed_packet on the target against the LOB sizes the task loads", Objects: []string{"max_allowed_packet = " + v}}
	s := env.settings()
	// The largest LOB each table sends: its limit in limited LOB mode, its
	// largest value otherwise.
	var worst int64
	var worstWhat string
	var scan []*mapping.TablePlan
	for _, p := range sortedPlans(env) {
		if len(lobColumns(p)) == 0 {
			continue
		}
		if lim := lobLimit(s, p); lim > 0 {
			if lim > worst {
				worst, worstWhat = lim, fmt.Sprintf("the LOB limit of %s", p.Source.QualifiedName())
			}
			continue
		}
		scan = append(scan, p)
	}
	if len(scan) > 0 {
		src, skip := sqlSide(env, "source", "")
		if skip != nil {
			res.LookedAt += fmt.Sprintf(" (the sizes of the LOB values of %s in full LOB mode cannot be read: the source is not a SQL database)", plural(len(scan), "table", "tables"))
		} else {
			sizes, err := largestLOBs(ctx, src, scan)
			if err != nil {
				return Result{}, err
			}
			res.LookedAt += " (largest LOB values read on the source)"
			for _, z := range sizes {
				if z.bytes > worst {
					worst, worstWhat = z.bytes, fmt.Sprintf("the largest value of %s.%s", z.table, z.column)
				}
			}
		}
	}
	if worst == 0 {
		res.Status, res.Details = Passed, fmt.Sprintf("No LOB the task loads comes near max_allowed_packet (%s).", kb(packet))
		return res, nil
	}
	// Room for the rest of the row and the statement.
	if worst+64<<10 <= packet {
		res.Status = Passed
		res.Details = fmt.Sprintf("The largest LOB the task loads (%s, %s) fits max_allowed_packet (%s).", kb(worst), worstWhat, kb(packet))
		return res, nil
	}
	res.Status = Failed
	res.Details = fmt.Sprintf("%s is %s, more than max_allowed_packet (%s) allows in one statement: loading (without LOAD DATA) and applying that row fail.", worstWhat, kb(worst), kb(packet))
	res.Action = fmt.Sprintf("Raise max_allowed_packet on the target to at least %d bytes (SET GLOBAL max_allowed_packet = ..., and in the server configuration), or lower LobMaxSize.", worst+64<<10)
	return res, nil
}
