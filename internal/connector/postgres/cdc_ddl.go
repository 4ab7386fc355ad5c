package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/record"
)

// Logical decoding carries row changes and TRUNCATE, not DDL; column
// changes show in the Relation messages that precede a table's next
// change, but a dropped table sends nothing. As DMS does with its
// awsdms_ddl_audit table and awsdms_intercept_ddl event trigger, a source
// with DDL capture on gets an audit table that an event trigger fills, in
// the dropping transaction, with the tables DROP dropped; the audit table is
// published with the captured tables, so a drop arrives in commit order.
// The objects are Godwit's own (godwit_ddl_audit, godwit_intercept_ddl),
// shared by every task on the database and left in place when a task is
// deleted. Creating an event trigger takes a superuser.
const (
	cdcAuditTable   = "godwit_ddl_audit"
	cdcAuditTrigger = "godwit_intercept_ddl"
)

// cdcEnsureDDLCapture creates the audit table, its function and the event
// trigger in schema when missing, and returns the audit table.
func cdcEnsureDDLCapture(ctx context.Context, pg *pgx.Conn, schema string) (*record.Table, error) {
	table := quoteTable(schema, cdcAuditTable)
	fn := quoteTable(schema, cdcAuditTrigger)
	// The trigger never fails the user's DDL: an error of its own is swallowed.
	stmts := []string{
		"CREATE TABLE IF NOT EXISTS " + table + ` (
	id bigserial PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now(),
	tag text NOT NULL,
	schema_name text NOT NULL,
	object_name text NOT NULL
)`,
		"CREATE OR REPLACE FUNCTION " + fn + `() RETURNS event_trigger LANGUAGE plpgsql AS $godwit$
BEGIN
	INSERT INTO ` + table + ` (tag, schema_name, object_name)
	SELECT 'DROP TABLE', o.schema_name, o.object_name FROM pg_catalog.pg_event_trigger_dropped_objects() o
	WHERE o.object_type = 'table' AND NOT (o.schema_name = ` + literalText(schema) + ` AND o.object_name = '` + cdcAuditTable + `');
EXCEPTION WHEN OTHERS THEN
	NULL;
END
$godwit$`,
	}
	doing := "creating the DDL capture objects in schema " + quoteIdent(schema)
	err := pgx.BeginFunc(ctx, pg, func(tx pgx.Tx) error {
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger WHERE evtname = $1)", cdcAuditTrigger).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			_, err := tx.Exec(ctx, "CREATE EVENT TRIGGER "+quoteIdent(cdcAuditTrigger)+" ON sql_drop EXECUTE FUNCTION "+fn+"()")
			return err
		}
		return nil
	})
	if err != nil {
		return nil, classify(ctx, pg, doing, err)
	}
	return &record.Table{Schema: schema, Name: cdcAuditTable}, nil
}

// literalText quotes s as an SQL string literal (an identifier has no NUL
// byte, quoteString's only failure).
func literalText(s string) string {
	q, _ := quoteString(s)
	return q
}

// auditChange turns a row of the audit table into the drop of a captured table.
func (d *cdcDecoder) auditChange(out []record.Change, rel *cdcRelation, td *cdcTuple) []record.Change {
	tag, schema, name := td.text(rel.audit[0]), td.text(rel.audit[1]), td.text(rel.audit[2])
	if tag != "DROP TABLE" {
		return out
	}
	if t := d.tables[[2]string{schema, name}]; t != nil {
		return append(out, record.Change{Op: record.OpDropTable, Table: t})
	}
	return out
}
