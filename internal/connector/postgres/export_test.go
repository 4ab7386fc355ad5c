package postgres

// SnapshotGathering sums the pauses of the readers of snap's idle
// sessions, and says whether any of them is still gathering.
func SnapshotGathering(snap *Snapshot) (pauses int, on bool) {
	snap.mu.Lock()
	defer snap.mu.Unlock()
	for _, pg := range snap.idle {
		if g, ok := pg.PgConn().CustomData()[gatherKey].(*gather); ok {
			pauses += g.paused
			on = on || g.on.Load()
		}
	}
	return pauses, on
}
