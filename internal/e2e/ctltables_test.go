package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
	"github.com/jackc/pgx/v5"
)

// sidePair creates an instance and endpoints for a source and a target side.
func sidePair(t *testing.T, s *server, src, tgt side, id string) pair {
	t.Helper()
	c := s.client(t)
	ri := createInstance(t, ctxT(t), c, id)
	se := createEndpoint(t, c, endpointArgs{id: id + "-src", engine: src.engine, typ: "source", host: src.host, port: src.port, user: src.user, password: src.pass, db: src.db})
	te := createEndpoint(t, c, endpointArgs{id: id + "-tgt", engine: tgt.engine, typ: "target", host: tgt.host, port: tgt.port, user: tgt.user, password: tgt.pass, db: tgt.db})
	return pair{c: c, instanceARN: aws.ToString(ri.ReplicationInstanceArn), srcARN: aws.ToString(se.EndpointArn), tgtARN: aws.ToString(te.EndpointArn)}
}

// renameSchema selects every table of schema src and lands it in schema tgt.
func renameSchema(src, tgt string) string {
	return subst(`{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"{{src}}","table-name":"%"},"rule-action":"include"},
{"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-target":"schema","object-locator":{"schema-name":"{{src}}"},"rule-action":"rename","value":"{{tgt}}"}]}`,
		"{{src}}", src, "{{tgt}}", tgt)
}

// pollRows runs query on s until it returns the rows want (in any order,
// cells tab-separated) or the deadline passes.
func pollRows(t *testing.T, s side, query string, want ...string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	var got []string
	var err error
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if got, err = queryLines(s, query); err == nil && strings.Join(got, "\n") == strings.Join(want, "\n") {
			return
		}
	}
	t.Fatalf("%s\nreturned %q (%v), want %q", query, got, err, want)
}

// A full-load-and-cdc task with StatusTableEnabled and HistoryTableEnabled
// keeps its awsdms_status row and awsdms_history rows on the target.
func TestControlTablesStatusHistory(t *testing.T) {
	for _, to := range []string{"pg", "maria"} {
		t.Run("pg-"+to, func(t *testing.T) {
			src := pgSide(t)
			tgt, ctl := pgSide(t), "public"
			if to == "maria" {
				tgt, ctl = mariaSide(t), "awsdms_control"
			}
			execScript(t, src, `CREATE TABLE ev (id int PRIMARY KEY, v text); INSERT INTO ev SELECT g, 'loaded' FROM generate_series(1, 100) g`)
			s := startServer(t)
			p := sidePair(t, s, src, tgt, "ctl")
			arn := createTask(t, p, "ctl-task", "full-load-and-cdc", renameSchema(src.schema, tgt.schema),
				`{"ControlTablesSettings":{"StatusTableEnabled":true,"HistoryTableEnabled":true}}`)
			taskName := arn[strings.LastIndexByte(arn, ':')+1:]
			ctx := ctxT(t)
			if _, err := p.c.StartReplicationTask(ctx, &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "start-replication"}); err != nil {
				t.Fatal(err)
			}
			pollRows(t, tgt, fmt.Sprintf(`SELECT count(*) FROM %s.ev`, tgt.schema), "100")
			execScript(t, src, `INSERT INTO ev SELECT g, 'changed' FROM generate_series(101, 120) g`)
			pollRows(t, tgt, fmt.Sprintf(`SELECT count(*) FROM %s.ev`, tgt.schema), "120")

			// One status row for the task, in change processing, with
			// nothing pending and the applied position known.
			pollRows(t, tgt, fmt.Sprintf(`SELECT task_status, pending_changes, disk_swap_size,
				CASE WHEN source_current_position IS NOT NULL AND source_current_position = source_tail_position THEN 'at tail' ELSE 'behind' END,
				CASE WHEN source_timestamp_applied IS NOT NULL AND status_time IS NOT NULL THEN 'applied' ELSE 'none' END
				FROM %s.awsdms_status WHERE task_name = '%s'`, ctl, taskName),
				"CHANGE PROCESSING\t0\t0\tat tail\tapplied")
			// The history: the 100 rows loaded, the 20 changes applied.
			pollRows(t, tgt, fmt.Sprintf(`SELECT timeslot_type, SUM(records), MIN(timeslot_duration),
				CASE WHEN timeslot_type = 'FULL LOAD' AND MAX(timeslot_latency) IS NULL OR timeslot_type <> 'FULL LOAD' AND MIN(timeslot_latency) >= 0 THEN 'latency ok' ELSE 'bad latency' END
				FROM %s.awsdms_history WHERE task_name = '%s' GROUP BY timeslot_type`, ctl, taskName),
				"CHANGE PROCESSING\t20\t5\tlatency ok", "FULL LOAD\t100\t5\tlatency ok")

			if to == "pg" {
				// A blocked target: the change waits, and the target latency
				// of the timeslot grows.
				conn, err := pgx.Connect(context.Background(), tgt.dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(context.Background())
				lock, err := conn.Begin(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := lock.Exec(context.Background(), `LOCK TABLE ev IN ACCESS EXCLUSIVE MODE`); err != nil {
					t.Fatal(err)
				}
				execScript(t, src, `INSERT INTO ev VALUES (121, 'blocked')`)
				pollRows(t, tgt, fmt.Sprintf(`SELECT pending_changes FROM public.awsdms_status WHERE task_name = '%s'`, taskName), "1")
				pollRows(t, tgt, fmt.Sprintf(`SELECT CASE WHEN MAX(timeslot_latency) >= 2 THEN 'lagging' ELSE 'not yet' END
					FROM public.awsdms_history WHERE task_name = '%s' AND timeslot_type = 'CHANGE PROCESSING'`, taskName), "lagging")
				if err := lock.Rollback(context.Background()); err != nil {
					t.Fatal(err)
				}
				pollRows(t, tgt, fmt.Sprintf(`SELECT pending_changes FROM public.awsdms_status WHERE task_name = '%s'`, taskName), "0")
				pollRows(t, tgt, `SELECT count(*) FROM ev`, "121")
			}

			if _, err := p.c.StopReplicationTask(ctx, &dmssdk.StopReplicationTaskInput{ReplicationTaskArn: aws.String(arn)}); err != nil {
				t.Fatal(err)
			}
			waitStatus(t, p.c, arn, "stopped")
		})
	}
}
