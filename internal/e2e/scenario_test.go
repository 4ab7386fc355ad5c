package e2e

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/testenv"
)

// A scenario folder holds a migration to run on several engine pairs:
//
//	source.pg.sql, source.mysql.sql  the source schema and data ({{src}} is the source schema)
//	table-mappings.json              the task's table mappings ({{src}}, {{tgt}} substituted)
//	task-settings.json               optional task settings
//	expect.json                      what the target must hold (see scenarioExpect)
//
// Adding a case is adding a folder.
type scenarioExpect struct {
	Pairs  []string `json:"pairs"` // pg-pg, maria-pg, pg-maria, maria-maria
	Tables []struct {
		Source string `json:"source"` // source table name
		Rows   int64  `json:"rows"`
		State  string `json:"state"`
		// Check is one query per engine family ("pg", "mysql") returning the
		// rows as canonical text; it runs on the source ({{s}} = source
		// schema) and on the target ({{s}} = target schema) and the results
		// must be equal.
		Check map[string]string `json:"check"`
		// TargetCheck overrides Check on the target (for renamed tables or columns).
		TargetCheck map[string]string `json:"target_check"`
	} `json:"tables"`
	TablesErrored int32 `json:"tables_errored"`
	// TablesTotal is how many tables the mappings select (0 = not checked).
	TablesTotal int `json:"tables_total"`
}

type side struct {
	family string // "pg" or "mysql"
	engine string // DMS engine name
	schema string
	db     string
	host   string
	port   int
	user   string
	pass   string
	dsn    string
}

func pgSide(t *testing.T) side {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	return side{family: "pg", engine: "postgres", schema: "public", db: db, host: pg.Host, port: pg.Port, user: pg.User, pass: pg.Password, dsn: pg.DSN(db)}
}

func mariaSide(t *testing.T) side {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	return side{family: "mysql", engine: "mariadb", schema: db, db: db, host: my.Host, port: my.Port, user: my.User, pass: my.Password, dsn: my.DSN(db)}
}

func execScript(t *testing.T, s side, script string) {
	t.Helper()
	switch s.family {
	case "pg":
		conn, err := pgx.Connect(context.Background(), s.dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), script); err != nil {
			t.Fatalf("source script: %v", err)
		}
	default:
		db, err := sql.Open("mysql", s.dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(script); err != nil {
			t.Fatalf("source script: %v", err)
		}
	}
}

// checksum runs a query and returns md5 over its rows (cells as text, NULL
// as \N), and the rows themselves, sorted.
func checksum(t *testing.T, s side, query string) (string, []string) {
	t.Helper()
	lines, err := queryLines(s, query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	sum := md5.Sum([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:]), lines
}

// queryLines runs a query and returns its rows, cells as text (NULL as \N)
// joined by tabs, sorted.
func queryLines(s side, query string) ([]string, error) {
	var rows [][]string
	switch s.family {
	case "pg":
		conn, err := pgx.Connect(context.Background(), s.dsn)
		if err != nil {
			return nil, err
		}
		defer conn.Close(context.Background())
		r, err := conn.Query(context.Background(), query, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			return nil, err
		}
		for r.Next() {
			raw := r.RawValues() // text format: the simple protocol asks for text
			row := make([]string, len(raw))
			for i, v := range raw {
				row[i] = `\N`
				if v != nil {
					row[i] = string(v)
				}
			}
			rows = append(rows, row)
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
	default:
		// Without parseTime, dates come back as the server's text.
		db, err := sql.Open("mysql", strings.ReplaceAll(s.dsn, "parseTime=true", "parseTime=false"))
		if err != nil {
			return nil, err
		}
		defer db.Close()
		r, err := db.Query(query)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		cols, _ := r.Columns()
		for r.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := r.Scan(ptrs...); err != nil {
				return nil, err
			}
			row := make([]string, len(cols))
			for i, v := range vals {
				row[i] = `\N`
				if v.Valid {
					row[i] = v.String
				}
			}
			rows = append(rows, row)
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
	}
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = strings.Join(r, "\t")
	}
	sort.Strings(lines)
	return lines, nil
}

// firstDiffs describes up to n rows found on one side only.
func firstDiffs(a, b []string, n int) string {
	in := map[string]int{}
	for _, l := range b {
		in[l]++
	}
	var out []string
	for _, l := range a {
		if in[l] > 0 {
			in[l]--
			continue
		}
		if len(l) > 300 {
			l = l[:300] + "…"
		}
		out = append(out, l)
		if len(out) == n {
			break
		}
	}
	return strings.Join(out, "\n    ")
}

func subst(s string, kv ...string) string {
	return strings.NewReplacer(kv...).Replace(s)
}

func TestScenarios(t *testing.T) {
	dirs, err := filepath.Glob("testdata/scenarios/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, dir := range dirs {
		raw, err := os.ReadFile(filepath.Join(dir, "expect.json"))
		if err != nil {
			t.Fatal(err)
		}
		var exp scenarioExpect
		if err := json.Unmarshal(raw, &exp); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for _, pair := range exp.Pairs {
			t.Run(filepath.Base(dir)+"/"+pair, func(t *testing.T) { runScenario(t, dir, pair, &exp) })
		}
	}
}

func runScenario(t *testing.T, dir, pairName string, exp *scenarioExpect) {
	src, tgt := pairSides(t, pairName)
	script, err := os.ReadFile(filepath.Join(dir, "source."+src.family+".sql"))
	if err != nil {
		t.Fatal(err)
	}
	execScript(t, src, subst(string(script), "{{src}}", src.schema))
	mappings, err := os.ReadFile(filepath.Join(dir, "table-mappings.json"))
	if err != nil {
		t.Fatal(err)
	}
	settings, _ := os.ReadFile(filepath.Join(dir, "task-settings.json"))

	s := startServer(t)
	c := s.client(t)
	p := newPair(t, c, "scn", src, tgt)
	arn := createTask(t, p, "scn-task", "full-load", subst(string(mappings), "{{src}}", src.schema, "{{tgt}}", tgt.schema), string(settings))
	task := runTask(t, c, arn, "start-replication")
	if aws.ToString(task.StopReason) != "Stop Reason FULL_LOAD_ONLY_FINISHED" {
		t.Fatalf("task ended %q: %s", aws.ToString(task.StopReason), aws.ToString(task.LastFailureMessage))
	}
	if task.ReplicationTaskStats.TablesErrored != exp.TablesErrored {
		t.Fatalf("TablesErrored = %d, want %d", task.ReplicationTaskStats.TablesErrored, exp.TablesErrored)
	}
	stats := tableStats(t, c, arn)
	if exp.TablesTotal > 0 && len(stats) != exp.TablesTotal {
		t.Fatalf("%d tables selected (%v), want %d", len(stats), keysOf(stats), exp.TablesTotal)
	}
	for _, et := range exp.Tables {
		ts, ok := stats[src.schema+"."+et.Source]
		if !ok {
			t.Fatalf("no table statistics for %s.%s (have %v)", src.schema, et.Source, keysOf(stats))
		}
		state := et.State
		if state == "" {
			state = "Table completed"
		}
		if aws.ToString(ts.TableState) != state || (state == "Table completed" && ts.FullLoadRows != et.Rows) {
			t.Fatalf("%s: state %s, %d rows; want %s, %d rows", et.Source, aws.ToString(ts.TableState), ts.FullLoadRows, state, et.Rows)
		}
		if state != "Table completed" {
			continue
		}
		srcQ := subst(et.Check[src.family], "{{s}}", src.schema)
		tq := et.Check[tgt.family]
		if q, ok := et.TargetCheck[tgt.family]; ok {
			tq = q
		}
		tgtQ := subst(tq, "{{s}}", tgt.schema)
		want, wrows := checksum(t, src, srcQ)
		got, grows := checksum(t, tgt, tgtQ)
		if want != got {
			t.Errorf("%s: source has %d rows, target %d rows, and they differ:\n  only on the source:\n    %s\n  only on the target:\n    %s",
				et.Source, len(wrows), len(grows), firstDiffs(wrows, grows, 3), firstDiffs(grows, wrows, 3))
		}
	}
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// pairSides starts the databases of a pair named "pg-maria" (source-target);
// a PostgreSQL target's schema is app, the one the tests' mappings rename
// the source schema to.
func pairSides(t *testing.T, pairName string) (src, tgt side) {
	from, to, _ := strings.Cut(pairName, "-")
	pick := func(kind string) side {
		if kind == "pg" {
			return pgSide(t)
		}
		return mariaSide(t)
	}
	src, tgt = pick(from), pick(to)
	if tgt.family == "pg" {
		tgt.schema = "app"
	}
	return src, tgt
}

// newPair creates an instance and the endpoints of src and tgt.
func newPair(t *testing.T, c *dmssdk.Client, id string, src, tgt side) pair {
	ri := createInstance(t, ctxT(t), c, id)
	se := createEndpoint(t, c, endpointArgs{id: "src", engine: src.engine, typ: "source", host: src.host, port: src.port, user: src.user, password: src.pass, db: src.db})
	te := createEndpoint(t, c, endpointArgs{id: "tgt", engine: tgt.engine, typ: "target", host: tgt.host, port: tgt.port, user: tgt.user, password: tgt.pass, db: tgt.db})
	return pair{c: c, instanceARN: aws.ToString(ri.ReplicationInstanceArn), srcARN: aws.ToString(se.EndpointArn), tgtARN: aws.ToString(te.EndpointArn)}
}

// allTablesInto are table mappings that select every table of src's schema
// and rename the schema to tgt's.
func allTablesInto(src, tgt side) string {
	return subst(`{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"{{src}}","table-name":"%"},"rule-action":"include"},
{"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-target":"schema","object-locator":{"schema-name":"{{src}}"},"rule-action":"rename","value":"{{tgt}}"}]}`,
		"{{src}}", src.schema, "{{tgt}}", tgt.schema)
}
