package record

import "time"

// ChangeOp is the kind of a captured row change.
type ChangeOp uint8

const (
	OpInsert ChangeOp = iota + 1
	OpUpdate
	OpDelete
	// OpTruncate empties the table (Before and After are nil).
	OpTruncate
	// OpDropTable: the source table was dropped (Before and After are nil).
	OpDropTable
)

func (o ChangeOp) String() string {
	switch o {
	case OpInsert:
		return "I"
	case OpUpdate:
		return "U"
	case OpDelete:
		return "D"
	case OpTruncate:
		return "T"
	case OpDropTable:
		return "X"
	}
	return "?"
}

// Change is one row change of a committed transaction.
type Change struct {
	Op ChangeOp
	// Table is the source table's shape when the change was made; Before
	// and After hold its columns in Table.Columns order.
	Table *Table
	// Before is the old row of an update or delete: at least the key
	// columns (the others nil when the source logs only the key), or the
	// whole row when the source logs full images. Nil for inserts.
	Before Row
	// BeforeFull says Before holds every column, not just the key.
	BeforeFull bool
	// After is the new row of an insert or update; nil for deletes.
	// Columns the source did not log (PostgreSQL's unchanged TOASTed
	// values) are Unchanged.
	After Row
}

// Unchanged marks a value the source did not send because it did not change
// (PostgreSQL's unchanged TOASTed column). Appliers keep the target's value.
var Unchanged = unchanged{}

type unchanged struct{}

func (unchanged) String() string { return "<unchanged>" }

// Bytes estimates the size of the row's values: the bytes of text and
// binary values, 8 for any other value but NULL.
func (r Row) Bytes() int64 {
	var n int64
	for _, v := range r {
		switch v := v.(type) {
		case string:
			n += int64(len(v))
		case []byte:
			n += int64(len(v))
		case nil:
		default:
			n += 8
		}
	}
	return n
}

// Bytes estimates the size of the transaction's row data (Row.Bytes of
// every before and after row).
func (tx *Transaction) Bytes() int64 {
	var n int64
	for i := range tx.Changes {
		n += tx.Changes[i].Before.Bytes() + tx.Changes[i].After.Bytes()
	}
	return n
}

// Transaction is a committed source transaction, in commit order.
type Transaction struct {
	// ID is the source's transaction id (PostgreSQL xid, MySQL GTID or
	// binlog position of the BEGIN).
	ID         string
	CommitTime time.Time
	// Position is where the source stream is after this transaction's
	// commit: resuming the stream from it delivers the next transaction.
	Position string
	Changes  []Change
}
