package assess_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/engine/assess"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// Applies reflects the engines and the migration type.
func TestApplies(t *testing.T) {
	r := assess.Default()
	cases := []struct {
		name          string
		src, tgt, typ string
		want          bool
	}{
		{"postgres-check-wallevel", "postgres", "postgres", "cdc", true},
		{"postgres-check-wallevel", "aurora-postgresql", "s3", "full-load-and-cdc", true},
		{"postgres-check-wallevel", "postgres", "postgres", "full-load", false},
		{"postgres-check-wallevel", "mysql", "postgres", "cdc", false},
		{"postgres-check-pk", "postgres", "mysql", "full-load", false},
		{"postgres-check-pk", "postgres", "mysql", "cdc", true},
		{"postgres-check-dbversion", "postgres", "s3", "full-load", true},
		{"postgres-check-limited-lob-size", "postgres", "mariadb", "full-load", true},
		{"postgres-check-limited-lob-size", "mariadb", "postgres", "full-load", false},
		{"postgres-check-target-secondary-indexes", "mariadb", "postgres", "full-load", true},
		{"postgres-check-target-secondary-indexes", "postgres", "postgres", "cdc", false},
		{"postgres-check-target-privileges", "postgres", "mysql", "full-load", false},
		{"postgres-check-batch-apply-target-pk-ui-absence", "postgres", "postgres", "full-load", false},
		{"postgres-check-batch-apply-target-pk-ui-absence", "postgres", "postgres", "cdc", true},
		{"mysql-check-binlog-format", "mysql", "postgres", "cdc", true},
		{"mysql-check-binlog-format", "mariadb", "postgres", "full-load-and-cdc", true},
		{"mysql-check-binlog-format", "aurora", "postgres", "cdc", true},
		{"mysql-check-binlog-format", "mariadb", "postgres", "full-load", false},
		{"mysql-check-binlog-format", "postgres", "mariadb", "cdc", false},
		{"mysql-check-supported-version", "postgres", "mariadb", "full-load", true},
		{"mysql-check-supported-version", "mysql", "s3", "full-load", true},
		{"mysql-check-supported-version", "postgres", "postgres", "full-load", false},
		{"mysql-check-table-storage-engine", "mysql", "postgres", "full-load", true},
		{"mysql-check-table-storage-engine", "aurora", "postgres", "full-load", false},
		{"mysql-check-secondary-indexes", "postgres", "mysql", "full-load", true},
		{"mysql-check-secondary-indexes", "postgres", "mysql", "cdc", false},
		{"mysql-check-target-localinfile-set", "postgres", "mariadb", "full-load", true},
		{"mysql-check-target-localinfile-set", "mariadb", "postgres", "full-load", false},
		{"table-with-no-primary-key-or-unique-constraint", "oracle", "postgres", "cdc", true},
		{"table-with-no-primary-key-or-unique-constraint", "postgres", "postgres", "full-load", false},
		{"table-with-no-primary-key-or-unique-constraint", "s3", "postgres", "cdc", false},
		{"unsupported-data-types-in-source", "oracle", "postgres", "full-load", true},
		{"unsupported-data-types-in-source", "s3", "postgres", "full-load", false},
		{"full-lob-not-nullable-at-target", "oracle", "postgres", "full-load", true},
		{"full-lob-not-nullable-at-target", "postgres", "s3", "full-load", false},
		{"target-table-has-unique-key-or-primary-key-for-cdc", "postgres", "mysql", "cdc", true},
		{"target-table-has-unique-key-or-primary-key-for-cdc", "postgres", "mysql", "full-load", false},
		{"all-check-source-selection-rules", "s3", "postgres", "full-load", true},
	}
	for _, c := range cases {
		check, ok := r.Get(c.name)
		if !ok {
			t.Errorf("no check %s", c.name)
			continue
		}
		if got := check.Applies(c.src, c.tgt, c.typ); got != c.want {
			t.Errorf("%s.Applies(%s, %s, %s) = %v, want %v", c.name, c.src, c.tgt, c.typ, got, c.want)
		}
	}
	// DMS's example: oracle → postgres full-load includes these three.
	app := r.Applicable("oracle", "postgres", "full-load")
	for _, n := range []string{"full-lob-not-nullable-at-target", "table-with-lob-but-without-primary-key-or-unique-constraint", "unsupported-data-types-in-source"} {
		if !slices.Contains(app, n) {
			t.Errorf("oracle → postgres full-load lacks %s: %v", n, app)
		}
	}
	if slices.Contains(r.Names(), assess.TestSleepName) {
		t.Errorf("Default holds the test-only %s", assess.TestSleepName)
	}
	for _, n := range r.Names() {
		c, _ := r.Get(n)
		if c.Applies == nil || c.Run == nil {
			t.Errorf("%s has no Applies or Run", n)
		}
	}
}

// A check of an endpoint that is not a SQL database is skipped.
func TestNotSQL(t *testing.T) {
	e := &assess.Env{Source: fakeConn{}, Target: fakeConn{}, SourceEngine: "postgres", TargetEngine: "mariadb",
		SourceFamily: "s3", TargetFamily: "s3", MigrationType: "full-load-and-cdc"}
	for _, n := range []string{"postgres-check-wallevel", "unsupported-data-types-in-source", "mysql-check-target-localinfile-set", "mysql-check-supported-version"} {
		c, _ := assess.Default().Get(n)
		res, err := c.Run(context.Background(), e)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if res.Status != assess.Skipped {
			t.Errorf("%s: %s, want skipped: %s", n, res.Status, res.Details)
		}
	}
}

// Cancelling the context stops the sleep check within a second and the
// query on the server.
func TestSleepCancelPostgres(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	src := pgConn(t, pg, db, connector.RoleSource, "", "")
	e := &assess.Env{Source: src, Target: fakeConn{}, SourceEngine: "postgres", TargetEngine: "s3", SourceFamily: "postgres", TargetFamily: "s3", MigrationType: "full-load"}
	admin := pgConn(t, pg, "postgres", connector.RoleSource, "", "")
	running := func() int64 {
		_, rows, err := admin.(connector.SQLQuerier).QueryRows(testCtx(t),
			"SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep(%' AND datname = $1", db)
		if err != nil {
			t.Fatal(err)
		}
		return rows[0][0].(int64)
	}
	sleepCancelled(t, e, running)
}

func TestSleepCancelMariaDB(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	src := myConn(t, my, db, connector.RoleSource, "", "")
	e := &assess.Env{Source: src, Target: fakeConn{}, SourceEngine: "mariadb", TargetEngine: "s3", SourceFamily: "mysql", TargetFamily: "s3", MigrationType: "full-load"}
	admin := myConn(t, my, "", connector.RoleSource, "", "")
	running := func() int64 {
		_, rows, err := admin.(connector.SQLQuerier).QueryRows(testCtx(t),
			"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(%' AND ID <> CONNECTION_ID()")
		if err != nil {
			t.Fatal(err)
		}
		return rows[0][0].(int64)
	}
	sleepCancelled(t, e, running)
}

// cancelWithin is how soon a cancelled one-minute check must return and its
// query leave the server: far less than the minute, with room for a loaded
// CI machine (a second was once too short there).
const cancelWithin = 10 * time.Second

func sleepCancelled(t *testing.T, e *assess.Env, running func() int64) {
	t.Helper()
	check := assess.TestSleepCheck(time.Minute)
	if check.Name != "godwit-test-sleep" || !check.Applies(e.SourceEngine, "s3", "full-load") {
		t.Fatalf("check %s does not apply", check.Name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type outcome struct {
		res assess.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := check.Run(ctx, e)
		done <- outcome{res, err}
	}()
	// Wait until the server runs the query.
	deadline := time.Now().Add(10 * time.Second)
	for running() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the sleep query never showed up on the server")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancelled := time.Now()
	cancel()
	select {
	case o := <-done:
		if o.err == nil {
			t.Fatalf("the cancelled check returned %+v without error", o.res)
		}
		if !errors.Is(o.err, context.Canceled) {
			t.Logf("error (not wrapping context.Canceled): %v", o.err)
		}
		t.Logf("returned %s after cancel: %v", time.Since(cancelled).Round(time.Millisecond), o.err)
	case <-time.After(cancelWithin):
		t.Fatalf("the check (a one-minute sleep) did not return within %s of the cancel", cancelWithin)
	}
	deadline = time.Now().Add(cancelWithin)
	for {
		n := running()
		if n == 0 {
			t.Logf("the server query was gone %s after the cancel", time.Since(cancelled).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(fmt.Sprintf("%d sleep queries still run on the server %s after the cancel", n, cancelWithin))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
