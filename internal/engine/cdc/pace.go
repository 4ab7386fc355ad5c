package cdc

import (
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
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
