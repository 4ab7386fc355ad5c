package fullload

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// takeAll is a load that takes batches until next says the group ends.
func takeAll(got *[][]int) func(next func() (int, error)) error {
	return func(next func() (int, error)) error {
		var group []int
		for {
			b, err := next()
			if err != nil {
				return err
			}
			if b == 0 {
				*got = append(*got, group)
				return nil
			}
			group = append(group, b)
		}
	}
}

func size(b int) (int64, mark) { return int64(b), mark{key: []string{fmt.Sprint(b)}} }

// loadGroups gives one load the batches that come within its interval, and
// reports each load's rows and last key after it; a load that takes one
// batch at a time is a commit per batch.
func TestLoadGroups(t *testing.T) {
	ctx := context.Background()
	queued := func(bs ...int) chan int {
		ch := make(chan int, len(bs))
		for _, b := range bs {
			ch <- b
		}
		close(ch)
		return ch
	}
	var groups [][]int
	var reports []string
	report := func(rows int64, last mark) error {
		reports = append(reports, fmt.Sprint(rows, last.key))
		return nil
	}
	if err := loadGroups(ctx, time.Hour, queued(1, 2, 3, 4), size, takeAll(&groups), report); err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(groups, [][]int{{1, 2, 3, 4}}, slices.Equal) || !slices.Equal(reports, []string{"10 [4]"}) {
		t.Errorf("within the interval: groups %v, reports %q", groups, reports)
	}

	groups, reports = nil, nil
	if err := loadGroups(ctx, time.Nanosecond, queued(1, 2, 3), size, takeAll(&groups), report); err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(groups, [][]int{{1}, {2}, {3}, nil}, slices.Equal) || !slices.Equal(reports, []string{"1 [1]", "2 [2]", "3 [3]"}) {
		t.Errorf("an interval shorter than a batch: groups %v, reports %q", groups, reports)
	}

	// The load that took a batch commits at its interval although the next
	// batch is slow to come: the next is sent only once the first is
	// reported.
	groups, reports = nil, nil
	ch := make(chan int)
	reported := make(chan struct{})
	go func() {
		defer close(ch)
		ch <- 1
		select {
		case <-reported:
		case <-time.After(5 * time.Second):
		}
		ch <- 2
	}()
	err := loadGroups(ctx, 20*time.Millisecond, ch, size, takeAll(&groups), func(rows int64, last mark) error {
		if len(reports) == 0 {
			close(reported)
		}
		return report(rows, last)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) < 2 || !slices.Equal(groups[0], []int{1}) || !slices.Equal(groups[1], []int{2}) {
		t.Errorf("a slow source: groups %v, want the first batch committed alone", groups)
	}

	// A failed load ends it, unreported; a load that takes nothing is an
	// error, not a loop.
	reports = nil
	fail := errors.New("refused")
	err = loadGroups(ctx, time.Hour, queued(1, 2), size, func(next func() (int, error)) error {
		next()
		return fail
	}, report)
	if !errors.Is(err, fail) || len(reports) != 0 {
		t.Errorf("a failed load: %v, reports %q", err, reports)
	}
	err = loadGroups(ctx, time.Hour, queued(1), size, func(func() (int, error)) error { return nil }, report)
	if err == nil {
		t.Error("a load that took no batch: no error")
	}
}
