package mysql_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/mysql"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// cdcStream runs Stream in the background and collects the transactions
// that have changes (empty ones only carry the position forward).
type cdcStream struct {
	txs    chan *record.Transaction
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

func startCDC(t testing.TB, c *mysql.Conn, req *connector.CDCRequest, from string) *cdcStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &cdcStream{txs: make(chan *record.Transaction, 100000), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.err = c.Stream(ctx, req, from, func(tx *record.Transaction) error {
			if len(tx.Changes) == 0 {
				return nil
			}
			select {
			case s.txs <- tx:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	t.Cleanup(func() { s.stop() })
	return s
}

// stop cancels the stream and returns its error.
func (s *cdcStream) stop() error {
	s.cancel()
	<-s.done
	return s.err
}

// next waits for the next transaction with changes.
func (s *cdcStream) next(t testing.TB) *record.Transaction {
	t.Helper()
	select {
	case tx := <-s.txs:
		return tx
	case <-s.done:
		t.Fatalf("the stream ended: %v", s.err)
	case <-time.After(30 * time.Second):
		t.Fatal("no transaction within 30s")
	}
	return nil
}

// none checks that no transaction arrives for a moment.
func (s *cdcStream) none(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case tx := <-s.txs:
		t.Fatalf("unexpected transaction %s: %v", tx.ID, describe(tx))
	case <-s.done:
		t.Fatalf("the stream ended: %v", s.err)
	case <-time.After(d):
	}
}

func describe(tx *record.Transaction) string {
	var b strings.Builder
	for _, c := range tx.Changes {
		fmt.Fprintf(&b, "%s %s before=%v after=%v; ", c.Op, c.Table.Name, c.Before, c.After)
	}
	return b.String()
}

// beginCDC returns the current position (no snapshot).
func beginCDC(t testing.TB, c *mysql.Conn, tables ...*record.Table) (*connector.CDCRequest, string) {
	t.Helper()
	req := &connector.CDCRequest{Tables: tables, NoSnapshot: true}
	snap, pos, err := c.BeginCDC(testCtx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if snap != nil {
		t.Fatal("BeginCDC with NoSnapshot returned a snapshot")
	}
	return req, pos
}

// sameRow compares a captured row with a row the full-load Read gives,
// value by value, type included.
func sameRow(t testing.TB, what string, tb *record.Table, got, want record.Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i, col := range tb.Columns {
		if !valuesEqual(got[i], want[i]) {
			t.Errorf("%s: column %s = %#v (%T), Read gives %#v (%T)", what, col.Name, got[i], got[i], want[i], want[i])
		}
	}
}

func readTable(t testing.TB, c *mysql.Conn, tb *record.Table) []record.Row {
	t.Helper()
	return readAll(t, c, &connector.ReadRequest{Table: tb, OrderBy: tb.PrimaryKey})
}

// checkChanges checks the changes of tx: ops, and before/after images
// against rows read with Read (nil: the image must be nil).
func checkChanges(t testing.TB, tx *record.Transaction, tb *record.Table, op record.ChangeOp, before, after []record.Row) {
	t.Helper()
	n := max(len(before), len(after))
	if len(tx.Changes) != n {
		t.Fatalf("transaction %s has %d changes, want %d: %s", tx.ID, len(tx.Changes), n, describe(tx))
	}
	for i, c := range tx.Changes {
		if c.Op != op || c.Table != tb {
			t.Fatalf("change %d: %s on %v, want %s on %s", i, c.Op, c.Table, op, tb.Name)
		}
		if before == nil {
			if c.Before != nil {
				t.Errorf("change %d: before image %v, want none", i, c.Before)
			}
		} else {
			if !c.BeforeFull {
				t.Errorf("change %d: BeforeFull is false with binlog_row_image = FULL", i)
			}
			sameRow(t, fmt.Sprintf("%s %d before", op, i), tb, c.Before, before[i])
		}
		if after == nil {
			if c.After != nil {
				t.Errorf("change %d: after image %v, want none", i, c.After)
			}
		} else {
			sameRow(t, fmt.Sprintf("%s %d after", op, i), tb, c.After, after[i])
		}
	}
}

// setColumns is "a.c = <expr>, ..." for every column but id.
func setColumns(tb *record.Table, expr func(col string) string) string {
	var parts []string
	for _, col := range tb.Columns {
		if col.Name != "id" {
			parts = append(parts, fmt.Sprintf("a.`%s` = %s", col.Name, expr(col.Name)))
		}
	}
	return strings.Join(parts, ", ")
}

// checkRoundTrip inserts rows into table name, then updates them (values
// to NULL, NULL to values, the primary key), deletes them and truncates
// the table, checking that every captured image equals what Read gives.
func checkRoundTrip(t *testing.T, my *testenv.MySQLServer, db string, c *mysql.Conn, name, insert string, ids []int) {
	tb := findTable(t, c, db, name)
	req, pos := beginCDC(t, c, tb)
	s := startCDC(t, c, req, pos)

	my.Exec(t, db, insert)
	inserted := readTable(t, c, tb)
	checkChanges(t, s.next(t), tb, record.OpInsert, nil, inserted)

	// Values to NULL, and NULL to values, in one transaction each.
	first, nullRow, last := ids[0], ids[1], ids[len(ids)-1]
	my.Exec(t, db, fmt.Sprintf("UPDATE `%s` a SET %s WHERE a.id = %d", name, setColumns(tb, func(string) string { return "NULL" }), first))
	my.Exec(t, db, fmt.Sprintf("UPDATE `%s` a JOIN `%s` b ON b.id = %d SET %s WHERE a.id = %d", name, name, last,
		setColumns(tb, func(col string) string { return "b.`" + col + "`" }), nullRow))
	updated := readTable(t, c, tb)
	// Rows are read in id order; ids run from 1 without gaps.
	checkChanges(t, s.next(t), tb, record.OpUpdate, inserted[first-1:first], updated[first-1:first])
	checkChanges(t, s.next(t), tb, record.OpUpdate, inserted[nullRow-1:nullRow], updated[nullRow-1:nullRow])

	// A primary key update.
	my.Exec(t, db, fmt.Sprintf("UPDATE `%s` SET id = 1000 WHERE id = %d", name, last))
	moved := readTable(t, c, tb)
	checkChanges(t, s.next(t), tb, record.OpUpdate, updated[last-1:last], moved[len(moved)-1:])

	my.Exec(t, db, "DELETE FROM `"+name+"`")
	checkChanges(t, s.next(t), tb, record.OpDelete, moved, nil)

	my.Exec(t, db, "INSERT INTO `"+name+"` (id) VALUES (1)", "TRUNCATE TABLE `"+name+"`")
	s.next(t) // the insert
	tx := s.next(t)
	if len(tx.Changes) != 1 || tx.Changes[0].Op != record.OpTruncate || tx.Changes[0].Table != tb ||
		tx.Changes[0].Before != nil || tx.Changes[0].After != nil {
		t.Fatalf("TRUNCATE: %s", describe(tx))
	}
}

func TestCDCTypes(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, allTypesDDL)
	c := openConn(t, my, db, connector.RoleSource, nil)
	checkRoundTrip(t, my, db, c, "alltypes", allTypesRows, []int{1, 2, 3})
}

// TestCDCTypesUnsignedEnumSetJSON names the values the round trip checks
// only against Read: unsigned bigint max, enum and set labels, JSON text.
func TestCDCTypesUnsignedEnumSetJSON(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, `CREATE TABLE v (id int PRIMARY KEY, bu bigint unsigned, e enum('a','b''c','ü'), st set('x','y','z'), j json)`)
	c := openConn(t, my, db, connector.RoleSource, nil)
	tb := findTable(t, c, db, "v")
	req, pos := beginCDC(t, c, tb)
	s := startCDC(t, c, req, pos)
	my.Exec(t, db, `INSERT INTO v VALUES (1, 18446744073709551615, 'ü', 'x,z', '{"k": [1, 2.5, "s", null, true]}'), (2, 0, 'a', '', '[]')`)
	tx := s.next(t)
	want := []record.Row{
		{int64(1), uint64(math.MaxUint64), "ü", "x,z", `{"k": [1, 2.5, "s", null, true]}`},
		{int64(2), uint64(0), "a", "", "[]"},
	}
	for i, w := range want {
		sameRow(t, fmt.Sprint("row ", i), tb, tx.Changes[i].After, w)
	}
}

// moreTypesDDL has the types and values allTypesDDL leaves out: other
// character sets, padded binary, decimal shapes, negative fractional
// times, wide bit/enum/set, MariaDB's inet4/inet6 and non-v1 UUIDs.
func moreTypesDDL() string {
	labels := make([]string, 300)
	for i := range labels {
		labels[i] = fmt.Sprintf("'l%d'", i+1)
	}
	return `CREATE TABLE more (
		id int PRIMARY KEY,
		l1 varchar(20) CHARACTER SET latin1, u16 varchar(20) CHARACTER SET utf16, gb varchar(20) CHARACTER SET gbk,
		lt text CHARACTER SET latin1, c10 char(10), bn8 binary(8), vb varbinary(300),
		d55 decimal(5,5), d100 decimal(10,0), dbig decimal(65,30), d42 decimal(4,2), d91 decimal(19,1),
		t0 time, t1 time(1), t3 time(3), t5 time(5), dt2 datetime(2), dt4 datetime(4), ts0 timestamp NULL DEFAULT NULL,
		ts6 timestamp(6) NULL DEFAULT NULL, d date,
		b64 bit(64), b9 bit(9), s10 set('a','b','c','d','e','f','g','h','i','j'),
		e300 enum(` + strings.Join(labels, ",") + `),
		y year, i4 inet4, i6 inet6, u uuid, f float, dd double, mu mediumint unsigned, si smallint,
		tiny tinyint unsigned, lj longtext CHECK (json_valid(lj)), ch255 char(255), vc300 varchar(300)
	)`
}

const moreTypesRows = `INSERT INTO more VALUES
(1, 'café €', 'héllo 😀', '中文', 'è', 'ab', x'0102', x'00',
 0.12345, -1234567890, '12345678901234567890123456789012345.123456789012345678901234567891', -0.05, 123456789012345678.9,
 '838:59:59', '-00:00:01.5', '-12:34:56.789', '00:00:00.00001', '2000-01-01 00:00:00.01', '1000-01-01 00:00:00.0001',
 '2038-01-19 03:14:07', '2038-01-19 03:14:07.999999', '1000-01-01',
 x'FFFFFFFFFFFFFFFF', b'100000001', 'a,j', 'l300',
 2155, '192.168.0.1', '::ffff:1.2.3.4', 'f47ac10b-58cc-4372-a567-0e02b2c3d479', -0.0, 1e-300, 16777215, -32768,
 255, '{"a": 1}', REPEAT('x', 255), REPEAT('é', 300)),
(2, 'x', '', '', '', ' a ', x'0000000000000001', x'',
 -0.00001, 0, -0.000000000000000000000000000001, 0.00, -0.1,
 '-838:59:59', '00:00:00.1', '00:00:00.001', '-00:00:00.00001', '9999-12-31 23:59:59.99', '2024-02-29 12:00:00.5',
 '1970-01-01 00:00:01', '1970-01-01 00:00:01.000001', '9999-12-31',
 x'0000000000000000', b'000000001', '', 'l1',
 0, '0.0.0.0', '2001:db8::1', '00000000-0000-0000-0000-000000000001', 3.5, -2.2250738585072014e-308, 0, 0,
 0, '[]', '', ''),
(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL,
 NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL),
(4, 'ÿ', 'a', 'b', 'c', 'abcdefghij', x'FF00FF0000000000', x'FF',
 0.5, 9999999999, 1, 99.99, 0,
 '-00:00:00', '-838:59:58.9', '00:00:00', '00:00:00', '0000-00-00 00:00:00', '2024-00-01 00:00:00',
 NULL, NULL, '2024-02-00',
 x'0000000000000001', b'0', 'j', 'l2',
 1901, '255.255.255.255', '::', '6ccd780c-baba-1026-9564-5b8c656024db', 1, 0, 1, 1,
 1, '"s"', 'z', 'w'),
(5, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL,
 NULL, NULL, NULL, NULL,
 NULL, '1.2.3.4', '::1.2.3.4', NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL),
(6, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL,
 NULL, NULL, NULL, NULL,
 NULL, NULL, '1:0:0:2:0:0:0:3', NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL),
(7, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL,
 NULL, NULL, NULL, NULL,
 NULL, NULL, '1::', NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL)`

func TestCDCMoreTypes(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "SET SESSION sql_mode = ''", moreTypesDDL())
	c := openConn(t, my, db, connector.RoleSource, nil)
	// Zero dates need a permissive sql_mode in the writing session.
	checkRoundTrip(t, my, db, c, "more", "SET SESSION sql_mode = 'ALLOW_INVALID_DATES'; "+moreTypesRows, []int{1, 3, 4})
}

// The snapshot and the stream from BeginCDC's position together see every
// row of a table written to all along exactly once.
func TestCDCSnapshotNoGapNoOverlap(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY, v int)", "CREATE TABLE other (id int PRIMARY KEY)")
	c := openConn(t, my, db, connector.RoleSource, nil)
	tb := findTable(t, c, db, "t")
	writer := clientDB(t, my, db)

	var wg sync.WaitGroup
	ctx := testCtx(t)
	started, stop := make(chan struct{}), make(chan struct{})
	var total int64
	wg.Go(func() {
		for i := int64(1); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var err error
			if i%10 == 0 { // some multi-statement transactions, some other tables
				err = func() error {
					tx, err := writer.BeginTx(ctx, nil)
					if err != nil {
						return err
					}
					defer tx.Rollback()
					if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (?, 0)", i); err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, "INSERT INTO other VALUES (?)", i); err != nil {
						return err
					}
					return tx.Commit()
				}()
			} else {
				_, err = writer.ExecContext(ctx, "INSERT INTO t VALUES (?, 0)", i)
			}
			if err != nil {
				t.Error(err)
				return
			}
			total = i
			if i == 500 {
				close(started)
			}
		}
	})
	<-started
	req := &connector.CDCRequest{Tables: []*record.Table{tb}, Sessions: 2}
	snap, pos, err := c.BeginCDC(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]string{}
	var mu sync.Mutex
	err = snap.Read(ctx, &connector.ReadRequest{Table: tb, Columns: []string{"id"}}, func(rows []record.Row) error {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range rows {
			seen[r[0].(int64)] = "snapshot"
		}
		return nil
	})
	snap.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) < 500 {
		t.Fatalf("the snapshot has %d rows: it should hold the first 500 at least", len(seen))
	}
	t.Logf("snapshot at %s holds %d rows", pos, len(seen))

	s := startCDC(t, c, req, pos)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("%d rows written", total)
	for int64(len(seen)) < total {
		tx := s.next(t)
		for _, ch := range tx.Changes {
			if ch.Op != record.OpInsert || ch.Table != tb {
				t.Fatalf("unexpected change %s", describe(tx))
			}
			id := ch.After[0].(int64)
			if where, dup := seen[id]; dup {
				t.Fatalf("row %d seen twice (%s, then in transaction %s at %s)", id, where, tx.ID, tx.Position)
			}
			seen[id] = tx.Position
		}
	}
	s.none(t, 300*time.Millisecond)
	for i := int64(1); i <= total; i++ {
		if _, ok := seen[i]; !ok {
			t.Fatalf("row %d never seen", i)
		}
	}
}

func TestCDCTransactions(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY, v varchar(10))", "CREATE TABLE other (id int PRIMARY KEY)",
		"INSERT INTO t VALUES (1, 'one')")
	c := openConn(t, my, db, connector.RoleSource, nil)
	tb := findTable(t, c, db, "t")
	req, pos := beginCDC(t, c, tb)
	s := startCDC(t, c, req, pos)

	before := time.Now().Add(-2 * time.Second)
	my.Exec(t, db, "BEGIN", "INSERT INTO t VALUES (2, 'two')", "INSERT INTO other VALUES (1)",
		"UPDATE t SET v = 'uno' WHERE id = 1", "DELETE FROM t WHERE id = 2", "COMMIT")
	tx := s.next(t)
	ops := ""
	for _, ch := range tx.Changes {
		ops += ch.Op.String()
	}
	if ops != "IUD" {
		t.Fatalf("transaction changes %q (%s), want I, U, D of t only", ops, describe(tx))
	}
	if !regexp.MustCompile(`^\d+-\d+-\d+$`).MatchString(tx.ID) {
		t.Errorf("ID %q is not a MariaDB GTID", tx.ID)
	}
	if tx.CommitTime.Before(before) || tx.CommitTime.After(time.Now().Add(2*time.Second)) || tx.CommitTime.Location() != time.UTC {
		t.Errorf("CommitTime %v", tx.CommitTime)
	}
	if cmp, err := c.ComparePositions(pos, tx.Position); err != nil || cmp != -1 {
		t.Errorf("ComparePositions(%s, %s) = %d, %v", pos, tx.Position, cmp, err)
	}

	// A rolled-back transaction never arrives.
	my.Exec(t, db, "BEGIN", "INSERT INTO t VALUES (100, 'gone')", "UPDATE t SET v = 'gone' WHERE id = 1", "ROLLBACK",
		"INSERT INTO t VALUES (101, 'kept')")
	tx = s.next(t)
	if len(tx.Changes) != 1 || tx.Changes[0].After[0] != int64(101) {
		t.Fatalf("after a rollback: %s", describe(tx))
	}
	s.none(t, 200*time.Millisecond)
}

// Resuming from a delivered transaction's Position delivers what follows
// it and nothing before.
func TestCDCResume(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY)")
	c := openConn(t, my, db, connector.RoleSource, nil)
	tb := findTable(t, c, db, "t")
	req, pos := beginCDC(t, c, tb)
	s := startCDC(t, c, req, pos)
	for i := 1; i <= 5; i++ {
		my.Exec(t, db, fmt.Sprintf("INSERT INTO t VALUES (%d)", i))
	}
	var txs []*record.Transaction
	for range 5 {
		txs = append(txs, s.next(t))
	}
	if err := s.stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stream after cancel: %v", err)
	}
	for i := range 4 {
		if cmp, _ := c.ComparePositions(txs[i].Position, txs[i+1].Position); cmp != -1 {
			t.Fatalf("positions out of order: %s, %s", txs[i].Position, txs[i+1].Position)
		}
	}

	r := startCDC(t, c, req, txs[2].Position)
	for _, want := range []int64{4, 5} {
		tx := r.next(t)
		if len(tx.Changes) != 1 || tx.Changes[0].After[0] != want || tx.ID != txs[want-1].ID || tx.Position != txs[want-1].Position {
			t.Fatalf("resumed at %s: got %s (%s at %s), want row %d", txs[2].Position, describe(tx), tx.ID, tx.Position, want)
		}
	}
	r.none(t, 200*time.Millisecond)
}

// A rotation of the binary log (FLUSH BINARY LOGS) mid-stream is followed,
// also when resuming from a position in the previous file.
func TestCDCRotation(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY)")
	c := openConn(t, my, db, connector.RoleSource, nil)
	tb := findTable(t, c, db, "t")
	req, pos := beginCDC(t, c, tb)
	s := startCDC(t, c, req, pos)
	my.Exec(t, db, "INSERT INTO t VALUES (1)", "FLUSH BINARY LOGS", "INSERT INTO t VALUES (2)")
	tx1, tx2 := s.next(t), s.next(t)
	if tx2.Changes[0].After[0] != int64(2) {
		t.Fatalf("after the rotation: %s", describe(tx2))
	}
	file := func(p string) string { return p[:strings.LastIndexByte(p, ':')] }
	if file(tx1.Position) == file(tx2.Position) {
		t.Errorf("positions %s and %s are in the same file across FLUSH BINARY LOGS", tx1.Position, tx2.Position)
	}
	if cmp, err := c.ComparePositions(tx1.Position, tx2.Position); err != nil || cmp != -1 {
		t.Errorf("ComparePositions(%s, %s) = %d, %v", tx1.Position, tx2.Position, cmp, err)
	}
	r := startCDC(t, c, req, tx1.Position)
	if tx := r.next(t); tx.Position != tx2.Position {
		t.Errorf("resumed from %s: %s at %s, want %s", tx1.Position, describe(tx), tx.Position, tx2.Position)
	}
}

func TestCDCCancel(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY)")
	c := openConn(t, my, db, connector.RoleSource, nil)
	tb := findTable(t, c, db, "t")
	req, pos := beginCDC(t, c, tb)

	// Waiting for events.
	s := startCDC(t, c, req, pos)
	time.Sleep(300 * time.Millisecond)
	began := time.Now()
	if err := s.stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stream = %v, want context.Canceled", err)
	}
	if d := time.Since(began); d > time.Second {
		t.Errorf("Stream returned %s after cancel", d)
	}

	// Blocked in fn.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- c.Stream(ctx, req, pos, func(*record.Transaction) error {
			<-ctx.Done()
			return ctx.Err()
		})
	}()
	my.Exec(t, db, "INSERT INTO t VALUES (1)")
	time.Sleep(300 * time.Millisecond)
	began = time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Stream = %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Stream did not return after cancel")
	}
	if d := time.Since(began); d > time.Second {
		t.Errorf("Stream returned %s after cancel", d)
	}
}

// The binary log can be read over TLS (verify-full) by a MariaDB user
// authenticating with ed25519.
func TestCDCTLSEd25519(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	admin := clientDB(t, my, "")
	if _, err := admin.ExecContext(testCtx(t), "INSTALL SONAME 'auth_ed25519'"); err != nil && !strings.Contains(err.Error(), "already") {
		t.Skipf("no ed25519 authentication plugin: %v", err)
	}
	user, password := fmt.Sprintf("cdc_%d", time.Now().UnixNano()%1e9), "Ed-25519-pass"
	my.Exec(t, "", fmt.Sprintf("CREATE USER '%s'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('%s') REQUIRE SSL", user, password),
		fmt.Sprintf("GRANT SELECT, RELOAD, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '%s'@'127.0.0.1'", user))
	t.Cleanup(func() { admin.Exec(fmt.Sprintf("DROP USER '%s'@'127.0.0.1'", user)) })
	my.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY)")
	ep := connector.Endpoint{Engine: "mariadb", Role: connector.RoleSource, Host: my.Host, Port: my.Port, Database: db,
		Username: user, Password: password, SSLMode: "verify-full", CACertPEM: my.CACertPEM}
	conn, err := mysql.New(ep)
	if err != nil {
		t.Fatal(err)
	}
	c := conn.(*mysql.Conn)
	t.Cleanup(func() { c.Close() })
	tb := findTable(t, openConn(t, my, db, connector.RoleSource, nil), db, "t")
	req, pos := beginCDC(t, c, tb)
	s := startCDC(t, c, req, pos)
	my.Exec(t, db, "INSERT INTO t VALUES (7)")
	if tx := s.next(t); tx.Changes[0].After[0] != int64(7) {
		t.Fatalf("got %s", describe(tx))
	}

	// A wrong password is a refusal, not a lost connection.
	ep.Password = "wrong"
	bad, _ := mysql.New(ep)
	defer bad.Close()
	err = bad.(*mysql.Conn).Stream(testCtx(t), req, pos, func(*record.Transaction) error { return nil })
	if err == nil || errors.Is(err, connector.ErrConnectionLost) || !strings.Contains(err.Error(), "1045") {
		t.Fatalf("Stream with a wrong password: %v", err)
	}
}

func TestCDCPositions(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	c := openConn(t, my, db, connector.RoleSource, nil)
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"binlog.000001:4", "binlog.000001:4", 0},
		{"binlog.000001:1234", "binlog.000001:999", 1},
		{"binlog.000002:4", "binlog.000001:999999", 1},
		{"mysql-bin.000009:100", "mysql-bin.000010:4", -1},
		{"host-bin.999999:4", "host-bin.1000000:4", -1},
	} {
		if got, err := c.ComparePositions(tc.a, tc.b); err != nil || got != tc.want {
			t.Errorf("ComparePositions(%s, %s) = %d, %v; want %d", tc.a, tc.b, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "binlog.000001", "gtid:0-1-5", "binlog.000001:x", "binlog:4"} {
		if _, err := c.ComparePositions(bad, "binlog.000001:4"); err == nil {
			t.Errorf("ComparePositions(%q) accepted", bad)
		}
	}
	p1, err := c.CurrentPosition(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	my.Exec(t, db, "CREATE TABLE t (id int)", "INSERT INTO t VALUES (1)")
	p2, err := c.CurrentPosition(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if cmp, _ := c.ComparePositions(p1, p2); cmp != -1 {
		t.Errorf("CurrentPosition went from %s to %s", p1, p2)
	}
	if err := c.Confirm(testCtx(t), p2); err != nil {
		t.Errorf("Confirm: %v", err)
	}
	if err := c.EndCDC(testCtx(t), &connector.CDCRequest{}); err != nil {
		t.Errorf("EndCDC: %v", err)
	}
	// Streaming from a position the server does not have fails clearly.
	err = c.Stream(testCtx(t), &connector.CDCRequest{}, "binlog.999999:4", func(*record.Transaction) error { return nil })
	if err == nil || errors.Is(err, connector.ErrConnectionLost) || !strings.Contains(err.Error(), "binlog.999999:4") {
		t.Errorf("Stream from a missing file: %v", err)
	}
}

// The tests below change global server settings: they do not run in
// parallel (parallel tests start after them).

func TestCDCRowImageMinimal(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY)")
	c := openConn(t, my, db, connector.RoleSource, nil)
	tb := findTable(t, c, db, "t")
	my.Exec(t, "", "SET GLOBAL binlog_row_image = 'MINIMAL'")
	defer my.Exec(t, "", "SET GLOBAL binlog_row_image = 'FULL'")
	snap, _, err := c.BeginCDC(testCtx(t), &connector.CDCRequest{Tables: []*record.Table{tb}})
	if snap != nil {
		snap.Close()
	}
	if !errors.Is(err, mysql.ErrCDCNotConfigured) || !strings.Contains(err.Error(), "binlog_row_image is MINIMAL but CDC needs FULL") ||
		!strings.Contains(err.Error(), "SET GLOBAL binlog_row_image = 'FULL'") {
		t.Fatalf("BeginCDC with binlog_row_image = MINIMAL: %v", err)
	}
	t.Log(err)
}

// With binlog_row_metadata = FULL the table map names the columns: they
// are matched by name, so a column the task's definition lacks is skipped.
// Without names a column count that differs is an error.
func TestCDCColumnNames(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY, skip1 varchar(10), v decimal(10,2), skip2 json, w int)")
	c := openConn(t, my, db, connector.RoleSource, nil)
	full := findTable(t, c, db, "t")
	narrow := *full
	narrow.Columns = slices.DeleteFunc(slices.Clone(full.Columns), func(col record.Column) bool { return strings.HasPrefix(col.Name, "skip") })
	slices.Reverse(narrow.Columns)

	my.Exec(t, "", "SET GLOBAL binlog_row_metadata = 'FULL'")
	func() {
		defer my.Exec(t, "", "SET GLOBAL binlog_row_metadata = 'NO_LOG'")
		req, pos := beginCDC(t, c, &narrow)
		s := startCDC(t, c, req, pos)
		my.Exec(t, db, `INSERT INTO t VALUES (1, 'x', 1.50, '{"a": 1}', 7)`)
		tx := s.next(t)
		sameRow(t, "narrow", &narrow, tx.Changes[0].After, record.Row{int64(7), "1.50", int64(1)})
	}()

	req, pos := beginCDC(t, c, &narrow)
	my.Exec(t, db, `INSERT INTO t VALUES (2, 'x', 1.50, '{"a": 1}', 7)`)
	err := c.Stream(testCtx(t), req, pos, func(*record.Transaction) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "5 columns in the binary log but 3") {
		t.Fatalf("Stream with a definition of fewer columns: %v", err)
	}
}

// When only tables outside the task change, a transaction without changes
// carries the position forward (on a later transaction or a heartbeat,
// at most every cdcPositionAdvanceEvery).
func TestCDCPositionAdvance(t *testing.T) {
	defer mysql.SetCDCTimings(time.Second, 1500*time.Millisecond)()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY)", "CREATE TABLE other (id int PRIMARY KEY)")
	c := openConn(t, my, db, connector.RoleSource, nil)
	tb := findTable(t, c, db, "t")
	req, pos := beginCDC(t, c, tb)
	ctx, cancel := context.WithCancel(testCtx(t))
	got := make(chan *record.Transaction, 100)
	done := make(chan error, 1)
	go func() {
		done <- c.Stream(ctx, req, pos, func(tx *record.Transaction) error { got <- tx; return nil })
	}()
	defer func() { cancel(); <-done }()
	my.Exec(t, db, "INSERT INTO other VALUES (1)", "INSERT INTO other VALUES (2)")
	end, err := c.CurrentPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case tx := <-got:
		if len(tx.Changes) != 0 || tx.Position != end {
			t.Fatalf("got %s at %s, want no changes at %s", describe(tx), tx.Position, end)
		}
	case err := <-done:
		t.Fatal(err)
	case <-time.After(5 * time.Second):
		t.Fatal("the position was not carried forward")
	}
}

// A broken connection (the dump thread killed) ends Stream with an error
// wrapping connector.ErrConnectionLost.
func TestCDCConnectionLost(t *testing.T) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY)")
	c := openConn(t, my, db, connector.RoleSource, nil)
	tb := findTable(t, c, db, "t")
	req, pos := beginCDC(t, c, tb)
	s := startCDC(t, c, req, pos)
	my.Exec(t, db, "INSERT INTO t VALUES (1)")
	s.next(t)
	admin := clientDB(t, my, "")
	// Earlier tests may have left dump threads that have not noticed their
	// client is gone yet: kill them all.
	for _, id := range queryStrings(t, admin, "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'") {
		admin.Exec("KILL CONNECTION " + id[0])
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("Stream did not end when its connection was killed")
	}
	if !errors.Is(s.err, connector.ErrConnectionLost) {
		t.Fatalf("Stream = %v, want ErrConnectionLost", s.err)
	}
}

// BenchmarkCDCStream decodes 200k row changes from the binary log: one
// transaction inserting the rows of BenchmarkRead's table, and one
// updating them (two images per change).
func BenchmarkCDCStream(b *testing.B) {
	my := testenv.MariaDB(b)
	db := my.NewDatabase(b)
	my.Exec(b, db, `CREATE TABLE bench (id bigint PRIMARY KEY, a int NOT NULL, b int, name varchar(64), body text,
		amount decimal(12,2), at timestamp(6) NULL, flag tinyint(1), doc json)`)
	c := openConn(b, my, db, connector.RoleSource, nil)
	tb := findTable(b, c, db, "bench")
	req, insertPos := beginCDC(b, c, tb)
	my.Exec(b, db, `INSERT INTO bench SELECT seq, seq % 1000, seq * 7, CONCAT('name-', seq),
		CONCAT(REPEAT('lorem ipsum ', 8), seq), seq / 100, FROM_UNIXTIME(1700000000 + seq + 0.123456), seq % 2,
		JSON_OBJECT('k', seq, 'tags', JSON_ARRAY('a', 'b')) FROM seq_1_to_200000`)
	updatePos, err := c.CurrentPosition(testCtx(b))
	if err != nil {
		b.Fatal(err)
	}
	my.Exec(b, db, "UPDATE bench SET b = b + 1, name = CONCAT(name, '!')")
	for _, bc := range []struct{ name, from string }{{"insert", insertPos}, {"update", updatePos}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ctx, cancel := context.WithCancel(testCtx(b))
				n := 0
				err := c.Stream(ctx, req, bc.from, func(tx *record.Transaction) error {
					n += len(tx.Changes)
					if n >= benchRows {
						cancel()
					}
					return nil
				})
				cancel()
				if n != benchRows || !errors.Is(err, context.Canceled) {
					b.Fatal(n, err)
				}
			}
			b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "changes/s")
		})
	}
}

// PositionAtTime finds where the first transaction committed at or after a
// time starts, across binary log files, and refuses a time the server's
// binary logs no longer cover.
func TestCDCPositionAtTime(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY)")
	c := openConn(t, my, db, connector.RoleSource, nil)
	tb := findTable(t, c, db, "t")
	req, _ := beginCDC(t, c, tb)
	ctx := testCtx(t)

	// Binary log timestamps are whole seconds: the start time is more than
	// a second after the first rows and before the next ones.
	my.Exec(t, db, "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)", "FLUSH BINARY LOGS")
	time.Sleep(1100 * time.Millisecond)
	at := time.Now()
	my.Exec(t, db, "INSERT INTO t VALUES (3)", "FLUSH BINARY LOGS", "INSERT INTO t VALUES (4)")
	pos, err := c.PositionAtTime(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	s := startCDC(t, c, req, pos)
	for _, want := range []int64{3, 4} {
		if tx := s.next(t); len(tx.Changes) != 1 || tx.Changes[0].After[0] != want {
			t.Fatalf("streaming from %s (start time %s): %s, want the insert of %d", pos, at.Format(time.RFC3339Nano), describe(tx), want)
		}
	}
	s.stop()

	// A time after the last transaction: the end of the binary log.
	time.Sleep(1100 * time.Millisecond)
	end, err := c.PositionAtTime(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s = startCDC(t, c, req, end)
	my.Exec(t, db, "INSERT INTO t VALUES (5)")
	if tx := s.next(t); len(tx.Changes) != 1 || tx.Changes[0].After[0] != int64(5) {
		t.Fatalf("streaming from the end %s: %s, want the insert of 5", end, describe(tx))
	}

	_, err = c.PositionAtTime(ctx, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	if err == nil || !strings.Contains(err.Error(), "oldest binary log") {
		t.Fatalf("a time before the binary logs: %v", err)
	}
}
