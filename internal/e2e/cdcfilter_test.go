package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
)

// TestCDCSourceFilters: the source filters of a selection rule select the
// changes CDC applies as they select the rows of the full load. Rows that
// an update moves into the filters arrive, rows it moves out (or a NULL)
// leave, and changes of rows outside them change nothing; the target ends
// equal to the source's filtered rows.
func TestCDCSourceFilters(t *testing.T) {
	for _, c := range []struct {
		pair  string
		batch bool
	}{{"pg-pg", false}, {"maria-pg", true}} {
		t.Run(fmt.Sprintf("%s/batch=%v", c.pair, c.batch), func(t *testing.T) {
			src, tgt := pairSides(t, c.pair)
			table := src.schema + ".items"
			if src.family != "pg" {
				table = "items"
			}
			trueText := "true"
			if src.family != "pg" {
				trueText = "1" // MariaDB's boolean is tinyint(1)
			}
			execScript(t, src, subst(`CREATE TABLE {{t}} (id int PRIMARY KEY, flag boolean, qty int, note varchar(40));
INSERT INTO {{t}} (id, flag, qty, note) VALUES `+filterRows()+`;`, "{{t}}", table))
			s := startServer(t)
			cl := s.client(t)
			p := newPair(t, cl, "cdcfilter", src, tgt)
			mappings := subst(`{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"{{src}}","table-name":"items"},"rule-action":"include",
"filters":[{"filter-type":"source","column-name":"flag","filter-conditions":[{"filter-operator":"eq","value":"{{true}}"}]},
{"filter-type":"source","column-name":"qty","filter-conditions":[{"filter-operator":"between","start-value":"10","end-value":"80"},{"filter-operator":"eq","value":"95"}]}]},
{"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-target":"schema","object-locator":{"schema-name":"{{src}}"},"rule-action":"rename","value":"{{tgt}}"}]}`,
				"{{src}}", src.schema, "{{tgt}}", tgt.schema, "{{true}}", trueText)
			arn := createTask(t, p, "cdcfilter-task", "full-load-and-cdc", mappings, fmt.Sprintf(`{"TargetMetadata":{"BatchApplyEnabled":%v}}`, c.batch))
			if _, err := cl.StartReplicationTask(ctxT(t), &dmssdk.StartReplicationTaskInput{ReplicationTaskArn: aws.String(arn), StartReplicationTaskType: "start-replication"}); err != nil {
				t.Fatal(err)
			}
			waitStatus(t, cl, arn, "running")
			for deadline := time.Now().Add(60 * time.Second); aws.ToString(tableStats(t, cl, arn)[src.schema+".items"].TableState) != "Table completed"; time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the table's full load did not complete")
				}
			}
			srcQ := "SELECT id, qty, note FROM {{s}}.items WHERE flag = true AND (qty BETWEEN 10 AND 80 OR qty = 95) ORDER BY id"
			tgtQ := "SELECT id, qty, note FROM {{s}}.items ORDER BY id"
			if src.family != "pg" {
				srcQ = strings.Replace(srcQ, "{{s}}.", "", 1)
			}
			convergeOn(t, src, tgt, srcQ, tgtQ) // the full load
			execScript(t, src, subst(strings.Join([]string{
				"INSERT INTO {{t}} VALUES (101, true, 50, 'in'), (102, false, 50, 'flag out'), (103, true, 5, 'qty out'), (104, true, 95, 'in by 95')",
				"UPDATE {{t}} SET flag = true WHERE id = 11",          // moves in
				"UPDATE {{t}} SET flag = false WHERE id = 12",         // moves out
				"UPDATE {{t}} SET qty = 90 WHERE id = 14",             // moves out
				"UPDATE {{t}} SET id = 200 WHERE id = 16",             // key change, stays in
				"UPDATE {{t}} SET flag = NULL WHERE id = 20",          // NULL: out
				"UPDATE {{t}} SET note = 'still out' WHERE id = 3",    // out before and after
				"UPDATE {{t}} SET note = 'changed in' WHERE id = 22",  // in before and after
				"UPDATE {{t}} SET qty = 95, flag = true WHERE id = 7", // moves in by its second condition
				"DELETE FROM {{t}} WHERE id = 18",                     // in
				"DELETE FROM {{t}} WHERE id = 13",                     // out
				"INSERT INTO {{t}} VALUES (105, true, 60, 'in then out')",
				"UPDATE {{t}} SET qty = 81 WHERE id = 105",
			}, ";\n")+";", "{{t}}", table))
			convergeOn(t, src, tgt, srcQ, tgtQ)
		})
	}
}

// filterRows are the values of rows 1..40: flag on even ids, qty = id.
func filterRows() string {
	var rows []string
	for i := 1; i <= 40; i++ {
		rows = append(rows, fmt.Sprintf("(%d, %v, %d, 'row %d')", i, i%2 == 0, i, i))
	}
	return strings.Join(rows, ", ")
}
