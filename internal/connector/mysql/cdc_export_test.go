package mysql

import "time"

// SetCDCTimings sets the heartbeat period of binary log connections and
// how often a position-only transaction may be delivered, and returns a
// function restoring them. Not safe while streams run.
func SetCDCTimings(heartbeat, advance time.Duration) (restore func()) {
	h, a := binlogHeartbeatPeriod, cdcPositionAdvanceEvery
	binlogHeartbeatPeriod, cdcPositionAdvanceEvery = heartbeat, advance
	return func() { binlogHeartbeatPeriod, cdcPositionAdvanceEvery = h, a }
}
