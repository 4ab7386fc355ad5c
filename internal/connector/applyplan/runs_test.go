package applyplan

import (
	"math/rand/v2"
	"testing"

	"github.com/godwit-dms/godwit/internal/record"
)

func runsTable() *Table {
	return &Table{KeyIdx: []int{0}, IsKey: []bool{true, false}}
}

// apply plays ops on a map from key to value, as a target would.
func playOps(state map[int64]int64, ops []Op[*Table]) {
	for _, op := range ops {
		switch op.Kind {
		case Upsert:
			state[op.Row[0].(int64)] = op.Row[1].(int64)
		case Delete:
			delete(state, op.Key[0].(int64))
		}
	}
}

// Reordered runs keep every key's operations in order, make statements one
// multi-row statement can carry, and leave the table as the operations in
// order do; without reordering the order is the source's.
func TestRunsKeepEachKeysOrder(t *testing.T) {
	a, b := runsTable(), runsTable()
	rnd := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		var ops []Op[*Table]
		n := 1 + rnd.IntN(60)
		keys := 1 + rnd.IntN(20)
		for i := range n {
			tab := a
			if rnd.IntN(10) == 0 {
				tab = b
			}
			k := int64(rnd.IntN(keys))
			switch rnd.IntN(10) {
			case 0, 1, 2:
				ops = append(ops, Op[*Table]{Kind: Delete, Tab: tab, Key: record.Row{k, nil}})
			case 3:
				ops = append(ops, Op[*Table]{Kind: Truncate, Tab: tab})
			default:
				ops = append(ops, Op[*Table]{Kind: Upsert, Tab: tab, Row: record.Row{k, int64(round*1000 + i)}})
			}
		}
		for _, reorder := range []bool{false, true} {
			runs := Runs(ops, func(*Table) bool { return reorder })
			var flat []Op[*Table]
			for _, run := range runs {
				if len(run) == 0 {
					t.Fatalf("round %d: an empty run", round)
				}
				seen := map[string]bool{}
				for _, op := range run {
					if op.Kind != run[0].Kind || op.Tab != run[0].Tab {
						t.Fatalf("round %d: a run mixes kinds or tables: %v", round, run)
					}
					if op.Kind == Truncate && len(run) > 1 {
						t.Fatalf("round %d: a truncate shares a run", round)
					}
					if op.Kind == Upsert {
						k := opKey(&op)
						if seen[k] {
							t.Fatalf("round %d: an upsert run writes a key twice", round)
						}
						seen[k] = true
					}
				}
				flat = append(flat, run...)
			}
			if len(flat) != len(ops) {
				t.Fatalf("round %d: %d operations in the runs, %d given", round, len(flat), len(ops))
			}
			if !reorder {
				for i := range ops {
					if !sameOp(flat[i], ops[i]) {
						t.Fatalf("round %d: without reordering, operation %d moved", round, i)
					}
				}
				continue
			}
			// Per table and key (truncates count for every key of their
			// table), the operations keep their order.
			type tk struct {
				tab *Table
				k   string
			}
			order := func(list []Op[*Table]) map[tk][]Op[*Table] {
				m := map[tk][]Op[*Table]{}
				for _, op := range list {
					if op.Kind == Truncate {
						for k := range keys {
							key := tk{op.Tab, op.Tab.KeyOf(record.Row{int64(k)})}
							m[key] = append(m[key], op)
						}
						continue
					}
					key := tk{op.Tab, opKey(&op)}
					m[key] = append(m[key], op)
				}
				return m
			}
			want, got := order(ops), order(flat)
			for key, w := range want {
				g := got[key]
				if len(g) != len(w) {
					t.Fatalf("round %d: key %q has %d operations, want %d", round, key.k, len(g), len(w))
				}
				for i := range w {
					if !sameOp(g[i], w[i]) {
						t.Fatalf("round %d: key %q: operation %d out of order", round, key.k, i)
					}
				}
			}
		}
	}
	// The case the reordering is for: alternating upserts and deletes of
	// different rows become one statement of each; a row deleted and
	// written again is written by a statement after the delete.
	ops := []Op[*Table]{
		{Kind: Upsert, Tab: a, Row: record.Row{int64(1), int64(1)}},
		{Kind: Delete, Tab: a, Key: record.Row{int64(2), nil}},
		{Kind: Upsert, Tab: a, Row: record.Row{int64(3), int64(3)}},
		{Kind: Delete, Tab: a, Key: record.Row{int64(4), nil}},
		{Kind: Upsert, Tab: a, Row: record.Row{int64(4), int64(5)}},
		{Kind: Upsert, Tab: a, Row: record.Row{int64(6), int64(6)}},
	}
	runs := Runs(ops, func(*Table) bool { return true })
	if len(runs) != 3 || len(runs[0]) != 3 || len(runs[1]) != 2 || len(runs[2]) != 1 || runs[2][0].Row[0] != int64(4) {
		t.Fatalf("runs = %v, want upserts of 1, 3, 6, deletes of 2, 4, then the upsert of 4", runs)
	}
	inOrderState, mergedState := map[int64]int64{4: 9}, map[int64]int64{4: 9}
	playOps(inOrderState, ops)
	for _, run := range runs {
		playOps(mergedState, run)
	}
	if len(inOrderState) != len(mergedState) || mergedState[4] != 5 {
		t.Errorf("merged runs end with %v, in order %v", mergedState, inOrderState)
	}
}

func sameOp(x, y Op[*Table]) bool {
	if x.Kind != y.Kind || x.Tab != y.Tab {
		return false
	}
	if x.Kind == Upsert {
		return x.Row[0] == y.Row[0] && x.Row[1] == y.Row[1]
	}
	if x.Kind == Delete {
		return x.Key[0] == y.Key[0]
	}
	return true
}
