package assess_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/engine/assess"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// shortName is a user name unique to the database db.
func shortName(prefix, db string) string { return prefix + db[len(db)-6:] }

// A MariaDB source: table features, binary log settings and privileges.
func TestMariaDBSource(t *testing.T) {
	my := testenv.MariaDB(t)
	pg := testenv.Postgres(t)
	db := my.NewDatabase(t)
	my.Exec(t, db,
		"CREATE TABLE good (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB",
		"CREATE TABLE nopk (id INT, b LONGTEXT) ENGINE=InnoDB",
		"CREATE TABLE legacy (id INT PRIMARY KEY) ENGINE=MyISAM",
		"CREATE TABLE feat (id INT AUTO_INCREMENT PRIMARY KEY, g INT AS (id * 2) VIRTUAL, h INT INVISIBLE)",
		"CREATE TABLE geo (id INT PRIMARY KEY, p POINT)",
		"CREATE TABLE parts (id INT PRIMARY KEY) PARTITION BY HASH (id) PARTITIONS 2",
		"CREATE TABLE secret (id INT PRIMARY KEY)",
	)
	src := myConn(t, my, db, connector.RoleSource, "", "")
	tdb := pg.NewDatabase(t)
	tgt := pgConn(t, pg, tdb, connector.RoleTarget, "", "")
	e := env(t, task{source: src, target: tgt, srcEngine: "mariadb", tgtEngine: "postgres", schema: db})

	expect(t, "mysql-check-table-storage-engine", e, assess.Warning, db+".legacy (MyISAM)")
	expect(t, "mysql-check-auto-increment", e, assess.Warning, db+".feat.id")
	res := expect(t, "mysql-check-generated-columns", e, assess.Warning, db+".feat.g")
	notNamed(t, "mysql-check-generated-columns", res, "feat.h")
	expect(t, "mysql-check-invisible-columns", e, assess.Warning, db+".feat.h")
	expect(t, "mysql-check-table-partition", e, assess.Warning, db+".parts (HASH, 2 partitions)")
	res = expect(t, "unsupported-data-types-in-source", e, assess.Failed, db+".geo.p (point)")
	notNamed(t, "unsupported-data-types-in-source", res, "good")
	expect(t, "table-with-no-primary-key-or-unique-constraint", e, assess.Warning, db+".nopk")
	expect(t, "table-with-lob-but-without-primary-key-or-unique-constraint", e, assess.Warning, db+".nopk (b)")
	expect(t, "all-check-source-selection-rules", e, assess.Passed)

	// The server is set up for CDC.
	for _, name := range []string{"mysql-check-supported-version", "mysql-check-binlog-enabled", "mysql-check-binlog-format",
		"mysql-check-binlog-image", "mysql-check-binlog-compression", "mysql-check-server-id", "mysql-check-expire-logs-days",
		"mysql-check-binlog-retention-time", "mysql-check-replication-privileges", "mysql-check-select-privileges"} {
		expect(t, name, e, assess.Passed)
	}
	res = expect(t, "mysql-check-binlog-format", e, assess.Passed, "binlog_format = ROW", "binlog_checksum = CRC32")
	if !strings.Contains(res.Details, "CRC32") {
		t.Errorf("binlog_checksum not reported: %s", res.Details)
	}

	// binlog_row_image MINIMAL for a moment.
	t.Cleanup(func() { my.Exec(t, "", "SET GLOBAL binlog_row_image = 'FULL'") })
	my.Exec(t, "", "SET GLOBAL binlog_row_image = 'MINIMAL'")
	expect(t, "mysql-check-binlog-image", e, assess.Failed, "binlog_row_image = MINIMAL")
	my.Exec(t, "", "SET GLOBAL binlog_row_image = 'FULL'")
	expect(t, "mysql-check-binlog-image", e, assess.Passed)

	// Short binary log retention.
	t.Cleanup(func() { my.Exec(t, "", "SET GLOBAL expire_logs_days = 0") })
	my.Exec(t, "", "SET GLOBAL binlog_expire_logs_seconds = 3600")
	expect(t, "mysql-check-expire-logs-days", e, assess.Warning)
	expect(t, "mysql-check-binlog-retention-time", e, assess.Warning)
	my.Exec(t, "", "SET GLOBAL expire_logs_days = 0")

	// A user that may read only good, and not the binary log.
	user := shortName("lim", db)
	myUser(t, my, user, "pw", "GRANT SELECT ON "+db+".good TO %s")
	lim := myConn(t, my, db, connector.RoleSource, user, "pw")
	el := env(t, task{source: lim, discover: src, target: tgt, srcEngine: "mariadb", tgtEngine: "postgres", schema: db})
	res = expect(t, "mysql-check-select-privileges", el, assess.Failed, db+".secret", db+".geo")
	notNamed(t, "mysql-check-select-privileges", res, db+".good")
	expect(t, "mysql-check-replication-privileges", el, assess.Failed, "REPLICATION SLAVE", "REPLICATION CLIENT")

	// MariaDB to MariaDB keeps spatial types.
	mdb := my.NewDatabase(t)
	mt := myConn(t, my, mdb, connector.RoleTarget, "", "")
	em := env(t, task{source: src, target: mt, srcEngine: "mariadb", tgtEngine: "mariadb", schema: db})
	expect(t, "unsupported-data-types-in-source", em, assess.Passed)
}

// Existing tables on a MariaDB target.
func TestMariaDBTarget(t *testing.T) {
	my := testenv.MariaDB(t)
	sdb := my.NewDatabase(t)
	my.Exec(t, sdb,
		"CREATE TABLE good (id INT PRIMARY KEY, name VARCHAR(20), code INT)",
		"CREATE TABLE kid (id INT PRIMARY KEY, g INT)",
		"CREATE TABLE nokey (id INT, b LONGTEXT)",
		"INSERT INTO nokey VALUES (1, REPEAT('x', 102400))",
	)
	tdb := my.NewDatabase(t)
	my.Exec(t, tdb,
		"CREATE TABLE good (id INT PRIMARY KEY, name VARCHAR(20), code INT, KEY name_idx (name), UNIQUE KEY code_u (code))",
		"CREATE TABLE kid (id INT PRIMARY KEY, g INT, CONSTRAINT kid_good FOREIGN KEY (g) REFERENCES good (id))",
		"CREATE TABLE other (id INT PRIMARY KEY, g INT, CONSTRAINT other_good FOREIGN KEY (g) REFERENCES good (id))",
	)
	src := myConn(t, my, sdb, connector.RoleSource, "", "")
	tgt := myConn(t, my, tdb, connector.RoleTarget, "", "")
	settings := `{"FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING"},"TargetMetadata":{"BatchApplyEnabled":true}}`
	e := env(t, task{source: src, target: tgt, srcEngine: "mariadb", tgtEngine: "mariadb", schema: sdb, settings: settings})

	res := expect(t, "mysql-check-secondary-indexes", e, assess.Warning, tdb+".good: index name_idx", tdb+".good: unique index code_u")
	notNamed(t, "mysql-check-secondary-indexes", res, "PRIMARY")
	expect(t, "mysql-check-fk-target", e, assess.Warning, tdb+".kid: foreign key kid_good referencing "+tdb+".good", "foreign_key_checks = 1")
	expect(t, "mysql-check-batch-apply-target-pk-ui-absence", e, assess.Warning, tdb+".nokey (to be created)")
	expect(t, "mysql-check-batch-apply-target-pk-ui-simultaneously", e, assess.Warning, tdb+".good (unique: code_u)")
	expect(t, "mysql-batch-apply-lob-mode", e, assess.Passed) // limited LOB mode by default
	expect(t, "mysql-check-target-privileges", e, assess.Passed)
	expect(t, "mysql-check-target-localinfile-set", e, assess.Passed, "local_infile = ON")
	expect(t, "mysql-check-max-allowed-packet-lob", e, assess.Passed)
	expect(t, "mysql-check-supported-version", e, assess.Passed, "source: MariaDB", "target: MariaDB")

	// DROP_AND_CREATE cannot drop good: other (not migrated) references it.
	ed := env(t, task{source: src, target: tgt, srcEngine: "mariadb", tgtEngine: "mariadb", schema: sdb,
		settings: `{"FullLoadSettings":{"TargetTablePrepMode":"DROP_AND_CREATE"}}`})
	expect(t, "mysql-check-fk-target", ed, assess.Failed, tdb+".good: referenced by foreign key other_good of "+tdb+".other")
	expect(t, "mysql-check-secondary-indexes", ed, assess.Passed)

	// Full LOB mode: the 100 KB value is read on the source and compared
	// with a max_allowed_packet lowered for a moment.
	ef := env(t, task{source: src, target: tgt, srcEngine: "mariadb", tgtEngine: "mariadb", schema: sdb,
		settings: `{"TargetMetadata":{"BatchApplyEnabled":true,"FullLobMode":true,"LimitedSizeLobMode":false}}`})
	expect(t, "mysql-batch-apply-lob-mode", ef, assess.Warning, sdb+".nokey")
	expect(t, "mysql-check-max-allowed-packet-lob", ef, assess.Passed)
	var packet string
	t.Cleanup(func() {
		if packet != "" {
			my.Exec(t, "", "SET GLOBAL max_allowed_packet = "+packet)
		}
	})
	packet = globalVar(t, my, "max_allowed_packet")
	my.Exec(t, "", "SET GLOBAL max_allowed_packet = 65536")
	res = expect(t, "mysql-check-max-allowed-packet-lob", ef, assess.Failed)
	if !strings.Contains(res.Details, sdb+".nokey.b") {
		t.Errorf("details do not name the column: %s", res.Details)
	}
	my.Exec(t, "", "SET GLOBAL max_allowed_packet = "+packet)

	// local_infile off for a moment.
	t.Cleanup(func() { my.Exec(t, "", "SET GLOBAL local_infile = ON") })
	my.Exec(t, "", "SET GLOBAL local_infile = OFF")
	expect(t, "mysql-check-target-localinfile-set", e, assess.Warning, "local_infile = OFF")
	my.Exec(t, "", "SET GLOBAL local_infile = ON")

	// A target user that may only read.
	user := shortName("ro", tdb)
	myUser(t, my, user, "pw", "GRANT SELECT ON "+tdb+".* TO %s")
	ro := myConn(t, my, tdb, connector.RoleTarget, user, "pw")
	er := env(t, task{source: src, target: ro, srcEngine: "mariadb", tgtEngine: "mariadb", schema: sdb, settings: settings})
	expect(t, "mysql-check-target-privileges", er, assess.Failed, tdb+".good: CREATE, INSERT, UPDATE, DELETE")
}

// globalVar reads a server variable as the test user.
func globalVar(t *testing.T, my *testenv.MySQLServer, name string) string {
	t.Helper()
	c := myConn(t, my, "", connector.RoleSource, "", "")
	_, rows, err := c.(connector.SQLQuerier).QueryRows(testCtx(t), "SELECT @@GLOBAL."+name)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(rows[0][0])
}
