package fullload

import "testing"

// A table is split on Godwit's own initiative into at most one segment per
// two CPUs, and never more than the sub-tasks: a 2-CPU machine loads a
// table in one stream.
func TestAutoSegments(t *testing.T) {
	for _, c := range []struct{ subTasks, cpus, want int }{
		{8, 1, 0}, {8, 2, 1}, {8, 3, 1}, {8, 4, 2}, {8, 16, 8}, {2, 16, 2}, {1, 16, 1},
	} {
		if got := autoSegments(c.subTasks, c.cpus); got != c.want {
			t.Errorf("autoSegments(%d sub-tasks, %d CPUs) = %d, want %d", c.subTasks, c.cpus, got, c.want)
		}
	}
}
