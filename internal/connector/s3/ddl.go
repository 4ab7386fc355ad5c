package s3

import (
	"context"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// Files have no schema to alter: after a source column is added, dropped,
// renamed or retyped, the table's next CDC files simply have the new
// columns, as DMS writes them. The methods only accept the change; a
// dropped source table keeps its files (no TableDropper).
var _ connector.SchemaChanger = (*Conn)(nil)

// AddColumn accepts the new column: the next files have it.
func (c *Conn) AddColumn(context.Context, *record.Table, record.Column) error { return c.usable() }

// DropColumn accepts the dropped column: the next files lack it.
func (c *Conn) DropColumn(context.Context, *record.Table, string) error { return c.usable() }

// RenameColumn accepts the new name: the next files' header (AddColumnName) has it.
func (c *Conn) RenameColumn(context.Context, *record.Table, string, string) error { return c.usable() }

// RetypeColumn accepts the new type: the next files hold its values.
func (c *Conn) RetypeColumn(context.Context, *record.Table, record.Column) error { return c.usable() }
