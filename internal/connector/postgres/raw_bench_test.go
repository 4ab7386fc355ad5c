package postgres_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/postgres"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// copyBench is docs/performance.md's table t (lib.sh's DDL and values)
// with benchRows rows in a source database, and an empty target database.
type copyBench struct {
	pg         *testenv.PGServer
	srcDB      string
	src, dst   *postgres.Conn
	table      *record.Table
	streamSize int64
}

func newCopyBench(b *testing.B) *copyBench {
	b.Helper()
	pg := testenv.Postgres(b)
	srcDB, dstDB := pg.NewDatabase(b), pg.NewDatabase(b)
	pg.Exec(b, srcDB, `CREATE TABLE t (id bigint NOT NULL, account_id integer NOT NULL, qty integer NOT NULL,
			version bigint NOT NULL, code varchar(64) NOT NULL, note text, amount numeric(14,2),
			created_at timestamptz NOT NULL, active boolean NOT NULL, attrs jsonb, PRIMARY KEY (id))`,
		fmt.Sprintf(`INSERT INTO t SELECT g, (g * 7919) %% 100000, g %% 1000, g * 31, 'C-' || md5(g::text),
			substr(repeat(md5((g * 3)::text), 4), 1, 100), ((g * 104729) %% 100000000) / 100.0,
			timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', g %% 3 = 0,
			jsonb_build_object('k', g, 'tag', 'tag' || (g %% 100), 'flags', jsonb_build_array(g %% 7, g %% 11), 'ok', g %% 2 = 0)
			FROM generate_series(1::bigint, %d) g`, benchRows),
		`VACUUM (FREEZE, ANALYZE) t`)
	cb := &copyBench{pg: pg, srcDB: srcDB, src: open(b, pg, srcDB, connector.RoleSource), dst: open(b, pg, dstDB, connector.RoleTarget)}
	cb.table = sourceTable(b, cb.src, "public", "t")
	conn := client(b, pg, srcDB)
	tag, err := conn.PgConn().CopyTo(testCtx(b), io.Discard, "COPY t TO STDOUT (FORMAT binary)")
	if err != nil || tag.RowsAffected() != benchRows {
		b.Fatal(tag, err)
	}
	var cw countWriter
	if _, err := conn.PgConn().CopyTo(testCtx(b), &cw, "COPY t TO STDOUT (FORMAT binary)"); err != nil {
		b.Fatal(err)
	}
	cb.streamSize = int64(cw)
	return cb
}

type countWriter int64

func (w *countWriter) Write(p []byte) (int, error) { *w += countWriter(len(p)); return len(p), nil }

// run times copy b.N times into a freshly created target table (with its
// primary key) and reports rows/s, MB/s of the binary COPY stream, and
// the CPU time per row of this process and of the server.
func (cb *copyBench) run(b *testing.B, copy func(ctx context.Context, snap connector.Snapshot) error) {
	ctx := testCtx(b)
	check := client(b, cb.pg, cb.dst.Config().Database)
	b.ReportAllocs()
	b.ResetTimer()
	var spent, cpu, server time.Duration
	for range b.N {
		b.StopTimer()
		if err := cb.dst.PrepareTable(ctx, cb.table, connector.PrepDropAndCreate, false); err != nil {
			b.Fatal(err)
		}
		snap, err := cb.src.OpenSnapshot(ctx, 1)
		if err != nil {
			b.Fatal(err)
		}
		startServer := serverCPU(cb.pg.DataDir)
		b.StartTimer()
		start, startCPU := time.Now(), processCPU()
		if err := copy(ctx, snap); err != nil {
			b.Fatal(err)
		}
		cpu += processCPU() - startCPU
		spent += time.Since(start)
		b.StopTimer()
		server += serverCPU(cb.pg.DataDir) - startServer
		snap.Close()
		var n int
		if err := check.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != benchRows {
			b.Fatalf("%d rows on the target: %v", n, err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*benchRows)/spent.Seconds(), "rows/s")
	b.ReportMetric(float64(int64(b.N)*cb.streamSize)/spent.Seconds()/1e6, "MB/s")
	// This process's CPU (the client side: Godwit's share of the work).
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*benchRows), "client-cpu-ns/row")
	// The server's CPU (source and target backends share the one server).
	b.ReportMetric(float64(server.Nanoseconds())/float64(b.N*benchRows), "server-cpu-ns/row")
}

// BenchmarkRawCopy: ReadRaw → LoadRaw, batches of 10,000 rows (the default
// CommitRate), the reader one batch ahead of the loader as in the engine.
func BenchmarkRawCopy(b *testing.B) {
	cb := newCopyBench(b)
	req := &connector.ReadRequest{Table: cb.table, OrderBy: []string{"id"}, BatchRows: 10000}
	cb.run(b, func(ctx context.Context, snap connector.Snapshot) error {
		ch := make(chan *connector.RawBatch, 1)
		errc := make(chan error, 1)
		go func() {
			defer close(ch)
			errc <- snap.(connector.RawSnapshot).ReadRaw(ctx, req, func(rb *connector.RawBatch) error {
				ch <- rb
				return nil
			})
		}()
		for rb := range ch {
			if err := cb.dst.LoadRaw(ctx, cb.table, rb); err != nil {
				return err
			}
		}
		return <-errc
	})
}

// BenchmarkReadLoad: Read → Load, the same batches and pipeline, each
// batch's rows copied into rows of their own (the engine's transform does
// at least that, since Read reuses its rows).
func BenchmarkReadLoad(b *testing.B) {
	cb := newCopyBench(b)
	req := &connector.ReadRequest{Table: cb.table, OrderBy: []string{"id"}, BatchRows: 10000}
	width := len(cb.table.Columns)
	cb.run(b, func(ctx context.Context, snap connector.Snapshot) error {
		ch := make(chan []record.Row, 1)
		errc := make(chan error, 1)
		go func() {
			defer close(ch)
			errc <- snap.Read(ctx, req, func(rows []record.Row) error {
				backing := make([]any, len(rows)*width)
				out := make([]record.Row, len(rows))
				for i, r := range rows {
					out[i] = backing[i*width : (i+1)*width : (i+1)*width]
					copy(out[i], r)
				}
				ch <- out
				return nil
			})
		}()
		for rows := range ch {
			if err := cb.dst.Load(ctx, cb.table, rows); err != nil {
				return err
			}
		}
		return <-errc
	})
}

// BenchmarkRawCopyPipe is the anchor of docs/performance.md in this
// process: COPY t TO STDOUT (FORMAT binary) piped into COPY t FROM STDIN
// (FORMAT binary), one statement each, as psql | psql does.
func BenchmarkRawCopyPipe(b *testing.B) {
	cb := newCopyBench(b)
	srcConn := client(b, cb.pg, cb.srcDB)
	dstConn := client(b, cb.pg, cb.dst.Config().Database)
	cb.run(b, func(ctx context.Context, _ connector.Snapshot) error {
		r, w := io.Pipe()
		errc := make(chan error, 1)
		go func() {
			// psql buffers its output too: one pipe write per row would
			// make one CopyData message and one send per row.
			bw := bufio.NewWriterSize(w, 64<<10)
			_, err := srcConn.PgConn().CopyTo(ctx, bw, "COPY t TO STDOUT (FORMAT binary)")
			if err == nil {
				err = bw.Flush()
			}
			w.CloseWithError(err)
			errc <- err
		}()
		_, err := dstConn.PgConn().CopyFrom(ctx, r, "COPY t FROM STDIN (FORMAT binary)")
		r.Close()
		if err2 := <-errc; err == nil {
			err = err2
		}
		return err
	})
}
