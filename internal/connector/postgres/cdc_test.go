package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/postgres"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// cdcRequest captures tables through slot and publication "<name>".
func cdcRequest(name string, tables ...*record.Table) *connector.CDCRequest {
	return &connector.CDCRequest{SlotName: name, Publication: name, Plugin: "pgoutput", Tables: tables, Sessions: 2}
}

// beginCDC runs BeginCDC; the snapshot is closed at the end of the test.
func beginCDC(t testing.TB, c *postgres.Conn, req *connector.CDCRequest) (connector.Snapshot, string) {
	t.Helper()
	snap, pos, err := c.BeginCDC(testCtx(t), req)
	if err != nil {
		t.Fatalf("BeginCDC: %v", err)
	}
	if snap != nil {
		t.Cleanup(func() { snap.Close() })
	}
	if req.NoSnapshot != (snap == nil) {
		t.Fatalf("BeginCDC with NoSnapshot %v returned snapshot %v", req.NoSnapshot, snap)
	}
	return snap, pos
}

// streamRun is a Stream running in the background.
type streamRun struct {
	txs    chan *record.Transaction
	ended  chan struct{}
	err    error
	cancel context.CancelFunc
	once   sync.Once
}

func startStream(t testing.TB, c *postgres.Conn, req *connector.CDCRequest, from string) *streamRun {
	t.Helper()
	ctx, cancel := context.WithCancel(testCtx(t))
	r := &streamRun{txs: make(chan *record.Transaction, 100000), ended: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(r.ended)
		r.err = c.Stream(ctx, req, from, func(tx *record.Transaction) error {
			select {
			case r.txs <- tx:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the stream and returns what Stream returned.
func (r *streamRun) stop(t testing.TB) error {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case <-r.ended:
		case <-time.After(15 * time.Second):
			t.Error("Stream did not return 15 s after its context ended")
		}
	})
	return r.err
}

// next waits for the next transaction.
func (r *streamRun) next(t testing.TB) *record.Transaction {
	t.Helper()
	select {
	case tx := <-r.txs:
		return tx
	case <-r.ended:
		t.Fatalf("Stream returned: %v", r.err)
	case <-time.After(30 * time.Second):
		t.Fatal("no transaction within 30 s")
	}
	return nil
}

// quiet fails the test if a transaction arrives within d.
func (r *streamRun) quiet(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case tx := <-r.txs:
		t.Fatalf("unexpected transaction %s at %s: %s", tx.ID, tx.Position, describe(tx))
	case <-r.ended:
		t.Fatalf("Stream returned: %v", r.err)
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

// slotState reads the slot's confirmed_flush_lsn and whether it is active.
func slotState(t testing.TB, pg *testenv.PGServer, db, slot string) (confirmed string, active, exists bool) {
	t.Helper()
	conn := client(t, pg, db)
	defer conn.Close(context.Background())
	err := conn.QueryRow(testCtx(t), `SELECT confirmed_flush_lsn::text, active FROM pg_replication_slots WHERE slot_name = $1`, slot).
		Scan(&confirmed, &active)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return confirmed, active, true
}

// The full load read in BeginCDC's snapshot plus the changes streamed from
// its position hold every row exactly once, with rows inserted before,
// during and after BeginCDC and while the snapshot is read.
func TestCDCNoGapNoOverlap(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE items (id bigint PRIMARY KEY, v text)`,
		`INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 5000) g`)
	c := open(t, pg, db, connector.RoleSource)
	tb := sourceTable(t, c, "public", "items")

	const total = 10000
	writer := client(t, pg, db)
	var wg sync.WaitGroup
	started := make(chan struct{})
	wg.Go(func() {
		for id := 5001; id <= total; id += 50 {
			if id == 5501 {
				close(started)
			}
			if _, err := writer.Exec(context.Background(), `INSERT INTO items SELECT g, 'late' FROM generate_series($1::int, $1::int + 49) g`, id); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	<-started
	req := cdcRequest("gap", tb)
	snap, pos := beginCDC(t, c, req)
	seen := map[int64]int{}
	var mu sync.Mutex
	// Two sessions read halves of the table while the writer goes on.
	var readers sync.WaitGroup
	for _, r := range []*record.Range{{Columns: []string{"id"}, To: record.Row{int64(3000)}}, {Columns: []string{"id"}, From: record.Row{int64(3000)}}} {
		readers.Go(func() {
			rows, _, err := tryRead(testCtx(t), snap, &connector.ReadRequest{Table: tb, Range: r, BatchRows: 100})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			for _, row := range rows {
				seen[row[0].(int64)]++
			}
			mu.Unlock()
		})
	}
	readers.Wait()
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	inSnapshot := len(seen)
	if inSnapshot < 5500 || inSnapshot >= total {
		t.Fatalf("the snapshot holds %d rows: the writer did not overlap BeginCDC", inSnapshot)
	}
	run := startStream(t, c, req, pos)
	streamed := 0
	for streamed < total-inSnapshot {
		tx := run.next(t)
		for _, ch := range tx.Changes {
			if ch.Op != record.OpInsert || ch.Table != tb {
				t.Fatalf("unexpected change %s on %s", ch.Op, ch.Table.Name)
			}
			seen[ch.After[0].(int64)]++
			streamed++
		}
	}
	run.quiet(t, 300*time.Millisecond)
	for id := int64(1); id <= total; id++ {
		if seen[id] != 1 {
			t.Fatalf("row %d seen %d times (%d rows in the snapshot, %d streamed)", id, seen[id], inSnapshot, streamed)
		}
	}
	t.Logf("%d rows in the snapshot, %d streamed", inSnapshot, streamed)
}

// cdcTypeTable creates the table of every type of typeCases, with rows 1-3.
func cdcTypeTable(t *testing.T, pg *testenv.PGServer, db string) {
	ddl := `CREATE TABLE typed (id int PRIMARY KEY`
	for _, tc := range typeCases {
		ddl += ", " + tc.col + " " + tc.typ
	}
	pg.Exec(t, db, `CREATE TYPE mood AS ENUM ('sad', 'ok', 'very happy')`,
		`CREATE DOMAIN posint AS integer CHECK (VALUE > 0)`,
		`CREATE TYPE pair AS (n int, s text)`, ddl+")")
}

func sameCanonical(a, b any) bool {
	if f, ok := b.(float64); ok && math.IsNaN(f) {
		g, ok := a.(float64)
		return ok && math.IsNaN(g)
	}
	if f, ok := b.(float64); ok {
		g, ok := a.(float64)
		return ok && g == f && math.Signbit(g) == math.Signbit(f)
	}
	return sameValue(a, b)
}

// checkRow compares a streamed row with the full load's.
func checkRow(t *testing.T, what string, tb *record.Table, got, want record.Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !sameCanonical(got[i], want[i]) {
			t.Errorf("%s: %s (%s) = %s, full load reads %s", what, tb.Columns[i].Name, tb.Columns[i].Type.Native, show(got[i]), show(want[i]))
		}
	}
}

// keyOnly is a row with only the id set.
func keyOnly(width int, id int64) record.Row {
	r := make(record.Row, width)
	r[0] = id
	return r
}

// Inserts, updates (of the key too), deletes and truncates of a column of
// every type stream the values a full-load Read gives for the same row,
// NULL transitions included.
func TestCDCTypes(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	cdcTypeTable(t, pg, db)
	c := open(t, pg, db, connector.RoleSource)
	tb := sourceTable(t, c, "public", "typed")
	req := cdcRequest("types", tb)
	req.NoSnapshot = true
	_, pos := beginCDC(t, c, req)

	// readRow is the full load's view of row id now.
	readRow := func(id int64) record.Row {
		t.Helper()
		snap, err := c.OpenSnapshot(testCtx(t), 1)
		if err != nil {
			t.Fatal(err)
		}
		defer snap.Close() // it locks the table against TRUNCATE
		rows, _ := readAll(t, snap, &connector.ReadRequest{Table: tb, Filters: []record.Filter{{Column: "id", Conditions: []record.Condition{{Op: record.OpEq, Value: fmt.Sprint(id)}}}}})
		if len(rows) != 1 {
			t.Fatalf("row %d: %d rows", id, len(rows))
		}
		return rows[0]
	}
	set := func(r int) string {
		var parts []string
		for _, tc := range typeCases {
			parts = append(parts, tc.col+" = "+tc.values[r])
		}
		return strings.Join(parts, ", ")
	}
	type step struct {
		sql    string
		op     record.ChangeOp
		before record.Row // nil: not checked
		after  record.Row // nil: no row (delete)
	}
	var steps []step
	for r := 0; r < 3; r++ {
		ins := fmt.Sprintf("INSERT INTO typed VALUES (%d", r+1)
		for _, tc := range typeCases {
			ins += ", " + tc.values[r]
		}
		pg.Exec(t, db, ins+")")
		steps = append(steps, step{op: record.OpInsert, after: readRow(int64(r + 1))})
	}
	width := len(tb.Columns)
	do := func(sql string, op record.ChangeOp, before record.Row, id int64) {
		pg.Exec(t, db, sql)
		s := step{sql: sql, op: op, before: before}
		if id > 0 {
			s.after = readRow(id)
		}
		steps = append(steps, s)
	}
	do("UPDATE typed SET "+set(2)+" WHERE id = 1", record.OpUpdate, keyOnly(width, 1), 1) // values to other values
	do("UPDATE typed SET "+set(1)+" WHERE id = 3", record.OpUpdate, keyOnly(width, 3), 3) // values to NULL
	do("UPDATE typed SET "+set(0)+" WHERE id = 2", record.OpUpdate, keyOnly(width, 2), 2) // NULL to values
	do("UPDATE typed SET id = 11 WHERE id = 1", record.OpUpdate, keyOnly(width, 1), 11)   // the key
	do("DELETE FROM typed WHERE id = 11", record.OpDelete, keyOnly(width, 11), 0)
	do("TRUNCATE typed", record.OpTruncate, nil, 0)

	run := startStream(t, c, req, pos)
	last := pos
	for i, s := range steps {
		tx := run.next(t)
		if len(tx.Changes) != 1 {
			t.Fatalf("step %d (%s): %d changes: %s", i, s.sql, len(tx.Changes), describe(tx))
		}
		if cmp, err := c.ComparePositions(tx.Position, last); err != nil || cmp <= 0 {
			t.Errorf("step %d: position %s after %s (%v)", i, tx.Position, last, err)
		}
		last = tx.Position
		ch := tx.Changes[0]
		what := fmt.Sprintf("step %d %s (%s)", i, ch.Op, s.sql)
		if ch.Op != s.op || ch.Table != tb {
			t.Fatalf("%s: got %s on %s.%s", what, ch.Op, ch.Table.Schema, ch.Table.Name)
		}
		if ch.BeforeFull {
			t.Errorf("%s: BeforeFull without REPLICA IDENTITY FULL", what)
		}
		switch {
		case s.before == nil && ch.Before != nil:
			t.Errorf("%s: Before = %v", what, ch.Before)
		case s.before != nil:
			checkRow(t, what+" Before", tb, ch.Before, s.before)
		}
		switch {
		case s.after == nil && ch.After != nil:
			t.Errorf("%s: After = %v", what, ch.After)
		case s.after != nil:
			checkRow(t, what+" After", tb, ch.After, s.after)
		}
	}
	// The values are also the documented canonical ones.
	for i, tc := range typeCases {
		if got := steps[0].after[i+1]; !sameCanonical(got, tc.want[0]) {
			t.Errorf("%s: full load reads %s, TYPES.md says %s", tc.col, show(got), show(tc.want[0]))
		}
	}
}

// randomText is n characters no compressor can shrink, so that the value
// is stored out of line (TOAST).
func randomText(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)[:n]
}

// An update that leaves a TOASTed value alone streams it as
// record.Unchanged; with REPLICA IDENTITY FULL, Before is the whole old
// row, TOASTed value included.
func TestCDCToastAndReplicaIdentityFull(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE docs (id int PRIMARY KEY, body text, n int)`,
		`CREATE TABLE logs (id int, body text, n int)`, `ALTER TABLE logs REPLICA IDENTITY FULL`)
	c := open(t, pg, db, connector.RoleSource)
	docs, logs := sourceTable(t, c, "public", "docs"), sourceTable(t, c, "public", "logs")
	req := cdcRequest("toast", docs, logs)
	req.NoSnapshot = true
	_, pos := beginCDC(t, c, req)
	body := randomText(t, 10000)
	w := client(t, pg, db)
	ctx := testCtx(t)
	for _, q := range []string{
		`INSERT INTO docs VALUES (1, $1, 1)`,
		`UPDATE docs SET n = 2 WHERE id = 1`,
		`UPDATE docs SET body = $1 || 'x', n = 3 WHERE id = 1`,
		`INSERT INTO logs VALUES (1, $1, 1)`,
		`UPDATE logs SET n = 2`,
		`DELETE FROM logs`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, body)
		}
		if _, err := w.Exec(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	var external int
	if err := w.QueryRow(ctx, `SELECT count(*) FROM pg_class c JOIN pg_class tc ON tc.oid = c.reltoastrelid
		WHERE c.relname = 'docs' AND pg_relation_size(tc.oid) > 0`).Scan(&external); err != nil || external != 1 {
		t.Fatalf("the body was not stored out of line (%v)", err)
	}
	run := startStream(t, c, req, pos)
	change := func() record.Change {
		tx := run.next(t)
		if len(tx.Changes) != 1 {
			t.Fatalf("%d changes", len(tx.Changes))
		}
		return tx.Changes[0]
	}
	if ch := change(); ch.Op != record.OpInsert || ch.After[1] != body {
		t.Fatalf("insert: %s with a body of %d bytes", ch.Op, len(fmt.Sprint(ch.After[1])))
	}
	if ch := change(); ch.Op != record.OpUpdate || ch.After[1] != record.Unchanged || ch.After[2] != int64(2) || ch.After[0] != int64(1) {
		t.Fatalf("update leaving the body: %s %v", ch.Op, ch.After)
	}
	if ch := change(); ch.Op != record.OpUpdate || ch.After[1] != body+"x" || ch.After[2] != int64(3) {
		t.Fatalf("update of the body: %s, n = %v", ch.Op, ch.After[2])
	}
	if ch := change(); ch.Op != record.OpInsert || ch.Table != logs {
		t.Fatalf("insert into logs: %s on %s", ch.Op, ch.Table.Name)
	}
	ch := change()
	if ch.Op != record.OpUpdate || !ch.BeforeFull || ch.Before[1] != body || ch.Before[2] != int64(1) || ch.After[2] != int64(2) {
		t.Fatalf("update with REPLICA IDENTITY FULL: full %v, before n = %v, after = %v", ch.BeforeFull, ch.Before[2], ch.After[2])
	}
	if ch.After[1] != record.Unchanged && ch.After[1] != body {
		t.Fatalf("update with REPLICA IDENTITY FULL: body %v", ch.After[1])
	}
	if ch := change(); ch.Op != record.OpDelete || !ch.BeforeFull || ch.Before[1] != body || ch.Before[2] != int64(2) || ch.After != nil {
		t.Fatalf("delete with REPLICA IDENTITY FULL: %s full %v", ch.Op, ch.BeforeFull)
	}
}

// A transaction arrives whole, in commit order, with its xid; a rolled
// back one never arrives.
func TestCDCTransactions(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE a (id int PRIMARY KEY, v text)`, `CREATE TABLE b (id int PRIMARY KEY)`)
	c := open(t, pg, db, connector.RoleSource)
	ta, tbb := sourceTable(t, c, "public", "a"), sourceTable(t, c, "public", "b")
	req := cdcRequest("txs", ta, tbb)
	req.NoSnapshot = true
	_, pos := beginCDC(t, c, req)
	run := startStream(t, c, req, pos)
	ctx := testCtx(t)
	s1, s2 := client(t, pg, db), client(t, pg, db)
	exec := func(conn *pgx.Conn, sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	xid := func(conn *pgx.Conn) string {
		var x string
		if err := conn.QueryRow(ctx, "SELECT txid_current()::text").Scan(&x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	start := time.Now()
	exec(s1, "BEGIN")
	exec(s1, "INSERT INTO a VALUES (1, 'one')")
	x1 := xid(s1)
	exec(s2, "BEGIN")
	exec(s2, "INSERT INTO b VALUES (10)")
	exec(s2, "INSERT INTO a VALUES (2, 'two')")
	exec(s2, "UPDATE a SET v = 'TWO' WHERE id = 2")
	exec(s2, "DELETE FROM b WHERE id = 10")
	x2 := xid(s2)
	exec(s1, "UPDATE a SET v = 'ONE' WHERE id = 1")
	exec(s2, "COMMIT") // commits first
	exec(s1, "COMMIT")
	exec(s2, "BEGIN")
	exec(s2, "INSERT INTO a VALUES (3, 'never')")
	exec(s2, "ROLLBACK")
	exec(s1, "INSERT INTO b VALUES (20)")

	tx := run.next(t)
	if tx.ID != x2 || len(tx.Changes) != 4 {
		t.Fatalf("first transaction %s (want %s) with %d changes: %s", tx.ID, x2, len(tx.Changes), describe(tx))
	}
	wantOps := []record.ChangeOp{record.OpInsert, record.OpInsert, record.OpUpdate, record.OpDelete}
	wantTables := []*record.Table{tbb, ta, ta, tbb}
	for i, ch := range tx.Changes {
		if ch.Op != wantOps[i] || ch.Table != wantTables[i] {
			t.Errorf("change %d: %s on %s", i, ch.Op, ch.Table.Name)
		}
	}
	if tx.Changes[2].After[1] != "TWO" {
		t.Errorf("update: %v", tx.Changes[2].After)
	}
	if tx.CommitTime.Location() != time.UTC || tx.CommitTime.Before(start.Add(-time.Minute)) || tx.CommitTime.After(time.Now().Add(time.Minute)) {
		t.Errorf("commit time %v", tx.CommitTime)
	}
	second := run.next(t)
	if second.ID != x1 || len(second.Changes) != 2 || second.Changes[1].After[1] != "ONE" {
		t.Fatalf("second transaction %s (want %s): %s", second.ID, x1, describe(second))
	}
	if cmp, _ := c.ComparePositions(second.Position, tx.Position); cmp <= 0 {
		t.Errorf("positions %s then %s", tx.Position, second.Position)
	}
	third := run.next(t)
	if len(third.Changes) != 1 || third.Changes[0].Table != tbb || third.Changes[0].After[0] != int64(20) {
		t.Fatalf("third transaction: %s", describe(third))
	}
	run.quiet(t, 300*time.Millisecond)
}

// Confirm moves the slot's confirmed_flush_lsn to the position given and no
// further; a stream resumed from a confirmed position starts after it.
func TestCDCConfirmAndResume(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE t (id int PRIMARY KEY)`, `CREATE TABLE other (id int)`)
	c := open(t, pg, db, connector.RoleSource)
	tb := sourceTable(t, c, "public", "t")
	req := cdcRequest("confirm", tb)
	req.NoSnapshot = true
	_, pos := beginCDC(t, c, req)
	if confirmed, _, _ := slotState(t, pg, db, "confirm"); confirmed != pos {
		t.Fatalf("a new slot is confirmed at %s, BeginCDC said %s", confirmed, pos)
	}
	for i := 1; i <= 5; i++ {
		pg.Exec(t, db, fmt.Sprintf("INSERT INTO t VALUES (%d)", i))
	}
	run := startStream(t, c, req, pos)
	var txs []*record.Transaction
	for range 5 {
		txs = append(txs, run.next(t))
	}
	waitConfirmed := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, _, _ := slotState(t, pg, db, "confirm")
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("confirmed_flush_lsn is %s, want %s", got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// Nothing moves the slot without Confirm.
	time.Sleep(200 * time.Millisecond)
	waitConfirmed(pos)
	if err := c.Confirm(testCtx(t), txs[1].Position); err != nil {
		t.Fatal(err)
	}
	waitConfirmed(txs[1].Position)
	// More WAL, captured or not, and time: still no further.
	pg.Exec(t, db, "INSERT INTO other SELECT generate_series(1, 1000)", "CHECKPOINT")
	time.Sleep(500 * time.Millisecond)
	waitConfirmed(txs[1].Position)
	// An older position changes nothing.
	if err := c.Confirm(testCtx(t), txs[0].Position); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	waitConfirmed(txs[1].Position)
	if err := run.stop(t); err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if _, active, _ := slotState(t, pg, db, "confirm"); active {
		t.Error("the slot is still active after Stream returned")
	}

	// Resume from the confirmed position: transactions 3-5 only.
	ids := func(run *streamRun, n int) []int64 {
		var out []int64
		for range n {
			tx := run.next(t)
			out = append(out, tx.Changes[0].After[0].(int64))
		}
		run.quiet(t, 200*time.Millisecond)
		return out
	}
	again := startStream(t, c, req, txs[1].Position)
	if got := ids(again, 3); !slices.Equal(got, []int64{3, 4, 5}) {
		t.Fatalf("resumed from %s: %v", txs[1].Position, got)
	}
	if err := again.stop(t); err != nil {
		t.Fatal(err)
	}
	// From "" is from the slot's confirmed position.
	again = startStream(t, c, req, "")
	if got := ids(again, 3); !slices.Equal(got, []int64{3, 4, 5}) {
		t.Fatalf("resumed from the slot: %v", got)
	}
	if err := again.stop(t); err != nil {
		t.Fatal(err)
	}
	// Confirm without a stream advances the slot itself.
	if err := c.Confirm(testCtx(t), txs[3].Position); err != nil {
		t.Fatal(err)
	}
	waitConfirmed(txs[3].Position)
	again = startStream(t, c, req, txs[3].Position)
	if got := ids(again, 1); !slices.Equal(got, []int64{5}) {
		t.Fatalf("resumed from %s: %v", txs[3].Position, got)
	}
}

// Cancelling Stream's context returns nil promptly and frees the slot.
func TestCDCCancel(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE t (id int PRIMARY KEY)`)
	c := open(t, pg, db, connector.RoleSource)
	req := cdcRequest("cancel", sourceTable(t, c, "public", "t"))
	req.NoSnapshot = true
	_, pos := beginCDC(t, c, req)
	for range 3 {
		run := startStream(t, c, req, pos)
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, active, _ := slotState(t, pg, db, "cancel"); active {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the slot never became active")
			}
			time.Sleep(10 * time.Millisecond)
		}
		began := time.Now()
		if err := run.stop(t); err != nil {
			t.Fatalf("Stream returned %v after cancel", err)
		}
		if d := time.Since(began); d > 2*time.Second {
			t.Errorf("Stream took %v to return", d)
		}
		if _, active, _ := slotState(t, pg, db, "cancel"); active {
			t.Error("the slot is still active after Stream returned")
		}
	}
}

// BeginCDC on an existing slot: no snapshot and the slot's position with
// NoSnapshot, else ErrSlotExists. An existing publication is made to cover
// the tables and every operation.
func TestCDCBeginExisting(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE t (id int PRIMARY KEY)`, `CREATE TABLE u (id int PRIMARY KEY)`,
		`CREATE PUBLICATION existing FOR TABLE u WITH (publish = 'insert')`)
	c := open(t, pg, db, connector.RoleSource)
	tb := sourceTable(t, c, "public", "t")
	req := cdcRequest("existing", tb)
	_, pos := beginCDC(t, c, req)
	var tables []string
	var update, del bool
	w := client(t, pg, db)
	if err := w.QueryRow(testCtx(t), `SELECT array_agg(tablename::text ORDER BY tablename), bool_and(pubupdate), bool_and(pubdelete)
		FROM pg_publication p JOIN pg_publication_tables pt USING (pubname) WHERE pubname = 'existing'`).Scan(&tables, &update, &del); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tables, []string{"t"}) || !update || !del {
		t.Errorf("publication: tables %v, update %v, delete %v", tables, update, del)
	}
	if _, _, err := c.BeginCDC(testCtx(t), req); !errors.Is(err, postgres.ErrSlotExists) {
		t.Errorf("BeginCDC of an existing slot: %v", err)
	}
	req.NoSnapshot = true
	_, again := beginCDC(t, c, req)
	if again != pos {
		t.Errorf("BeginCDC of an existing slot: position %s, want %s", again, pos)
	}
	// A stream works on it.
	pg.Exec(t, db, "INSERT INTO t VALUES (1)", "INSERT INTO u VALUES (1)", "DELETE FROM t")
	run := startStream(t, c, req, pos)
	if tx := run.next(t); tx.Changes[0].Op != record.OpInsert {
		t.Fatal(describe(tx))
	}
	if tx := run.next(t); tx.Changes[0].Op != record.OpDelete || tx.Changes[0].Before[0] != int64(1) {
		t.Fatal(describe(tx))
	}
}

// EndCDC ends the walsender streaming from the slot (that Stream returns an
// error the engine retries), drops the slot and the publication, and is a
// no-op when they are gone.
func TestCDCEndCDC(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE t (id int PRIMARY KEY)`)
	c := open(t, pg, db, connector.RoleSource)
	req := cdcRequest("endcdc", sourceTable(t, c, "public", "t"))
	req.NoSnapshot = true
	_, pos := beginCDC(t, c, req)
	run := startStream(t, c, req, pos)
	pg.Exec(t, db, "INSERT INTO t VALUES (1)")
	run.next(t)
	other := open(t, pg, db, connector.RoleSource)
	if err := other.EndCDC(testCtx(t), req); err != nil {
		t.Fatalf("EndCDC: %v", err)
	}
	select {
	case <-run.ended:
		if !errors.Is(run.err, connector.ErrConnectionLost) {
			t.Errorf("Stream of a dropped slot returned %v", run.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stream still running after EndCDC")
	}
	if _, _, exists := slotState(t, pg, db, "endcdc"); exists {
		t.Error("the slot exists after EndCDC")
	}
	var pubs int
	if err := client(t, pg, db).QueryRow(testCtx(t), "SELECT count(*) FROM pg_publication WHERE pubname = 'endcdc'").Scan(&pubs); err != nil || pubs != 0 {
		t.Errorf("%d publications after EndCDC (%v)", pubs, err)
	}
	if err := other.EndCDC(testCtx(t), req); err != nil {
		t.Errorf("EndCDC again: %v", err)
	}
	err := c.Stream(testCtx(t), req, pos, func(*record.Transaction) error { return nil })
	if !errors.Is(err, postgres.ErrNoSlot) || errors.Is(err, connector.ErrConnectionLost) {
		t.Errorf("Stream without a slot: %v", err)
	}
}

// Changes of tables not in the request are skipped; a table altered since
// the request was made streams with its new shape; a partitioned table
// streams the changes of its partitions as its own.
func TestCDCTableShapes(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE t (id int PRIMARY KEY, a text)`, `CREATE TABLE skipped (id int PRIMARY KEY)`,
		`CREATE TABLE parted (id int PRIMARY KEY, v text) PARTITION BY RANGE (id)`,
		`CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100)`,
		`CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (100) TO (200)`,
		`CREATE TABLE gen (id int PRIMARY KEY, a int, twice int GENERATED ALWAYS AS (a * 2) STORED, z text)`,
		`CREATE PUBLICATION shapes FOR ALL TABLES`)
	c := open(t, pg, db, connector.RoleSource)
	tb, parted, gen := sourceTable(t, c, "public", "t"), sourceTable(t, c, "public", "parted"), sourceTable(t, c, "public", "gen")
	req := cdcRequest("shapes", tb, parted, gen)
	req.NoSnapshot = true
	_, pos := beginCDC(t, c, req)
	pg.Exec(t, db, "INSERT INTO skipped VALUES (1)", "INSERT INTO t VALUES (1, 'x')",
		"INSERT INTO parted VALUES (5, 'p1'), (150, 'p2')",
		"ALTER TABLE t ADD COLUMN b numeric(5,1) NOT NULL DEFAULT 1.5", "INSERT INTO t VALUES (2, 'y', 2)",
		"UPDATE t SET b = 3 WHERE id = 1", "INSERT INTO gen (id, a, z) VALUES (1, 21, 'z')")
	run := startStream(t, c, req, pos)
	if tx := run.next(t); len(tx.Changes) != 1 || tx.Changes[0].Table != tb || tx.Changes[0].After[1] != "x" {
		t.Fatalf("first: %s", describe(tx))
	}
	tx := run.next(t)
	if len(tx.Changes) != 2 || tx.Changes[0].Table != parted || tx.Changes[1].Table != parted || tx.Changes[1].After[1] != "p2" {
		t.Fatalf("partitions: %s", describe(tx))
	}
	tx = run.next(t)
	ch := tx.Changes[0]
	if ch.Table == tb || len(ch.Table.Columns) != 3 || ch.Table.Name != "t" || !slices.Equal(ch.Table.PrimaryKey, []string{"id"}) {
		t.Fatalf("after ADD COLUMN: table %+v", ch.Table)
	}
	if b := ch.Table.Columns[2]; b.Name != "b" || b.Type.Kind != record.KindNumeric || b.Type.Native != "numeric(5,1)" || b.Nullable {
		t.Errorf("new column: %+v", b)
	}
	if ch.After[2] != "2.0" {
		t.Errorf("new column's value: %s", show(ch.After[2]))
	}
	tx = run.next(t)
	if ch := tx.Changes[0]; ch.Op != record.OpUpdate || ch.After[2] != "3.0" || ch.Before[0] != int64(1) || ch.Before[2] != nil {
		t.Errorf("update: %s", describe(tx))
	}
	// Generated columns are not sent: the table keeps its shape, and their
	// values are Unchanged.
	tx = run.next(t)
	if ch := tx.Changes[0]; ch.Table != gen || ch.After[1] != int64(21) || ch.After[2] != record.Unchanged || ch.After[3] != "z" {
		t.Errorf("generated column: %s", describe(tx))
	}
	run.quiet(t, 200*time.Millisecond)
}

// With HeartbeatInterval, an idle stream delivers empty transactions at the
// position the server has sent everything up to, so that confirming them
// moves the slot past WAL the task does not need.
func TestCDCHeartbeat(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE t (id int PRIMARY KEY)`, `CREATE TABLE noise (id int)`)
	c := open(t, pg, db, connector.RoleSource)
	req := cdcRequest("beat", sourceTable(t, c, "public", "t"))
	req.NoSnapshot = true
	req.HeartbeatInterval = 200 * time.Millisecond
	_, pos := beginCDC(t, c, req)
	run := startStream(t, c, req, pos)
	pg.Exec(t, db, "INSERT INTO noise SELECT generate_series(1, 100)")
	var beat *record.Transaction
	for beat == nil {
		tx := run.next(t)
		if len(tx.Changes) == 0 {
			beat = tx
		}
	}
	if cmp, err := c.ComparePositions(beat.Position, pos); err != nil || cmp <= 0 {
		t.Fatalf("heartbeat at %s, stream from %s (%v)", beat.Position, pos, err)
	}
	if err := c.Confirm(testCtx(t), beat.Position); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		confirmed, _, _ := slotState(t, pg, db, "beat")
		if confirmed == beat.Position {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("confirmed_flush_lsn %s, want %s", confirmed, beat.Position)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A change still arrives, after the heartbeat.
	pg.Exec(t, db, "INSERT INTO t VALUES (1)")
	for {
		tx := run.next(t)
		if len(tx.Changes) == 0 {
			continue
		}
		if cmp, _ := c.ComparePositions(tx.Position, beat.Position); cmp <= 0 || tx.Changes[0].After[0] != int64(1) {
			t.Fatalf("change at %s after heartbeat at %s: %s", tx.Position, beat.Position, describe(tx))
		}
		break
	}
}

func TestCDCPositions(t *testing.T) {
	c := postgres.NewConn(postgres.Config{})
	for _, tc := range []struct {
		a, b string
		want int
	}{{"0/16B3748", "0/16B3749", -1}, {"1/0", "0/FFFFFFFF", 1}, {"A/b", "a/B", 0}} {
		if got, err := c.ComparePositions(tc.a, tc.b); err != nil || got != tc.want {
			t.Errorf("ComparePositions(%s, %s) = %d, %v", tc.a, tc.b, got, err)
		}
	}
	for _, bad := range []string{"16B3748", "0/", "x/1", "0/123456789"} {
		if _, err := c.ComparePositions(bad, "0/1"); !errors.Is(err, postgres.ErrBadCDCRequest) {
			t.Errorf("ComparePositions(%q): %v", bad, err)
		}
	}
	for _, req := range []*connector.CDCRequest{
		{SlotName: "Upper", Publication: "p"}, {SlotName: "s;drop", Publication: "p"}, {SlotName: "s"},
		{SlotName: "s", Publication: "p", Plugin: "test_decoding"},
	} {
		if _, _, err := c.BeginCDC(context.Background(), req); !errors.Is(err, postgres.ErrBadCDCRequest) {
			t.Errorf("BeginCDC(%+v): %v", req, err)
		}
	}
}

// CurrentPosition is after every committed transaction.
func TestCDCCurrentPosition(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE t (id int PRIMARY KEY)`)
	c := open(t, pg, db, connector.RoleSource)
	req := cdcRequest("current", sourceTable(t, c, "public", "t"))
	req.NoSnapshot = true
	_, pos := beginCDC(t, c, req)
	pg.Exec(t, db, "INSERT INTO t VALUES (1)")
	now, err := c.CurrentPosition(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	run := startStream(t, c, req, pos)
	tx := run.next(t)
	if cmp, err := c.ComparePositions(now, tx.Position); err != nil || cmp < 0 {
		t.Errorf("CurrentPosition %s before the commit at %s (%v)", now, tx.Position, err)
	}
}

// With a wal_sender_timeout far below the 10 s status interval, the stream
// stays up by answering the server's requests for a reply, also while fn
// holds it back.
func TestCDCKeepalive(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE t (id int PRIMARY KEY)`, `ALTER DATABASE `+db+` SET wal_sender_timeout = '1s'`)
	c := open(t, pg, db, connector.RoleSource)
	req := cdcRequest("keepalive", sourceTable(t, c, "public", "t"))
	req.NoSnapshot = true
	_, pos := beginCDC(t, c, req)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	got := make(chan int64, 1000)
	done := make(chan error, 1)
	hold := make(chan struct{})
	go func() {
		done <- c.Stream(ctx, req, pos, func(tx *record.Transaction) error {
			if tx.Changes[0].After[0] == int64(1) {
				<-hold // fn is slow: the queue fills up behind it
			}
			got <- tx.Changes[0].After[0].(int64)
			return nil
		})
	}()
	time.Sleep(3 * time.Second) // idle
	for i := 1; i <= 200; i++ {
		pg.Exec(t, db, fmt.Sprintf("INSERT INTO t VALUES (%d)", i))
	}
	time.Sleep(3 * time.Second) // blocked
	close(hold)
	for i := int64(1); i <= 200; i++ {
		select {
		case id := <-got:
			if id != i {
				t.Fatalf("got %d, want %d", id, i)
			}
		case err := <-done:
			t.Fatalf("Stream returned: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatalf("no change %d", i)
		}
	}
	time.Sleep(2 * time.Second) // idle again
	select {
	case err := <-done:
		t.Fatalf("Stream returned: %v", err)
	default:
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A table without a primary key (nor another replica identity) in the
// publication: inserts stream, but PostgreSQL refuses UPDATE and DELETE on
// it at the source (SQLSTATE 55000) until it gets REPLICA IDENTITY FULL,
// after which its changes carry the whole old row.
func TestCDCTableWithoutKey(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE nokey (id int, v text)`)
	c := open(t, pg, db, connector.RoleSource)
	tb := sourceTable(t, c, "public", "nokey")
	req := cdcRequest("nokey", tb)
	req.NoSnapshot = true
	_, pos := beginCDC(t, c, req)
	w := client(t, pg, db)
	ctx := testCtx(t)
	if _, err := w.Exec(ctx, "INSERT INTO nokey VALUES (1, 'a')"); err != nil {
		t.Fatal(err)
	}
	var pgErr *pgconn.PgError
	if _, err := w.Exec(ctx, "UPDATE nokey SET v = 'b'"); !errors.As(err, &pgErr) || pgErr.Code != "55000" {
		t.Fatalf("UPDATE of a published table without replica identity: %v", err)
	}
	pg.Exec(t, db, "ALTER TABLE nokey REPLICA IDENTITY FULL", "UPDATE nokey SET v = 'b'", "DELETE FROM nokey")
	run := startStream(t, c, req, pos)
	if tx := run.next(t); tx.Changes[0].Op != record.OpInsert || tx.Changes[0].After[1] != "a" {
		t.Fatal(describe(tx))
	}
	if ch := run.next(t).Changes[0]; ch.Op != record.OpUpdate || !ch.BeforeFull || ch.Before[1] != "a" || ch.After[1] != "b" {
		t.Fatalf("update: %s full %v before %v after %v", ch.Op, ch.BeforeFull, ch.Before, ch.After)
	}
	if ch := run.next(t).Changes[0]; ch.Op != record.OpDelete || !ch.BeforeFull || ch.Before[0] != int64(1) || ch.Before[1] != "b" {
		t.Fatalf("delete: %s full %v before %v", ch.Op, ch.BeforeFull, ch.Before)
	}
}

// A walsender ended under the stream (server restart, failover, an
// administrator) is a lost connection: the engine streams again from its
// last position and misses nothing.
func TestCDCConnectionLost(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE t (id int PRIMARY KEY)`)
	c := open(t, pg, db, connector.RoleSource)
	req := cdcRequest("lost", sourceTable(t, c, "public", "t"))
	req.NoSnapshot = true
	_, pos := beginCDC(t, c, req)
	run := startStream(t, c, req, pos)
	pg.Exec(t, db, "INSERT INTO t VALUES (1)")
	first := run.next(t)
	pg.Exec(t, db, "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'lost'",
		"INSERT INTO t VALUES (2)")
	select {
	case <-run.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("Stream still running")
	}
	if !errors.Is(run.err, connector.ErrConnectionLost) {
		t.Fatalf("Stream returned %v", run.err)
	}
	// Whatever arrived after the first transaction, streaming again from it
	// delivers row 2 next.
	again := startStream(t, c, req, first.Position)
	if tx := again.next(t); tx.Changes[0].After[0] != int64(2) {
		t.Fatalf("after reconnecting: %s", describe(tx))
	}
}

// With DDLSchema, a DROP TABLE of a captured table arrives as an
// OpDropTable change in commit order; dropping other tables sends nothing.
// A DDL schema where the capture objects cannot be made (here: missing)
// does not stop capture.
func TestCDCDropTable(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE t (id int PRIMARY KEY)`, `CREATE TABLE other (id int PRIMARY KEY)`, `CREATE TABLE kept (id int PRIMARY KEY)`)
	c := open(t, pg, db, connector.RoleSource)
	tb, kept := sourceTable(t, c, "public", "t"), sourceTable(t, c, "public", "kept")
	req := cdcRequest("drops", tb, kept)
	req.NoSnapshot, req.DDLSchema = true, "public"
	_, pos := beginCDC(t, c, req)
	pg.Exec(t, db, "INSERT INTO t VALUES (1)", "DROP TABLE other", "DROP TABLE t", "INSERT INTO kept VALUES (1)")
	run := startStream(t, c, req, pos)
	next := func() *record.Transaction {
		for {
			if tx := run.next(t); len(tx.Changes) > 0 {
				return tx
			}
		}
	}
	if tx := next(); tx.Changes[0].Op != record.OpInsert || tx.Changes[0].Table != tb {
		t.Fatalf("first: %s", describe(tx))
	}
	if tx := next(); len(tx.Changes) != 1 || tx.Changes[0].Op != record.OpDropTable || tx.Changes[0].Table != tb {
		t.Fatalf("after DROP TABLE: %s", describe(tx))
	}
	if tx := next(); tx.Changes[0].Op != record.OpInsert || tx.Changes[0].Table != kept {
		t.Fatalf("last: %s", describe(tx))
	}
	run.stop(t)

	req2 := cdcRequest("drops2", kept)
	req2.NoSnapshot, req2.DDLSchema = true, "no_such_schema"
	_, pos = beginCDC(t, c, req2)
	pg.Exec(t, db, "INSERT INTO kept VALUES (2)")
	run = startStream(t, c, req2, pos)
	if tx := next(); fmt.Sprint(tx.Changes[0].After[0]) != "2" {
		t.Fatalf("without DDL capture: %s", describe(tx))
	}
}
