package assess

import (
	"context"
	"fmt"
	"strings"

	"github.com/godwit-dms/godwit/internal/dms/mapping"
)

// Target-side checks shared by the PostgreSQL and MySQL targets: existing
// target tables (the planned target names) and batch apply.

// secondaryIndexCheck: indexes other than the primary key on target tables
// that are kept for the full load slow every row loaded
// (postgres-check-target-secondary-indexes, mysql-check-secondary-indexes).
func secondaryIndexCheck(family string) func(context.Context, *Env) (Result, error) {
	return func(ctx context.Context, env *Env) (Result, error) {
		d, skip := sqlSide(env, "target", family)
		if skip != nil {
			return *skip, nil
		}
		looked := "the indexes of the existing target tables the selected tables load into"
		if len(env.Plans) == 0 {
			return noTables(looked), nil
		}
		if !keptTables(env) {
			return Result{Status: Passed, LookedAt: "FullLoadSettings.TargetTablePrepMode",
				Details: "TargetTablePrepMode is DROP_AND_CREATE: target tables are re-created without secondary indexes."}, nil
		}
		existing, err := existingTargets(ctx, env, d)
		if err != nil {
			return Result{}, err
		}
		var objs []string
		for _, p := range sortedPlans(env) {
			t := existing[targetKey(env, p)]
			if t == nil {
				continue
			}
			for _, i := range t.secondary {
				objs = append(objs, t.key.String()+": index "+i)
			}
			for _, i := range t.unique {
				objs = append(objs, t.key.String()+": unique index "+i)
			}
		}
		res := Result{LookedAt: looked + " (" + catalogName(family) + ")", Objects: objs}
		if len(objs) == 0 {
			res.Status, res.Details = Passed, "No existing target table of the task has an index other than its primary key."
			return res, nil
		}
		res.Status = Warning
		res.Details = fmt.Sprintf("Existing target tables have %s besides their primary key: %s. Each is updated for every row loaded, which slows the full load.",
			plural(len(objs), "index", "indexes"), listed(objs, shown))
		res.Action = "Drop the secondary indexes before the full load and create them again after it (before CDC starts applying changes)."
		return res, nil
	}
}

func catalogName(family string) string {
	if family == famMySQL {
		return "information_schema.STATISTICS"
	}
	return "pg_index"
}

// batchApply returns the Skipped result of a batch-apply check when batch
// apply is off.
func batchApplyOff(env *Env) *Result {
	if env.settings().TargetMetadata.BatchApplyEnabled {
		return nil
	}
	return &Result{Status: Skipped, LookedAt: "TargetMetadata.BatchApplyEnabled",
		Details: "Not applicable: BatchApplyEnabled is false, changes are applied transaction by transaction."}
}

// batchApplyAbsence: batch apply merges changes by key; target tables
// without a primary key or unique index fall back to one-by-one apply
// (*-check-batch-apply-target-pk-ui-absence).
func batchApplyAbsence(family string) func(context.Context, *Env) (Result, error) {
	return func(ctx context.Context, env *Env) (Result, error) {
		if off := batchApplyOff(env); off != nil {
			return *off, nil
		}
		d, skip := sqlSide(env, "target", family)
		if skip != nil {
			return *skip, nil
		}
		looked := "the primary keys and unique indexes of the target tables (existing ones in " + catalogName(family) + ", new ones from the source)"
		if len(env.Plans) == 0 {
			return noTables(looked), nil
		}
		existing, err := existingTargets(ctx, env, d)
		if err != nil {
			return Result{}, err
		}
		var objs []string
		for _, p := range sortedPlans(env) {
			k := targetKey(env, p)
			if t := existing[k]; t != nil && keptTables(env) {
				if !t.pk && len(t.unique) == 0 {
					objs = append(objs, k.String())
				}
			} else if len(p.Target.PrimaryKey) == 0 && (family != famMySQL || len(p.Target.UniqueKeys) == 0) {
				objs = append(objs, k.String()+" (to be created)")
			}
		}
		res := Result{LookedAt: looked, Objects: objs}
		if len(objs) == 0 {
			res.Status, res.Details = Passed, "Every target table has a primary key or unique index for batch apply."
			return res, nil
		}
		res.Status = Warning
		res.Details = fmt.Sprintf("BatchApplyEnabled is true but %s no primary key or unique index: %s. Batch apply cannot merge their changes by key; they are applied one by one.",
			plural(len(objs), "target table has", "target tables have"), listed(objs, shown))
		res.Action = "Add a primary key (or unique index) to these tables, or turn BatchApplyEnabled off."
		return res, nil
	}
}

// batchApplyBoth: a target table with both a primary key and other unique
// indexes can make batch apply's merged statements conflict
// (*-check-batch-apply-target-pk-ui-simultaneously).
func batchApplyBoth(family string) func(context.Context, *Env) (Result, error) {
	return func(ctx context.Context, env *Env) (Result, error) {
		if off := batchApplyOff(env); off != nil {
			return *off, nil
		}
		d, skip := sqlSide(env, "target", family)
		if skip != nil {
			return *skip, nil
		}
		looked := "the primary keys and unique indexes of the target tables (existing ones in " + catalogName(family) + ", new ones from the source)"
		if len(env.Plans) == 0 {
			return noTables(looked), nil
		}
		existing, err := existingTargets(ctx, env, d)
		if err != nil {
			return Result{}, err
		}
		var objs []string
		for _, p := range sortedPlans(env) {
			k := targetKey(env, p)
			if t := existing[k]; t != nil && keptTables(env) {
				if t.pk && len(t.unique) > 0 {
					objs = append(objs, k.String()+" (unique: "+strings.Join(t.unique, ", ")+")")
				}
			} else if family == famMySQL && len(p.Target.PrimaryKey) > 0 && len(p.Target.UniqueKeys) > 0 {
				objs = append(objs, k.String()+" (to be created with unique keys)")
			}
		}
		res := Result{LookedAt: looked, Objects: objs}
		if len(objs) == 0 {
			res.Status, res.Details = Passed, "No target table has both a primary key and a unique index."
			return res, nil
		}
		res.Status = Warning
		res.Details = fmt.Sprintf("BatchApplyEnabled is true and %s both a primary key and unique indexes: %s. Batch apply merges changes by primary key, so a change to a unique column can conflict with rows not yet applied.",
			plural(len(objs), "target table has", "target tables have"), listed(objs, shown))
		res.Action = "Drop the unique indexes during CDC, or turn BatchApplyEnabled off for these tables' task."
		return res, nil
	}
}

// batchApplyLOB: batch apply supports limited LOB mode only
// (*-batch-apply-lob-mode).
func batchApplyLOB(family string) func(context.Context, *Env) (Result, error) {
	return func(_ context.Context, env *Env) (Result, error) {
		if off := batchApplyOff(env); off != nil {
			return *off, nil
		}
		if _, skip := sqlSide(env, "target", family); skip != nil {
			return *skip, nil
		}
		s := env.settings()
		var objs []string
		for _, p := range sortedPlans(env) {
			if fullLOB(s, p) && len(lobColumns(p)) > 0 {
				objs = append(objs, p.Source.QualifiedName())
			}
		}
		res := Result{LookedAt: "TargetMetadata.FullLobMode, the table-settings lob-settings and the LOB columns of the selected tables", Objects: objs}
		if len(objs) == 0 {
			res.Status, res.Details = Passed, "No table with LOB columns is migrated in full LOB mode: batch apply can apply every table."
			return res, nil
		}
		res.Status = Warning
		res.Details = fmt.Sprintf("BatchApplyEnabled is true, but %s LOB columns in full LOB mode: %s. Batch apply supports limited LOB mode only; their changes are applied one by one.",
			plural(len(objs), "table has", "tables have"), listed(objs, shown))
		res.Action = "Use limited LOB mode (LimitedSizeLobMode with a LobMaxSize above the largest LOB) with batch apply, or turn BatchApplyEnabled off."
		return res, nil
	}
}

// plansByTarget indexes the plans by their target key.
func plansByTarget(env *Env) map[tableKey]*mapping.TablePlan {
	out := map[tableKey]*mapping.TablePlan{}
	for _, p := range env.Plans {
		out[targetKey(env, p)] = p
	}
	return out
}

// targetSchemas lists the target schemas of the selected tables.
func targetSchemas(env *Env) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range sortedPlans(env) {
		k := targetKey(env, p)
		if !seen[k.schema] {
			seen[k.schema] = true
			out = append(out, k.schema)
		}
	}
	return out
}
