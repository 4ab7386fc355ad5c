package cdc

import (
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/record"
)

// pace is how long and how much an applier that is a connector.CommitPacer
// lets the engine hold changes; ok is false for other appliers.
func pace(a connector.ChangeApplier) (maxWait time.Duration, maxBytes int64, ok bool) {
	p, ok := a.(connector.CommitPacer)
	if !ok {
		return 0, 0, false
	}
	maxWait, maxBytes = p.CommitPace()
	return max(maxWait, time.Millisecond), max(maxBytes, 1), true
}

// txBytes estimates the size of a transaction's row data: the bytes of
// text and binary values, 8 for any other value.
func txBytes(tx *record.Transaction) int64 {
	var n int64
	for i := range tx.Changes {
		for _, row := range []record.Row{tx.Changes[i].Before, tx.Changes[i].After} {
			for _, v := range row {
				switch v := v.(type) {
				case string:
					n += int64(len(v))
				case []byte:
					n += int64(len(v))
				default:
					n += 8
				}
			}
		}
	}
	return n
}
