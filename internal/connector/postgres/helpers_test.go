package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/postgres"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// testCtx bounds a test's calls.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// open returns a connector on db, closed at the end of the test.
func open(t testing.TB, pg *testenv.PGServer, db string, role connector.Role) *postgres.Conn {
	t.Helper()
	c, err := postgres.New(endpoint(pg, db, role))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*postgres.Conn)
}

// client is a plain pgx session on db, to set up and check with
// PostgreSQL's own client.
func client(t testing.TB, pg *testenv.PGServer, db string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(testCtx(t), pg.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// tableNamed finds schema.name among tables.
func tableNamed(t testing.TB, tables []*record.Table, schema, name string) *record.Table {
	t.Helper()
	for _, tb := range tables {
		if tb.Schema == schema && tb.Name == name {
			return tb
		}
	}
	t.Fatalf("table %s.%s not found", schema, name)
	return nil
}

// sourceTable discovers schema.name.
func sourceTable(t testing.TB, c *postgres.Conn, schema, name string) *record.Table {
	t.Helper()
	tables, err := c.Tables(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return tableNamed(t, tables, schema, name)
}

// readAll reads req on snap and returns copies of the rows and the batch
// sizes seen.
func readAll(t testing.TB, snap connector.Snapshot, req *connector.ReadRequest) ([]record.Row, []int) {
	t.Helper()
	rows, sizes, err := tryRead(testCtx(t), snap, req)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return rows, sizes
}

func tryRead(ctx context.Context, snap connector.Snapshot, req *connector.ReadRequest) ([]record.Row, []int, error) {
	var out []record.Row
	var sizes []int
	err := snap.Read(ctx, req, func(rows []record.Row) error {
		sizes = append(sizes, len(rows))
		for _, r := range rows {
			out = append(out, append(record.Row(nil), r...))
		}
		return nil
	})
	return out, sizes, err
}

// snapshot opens a snapshot closed at the end of the test.
func snapshot(t testing.TB, c *postgres.Conn, sessions int) connector.Snapshot {
	t.Helper()
	s, err := c.OpenSnapshot(testCtx(t), sessions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sameValue compares canonical values: times by instant and location,
// bytes by content.
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case time.Time:
		b, ok := b.(time.Time)
		return ok && a.Equal(b) && a.Location() == b.Location()
	case []byte:
		b, ok := b.([]byte)
		return ok && bytes.Equal(a, b)
	}
	return a == b
}

func show(v any) string {
	if v == nil {
		return "NULL"
	}
	return fmt.Sprintf("%T(%#v)", v, v)
}

// ids returns the first value of each row as int64.
func ids(rows []record.Row) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r[0].(int64)
	}
	return out
}
