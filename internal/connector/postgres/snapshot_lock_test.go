package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// A session of a snapshot holds the lock of the table it read. An ALTER
// TABLE then waits for it, and a read of the table on another session of
// the snapshot would queue behind the ALTER: the three would wait for one
// another for ever. The read goes to the session that holds the table.
func TestSnapshotReadsBehindDDL(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE t (id int PRIMARY KEY, v text)`, `INSERT INTO t SELECT n, 'v' || n FROM generate_series(1, 100) n`,
		`CREATE TABLE u (id int PRIMARY KEY)`, `INSERT INTO u SELECT generate_series(1, 100)`)
	c := open(t, pg, db, connector.RoleSource)
	tt, tu := sourceTable(t, c, "public", "t"), sourceTable(t, c, "public", "u")
	snap := snapshot(t, c, 2)
	ctx := testCtx(t)

	// Session A reads t while session B reads u; A goes back to the pool
	// first, so the next read takes B, which has not read t.
	tDone := make(chan struct{})
	uErr := make(chan error, 1)
	uStarted := make(chan struct{})
	go func() {
		first := true
		uErr <- snap.Read(ctx, &connector.ReadRequest{Table: tu, BatchRows: 10}, func([]record.Row) error {
			if first {
				first = false
				close(uStarted)
				<-tDone
			}
			return nil
		})
	}()
	<-uStarted
	if rows, _ := readAll(t, snap, &connector.ReadRequest{Table: tt}); len(rows) != 100 {
		t.Fatalf("first read of t: %d rows", len(rows))
	}
	close(tDone)
	if err := <-uErr; err != nil {
		t.Fatal(err)
	}

	// The ALTER waits for A.
	ddl, err := pgx.Connect(ctx, pg.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	defer ddl.Close(context.Background())
	var ddlPID int
	if err := ddl.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&ddlPID); err != nil {
		t.Fatal(err)
	}
	altered := make(chan error, 1)
	go func() {
		_, err := ddl.Exec(ctx, "ALTER TABLE t ADD COLUMN w int")
		altered <- err
	}()
	watch, err := pgx.Connect(ctx, pg.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(context.Background())
	for waiting := false; !waiting; {
		if err := watch.QueryRow(ctx, "SELECT wait_event_type IS NOT DISTINCT FROM 'Lock' FROM pg_stat_activity WHERE pid = $1", ddlPID).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// B's read of t would queue behind the ALTER; it must run on A.
	readCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n := 0
	err = snap.Read(readCtx, &connector.ReadRequest{Table: tt}, func(rows []record.Row) error { n += len(rows); return nil })
	if err != nil || n != 100 {
		t.Fatalf("read of t behind the ALTER: %d rows, %v", n, err)
	}
	select {
	case err := <-altered:
		t.Fatalf("the ALTER ended while the snapshot holds t: %v", err)
	default:
	}
	snap.Close()
	if err := <-altered; err != nil {
		t.Fatalf("the ALTER after the snapshot closed: %v", err)
	}
}
