package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

var (
	_ connector.SchemaChanger = (*Conn)(nil)
	_ connector.TableDropper  = (*Conn)(nil)
)

// AddColumn adds col to the target table t when it is not there yet.
func (c *Conn) AddColumn(ctx context.Context, t *record.Table, col record.Column) error {
	return c.alter(ctx, t, "adding column "+col.Name+" to ", func(pg *pgx.Conn) (string, error) {
		known, err := knownTypes(ctx, pg, &record.Table{Columns: []record.Column{col}})
		if err != nil {
			return "", err
		}
		return "ADD COLUMN IF NOT EXISTS " + quoteIdent(col.Name) + " " + columnType(col, known), nil
	})
}

// DropColumn drops the column name of t when it is there.
func (c *Conn) DropColumn(ctx context.Context, t *record.Table, name string) error {
	return c.alter(ctx, t, "dropping column "+name+" of ", func(*pgx.Conn) (string, error) {
		return "DROP COLUMN IF EXISTS " + quoteIdent(name), nil
	})
}

// RenameColumn renames from to to when from is there and to is not.
func (c *Conn) RenameColumn(ctx context.Context, t *record.Table, from, to string) error {
	return c.alter(ctx, t, "renaming column "+from+" of ", func(pg *pgx.Conn) (string, error) {
		var hasFrom, hasTo bool
		err := pg.QueryRow(ctx, `
SELECT bool_or(attname = $2), bool_or(attname = $3) FROM pg_catalog.pg_attribute
WHERE attrelid = pg_catalog.to_regclass($1) AND attnum > 0 AND NOT attisdropped`,
			quoteTable(t.Schema, t.Name), from, to).Scan(&hasFrom, &hasTo)
		if err != nil || !hasFrom || hasTo {
			return "", err
		}
		return "RENAME COLUMN " + quoteIdent(from) + " TO " + quoteIdent(to), nil
	})
}

// RetypeColumn converts col.Name to the type col.Type maps to, casting its
// values.
func (c *Conn) RetypeColumn(ctx context.Context, t *record.Table, col record.Column) error {
	return c.alter(ctx, t, "changing the type of column "+col.Name+" of ", func(pg *pgx.Conn) (string, error) {
		known, err := knownTypes(ctx, pg, &record.Table{Columns: []record.Column{col}})
		if err != nil {
			return "", err
		}
		typ := columnType(col, known)
		return "ALTER COLUMN " + quoteIdent(col.Name) + " TYPE " + typ + " USING " + quoteIdent(col.Name) + "::" + typ, nil
	})
}

// DropTable drops t when it exists.
func (c *Conn) DropTable(ctx context.Context, t *record.Table) error {
	return c.ddl(ctx, t, "dropping ", func(_ *pgx.Conn, name string) (string, error) {
		return "DROP TABLE IF EXISTS " + name, nil
	})
}

// alter runs ALTER TABLE t <clause> (no statement when clause is "").
func (c *Conn) alter(ctx context.Context, t *record.Table, doing string, clause func(pg *pgx.Conn) (string, error)) error {
	return c.ddl(ctx, t, doing, func(pg *pgx.Conn, name string) (string, error) {
		sql, err := clause(pg)
		if sql == "" || err != nil {
			return "", err
		}
		return "ALTER TABLE " + name + " " + sql, nil
	})
}

// ddl runs the statement stmt makes for t (quoted as name; none when "")
// and forgets what was cached about t.
func (c *Conn) ddl(ctx context.Context, t *record.Table, doing string, stmt func(pg *pgx.Conn, name string) (string, error)) error {
	pg, err := c.data.acquire(ctx, c)
	if err != nil {
		return err
	}
	defer c.data.release(pg)
	defer c.forgetTarget(t)
	name := quoteTable(t.Schema, t.Name)
	sql, err := stmt(pg, name)
	if err == nil && sql != "" {
		_, err = pg.Exec(ctx, sql)
	}
	return classify(ctx, pg, doing+name, err)
}
