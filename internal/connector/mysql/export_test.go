package mysql

// DisableLocalInfile makes c load with multi-row INSERTs, as when the
// server refuses LOAD DATA LOCAL (benchmarks).
func DisableLocalInfile(c *Conn) { c.noLocalInfile.Store(true) }
