package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// Cancelling the context of a check query must stop it on the server, not
// only drop the client's wait.
func TestCancelStopsServerQuery(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	cfg, err := ConfigFromEndpoint(connector.Endpoint{Engine: "postgres", Role: connector.RoleSource,
		Host: pg.Host, Port: pg.Port, Database: db, Username: pg.User, Password: pg.Password, SSLMode: "require"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := connect(ctx, cfg, Conn{}.dialer, cfg.SSLMode)
	if err != nil {
		t.Fatal(err)
	}
	defer closeQuietly(conn)
	pid := conn.PgConn().PID()

	qctx, qcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer qcancel()
	began := time.Now()
	_, err = conn.Exec(qctx, "SELECT pg_sleep(60)")
	if err == nil {
		t.Fatal("pg_sleep(60) returned without error")
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("the cancelled query returned after %s", d)
	}

	admin, err := connect(ctx, cfg, Conn{}.dialer, cfg.SSLMode)
	if err != nil {
		t.Fatal(err)
	}
	defer closeQuietly(admin)
	deadline := time.Now().Add(5 * time.Second)
	for {
		var running bool
		err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep(60)%' AND state = 'active')", pid).Scan(&running)
		if err != nil {
			t.Fatal(err)
		}
		if !running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the server still runs the cancelled query")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
