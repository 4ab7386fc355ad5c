package mysql_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/mysql"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// checkSnapshot checks that snap sees rows 1..3 of db.t but not what was
// written after it opened, from each of its sessions at once, and that its
// binary log position is exactly where the later writes begin.
func checkSnapshot(t *testing.T, my *testenv.MySQLServer, db string, c *mysql.Conn, snap *mysql.Snapshot, sessions int) {
	t.Helper()
	if snap.Sessions() != sessions {
		t.Errorf("Sessions() = %d, want %d", snap.Sessions(), sessions)
	}
	file, pos, gtid := snap.BinlogPosition()
	if file == "" || pos == 0 || !regexp.MustCompile(`^\d+-\d+-\d+(,\d+-\d+-\d+)*$`).MatchString(gtid) {
		t.Fatalf("BinlogPosition() = %q, %d, %q", file, pos, gtid)
	}
	my.Exec(t, db, "INSERT INTO t VALUES (4, 'after')", "UPDATE t SET v = 'changed' WHERE id = 1")

	tb := findTable(t, c, db, "t")
	var wg sync.WaitGroup
	results := make([][]record.Row, 2*sessions)
	for i := range results {
		wg.Go(func() { results[i] = readSnap(t, snap, &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}}) })
	}
	wg.Wait()
	for _, rows := range results {
		if fmt.Sprint(rows) != "[[1 before] [2 before] [3 before]]" {
			t.Errorf("snapshot rows = %v", rows)
		}
	}

	// The binary log from the snapshot's position holds the later writes
	// (one table map each) and nothing of the earlier ones.
	admin := clientDB(t, my, "")
	events := queryStrings(t, admin, fmt.Sprintf("SHOW BINLOG EVENTS IN '%s' FROM %d", file, pos))
	maps := 0
	for _, e := range events {
		if e[2] == "Table_map" && strings.Contains(e[5], "("+db+".t)") {
			maps++
		}
	}
	if maps != 2 {
		t.Errorf("%d table maps of %s.t after the snapshot position, want 2 (the insert and the update after it)", maps, db)
	}
}

func TestSnapshotConsistent(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY, v varchar(10))",
		"INSERT INTO t VALUES (1, 'before'), (2, 'before')", "INSERT INTO t VALUES (3, 'before')")
	c := openConn(t, my, db, connector.RoleSource, nil)
	snap, err := c.OpenSnapshot(testCtx(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	s := snap.(*mysql.Snapshot)
	checkSnapshot(t, my, db, c, s, 2)

	// The GTID is the server's at the snapshot: the binlog position maps to it.
	file, pos, gtid := s.BinlogPosition()
	got := queryStrings(t, clientDB(t, my, ""), "SELECT BINLOG_GTID_POS(?, ?)", file, pos)
	if got[0][0] != gtid {
		t.Errorf("gtid %q, BINLOG_GTID_POS of the position = %q", gtid, got[0][0])
	}
}

// Without RELOAD (no FLUSH TABLES WITH READ LOCK), MariaDB's snapshot has
// one session and the position of that session's consistent snapshot.
func TestSnapshotWithoutReload(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY, v varchar(10))",
		"INSERT INTO t VALUES (1, 'before'), (2, 'before'), (3, 'before')")
	user := userName(db, "ro")
	newUser(t, my, user, "reader-pw-1")
	my.Exec(t, "", "GRANT SELECT ON "+db+".* TO '"+user+"'@'%'")

	ep := connector.Endpoint{Engine: "mariadb", Role: connector.RoleSource, Host: my.Host, Port: my.Port,
		Database: db, Username: user, Password: "reader-pw-1", SSLMode: "none"}
	conn, err := mysql.New(ep)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := conn.(*mysql.Conn)
	snap, err := c.OpenSnapshot(testCtx(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	checkSnapshot(t, my, db, c, snap.(*mysql.Snapshot), 1)
}

// A read that stops early (fn fails) returns fn's error at once and leaves
// the session usable.
func TestReadStopsEarly(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE big (id int PRIMARY KEY, pad varchar(200))",
		"INSERT INTO big SELECT seq, REPEAT('x', 200) FROM seq_1_to_20000")
	c := openConn(t, my, db, connector.RoleSource, nil)
	tb := findTable(t, c, db, "big")
	ctx := testCtx(t)
	snap, err := c.OpenSnapshot(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	my.Exec(t, db, "INSERT INTO big VALUES (0, 'after the snapshot')")
	stop := fmt.Errorf("stop here")
	calls := 0
	err = snap.Read(ctx, &connector.ReadRequest{Table: tb, BatchRows: 100}, func(rows []record.Row) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Fatalf("Read = %v after %d calls, want fn's error after 1", err, calls)
	}
	rows := readSnap(t, snap, &connector.ReadRequest{Table: tb, Columns: []string{"id"},
		Range: &record.Range{Columns: []string{"id"}, From: record.Row{int64(10)}, To: record.Row{int64(13)}}})
	if fmt.Sprint(rows) != "[[10] [11] [12]]" {
		t.Errorf("next read on the session = %v", rows)
	}
	// Still in the snapshot after the kill.
	rows = readSnap(t, snap, &connector.ReadRequest{Table: tb, Columns: []string{"id"},
		Range: &record.Range{Columns: []string{"id"}, To: record.Row{int64(2)}}})
	if fmt.Sprint(rows) != "[[1]]" {
		t.Errorf("after a killed read the session sees %v, want the snapshot's [[1]]", rows)
	}

	// A cancelled context stops a read too.
	cctx, cancel := context.WithCancel(ctx)
	err = snap.Read(cctx, &connector.ReadRequest{Table: tb, BatchRows: 100}, func(rows []record.Row) error {
		cancel()
		return nil
	})
	if err == nil {
		t.Error("Read with a cancelled context succeeded")
	}
	// That closed the only session: the snapshot says so instead of hanging.
	err = snap.Read(ctx, &connector.ReadRequest{Table: tb}, func([]record.Row) error { return nil })
	if !errors.Is(err, mysql.ErrConnectionLost) {
		t.Errorf("Read after losing every session = %v, want ErrConnectionLost", err)
	}
}

// A DDL statement on a table one session of a snapshot has read waits for
// that session's transaction, and a read of the table by another session
// queues behind the statement. The read runs again on the session that
// holds the table, instead of all three waiting for a year; once the
// snapshot closes the statement runs.
func TestSnapshotReadsBehindDDL(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY, v varchar(10))", "INSERT INTO t VALUES (1, 'a'), (2, 'b')")
	c := openConn(t, my, db, connector.RoleSource, nil)
	ctx := testCtx(t)
	snap, err := c.OpenSnapshot(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if n := snap.(*mysql.Snapshot).Sessions(); n != 2 {
		t.Fatalf("Sessions() = %d, want 2", n)
	}
	tb := findTable(t, c, db, "t")
	readSnap(t, snap, &connector.ReadRequest{Table: tb}) // the first session now holds t's lock

	admin := clientDB(t, my, db)
	altered := make(chan error, 1)
	go func() {
		_, err := admin.ExecContext(ctx, "ALTER TABLE t ADD COLUMN w int")
		altered <- err
	}()
	for waiting := false; !waiting; {
		var n int
		if err := admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'ALTER TABLE t %' AND state LIKE '%metadata lock%'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		waiting = n > 0
		select {
		case err := <-altered:
			t.Fatalf("the ALTER ran while the snapshot holds the table (%v)", err)
		case <-time.After(20 * time.Millisecond):
		}
	}

	// The second session's first read of t queues behind the ALTER, and
	// gives way to the first session.
	if rows := readSnap(t, snap, &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}}); fmt.Sprint(rows) != "[[1 a] [2 b]]" {
		t.Errorf("read behind the ALTER = %v", rows)
	}
	select {
	case err := <-altered:
		t.Fatalf("the ALTER ran while the snapshot holds the table (%v)", err)
	default:
	}
	snap.Close()
	select {
	case err := <-altered:
		if err != nil {
			t.Fatalf("ALTER after the snapshot closed: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the ALTER still waits after the snapshot closed")
	}
}
