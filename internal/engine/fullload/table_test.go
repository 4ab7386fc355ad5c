package fullload

import "testing"

// A table is split on Godwit's own initiative into at most one segment per
// two CPUs, and never more than the sub-tasks: a 2-CPU machine loads a
// table in one stream. Into a bare target (no index during the load), one
// segment per CPU.
func TestAutoSegments(t *testing.T) {
	for _, c := range []struct {
		subTasks, cpus int
		bare           bool
		want           int
	}{
		{8, 1, false, 0}, {8, 2, false, 1}, {8, 3, false, 1}, {8, 4, false, 2}, {8, 16, false, 8}, {2, 16, false, 2}, {1, 16, false, 1},
		{8, 1, true, 1}, {8, 2, true, 2}, {8, 3, true, 3}, {2, 16, true, 2},
	} {
		if got := autoSegments(c.subTasks, c.cpus, c.bare); got != c.want {
			t.Errorf("autoSegments(%d sub-tasks, %d CPUs, bare %v) = %d, want %d", c.subTasks, c.cpus, c.bare, got, c.want)
		}
	}
}
