package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/store"
	"github.com/godwit-dms/godwit/internal/store/storetest"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "nested", "state dir?#")

	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	r := &store.Record{Kind: "k", ID: "one", ARN: "arn:test:one", Parent: "arn:test:p", Schema: 3, Doc: []byte(" {\"x\": 1}\n")}
	e := &store.Event{SourceID: "one", SourceType: "k", Message: "hello", Categories: []string{"a"}, Date: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)}
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.RecordInsert(ctx, r); err != nil {
			return err
		}
		if err := tx.RecordUpdate(ctx, r); err != nil {
			return err
		}
		if err := tx.TagPut(ctx, r.ARN, []store.Tag{{Key: "k", Value: "v"}}); err != nil {
			return err
		}
		return tx.EventAppend(ctx, e)
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Fatalf("database file: %v", err)
	}

	for round := range 2 { // the second reopen finds the schema current
		s, err = Open(ctx, dir)
		if err != nil {
			t.Fatalf("reopen %d: %v", round, err)
		}
		got, err := s.RecordGetByARN(ctx, r.ARN)
		if err != nil {
			t.Fatalf("RecordGetByARN after reopen: %v", err)
		}
		if got.Kind != r.Kind || got.ID != r.ID || got.Parent != r.Parent || got.Schema != r.Schema ||
			got.Revision != 2 || string(got.Doc) != string(r.Doc) ||
			!got.CreatedAt.Equal(r.CreatedAt) || !got.UpdatedAt.Equal(r.UpdatedAt) {
			t.Fatalf("after reopen got %+v, want %+v", got, r)
		}
		tags, err := s.TagList(ctx, r.ARN)
		if err != nil || len(tags) != 1 || tags[0] != (store.Tag{Key: "k", Value: "v"}) {
			t.Fatalf("tags after reopen: %v %v", tags, err)
		}
		events, err := s.EventList(ctx, &store.EventListParams{})
		if err != nil || len(events) != 1 || events[0].Seq != e.Seq || !events[0].Date.Equal(e.Date) {
			t.Fatalf("events after reopen: %v %v", events, err)
		}
		// Creation order continues after the existing rows.
		next := &store.Record{Kind: "k", ID: fmt.Sprintf("a%d", round)}
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.RecordInsert(ctx, next) }); err != nil {
			t.Fatalf("insert after reopen: %v", err)
		}
		list, err := s.RecordList(ctx, &store.RecordListParams{Kind: "k"})
		if err != nil || len(list) != round+2 || list[0].ID != "one" || list[len(list)-1].ID != next.ID {
			t.Fatalf("list after reopen: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	for _, db := range []*sql.DB{s.write, s.read} {
		var mode string
		var fk, syncMode, busy int
		if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&syncMode); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || syncMode != 1 || busy != busyTimeoutMillis {
			t.Fatalf("journal_mode=%s foreign_keys=%d synchronous=%d busy_timeout=%d", mode, fk, syncMode, busy)
		}
	}
	var version int
	if err := s.read.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil || version != len(migrations) {
		t.Fatalf("user_version = %d (%v), want %d", version, err, len(migrations))
	}
	if _, err := s.read.ExecContext(ctx, `DELETE FROM records`); err == nil {
		t.Fatal("the read pool accepted a write")
	}
}

func TestSchemaTooNew(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.ExecContext(t.Context(), fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations)+1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), dir); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: got %v, want ErrSchemaTooNew", err)
	}
}

// TestTwoStoresOneFile stands in for two processes sharing a state
// directory: their writers contend on the file lock, which BEGIN IMMEDIATE
// and busy_timeout turn into waiting rather than SQLITE_BUSY.
func TestTwoStoresOneFile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	var stores [2]*Store
	for i := range stores {
		s, err := Open(ctx, dir)
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	const perGoroutine = 20
	var wg sync.WaitGroup
	for g := range 4 {
		s := stores[g%2]
		wg.Go(func() {
			for i := range perGoroutine {
				err := s.Update(ctx, func(tx store.Tx) error {
					return tx.RecordInsert(ctx, &store.Record{Kind: "k", ID: fmt.Sprintf("%d-%d", g, i)})
				})
				if err != nil {
					t.Errorf("goroutine %d insert %d: %v", g, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	list, err := stores[1].RecordList(ctx, &store.RecordListParams{Kind: "k"})
	if err != nil || len(list) != 4*perGoroutine {
		t.Fatalf("RecordList: %d records, %v", len(list), err)
	}
}

func TestUniqueViolationByCode(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	insert := func(r *store.Record) error {
		return s.Update(ctx, func(tx store.Tx) error { return tx.RecordInsert(ctx, r) })
	}
	if err := insert(&store.Record{Kind: "k", ID: "a", ARN: "arn:a"}); err != nil {
		t.Fatal(err)
	}
	// A constraint that is not a uniqueness one is not ErrAlreadyExists.
	_, err := s.write.ExecContext(ctx, `INSERT INTO events (source_id, source_type, message, categories, date) VALUES ('', '', '', 'not json', 0)`)
	if err == nil || isUniqueViolation(err) {
		t.Fatalf("CHECK violation classified as unique: %v", err)
	}
	for _, r := range []*store.Record{{Kind: "k", ID: "a"}, {Kind: "j", ID: "b", ARN: "arn:a"}} {
		if err := insert(r); !errors.Is(err, store.ErrAlreadyExists) {
			t.Fatalf("insert %+v: %v", r, err)
		}
	}
}

func TestUpdateAfterClose(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func(store.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Update after Close: %v", err)
	}
}

func BenchmarkRecordUpdate(b *testing.B) {
	s := openTemp(b)
	ctx := b.Context()
	r := &store.Record{Kind: "bench", ID: "r", ARN: "arn:bench:r", Doc: []byte(`{"status":"running","progress":0}`)}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.RecordInsert(ctx, r) }); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.RecordUpdate(ctx, r) }); err != nil {
			b.Fatal(err)
		}
	}
}
