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

func newApplyExceptions(target connector.BulkLoader, family, schema string, t *dms.ReplicationTask, log *slog.Logger) *applyExceptions {
	name := func(n string) string {
		if family == "postgres" {
			return strings.ToLower(n) // PostgreSQL targets get lower-case columns, as DMS creates them
		}
		return n
	}
	str := func(n int) record.Type { return record.Type{Kind: record.KindString, Length: n} }
	tbl := &record.Table{Schema: controlSchema(schema, family), Name: "awsdms_apply_exceptions", Columns: []record.Column{
		{Name: name("TASK_NAME"), Type: str(128)},
		{Name: name("TABLE_OWNER"), Type: str(128)},
		{Name: name("TABLE_NAME"), Type: str(128)},
		{Name: name("ERROR_TIME"), Type: record.Type{Kind: record.KindTimestamp, Precision: 6}},
		{Name: name("STATEMENT"), Type: record.Type{Kind: record.KindText}},
		{Name: name("ERROR"), Type: record.Type{Kind: record.KindText}},
	}}
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
