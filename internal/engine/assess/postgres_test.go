package assess_test

import (
	"strings"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/engine/assess"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// A clean PostgreSQL source: every table check passes.
func TestPGSourceClean(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE good (id int PRIMARY KEY, name varchar(20), body text)`,
		`INSERT INTO good VALUES (1, 'a', repeat('x', 1000))`)
	src := pgConn(t, pg, db, connector.RoleSource, "", "")
	tdb := pg.NewDatabase(t)
	tgt := pgConn(t, pg, tdb, connector.RoleTarget, "", "")
	e := env(t, task{source: src, target: tgt, srcEngine: "postgres", tgtEngine: "postgres", schema: "public"})

	for _, name := range []string{
		"all-check-source-selection-rules", "table-with-no-primary-key-or-unique-constraint",
		"table-with-lob-but-without-primary-key-or-unique-constraint", "full-lob-not-nullable-at-target",
		"target-table-has-unique-key-or-primary-key-for-cdc", "unsupported-data-types-in-source", "all-check-secondary-constraints",
		"postgres-check-dbversion", "postgres-check-wallevel", "postgres-check-replication-slots-count", "postgres-check-maxwalsenders",
		"postgres-check-walsenderstimeout", "postgres-check-maxslot-wal-keep-size", "postgres-check-longrunningtxn",
		"postgres-check-preparedtxn", "postgres-check-pk", "postgres-check-pk-lob", "postgres-check-table-with-array",
		"postgres-check-similar-table-name", "postgres-check-select-object-privileges", "postgres-check-limited-lob-size",
		"postgres-check-postgis-data-type", "postgres-check-target-privileges", "postgres-check-target-secondary-indexes",
		"postgres-check-session-replication-role",
	} {
		expect(t, name, e, assess.Passed)
	}
	// Batch apply is off by default.
	for _, name := range []string{"postgres-check-batch-apply-target-pk-ui-absence", "postgres-check-batch-apply-target-pk-ui-simultaneously", "postgres-batch-apply-lob-mode"} {
		expect(t, name, e, assess.Skipped)
	}
}

// A PostgreSQL source with the problems the table checks look for.
func TestPGSourceProblems(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db,
		`CREATE TABLE nopk (id int, note text)`,
		`CREATE TABLE nopk_full (id int, v int)`, `ALTER TABLE nopk_full REPLICA IDENTITY FULL`,
		`CREATE TABLE withpk (id int PRIMARY KEY, body text)`,
		`INSERT INTO withpk VALUES (1, repeat('x', 102400)), (2, 'short')`,
		`CREATE TABLE search (id int PRIMARY KEY, doc tsvector, during int4range)`,
		`CREATE TABLE "Orders" (id int PRIMARY KEY)`,
		`CREATE TABLE orders (id int PRIMARY KEY)`,
		`CREATE TABLE arr (tags text[])`,
		`CREATE TABLE textpk (k text PRIMARY KEY)`,
		`CREATE TABLE child (id int PRIMARY KEY CHECK (id > 0), parent int REFERENCES withpk (id))`,
		`CREATE INDEX child_parent ON child (parent)`,
		`CREATE TABLE secret (id int PRIMARY KEY)`,
	)
	src := pgConn(t, pg, db, connector.RoleSource, "", "")
	tdb := pg.NewDatabase(t)
	tgt := pgConn(t, pg, tdb, connector.RoleTarget, "", "")
	e := env(t, task{source: src, target: tgt, srcEngine: "postgres", tgtEngine: "postgres", schema: "public"})

	res := expect(t, "postgres-check-pk", e, assess.Failed, "public.nopk", "public.nopk_full (REPLICA IDENTITY FULL)", "public.arr")
	notNamed(t, "postgres-check-pk", res, "withpk")
	expect(t, "table-with-no-primary-key-or-unique-constraint", e, assess.Warning, "public.nopk", "public.nopk_full", "public.arr")
	expect(t, "table-with-lob-but-without-primary-key-or-unique-constraint", e, assess.Warning, "public.nopk (note)")
	expect(t, "postgres-check-table-with-array", e, assess.Warning, "public.arr (tags)")
	expect(t, "postgres-check-pk-lob", e, assess.Warning, "public.textpk.k (text)")
	res = expect(t, "postgres-check-similar-table-name", e, assess.Warning, "public.Orders / public.orders")
	if !strings.Contains(res.Details, "case") {
		t.Errorf("details: %s", res.Details)
	}
	expect(t, "all-check-secondary-constraints", e, assess.Warning, "public.child: index child_parent", "public.child: foreign key child_parent_fkey", "public.child: check constraint child_id_check")

	// Homogeneous: tsvector and ranges keep their type.
	expect(t, "unsupported-data-types-in-source", e, assess.Passed)

	// Limited LOB mode cuts the 100 KB value at the default LobMaxSize of 32 KB.
	res = expect(t, "postgres-check-limited-lob-size", e, assess.Failed, "public.withpk.body: largest value 102400 bytes")
	if !strings.Contains(res.Action, "100 KB") {
		t.Errorf("action does not give the size needed: %s", res.Action)
	}
	e2 := env(t, task{source: src, target: tgt, srcEngine: "postgres", tgtEngine: "postgres", schema: "public",
		settings: `{"TargetMetadata":{"LobMaxSize":200}}`})
	expect(t, "postgres-check-limited-lob-size", e2, assess.Passed)
	e3 := env(t, task{source: src, target: tgt, srcEngine: "postgres", tgtEngine: "postgres", schema: "public",
		settings: `{"TargetMetadata":{"FullLobMode":true,"LimitedSizeLobMode":false}}`})
	expect(t, "postgres-check-limited-lob-size", e3, assess.Passed)

	// A user that may not read secret.
	role := "reader_" + db
	pgRole(t, pg, role, "pw", db)
	pg.Exec(t, db, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO "+role, "REVOKE SELECT ON secret FROM "+role)
	reader := pgConn(t, pg, db, connector.RoleSource, role, "pw")
	er := env(t, task{source: reader, discover: src, target: tgt, srcEngine: "postgres", tgtEngine: "postgres", schema: "public"})
	res = expect(t, "postgres-check-select-object-privileges", er, assess.Failed, "public.secret")
	notNamed(t, "postgres-check-select-object-privileges", res, "withpk")
	expect(t, "postgres-check-select-object-privileges", e, assess.Passed)

	// Without pg_read_all_stats the long-transaction check cannot look.
	if _, err := tryRun(t, "postgres-check-longrunningtxn", er); err == nil || !strings.Contains(err.Error(), "pg_read_all_stats") {
		t.Errorf("longrunningtxn as %s: err = %v, want one naming pg_read_all_stats", role, err)
	}

	// A selection rule that matches nothing.
	en := env(t, task{source: src, target: tgt, srcEngine: "postgres", tgtEngine: "postgres", schema: "nosuchschema"})
	expect(t, "all-check-source-selection-rules", en, assess.Failed)
	expect(t, "postgres-check-pk", en, assess.Passed)
}

// PostgreSQL to MariaDB: what a heterogeneous target changes.
func TestPGToMariaDB(t *testing.T) {
	pg := testenv.Postgres(t)
	my := testenv.MariaDB(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db,
		`CREATE TYPE pair AS (a int, b text)`,
		`CREATE TABLE search (id int PRIMARY KEY, doc tsvector, p pair, tags text[], pt point, ok int)`,
		`CREATE TABLE "Orders" (id int PRIMARY KEY)`, `CREATE TABLE orders (id int PRIMARY KEY)`,
	)
	src := pgConn(t, pg, db, connector.RoleSource, "", "")
	tdb := my.NewDatabase(t)
	tgt := myConn(t, my, tdb, connector.RoleTarget, "", "")
	e := env(t, task{source: src, target: tgt, srcEngine: "postgres", tgtEngine: "mariadb", schema: "public"})
	res := expect(t, "unsupported-data-types-in-source", e, assess.Failed, "public.search.doc (tsvector)", "public.search.p (pair)",
		"public.search.tags (text[])", "public.search.pt (point)")
	notNamed(t, "unsupported-data-types-in-source", res, ".ok")
	notNamed(t, "unsupported-data-types-in-source", res, ".id")
	// MariaDB keeps case-sensitive table names on Linux (lower_case_table_names = 0).
	res = expect(t, "postgres-check-similar-table-name", e, assess.Warning, "Orders")
	if !strings.Contains(res.LookedAt, "lower_case_table_names") {
		t.Errorf("looked at: %s", res.LookedAt)
	}
	// The target checks of the MySQL family run against MariaDB.
	expect(t, "mysql-check-supported-version", e, assess.Passed, "target: MariaDB")
}

// The server settings CDC needs; wal_sender_timeout changed for a moment.
func TestPGServerSettings(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE good (id int PRIMARY KEY)`)
	src := pgConn(t, pg, db, connector.RoleSource, "", "")
	e := env(t, task{source: src, target: fakeConn{}, srcEngine: "postgres", tgtEngine: "s3", schema: "public", migrationType: "cdc"})
	expect(t, "postgres-check-wallevel", e, assess.Passed, "wal_level = logical")
	expect(t, "postgres-check-replication-slots-count", e, assess.Passed, "max_replication_slots = 20")
	expect(t, "postgres-check-maxwalsenders", e, assess.Passed)
	expect(t, "postgres-check-dbversion", e, assess.Passed, "PostgreSQL 15")

	t.Cleanup(func() { pg.Exec(t, "postgres", "ALTER SYSTEM RESET wal_sender_timeout", "SELECT pg_reload_conf()") })
	pg.Exec(t, "postgres", "ALTER SYSTEM SET wal_sender_timeout = '5s'", "SELECT pg_reload_conf()")
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := tryRun(t, "postgres-check-walsenderstimeout", e)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status == assess.Failed {
			if len(res.Objects) != 1 || res.Objects[0] != "wal_sender_timeout = 5000 ms" {
				t.Errorf("objects %q", res.Objects)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("wal_sender_timeout = 5s still %s: %s", res.Status, res.Details)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Existing tables on a PostgreSQL target: indexes, triggers, foreign keys,
// keys for batch apply, privileges.
func TestPGTarget(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db,
		`CREATE TABLE withpk (id int PRIMARY KEY, body text, code int)`,
		`CREATE TABLE nopk (id int, note text NOT NULL)`,
	)
	tdb := pg.NewDatabase(t)
	pg.Exec(t, tdb,
		`CREATE TABLE withpk (id int PRIMARY KEY, body text, code int UNIQUE)`,
		`CREATE INDEX withpk_body ON withpk (left(body, 10))`,
		`CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$`,
		`CREATE TRIGGER withpk_touch BEFORE INSERT ON withpk FOR EACH ROW EXECUTE FUNCTION touch()`,
		`CREATE TABLE nopk (id int, note text NOT NULL)`,
		`CREATE TABLE ref (id int PRIMARY KEY, w int REFERENCES withpk (id))`,
	)
	src := pgConn(t, pg, db, connector.RoleSource, "", "")
	tgt := pgConn(t, pg, tdb, connector.RoleTarget, "", "")
	settings := `{"FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING"},
		"TargetMetadata":{"BatchApplyEnabled":true,"FullLobMode":true,"LimitedSizeLobMode":false}}`
	e := env(t, task{source: src, target: tgt, srcEngine: "postgres", tgtEngine: "postgres", schema: "public", settings: settings})

	res := expect(t, "postgres-check-target-secondary-indexes", e, assess.Warning, "public.withpk: index withpk_body", "public.withpk: unique index withpk_code_key")
	notNamed(t, "postgres-check-target-secondary-indexes", res, "withpk_pkey")
	expect(t, "postgres-check-session-replication-role", e, assess.Warning, "public.withpk: trigger withpk_touch", "session_replication_role = origin")
	expect(t, "postgres-check-batch-apply-target-pk-ui-absence", e, assess.Warning, "public.nopk")
	expect(t, "postgres-check-batch-apply-target-pk-ui-simultaneously", e, assess.Warning, "public.withpk (unique: withpk_code_key)")
	expect(t, "postgres-batch-apply-lob-mode", e, assess.Warning, "public.withpk", "public.nopk")
	expect(t, "full-lob-not-nullable-at-target", e, assess.Warning, "public.nopk.note")
	expect(t, "target-table-has-unique-key-or-primary-key-for-cdc", e, assess.Warning, "public.nopk")
	expect(t, "postgres-check-target-privileges", e, assess.Passed)

	// TRUNCATE_BEFORE_LOAD cannot empty withpk: ref references it.
	et := env(t, task{source: src, target: tgt, srcEngine: "postgres", tgtEngine: "postgres", schema: "public",
		settings: `{"FullLoadSettings":{"TargetTablePrepMode":"TRUNCATE_BEFORE_LOAD"}}`})
	expect(t, "postgres-check-session-replication-role", et, assess.Failed, "public.withpk: referenced by foreign key ref_w_fkey of public.ref")
	// DROP_AND_CREATE re-creates the tables: their indexes do not matter.
	ed := env(t, task{source: src, target: tgt, srcEngine: "postgres", tgtEngine: "postgres", schema: "public",
		settings: `{"FullLoadSettings":{"TargetTablePrepMode":"DROP_AND_CREATE"}}`})
	expect(t, "postgres-check-target-secondary-indexes", ed, assess.Passed)
	// A CDC-only task keeps the existing tables whatever TargetTablePrepMode says.
	ec := env(t, task{source: src, target: tgt, srcEngine: "postgres", tgtEngine: "postgres", schema: "public", migrationType: "cdc",
		settings: `{"FullLoadSettings":{"TargetTablePrepMode":"DROP_AND_CREATE"},"TargetMetadata":{"BatchApplyEnabled":true}}`})
	expect(t, "target-table-has-unique-key-or-primary-key-for-cdc", ec, assess.Warning, "public.nopk")
	expect(t, "postgres-check-session-replication-role", ec, assess.Warning, "public.withpk: trigger withpk_touch")
	expect(t, "postgres-check-batch-apply-target-pk-ui-simultaneously", ec, assess.Warning, "public.withpk")

	// A target user that may connect but not write.
	role := "writer_" + tdb
	pgRole(t, pg, role, "pw", tdb)
	pg.Exec(t, tdb, "GRANT USAGE ON SCHEMA public TO "+role, "GRANT INSERT ON withpk TO "+role)
	weak := pgConn(t, pg, tdb, connector.RoleTarget, role, "pw")
	ew := env(t, task{source: src, target: weak, srcEngine: "postgres", tgtEngine: "postgres", schema: "public", settings: settings})
	res = expect(t, "postgres-check-target-privileges", ew, assess.Failed, "table public.withpk: UPDATE, DELETE", "table public.nopk: INSERT, UPDATE, DELETE")
	if !strings.Contains(res.Details, role) {
		t.Errorf("details do not name the user: %s", res.Details)
	}
	pg.Exec(t, tdb, "GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "+role)
	expect(t, "postgres-check-target-privileges", ew, assess.Passed)
}
