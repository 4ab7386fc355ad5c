package assess

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	mysqlconn "github.com/godwit-dms/godwit/internal/connector/mysql"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/record"
)

// Engine families and the DMS engine names in them.
const (
	famPostgres = "postgres"
	famMySQL    = "mysql"
)

var (
	pgEngines = []string{"postgres", "aurora-postgresql", "aurora-postgresql-serverless"}
	myEngines = []string{"mysql", "mariadb", "aurora", "aurora-serverless", "gcp-mysql"}
	// otherRelational are the other relational engines DMS knows; Godwit
	// cannot connect to them, but the all-engine checks apply to them.
	otherRelational = []string{"oracle", "sqlserver", "azuredb", "azure-sql-managed-instance", "sybase", "db2", "db2-zos",
		"babelfish", "redshift", "redshift-serverless"}
)

func isPG(engine string) bool { return slices.Contains(pgEngines, engine) }
func isMy(engine string) bool { return slices.Contains(myEngines, engine) }
func isAurora(engine string) bool {
	return engine == "aurora" || engine == "aurora-serverless"
}
func relational(engine string) bool {
	return isPG(engine) || isMy(engine) || slices.Contains(otherRelational, engine)
}

// Migration types.
func cdcType(mt string) bool      { return mt == "cdc" || mt == "full-load-and-cdc" }
func fullLoadType(mt string) bool { return mt == "full-load" || mt == "full-load-and-cdc" }

// familyOf is the connector family of an engine name.
func familyOf(engine string) string {
	switch {
	case isPG(engine):
		return famPostgres
	case isMy(engine):
		return famMySQL
	case engine == "s3":
		return "s3"
	}
	return ""
}

func (e *Env) sourceFamily() string {
	if e.SourceFamily != "" {
		return e.SourceFamily
	}
	return familyOf(e.SourceEngine)
}

func (e *Env) targetFamily() string {
	if e.TargetFamily != "" {
		return e.TargetFamily
	}
	return familyOf(e.TargetEngine)
}

// settings returns the task settings, or DMS's defaults when the Env has none.
func (e *Env) settings() *tasksettings.Settings {
	if e.Settings != nil {
		return e.Settings
	}
	s, _, err := tasksettings.Parse("", false)
	if err != nil {
		return &tasksettings.Settings{}
	}
	return s
}

// endpoint is one SQL side of a task.
type endpoint struct {
	q      connector.SQLQuerier
	side   string // "source" or "target"
	family string // famPostgres or famMySQL
	conn   connector.Conn
}

// sqlSide returns the source or target as a SQL endpoint of family (any
// SQL family when family is ""), or the Skipped result to return when it is not one.
func sqlSide(env *Env, side, family string) (*endpoint, *Result) {
	conn, engine, fam := env.Source, env.SourceEngine, env.sourceFamily()
	if side == "target" {
		conn, engine, fam = env.Target, env.TargetEngine, env.targetFamily()
	}
	q, ok := conn.(connector.SQLQuerier)
	if !ok || conn == nil || (fam != famPostgres && fam != famMySQL) {
		return nil, &Result{Status: Skipped,
			Details:  fmt.Sprintf("Not applicable: the %s endpoint (%s) is not a SQL database Godwit can query.", side, engine),
			LookedAt: "the engine of the " + side + " endpoint"}
	}
	if family != "" && fam != family {
		return nil, &Result{Status: Skipped,
			Details:  fmt.Sprintf("Not applicable: the %s endpoint is %s, not %s.", side, engine, family),
			LookedAt: "the engine of the " + side + " endpoint"}
	}
	return &endpoint{q: q, side: side, family: fam, conn: conn}, nil
}

// rows runs a query; a failure says what could not be read.
func (d *endpoint) rows(ctx context.Context, what, query string, args ...any) ([]record.Row, error) {
	_, rows, err := d.q.QueryRows(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("could not read %s on the %s: %w", what, d.side, err)
	}
	return rows, nil
}

// row runs a query that returns one row.
func (d *endpoint) row(ctx context.Context, what, query string, args ...any) (record.Row, error) {
	rows, err := d.rows(ctx, what, query, args...)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("could not read %s on the %s: the query returned %d rows instead of one", what, d.side, len(rows))
	}
	return rows[0], nil
}

// quote quotes an identifier for the endpoint's SQL dialect.
func (d *endpoint) quote(name string) string {
	if d.family == famMySQL {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// table quotes schema.name.
func (d *endpoint) table(schema, name string) string { return d.quote(schema) + "." + d.quote(name) }

// inList returns "col IN (...)" (MySQL placeholders) or "col = ANY($n)"
// (PostgreSQL, one text[] argument numbered first) and its arguments.
func (d *endpoint) inList(col string, first int, values []string) (string, []any) {
	if d.family == famPostgres {
		return fmt.Sprintf("%s = ANY($%d::text[])", col, first), []any{values}
	}
	if len(values) == 0 {
		return "FALSE", nil
	}
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return col + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ") + ")", args
}

// Values of query results.

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return x.Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}

func integer(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case uint64:
		return int64(x), x <= 1<<63-1
	case float64:
		return int64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	n, err := strconv.ParseInt(strings.TrimSpace(str(v)), 10, 64)
	return n, err == nil
}

func mustInt(v any) int64 {
	n, _ := integer(v)
	return n
}

func truth(v any) bool {
	if b, ok := v.(bool); ok {
		return b
	}
	switch strings.ToUpper(strings.TrimSpace(str(v))) {
	case "1", "ON", "YES", "TRUE", "T":
		return true
	}
	return false
}

// Messages.

// listed shows at most n items and says how many more there are.
func listed(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" and %d more", len(items)-n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// shown is how many objects a Details line names.
const shown = 5

// Tables in scope.

type tableKey struct{ schema, name string }

func (k tableKey) String() string { return k.schema + "." + k.name }

// scope indexes the selected tables by their source names.
type scope map[tableKey]*mapping.TablePlan

func (e *Env) scope() scope {
	s := scope{}
	for _, p := range e.Plans {
		s[tableKey{p.Source.Schema, p.Source.Name}] = p
	}
	return s
}

// schemas lists the source schemas of the selected tables.
func (s scope) schemas() []string {
	var out []string
	for k := range s {
		if !slices.Contains(out, k.schema) {
			out = append(out, k.schema)
		}
	}
	slices.Sort(out)
	return out
}

// readsColumn says whether the task reads the source column of p.
func readsColumn(p *mapping.TablePlan, col string) bool { return slices.Contains(p.SourceColumns, col) }

// selectedOn is the endpoint side gives and the selected tables, or the
// result when there is nothing to check: the side does not apply
// (Skipped) or the mappings select no table (Passed).
func selectedOn(env *Env, side func(*Env) (*endpoint, *Result), lookedAt string) (*endpoint, scope, *Result) {
	d, skip := side(env)
	if skip != nil {
		return nil, nil, skip
	}
	sc := env.scope()
	if len(sc) == 0 {
		r := noTables(lookedAt)
		return nil, nil, &r
	}
	return d, sc, nil
}

// noTables is the result of a table check when nothing is selected.
func noTables(lookedAt string) Result {
	return Result{Status: Passed, Details: "The table mappings select no table, so there is nothing to check.", LookedAt: lookedAt}
}

// sortedPlans returns the plans in source-name order.
func sortedPlans(env *Env) []*mapping.TablePlan {
	out := slices.Clone(env.Plans)
	slices.SortFunc(out, func(a, b *mapping.TablePlan) int {
		return strings.Compare(a.Source.QualifiedName(), b.Source.QualifiedName())
	})
	return out
}

// Target tables.

// targetKey is where the plan's table lands on the target: the task's
// TargetSchema, else the planned schema; a MySQL target whose TargetDbType
// is specific-database puts every table in its DatabaseName.
func targetKey(env *Env, p *mapping.TablePlan) tableKey {
	k := tableKey{p.Target.Schema, p.Target.Name}
	if s := env.settings().TargetMetadata.TargetSchema; s != "" {
		k.schema = s
	}
	if c, ok := env.Target.(*mysqlconn.Conn); ok {
		if cfg := c.Config(); cfg.TargetDbType == mysqlconn.TargetSpecificDatabase && cfg.Database != "" {
			k.schema = cfg.Database
		}
	}
	return k
}

// keptTables says whether tables that exist on the target keep their
// definition (a CDC-only task, or a full load whose TargetTablePrepMode
// is not DROP_AND_CREATE), so that what is defined on them matters.
func keptTables(env *Env) bool {
	return !fullLoadType(env.MigrationType) || env.settings().FullLoadSettings.TargetTablePrepMode != tasksettings.PrepDropAndCreate
}

// targetTable is what the target's catalog says of an existing table.
type targetTable struct {
	key       tableKey
	pk        bool
	unique    []string // unique indexes or constraints other than the primary key
	secondary []string // other indexes
}

// existingTargets reads which planned target tables exist on the target,
// with their keys and indexes, by planned target key.
func existingTargets(ctx context.Context, env *Env, d *endpoint) (map[tableKey]*targetTable, error) {
	var schemas []string
	want := map[tableKey]bool{}
	for _, p := range env.Plans {
		k := targetKey(env, p)
		want[k] = true
		if !slices.Contains(schemas, k.schema) {
			schemas = append(schemas, k.schema)
		}
	}
	out := map[tableKey]*targetTable{}
	if len(schemas) == 0 {
		return out, nil
	}
	var q string
	if d.family == famPostgres {
		q = `
SELECT n.nspname, c.relname, ic.relname, i.indisprimary, i.indisunique
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_index i ON i.indrelid = c.oid
LEFT JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE c.relkind IN ('r', 'p') AND `
	} else {
		q = `
SELECT t.TABLE_SCHEMA, t.TABLE_NAME, s.INDEX_NAME, s.INDEX_NAME = 'PRIMARY', s.NON_UNIQUE = 0
FROM information_schema.TABLES t
LEFT JOIN information_schema.STATISTICS s ON s.TABLE_SCHEMA = t.TABLE_SCHEMA AND s.TABLE_NAME = t.TABLE_NAME AND s.SEQ_IN_INDEX = 1
WHERE t.TABLE_TYPE = 'BASE TABLE' AND `
	}
	col := "n.nspname"
	if d.family == famMySQL {
		col = "t.TABLE_SCHEMA"
	}
	cond, args := d.inList(col, 1, schemas)
	rows, err := d.rows(ctx, "the tables and indexes of the target schemas", q+cond, args...)
	if err != nil {
		return nil, err
	}
	folded := map[tableKey]tableKey{}
	for k := range want {
		folded[tableKey{strings.ToLower(k.schema), strings.ToLower(k.name)}] = k
	}
	for _, r := range rows {
		k := tableKey{str(r[0]), str(r[1])}
		if !want[k] && d.family == famMySQL {
			// lower_case_table_names: MySQL may store the names folded.
			k = folded[tableKey{strings.ToLower(k.schema), strings.ToLower(k.name)}]
		}
		if !want[k] {
			continue
		}
		t := out[k]
		if t == nil {
			t = &targetTable{key: k}
			out[k] = t
		}
		if r[2] == nil {
			continue
		}
		idx := str(r[2])
		switch {
		case truth(r[3]):
			t.pk = true
		case truth(r[4]):
			t.unique = append(t.unique, idx)
		default:
			t.secondary = append(t.secondary, idx)
		}
	}
	return out, nil
}

// LOB settings.

// lobLimit is the size in bytes the full load cuts the LOB values of p
// to, 0 when it does not (the engine's rule: limited LOB mode's
// LobMaxSize, or a table-settings lob-settings limited bulk-max-size).
func lobLimit(s *tasksettings.Settings, p *mapping.TablePlan) int64 {
	var n int64
	if tm := s.TargetMetadata; tm.SupportLobs && !tm.FullLobMode && tm.LimitedSizeLobMode && tm.LobMaxSize > 0 {
		n = int64(tm.LobMaxSize) * 1024
	}
	if p.LOB != nil && p.LOB.Mode == "limited" && p.LOB.BulkMaxSizeKB > 0 {
		n = int64(p.LOB.BulkMaxSizeKB) * 1024
	}
	return n
}

// fullLOB says whether p's LOBs are migrated in full LOB mode.
func fullLOB(s *tasksettings.Settings, p *mapping.TablePlan) bool {
	if p.LOB != nil {
		switch p.LOB.Mode {
		case "unlimited":
			return true
		case "limited", "none":
			return false
		}
	}
	return s.TargetMetadata.SupportLobs && s.TargetMetadata.FullLobMode
}

// lobColumns lists the LOB columns of p's source that the task reads.
func lobColumns(p *mapping.TablePlan) []record.Column {
	var out []record.Column
	for _, c := range p.Source.Columns {
		if c.Type.Kind.IsLOB() && readsColumn(p, c.Name) {
			out = append(out, c)
		}
	}
	return out
}

// lobSize is the largest value of a LOB column, in bytes.
type lobSize struct {
	table  tableKey
	column string
	bytes  int64
}

// largestLOBs reads the size of the largest value of each LOB column of
// the plans on the source (one scan per table).
func largestLOBs(ctx context.Context, d *endpoint, plans []*mapping.TablePlan) ([]lobSize, error) {
	var out []lobSize
	for _, p := range plans {
		cols := lobColumns(p)
		if len(cols) == 0 {
			continue
		}
		exprs := make([]string, len(cols))
		for i, c := range cols {
			switch {
			case d.family == famMySQL:
				exprs[i] = "MAX(LENGTH(" + d.quote(c.Name) + "))"
			case c.Type.Kind == record.KindBlob:
				exprs[i] = "max(octet_length(" + d.quote(c.Name) + "))"
			default:
				exprs[i] = "max(octet_length(" + d.quote(c.Name) + "::text))"
			}
		}
		k := tableKey{p.Source.Schema, p.Source.Name}
		r, err := d.row(ctx, "the size of the largest LOB values of "+k.String(),
			"SELECT "+strings.Join(exprs, ", ")+" FROM "+d.table(k.schema, k.name))
		if err != nil {
			return nil, err
		}
		for i, c := range cols {
			out = append(out, lobSize{table: k, column: c.Name, bytes: mustInt(r[i])})
		}
	}
	return out, nil
}

func kb(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%d bytes (%.1f MB)", n, float64(n)/(1<<20))
	case n >= 10<<10:
		return fmt.Sprintf("%d bytes (%.1f KB)", n, float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
