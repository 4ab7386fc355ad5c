package e2e

import (
	"context"
	"testing"
	"time"

	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/testenv"
)

// A full load with validation ends with every table Validated.
func TestValidationAfterFullLoad(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE a (id int PRIMARY KEY, n numeric(10,2), at timestamptz, doc jsonb)`,
		`INSERT INTO a SELECT g, g / 3.0, now(), jsonb_build_object('g', g) FROM generate_series(1, 30000) g`,
		`CREATE TABLE nokey (x int)`, `INSERT INTO nokey VALUES (1)`)
	s := startServer(t)
	p := pgPair(t, s, pg, srcDB, tgtDB, "val")
	arn := createTask(t, p, "val-task", "full-load", includeAll, `{"ValidationSettings":{"EnableValidation":true,"PartitionSize":5000}}`)
	task := runTask(t, p.c, arn, "start-replication")
	if aws.ToString(task.StopReason) != "Stop Reason FULL_LOAD_ONLY_FINISHED" {
		t.Fatalf("task: %s", aws.ToString(task.LastFailureMessage))
	}
	stats := tableStats(t, p.c, arn)
	if st := aws.ToString(stats["public.a"].ValidationState); st != "Validated" {
		t.Fatalf("public.a validation: %s (%s)", st, aws.ToString(stats["public.a"].ValidationStateDetails))
	}
	if st := aws.ToString(stats["public.nokey"].ValidationState); st != "No primary key" {
		t.Fatalf("public.nokey validation: %s", st)
	}
}

// A validation-only task finds a corrupted row, a missing row and an extra
// row, and records each in awsdms_validation_failures_v1.
func TestValidationOnlyFindsDifferences(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	for _, db := range []string{srcDB, tgtDB} {
		pg.Exec(t, db, `CREATE TABLE items (id int PRIMARY KEY, name text)`,
			`INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 1000) g`)
	}
	pg.Exec(t, tgtDB, `UPDATE items SET name = 'corrupted' WHERE id = 10`, `DELETE FROM items WHERE id = 20`, `INSERT INTO items VALUES (5000, 'extra')`)
	s := startServer(t)
	p := pgPair(t, s, pg, srcDB, tgtDB, "valonly")
	arn := createTask(t, p, "valonly-task", "full-load", includeAll,
		`{"FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING"},"ValidationSettings":{"EnableValidation":true,"ValidationOnly":true}}`)
	task := runTask(t, p.c, arn, "start-replication")
	if aws.ToString(task.Status) != "stopped" {
		t.Fatalf("task: %s", aws.ToString(task.LastFailureMessage))
	}
	ts := tableStats(t, p.c, arn)["public.items"]
	if aws.ToString(ts.ValidationState) != "Mismatched records" || ts.ValidationFailedRecords != 3 {
		t.Fatalf("validation: %s, %d failed (%s)", aws.ToString(ts.ValidationState), ts.ValidationFailedRecords, aws.ToString(ts.ValidationStateDetails))
	}
	conn, err := pgx.Connect(context.Background(), pg.DSN(tgtDB))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT key, failure_type, details FROM public.awsdms_validation_failures_v1 ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var key, typ, details string
		if err := rows.Scan(&key, &typ, &details); err != nil {
			t.Fatal(err)
		}
		got[key] = typ
		if typ == "RECORD_DIFF" && details == "" {
			t.Fatal("RECORD_DIFF without details")
		}
	}
	want := map[string]string{`{"key": ["10"]}`: "RECORD_DIFF", `{"key": ["20"]}`: "MISSING_TARGET", `{"key": ["5000"]}`: "MISSING_SOURCE"}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("failures table: %v, want %v", got, want)
		}
	}
	// The target was not touched by a validation-only task.
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM items`).Scan(&n); err != nil || n != 1000 {
		t.Fatalf("target rows %d %v", n, err)
	}
}

// A validation-only cdc task writes nothing to the target: it follows the
// source's changes and checks each changed row against the target, which
// something else keeps up to date; a row that drifts is reported.
func TestValidationOnlyCDC(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	for _, db := range []string{srcDB, tgtDB} {
		pg.Exec(t, db, `CREATE TABLE items (id int PRIMARY KEY, name text)`, `INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g`)
	}
	s := startServer(t)
	p := pgPair(t, s, pg, srcDB, tgtDB, "valcdc")
	arn := createTask(t, p, "valcdc-task", "cdc", includeAll,
		`{"FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING"},"ValidationSettings":{"EnableValidation":true,"ValidationOnly":true,"RecordFailureDelayInMinutes":0}}`)
	ctx := ctxT(t)
	if _, err := p.c.StartReplicationTask(ctx, &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "start-replication"}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, p.c, arn, "running")
	time.Sleep(time.Second)
	for _, db := range []string{srcDB, tgtDB} { // replicated by someone else
		pg.Exec(t, db, `UPDATE items SET name = 'renamed' WHERE id <= 10`)
	}
	pg.Exec(t, srcDB, `UPDATE items SET name = 'drifted' WHERE id = 50`) // not replicated
	for deadline := time.Now().Add(30 * time.Second); ; {
		ts := tableStats(t, p.c, arn)["public.items"]
		if aws.ToString(ts.ValidationState) == "Mismatched records" && ts.ValidationFailedRecords == 1 && ts.ValidationPendingRecords == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("validation: %s, %d failed, %d pending", aws.ToString(ts.ValidationState), ts.ValidationFailedRecords, ts.ValidationPendingRecords)
		}
		time.Sleep(100 * time.Millisecond)
	}
	conn, err := pgx.Connect(context.Background(), pg.DSN(tgtDB))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var key, typ, name string
	if err := conn.QueryRow(context.Background(), `SELECT key, failure_type FROM public.awsdms_validation_failures_v1`).Scan(&key, &typ); err != nil {
		t.Fatal(err)
	}
	if key != `{"key": ["50"]}` || typ != "RECORD_DIFF" {
		t.Fatalf("failure %s %s", key, typ)
	}
	if err := conn.QueryRow(context.Background(), `SELECT name FROM items WHERE id = 50`).Scan(&name); err != nil || name != "item 50" {
		t.Fatalf("the validation-only task changed the target: %q %v", name, err)
	}
}
