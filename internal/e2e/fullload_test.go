package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
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

// resumeToEnd resumes task arn until its full load finishes, checks that
// table big ends equal on both sides, and returns its statistics.
func resumeToEnd(t *testing.T, p pair, pg *testenv.PGServer, srcDB, tgtDB, arn string) types.TableStatistics {
	t.Helper()
	task := runTask(t, p.c, arn, "resume-processing")
	if aws.ToString(task.StopReason) != "Stop Reason FULL_LOAD_ONLY_FINISHED" {
		t.Fatalf("resumed task ended %q: %s", aws.ToString(task.StopReason), aws.ToString(task.LastFailureMessage))
	}
	want, wn := pgChecksum(t, pg.DSN(srcDB), `SELECT * FROM big`)
	got, gn := pgChecksum(t, pg.DSN(tgtDB), `SELECT * FROM big`)
	if want != got || wn != gn {
		t.Fatalf("after resume: source %d rows, target %d rows (checksums %s / %s)", wn, gn, want, got)
	}
	return tableStats(t, p.c, arn)["public.big"]
}

// stopMidLoad starts task arn, stops it once its table has at least n rows
// loaded, and returns the table's statistics once the task is stopped;
// the test is skipped when the load finished before the stop took effect.
func stopMidLoad(t *testing.T, p pair, arn, table string, n int64) types.TableStatistics {
	t.Helper()
	startUntilLoaded(t, p, arn, table, n)
	if _, err := p.c.StopReplicationTask(ctxT(t), &dmssdk.StopReplicationTaskInput{ReplicationTaskArn: aws.String(arn)}); err != nil {
		t.Fatalf("stop: %v", err)
	}
	waitStatus(t, p.c, arn, "stopped", "failed")
	mid := tableStats(t, p.c, arn)[table]
	if aws.ToString(mid.TableState) == "Table completed" {
		t.Skipf("the load finished before the stop took effect (%d rows)", mid.FullLoadRows)
	}
	return mid
}

// startUntilLoaded starts task arn and waits until its table (schema.name)
// has at least n rows loaded; it returns the table's statistics then.
func startUntilLoaded(t *testing.T, p pair, arn, table string, n int64) types.TableStatistics {
	t.Helper()
	if _, err := p.c.StartReplicationTask(ctxT(t), &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "start-replication"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		if ts := tableStats(t, p.c, arn)[table]; ts.FullLoadRows >= n {
			return ts
		}
		if time.Now().After(deadline) {
			t.Fatal("the load never got going")
		}
	}
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
	// One table at a time: each table is created on the target after the
	// previous one was loaded.
	arn := createTask(t, p, "pg2pg-task", "full-load", includeAll, `{"FullLoadSettings":{"CommitRate":5000,"MaxFullLoadSubTasks":1}}`)
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
	// Every table moved in binary COPY format without being decoded, those
	// the task created after the first one's load included.
	loaded := 0
	for _, line := range strings.Split(s.Logs.String(), "\n") {
		if strings.Contains(line, `msg="table loaded"`) {
			loaded++
			if !strings.Contains(line, "raw_copy=true") {
				t.Errorf("a table was not copied in the raw format: %s", line)
			}
		}
	}
	if loaded != 4 {
		t.Fatalf("%d tables loaded in the log, want 4", loaded)
	}
}

func describeTask(t *testing.T, c *dmssdk.Client, arn string) types.ReplicationTask {
	t.Helper()
	d, err := c.DescribeReplicationTasks(ctxT(t), &dmssdk.DescribeReplicationTasksInput{Filters: []types.Filter{{Name: aws.String("replication-task-arn"), Values: []string{arn}}}})
	if err != nil {
		t.Fatal(err)
	}
	return d.ReplicationTasks[0]
}

func waitStatus(t *testing.T, c *dmssdk.Client, arn string, want ...string) types.ReplicationTask {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		task := describeTask(t, c, arn)
		for _, w := range want {
			if aws.ToString(task.Status) == w {
				return task
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("task never reached %v", want)
	return types.ReplicationTask{}
}

// decodedBig makes the rows of table big go through the decoded path
// (v becomes a varchar, which the raw copy does not do).
const decodedBig = `{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"all","object-locator":{"schema-name":"%","table-name":"%"},"rule-action":"include"},
	{"rule-type":"transformation","rule-id":"2","rule-name":"v","rule-target":"column","object-locator":{"schema-name":"public","table-name":"big","column-name":"v"},
	 "rule-action":"change-data-type","data-type":{"type":"string","length":100}}]}`

// stopResumeMappings are the paths the stop tests take: the raw copy and decoded rows.
var stopResumeMappings = map[string]string{"raw": includeAll, "decoded": decodedBig}

// A task stopped in the middle of a table resumes that table where it
// stopped: no row lost, none duplicated, the table not started again.
func TestFullLoadStopAndResume(t *testing.T) {
	for path, mappings := range stopResumeMappings {
		t.Run(path, func(t *testing.T) { testStopAndResume(t, mappings, path == "raw") })
	}
}

func testStopAndResume(t *testing.T, mappings string, raw bool) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE big (id bigint PRIMARY KEY, v text)`,
		`INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 300000) g`, `ANALYZE big`)
	s := startServer(t)
	p := pgPair(t, s, pg, srcDB, tgtDB, "resume")
	arn := createTask(t, p, "resume-task", "full-load", mappings, `{"FullLoadSettings":{"CommitRate":1000,"MaxFullLoadSubTasks":1}}`)
	ctx := ctxT(t)
	started := startUntilLoaded(t, p, arn, "public.big", 5000).FullLoadStartTime
	stop, err := p.c.StopReplicationTask(ctx, &dmssdk.StopReplicationTaskInput{ReplicationTaskArn: aws.String(arn)})
	if err != nil || aws.ToString(stop.ReplicationTask.Status) != "stopping" {
		t.Fatalf("stop: %v", err)
	}
	task := waitStatus(t, p.c, arn, "stopped", "failed")
	if aws.ToString(task.StopReason) != "Stop Reason NORMAL" {
		t.Fatalf("stopped with %q: %s", aws.ToString(task.StopReason), aws.ToString(task.LastFailureMessage))
	}
	mid := tableStats(t, p.c, arn)["public.big"]
	if mid.FullLoadRows >= 300000 || aws.ToString(mid.TableState) == "Table completed" {
		t.Skipf("the load finished before the stop took effect (%d rows)", mid.FullLoadRows)
	}
	_, loadedNow := pgChecksum(t, pg.DSN(tgtDB), `SELECT * FROM big`)
	if loadedNow < mid.FullLoadRows || mid.FullLoadRows < 5000 {
		t.Fatalf("statistics say %d rows loaded, the target has %d (at least 5000 had been loaded before the stop)", mid.FullLoadRows, loadedNow)
	}

	end := resumeToEnd(t, p, pg, srcDB, tgtDB, arn)
	if end.FullLoadRows != 300000 || !end.FullLoadStartTime.Equal(*started) {
		t.Fatalf("after resume: %d rows, start time %v (first run started %v): the table was loaded again instead of resumed", end.FullLoadRows, end.FullLoadStartTime, started)
	}
	if !strings.Contains(s.Logs.String(), fmt.Sprint("raw_copy=", raw)) {
		t.Fatalf("the table was not loaded with raw_copy=%v:\n%s", raw, s.Logs.String())
	}
}

// A table whose rows are not stored in key order, stopped in the middle of
// its load (read in storage order), starts again when resumed: a read in
// key order could not go on from any row read so far. Nothing is lost or
// duplicated, and the statistics count each row once.
func TestFullLoadStopAndRestartUnordered(t *testing.T) {
	for path, mappings := range stopResumeMappings {
		t.Run(path, func(t *testing.T) { testStopAndRestartUnordered(t, mappings) })
	}
}

func testStopAndRestartUnordered(t *testing.T, mappings string) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE big (id bigint PRIMARY KEY, v text)`,
		`INSERT INTO big SELECT g, md5(g::text) FROM generate_series(300000, 1, -1) g`, `ANALYZE big`)
	s := startServer(t)
	p := pgPair(t, s, pg, srcDB, tgtDB, "restart")
	arn := createTask(t, p, "restart-task", "full-load", mappings, `{"FullLoadSettings":{"CommitRate":1000,"MaxFullLoadSubTasks":1}}`)
	mid := stopMidLoad(t, p, arn, "public.big", 5000)
	if mid.FullLoadRows != 0 || !strings.Contains(s.Logs.String(), "did not come in key order") {
		t.Fatalf("after the stop: statistics say %d rows; want the table to start again", mid.FullLoadRows)
	}
	if end := resumeToEnd(t, p, pg, srcDB, tgtDB, arn); end.FullLoadRows != 300000 {
		t.Fatalf("after resume: statistics say %d rows", end.FullLoadRows)
	}
}

// A row the target rejects makes a table error; the task goes on with the other tables.
func TestFullLoadTableError(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE good (id int PRIMARY KEY)`, `INSERT INTO good SELECT generate_series(1, 100)`,
		`CREATE TABLE bad (id int PRIMARY KEY, n int)`, `INSERT INTO bad SELECT g, g FROM generate_series(1, 100) g`)
	pg.Exec(t, tgtDB, `CREATE TABLE bad (id int PRIMARY KEY, n int CHECK (n < 50))`)
	s := startServer(t)
	p := pgPair(t, s, pg, srcDB, tgtDB, "tblerr")
	arn := createTask(t, p, "tblerr-task", "full-load", includeAll, `{"FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING"}}`)
	task := runTask(t, p.c, arn, "start-replication")
	if task.ReplicationTaskStats.TablesErrored != 1 || task.ReplicationTaskStats.TablesLoaded != 1 {
		t.Fatalf("stats %+v", task.ReplicationTaskStats)
	}
	stats := tableStats(t, p.c, arn)
	if aws.ToString(stats["public.bad"].TableState) != "Table error" || aws.ToString(stats["public.good"].TableState) != "Table completed" {
		t.Fatalf("states: bad %s, good %s", aws.ToString(stats["public.bad"].TableState), aws.ToString(stats["public.good"].TableState))
	}
}

// A target table that exists with other column types (DO_NOTHING) is
// loaded from decoded rows: the raw copy is refused before a batch is
// written, and every row arrives converted, none twice.
func TestFullLoadRawRefusedByTarget(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE m (id int PRIMARY KEY, amount numeric(10,2), note text)`,
		`INSERT INTO m SELECT g, g * 1.25, 'n' || g FROM generate_series(1, 3000) g`)
	pg.Exec(t, tgtDB, `CREATE TABLE m (id bigint PRIMARY KEY, amount text, note text, extra int DEFAULT 7)`)
	s := startServer(t)
	p := pgPair(t, s, pg, srcDB, tgtDB, "rawref")
	arn := createTask(t, p, "rawref-task", "full-load", includeAll, `{"FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING","CommitRate":1000}}`)
	task := runTask(t, p.c, arn, "start-replication")
	if task.ReplicationTaskStats.TablesLoaded != 1 || task.ReplicationTaskStats.TablesErrored != 0 {
		t.Fatalf("stats %+v: %s", task.ReplicationTaskStats, aws.ToString(task.LastFailureMessage))
	}
	want, wn := pgChecksum(t, pg.DSN(srcDB), `SELECT id::bigint, amount::text, note, 7 FROM m`)
	got, gn := pgChecksum(t, pg.DSN(tgtDB), `SELECT id, amount, note, extra FROM m`)
	if want != got || wn != gn || gn != 3000 {
		t.Fatalf("source %d rows %s, target %d rows %s", wn, want, gn, got)
	}
	logs := s.Logs.String()
	if !strings.Contains(logs, "raw copy refused") || !strings.Contains(logs, "raw_copy=false") {
		t.Fatalf("the raw copy was not refused and replaced:\n%s", logs)
	}
}

// A source that goes away mid-load fails the task with a clear reason.
func TestFullLoadSourceDisappears(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE big (id bigint PRIMARY KEY, v text)`, `INSERT INTO big SELECT g, repeat('v', 200) FROM generate_series(1, 400000) g`)
	s := startServer(t)
	p := pgPair(t, s, pg, srcDB, tgtDB, "gone")
	arn := createTask(t, p, "gone-task", "full-load", includeAll, `{"FullLoadSettings":{"CommitRate":1000,"MaxFullLoadSubTasks":1}}`)
	startUntilLoaded(t, p, arn, "public.big", 2000)
	pg.Exec(t, tgtDB, fmt.Sprintf(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'`, srcDB))
	task := waitStatus(t, p.c, arn, "failed", "stopped")
	if aws.ToString(task.Status) != "failed" || aws.ToString(task.StopReason) != "Stop Reason FATAL_ERROR" {
		t.Skipf("the load finished before the source went away (%s)", aws.ToString(task.Status))
	}
	if msg := aws.ToString(task.LastFailureMessage); !strings.Contains(msg, "big") {
		t.Fatalf("failure message %q does not say which table", msg)
	}
	t.Logf("failure: %s", aws.ToString(task.LastFailureMessage))
}

// PG → S3 (local buckets): DMS's layout and CSV options.
func TestFullLoadPostgresToS3(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB := pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE people (id int PRIMARY KEY, name text, note text, born date)`,
		`INSERT INTO people VALUES (1, 'Ann', 'says "hi", then leaves', '1990-05-01'), (2, 'Bob', NULL, NULL), (3, 'Zoë', e'two\nlines', '2000-01-01')`,
		`CREATE TABLE empty (id int PRIMARY KEY)`)
	s := startServer(t)
	c := s.client(t)
	ctx := ctxT(t)
	ri := createInstance(t, ctx, c, "to-s3")
	src := createEndpoint(t, c, endpointArgs{id: "src", engine: "postgres", typ: "source", host: pg.Host, port: pg.Port, user: pg.User, password: pg.Password, db: srcDB})
	tgt := createEndpoint(t, c, endpointArgs{id: "lake", engine: "s3", typ: "target",
		s3: &types.S3Settings{BucketName: aws.String("lake"), BucketFolder: aws.String("raw/pg"), AddColumnName: aws.Bool(true),
			IncludeOpForFullLoad: aws.Bool(true), ServiceAccessRoleArn: aws.String("arn:aws:iam::000000000000:role/dms")}})
	p := pair{c: c, instanceARN: aws.ToString(ri.ReplicationInstanceArn), srcARN: aws.ToString(src.EndpointArn), tgtARN: aws.ToString(tgt.EndpointArn)}
	arn := createTask(t, p, "s3-task", "full-load", includeAll, "")
	task := runTask(t, c, arn, "start-replication")
	if aws.ToString(task.StopReason) != "Stop Reason FULL_LOAD_ONLY_FINISHED" {
		t.Fatalf("task: %s %s", aws.ToString(task.StopReason), aws.ToString(task.LastFailureMessage))
	}
	file := filepath.Join(s.DataDir, "buckets", "lake", "raw", "pg", "public", "people", "LOAD00000001.csv")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("LOAD file: %v", err)
	}
	r := csv.NewReader(bytes.NewReader(raw))
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, raw)
	}
	if len(recs) != 4 || strings.Join(recs[0], ",") != "Op,id,name,note,born" {
		t.Fatalf("CSV records: %q", recs)
	}
	sort.Slice(recs[1:], func(i, j int) bool { return recs[1+i][1] < recs[1+j][1] })
	if recs[1][0] != "I" || recs[1][3] != `says "hi", then leaves` || recs[3][3] != "two\nlines" || recs[3][2] != "Zoë" || recs[1][4] != "1990-05-01" {
		t.Fatalf("CSV values: %q", recs)
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "buckets", "lake", "raw", "pg", "public", "empty")); !os.IsNotExist(err) {
		t.Fatalf("an empty table got a folder: %v", err)
	}
	if ts := tableStats(t, c, arn)["public.people"]; ts.FullLoadRows != 3 {
		t.Fatalf("rows %d", ts.FullLoadRows)
	}
}

// The SDK waiters work on a task that loads one row: it is observable
// running (for the configured minimum), then stopped, then deleted; its
// endpoints and instance cannot be deleted while it exists.
func TestTaskWaitersOnTinyTable(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE one (id int PRIMARY KEY)`, `INSERT INTO one VALUES (1)`)
	s := startServer(t)
	p := pgPair(t, s, pg, srcDB, tgtDB, "tiny")
	arn := createTask(t, p, "tiny-task", "full-load", includeAll, "")
	ctx := ctxT(t)
	filter := &dmssdk.DescribeReplicationTasksInput{Filters: []types.Filter{{Name: aws.String("replication-task-arn"), Values: []string{arn}}}}
	_, err := p.c.DeleteEndpoint(ctx, &dmssdk.DeleteEndpointInput{EndpointArn: aws.String(p.srcARN)})
	wantFault(t, err, "InvalidResourceStateFault", "tiny-task")
	_, err = p.c.DeleteReplicationInstance(ctx, &dmssdk.DeleteReplicationInstanceInput{ReplicationInstanceArn: aws.String(p.instanceARN)})
	wantFault(t, err, "InvalidResourceStateFault", "tiny-task")
	if _, err := p.c.StartReplicationTask(ctx, &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "start-replication"}); err != nil {
		t.Fatal(err)
	}
	running := dmssdk.NewReplicationTaskRunningWaiter(p.c, func(o *dmssdk.ReplicationTaskRunningWaiterOptions) { o.MinDelay, o.MaxDelay = 20e6, 40e6 })
	if err := running.Wait(ctx, filter, time.Minute); err != nil {
		t.Fatalf("running waiter: %v", err)
	}
	stopped := dmssdk.NewReplicationTaskStoppedWaiter(p.c, func(o *dmssdk.ReplicationTaskStoppedWaiterOptions) { o.MinDelay, o.MaxDelay = 20e6, 100e6 })
	if err := stopped.Wait(ctx, filter, time.Minute); err != nil {
		t.Fatalf("stopped waiter: %v", err)
	}
	_, err = p.c.ModifyReplicationTask(ctx, &dmssdk.ModifyReplicationTaskInput{ReplicationTaskArn: aws.String(arn), ReplicationTaskSettings: aws.String(`{"FullLoadSettings":{"CommitRate":0}}`)})
	wantFault(t, err, "InvalidParameterValueException", "CommitRate")
	if _, err := p.c.DeleteReplicationTask(ctx, &dmssdk.DeleteReplicationTaskInput{ReplicationTaskArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	deleted := dmssdk.NewReplicationTaskDeletedWaiter(p.c, func(o *dmssdk.ReplicationTaskDeletedWaiterOptions) { o.MinDelay, o.MaxDelay = 20e6, 100e6 })
	if err := deleted.Wait(ctx, filter, time.Minute); err != nil {
		t.Fatalf("deleted waiter: %v", err)
	}
	if _, err := p.c.DeleteEndpoint(ctx, &dmssdk.DeleteEndpointInput{EndpointArn: aws.String(p.srcARN)}); err != nil {
		t.Fatalf("delete endpoint after the task: %v", err)
	}
}

// A source endpoint with FailTasksOnLobTruncation fails a limited-LOB-mode
// load on a value longer than LobMaxSize, naming the column, instead of
// cutting it.
func TestFullLoadFailsOnLOBTruncation(t *testing.T) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE docs (id int PRIMARY KEY, body text)`,
		`INSERT INTO docs VALUES (1, 'short'), (2, repeat('x', 2000))`)
	s := startServer(t)
	p := pgPair(t, s, pg, srcDB, tgtDB, "lobfail")
	src := createEndpoint(t, p.c, endpointArgs{id: "lobfail-src-strict", engine: "postgres", typ: "source", host: pg.Host, port: pg.Port,
		user: pg.User, password: pg.Password, db: srcDB, eca: "failTasksOnLobTruncation=true"})
	p.srcARN = aws.ToString(src.EndpointArn)
	arn := createTask(t, p, "lobfail-task", "full-load", includeAll, `{"TargetMetadata":{"LobMaxSize":1}}`)
	if _, err := p.c.StartReplicationTask(ctxT(t), &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn),
		StartReplicationTaskType: types.StartReplicationTaskTypeValueStartReplication}); err != nil {
		t.Fatal(err)
	}
	task := waitStatus(t, p.c, arn, "failed", "stopped")
	msg := aws.ToString(task.LastFailureMessage)
	if aws.ToString(task.Status) != "failed" || !strings.Contains(msg, "FailTasksOnLobTruncation") || !strings.Contains(msg, `"body"`) {
		t.Fatalf("task %s: %s", aws.ToString(task.Status), msg)
	}
}

// A large table loaded into a table the task creates without its key
// (DROP_AND_CREATE with CreatePkAfterFullLoad) is cut into parts of the
// source's storage, loaded side by side; stopped in the middle, it starts
// again when resumed (the target's rows do not say which part they came
// from). Nothing is lost or duplicated, and the key is in place at the end.
func TestFullLoadStorageParts(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: a table is not cut into parts")
	}
	for path, mappings := range stopResumeMappings {
		t.Run(path, func(t *testing.T) { testStorageParts(t, mappings) })
	}
}

func testStorageParts(t *testing.T, mappings string) {
	pg := testenv.Postgres(t)
	srcDB, tgtDB := pg.NewDatabase(t), pg.NewDatabase(t)
	pg.Exec(t, srcDB, `CREATE TABLE big (id bigint PRIMARY KEY, v text)`,
		`INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 300000) g`, `ANALYZE big`)
	s := startServer(t, withSegmentRows(100000))
	p := pgPair(t, s, pg, srcDB, tgtDB, "parts")
	arn := createTask(t, p, "parts-task", "full-load", mappings,
		`{"FullLoadSettings":{"CommitRate":1000,"TargetTablePrepMode":"DROP_AND_CREATE","CreatePkAfterFullLoad":true}}`)
	stopMidLoad(t, p, arn, "public.big", 5000)
	if !strings.Contains(s.Logs.String(), "table cut into parts of the source's storage") {
		t.Fatalf("the table was not cut into parts of the source's storage:\n%s", s.Logs.String())
	}
	if end := resumeToEnd(t, p, pg, srcDB, tgtDB, arn); end.FullLoadRows != 300000 {
		t.Fatalf("after resume: statistics say %d rows", end.FullLoadRows)
	}
	if !strings.Contains(s.Logs.String(), "the table's load starts again: its segments were parts of the source's storage") {
		t.Fatalf("the resumed load did not start the table again:\n%s", s.Logs.String())
	}
	if key := primaryKey(t, pg.DSN(tgtDB), "big"); key != "PRIMARY KEY (id)" {
		t.Fatalf("the target's key after the load: %q", key)
	}
}

// primaryKey is the definition of table's primary key ("" when it has
// none).
func primaryKey(t *testing.T, dsn, table string) string {
	t.Helper()
	ctx := ctxT(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var key string
	err = conn.QueryRow(ctx, `SELECT coalesce((SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'), '')`, table).Scan(&key)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
