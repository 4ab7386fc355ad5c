package postgres_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/postgres"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// benchRows is the size of the benchmark table.
const benchRows = 200_000

// benchTable is a source database holding the benchmark table: a bigint
// key, integers, a varchar(64), ~100 bytes of text, a numeric, a
// timestamptz, a boolean and a jsonb.
func benchTable(b *testing.B) (*testenv.PGServer, string, *postgres.Conn, *record.Table) {
	b.Helper()
	pg := testenv.Postgres(b)
	db := pg.NewDatabase(b)
	pg.Exec(b, db, `CREATE TABLE bench (id bigint PRIMARY KEY, a int, b int, name varchar(64), body text,
			amount numeric(12,2), at timestamptz, ok boolean, doc jsonb)`,
		`INSERT INTO bench SELECT g, g % 1000, g * 7, 'customer name ' || g, repeat(md5(g::text), 3) || 'tail',
			(g * 13 % 100000) / 100.0, TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * interval '1 second', g % 3 = 0,
			jsonb_build_object('k', g, 'tag', 'x')
			FROM generate_series(1, 200000) g`, `VACUUM ANALYZE bench`)
	c := open(b, pg, db, connector.RoleSource)
	tables, err := c.Tables(testCtx(b))
	if err != nil {
		b.Fatal(err)
	}
	return pg, db, c, tableNamed(b, tables, "public", "bench")
}

// BenchmarkRawCopyOut is the reference: the same query's binary COPY (in
// key order, as the engine reads) piped to nowhere, without decoding.
func BenchmarkRawCopyOut(b *testing.B) {
	pg, db, _, _ := benchTable(b)
	conn, err := pgx.Connect(testCtx(b), pg.DSN(db))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := conn.PgConn().CopyTo(testCtx(b), io.Discard, "COPY (SELECT * FROM bench ORDER BY id) TO STDOUT (FORMAT binary)"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchRows)/time.Since(start).Seconds(), "rows/s")
}

func BenchmarkRead(b *testing.B) {
	_, _, c, tb := benchTable(b)
	snap, err := c.OpenSnapshot(testCtx(b), 1)
	if err != nil {
		b.Fatal(err)
	}
	defer snap.Close()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		n := 0
		err := snap.Read(testCtx(b), &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}, BatchRows: 10000}, func(rows []record.Row) error {
			n += len(rows)
			return nil
		})
		if err != nil || n != benchRows {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(b.N*benchRows)/time.Since(start).Seconds(), "rows/s")
}

// benchLoadRows reads the benchmark table into memory (batches of 10000,
// the default CommitRate).
func benchLoadRows(b *testing.B) (*testenv.PGServer, *record.Table, [][]record.Row) {
	pg, _, c, tb := benchTable(b)
	snap, err := c.OpenSnapshot(testCtx(b), 1)
	if err != nil {
		b.Fatal(err)
	}
	defer snap.Close()
	var batches [][]record.Row
	err = snap.Read(testCtx(b), &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}, BatchRows: 10000}, func(rows []record.Row) error {
		batch := make([]record.Row, len(rows))
		for i, r := range rows {
			batch[i] = append(record.Row(nil), r...)
		}
		batches = append(batches, batch)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return pg, tb, batches
}

func BenchmarkLoad(b *testing.B) {
	pg, tb, batches := benchLoadRows(b)
	dst := open(b, pg, pg.NewDatabase(b), connector.RoleTarget)
	ctx := testCtx(b)
	b.ReportAllocs()
	b.ResetTimer()
	var spent time.Duration
	for range b.N {
		b.StopTimer()
		if err := dst.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for _, batch := range batches {
			if err := dst.Load(ctx, tb, batch); err != nil {
				b.Fatal(err)
			}
		}
		spent += time.Since(start)
	}
	b.ReportMetric(float64(b.N*benchRows)/spent.Seconds(), "rows/s")
}

// BenchmarkLoadPgxCopyFrom loads the same rows with pgx's own CopyFrom
// (its type map encodes the values), for comparison.
func BenchmarkLoadPgxCopyFrom(b *testing.B) {
	pg, tb, batches := benchLoadRows(b)
	db := pg.NewDatabase(b)
	dst := open(b, pg, db, connector.RoleTarget)
	conn, err := pgx.Connect(testCtx(b), pg.DSN(db))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	ctx := testCtx(b)
	cols := make([]string, len(tb.Columns))
	for i, c := range tb.Columns {
		cols[i] = c.Name
	}
	b.ReportAllocs()
	b.ResetTimer()
	var spent time.Duration
	for range b.N {
		b.StopTimer()
		if err := dst.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for _, batch := range batches {
			rows := make([][]any, len(batch))
			for i, r := range batch {
				rows[i] = r
			}
			if _, err := conn.CopyFrom(ctx, pgx.Identifier{tb.Schema, tb.Name}, cols, pgx.CopyFromRows(rows)); err != nil {
				b.Fatal(err)
			}
		}
		spent += time.Since(start)
	}
	b.ReportMetric(float64(b.N*benchRows)/spent.Seconds(), "rows/s")
}
