package engine

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/record"
)

// applyExceptions writes the changes the target rejected into the
// awsdms_apply_exceptions control table, as DMS does: TASK_NAME,
// TABLE_OWNER, TABLE_NAME, ERROR_TIME, STATEMENT, ERROR.
type applyExceptions struct {
	target connector.BulkLoader
	table  *record.Table
	task   string
	log    *slog.Logger
	once   sync.Once
	err    error
}

// controlSchema is where control tables go: the task's ControlSchema, else
// the target's default (public on PostgreSQL, awsdms_control on MySQL).
func controlSchema(setting, family string) string {
	if setting != "" {
		return setting
	}
	if family == "mysql" {
		return "awsdms_control"
	}
	return "public"
}

// controlTable declares a control table: PostgreSQL targets get lower-case
// column names (as DMS creates them), others the upper-case ones.
func controlTable(family, schema, name string, key []string, cols ...record.Column) *record.Table {
	fold := func(n string) string {
		if family == "postgres" {
			return strings.ToLower(n)
		}
		return n
	}
	t := &record.Table{Schema: controlSchema(schema, family), Name: name, Columns: cols}
	for i := range t.Columns {
		t.Columns[i].Name = fold(t.Columns[i].Name)
	}
	for _, k := range key {
		t.PrimaryKey = append(t.PrimaryKey, fold(k))
	}
	return t
}

// Column types of the control tables.
var (
	ctlName = record.Type{Kind: record.KindString, Length: 128}
	ctlWord = record.Type{Kind: record.KindString, Length: 32}
	ctlTime = record.Type{Kind: record.KindTimestamp, Precision: 6}
	ctlInt  = record.Type{Kind: record.KindInt64}
	ctlText = record.Type{Kind: record.KindText}
)

func newApplyExceptions(target connector.BulkLoader, family, schema string, t *dms.ReplicationTask, log *slog.Logger) *applyExceptions {
	tbl := controlTable(family, schema, "awsdms_apply_exceptions", nil,
		record.Column{Name: "TASK_NAME", Type: ctlName},
		record.Column{Name: "TABLE_OWNER", Type: ctlName},
		record.Column{Name: "TABLE_NAME", Type: ctlName},
		record.Column{Name: "ERROR_TIME", Type: ctlTime},
		record.Column{Name: "STATEMENT", Type: ctlText},
		record.Column{Name: "ERROR", Type: ctlText},
	)
	return &applyExceptions{target: target, table: tbl, task: t.ResourceID, log: log}
}

// Record writes one rejected change.
func (x *applyExceptions) Record(ctx context.Context, c record.Change, cause error) {
	x.once.Do(func() {
		x.err = x.target.PrepareTable(ctx, x.table, connector.PrepDoNothing, false)
	})
	if x.err != nil {
		x.log.Error("cannot create awsdms_apply_exceptions on the target", "err", x.err)
		return
	}
	stmt := fmt.Sprintf("%s on %s.%s: before %v after %v", opName(c.Op), c.Table.Schema, c.Table.Name, c.Before, c.After)
	row := record.Row{x.task, c.Table.Schema, c.Table.Name, time.Now().UTC(), stmt, cause.Error()}
	if err := x.target.Load(context.WithoutCancel(ctx), x.table, []record.Row{row}); err != nil {
		x.log.Error("cannot write to awsdms_apply_exceptions", "err", err)
	}
}

func opName(op record.ChangeOp) string {
	switch op {
	case record.OpInsert:
		return "INSERT"
	case record.OpUpdate:
		return "UPDATE"
	case record.OpDelete:
		return "DELETE"
	}
	return "TRUNCATE"
}
