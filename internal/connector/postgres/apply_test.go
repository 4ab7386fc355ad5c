package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/mysql"
	"github.com/godwit-dms/godwit/internal/connector/postgres"
	"github.com/godwit-dms/godwit/internal/record"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// applyMode is one of the two ways of applying changes.
type applyMode struct {
	name  string
	apply func(ctx context.Context, c *postgres.Conn, tables map[string]*connector.TargetTable, txs []*record.Transaction) error
}

var applyModes = []applyMode{
	{"transactional", func(ctx context.Context, c *postgres.Conn, tables map[string]*connector.TargetTable, txs []*record.Transaction) error {
		return c.ApplyTransactions(ctx, tables, txs)
	}},
	{"batch", func(ctx context.Context, c *postgres.Conn, tables map[string]*connector.TargetTable, txs []*record.Transaction) error {
		return c.ApplyBatch(ctx, tables, txs)
	}},
}

func applyTx(changes ...record.Change) *record.Transaction {
	return &record.Transaction{ID: "tx", CommitTime: time.Now(), Changes: changes}
}

func applyIns(tb *record.Table, row record.Row) record.Change {
	return record.Change{Op: record.OpInsert, Table: tb, After: row}
}

// applyUpd is an update whose old row is logged in full.
func applyUpd(tb *record.Table, before, after record.Row) record.Change {
	return record.Change{Op: record.OpUpdate, Table: tb, Before: before, BeforeFull: true, After: after}
}

// applyUpdKey is an update whose old row holds only the key (id, the
// first column), as PostgreSQL logs it by default.
func applyUpdKey(tb *record.Table, before, after record.Row) record.Change {
	return record.Change{Op: record.OpUpdate, Table: tb, Before: applyKeyOnly(before), After: after}
}

func applyDel(tb *record.Table, before record.Row) record.Change {
	return record.Change{Op: record.OpDelete, Table: tb, Before: before, BeforeFull: true}
}

func applyDelKey(tb *record.Table, before record.Row) record.Change {
	return record.Change{Op: record.OpDelete, Table: tb, Before: applyKeyOnly(before)}
}

func applyTrunc(tb *record.Table) record.Change {
	return record.Change{Op: record.OpTruncate, Table: tb}
}

// applyKeyOnly keeps the first value (the key) of row.
func applyKeyOnly(row record.Row) record.Row {
	out := make(record.Row, len(row))
	out[0] = row[0]
	return out
}

// applyWithID is row with another first value.
func applyWithID(row record.Row, id any) record.Row {
	out := slices.Clone(row)
	out[0] = id
	return out
}

// applyRetarget is tb in another schema, with or without its primary key
// (the first column when it has none).
func applyRetarget(tb *record.Table, schema, name string, keyed bool) *record.Table {
	c := *tb
	c.Schema, c.Name = schema, name
	c.Columns = slices.Clone(tb.Columns)
	if !keyed {
		c.PrimaryKey, c.UniqueKeys = nil, nil
	} else if len(c.PrimaryKey) == 0 {
		c.PrimaryKey = []string{c.Columns[0].Name}
	}
	return &c
}

// applyTargets maps source tables to target tables (keyed by their
// primary key).
func applyTargets(pairs ...any) map[string]*connector.TargetTable {
	m := map[string]*connector.TargetTable{}
	for i := 0; i < len(pairs); i += 2 {
		src, dst := pairs[i].(*record.Table), pairs[i+1].(*record.Table)
		m[src.Schema+"."+src.Name] = &connector.TargetTable{Target: dst, Key: dst.PrimaryKey}
	}
	return m
}

// applyPrepared creates (drop and create) the target tables.
func applyPrepared(t *testing.T, c *postgres.Conn, tables ...*record.Table) {
	t.Helper()
	for _, tb := range tables {
		if err := c.PrepareTable(testCtx(t), tb, connector.PrepDropAndCreate, false); err != nil {
			t.Fatal(err)
		}
	}
}

// applyLoaded creates table with rows (the full-load path: the reference).
func applyLoaded(t *testing.T, c *postgres.Conn, tb *record.Table, rows ...record.Row) {
	t.Helper()
	applyPrepared(t, c, tb)
	if len(rows) > 0 {
		if err := c.Load(testCtx(t), tb, rows); err != nil {
			t.Fatal(err)
		}
	}
}

// applySortedOutputs is the text of every row of tb, sorted (tables without a
// key have no order of their own).
func applySortedOutputs(t *testing.T, pg *testenv.PGServer, db string, tb *record.Table) []string {
	t.Helper()
	var out []string
	for _, r := range outputs(t, client(t, pg, db), tb) {
		out = append(out, strings.Join(r, " | "))
	}
	slices.Sort(out)
	return out
}

// applySameRows fails when the rows of got and want (tables of db) differ.
func applySameRows(t *testing.T, pg *testenv.PGServer, db string, got, want *record.Table) {
	t.Helper()
	g, w := applySortedOutputs(t, pg, db, got), applySortedOutputs(t, pg, db, want)
	if !slices.Equal(g, w) {
		t.Errorf("%s differs from %s:\n got %q\nwant %q", got.QualifiedName(), want.QualifiedName(), g, w)
	}
}

// applyTypedSource creates the table of every type (types_test.go) in a new
// database and reads its three rows.
func applyTypedSource(t *testing.T, pg *testenv.PGServer) (*record.Table, []record.Row) {
	t.Helper()
	db := pg.NewDatabase(t)
	ddl := `CREATE TABLE typed (id int PRIMARY KEY`
	for _, tc := range typeCases {
		ddl += ", " + tc.col + " " + tc.typ
	}
	stmts := []string{`CREATE TYPE mood AS ENUM ('sad', 'ok', 'very happy')`, `CREATE DOMAIN posint AS integer CHECK (VALUE > 0)`,
		`CREATE TYPE pair AS (n int, s text)`, ddl + ")"}
	for r := 0; r < 3; r++ {
		ins := fmt.Sprintf("INSERT INTO typed VALUES (%d", r+1)
		for _, tc := range typeCases {
			ins += ", " + tc.values[r]
		}
		stmts = append(stmts, ins+")")
	}
	pg.Exec(t, db, stmts...)
	src := open(t, pg, db, connector.RoleSource)
	tb := sourceTable(t, src, "public", "typed")
	rows, _ := readAll(t, snapshot(t, src, 1), &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}})
	return tb, rows
}

// applyTypedChanges inserts, updates and deletes rows of every type; the final
// rows are returned too. With keyed, old rows are logged as keys only.
func applyTypedChanges(tb *record.Table, rows []record.Row, keyed bool) ([]*record.Transaction, []record.Row) {
	r1, r2, r3 := rows[0], rows[1], rows[2]
	upd, del := applyUpd, applyDel
	if keyed {
		upd, del = applyUpdKey, applyDelKey
	}
	r4 := applyWithID(r1, int64(4))
	r5 := applyWithID(r2, int64(5))
	txs := []*record.Transaction{
		applyTx(applyIns(tb, r1), applyIns(tb, r2), applyIns(tb, r3)),
		applyTx(upd(tb, r1, applyWithID(r3, int64(1)))),
		applyTx(upd(tb, r3, applyWithID(r2, int64(3))), del(tb, r2)),
		applyTx(applyIns(tb, r4), upd(tb, r4, applyWithID(r3, int64(4))), applyIns(tb, r5), del(tb, r5)),
	}
	return txs, []record.Row{applyWithID(r3, int64(1)), applyWithID(r2, int64(3)), applyWithID(r3, int64(4))}
}

// Every type, as Read returns it, is inserted, updated and deleted, with and
// without a key; the result is what a full load of the final rows gives,
// and applying the same changes again changes nothing.
func TestApplyTypes(t *testing.T) {
	pg := testenv.Postgres(t)
	tb, rows := applyTypedSource(t, pg)
	for _, mode := range applyModes {
		for _, keyed := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/keyed=%v", mode.name, keyed), func(t *testing.T) {
				db := pg.NewDatabase(t)
				dst := open(t, pg, db, connector.RoleTarget)
				applied := applyRetarget(tb, "tgt", "applied", keyed)
				expected := applyRetarget(tb, "tgt", "expected", keyed)
				txs, final := applyTypedChanges(tb, rows, keyed)
				applyPrepared(t, dst, applied)
				applyLoaded(t, dst, expected, final...)
				tables := applyTargets(tb, applied)
				ctx := testCtx(t)
				if err := mode.apply(ctx, dst, tables, txs); err != nil {
					t.Fatal(err)
				}
				applySameRows(t, pg, db, applied, expected)
				if !keyed {
					return
				}
				// A replay converges to the same rows.
				if err := mode.apply(ctx, dst, tables, txs); err != nil {
					t.Fatal(err)
				}
				applySameRows(t, pg, db, applied, expected)
				// So does one of each transaction in its own call.
				for _, tx := range txs {
					if err := mode.apply(ctx, dst, tables, []*record.Transaction{tx}); err != nil {
						t.Fatal(err)
					}
				}
				applySameRows(t, pg, db, applied, expected)
			})
		}
	}
}

// applyKVTable is a small source table: id int key, v text, n int.
func applyKVTable(name string) *record.Table {
	return &record.Table{Schema: "src", Name: name, PrimaryKey: []string{"id"}, Columns: []record.Column{
		{Name: "id", Type: record.Type{Kind: record.KindInt32}},
		{Name: "v", Type: record.Type{Kind: record.KindText}, Nullable: true},
		{Name: "n", Type: record.Type{Kind: record.KindInt32}, Nullable: true},
	}}
}

func applyKV(id int64, v string, n int64) record.Row { return record.Row{id, v, n} }

// applyCase is a run of changes on an applyKVTable table and the rows it
// ends with.
type applyCase struct {
	name    string
	initial []record.Row
	txs     func(tb *record.Table) []*record.Transaction
	want    []record.Row
}

// applyKeying is how the target table of a case finds rows.
type applyKeying int

const (
	applyWithPK          applyKeying = iota
	applyWithoutKey                  // no key: rows are matched on every column
	applyKeyWithoutIndex             // a key no unique index backs
)

// applyRunCases applies each case in each mode on a table loaded with its
// initial rows, checks the result, replays it (with a key) and checks
// again.
func applyRunCases(t *testing.T, cases []applyCase, keying applyKeying) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	dst := open(t, pg, db, connector.RoleTarget)
	for _, mode := range applyModes {
		for i, tc := range cases {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				src := applyKVTable(fmt.Sprintf("t%d", i))
				applied := applyRetarget(src, "tgt", src.Name+"_"+mode.name, keying == applyWithPK)
				expected := applyRetarget(src, "tgt", src.Name+"_"+mode.name+"_want", keying == applyWithPK)
				applyLoaded(t, dst, applied, tc.initial...)
				applyLoaded(t, dst, expected, tc.want...)
				tables := applyTargets(src, applied)
				if keying == applyKeyWithoutIndex {
					tables[src.Schema+"."+src.Name].Key = []string{"id"}
				}
				txs := tc.txs(src)
				if err := mode.apply(testCtx(t), dst, tables, txs); err != nil {
					t.Fatal(err)
				}
				applySameRows(t, pg, db, applied, expected)
				if keying != applyWithoutKey {
					if err := mode.apply(testCtx(t), dst, tables, txs); err != nil {
						t.Fatal(err)
					}
					applySameRows(t, pg, db, applied, expected)
				}
			})
		}
	}
}

// applyKeyedCases are key changes, alone and in chains, two rows exchanging
// their keys through a free one, and the net changes of a batch (insert
// then update, insert then delete, update chains, delete then insert,
// truncate in the middle).
func applyKeyedCases() []applyCase {
	u, d, i := applyUpdKey, applyDelKey, applyIns
	return []applyCase{
		{"key change", []record.Row{applyKV(1, "a", 1), applyKV(2, "b", 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, applyKV(1, "a", 1), applyKV(10, "a", 11)))}
			}, []record.Row{applyKV(10, "a", 11), applyKV(2, "b", 2)}},
		{"key change and back", []record.Row{applyKV(1, "a", 1), applyKV(2, "b", 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, applyKV(1, "a", 1), applyKV(3, "a", 3)), u(tb, applyKV(3, "a", 3), applyKV(1, "a2", 4)))}
			}, []record.Row{applyKV(1, "a2", 4), applyKV(2, "b", 2)}},
		{"swap through a free key", []record.Row{applyKV(1, "a", 1), applyKV(2, "b", 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(
					u(tb, applyKV(1, "a", 1), applyKV(3, "a", 1)),
					u(tb, applyKV(2, "b", 2), applyKV(1, "b", 2)),
					u(tb, applyKV(3, "a", 1), applyKV(2, "a", 1)))}
			}, []record.Row{applyKV(1, "b", 2), applyKV(2, "a", 1)}},
		{"key chain across transactions", []record.Row{applyKV(1, "a", 1)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, applyKV(1, "a", 1), applyKV(2, "a", 2))), applyTx(u(tb, applyKV(2, "a", 2), applyKV(3, "a", 3))),
					applyTx(i(tb, applyKV(1, "new", 9)))}
			}, []record.Row{applyKV(1, "new", 9), applyKV(3, "a", 3)}},
		{"insert then update", nil,
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(i(tb, applyKV(1, "a", 1))), applyTx(u(tb, applyKV(1, "a", 1), applyKV(1, "b", 2)), u(tb, applyKV(1, "b", 2), applyKV(1, "c", 3)))}
			}, []record.Row{applyKV(1, "c", 3)}},
		{"insert then delete", []record.Row{applyKV(2, "b", 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(i(tb, applyKV(1, "a", 1))), applyTx(d(tb, applyKV(1, "a", 1)))}
			}, []record.Row{applyKV(2, "b", 2)}},
		{"insert then delete of a row already there (replay)", []record.Row{applyKV(1, "a", 1)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(i(tb, applyKV(1, "a", 1)), d(tb, applyKV(1, "a", 1)))}
			}, nil},
		{"update then delete", []record.Row{applyKV(1, "a", 1), applyKV(2, "b", 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, applyKV(1, "a", 1), applyKV(1, "x", 5))), applyTx(d(tb, applyKV(1, "x", 5)))}
			}, []record.Row{applyKV(2, "b", 2)}},
		{"key change then delete", []record.Row{applyKV(1, "a", 1), applyKV(2, "b", 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, applyKV(1, "a", 1), applyKV(5, "a", 1)), d(tb, applyKV(5, "a", 1)))}
			}, []record.Row{applyKV(2, "b", 2)}},
		{"delete then insert", []record.Row{applyKV(1, "a", 1)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(d(tb, applyKV(1, "a", 1)), i(tb, applyKV(1, "again", 2)))}
			}, []record.Row{applyKV(1, "again", 2)}},
		{"update of a missing row", nil,
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, applyKV(7, "a", 1), applyKV(7, "b", 2)))}
			}, []record.Row{applyKV(7, "b", 2)}},
		{"delete of a missing row", []record.Row{applyKV(1, "a", 1)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(d(tb, applyKV(9, "a", 1)))}
			}, []record.Row{applyKV(1, "a", 1)}},
		{"many rows", nil,
			func(tb *record.Table) []*record.Transaction {
				var txs []*record.Transaction
				for k := int64(1); k <= 700; k++ {
					txs = append(txs, applyTx(i(tb, applyKV(k, "v", k))))
				}
				for k := int64(1); k <= 700; k += 2 {
					txs = append(txs, applyTx(u(tb, applyKV(k, "v", k), applyKV(k, "odd", -k))))
				}
				for k := int64(1); k <= 700; k += 3 {
					txs = append(txs, applyTx(d(tb, applyKV(k, "", 0))))
				}
				return txs
			}, func() []record.Row {
				var rows []record.Row
				for k := int64(1); k <= 700; k++ {
					switch {
					case (k-1)%3 == 0:
					case k%2 == 1:
						rows = append(rows, applyKV(k, "odd", -k))
					default:
						rows = append(rows, applyKV(k, "v", k))
					}
				}
				return rows
			}()},
		{"truncate in the middle", []record.Row{applyKV(1, "a", 1), applyKV(2, "b", 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(i(tb, applyKV(3, "c", 3)), u(tb, applyKV(1, "a", 1), applyKV(1, "x", 1))),
					applyTx(applyTrunc(tb)), applyTx(i(tb, applyKV(4, "d", 4)), i(tb, applyKV(1, "e", 5))), applyTx(u(tb, applyKV(4, "d", 4), applyKV(4, "dd", 4)))}
			}, []record.Row{applyKV(1, "e", 5), applyKV(4, "dd", 4)}},
	}
}

func TestApplyKeyedCases(t *testing.T) { applyRunCases(t, applyKeyedCases(), applyWithPK) }

// Without a unique index on the key, an upsert is a delete and an insert.
func TestApplyKeyWithoutIndex(t *testing.T) {
	applyRunCases(t, applyKeyedCases(), applyKeyWithoutIndex)
}

// A table without a key: inserts add rows (duplicates included), an update
// or a delete changes one row equal to the old row.
func TestApplyNoKey(t *testing.T) {
	u, d, i := applyUpd, applyDel, applyIns
	applyRunCases(t, []applyCase{
		{"duplicates", []record.Row{applyKV(1, "x", 1), applyKV(1, "x", 1)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(i(tb, applyKV(2, "y", 2)), i(tb, applyKV(2, "y", 2)), u(tb, applyKV(1, "x", 1), applyKV(1, "z", 3))),
					applyTx(d(tb, applyKV(2, "y", 2)))}
			}, []record.Row{applyKV(1, "x", 1), applyKV(1, "z", 3), applyKV(2, "y", 2)}},
		{"NULLs", []record.Row{{int64(1), nil, nil}},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, record.Row{int64(1), nil, nil}, record.Row{int64(1), "set", nil}), i(tb, record.Row{int64(2), nil, nil})),
					applyTx(d(tb, record.Row{int64(2), nil, nil}))}
			}, []record.Row{{int64(1), "set", nil}}},
		{"truncate", []record.Row{applyKV(1, "x", 1)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(i(tb, applyKV(2, "y", 2)), applyTrunc(tb), i(tb, applyKV(3, "z", 3)))}
			}, []record.Row{applyKV(3, "z", 3)}},
	}, applyWithoutKey)
}

// Values the source did not send (Unchanged) keep the target's, in an
// update, a key change and after an insert of the same batch.
func TestApplyUnchanged(t *testing.T) {
	U := record.Unchanged
	u := func(tb *record.Table, before, after record.Row) record.Change { return applyUpdKey(tb, before, after) }
	big := strings.Repeat("toasted ", 4000)
	applyRunCases(t, []applyCase{
		{"update", []record.Row{applyKV(1, big, 1), applyKV(2, big, 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, applyKV(1, "", 1), record.Row{int64(1), U, int64(10)})),
					applyTx(u(tb, applyKV(2, "", 2), record.Row{int64(2), U, int64(20)}), u(tb, applyKV(2, "", 2), record.Row{int64(2), U, int64(21)}))}
			}, []record.Row{applyKV(1, big, 10), applyKV(2, big, 21)}},
		{"key change", []record.Row{applyKV(1, big, 1), applyKV(2, "b", 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, applyKV(1, "", 1), record.Row{int64(5), U, int64(50)}),
					u(tb, applyKV(2, "", 2), record.Row{int64(2), U, int64(20)}))}
			}, []record.Row{applyKV(5, big, 50), applyKV(2, "b", 20)}},
		{"after an insert", nil,
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(applyIns(tb, applyKV(1, big, 1))), applyTx(u(tb, applyKV(1, "", 1), record.Row{int64(1), U, int64(2)})),
					applyTx(u(tb, applyKV(1, "", 1), record.Row{int64(3), U, int64(3)}))}
			}, []record.Row{applyKV(3, big, 3)}},
		{"missing row", []record.Row{applyKV(1, "a", 1)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, applyKV(9, "", 9), record.Row{int64(9), U, int64(9)}), u(tb, applyKV(1, "", 1), record.Row{int64(1), U, int64(2)}))}
			}, []record.Row{applyKV(1, "a", 2)}},
	}, applyWithPK)
}

// A row the target refuses fails the call with ErrRowRejected naming the
// table, and nothing of the call is committed.
func TestApplyRejected(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	dst := open(t, pg, db, connector.RoleTarget)
	src := &record.Table{Schema: "src", Name: "r", PrimaryKey: []string{"id"}, Columns: []record.Column{
		{Name: "id", Type: record.Type{Kind: record.KindInt32}},
		{Name: "v", Type: record.Type{Kind: record.KindString, Length: 3}},
	}}
	other := applyKVTable("other")
	for _, mode := range applyModes {
		for _, tc := range []struct {
			name string
			bad  record.Change
			want string
		}{
			{"too long", applyIns(src, record.Row{int64(3), "abcd"}), "22001"},
			{"NOT NULL", applyIns(src, record.Row{int64(3), nil}), "23502"},
			{"NOT NULL in an update", applyUpdKey(src, record.Row{int64(1), "a"}, record.Row{int64(1), nil}), "23502"},
			{"NUL in text", applyIns(src, record.Row{int64(3), "a\x00"}), "22021"},
			{"out of range", applyIns(src, record.Row{int64(1) << 40, "x"}), "integer"},
			{"not a number", applyIns(src, record.Row{"x", "x"}), "22P02"},
		} {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				applied := applyRetarget(src, "tgt", "r", true)
				otherT := applyRetarget(other, "tgt", "other", true)
				applyLoaded(t, dst, applied, record.Row{int64(1), "a"}, record.Row{int64(2), "b"})
				applyLoaded(t, dst, otherT)
				txs := []*record.Transaction{
					applyTx(applyIns(other, applyKV(1, "x", 1)), applyIns(src, record.Row{int64(5), "ok"})),
					applyTx(applyDelKey(src, record.Row{int64(2), "b"}), tc.bad),
					applyTx(applyIns(src, record.Row{int64(6), "ok"})),
				}
				err := mode.apply(testCtx(t), dst, applyTargets(src, applied, other, otherT), txs)
				if !errors.Is(err, connector.ErrRowRejected) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"tgt"."r"`) {
					t.Fatalf("%v, want ErrRowRejected on \"tgt\".\"r\" mentioning %s", err, tc.want)
				}
				if errors.Is(err, connector.ErrConnectionLost) {
					t.Errorf("classified as a lost connection: %v", err)
				}
				t.Log(err)
				conn := client(t, pg, db)
				if got := queryStrings(t, conn, `SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM tgt.r`)[0][0]; got != "1=a,2=b" {
					t.Errorf("rows %s after the rejected call", got)
				}
				if got := queryStrings(t, conn, `SELECT count(*) FROM tgt.other`)[0][0]; got != "0" {
					t.Errorf("%s rows in the other table after the rejected call", got)
				}
				// The connector goes on.
				if err := mode.apply(testCtx(t), dst, applyTargets(src, applied), txs[2:]); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// Changes of tables the call does not map are skipped.
func TestApplyUnknownTable(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	dst := open(t, pg, db, connector.RoleTarget)
	src := applyKVTable("known")
	applied := applyRetarget(src, "tgt", "known", true)
	applyLoaded(t, dst, applied)
	for _, mode := range applyModes {
		txs := []*record.Transaction{applyTx(applyIns(applyKVTable("unknown"), applyKV(1, "x", 1)), applyIns(src, applyKV(2, "y", 2)))}
		if err := mode.apply(testCtx(t), dst, applyTargets(src, applied), txs); err != nil {
			t.Fatal(err)
		}
	}
	if got := queryStrings(t, client(t, pg, db), `SELECT string_agg(id::text, ',') FROM tgt.known`)[0][0]; got != "2" {
		t.Errorf("rows %s", got)
	}
}

// A transform maps the source row to the target's columns, old and new rows
// alike.
func TestApplyTransform(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	dst := open(t, pg, db, connector.RoleTarget)
	src := applyKVTable("tr")
	target := &record.Table{Schema: "tgt", Name: "tr", PrimaryKey: []string{"key"}, Columns: []record.Column{
		{Name: "key", Type: record.Type{Kind: record.KindInt64}},
		{Name: "upper", Type: record.Type{Kind: record.KindText}, Nullable: true},
	}}
	tt := &connector.TargetTable{Target: target, Key: []string{"key"}, Transform: func(r record.Row) (record.Row, error) {
		v, _ := r[1].(string)
		return record.Row{r[0], strings.ToUpper(v)}, nil
	}}
	for _, mode := range applyModes {
		applyLoaded(t, dst, target)
		txs := []*record.Transaction{applyTx(applyIns(src, applyKV(1, "a", 1)), applyIns(src, applyKV(2, "b", 2)), applyUpdKey(src, applyKV(1, "a", 1), applyKV(3, "c", 3)),
			applyDelKey(src, applyKV(2, "", 0)))}
		if err := mode.apply(testCtx(t), dst, map[string]*connector.TargetTable{"src.tr": tt}, txs); err != nil {
			t.Fatal(err)
		}
		if got := queryStrings(t, client(t, pg, db), `SELECT string_agg(key || '=' || upper, ',') FROM tgt.tr`)[0][0]; got != "3=C" {
			t.Errorf("%s: rows %s", mode.name, got)
		}
	}
}

// A broken session is ErrConnectionLost; the next call works.
func TestApplyConnectionLost(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	dst := open(t, pg, db, connector.RoleTarget)
	src := applyKVTable("lost")
	applied := applyRetarget(src, "tgt", "lost", true)
	applyLoaded(t, dst, applied)
	tables := applyTargets(src, applied)
	for _, mode := range applyModes {
		if err := mode.apply(testCtx(t), dst, tables, []*record.Transaction{applyTx(applyIns(src, applyKV(1, "a", 1)))}); err != nil {
			t.Fatal(err)
		}
		pg.Exec(t, db, fmt.Sprintf(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' AND application_name = 'godwit'`, db))
		time.Sleep(100 * time.Millisecond)
		err := mode.apply(testCtx(t), dst, tables, []*record.Transaction{applyTx(applyIns(src, applyKV(2, "b", 2)))})
		if !errors.Is(err, connector.ErrConnectionLost) || errors.Is(err, connector.ErrRowRejected) {
			t.Errorf("%s on a terminated session: %v", mode.name, err)
		}
		if err := mode.apply(testCtx(t), dst, tables, []*record.Transaction{applyTx(applyIns(src, applyKV(3, "c", 3)))}); err != nil {
			t.Errorf("%s after reconnecting: %v", mode.name, err)
		}
		pg.Exec(t, db, "TRUNCATE tgt.lost")
	}
}

// applyMariaDDL is a MariaDB table with the types a MySQL source has.
const applyMariaDDL = `CREATE TABLE m (
	id int PRIMARY KEY, ti tinyint, tb tinyint(1), su smallint unsigned, mi mediumint, iu int unsigned,
	bi bigint, bu bigint unsigned, de decimal(20,6), fl float, db double, bt bit(1), b12 bit(12),
	ch char(5), vc varchar(64), tx text, lt longtext, bn binary(4), vb varbinary(16), bl blob,
	d date, tm time(6), dt datetime, dt6 datetime(6), ts timestamp(3) NULL DEFAULT NULL, y year,
	j json, e enum('a','b''c'), st set('x','y'))`

const applyMariaRows = `INSERT INTO m VALUES
(1, -128, 1, 65535, -8000000, 4000000000, -9000000000000000000, 18446744073709551615, '-12345678901234.123456', 0.1, -1.7976931348623157e308,
 b'1', b'101010101010', 'ab', 'héllo 🐦', 'tab\there\nnew', 'long', x'00ff0a09', x'5c00', x'0102',
 '2024-02-29', '12:34:56.789012', '2024-02-29 23:59:59', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01.5', 2024,
 '{"a": [1, "x"]}', 'b''c', 'x,y'),
(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(3, 127, 0, 0, 8388607, 0, 9223372036854775807, 0, '0.000001', 3.4028234e38, 0, b'0', b'000000000000', '', '', '', '', x'', x'', x'',
 '1000-01-01', '00:00:00', '1000-01-01 00:00:00', '2038-01-19 03:14:07.999999', '2038-01-19 03:14:07.999', 1901,
 '[]', 'a', '')`

// Changes read from a MariaDB table (its Tables() shape and Read values)
// land on PostgreSQL like a full load of the same rows.
func TestApplyFromMySQL(t *testing.T) {
	my := testenv.MariaDB(t)
	mdb := my.NewDatabase(t)
	my.Exec(t, mdb, applyMariaDDL, applyMariaRows)
	msrc, err := mysql.New(connector.Endpoint{Engine: "mariadb", Role: connector.RoleSource, Host: my.Host, Port: my.Port,
		Database: mdb, Username: my.User, Password: my.Password, SSLMode: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer msrc.Close()
	ms := msrc.(*mysql.Conn)
	tables, err := ms.Tables(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	tb := tableNamed(t, tables, mdb, "m")
	snap, err := ms.OpenSnapshot(testCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := readAll(t, snap, &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}})
	snap.Close()

	pg := testenv.Postgres(t)
	for _, mode := range applyModes {
		for _, keyed := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/keyed=%v", mode.name, keyed), func(t *testing.T) {
				db := pg.NewDatabase(t)
				dst := open(t, pg, db, connector.RoleTarget)
				applied := applyRetarget(tb, "tgt", "applied", keyed)
				expected := applyRetarget(tb, "tgt", "expected", keyed)
				// MySQL logs whole old rows.
				txs, final := applyTypedChanges(tb, rows, false)
				applyPrepared(t, dst, applied)
				applyLoaded(t, dst, expected, final...)
				tables := applyTargets(tb, applied)
				if err := mode.apply(testCtx(t), dst, tables, txs); err != nil {
					t.Fatal(err)
				}
				applySameRows(t, pg, db, applied, expected)
				if keyed {
					if err := mode.apply(testCtx(t), dst, tables, txs); err != nil {
						t.Fatal(err)
					}
					applySameRows(t, pg, db, applied, expected)
				}
			})
		}
	}
}

// More statement shapes than a session keeps prepared: the least recently
// used are deallocated, and used again later, prepared again.
func TestApplyManyShapes(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	dst := open(t, pg, db, connector.RoleTarget)
	src := &record.Table{Schema: "src", Name: "wide", PrimaryKey: []string{"id"}, Columns: []record.Column{{Name: "id", Type: record.Type{Kind: record.KindInt32}}}}
	for j := range 9 {
		src.Columns = append(src.Columns, record.Column{Name: fmt.Sprintf("c%d", j), Type: record.Type{Kind: record.KindInt32}, Nullable: true})
	}
	applied := applyRetarget(src, "tgt", "wide", true)
	expected := applyRetarget(src, "tgt", "wide_want", true)
	var initial, want []record.Row
	var txs []*record.Transaction
	for k := int64(1); k <= 300; k++ {
		zero, final, after := record.Row{k}, record.Row{k}, record.Row{k}
		for j := range 9 {
			zero = append(zero, int64(0))
			if k&(1<<j) != 0 {
				final, after = append(final, k), append(after, k)
			} else {
				final, after = append(final, int64(0)), append(after, record.Unchanged)
			}
		}
		initial, want = append(initial, zero), append(want, final)
		txs = append(txs, applyTx(applyUpdKey(src, zero, after)))
	}
	applyLoaded(t, dst, applied, initial...)
	applyLoaded(t, dst, expected, want...)
	tables := applyTargets(src, applied)
	for round := range 2 {
		for _, tx := range txs {
			if err := dst.ApplyTransactions(testCtx(t), tables, []*record.Transaction{tx}); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
	applySameRows(t, pg, db, applied, expected)
	n := queryStrings(t, client(t, pg, db), `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'godwit'`)
	if n[0][0] != "1" {
		t.Errorf("%s sessions, want 1", n[0][0])
	}
}

// A batch whose staging rows take several COPY chunks (and a value the
// binary encoding cannot carry, which sends the whole batch as text)
// arrives whole and once.
func TestApplyBatchManyChunks(t *testing.T) {
	pg := testenv.Postgres(t)
	for _, text := range []bool{false, true} {
		t.Run(fmt.Sprintf("text=%v", text), func(t *testing.T) {
			db := pg.NewDatabase(t)
			dst := open(t, pg, db, connector.RoleTarget)
			src := applyKVTable("src")
			applied := applyRetarget(src, "tgt", "applied", true)
			expected := applyRetarget(src, "tgt", "expected", true)
			applyPrepared(t, dst, applied)
			var changes []record.Change
			var want []record.Row
			pad := strings.Repeat("x", 300)
			for k := int64(1); k <= 4000; k++ {
				row := applyKV(k, fmt.Sprintf("%d %s", k, pad), k*2)
				if text && k == 3999 {
					row[2] = "7998" // an integer as text: only the text format reads it
				}
				changes = append(changes, applyIns(src, row))
				want = append(want, applyKV(k, fmt.Sprintf("%d %s", k, pad), k*2))
			}
			applyLoaded(t, dst, expected, want...)
			if err := dst.ApplyBatch(testCtx(t), applyTargets(src, applied), []*record.Transaction{applyTx(changes...)}); err != nil {
				t.Fatal(err)
			}
			applySameRows(t, pg, db, applied, expected)
		})
	}
}

// Transactional apply gathers upserts and deletes of different rows into
// one statement of each only where nothing else on the table can see the
// order: with a second unique index, a row that takes over a value another
// row gave up must still come after that row's change (else the index
// rejects it); without one, the same changes reach the same rows.
func TestApplyReorderOnlyWhereUnseen(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	dst := open(t, pg, db, connector.RoleTarget)
	for _, unique := range []bool{true, false} {
		t.Run(fmt.Sprintf("unique=%v", unique), func(t *testing.T) {
			src := applyKVTable(fmt.Sprintf("kv_%v", unique))
			tgt := applyRetarget(src, "tgt", src.Name, true)
			applyLoaded(t, dst, tgt, applyKV(1, "a", 1), applyKV(5, "e", 5))
			if unique {
				pg.Exec(t, db, "CREATE UNIQUE INDEX ON tgt."+src.Name+" (v)")
			}
			txs := []*record.Transaction{
				applyTx(applyIns(src, applyKV(3, "c", 3))),
				applyTx(applyDelKey(src, applyKV(1, "a", 1))),
				applyTx(applyIns(src, applyKV(2, "a", 2))),
				applyTx(applyDelKey(src, applyKV(5, "e", 5))),
				applyTx(applyUpdKey(src, applyKV(3, "c", 3), applyKV(3, "e", 3))),
			}
			if err := dst.ApplyTransactions(testCtx(t), applyTargets(src, tgt), txs); err != nil {
				t.Fatal(err)
			}
			got := queryStrings(t, client(t, pg, db), "SELECT id::text, v, n::text FROM tgt."+src.Name+" ORDER BY id")
			want := [][]string{{"2", "a", "2"}, {"3", "e", "3"}}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("rows %v, want %v", got, want)
			}
		})
	}
}
