package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
)

// TestCDCDDL: columns added, renamed and dropped on the source during
// change processing, and one added while the task is stopped, reach the
// target (HandleSourceTableAltered, the default), the rows written after
// each DDL land in the new columns, and the table statistics count the
// DDL. With HandleSourceTableTruncated false a TRUNCATE leaves the target's
// rows. DROP TABLE on the source drops the target table.
func TestCDCDDL(t *testing.T) {
	for _, pairName := range []string{"pg-pg", "maria-pg", "pg-maria"} {
		t.Run(pairName, func(t *testing.T) { runCDCDDL(t, pairName) })
	}
}

func runCDCDDL(t *testing.T, pairName string) {
	src, tgt := pairSides(t, pairName)
	text := "text"
	if src.family != "pg" {
		text = "varchar(64)"
	}
	execScript(t, src, subst(`CREATE TABLE {{s}}.ddl_t (id bigint PRIMARY KEY, a {{text}}, b int, c {{text}});
INSERT INTO {{s}}.ddl_t VALUES (1, 'one', 1, 'c1'), (2, 'two', 2, 'c2'), (3, 'three', 3, NULL);
CREATE TABLE {{s}}.ddl_u (id bigint PRIMARY KEY, a {{text}});
INSERT INTO {{s}}.ddl_u VALUES (1, 'one')`, "{{s}}", src.schema, "{{text}}", text))

	s := startServer(t)
	c := s.client(t)
	ctx := ctxT(t)
	p := newPair(t, c, "ddl", src, tgt)
	mappings := allTablesInto(src, tgt)
	settings := `{"ChangeProcessingDdlHandlingPolicy":{"HandleSourceTableTruncated":false},"ValidationSettings":{"EnableValidation":true}}`
	arn := createTask(t, p, "ddl-task", "full-load-and-cdc", mappings, settings)
	if _, err := c.StartReplicationTask(ctx, &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "start-replication"}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, arn, "running")

	// check waits for the target to have exactly cols, then for its rows
	// (of those columns) to equal the source's.
	checkTable := func(table, step string, cols ...string) {
		t.Helper()
		waitColumns(t, tgt, table, step, cols)
		query := func(sd side) string {
			if sd.family != "pg" {
				return "SELECT " + strings.Join(cols, ", ") + " FROM {{s}}." + table
			}
			text := make([]string, len(cols)) // as text, like the MariaDB driver gives them
			for i, col := range cols {
				text[i] = col + "::text"
			}
			return "SELECT " + strings.Join(text, ", ") + " FROM {{s}}." + table
		}
		convergeOn(t, src, tgt, query(src), query(tgt))
	}
	check := func(step string, cols ...string) { t.Helper(); checkTable("ddl_t", step, cols...) }
	check("full load", "id", "a", "b", "c")

	steps := []struct {
		name string
		sql  string
		cols []string
	}{
		{"add column", `ALTER TABLE {{s}}.ddl_t ADD COLUMN d int;
UPDATE {{s}}.ddl_t SET d = id * 10 WHERE id <= 2;
INSERT INTO {{s}}.ddl_t (id, a, b, c, d) VALUES (4, 'four', 4, 'c4', 40)`, []string{"id", "a", "b", "c", "d"}},
		{"rename column", `ALTER TABLE {{s}}.ddl_t RENAME COLUMN c TO c_renamed;
UPDATE {{s}}.ddl_t SET c_renamed = 'changed' WHERE id = 1;
INSERT INTO {{s}}.ddl_t (id, a, b, c_renamed, d) VALUES (5, 'five', 5, 'c5', 50)`, []string{"id", "a", "b", "c_renamed", "d"}},
		{"drop column", `ALTER TABLE {{s}}.ddl_t DROP COLUMN b;
INSERT INTO {{s}}.ddl_t (id, a, c_renamed, d) VALUES (6, 'six', 'c6', 60);
DELETE FROM {{s}}.ddl_t WHERE id = 3`, []string{"id", "a", "c_renamed", "d"}},
	}
	for _, st := range steps {
		execScript(t, src, subst(st.sql, "{{s}}", src.schema))
		check(st.name, st.cols...)
	}
	// The rows changed after each DDL validate against the table's new shape.
	validated := func(step string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; {
			st := tableStats(t, c, arn)[src.schema+".ddl_t"]
			if st.ValidationFailedRecords > 0 || time.Now().After(deadline) {
				t.Fatalf("%s: validation %s, %d pending, %d failed (%s)", step, aws.ToString(st.ValidationState), st.ValidationPendingRecords,
					st.ValidationFailedRecords, aws.ToString(st.ValidationStateDetails))
			}
			if aws.ToString(st.ValidationState) == "Validated" && st.ValidationPendingRecords == 0 {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	validated("after add, rename and drop")

	// A column added while the task is stopped.
	if _, err := c.StopReplicationTask(ctx, &dmssdk.StopReplicationTaskInput{ReplicationTaskArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, arn, "stopped")
	execScript(t, src, subst(`INSERT INTO {{s}}.ddl_t (id, a, c_renamed, d) VALUES (7, 'seven', 'c7', 70);
ALTER TABLE {{s}}.ddl_t ADD COLUMN e int;
INSERT INTO {{s}}.ddl_t (id, a, c_renamed, d, e) VALUES (8, 'eight', 'c8', 80, 800);
INSERT INTO {{s}}.ddl_u VALUES (2, 'two');
ALTER TABLE {{s}}.ddl_u ADD COLUMN z int;
INSERT INTO {{s}}.ddl_u VALUES (3, 'three', 3)`, "{{s}}", src.schema))
	if _, err := c.StartReplicationTask(ctx, &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "resume-processing"}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, arn, "running")
	check("add column while stopped", "id", "a", "c_renamed", "d", "e")
	// The first DDL of a table, made while the task is stopped, after rows
	// the task had not read yet.
	checkTable("ddl_u", "first DDL while stopped", "id", "a", "z")
	validated("after a column added while stopped")

	// TRUNCATE is not applied (HandleSourceTableTruncated false); a later
	// insert is.
	execScript(t, src, subst(`TRUNCATE TABLE {{s}}.ddl_t;
INSERT INTO {{s}}.ddl_t (id, a, c_renamed, d, e) VALUES (9, 'nine', 'c9', 90, 900)`, "{{s}}", src.schema))
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, rows := checksum(t, tgt, subst("SELECT id FROM {{s}}.ddl_t", "{{s}}", tgt.schema))
		if len(rows) == 8 { // 1, 2, 4, 5, 6, 7, 8 and 9
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a TRUNCATE that is not to be applied and an insert: target ids %v, want 8 rows", rows)
		}
		time.Sleep(200 * time.Millisecond)
	}
	st := tableStats(t, c, arn)[src.schema+".ddl_t"]
	if st.Ddls < 4 || aws.ToInt64(st.AppliedDdls) != st.Ddls {
		t.Fatalf("table statistics: Ddls %d, AppliedDdls %d; want at least 4 (add, rename, drop, add)", st.Ddls, aws.ToInt64(st.AppliedDdls))
	}
	// DROP TABLE (HandleSourceTableDropped, the default) drops the target table.
	execScript(t, src, subst("DROP TABLE {{s}}.ddl_t", "{{s}}", src.schema))
	waitColumns(t, tgt, "ddl_t", "drop table", nil)
	if _, err := c.StopReplicationTask(ctx, &dmssdk.StopReplicationTaskInput{ReplicationTaskArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, arn, "stopped")
}

// waitColumns waits until the target table has exactly cols.
func waitColumns(t *testing.T, s side, table, step string, cols []string) {
	t.Helper()
	want := slices.Sorted(slices.Values(cols))
	deadline := time.Now().Add(60 * time.Second)
	q := fmt.Sprintf("SELECT lower(column_name) FROM information_schema.columns WHERE table_schema = '%s' AND table_name = '%s'", s.schema, table)
	for {
		_, got := checksum(t, s, q)
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the target's columns are %v, want %v", step, got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
