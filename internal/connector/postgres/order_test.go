package postgres

import (
	"context"
	"testing"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// A key the read casts to text (interval) is still read in its own order,
// so resuming after a key loses nothing.
func TestReadOrdersByTheKeysOwnType(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE iv (k interval PRIMARY KEY)`, `INSERT INTO iv VALUES ('2 days'), ('10 days'), ('3 days')`)
	c, err := New(connector.Endpoint{Engine: "postgres", Role: connector.RoleSource, Host: pg.Host, Port: pg.Port, Database: db, Username: pg.User, Password: pg.Password, SSLMode: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	tables, err := c.(connector.SchemaReader).Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := c.(connector.SnapshotReader).OpenSnapshot(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var got []string
	err = snap.Read(ctx, &connector.ReadRequest{Table: tables[0], OrderBy: []string{"k"}}, func(rows []record.Row) error {
		for _, r := range rows {
			got = append(got, r[0].(string))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != "2 days" || got[2] != "10 days" {
		t.Fatalf("read order %q, want 2, 3, 10 days", got)
	}
}
