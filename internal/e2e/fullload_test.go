package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/aws/aws-sdk-go-v2/service/databasemigrationservice/types"
	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/testenv"
)

// pair is a source and a target endpoint of one test, with an instance.
type pair struct {
	c                           *dmssdk.Client
	instanceARN, srcARN, tgtARN string
}

func createTask(t *testing.T, p pair, id, migration, mappings, settings string) string {
	t.Helper()
	in := &dmssdk.CreateReplicationTaskInput{
		ReplicationTaskIdentifier: aws.String(id), MigrationType: types.MigrationTypeValue(migration),
		ReplicationInstanceArn: aws.String(p.instanceARN), SourceEndpointArn: aws.String(p.srcARN), TargetEndpointArn: aws.String(p.tgtARN),
		TableMappings: aws.String(mappings),
	}
	if settings != "" {
		in.ReplicationTaskSettings = aws.String(settings)
	}
	out, err := p.c.CreateReplicationTask(ctxT(t), in)
	if err != nil {
		t.Fatalf("create task: %v", err)
	}
	if aws.ToString(out.ReplicationTask.Status) != "creating" {
		t.Fatalf("create returned %s", aws.ToString(out.ReplicationTask.Status))
	}
	arn := aws.ToString(out.ReplicationTask.ReplicationTaskArn)
	w := dmssdk.NewReplicationTaskReadyWaiter(p.c, func(o *dmssdk.ReplicationTaskReadyWaiterOptions) { o.MinDelay, o.MaxDelay = 50e6, 200e6 })
	if err := w.Wait(ctxT(t), &dmssdk.DescribeReplicationTasksInput{Filters: []types.Filter{{Name: aws.String("replication-task-arn"), Values: []string{arn}}}}, time.Minute); err != nil {
		t.Fatalf("task never ready: %v", err)
	}
	return arn
}

// runTask starts the task and waits until it stops; it returns the stopped task.
func runTask(t *testing.T, c *dmssdk.Client, arn, startType string) types.ReplicationTask {
	t.Helper()
	ctx := ctxT(t)
	out, err := c.StartReplicationTask(ctx, &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: types.StartReplicationTaskTypeValue(startType)})
	if err != nil {
		t.Fatalf("start task: %v", err)
	}
	if st := aws.ToString(out.ReplicationTask.Status); st != "starting" {
		t.Fatalf("start returned %s", st)
	}
	// Poll like a waiter, remembering the statuses seen: DMS's sequence is
	// starting → running → stopped (or failed).
	seen := []string{"starting"}
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		d, err := c.DescribeReplicationTasks(ctx, &dmssdk.DescribeReplicationTasksInput{Filters: []types.Filter{{Name: aws.String("replication-task-arn"), Values: []string{arn}}}})
		if err != nil {
			t.Fatal(err)
		}
		task := d.ReplicationTasks[0]
		st := aws.ToString(task.Status)
		if st != seen[len(seen)-1] {
			seen = append(seen, st)
		}
		switch st {
		case "starting", "running":
			time.Sleep(20 * time.Millisecond)
			continue
		case "stopped":
			if seen[1] != "running" {
				t.Fatalf("status sequence %v, want starting, running, stopped", seen)
			}
			return task
		default:
			t.Fatalf("task ended %s (sequence %v): %s", st, seen, aws.ToString(task.LastFailureMessage))
		}
	}
	t.Fatalf("task did not stop (sequence %v)", seen)
	return types.ReplicationTask{}
}

func tableStats(t *testing.T, c *dmssdk.Client, arn string) map[string]types.TableStatistics {
	t.Helper()
	out, err := c.DescribeTableStatistics(ctxT(t), &dmssdk.DescribeTableStatisticsInput{ReplicationTaskArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]types.TableStatistics{}
	for _, ts := range out.TableStatistics {
		m[aws.ToString(ts.SchemaName)+"."+aws.ToString(ts.TableName)] = ts
	}
	return m
}

// pgChecksum is md5 over the ordered text of every row of a query.
func pgChecksum(t *testing.T, dsn, query string) (string, int64) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var sum string
	var n int64
	q := fmt.Sprintf("SELECT coalesce(md5(string_agg(r::text, E'\\n' ORDER BY r::text)), ''), count(*) FROM (%s) r", query)
	if err := conn.QueryRow(context.Background(), q).Scan(&sum, &n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return sum, n
}

func pgPair(t *testing.T, s *server, pg *testenv.PGServer, srcDB, tgtDB, id string) pair {
	c := s.client(t)
	ri := createInstance(t, ctxT(t), c, id)
	src := createEndpoint(t, c, endpointArgs{id: id + "-src", engine: "postgres", typ: "source", host: pg.Host, port: pg.Port, user: pg.User, password: pg.Password, db: srcDB})
	tgt := createEndpoint(t, c, endpointArgs{id: id + "-tgt", engine: "postgres", typ: "target", host: pg.Host, port: pg.Port, user: pg.User, password: pg.Password, db: tgtDB})
	return pair{c: c, instanceARN: aws.ToString(ri.ReplicationInstanceArn), srcARN: aws.ToString(src.EndpointArn), tgtARN: aws.ToString(tgt.EndpointArn)}
}

const includeAll = `{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"all","object-locator":{"schema-name":"%","table-name":"%"},"rule-action":"include"}]}`

func TestFullLoadPostgresToPostgres(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB,
		`CREATE TABLE items (id bigint PRIMARY KEY, n int, name varchar(64), body text, price numeric(12,4), at timestamptz, ok boolean, doc jsonb)`,
		`INSERT INTO items SELECT g, g % 1000, 'name-' || g, repeat('x', 100) || g, g * 1.2345, '2024-01-01'::timestamptz + g * interval '1 second', g % 2 = 0, jsonb_build_object('g', g) FROM generate_series(1, 25000) g`,
		`INSERT INTO items VALUES (0, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
		`CREATE TABLE "Odd Name" ("Key" int PRIMARY KEY, "select" text)`,
		`INSERT INTO "Odd Name" VALUES (1, 'ünïcødé 🐦'), (2, '')`,
		`CREATE TABLE nopk (a int, b text)`,
		`INSERT INTO nopk VALUES (1, 'a'), (1, 'a'), (NULL, NULL)`,
		`CREATE TABLE empty (id int PRIMARY KEY)`,
	)
	s := startServer(t)
	p := pgPair(t, s, pg, srcDB, tgtDB, "pg2pg")
	arn := createTask(t, p, "pg2pg-task", "full-load", includeAll, `{"FullLoadSettings":{"CommitRate":5000}}`)
	task := runTask(t, p.c, arn, "start-replication")
	if aws.ToString(task.StopReason) != "Stop Reason FULL_LOAD_ONLY_FINISHED" || task.ReplicationTaskStats.FullLoadProgressPercent != 100 {
		t.Fatalf("task ended %s %q: %s", aws.ToString(task.Status), aws.ToString(task.StopReason), aws.ToString(task.LastFailureMessage))
	}
	if task.ReplicationTaskStats.TablesLoaded != 4 || task.ReplicationTaskStats.TablesErrored != 0 {
		t.Fatalf("stats: %+v", task.ReplicationTaskStats)
	}
	for _, q := range []string{`SELECT * FROM items`, `SELECT * FROM "Odd Name"`, `SELECT * FROM nopk`, `SELECT * FROM empty`} {
		want, wn := pgChecksum(t, pg.DSN(srcDB), q)
		got, gn := pgChecksum(t, pg.DSN(tgtDB), q)
		if want != got || wn != gn {
			t.Fatalf("%s: source %d rows %s, target %d rows %s", q, wn, want, gn, got)
		}
	}
	stats := tableStats(t, p.c, arn)
	if ts := stats["public.items"]; aws.ToString(ts.TableState) != "Table completed" || ts.FullLoadRows != 25001 {
		t.Fatalf("items stats: %s %d", aws.ToString(ts.TableState), ts.FullLoadRows)
	}
	if ts := stats["public.empty"]; ts.FullLoadRows != 0 || aws.ToString(ts.TableState) != "Table completed" {
		t.Fatalf("empty stats: %+v", ts)
	}
	if !strings.Contains(aws.ToString(task.ReplicationTaskSettings), `"CommitRate":5000`) {
		t.Fatalf("settings document lost the user's value: %s", aws.ToString(task.ReplicationTaskSettings))
	}
}
