package assess

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// unsupported-data-types-in-source: columns whose type DMS does not
// migrate (not supported) or migrates as something else (partially
// supported) to the task's target.

// Support levels.
const (
	supported = iota
	partial
	notSupported
)

// typeFinding is a column in scope whose type is not fully supported.
type typeFinding struct {
	level  int
	object string // schema.table.column (type)
	why    string
}

// postgisTypes are PostGIS's column types (also recognised without the
// extension's catalog entry, e.g. installed in another schema).
var postgisTypes = []string{"geometry", "geography", "raster", "box2d", "box3d", "box3d_extent"}

// pgColumn is a source column with its type as the catalog describes it.
type pgColumn struct {
	table     tableKey
	column    string
	native    string // format_type(atttypid, atttypmod)
	base      string // the type's name, domains resolved to their base type
	qualified string // format_type(base, NULL): the name to look up on a target
	typtype   string // b, c, d, e, p, r, m
	category  string // typcategory
	ext       string // the extension that owns the type
	builtin   bool
	elem      string // arrays: the element type's name
	elemType  string // arrays: the element type's typtype
	elemExt   string
}

func runUnsupportedTypes(ctx context.Context, env *Env) (Result, error) {
	d, skip := sqlSide(env, "source", "")
	if skip != nil {
		return *skip, nil
	}
	if len(env.Plans) == 0 {
		return noTables("the column types of the selected tables"), nil
	}
	var findings []typeFinding
	var looked string
	var err error
	if d.family == famPostgres {
		looked = "the column types of the selected tables (pg_attribute, pg_type, extensions) on the source"
		findings, err = pgTypeFindings(ctx, env, d)
	} else {
		looked = "information_schema.COLUMNS.DATA_TYPE of the selected tables on the source"
		findings, err = myTypeFindings(ctx, env, d)
	}
	if err != nil {
		return Result{}, err
	}
	res := Result{LookedAt: looked}
	worst := supported
	var shownItems []string
	for _, f := range findings {
		worst = max(worst, f.level)
		res.Objects = append(res.Objects, f.object+": "+f.why)
		shownItems = append(shownItems, f.object)
	}
	switch worst {
	case supported:
		res.Status = Passed
		res.Details = "No columns in scope of migration have been identified as unsupported or partially supported."
	case partial:
		res.Status = Warning
		res.Details = fmt.Sprintf("%s in scope %s partially supported type: %s. They are migrated in another form (see objects).",
			plural(len(findings), "column", "columns"), map[bool]string{true: "has a", false: "have a"}[len(findings) == 1], listed(shownItems, shown))
		res.Action = "Check that the form the target receives is acceptable, or convert the columns with a change-data-type rule, or exclude them with remove-column."
	default:
		res.Status = Failed
		var bad []string
		for _, f := range findings {
			if f.level == notSupported {
				bad = append(bad, f.object)
			}
		}
		res.Details = fmt.Sprintf("%s in scope %s a type DMS does not support for this target: %s.",
			plural(len(bad), "column", "columns"), map[bool]string{true: "has", false: "have"}[len(bad) == 1], listed(bad, shown))
		res.Action = "Exclude these columns (remove-column transformation rule) or the tables, convert them on the source (e.g. a view or a generated text column), or migrate to a target of the same engine that has the type."
	}
	return res, nil
}

func pgTypeFindings(ctx context.Context, env *Env, d *endpoint) ([]typeFinding, error) {
	sc := env.scope()
	rows, err := d.rows(ctx, "the column types of the selected tables", `
SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
	b.typname, pg_catalog.format_type(b.oid, NULL), b.typtype::text, b.typcategory::text,
	COALESCE((SELECT e.extname FROM pg_catalog.pg_depend dp JOIN pg_catalog.pg_extension e ON e.oid = dp.refobjid
		WHERE dp.classid = 'pg_catalog.pg_type'::regclass AND dp.objid = b.oid AND dp.deptype = 'e' LIMIT 1), ''),
	b.oid < 16384,
	COALESCE(el.typname, ''), COALESCE(el.typtype::text, ''),
	COALESCE((SELECT e.extname FROM pg_catalog.pg_depend dp JOIN pg_catalog.pg_extension e ON e.oid = dp.refobjid
		WHERE dp.classid = 'pg_catalog.pg_type'::regclass AND dp.objid = el.oid AND dp.deptype = 'e' LIMIT 1), '')
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_catalog.pg_type el ON el.oid = b.typelem AND b.typcategory = 'A'
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND n.nspname = ANY($1::text[])
ORDER BY 1, 2, a.attnum`, sc.schemas())
	if err != nil {
		return nil, err
	}
	var cols []pgColumn
	var custom []string
	for _, r := range rows {
		c := pgColumn{table: tableKey{str(r[0]), str(r[1])}, column: str(r[2]), native: str(r[3]), base: str(r[4]), qualified: str(r[5]),
			typtype: str(r[6]), category: str(r[7]), ext: str(r[8]), builtin: truth(r[9]), elem: str(r[10]), elemType: str(r[11]), elemExt: str(r[12])}
		p := sc[c.table]
		if p == nil || !readsColumn(p, c.column) {
			continue
		}
		cols = append(cols, c)
		if !c.builtin && !slices.Contains(custom, c.qualified) {
			custom = append(custom, c.qualified)
		}
	}
	homogeneous := env.targetFamily() == famPostgres
	onTarget := map[string]bool{}
	if homogeneous && len(custom) > 0 {
		t, skip := sqlSide(env, "target", famPostgres)
		if skip == nil {
			rows, err := t.rows(ctx, "which of the source's types exist", "SELECT n, pg_catalog.to_regtype(n) IS NOT NULL FROM unnest($1::text[]) n", custom)
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				onTarget[str(r[0])] = truth(r[1])
			}
		}
	}
	var out []typeFinding
	for _, c := range cols {
		level, why := pgSupport(c, homogeneous, onTarget)
		if level != supported {
			out = append(out, typeFinding{level: level, object: fmt.Sprintf("%s.%s (%s)", c.table, c.column, c.native), why: why})
		}
	}
	return out, nil
}

// pgSupport says how DMS supports a PostgreSQL column type for the target.
func pgSupport(c pgColumn, homogeneous bool, onTarget map[string]bool) (int, string) {
	isPostGIS := c.ext == "postgis" || c.ext == "postgis_raster" || slices.Contains(postgisTypes, c.base)
	if homogeneous {
		if c.builtin || onTarget[c.qualified] {
			return supported, ""
		}
		if isPostGIS {
			return notSupported, "PostGIS is not installed on the target database: install it there (CREATE EXTENSION postgis) so the column keeps its type"
		}
		return partial, fmt.Sprintf("type %s does not exist on the target: the column is created there with a text type", c.qualified)
	}
	switch {
	case isPostGIS:
		return notSupported, "PostGIS types migrate only to a PostgreSQL target with PostGIS"
	case c.base == "tsvector" || c.base == "tsquery":
		return notSupported, "text search types are not supported for this target"
	case c.typtype == "c":
		return notSupported, "composite types are not supported for this target"
	case c.typtype == "r" || c.typtype == "m":
		return notSupported, "range types are not supported for this target"
	case c.typtype == "p" || slices.Contains([]string{"txid_snapshot", "pg_snapshot", "pg_lsn", "tid", "xid", "xid8", "cid", "regclass", "regtype", "regproc"}, c.base):
		return notSupported, "system types are not supported for this target"
	case c.category == "A":
		el := pgColumn{base: c.elem, typtype: c.elemType, ext: c.elemExt, builtin: true}
		if lvl, why := pgSupport(el, false, nil); lvl == notSupported {
			return notSupported, "array of an unsupported type: " + why
		}
		return partial, "arrays migrate as their text literal (a CLOB)"
	case c.category == "G":
		return partial, "geometric types migrate as their text form"
	case c.ext != "":
		return partial, fmt.Sprintf("type of extension %s, migrated as its text form", c.ext)
	case c.base == "timetz":
		return partial, "time with time zone: DMS drops the offset (Godwit keeps it as text)"
	case c.typtype == "b" && !c.builtin:
		return partial, "user-defined base type, migrated as its text form"
	}
	return supported, ""
}

// MySQL types.

var mySpatial = []string{"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
	"geometrycollection", "geomcollection"}

func myTypeFindings(ctx context.Context, env *Env, d *endpoint) ([]typeFinding, error) {
	sc := env.scope()
	cond, args := d.inList("TABLE_SCHEMA", 1, sc.schemas())
	rows, err := d.rows(ctx, "information_schema.COLUMNS",
		"SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, LOWER(DATA_TYPE), COLUMN_TYPE FROM information_schema.COLUMNS WHERE "+cond+" ORDER BY 1, 2, ORDINAL_POSITION", args...)
	if err != nil {
		return nil, err
	}
	homogeneous := env.targetFamily() == famMySQL
	targetMariaDB := false
	if homogeneous {
		if t, skip := sqlSide(env, "target", famMySQL); skip == nil {
			r, err := t.row(ctx, "the server version", "SELECT VERSION()")
			if err != nil {
				return nil, err
			}
			targetMariaDB = strings.Contains(strings.ToLower(str(r[0])), "mariadb")
		}
	}
	var out []typeFinding
	for _, r := range rows {
		k := tableKey{str(r[0]), str(r[1])}
		p := sc[k]
		col, dt := str(r[2]), str(r[3])
		if p == nil || !readsColumn(p, col) {
			continue
		}
		level, why := supported, ""
		switch {
		case homogeneous:
			if slices.Contains([]string{"uuid", "inet4", "inet6", "vector"}, dt) && !targetMariaDB {
				level, why = partial, "a MariaDB type the MySQL target does not have: the column is created with a generic type"
			}
		case slices.Contains(mySpatial, dt):
			level, why = notSupported, "spatial types migrate only to a MySQL-compatible target (elsewhere only their internal binary form could be copied)"
		case dt == "vector":
			level, why = notSupported, "vector columns are not supported for this target"
		case dt == "uuid" || dt == "inet4" || dt == "inet6":
			level, why = partial, "MariaDB type migrated as a string"
		}
		if level != supported {
			out = append(out, typeFinding{level: level, object: fmt.Sprintf("%s.%s (%s)", k, col, str(r[4])), why: why})
		}
	}
	return out, nil
}
