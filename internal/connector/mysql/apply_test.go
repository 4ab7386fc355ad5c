package mysql_test

import (
	"context"
	"database/sql"
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
	apply func(ctx context.Context, c *mysql.Conn, tables map[string]*connector.TargetTable, txs []*record.Transaction) error
}

var applyModes = []applyMode{
	{"transactional", func(ctx context.Context, c *mysql.Conn, tables map[string]*connector.TargetTable, txs []*record.Transaction) error {
		return c.ApplyTransactions(ctx, tables, txs)
	}},
	{"batch", func(ctx context.Context, c *mysql.Conn, tables map[string]*connector.TargetTable, txs []*record.Transaction) error {
		return c.ApplyBatch(ctx, tables, txs)
	}},
}

func applyTx(changes ...record.Change) *record.Transaction {
	return &record.Transaction{ID: "tx", CommitTime: time.Now(), Changes: changes}
}

func applyIns(tb *record.Table, row record.Row) record.Change {
	return record.Change{Op: record.OpInsert, Table: tb, After: row}
}

// applyUpd is an update whose old row is logged in full (as MySQL does).
func applyUpd(tb *record.Table, before, after record.Row) record.Change {
	return record.Change{Op: record.OpUpdate, Table: tb, Before: before, BeforeFull: true, After: after}
}

// applyUpdKey is an update whose old row holds only the key (the first
// column), as PostgreSQL logs it by default.
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

// applyRetarget is tb as a table name of database db, with or without its
// key (the first column when it has none).
func applyRetarget(tb *record.Table, db, name string, keyed bool) *record.Table {
	c := *tb
	c.Schema, c.Name = db, name
	c.Columns = slices.Clone(tb.Columns)
	c.UniqueKeys = nil
	if !keyed {
		c.PrimaryKey = nil
	} else if len(c.PrimaryKey) == 0 {
		c.PrimaryKey = []string{c.Columns[0].Name}
	}
	return &c
}

// applyTargets maps source tables to target tables (keyed by their
// primary key).
func applyTargets(pairs ...*record.Table) map[string]*connector.TargetTable {
	m := map[string]*connector.TargetTable{}
	for i := 0; i < len(pairs); i += 2 {
		src, dst := pairs[i], pairs[i+1]
		m[src.Schema+"."+src.Name] = &connector.TargetTable{Target: dst, Key: dst.PrimaryKey}
	}
	return m
}

// applyLoaded creates tb (drop and create) with rows, through the
// full-load path: the reference.
func applyLoaded(t *testing.T, c *mysql.Conn, tb *record.Table, rows ...record.Row) {
	t.Helper()
	ctx := testCtx(t)
	if err := c.PrepareTable(ctx, tb, connector.PrepDropAndCreate, false); err != nil {
		t.Fatal(err)
	}
	if len(rows) > 0 {
		if err := c.Load(ctx, tb, rows); err != nil {
			t.Fatal(err)
		}
	}
}

// applyRows is the text of every row of tb, sorted.
func applyRows(t *testing.T, admin *sql.DB, tb *record.Table) []string {
	t.Helper()
	var exprs []string
	for _, c := range tb.Columns {
		q := "`" + strings.ReplaceAll(c.Name, "`", "``") + "`"
		switch c.Type.Kind {
		case record.KindBlob, record.KindBytes, record.KindBool:
			exprs = append(exprs, "HEX("+q+")")
		case record.KindFloat32:
			exprs = append(exprs, "CAST("+q+" AS DOUBLE)")
		default:
			exprs = append(exprs, q)
		}
	}
	var out []string
	for _, r := range queryStrings(t, admin, fmt.Sprintf("SELECT %s FROM `%s`.`%s`", strings.Join(exprs, ", "), tb.Schema, tb.Name)) {
		out = append(out, strings.Join(r, " | "))
	}
	slices.Sort(out)
	return out
}

// applySameRows fails when got and want hold different rows.
func applySameRows(t *testing.T, admin *sql.DB, got, want *record.Table) {
	t.Helper()
	g, w := applyRows(t, admin, got), applyRows(t, admin, want)
	if !slices.Equal(g, w) {
		t.Errorf("%s differs from %s:\n got %q\nwant %q", got.QualifiedName(), want.QualifiedName(), g, w)
	}
}

// applyTypedChanges inserts, updates and deletes rows (old rows logged in
// full); the final rows are returned too.
func applyTypedChanges(tb *record.Table, rows []record.Row) ([]*record.Transaction, []record.Row) {
	r1, r2, r3 := rows[0], rows[1], rows[2]
	id := func(n int64) any {
		if _, ok := r1[0].(int64); ok {
			return n
		}
		return fmt.Sprint(n)
	}
	r4 := applyWithID(r1, id(4))
	r5 := applyWithID(r2, id(5))
	txs := []*record.Transaction{
		applyTx(applyIns(tb, r1), applyIns(tb, r2), applyIns(tb, r3)),
		applyTx(applyUpd(tb, r1, applyWithID(r3, id(1)))),
		applyTx(applyUpd(tb, r3, applyWithID(r2, id(3))), applyDel(tb, r2)),
		applyTx(applyIns(tb, r4), applyUpd(tb, r4, applyWithID(r3, id(4))), applyIns(tb, r5), applyDel(tb, r5)),
	}
	return txs, []record.Row{applyWithID(r3, id(1)), applyWithID(r2, id(3)), applyWithID(r3, id(4))}
}

// applyTypes applies the typed changes of rows of tb in each mode, with and
// without a key, and compares with a full load of the final rows.
func applyTypes(t *testing.T, my *testenv.MySQLServer, tb *record.Table, rows []record.Row) {
	for _, mode := range applyModes {
		for _, keyed := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/keyed=%v", mode.name, keyed), func(t *testing.T) {
				db := my.NewDatabase(t)
				dst := openConn(t, my, "", connector.RoleTarget, nil)
				admin := clientDB(t, my, "")
				applied := applyRetarget(tb, db, "applied", keyed)
				expected := applyRetarget(tb, db, "expected", keyed)
				txs, final := applyTypedChanges(tb, rows)
				applyLoaded(t, dst, applied)
				applyLoaded(t, dst, expected, final...)
				tables := applyTargets(tb, applied)
				ctx := testCtx(t)
				if err := mode.apply(ctx, dst, tables, txs); err != nil {
					t.Fatal(err)
				}
				applySameRows(t, admin, applied, expected)
				if !keyed {
					return
				}
				if err := mode.apply(ctx, dst, tables, txs); err != nil {
					t.Fatal(err)
				}
				applySameRows(t, admin, applied, expected)
				for _, tx := range txs {
					if err := mode.apply(ctx, dst, tables, []*record.Transaction{tx}); err != nil {
						t.Fatal(err)
					}
				}
				applySameRows(t, admin, applied, expected)
			})
		}
	}
}

// Every type, as Read returns it, is inserted, updated and deleted, with and
// without a key; the result is what a full load of the final rows gives,
// and applying the same changes again changes nothing.
func TestApplyTypes(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	my.Exec(t, db, allTypesDDL, allTypesRows)
	src := openConn(t, my, db, connector.RoleSource, nil)
	tb := findTable(t, src, db, "alltypes")
	applyTypes(t, my, tb, readAll(t, src, &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}}))
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
func applyRunCases(t *testing.T, cases []applyCase, keying applyKeying, opts ...func(*mysql.Conn)) {
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	dst := openConn(t, my, "", connector.RoleTarget, nil)
	for _, o := range opts {
		o(dst)
	}
	admin := clientDB(t, my, "")
	for _, mode := range applyModes {
		for i, tc := range cases {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				src := applyKVTable(fmt.Sprintf("t%d", i))
				applied := applyRetarget(src, db, src.Name+"_"+mode.name, keying == applyWithPK)
				expected := applyRetarget(src, db, src.Name+"_"+mode.name+"_want", keying == applyWithPK)
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
				applySameRows(t, admin, applied, expected)
				if keying != applyWithoutKey {
					if err := mode.apply(testCtx(t), dst, tables, txs); err != nil {
						t.Fatal(err)
					}
					applySameRows(t, admin, applied, expected)
				}
			})
		}
	}
}

// applyKeyedCases are key changes, alone and in chains, two rows exchanging
// their keys through a free one, and the net changes of a batch.
func applyKeyedCases() []applyCase {
	u := applyUpdKey
	d := applyDelKey
	i := applyIns
	kv := applyKV
	return []applyCase{
		{"key change", []record.Row{kv(1, "a", 1), kv(2, "b", 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, kv(1, "a", 1), kv(10, "a", 11)))}
			}, []record.Row{kv(10, "a", 11), kv(2, "b", 2)}},
		{"key change and back", []record.Row{kv(1, "a", 1), kv(2, "b", 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, kv(1, "a", 1), kv(3, "a", 3)), u(tb, kv(3, "a", 3), kv(1, "a2", 4)))}
			}, []record.Row{kv(1, "a2", 4), kv(2, "b", 2)}},
		{"swap through a free key", []record.Row{kv(1, "a", 1), kv(2, "b", 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(
					u(tb, kv(1, "a", 1), kv(3, "a", 1)),
					u(tb, kv(2, "b", 2), kv(1, "b", 2)),
					u(tb, kv(3, "a", 1), kv(2, "a", 1)))}
			}, []record.Row{kv(1, "b", 2), kv(2, "a", 1)}},
		{"key chain across transactions", []record.Row{kv(1, "a", 1)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, kv(1, "a", 1), kv(2, "a", 2))), applyTx(u(tb, kv(2, "a", 2), kv(3, "a", 3))),
					applyTx(i(tb, kv(1, "new", 9)))}
			}, []record.Row{kv(1, "new", 9), kv(3, "a", 3)}},
		{"insert then update", nil,
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(i(tb, kv(1, "a", 1))), applyTx(u(tb, kv(1, "a", 1), kv(1, "b", 2)), u(tb, kv(1, "b", 2), kv(1, "c", 3)))}
			}, []record.Row{kv(1, "c", 3)}},
		{"insert then delete", []record.Row{kv(2, "b", 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(i(tb, kv(1, "a", 1))), applyTx(d(tb, kv(1, "a", 1)))}
			}, []record.Row{kv(2, "b", 2)}},
		{"insert then delete of a row already there (replay)", []record.Row{kv(1, "a", 1)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(i(tb, kv(1, "a", 1)), d(tb, kv(1, "a", 1)))}
			}, nil},
		{"update then delete", []record.Row{kv(1, "a", 1), kv(2, "b", 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, kv(1, "a", 1), kv(1, "x", 5))), applyTx(d(tb, kv(1, "x", 5)))}
			}, []record.Row{kv(2, "b", 2)}},
		{"key change then delete", []record.Row{kv(1, "a", 1), kv(2, "b", 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, kv(1, "a", 1), kv(5, "a", 1)), d(tb, kv(5, "a", 1)))}
			}, []record.Row{kv(2, "b", 2)}},
		{"delete then insert", []record.Row{kv(1, "a", 1)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(d(tb, kv(1, "a", 1)), i(tb, kv(1, "again", 2)))}
			}, []record.Row{kv(1, "again", 2)}},
		{"update of a missing row", nil,
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, kv(7, "a", 1), kv(7, "b", 2)))}
			}, []record.Row{kv(7, "b", 2)}},
		{"delete of a missing row", []record.Row{kv(1, "a", 1)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(d(tb, kv(9, "a", 1)))}
			}, []record.Row{kv(1, "a", 1)}},
		{"many rows", nil,
			func(tb *record.Table) []*record.Transaction {
				var txs []*record.Transaction
				for k := int64(1); k <= 1500; k++ {
					txs = append(txs, applyTx(i(tb, kv(k, "v", k))))
				}
				for k := int64(1); k <= 1500; k += 2 {
					txs = append(txs, applyTx(u(tb, kv(k, "v", k), kv(k, "odd", -k))))
				}
				for k := int64(1); k <= 1500; k += 3 {
					txs = append(txs, applyTx(d(tb, kv(k, "", 0))))
				}
				return txs
			}, func() []record.Row {
				var rows []record.Row
				for k := int64(1); k <= 1500; k++ {
					switch {
					case (k-1)%3 == 0:
					case k%2 == 1:
						rows = append(rows, kv(k, "odd", -k))
					default:
						rows = append(rows, kv(k, "v", k))
					}
				}
				return rows
			}()},
		{"truncate in the middle", []record.Row{kv(1, "a", 1), kv(2, "b", 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(i(tb, kv(3, "c", 3)), u(tb, kv(1, "a", 1), kv(1, "x", 1))),
					applyTx(applyTrunc(tb)), applyTx(i(tb, kv(4, "d", 4)), i(tb, kv(1, "e", 5))), applyTx(u(tb, kv(4, "d", 4), kv(4, "dd", 4)))}
			}, []record.Row{kv(1, "e", 5), kv(4, "dd", 4)}},
	}
}

func TestApplyKeyedCases(t *testing.T) {
	t.Parallel()
	applyRunCases(t, applyKeyedCases(), applyWithPK)
}

// Without LOAD DATA LOCAL, the staging table is filled with INSERTs.
func TestApplyKeyedCasesInsertFallback(t *testing.T) {
	t.Parallel()
	applyRunCases(t, applyKeyedCases(), applyWithPK, mysql.DisableLocalInfile)
}

// Without a unique index on the key, an upsert is a delete and an insert.
func TestApplyKeyWithoutIndex(t *testing.T) {
	t.Parallel()
	applyRunCases(t, applyKeyedCases(), applyKeyWithoutIndex)
}

// A table without a key: inserts add rows (duplicates included), an update
// or a delete changes one row equal to the old row.
func TestApplyNoKey(t *testing.T) {
	t.Parallel()
	u, d, i, kv := applyUpd, applyDel, applyIns, applyKV
	applyRunCases(t, []applyCase{
		{"duplicates", []record.Row{kv(1, "x", 1), kv(1, "x", 1)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(i(tb, kv(2, "y", 2)), i(tb, kv(2, "y", 2)), u(tb, kv(1, "x", 1), kv(1, "z", 3))),
					applyTx(d(tb, kv(2, "y", 2)))}
			}, []record.Row{kv(1, "x", 1), kv(1, "z", 3), kv(2, "y", 2)}},
		{"NULLs", []record.Row{{int64(1), nil, nil}},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, record.Row{int64(1), nil, nil}, record.Row{int64(1), "set", nil}), i(tb, record.Row{int64(2), nil, nil})),
					applyTx(d(tb, record.Row{int64(2), nil, nil}))}
			}, []record.Row{{int64(1), "set", nil}}},
		{"truncate", []record.Row{kv(1, "x", 1)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(i(tb, kv(2, "y", 2)), applyTrunc(tb), i(tb, kv(3, "z", 3)))}
			}, []record.Row{kv(3, "z", 3)}},
	}, applyWithoutKey)
}

// Values the source did not send (Unchanged) keep the target's, in an
// update, a key change and after an insert of the same batch.
func TestApplyUnchanged(t *testing.T) {
	t.Parallel()
	U := record.Unchanged
	u, kv := applyUpdKey, applyKV
	big := strings.Repeat("toasted ", 4000)
	applyRunCases(t, []applyCase{
		{"update", []record.Row{kv(1, big, 1), kv(2, big, 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, kv(1, "", 1), record.Row{int64(1), U, int64(10)})),
					applyTx(u(tb, kv(2, "", 2), record.Row{int64(2), U, int64(20)}), u(tb, kv(2, "", 2), record.Row{int64(2), U, int64(21)}))}
			}, []record.Row{kv(1, big, 10), kv(2, big, 21)}},
		{"key change", []record.Row{kv(1, big, 1), kv(2, "b", 2)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, kv(1, "", 1), record.Row{int64(5), U, int64(50)}),
					u(tb, kv(2, "", 2), record.Row{int64(2), U, int64(20)}))}
			}, []record.Row{kv(5, big, 50), kv(2, "b", 20)}},
		{"after an insert", nil,
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(applyIns(tb, kv(1, big, 1))), applyTx(u(tb, kv(1, "", 1), record.Row{int64(1), U, int64(2)})),
					applyTx(u(tb, kv(1, "", 1), record.Row{int64(3), U, int64(3)}))}
			}, []record.Row{kv(3, big, 3)}},
		{"missing row", []record.Row{kv(1, "a", 1)},
			func(tb *record.Table) []*record.Transaction {
				return []*record.Transaction{applyTx(u(tb, kv(9, "", 9), record.Row{int64(9), U, int64(9)}), u(tb, kv(1, "", 1), record.Row{int64(1), U, int64(2)}))}
			}, []record.Row{kv(1, "a", 2)}},
	}, applyWithPK)
}

// A row the target refuses fails the call with ErrRowRejected naming the
// table, and nothing of the call is committed.
func TestApplyRejected(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	dst := openConn(t, my, "", connector.RoleTarget, nil)
	admin := clientDB(t, my, "")
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
			{"too long", applyIns(src, record.Row{int64(3), "abcd"}), ""},
			{"NOT NULL", applyIns(src, record.Row{int64(3), nil}), "1048"},
			{"NOT NULL in an update", applyUpdKey(src, record.Row{int64(1), "a"}, record.Row{int64(1), nil}), "1048"},
			{"out of range", applyIns(src, record.Row{int64(1) << 40, "x"}), "1264"},
			{"not a number", applyIns(src, record.Row{"x", "x"}), "1366"},
			{"NaN", applyIns(src, record.Row{int64(3), 0.5}), ""},
		} {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				applied := applyRetarget(src, db, "r", true)
				otherT := applyRetarget(other, db, "other", true)
				applyLoaded(t, dst, applied, record.Row{int64(1), "a"}, record.Row{int64(2), "b"})
				applyLoaded(t, dst, otherT)
				if tc.name == "NaN" {
					tc.bad = applyIns(other, record.Row{int64(3), "x", nanValue()})
				}
				txs := []*record.Transaction{
					applyTx(applyIns(other, applyKV(1, "x", 1)), applyIns(src, record.Row{int64(5), "ok"})),
					applyTx(applyDelKey(src, record.Row{int64(2), "b"}), tc.bad),
					applyTx(applyIns(src, record.Row{int64(6), "ok"})),
				}
				err := mode.apply(testCtx(t), dst, applyTargets(src, applied, other, otherT), txs)
				table := db + ".r"
				if tc.name == "NaN" {
					table = db + ".other"
				}
				if !errors.Is(err, connector.ErrRowRejected) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), table) {
					t.Fatalf("%v, want ErrRowRejected on %s mentioning %s", err, table, tc.want)
				}
				if errors.Is(err, connector.ErrConnectionLost) {
					t.Errorf("classified as a lost connection: %v", err)
				}
				t.Log(err)
				if got := queryStrings(t, admin, fmt.Sprintf("SELECT GROUP_CONCAT(CONCAT(id, '=', v) ORDER BY id) FROM `%s`.r", db))[0][0]; got != "1=a,2=b" {
					t.Errorf("rows %s after the rejected call", got)
				}
				if got := queryStrings(t, admin, fmt.Sprintf("SELECT COUNT(*) FROM `%s`.other", db))[0][0]; got != "0" {
					t.Errorf("%s rows in the other table after the rejected call", got)
				}
				if err := mode.apply(testCtx(t), dst, applyTargets(src, applied), txs[2:]); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func nanValue() any { return float64(0) / zero }

var zero = 0.0

// Changes of tables the call does not map are skipped; a transform maps the
// source row to the target's columns, old and new rows alike.
func TestApplyUnknownTableAndTransform(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	dst := openConn(t, my, "", connector.RoleTarget, nil)
	admin := clientDB(t, my, "")
	src := applyKVTable("tr")
	target := &record.Table{Schema: db, Name: "tr", PrimaryKey: []string{"key"}, Columns: []record.Column{
		{Name: "key", Type: record.Type{Kind: record.KindInt64}},
		{Name: "upper", Type: record.Type{Kind: record.KindText}, Nullable: true},
	}}
	tt := &connector.TargetTable{Target: target, Key: []string{"key"}, Transform: func(r record.Row) (record.Row, error) {
		v, _ := r[1].(string)
		return record.Row{r[0], strings.ToUpper(v)}, nil
	}}
	for _, mode := range applyModes {
		applyLoaded(t, dst, target)
		txs := []*record.Transaction{applyTx(applyIns(applyKVTable("unknown"), applyKV(7, "x", 1)),
			applyIns(src, applyKV(1, "a", 1)), applyIns(src, applyKV(2, "b", 2)), applyUpdKey(src, applyKV(1, "a", 1), applyKV(3, "c", 3)),
			applyDelKey(src, applyKV(2, "", 0)))}
		if err := mode.apply(testCtx(t), dst, map[string]*connector.TargetTable{"src.tr": tt}, txs); err != nil {
			t.Fatal(err)
		}
		if got := queryStrings(t, admin, fmt.Sprintf("SELECT GROUP_CONCAT(CONCAT(`key`, '=', upper)) FROM `%s`.tr", db))[0][0]; got != "3=C" {
			t.Errorf("%s: rows %s", mode.name, got)
		}
	}
}

// A killed session is ErrConnectionLost; the next call works.
func TestApplyConnectionLost(t *testing.T) {
	t.Parallel()
	my := testenv.MariaDB(t)
	db := my.NewDatabase(t)
	user := userName(db, "apply")
	newUser(t, my, user, "apply-pw-123")
	my.Exec(t, "", fmt.Sprintf("GRANT ALL ON `%s`.* TO '%s'@'%%'", db, user))
	dst, err := mysql.New(connector.Endpoint{Engine: "mariadb", Role: connector.RoleTarget, Host: my.Host, Port: my.Port,
		Username: user, Password: "apply-pw-123", SSLMode: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	target := dst.(*mysql.Conn)
	admin := clientDB(t, my, "")
	src := applyKVTable("lost")
	applied := applyRetarget(src, db, "lost", true)
	applyLoaded(t, target, applied)
	tables := applyTargets(src, applied)
	// Row 2 takes a while to insert; meanwhile the sessions of the call's
	// user are killed (its transaction is open by then).
	my.Exec(t, db, "CREATE TRIGGER lost_slow BEFORE INSERT ON lost FOR EACH ROW BEGIN IF NEW.id = 2 THEN SET @godwit_test = SLEEP(3); END IF; END")
	kill := func() {
		time.Sleep(500 * time.Millisecond)
		// The trigger runs as its definer, which PROCESSLIST shows as
		// the session's user: the session is found by what it does.
		for _, id := range queryStrings(t, admin, "SELECT ID FROM information_schema.PROCESSLIST WHERE STATE = 'User sleep' AND DB = ?", db) {
			if _, err := admin.Exec("KILL CONNECTION " + id[0]); err != nil {
				t.Error(err)
			}
		}
	}
	for _, mode := range applyModes {
		if err := mode.apply(testCtx(t), target, tables, []*record.Transaction{applyTx(applyIns(src, applyKV(1, "a", 1)))}); err != nil {
			t.Fatal(err)
		}
		killed := make(chan struct{})
		go func() { defer close(killed); kill() }()
		err := mode.apply(testCtx(t), target, tables, []*record.Transaction{applyTx(applyIns(src, applyKV(2, "b", 2)))})
		<-killed
		if !errors.Is(err, connector.ErrConnectionLost) || errors.Is(err, connector.ErrRowRejected) {
			t.Errorf("%s on a killed session: %v", mode.name, err)
		}
		if err := mode.apply(testCtx(t), target, tables, []*record.Transaction{applyTx(applyIns(src, applyKV(3, "c", 3)))}); err != nil {
			t.Errorf("%s after reconnecting: %v", mode.name, err)
		}
		if got := queryStrings(t, admin, fmt.Sprintf("SELECT GROUP_CONCAT(id ORDER BY id) FROM `%s`.lost", db))[0][0]; got != "1,3" {
			t.Errorf("%s: rows %s", mode.name, got)
		}
		my.Exec(t, db, "DELETE FROM lost")
	}
}

// applyPGTypes is a PostgreSQL table of the types a PostgreSQL source has
// that MySQL can hold.
const applyPGTypes = `CREATE TYPE mood AS ENUM ('sad', 'very happy');
CREATE TABLE p (id int PRIMARY KEY, b boolean, i2 smallint, i8 bigint, n numeric(20,4), nu numeric, f4 real, f8 double precision,
	vc varchar(64), c char(5), tx text, by bytea, d date, tm time, ts timestamp(3), tstz timestamptz, j json, jb jsonb, u uuid,
	e mood, arr int[], iv interval, ip inet, bits bit(4));
INSERT INTO p VALUES
(1, true, -32768, -9223372036854775808, -12.34, 123456789012345678901234.5, 1.1, 0.1, 'héllo 🐦', 'ab', E'tab\tnew\nline \\ ''q''',
	'\x00ff10', '2024-02-29', '13:14:15.123456', '2024-01-02 03:04:05.123', '2024-01-02 03:04:05.000001+05:30', '{"b": 1,  "a": [true]}',
	'{"b": 1, "a": "🐦"}', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'very happy', '{1,NULL,3}', '1 year 2 mons', '192.168.0.1/24', B'1010'),
(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(3, false, 32767, 9223372036854775807, 0, -0.000001, -3.4e38, 1.7976931348623157e308, '', 'abcde', '', '', '1000-01-01', '00:00:00',
	'1970-01-01 00:00:00', '1900-01-01 00:00:00+00', 'null', '[]', '00000000-0000-0000-0000-000000000000', 'sad', '{}', '-1 day', '::1', B'0000')`

// Changes read from a PostgreSQL table (its Tables() shape and Read values)
// land on MariaDB like a full load of the same rows.
func TestApplyFromPostgres(t *testing.T) {
	t.Parallel()
	pg := testenv.Postgres(t)
	pdb := pg.NewDatabase(t)
	pg.Exec(t, pdb, applyPGTypes)
	psrc, err := postgres.New(connector.Endpoint{Engine: "postgres", Role: connector.RoleSource, Host: pg.Host, Port: pg.Port,
		Database: pdb, Username: pg.User, Password: pg.Password, SSLMode: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer psrc.Close()
	ps := psrc.(*postgres.Conn)
	tables, err := ps.Tables(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var tb *record.Table
	for _, x := range tables {
		if x.Name == "p" {
			tb = x
		}
	}
	snap, err := ps.OpenSnapshot(testCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	rows := readSnap(t, snap, &connector.ReadRequest{Table: tb, OrderBy: []string{"id"}})
	snap.Close()
	applyTypes(t, testenv.MariaDB(t), tb, rows)
}
