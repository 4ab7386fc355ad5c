package applyplan

import "slices"

// Runs cuts ops into the statements of transactional apply: each run is
// either several operations of one kind on one table that one multi-row
// statement can carry (Upsert with distinct keys, Delete, Insert), or a
// single operation of another kind. The order of ops is kept, except within
// a stretch of consecutive Upserts and Deletes on one table for which
// reorder(tab) is true: there each operation joins the earliest statement
// of its kind that comes after every earlier operation on the same key, so
// that alternating upserts and deletes of different rows become one upsert
// and one delete instead of one statement each. Every key sees its
// operations in the source's order, so the table ends in the same state;
// reorder must say whether nothing else on the table can tell the
// difference (another unique index, a trigger, a reference to itself).
func Runs[T Tab](ops []Op[T], reorder func(T) bool) [][]Op[T] {
	var runs [][]Op[T]
	for i := 0; i < len(ops); {
		op := ops[i]
		tab := op.Tab
		switch op.Kind {
		case Upsert, Delete:
			j := i + 1
			for j < len(ops) && ops[j].Tab == tab && (ops[j].Kind == Upsert || ops[j].Kind == Delete) {
				j++
			}
			if j-i > 1 && reorder(tab) {
				runs = append(runs, merged(ops[i:j])...)
			} else {
				runs = append(runs, inOrder(ops[i:j])...)
			}
			i = j
		case Insert:
			j := i + 1
			for j < len(ops) && ops[j].Kind == Insert && ops[j].Tab == tab {
				j++
			}
			runs = append(runs, ops[i:j])
			i = j
		default:
			runs = append(runs, ops[i:i+1])
			i++
		}
	}
	return runs
}

// opKey is the key an Upsert or a Delete writes.
func opKey[T Tab](op *Op[T]) string {
	if op.Kind == Upsert {
		return op.Tab.base().KeyOf(op.Row)
	}
	return op.Tab.base().KeyOf(op.Key)
}

// inOrder cuts Upserts and Deletes of one table into runs of one kind,
// in order; an Upsert of a key its run already holds starts a new run (one
// INSERT ... ON CONFLICT cannot write a row twice).
func inOrder[T Tab](ops []Op[T]) [][]Op[T] {
	var runs [][]Op[T]
	var seen map[string]bool
	start := 0
	for i := range ops {
		k := ""
		if ops[i].Kind == Upsert {
			k = opKey(&ops[i])
		}
		if i > start && (ops[i].Kind != ops[start].Kind || ops[i].Kind == Upsert && seen[k]) {
			runs = append(runs, ops[start:i])
			start = i
			clear(seen)
		}
		if ops[i].Kind == Upsert {
			if seen == nil {
				seen = map[string]bool{}
			}
			seen[k] = true
		}
	}
	return append(runs, ops[start:])
}

// merged places each operation in the earliest statement of its kind
// after the last statement holding an operation on its key.
func merged[T Tab](ops []Op[T]) [][]Op[T] {
	var runs [][]Op[T]
	last := make(map[string]int, len(ops)) // key → its last statement
	// open[kind] lists, in order, the statements of that kind.
	var open [Delete + 1][]int
	for i := range ops {
		op := ops[i]
		k := opKey(&op)
		after := -1
		if s, ok := last[k]; ok {
			after = s
		}
		at := -1
		list := open[op.Kind]
		if n, _ := slices.BinarySearch(list, after+1); n < len(list) {
			at = list[n] // the first statement of the kind after `after`
		}
		if at < 0 {
			at = len(runs)
			runs = append(runs, nil)
			open[op.Kind] = append(open[op.Kind], at)
		}
		runs[at] = append(runs[at], op)
		last[k] = at
	}
	return runs
}
