package mysql_test

import (
	"context"
	"crypto/md5"
	"database/sql"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/mysql"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// testCtx is a context bounded to a minute, canceled when the test ends.
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// openConn opens the connector on db (empty: server level) for role.
func openConn(t testing.TB, my *testenv.MySQLServer, db string, role connector.Role, settings map[string]any) *mysql.Conn {
	t.Helper()
	ep := connector.Endpoint{Engine: "mariadb", Role: role, Host: my.Host, Port: my.Port, Database: db,
		Username: my.User, Password: my.Password, SSLMode: "none", Settings: settings}
	c, err := mysql.New(ep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*mysql.Conn)
}

// clientDB is the server's own client (go-sql-driver with a plain DSN) on db.
func clientDB(t testing.TB, my *testenv.MySQLServer, db string) *sql.DB {
	t.Helper()
	cfg, err := gomysql.ParseDSN(my.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ParseTime = false
	cfg.Loc = time.UTC
	c, err := gomysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := sql.OpenDB(c)
	t.Cleanup(func() { d.Close() })
	return d
}

// findTable returns the discovered table schema.name.
func findTable(t testing.TB, c *mysql.Conn, schema, name string) *record.Table {
	t.Helper()
	tables, err := c.Tables(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if tb.Schema == schema && tb.Name == name {
			return tb
		}
	}
	t.Fatalf("table %s.%s not discovered", schema, name)
	return nil
}

// readAll reads req (or the whole table) in a new snapshot and copies the rows.
func readAll(t testing.TB, c *mysql.Conn, req *connector.ReadRequest) []record.Row {
	t.Helper()
	ctx := testCtx(t)
	snap, err := c.OpenSnapshot(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	return readSnap(t, snap, req)
}

func readSnap(t testing.TB, snap connector.Snapshot, req *connector.ReadRequest) []record.Row {
	t.Helper()
	var out []record.Row
	err := snap.Read(testCtx(t), req, func(rows []record.Row) error {
		for _, r := range rows {
			out = append(out, append(record.Row(nil), r...))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// queryStrings runs q with the plain client and returns every row as text
// (NULL as "<nil>").
func queryStrings(t testing.TB, db *sql.DB, q string, args ...any) [][]string {
	t.Helper()
	rows, err := db.QueryContext(testCtx(t), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = "<nil>"
			if v.Valid {
				row[i] = v.String
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func md5Sum(b []byte) [16]byte { return md5.Sum(b) }
