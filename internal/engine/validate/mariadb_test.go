package validate_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/mysql"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/engine/validate"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// pgToMariaDB is a PostgreSQL source table and a MariaDB target database.
type pgToMariaDB struct {
	pg     *testenv.PGServer
	my     *testenv.MySQLServer
	srcDB  string
	tgtDB  string
	src    connector.SchemaReader
	source validate.Source
	target validate.Target
}

func newPGToMariaDB(t *testing.T) *pgToMariaDB {
	pg := testenv.Postgres(t)
	my := testenv.MariaDB(t)
	e := &pgToMariaDB{pg: pg, my: my, srcDB: pg.NewDatabase(t), tgtDB: my.NewDatabase(t)}
	src := openPG(t, pg, e.srcDB, connector.RoleSource)
	e.src, e.source = src, src
	e.target = openMy(t, my, e.tgtDB, connector.RoleTarget)
	// The failures table goes to awsdms_control, which outlives the test
	// database.
	t.Cleanup(func() { my.Exec(t, "", "DROP DATABASE IF EXISTS awsdms_control") })
	return e
}

func (e *pgToMariaDB) job(t *testing.T, name string, fn func(s *tasksettings.ValidationSettings)) *validate.Job {
	pl := plan(t, e.src, selectAll, "public", name)
	tt := *pl.Target
	tt.Schema = e.tgtDB // the target's database, as TargetSchema would set it
	return &validate.Job{Source: e.source, Target: e.target, Plan: pl, TargetTable: &tt, Settings: settings(t, fn), TaskName: "TASKID"}
}

type myFailure struct{ Task, Owner, Table, Key, Type, Details string }

func (e *pgToMariaDB) failures(t *testing.T) []myFailure {
	db := myClient(t, e.my, "")
	rows, err := db.QueryContext(testCtx(t), "SELECT TASK_NAME, TABLE_OWNER, TABLE_NAME, `KEY`, FAILURE_TYPE, DETAILS "+
		"FROM awsdms_control.awsdms_validation_failures_v1 ORDER BY `KEY`")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []myFailure
	for rows.Next() {
		var f myFailure
		if err := rows.Scan(&f.Task, &f.Owner, &f.Table, &f.Key, &f.Type, &f.Details); err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// Values that differ in representation but not in value are equal across
// engines: numeric scale, timestamptz against a UTC DATETIME, bool against
// TINYINT(1), JSON key order, UUID case, CHAR padding, REAL widened to DOUBLE.
func TestPostgresToMariaDBEqualities(t *testing.T) {
	e := newPGToMariaDB(t)
	e.pg.Exec(t, e.srcDB, `CREATE TABLE m (id int PRIMARY KEY, amount numeric(10,2), price numeric(12,4), seen timestamptz,
		at timestamp(3), born date, flag boolean, doc jsonb, ref uuid, name varchar(30), code char(5), ratio real, big bigint)`,
		`INSERT INTO m VALUES
		(1, 1.50, 2.0000, '2024-03-01 12:34:56.123456+02', '2024-03-01 10:00:00.123', '2024-02-29', true,
			'{"b": 1, "a": [1, 2.50]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'x', 'ab', 0.1, 9007199254740993),
		(2, -0.10, 100, '1999-12-31 23:59:59+00', '2000-01-01 00:00:00', '1970-01-01', false,
			'[]', '00000000-0000-0000-0000-0000000000ff', 'Y z', 'abcde', 3.4028235e38, -1),
		(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
	e.my.Exec(t, e.tgtDB, `CREATE TABLE m (id int PRIMARY KEY, amount decimal(12,4), price decimal(14,1), seen datetime(6),
		at datetime(3), born date, flag tinyint(1), doc longtext, ref char(36), name varchar(30), code char(5), ratio double, big bigint)`,
		`INSERT INTO m VALUES
		(1, 1.5000, 2.0, '2024-03-01 10:34:56.123456', '2024-03-01 10:00:00.123', '2024-02-29', 1,
			'{"a":[1,2.5],"b":1}', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'x', 'ab', 0.1, 9007199254740993),
		(2, -0.1, 100.0, '1999-12-31 23:59:59', '2000-01-01 00:00:00', '1970-01-01', 0,
			'[ ]', '00000000-0000-0000-0000-0000000000FF', 'Y z', 'abcde', 3.4028234663852886e38, -1),
		(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
	res, err := validate.Table(testCtx(t), e.job(t, "m", nil))
	checkResult(t, res, err, validate.Result{State: validate.StateValidated, Compared: 3})

	// Real differences still show, and land in awsdms_control with DMS's
	// upper-case column names.
	e.my.Exec(t, e.tgtDB, `UPDATE m SET amount = 1.5100, seen = '2024-03-01 12:34:56.123456' WHERE id = 1`,
		`UPDATE m SET flag = 1 WHERE id = 2`, `UPDATE m SET name = 'null?' WHERE id = 3`)
	res, err = validate.Table(testCtx(t), e.job(t, "m", nil))
	checkResult(t, res, err, validate.Result{State: validate.StateMismatched, Compared: 3, Failed: 3})
	fs := e.failures(t)
	want := []myFailure{
		{"TASKID", "public", "m", `{"key": ["1"]}`, "RECORD_DIFF",
			"[[{'amount': '1.50', 'seen': '2024-03-01 10:34:56.123456'}, {'amount': '1.5100', 'seen': '2024-03-01 12:34:56.123456'}],]"},
		{"TASKID", "public", "m", `{"key": ["2"]}`, "RECORD_DIFF", "[[{'flag': 'false'}, {'flag': 'true'}],]"},
		{"TASKID", "public", "m", `{"key": ["3"]}`, "RECORD_DIFF", "[[{'name': 'NULL'}, {'name': 'null?'}],]"},
	}
	if !slices.Equal(fs, want) {
		t.Fatalf("failures:\n%q\nwant\n%q", fs, want)
	}
}

// A text key ordered differently on each side (C collation on PostgreSQL,
// case-insensitive on MariaDB) is matched by value: rows that land in
// different partitions on each side are neither missed nor reported twice.
func TestCollationOrderedKeys(t *testing.T) {
	e := newPGToMariaDB(t)
	e.pg.Exec(t, e.srcDB, `CREATE TABLE c (id varchar(40) PRIMARY KEY, v int)`,
		`INSERT INTO c SELECT CASE WHEN g % 2 = 0 THEN 'K' || upper(md5(g::text)) ELSE 'k' || md5(g::text) END, g FROM generate_series(1, 3000) g`)
	e.my.Exec(t, e.tgtDB, `CREATE TABLE c (id varchar(40) COLLATE utf8mb4_general_ci PRIMARY KEY, v int)`,
		`INSERT INTO c SELECT CASE WHEN seq % 2 = 0 THEN concat('K', upper(md5(seq))) ELSE concat('k', md5(seq)) END, seq FROM seq_1_to_3000`,
		`UPDATE c SET v = -1 WHERE id = concat('k', md5(11))`,
		`DELETE FROM c WHERE id = concat('K', upper(md5(12)))`,
		`INSERT INTO c VALUES ('zz-only-on-target', 0), ('ZY-ONLY-ON-TARGET', 0)`)
	want := []string{
		`{"key": ["k6512bd43d9caa6e02c990b0a82652dca"]} RECORD_DIFF`,
		`{"key": ["KC20AD4D76FE97759AA27A0C99BFF6710"]} MISSING_TARGET`,
		`{"key": ["ZY-ONLY-ON-TARGET"]} MISSING_SOURCE`,
		`{"key": ["zz-only-on-target"]} MISSING_SOURCE`,
	}
	slices.Sort(want)
	check := func(t *testing.T, job *validate.Job) {
		t.Cleanup(func() { e.my.Exec(t, "", "DROP TABLE IF EXISTS awsdms_control.awsdms_validation_failures_v1") })
		res, err := validate.Table(testCtx(t), job)
		checkResult(t, res, err, validate.Result{State: validate.StateMismatched, Compared: 3002, Failed: 4})
		var got []string
		for _, f := range e.failures(t) {
			got = append(got, f.Key+" "+f.Type)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("failures = %q\nwant %q", got, want)
		}
	}
	t.Run("partitions", func(t *testing.T) {
		check(t, e.job(t, "c", func(s *tasksettings.ValidationSettings) { s.PartitionSize = 100; s.ThreadCount = 4 }))
	})
	t.Run("one partition, reads paused", func(t *testing.T) {
		// One partition of 3000 rows in two orders: more rows wait for
		// their pair than a partition of 1000 may hold, so the reads pause
		// while they are looked up, and go on after the last key read.
		job := e.job(t, "c", func(s *tasksettings.ValidationSettings) { s.PartitionSize = 1000 })
		job.Plan.Source.RowsEstimate = 0
		check(t, job)
	})
}

// MariaDB to MariaDB with a user lacking RELOAD: each snapshot then has a
// single session, shared by four workers, which must not wait on each
// other in a cycle (sessions are always taken source first).
func TestMariaDBSingleSessionSnapshots(t *testing.T) {
	my := testenv.MariaDB(t)
	srcDB, tgtDB := my.NewDatabase(t), my.NewDatabase(t)
	user := "v" + srcDB[len(srcDB)-8:]
	my.Exec(t, "", "CREATE USER '"+user+"'@'127.0.0.1' IDENTIFIED BY 'pw-Validate-1'",
		"GRANT ALL ON `"+srcDB+"`.* TO '"+user+"'@'127.0.0.1'",
		"GRANT ALL ON `"+tgtDB+"`.* TO '"+user+"'@'127.0.0.1'",
		"GRANT ALL ON awsdms_control.* TO '"+user+"'@'127.0.0.1'")
	t.Cleanup(func() {
		my.Exec(t, "", "DROP USER IF EXISTS '"+user+"'@'127.0.0.1'", "DROP DATABASE IF EXISTS awsdms_control")
	})
	open := func(db string, role connector.Role) *mysql.Conn {
		c, err := mysql.New(connector.Endpoint{Engine: "mariadb", Role: role, Host: my.Host, Port: my.Port, Database: db,
			Username: user, Password: "pw-Validate-1", SSLMode: "none"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*mysql.Conn)
	}
	for _, tc := range []struct{ name, ddl, key string }{
		{"integer key", "id int PRIMARY KEY", "seq"},
		{"text key", "id varchar(40) PRIMARY KEY", "concat(IF(seq % 2 = 0, 'K', 'k'), md5(seq))"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ddl := []string{"DROP TABLE IF EXISTS t", "CREATE TABLE t (" + tc.ddl + ", v int, note text)",
				"INSERT INTO t SELECT " + tc.key + ", seq, repeat('x', seq % 50) FROM seq_1_to_6000"}
			my.Exec(t, srcDB, ddl...)
			my.Exec(t, tgtDB, append(ddl, "UPDATE t SET v = -v WHERE v IN (17, 4321)", "DELETE FROM t WHERE v = 5000")...)
			my.Exec(t, "", "DROP TABLE IF EXISTS awsdms_control.awsdms_validation_failures_v1")
			src, tgt := open(srcDB, connector.RoleSource), open(tgtDB, connector.RoleTarget)
			rules := `{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1",
				"object-locator":{"schema-name":"` + srcDB + `","table-name":"t"},"rule-action":"include"}]}`
			pl := plan(t, src, rules, srcDB, "t")
			tt := *pl.Target
			tt.Schema = tgtDB
			job := &validate.Job{Source: src, Target: tgt, Plan: pl, TargetTable: &tt, TaskName: "T",
				Settings: settings(t, func(s *tasksettings.ValidationSettings) { s.PartitionSize = 1000; s.ThreadCount = 4 })}
			ctx, cancel := context.WithTimeout(testCtx(t), 2*time.Minute)
			defer cancel()
			res, err := validate.Table(ctx, job)
			checkResult(t, res, err, validate.Result{State: validate.StateMismatched, Compared: 6000, Failed: 3})
		})
	}
}
