package mysql

import (
	"context"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// Cancelling the context of a check statement must stop it on the server,
// not only drop the client's connection.
func TestCancelKillsServerStatement(t *testing.T) {
	my := testenv.MariaDB(t)
	cfg, err := ConfigFromEndpoint(connector.Endpoint{Engine: "mariadb", Role: connector.RoleSource,
		Host: my.Host, Port: my.Port, Username: my.User, Password: my.Password})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var c Conn
	s, err := login(ctx, cfg, c.dialer)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	var id int64
	if err := s.conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}

	qctx, qcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer qcancel()
	stop := s.killOnCancel(qctx, cfg, c.dialer)
	defer stop()
	if _, err := s.conn.ExecContext(qctx, "SELECT SLEEP(60)"); err == nil {
		t.Fatal("SLEEP(60) returned without error")
	}

	admin, err := login(ctx, cfg, c.dialer)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.close()
	deadline := time.Now().Add(2 * time.Second) // the server itself notices a dropped client only after ~5s
	for {
		var n int
		err := admin.conn.QueryRowContext(ctx,
			"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ? AND INFO LIKE 'SELECT SLEEP(60)%'", id).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the server still runs the cancelled statement")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
