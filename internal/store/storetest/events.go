package storetest

import (
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/store"
)

func testEvents(t *testing.T, open opener) {
	t.Run("AppendList", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ctx := t.Context()
		// Nanoseconds and a non-UTC zone: the store keeps the instant and
		// returns it in UTC.
		base := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("UTC+1", 3600))
		events := []*store.Event{
			{SourceID: "i-1", SourceType: "replication-instance", Message: "created", Categories: []string{"creation"}, Date: base},
			{SourceID: "t-1", SourceType: "replication-task", Message: "failed", Categories: []string{"state change", "failure"}, Date: base.Add(time.Second)},
			{SourceID: "i-1", SourceType: "replication-instance", Message: "available", Date: base.Add(2 * time.Second)},
			{SourceID: "i-2", SourceType: "replication-instance", Message: "created", Categories: []string{}, Date: base.Add(3 * time.Second)},
		}
		// Two in one transaction, two in separate ones.
		update(t, s, func(tx store.Tx) error {
			for _, e := range events[:2] {
				if err := tx.EventAppend(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		for _, e := range events[2:] {
			update(t, s, func(tx store.Tx) error { return tx.EventAppend(ctx, e) })
		}
		for i := 1; i < len(events); i++ {
			if events[i].Seq <= events[i-1].Seq {
				t.Fatalf("Seq not increasing: event %d has %d, event %d has %d", i-1, events[i-1].Seq, i, events[i].Seq)
			}
		}

		list := func(p *store.EventListParams) []*store.Event {
			t.Helper()
			got, err := s.EventList(ctx, p)
			if err != nil {
				t.Fatalf("EventList(%+v): %v", p, err)
			}
			return got
		}
		expect := func(name string, p store.EventListParams, want ...int) {
			t.Helper()
			got := list(&p)
			if len(got) != len(want) {
				t.Fatalf("%s: got %d events, want %d", name, len(got), len(want))
			}
			for i, w := range want {
				requireEvent(t, events[w], got[i])
			}
		}
		expect("all", store.EventListParams{}, 0, 1, 2, 3)
		expect("source id", store.EventListParams{SourceID: "i-1"}, 0, 2)
		expect("source type", store.EventListParams{SourceType: "replication-task"}, 1)
		expect("since (inclusive)", store.EventListParams{Since: base.Add(time.Second)}, 1, 2, 3)
		expect("until (inclusive)", store.EventListParams{Until: base.Add(2 * time.Second)}, 0, 1, 2)
		expect("since and until", store.EventListParams{Since: base.Add(time.Second), Until: base.Add(2 * time.Second)}, 1, 2)
		expect("since in UTC", store.EventListParams{Since: base.Add(3 * time.Second).UTC()}, 3)
		expect("one nanosecond after", store.EventListParams{Since: base.Add(3*time.Second + time.Nanosecond)})
		expect("type and since", store.EventListParams{SourceType: "replication-instance", Since: base.Add(time.Second)}, 2, 3)
		expect("id and type", store.EventListParams{SourceID: "i-1", SourceType: "replication-task"})
		expect("unknown id", store.EventListParams{SourceID: "nope"})
	})
}

func requireEvent(t *testing.T, want, got *store.Event) {
	t.Helper()
	if got.Seq != want.Seq || got.SourceID != want.SourceID || got.SourceType != want.SourceType || got.Message != want.Message {
		t.Fatalf("event mismatch: got %+v, want %+v", got, want)
	}
	if !got.Date.Equal(want.Date) {
		t.Fatalf("event %d: Date %s, want %s", want.Seq, got.Date, want.Date)
	}
	requireUTC(t, got.Date, "Event.Date")
	if len(got.Categories) != len(want.Categories) {
		t.Fatalf("event %d: categories %q, want %q", want.Seq, got.Categories, want.Categories)
	}
	requireStrings(t, "categories", got.Categories, want.Categories)
}
