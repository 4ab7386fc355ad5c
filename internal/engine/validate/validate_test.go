package validate_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/engine/validate"
)

// wideDDL is a table with most kinds, and the rows loaded into it.
const wideDDL = `CREATE TABLE items (
	id integer PRIMARY KEY,
	name varchar(64),
	code char(6),
	amount numeric(12,2),
	ratio real,
	score double precision,
	flag boolean,
	born date,
	at timestamp(6),
	seen timestamptz,
	tod time,
	doc jsonb,
	ref uuid,
	raw bytea,
	notes text,
	tags integer[]
)`

const wideRows = `INSERT INTO items
SELECT g, 'name ' || g, lpad(g::text, 4, '0'), (g * 1.25)::numeric(12,2), g / 7.0, g / 3.0, g %% 2 = 0,
	date '2020-01-01' + g, timestamp '2024-01-01 00:00:00' + g * interval '1.000001 second',
	timestamptz '2024-01-01 00:00:00+02' + g * interval '1 minute', time '10:00' + g * interval '1 second',
	jsonb_build_object('n', g, 'a', jsonb_build_array(g, 'x')), md5(g::text)::uuid, decode(md5(g::text), 'hex'),
	repeat('note ', g %% 20), ARRAY[g, g + 1]
FROM generate_series(1, %d) g`

func TestIdenticalTablesValidate(t *testing.T) {
	p := newPGPair(t, wideDDL)
	p.pg.Exec(t, p.srcDB, fmt.Sprintf(wideRows, 2500))
	p.pg.Exec(t, p.tgtDB, fmt.Sprintf(wideRows, 2500))
	// Small partitions, so the table is cut and the workers share it.
	job := p.job(t, "items", func(s *tasksettings.ValidationSettings) { s.PartitionSize = 300; s.ThreadCount = 3 })
	res, err := validate.Table(testCtx(t), job)
	checkResult(t, res, err, validate.Result{State: validate.StateValidated, Compared: 2500})
	if pgTableExists(t, p.pg, p.tgtDB, "public", "awsdms_validation_failures_v1") {
		t.Error("the failures table was created without failures")
	}
}

func TestMismatchesRecorded(t *testing.T) {
	for _, tc := range []struct {
		name, ddl, k3, k5, extra string
	}{
		{"integer key", `CREATE TABLE t (id bigint PRIMARY KEY, name text, amount numeric(10,2), seen timestamptz)`, "3", "5", "100000"},
		{"text key", `CREATE TABLE t (id varchar(20) PRIMARY KEY, name text, amount numeric(10,2), seen timestamptz)`, "k3", "k5", "k100000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPGPair(t, tc.ddl)
			id := "g"
			if tc.k3 == "k3" {
				id = "'k' || g"
			}
			load := fmt.Sprintf(`INSERT INTO t SELECT %s, 'row ' || g, g * 0.5, timestamptz '2024-05-01 10:00:00+00' + g * interval '1 hour'
				FROM generate_series(1, 1000) g`, id)
			p.pg.Exec(t, p.srcDB, load)
			p.pg.Exec(t, p.tgtDB, load,
				fmt.Sprintf(`UPDATE t SET name = 'corrupted' WHERE id = '%s'`, tc.k3),
				fmt.Sprintf(`DELETE FROM t WHERE id = '%s'`, tc.k5),
				fmt.Sprintf(`INSERT INTO t VALUES ('%s', 'extra', 1, now())`, tc.extra))
			job := p.job(t, "t", func(s *tasksettings.ValidationSettings) { s.PartitionSize = 100 })
			res, err := validate.Table(testCtx(t), job)
			// 1000 source rows compared, and the target's extra row.
			checkResult(t, res, err, validate.Result{State: validate.StateMismatched, Compared: 1001, Failed: 3})

			fs := pgFailures(t, p.pg, p.tgtDB, "public")
			want := []string{
				fmt.Sprintf(`{"key": ["%s"]} RECORD_DIFF`, tc.k3),
				fmt.Sprintf(`{"key": ["%s"]} MISSING_TARGET`, tc.k5),
				fmt.Sprintf(`{"key": ["%s"]} MISSING_SOURCE`, tc.extra),
			}
			slices.Sort(want)
			if got := failureSummary(fs); !slices.Equal(got, want) {
				t.Fatalf("failures = %q, want %q", got, want)
			}
			diff := findFailure(t, fs, fmt.Sprintf(`{"key": ["%s"]}`, tc.k3))
			if diff.Details != fmt.Sprintf("[[{'name': 'row %s'}, {'name': 'corrupted'}],]", tc.k3[len(tc.k3)-1:]) {
				t.Errorf("DETAILS = %q", diff.Details)
			}
			for _, f := range fs {
				if f.Task != "TASKRESOURCEID" || f.Owner != "public" || f.Table != "t" || f.KeyType != "Row" || f.Time.IsZero() {
					t.Errorf("failure row %+v", f)
				}
			}
		})
	}
}

func TestSuspendedAfterTableFailureMaxCount(t *testing.T) {
	p := newPGPair(t, `CREATE TABLE t (id int PRIMARY KEY, v int)`)
	p.pg.Exec(t, p.srcDB, `INSERT INTO t SELECT g, g FROM generate_series(1, 500) g`)
	p.pg.Exec(t, p.tgtDB, `INSERT INTO t SELECT g, CASE WHEN g % 25 = 0 THEN -g ELSE g END FROM generate_series(1, 500) g`)
	job := p.job(t, "t", func(s *tasksettings.ValidationSettings) { s.TableFailureMaxCount = 5; s.PartitionSize = 100 })
	res, err := validate.Table(testCtx(t), job)
	checkResult(t, res, err, validate.Result{State: validate.StateSuspended, Compared: 500, Failed: 5, Suspended: 15})
	if fs := pgFailures(t, p.pg, p.tgtDB, "public"); len(fs) != 5 {
		t.Fatalf("%d failures recorded, want 5: %q", len(fs), failureSummary(fs))
	}
}

func TestHandleCollationDiff(t *testing.T) {
	p := newPGPair(t, `CREATE TABLE t (id int PRIMARY KEY, name varchar(20))`)
	p.pg.Exec(t, p.srcDB, `INSERT INTO t VALUES (1, 'Alpha'), (2, 'beta'), (3, 'Gamma')`)
	// What a case-insensitive, PAD SPACE target collation keeps as equal.
	p.pg.Exec(t, p.tgtDB, `INSERT INTO t VALUES (1, 'ALPHA'), (2, 'beta  '), (3, 'Gamma')`)

	res, err := validate.Table(testCtx(t), p.job(t, "t", nil))
	checkResult(t, res, err, validate.Result{State: validate.StateMismatched, Compared: 3, Failed: 2})

	p.pg.Exec(t, p.tgtDB, `DROP TABLE awsdms_validation_failures_v1`)
	res, err = validate.Table(testCtx(t), p.job(t, "t", func(s *tasksettings.ValidationSettings) { s.HandleCollationDiff = true }))
	checkResult(t, res, err, validate.Result{State: validate.StateValidated, Compared: 3})
}

func TestNoPrimaryKey(t *testing.T) {
	p := newPGPair(t, `CREATE TABLE t (id int, name text)`)
	p.pg.Exec(t, p.srcDB, `INSERT INTO t VALUES (1, 'a')`)
	res, err := validate.Table(testCtx(t), p.job(t, "t", nil))
	checkResult(t, res, err, validate.Result{State: validate.StateNoPrimaryKey})
	if res.Details == "" {
		t.Error("no details")
	}

	// A unique key stands in for a primary key.
	p2 := newPGPair(t, `CREATE TABLE u (id int NOT NULL UNIQUE, name text)`)
	p2.pg.Exec(t, p2.srcDB, `INSERT INTO u VALUES (1, 'a'), (2, 'b')`)
	p2.pg.Exec(t, p2.tgtDB, `INSERT INTO u VALUES (1, 'a'), (2, 'b')`)
	res, err = validate.Table(testCtx(t), p2.job(t, "u", nil))
	checkResult(t, res, err, validate.Result{State: validate.StateValidated, Compared: 2})
}

func TestSkipLobColumns(t *testing.T) {
	p := newPGPair(t, `CREATE TABLE t (id int PRIMARY KEY, name varchar(10), body text, doc jsonb)`)
	p.pg.Exec(t, p.srcDB, `INSERT INTO t VALUES (1, 'a', 'long text', '{"a": 1}')`)
	p.pg.Exec(t, p.tgtDB, `INSERT INTO t VALUES (1, 'a', 'long tex', '{"a": 2}')`)
	res, err := validate.Table(testCtx(t), p.job(t, "t", nil))
	checkResult(t, res, err, validate.Result{State: validate.StateMismatched, Compared: 1, Failed: 1})
	d := pgFailures(t, p.pg, p.tgtDB, "public")[0].Details
	if d != `[[{'body': 'long text', 'doc': '{"a": 1}'}, {'body': 'long tex', 'doc': '{"a": 2}'}],]` {
		t.Errorf("DETAILS = %q", d)
	}

	p.pg.Exec(t, p.tgtDB, `DROP TABLE awsdms_validation_failures_v1`)
	res, err = validate.Table(testCtx(t), p.job(t, "t", func(s *tasksettings.ValidationSettings) { s.SkipLobColumns = true }))
	checkResult(t, res, err, validate.Result{State: validate.StateValidated, Compared: 1})
}

// The source row is transformed as the load did before it is compared.
func TestTransformedTable(t *testing.T) {
	pg := newPGPair(t)
	pg.pg.Exec(t, pg.srcDB, `CREATE TABLE "Orders" (id int PRIMARY KEY, first text, last text, secret text)`,
		`INSERT INTO "Orders" SELECT g, 'F' || g, 'L' || g, 's' FROM generate_series(1, 50) g`)
	pg.pg.Exec(t, pg.tgtDB, `CREATE SCHEMA sales`,
		`CREATE TABLE sales.orders (order_id int PRIMARY KEY, first text, last text, full_name text)`,
		`INSERT INTO sales.orders SELECT g, 'F' || g, 'L' || g, 'F' || g || ' L' || g FROM generate_series(1, 50) g`,
		`UPDATE sales.orders SET full_name = 'wrong' WHERE order_id = 7`)
	rules := `{"rules":[
		{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"public","table-name":"%"},"rule-action":"include"},
		{"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-target":"schema","object-locator":{"schema-name":"public"},"rule-action":"rename","value":"sales"},
		{"rule-type":"transformation","rule-id":"3","rule-name":"3","rule-target":"table","object-locator":{"schema-name":"public","table-name":"Orders"},"rule-action":"convert-lowercase"},
		{"rule-type":"transformation","rule-id":"4","rule-name":"4","rule-target":"column","object-locator":{"schema-name":"public","table-name":"Orders","column-name":"id"},"rule-action":"rename","value":"order_id"},
		{"rule-type":"transformation","rule-id":"5","rule-name":"5","rule-target":"column","object-locator":{"schema-name":"public","table-name":"Orders","column-name":"secret"},"rule-action":"remove-column"},
		{"rule-type":"transformation","rule-id":"6","rule-name":"6","rule-target":"column","object-locator":{"schema-name":"public","table-name":"Orders"},"rule-action":"add-column","value":"full_name","expression":"$first || ' ' || $last","data-type":{"type":"string","length":50}}
	]}`
	pl := plan(t, pg.src, rules, "public", "Orders")
	job := &validate.Job{Source: pg.src, Target: pg.tgt, Plan: pl, TargetTable: pl.Target, Settings: settings(t, nil), TaskName: "T"}
	res, err := validate.Table(testCtx(t), job)
	checkResult(t, res, err, validate.Result{State: validate.StateMismatched, Compared: 50, Failed: 1})
	fs := pgFailures(t, pg.pg, pg.tgtDB, "public")
	if len(fs) != 1 || fs[0].Key != `{"key": ["7"]}` || fs[0].Details != `[[{'full_name': 'F7 L7'}, {'full_name': 'wrong'}],]` ||
		fs[0].Owner != "public" || fs[0].Table != "Orders" {
		t.Fatalf("failures = %+v", fs)
	}
}

func TestRowsRevalidatesKeys(t *testing.T) {
	p := newPGPair(t, `CREATE TABLE t (id int, part text, v int, PRIMARY KEY (id, part))`)
	p.pg.Exec(t, p.srcDB, `INSERT INTO t SELECT g, 'p' || (g % 3), g FROM generate_series(1, 100) g`)
	p.pg.Exec(t, p.tgtDB, `INSERT INTO t SELECT g, 'p' || (g % 3), g FROM generate_series(1, 100) g`,
		`UPDATE t SET v = 0 WHERE id = 7`, `DELETE FROM t WHERE id = 8`, `INSERT INTO t VALUES (500, 'p9', 1)`)
	job := p.job(t, "t", nil)
	keys := [][]string{{"7", "p1"}, {"8", "p2"}, {"9", "p0"}, {"500", "p9"}, {"600", "p0"}, {"7", "p1"}}
	res, err := validate.Rows(testCtx(t), job, keys)
	checkResult(t, res, err, validate.Result{State: validate.StateMismatched, Compared: 5, Failed: 3})
	want := []string{`{"key": ["500", "p9"]} MISSING_SOURCE`, `{"key": ["7", "p1"]} RECORD_DIFF`, `{"key": ["8", "p2"]} MISSING_TARGET`}
	if got := failureSummary(pgFailures(t, p.pg, p.tgtDB, "public")); !slices.Equal(got, want) {
		t.Fatalf("failures = %q, want %q", got, want)
	}
	if _, err := validate.Rows(testCtx(t), job, [][]string{{"1"}}); err == nil {
		t.Fatal("a key with too few values was accepted")
	}
}

func TestControlSchema(t *testing.T) {
	p := newPGPair(t, `CREATE TABLE t (id int PRIMARY KEY, v int)`)
	p.pg.Exec(t, p.srcDB, `INSERT INTO t VALUES (1, 1)`)
	job := p.job(t, "t", nil)
	job.ControlSchema = "dmslogs"
	res, err := validate.Table(testCtx(t), job)
	checkResult(t, res, err, validate.Result{State: validate.StateMismatched, Compared: 1, Failed: 1})
	if fs := pgFailures(t, p.pg, p.tgtDB, "dmslogs"); len(fs) != 1 || fs[0].Type != validate.MissingTarget {
		t.Fatalf("failures = %+v", fs)
	}
}
