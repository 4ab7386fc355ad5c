package mysql

import (
	"context"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

var (
	_ connector.SchemaChanger = (*Conn)(nil)
	_ connector.TableDropper  = (*Conn)(nil)
)

// AddColumn adds col (NULL allowed) to the target table t when it is not
// there yet.
func (c *Conn) AddColumn(ctx context.Context, t *record.Table, col record.Column) error {
	return c.alter(ctx, t, "adding column "+col.Name+" to ", func(f serverFlavor, cols map[string]string) string {
		if _, ok := cols[col.Name]; ok {
			return ""
		}
		return "ADD COLUMN " + quoteIdent(col.Name) + " " + columnDefs(f, &record.Table{Columns: []record.Column{col}})[0].sql() + " NULL"
	})
}

// DropColumn drops the column name of t when it is there.
func (c *Conn) DropColumn(ctx context.Context, t *record.Table, name string) error {
	return c.alter(ctx, t, "dropping column "+name+" of ", func(_ serverFlavor, cols map[string]string) string {
		if _, ok := cols[name]; !ok {
			return ""
		}
		return "DROP COLUMN " + quoteIdent(name)
	})
}

// RenameColumn renames from to to when from is there and to is not.
func (c *Conn) RenameColumn(ctx context.Context, t *record.Table, from, to string) error {
	return c.alter(ctx, t, "renaming column "+from+" of ", func(_ serverFlavor, cols map[string]string) string {
		_, hasFrom := cols[from]
		_, hasTo := cols[to]
		if !hasFrom || hasTo {
			return ""
		}
		return "RENAME COLUMN " + quoteIdent(from) + " TO " + quoteIdent(to)
	})
}

// RetypeColumn gives col.Name the type col.Type maps to (MODIFY COLUMN,
// which converts the values), keeping NULL allowed.
func (c *Conn) RetypeColumn(ctx context.Context, t *record.Table, col record.Column) error {
	return c.alter(ctx, t, "changing the type of column "+col.Name+" of ", func(f serverFlavor, cols map[string]string) string {
		if _, ok := cols[col.Name]; !ok {
			return ""
		}
		return "MODIFY COLUMN " + quoteIdent(col.Name) + " " + columnDefs(f, &record.Table{Columns: []record.Column{col}})[0].sql() + " NULL"
	})
}

// DropTable drops t when it exists.
func (c *Conn) DropTable(ctx context.Context, t *record.Table) error {
	db, _, pool, err := c.targetSession(ctx, t)
	if err != nil {
		return err
	}
	defer c.forgetTargetColumns(db, t.Name)
	_, err = pool.ExecContext(ctx, "DROP TABLE IF EXISTS "+qualified(db, t.Name))
	return classify(ctx, "dropping "+tableLabel(db, t.Name), err, 0)
}

// alter runs ALTER TABLE t <clause> where clause is made from the table's
// columns as they are now ("" = nothing to do), then forgets the cached
// columns of t.
func (c *Conn) alter(ctx context.Context, t *record.Table, doing string, clause func(f serverFlavor, cols map[string]string) string) error {
	db, f, pool, err := c.targetSession(ctx, t)
	if err != nil {
		return err
	}
	doing += tableLabel(db, t.Name)
	c.forgetTargetColumns(db, t.Name)
	defer c.forgetTargetColumns(db, t.Name)
	cols, err := c.targetColumns(ctx, db, t.Name)
	if err != nil {
		return classify(ctx, doing, err, 0)
	}
	if sql := clause(f, cols); sql != "" {
		_, err = pool.ExecContext(ctx, "ALTER TABLE "+qualified(db, t.Name)+" "+sql)
	}
	return classify(ctx, doing, err, 0)
}
