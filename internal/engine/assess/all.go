package assess

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/record"
)

// Checks that apply to every relational engine ("Assessments for all engines").

func relationalSource(s, _, _ string) bool     { return relational(s) }
func relationalSourceCDC(s, _, m string) bool  { return relational(s) && cdcType(m) }
func relationalPair(s, t, _ string) bool       { return relational(s) && relational(t) }
func relationalTargetCDC(_, t, m string) bool  { return relational(t) && cdcType(m) }
func anyTask(_, _, _ string) bool              { return true }
func relationalSourceFull(s, _, m string) bool { return relational(s) && fullLoadType(m) }

func allEngineChecks() []Check {
	return []Check{
		{Name: "all-check-source-selection-rules", Applies: anyTask, Run: runSelectionRules},
		{Name: "table-with-no-primary-key-or-unique-constraint", Applies: relationalSourceCDC, Run: runNoKey},
		{Name: "table-with-lob-but-without-primary-key-or-unique-constraint", Applies: relationalSource, Run: runLOBNoKey},
		{Name: "full-lob-not-nullable-at-target", Applies: relationalPair, Run: runFullLOBNotNullable},
		{Name: "target-table-has-unique-key-or-primary-key-for-cdc", Applies: relationalTargetCDC, Run: runTargetKeyForCDC},
		{Name: "unsupported-data-types-in-source", Applies: relationalSource, Run: runUnsupportedTypes},
		{Name: "all-check-secondary-constraints", Applies: relationalSourceFull, Run: runSecondaryConstraints},
	}
}

// all-check-source-selection-rules: the selection rules must select at
// least one table of the source.
func runSelectionRules(_ context.Context, env *Env) (Result, error) {
	res := Result{LookedAt: fmt.Sprintf("the selection rules of the table mappings against the %s of the source", plural(len(env.Tables), "table", "tables"))}
	if env.Mappings == nil {
		res.Status, res.Details = Failed, "The task has no table mappings."
		res.Action = "Add selection rules that include the tables to migrate."
		return res, nil
	}
	if len(env.Plans) == 0 {
		res.Status = Failed
		res.Details = fmt.Sprintf("The selection rules select none of the %s of the source: the task would migrate nothing.", plural(len(env.Tables), "table", "tables"))
		res.Action = "Check the schema-name and table-name of the selection rules (names are case sensitive; % is the wildcard) against the source's tables, and that no exclude rule removes them."
		return res, nil
	}
	res.Status = Passed
	res.Details = fmt.Sprintf("The selection rules select %d of the %s of the source.", len(env.Plans), plural(len(env.Tables), "table", "tables"))
	return res, nil
}

// table-with-no-primary-key-or-unique-constraint: CDC identifies the rows
// of an UPDATE or DELETE by their key.
func runNoKey(_ context.Context, env *Env) (Result, error) {
	looked := "the primary keys and unique indexes of the selected source tables (catalog read for the run)"
	if len(env.Plans) == 0 {
		return noTables(looked), nil
	}
	var objs []string
	for _, p := range sortedPlans(env) {
		if len(p.Source.Key()) == 0 {
			objs = append(objs, p.Source.QualifiedName())
		}
	}
	res := Result{LookedAt: looked, Objects: objs}
	if len(objs) == 0 {
		res.Status, res.Details = Passed, fmt.Sprintf("Every selected table (%d) has a primary key or unique index.", len(env.Plans))
		return res, nil
	}
	res.Status = Warning
	res.Details = fmt.Sprintf("%s no primary key or unique index: %s. Changes to them are applied by comparing whole rows, which is slow, and duplicate rows cannot be told apart.",
		plural(len(objs), "table has", "tables have"), listed(objs, shown))
	res.Action = "Add a primary key (or a unique index on NOT NULL columns) to these tables on the source, or give them one with a define-primary-key transformation rule."
	return res, nil
}

// table-with-lob-but-without-primary-key-or-unique-constraint: LOB values
// are looked up by key (full LOB mode, CDC).
func runLOBNoKey(_ context.Context, env *Env) (Result, error) {
	looked := "the LOB columns (text, bytea, JSON, BLOB, TEXT...) and keys of the selected source tables"
	if len(env.Plans) == 0 {
		return noTables(looked), nil
	}
	var objs []string
	for _, p := range sortedPlans(env) {
		lobs := lobColumns(p)
		if len(lobs) == 0 || len(p.Source.Key()) > 0 {
			continue
		}
		names := make([]string, len(lobs))
		for i, c := range lobs {
			names[i] = c.Name
		}
		objs = append(objs, p.Source.QualifiedName()+" ("+strings.Join(names, ", ")+")")
	}
	res := Result{LookedAt: looked, Objects: objs}
	if len(objs) == 0 {
		res.Status, res.Details = Passed, "Every selected table with LOB columns has a primary key or unique index."
		return res, nil
	}
	res.Status = Warning
	res.Details = fmt.Sprintf("%s LOB columns but no primary key or unique index: %s. DMS cannot look their LOB values up by key: in full LOB mode and during CDC they are not migrated.",
		plural(len(objs), "table has", "tables have"), listed(objs, shown))
	res.Action = "Add a primary key or unique index to these tables, or migrate them in limited LOB mode with a LobMaxSize above their largest LOB value."
	return res, nil
}

// full-lob-not-nullable-at-target: in full LOB mode DMS inserts the row
// first and its LOB values afterwards, so target LOB columns must accept NULL.
func runFullLOBNotNullable(ctx context.Context, env *Env) (Result, error) {
	looked := "the nullability of the target columns the selected LOB columns are loaded into"
	s := env.settings()
	var full []*mapping.TablePlan
	for _, p := range sortedPlans(env) {
		if fullLOB(s, p) && len(lobColumns(p)) > 0 {
			full = append(full, p)
		}
	}
	if len(full) == 0 {
		return Result{Status: Passed, LookedAt: "TargetMetadata.FullLobMode and the table-settings lob-settings",
			Details: "No selected table with LOB columns is migrated in full LOB mode."}, nil
	}
	d, skip := sqlSide(env, "target", "")
	if skip != nil {
		return *skip, nil
	}
	// Columns of tables that already exist and are kept.
	existing := map[tableKey]map[string]bool{} // table → column → nullable
	if keptTables(env) {
		var schemas []string
		for _, p := range full {
			if k := targetKey(env, p); !slices.Contains(schemas, k.schema) {
				schemas = append(schemas, k.schema)
			}
		}
		cond, args := d.inList("table_schema", 1, schemas)
		rows, err := d.rows(ctx, "information_schema.columns", "SELECT table_schema, table_name, column_name, is_nullable FROM information_schema.columns WHERE "+cond, args...)
		if err != nil {
			return Result{}, err
		}
		for _, r := range rows {
			k := tableKey{str(r[0]), str(r[1])}
			if existing[k] == nil {
				existing[k] = map[string]bool{}
			}
			existing[k][str(r[2])] = strings.EqualFold(str(r[3]), "YES")
		}
	}
	var objs []string
	for _, p := range full {
		k := targetKey(env, p)
		cols, exists := existing[k]
		for _, c := range p.Columns {
			if c.Source == "" || !c.Type.Kind.IsLOB() {
				continue
			}
			nullable := c.Nullable
			if exists {
				n, ok := cols[c.Name]
				nullable = !ok || n
			}
			if !nullable {
				objs = append(objs, k.String()+"."+c.Name)
			}
		}
	}
	res := Result{LookedAt: looked + " (information_schema.columns on the target for existing tables, the source's NOT NULL for new ones)", Objects: objs}
	if len(objs) == 0 {
		res.Status, res.Details = Passed, "Every LOB column migrated in full LOB mode is nullable on the target."
		return res, nil
	}
	res.Status = Warning
	res.Details = fmt.Sprintf("%s migrated in full LOB mode %s NOT NULL on the target: %s. DMS loads LOBs in a second step after inserting the row with NULL there, which such columns refuse (Godwit loads LOB values with the row).",
		plural(len(objs), "LOB column", "LOB columns"), map[bool]string{true: "is", false: "are"}[len(objs) == 1], listed(objs, shown))
	res.Action = "Make these target columns nullable during the migration (and add NOT NULL back afterwards), or use limited LOB mode."
	return res, nil
}

// target-table-has-unique-key-or-primary-key-for-cdc: changes are applied
// to the target by key.
func runTargetKeyForCDC(ctx context.Context, env *Env) (Result, error) {
	looked := "the primary keys and unique indexes of the target tables (existing ones in the target's catalog, new ones from the source)"
	if len(env.Plans) == 0 {
		return noTables(looked), nil
	}
	d, skip := sqlSide(env, "target", "")
	if skip != nil {
		return *skip, nil
	}
	existing, err := existingTargets(ctx, env, d)
	if err != nil {
		return Result{}, err
	}
	var objs []string
	for _, p := range sortedPlans(env) {
		k := targetKey(env, p)
		if t, ok := existing[k]; ok && keptTables(env) {
			if !t.pk && len(t.unique) == 0 {
				objs = append(objs, k.String())
			}
			continue
		}
		// Created by the task: the primary key (and on MySQL the unique keys) of the plan.
		if len(p.Target.PrimaryKey) == 0 && (d.family != famMySQL || len(p.Target.UniqueKeys) == 0) {
			objs = append(objs, k.String()+" (to be created)")
		}
	}
	res := Result{LookedAt: looked, Objects: objs}
	if len(objs) == 0 {
		res.Status, res.Details = Passed, "Every target table has a primary key or unique index to apply changes by."
		return res, nil
	}
	res.Status = Warning
	res.Details = fmt.Sprintf("%s no primary key or unique index on the target: %s. Each UPDATE and DELETE applied during CDC scans the whole table.",
		plural(len(objs), "target table has", "target tables have"), listed(objs, shown))
	res.Action = "Add a primary key or unique index to these target tables (or to the source tables, or with a define-primary-key transformation rule) before CDC starts."
	return res, nil
}

// all-check-secondary-constraints: secondary indexes, foreign keys and
// check constraints of the source are not migrated.
func runSecondaryConstraints(ctx context.Context, env *Env) (Result, error) {
	d, skip := sqlSide(env, "source", "")
	if skip != nil {
		return *skip, nil
	}
	looked := "the secondary indexes, foreign keys and check constraints of the selected tables in the source's catalog"
	sc := env.scope()
	if len(sc) == 0 {
		return noTables(looked), nil
	}
	var q string
	if d.family == famPostgres {
		q = `
SELECT n.nspname, c.relname, CASE WHEN i.indisunique THEN 'unique index' ELSE 'index' END, ic.relname
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE NOT i.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('u', 'x'))
	AND n.nspname = ANY($1::text[])
UNION ALL
SELECT n.nspname, c.relname, CASE k.contype WHEN 'f' THEN 'foreign key' WHEN 'c' THEN 'check constraint' WHEN 'u' THEN 'unique constraint' ELSE 'exclusion constraint' END, k.conname
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE k.contype IN ('f', 'c', 'u', 'x') AND n.nspname = ANY($1::text[])
ORDER BY 1, 2, 3, 4`
	} else {
		cond1, args1 := d.inList("TABLE_SCHEMA", 1, sc.schemas())
		cond2, args2 := d.inList("TABLE_SCHEMA", 1, sc.schemas())
		q = `
SELECT TABLE_SCHEMA, TABLE_NAME, IF(NON_UNIQUE = 0, 'unique index', 'index'), INDEX_NAME
FROM information_schema.STATISTICS WHERE SEQ_IN_INDEX = 1 AND INDEX_NAME <> 'PRIMARY' AND ` + cond1 + `
UNION ALL
SELECT TABLE_SCHEMA, TABLE_NAME, IF(CONSTRAINT_TYPE = 'FOREIGN KEY', 'foreign key', 'check constraint'), CONSTRAINT_NAME
FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_TYPE IN ('FOREIGN KEY', 'CHECK') AND ` + cond2 + `
ORDER BY 1, 2, 3, 4`
		rows, err := d.rows(ctx, "the indexes and constraints of the selected tables", q, append(args1, args2...)...)
		if err != nil {
			return Result{}, err
		}
		return secondaryResult(env, sc, rows, looked), nil
	}
	rows, err := d.rows(ctx, "the indexes and constraints of the selected tables", q, sc.schemas())
	if err != nil {
		return Result{}, err
	}
	return secondaryResult(env, sc, rows, looked), nil
}

func secondaryResult(env *Env, sc scope, rows []record.Row, looked string) Result {
	var objs []string
	tables := map[tableKey]bool{}
	for _, r := range rows {
		k := tableKey{str(r[0]), str(r[1])}
		if sc[k] == nil {
			continue
		}
		if env.targetFamily() == famMySQL && strings.HasPrefix(str(r[2]), "unique") {
			continue // the MySQL target creates the unique keys
		}
		tables[k] = true
		objs = append(objs, fmt.Sprintf("%s: %s %s", k, str(r[2]), str(r[3])))
	}
	res := Result{LookedAt: looked, Objects: objs}
	if len(objs) == 0 {
		res.Status, res.Details = Passed, "The selected tables have no secondary index, foreign key or check constraint."
		return res
	}
	created := "only the primary key"
	if env.targetFamily() == famMySQL {
		created = "only the primary key and unique keys"
	}
	res.Status = Warning
	res.Details = fmt.Sprintf("%s of %s are not migrated (the target tables are created with %s): %s.",
		plural(len(objs), "secondary index or constraint", "secondary indexes and constraints"), plural(len(tables), "selected table", "selected tables"), created, listed(objs, shown))
	res.Action = "Create the secondary indexes, foreign keys and check constraints on the target yourself, after the full load (before it they slow the load and foreign keys can reject rows)."
	return res
}
