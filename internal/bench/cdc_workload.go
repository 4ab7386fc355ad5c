package bench

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// The CDC workload: pgbench-style transactions of a fixed number of row
// changes on the benchmark table, a mix of updates, inserts and deletes.
// Every row a transaction writes gets the transaction's sequence number in
// its version column, so a row on the target tells which source
// transaction it came from (the latency is measured from that).
//
// The keys are split between the clients (client c owns the ids ≡ c mod
// the number of clients) and each client plans its own transactions, so
// concurrent clients never touch the same row and every statement changes
// exactly the rows it names: the workload's change count is exact.

// cdcMix is the workload's share of each kind of change, in percent.
type cdcMix struct{ Update, Insert, Delete int }

// parseMix reads "update=70,insert=20,delete=10" (any order; missing kinds
// are 0; the shares must add up to 100).
func parseMix(s string) (cdcMix, error) {
	var m cdcMix
	for _, part := range SplitList(s) {
		k, v, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if !ok || err != nil || n < 0 {
			return m, fmt.Errorf("mix %q: %q is not kind=percent", s, part)
		}
		switch strings.TrimSpace(k) {
		case "update":
			m.Update = n
		case "insert":
			m.Insert = n
		case "delete":
			m.Delete = n
		default:
			return m, fmt.Errorf("mix %q: unknown kind %q (update, insert, delete)", s, k)
		}
	}
	if m.Update+m.Insert+m.Delete != 100 {
		return m, fmt.Errorf("mix %q adds up to %d%%, not 100%%", s, m.Update+m.Insert+m.Delete)
	}
	return m, nil
}

func (m cdcMix) String() string {
	return fmt.Sprintf("update=%d,insert=%d,delete=%d", m.Update, m.Insert, m.Delete)
}

// cdcTx is one planned source transaction.
type cdcTx struct {
	Seq                       int64 // written into version by every row it writes
	Updates, Inserts, Deletes []int64
}

func (t *cdcTx) changes() int { return len(t.Updates) + len(t.Inserts) + len(t.Deletes) }

// keyspace is one client's share of the table and its planner: the ids
// part, part+parts, ... of the initial rows 1..rows, the ids it inserted
// above them, and the ids it deleted.
type keyspace struct {
	first, parts int64 // the smallest owned id, the stride
	owned        int64 // owned ids among the initial rows
	hot          []int64
	isHot        map[int64]bool
	nextInsert   int64
	deleted      map[int64]bool
	mix          cdcMix
	rnd          *rand.Rand
}

// newKeyspace plans client part (0 ≤ part < parts) of a table of rows
// initial rows; with hot > 0, updates go to the client's hot first owned
// ids (never deleted).
func newKeyspace(part, parts, rows int64, hot int, mix cdcMix, seed uint64) *keyspace {
	first := part
	if first == 0 {
		first = parts
	}
	k := &keyspace{first: first, parts: parts, owned: max((rows-first)/parts+1, 0), deleted: map[int64]bool{}, isHot: map[int64]bool{},
		mix: mix, rnd: rand.New(rand.NewPCG(seed, uint64(part)))}
	k.nextInsert = first + k.owned*parts
	for i := int64(0); i < int64(hot) && i < k.owned; i++ {
		id := first + i*parts
		k.hot = append(k.hot, id)
		k.isHot[id] = true
	}
	return k
}

// randomLive draws an owned initial id that is not deleted, not hot (when
// avoidHot) and not in used.
func (k *keyspace) randomLive(used map[int64]bool, avoidHot bool) (int64, error) {
	for range 1000 {
		id := k.first + k.rnd.Int64N(k.owned)*k.parts
		if !k.deleted[id] && !used[id] && !(avoidHot && k.isHot[id]) {
			return id, nil
		}
	}
	return 0, errors.New("the workload ran out of rows to change: use more rows or fewer changes")
}

// next plans a transaction of size changes.
func (k *keyspace) next(seq int64, size int) (cdcTx, error) {
	tx := cdcTx{Seq: seq}
	used := map[int64]bool{}
	for range size {
		r := k.rnd.IntN(100)
		switch {
		case r < k.mix.Update:
			id := int64(0)
			if len(k.hot) > 0 {
				for _, i := range k.rnd.Perm(len(k.hot)) {
					if !used[k.hot[i]] {
						id = k.hot[i]
						break
					}
				}
			}
			if id == 0 {
				var err error
				if id, err = k.randomLive(used, false); err != nil {
					return tx, err
				}
			}
			used[id] = true
			tx.Updates = append(tx.Updates, id)
		case r < k.mix.Update+k.mix.Insert:
			tx.Inserts = append(tx.Inserts, k.nextInsert)
			k.nextInsert += k.parts
		default:
			id, err := k.randomLive(used, true)
			if err != nil {
				return tx, err
			}
			used[id] = true
			k.deleted[id] = true
			tx.Deletes = append(tx.Deletes, id)
		}
	}
	return tx, nil
}

// statements are the transaction's SQL, the same on PostgreSQL and
// MariaDB, with the number of rows each must change: one UPDATE, one
// multi-row INSERT and one DELETE at most. Inserted rows have the values
// the fill gives the same id (dataset.go), but the version and the time.
func (t *cdcTx) statements() (stmts []string, rows []int) {
	if len(t.Updates) > 0 {
		stmts = append(stmts, fmt.Sprintf("UPDATE t SET qty = qty + 1, amount = amount + 1, version = %d, code = 'U-%d', created_at = CURRENT_TIMESTAMP(6) WHERE id IN (%s)",
			t.Seq, t.Seq, joinIDs(t.Updates)))
		rows = append(rows, len(t.Updates))
	}
	if len(t.Inserts) > 0 {
		var b strings.Builder
		b.WriteString("INSERT INTO t (id, account_id, qty, version, code, note, amount, created_at, active, attrs) VALUES ")
		for i, id := range t.Inserts {
			if i > 0 {
				b.WriteString(", ")
			}
			note := strings.Repeat(md5Hex(strconv.FormatInt(id*3, 10)), 4)[:100]
			amount := (id * 104729) % 100000000
			fmt.Fprintf(&b, `(%d, %d, %d, %d, 'C-%s', '%s', %d.%02d, CURRENT_TIMESTAMP(6), %t, '{"k": %d, "tag": "tag%d", "flags": [%d, %d], "ok": %t}')`,
				id, (id*7919)%100000, id%1000, t.Seq, md5Hex(strconv.FormatInt(id, 10)), note, amount/100, amount%100, id%3 == 0,
				id, id%100, id%7, id%11, id%2 == 0)
		}
		stmts = append(stmts, b.String())
		rows = append(rows, len(t.Inserts))
	}
	if len(t.Deletes) > 0 {
		stmts = append(stmts, "DELETE FROM t WHERE id IN ("+joinIDs(t.Deletes)+")")
		rows = append(rows, len(t.Deletes))
	}
	return stmts, rows
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

func md5Hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// workloadClient runs planned transactions on one source session.
type workloadClient interface {
	// commit runs the transaction and returns when COMMIT has returned.
	commit(ctx context.Context, tx *cdcTx) error
	close()
}

// pgClient is a PostgreSQL session; the whole transaction goes in one
// simple-protocol round trip.
type pgClient struct{ conn *pgconn.PgConn }

func newPGClient(ctx context.Context, dsn string, syncCommit bool) (*pgClient, error) {
	conn, err := pgconn.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if !syncCommit {
		if _, err := conn.Exec(ctx, "SET synchronous_commit = off").ReadAll(); err != nil {
			conn.Close(ctx)
			return nil, err
		}
	}
	return &pgClient{conn: conn}, nil
}

func (c *pgClient) commit(ctx context.Context, tx *cdcTx) error {
	stmts, rows := tx.statements()
	res, err := c.conn.Exec(ctx, "BEGIN; "+strings.Join(stmts, "; ")+"; COMMIT").ReadAll()
	if err != nil {
		return err
	}
	for i, want := range rows {
		if i+1 >= len(res) || res[i+1].CommandTag.RowsAffected() != int64(want) {
			return fmt.Errorf("transaction %d: %s changed other than %d rows", tx.Seq, abbreviate(stmts[i]), want)
		}
	}
	return nil
}

func (c *pgClient) close() { c.conn.Close(context.Background()) }

// mariaClient is a MariaDB session (one statement per round trip).
type mariaClient struct {
	db   *sql.DB
	conn *sql.Conn
}

func newMariaClient(ctx context.Context, dsn string) (*mariaClient, error) {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &mariaClient{db: db, conn: conn}, nil
}

func (c *mariaClient) commit(ctx context.Context, tx *cdcTx) error {
	stmts, rows := tx.statements()
	t, err := c.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for i, q := range stmts {
		res, err := t.ExecContext(ctx, q)
		if err != nil {
			t.Rollback()
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(rows[i]) {
			t.Rollback()
			return fmt.Errorf("transaction %d: %s changed %d rows, not %d (%v)", tx.Seq, abbreviate(q), n, rows[i], err)
		}
	}
	return t.Commit()
}

func (c *mariaClient) close() {
	c.conn.Close()
	c.db.Close()
}

// workload is the CDC workload of one source: its clients' keyspaces live
// as long as the source table, across runs.
type workload struct {
	mix    cdcMix
	txSize int
	spaces []*keyspace
	dial   func(ctx context.Context, syncCommit bool) (workloadClient, error)
	seq    int64 // the next transaction's sequence number
}

// seqBase is above every version the fill writes (id * 31), so a version
// at or above it is a workload transaction's.
const seqBase = 1 << 40

func newWorkload(rows int64, clients, txSize, hot int, mix cdcMix, dial func(ctx context.Context, syncCommit bool) (workloadClient, error)) *workload {
	w := &workload{mix: mix, txSize: txSize, dial: dial, seq: seqBase}
	perClient := 0
	if hot > 0 {
		perClient = (hot + clients - 1) / clients
	}
	for c := range clients {
		w.spaces = append(w.spaces, newKeyspace(int64(c), int64(clients), rows, perClient, mix, 42))
	}
	return w
}

// workloadRun is what one run of the workload did.
type workloadRun struct {
	base     int64       // the first transaction's sequence number
	txs      int         // transactions committed
	changes  int64       // row changes committed
	commits  []time.Time // when each transaction's COMMIT returned, by seq - base
	began    time.Time   // the first transaction's start
	finished time.Time   // the last COMMIT's return
}

// run commits changes row changes (rounded up to whole transactions) with
// all clients at once. rate > 0 paces the transactions to rate changes/s
// on one schedule (open loop: a late client does not shift the others);
// rate 0 runs them as fast as the clients go.
func (w *workload) run(ctx context.Context, changes int64, rate float64, syncCommit bool) (*workloadRun, error) {
	ntx := int((changes + int64(w.txSize) - 1) / int64(w.txSize))
	r := &workloadRun{base: w.seq, txs: ntx, commits: make([]time.Time, ntx)}
	w.seq += int64(ntx)
	clients := make([]workloadClient, len(w.spaces))
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.close()
			}
		}
	}()
	for i := range clients {
		c, err := w.dial(ctx, syncCommit)
		if err != nil {
			return nil, fmt.Errorf("workload client: %w", err)
		}
		clients[i] = c
	}
	var (
		next    atomic.Int64
		changed atomic.Int64
		wg      sync.WaitGroup
		errs    = make([]error, len(clients))
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.began = time.Now()
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := next.Add(1) - 1
				if k >= int64(ntx) || ctx.Err() != nil {
					return
				}
				if rate > 0 {
					due := r.began.Add(time.Duration(float64(k) * float64(w.txSize) / rate * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						select {
						case <-ctx.Done():
							return
						case <-time.After(d):
						}
					}
				}
				tx, err := w.spaces[i].next(r.base+k, w.txSize) // client i alone plans with its keyspace
				if err == nil {
					err = c.commit(ctx, &tx)
				}
				if err != nil {
					errs[i] = err
					cancel()
					return
				}
				r.commits[k] = time.Now()
				changed.Add(int64(tx.changes()))
			}
		}()
	}
	wg.Wait()
	r.changes = changed.Load()
	for _, t := range r.commits {
		if t.After(r.finished) {
			r.finished = t
		}
	}
	return r, errors.Join(errs...)
}
