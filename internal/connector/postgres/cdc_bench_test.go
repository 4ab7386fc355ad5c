package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/postgres"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// cdcBenchChanges is how many changes the CDC benchmarks stream: 100,000
// inserts then 100,000 updates, in transactions of 1,000 rows.
const cdcBenchChanges = 200_000

// cdcBenchSource prepares a slot with cdcBenchChanges changes of a table
// like the full-load benchmark's behind it. Nothing confirms them, so every
// stream from the returned position replays all of them.
func cdcBenchSource(b *testing.B) (*testenv.PGServer, string, *postgres.Conn, *connector.CDCRequest, string) {
	b.Helper()
	pg := testenv.Postgres(b)
	db := pg.NewDatabase(b)
	pg.Exec(b, db, `CREATE TABLE cdcbench (id bigint PRIMARY KEY, a int, b int, name varchar(64), body text,
		amount numeric(12,2), at timestamptz, ok boolean, doc jsonb)`)
	c := open(b, pg, db, connector.RoleSource)
	req := cdcRequest("bench", sourceTable(b, c, "public", "cdcbench"))
	req.NoSnapshot = true
	_, pos, err := c.BeginCDC(testCtx(b), req)
	if err != nil {
		b.Fatal(err)
	}
	var stmts []string
	for lo := 1; lo <= cdcBenchChanges/2; lo += 1000 {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO cdcbench SELECT g, g %% 1000, g * 7, 'customer name ' || g,
			repeat(md5(g::text), 3) || 'tail', (g * 13 %% 100000) / 100.0,
			TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * interval '1 second', g %% 3 = 0, jsonb_build_object('k', g, 'tag', 'x')
			FROM generate_series(%d, %d) g`, lo, lo+999))
	}
	for lo := 1; lo <= cdcBenchChanges/2; lo += 1000 {
		stmts = append(stmts, fmt.Sprintf(`UPDATE cdcbench SET a = a + 1, name = name || 'u', amount = amount + 1,
			at = at + interval '1 day' WHERE id BETWEEN %d AND %d`, lo, lo+999))
	}
	pg.Exec(b, db, stmts...)
	return pg, db, c, req, pos
}

// BenchmarkCDCStream streams 200,000 changes (insert/update mix) through
// Stream, decoded into canonical values: changes/s end to end, the
// server's logical decoding included.
func BenchmarkCDCStream(b *testing.B) {
	_, _, c, req, pos := cdcBenchSource(b)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		ctx, cancel := context.WithCancel(testCtx(b))
		n := 0
		err := c.Stream(ctx, req, pos, func(tx *record.Transaction) error {
			n += len(tx.Changes)
			if n >= cdcBenchChanges {
				cancel()
			}
			return nil
		})
		cancel()
		if err != nil || n != cdcBenchChanges {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(b.N*cdcBenchChanges)/time.Since(start).Seconds(), "changes/s")
}

// BenchmarkCDCRawStream is the reference: the same slot's pgoutput stream
// read with pglogrepl, messages counted but not decoded.
func BenchmarkCDCRawStream(b *testing.B) {
	pg, db, _, req, pos := cdcBenchSource(b)
	from, err := pglogrepl.ParseLSN(pos)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		ctx := testCtx(b)
		conn, err := pgconn.Connect(ctx, pg.DSN(db)+"&replication=database")
		if err != nil {
			b.Fatal(err)
		}
		err = pglogrepl.StartReplication(ctx, conn, req.SlotName, from, pglogrepl.StartReplicationOptions{
			Mode: pglogrepl.LogicalReplication, PluginArgs: []string{"proto_version '1'", "publication_names 'bench'"}})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for n < cdcBenchChanges {
			msg, err := conn.ReceiveMessage(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			cd, ok := msg.(*pgproto3.CopyData)
			if !ok || len(cd.Data) < 26 || cd.Data[0] != pglogrepl.XLogDataByteID {
				continue
			}
			switch cd.Data[25] { // the pgoutput message type
			case 'I', 'U', 'D':
				n++
			}
		}
		conn.Close(context.Background())
		waitInactive(b, pg, db, req.SlotName)
	}
	b.ReportMetric(float64(b.N*cdcBenchChanges)/time.Since(start).Seconds(), "changes/s")
}

// waitInactive waits until no walsender holds slot.
func waitInactive(b *testing.B, pg *testenv.PGServer, db, slot string) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, active, _ := slotState(b, pg, db, slot); !active {
			return
		}
	}
	b.Fatal("the slot stays active")
}
