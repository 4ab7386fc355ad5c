package mysql_test

import (
	"testing"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/mysql"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

const benchRows = 200000

// benchTable creates the benchmark table: a bigint key, ints, a
// varchar(64), ~100 bytes of text, a decimal, a timestamp, a boolean and
// a JSON document per row.
func benchTable(b *testing.B) (*testenv.MySQLServer, *mysql.Conn, *record.Table) {
	my := testenv.MariaDB(b)
	db := my.NewDatabase(b)
	my.Exec(b, db, `CREATE TABLE bench (id bigint PRIMARY KEY, a int NOT NULL, b int, name varchar(64), body text,
		amount decimal(12,2), at timestamp(6) NULL, flag tinyint(1), doc json)`,
		`INSERT INTO bench SELECT seq, seq % 1000, seq * 7, CONCAT('name-', seq),
		CONCAT(REPEAT('lorem ipsum ', 8), seq), seq / 100, FROM_UNIXTIME(1700000000 + seq + 0.123456), seq % 2,
		JSON_OBJECT('k', seq, 'tags', JSON_ARRAY('a', 'b')) FROM seq_1_to_200000`)
	c := openConn(b, my, db, connector.RoleSource, nil)
	return my, c, findTable(b, c, db, "bench")
}

func BenchmarkRead(b *testing.B) {
	_, c, tb := benchTable(b)
	ctx := testCtx(b)
	snap, err := c.OpenSnapshot(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	defer snap.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		err := snap.Read(ctx, &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}}, func(rows []record.Row) error {
			n += len(rows)
			return nil
		})
		if err != nil || n != benchRows {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func benchLoad(b *testing.B, insert bool) {
	my, c, tb := benchTable(b)
	var rows []record.Row
	for _, r := range readAll(b, c, &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}}) {
		rows = append(rows, r)
	}
	dst := my.NewDatabase(b)
	target := openConn(b, my, "", connector.RoleTarget, nil)
	if insert {
		mysql.DisableLocalInfile(target)
	}
	out := *tb
	out.Schema = dst
	ctx := testCtx(b)
	if err := target.PrepareTable(ctx, &out, connector.PrepDropAndCreate, false); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := target.PrepareTable(ctx, &out, connector.PrepTruncate, false); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(rows); i += benchBatch { // CommitRate
			if err := target.Load(ctx, &out, rows[i:min(i+benchBatch, len(rows))]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkLoadData(b *testing.B)   { benchLoad(b, false) }
func BenchmarkLoadInsert(b *testing.B) { benchLoad(b, true) }

var benchBatch = 10000
