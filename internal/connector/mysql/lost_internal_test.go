package mysql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

func TestClassify(t *testing.T) {
	ctx := context.Background()
	for _, err := range []error{driver.ErrBadConn, gomysql.ErrInvalidConn, io.ErrUnexpectedEOF,
		&gomysql.MySQLError{Number: crServerLost}, &gomysql.MySQLError{Number: crServerGone}, &gomysql.MySQLError{Number: erConnectionKilled}} {
		if got := classify(ctx, "x", err, 0); !errors.Is(got, ErrConnectionLost) || !errors.Is(got, connector.ErrConnectionLost) || !errors.Is(got, err) {
			t.Errorf("classify(%v) = %v, want ErrConnectionLost", err, got)
		}
	}
	got := classify(ctx, "x", &gomysql.MySQLError{Number: 1406, Message: "Data too long for column 's' at row 3"}, 10)
	var re *RowError
	if !errors.Is(got, ErrRowRejected) || !errors.As(got, &re) || re.Row != 12 || re.Number != 1406 {
		t.Errorf("classify(1406) = %#v", got)
	}
	var me *gomysql.MySQLError
	if !errors.As(got, &me) {
		t.Error("the server error is not reachable from the RowError")
	}
	if got := classify(ctx, "x", &gomysql.MySQLError{Number: 1146, Message: "no table"}, 0); errors.Is(got, ErrRowRejected) || errors.Is(got, ErrConnectionLost) {
		t.Errorf("classify(1146) = %v", got)
	}
}

// A snapshot session killed on the server is a lost connection, and the
// snapshot goes on with the sessions it has left.
func TestSnapshotSessionKilled(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t VALUES (1), (2)")
	c, err := New(connector.Endpoint{Engine: "mariadb", Role: connector.RoleSource, Host: my.Host, Port: my.Port,
		Database: db, Username: my.User, Password: my.Password, SSLMode: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	snap, err := c.(*Conn).openSnapshot(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	my.Exec(t, "", fmt.Sprintf("KILL CONNECTION %d", snap.sessions[0].id))
	tb := &record.Table{Schema: db, Name: "t", Columns: []record.Column{{Name: "id", Type: record.Type{Kind: record.KindInt32}}}}
	read := func() (int, error) {
		n := 0
		err := snap.Read(ctx, &connector.ReadRequest{Table: tb}, func(rows []record.Row) error { n += len(rows); return nil })
		return n, err
	}
	lost := 0
	for range 3 {
		n, err := read()
		switch {
		case errors.Is(err, ErrConnectionLost):
			lost++
		case err != nil || n != 2:
			t.Errorf("read: %d rows, %v", n, err)
		}
	}
	if lost != 1 {
		t.Errorf("%d reads failed with ErrConnectionLost, want exactly 1 (the killed session, then dropped)", lost)
	}
}
