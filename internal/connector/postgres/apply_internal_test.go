package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/testenv"
)

// The built-in array types apply sends are the server's.
func TestApplyArrayOIDs(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, pg.DSN(pg.NewDatabase(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for elem, arr := range pgArrayOIDs {
		var got uint32
		if err := conn.QueryRow(ctx, "SELECT typarray FROM pg_catalog.pg_type WHERE oid = $1", elem).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != arr {
			t.Errorf("type %d: array type %d, want %d", elem, got, arr)
		}
	}
}
