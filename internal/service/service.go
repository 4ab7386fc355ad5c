// Package service holds Godwit's use cases: it validates requests against the
// domain rules, moves resources through their status machines, writes the
// desired state in one store transaction and tells the engine to reconcile.
package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
	"github.com/godwit-dms/godwit/internal/secret"
	"github.com/godwit-dms/godwit/internal/store"
)

// Notifier is told that desired state changed; the engine implements it.
type Notifier interface{ Notify() }

// Service is the use-case layer.
type Service struct {
	Store   store.Store
	Account dms.Account
	Secrets *secret.Box
	Engine  Notifier
	Logger  *slog.Logger
	Now     func() time.Time
	// TaskLogDir holds one log file per task (<resource id>.log).
	TaskLogDir string
	// Checks is the catalogue of individual assessments; Buckets checks
	// where their results go.
	Checks  CheckCatalog
	Buckets ResultBuckets
	// ReadOnlyKeys are access keys that may read but not change resources.
	ReadOnlyKeys map[string]bool
	// RequestKey returns the access key of the request ctx belongs to.
	RequestKey func(ctx context.Context) (string, bool)
}

func requestKeyOf(s *Service, ctx context.Context) (string, bool) {
	if s.RequestKey == nil {
		return "", false
	}
	return s.RequestKey(ctx)
}

// TaskLogPath is the log file of a task ("" when task logs are off).
func (s *Service) TaskLogPath(t *dms.ReplicationTask) string {
	if s.TaskLogDir == "" {
		return ""
	}
	return filepath.Join(s.TaskLogDir, t.ResourceID+".log")
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) notify() {
	if s.Engine != nil {
		s.Engine.Notify()
	}
}

// update runs fn in a store transaction, translating store errors.
func (s *Service) update(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.Store.Update(ctx, fn)
}

// load reads the record (kind, id) into v. It returns the record (for its
// revision) or a CodeNotFound error using what for the message.
func load[T any](ctx context.Context, r store.Reader, kind store.Kind, id string, what string) (*T, *store.Record, error) {
	rec, err := r.RecordGet(ctx, kind, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, notFound("%s not found", what)
	}
	if err != nil {
		return nil, nil, err
	}
	v := new(T)
	if err := json.Unmarshal(rec.Doc, v); err != nil {
		return nil, nil, fmt.Errorf("decode %s %s: %w", kind, id, err)
	}
	return v, rec, nil
}

// loadByARN is load keyed by ARN; a record of another kind is not found.
func loadByARN[T any](ctx context.Context, r store.Reader, kind store.Kind, arn string, what string) (*T, *store.Record, error) {
	rec, err := r.RecordGetByARN(ctx, arn)
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.Kind != kind) {
		return nil, nil, notFound("%s %s not found", what, arn)
	}
	if err != nil {
		return nil, nil, err
	}
	v := new(T)
	if err := json.Unmarshal(rec.Doc, v); err != nil {
		return nil, nil, fmt.Errorf("decode %s %s: %w", kind, rec.ID, err)
	}
	return v, rec, nil
}

// list decodes every record of kind (optionally under parent).
func list[T any](ctx context.Context, r store.Reader, kind store.Kind, parent string) ([]*T, error) {
	recs, err := r.RecordList(ctx, &store.RecordListParams{Kind: kind, Parent: parent})
	if err != nil {
		return nil, err
	}
	out := make([]*T, 0, len(recs))
	for _, rec := range recs {
		v := new(T)
		if err := json.Unmarshal(rec.Doc, v); err != nil {
			return nil, fmt.Errorf("decode %s %s: %w", kind, rec.ID, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func insert(ctx context.Context, tx store.Tx, kind store.Kind, id, arn, parent string, v any) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	err = tx.RecordInsert(ctx, &store.Record{Kind: kind, ID: id, ARN: arn, Parent: parent, Schema: SchemaV1, Doc: doc})
	if errors.Is(err, store.ErrAlreadyExists) {
		return &Error{Code: CodeAlreadyExists, Msg: fmt.Sprintf("%s %s already exists", kind, id), ARN: arn}
	}
	return err
}

// save writes v back over rec (optimistic: fails if rec changed meanwhile).
func save(ctx context.Context, tx store.Tx, rec *store.Record, v any) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	rec.Doc = doc
	rec.Schema = SchemaV1
	return tx.RecordUpdate(ctx, rec)
}

// event appends the lifecycle event eventID (a catalog DMS-EVENT id) of sourceID.
func (s *Service) event(ctx context.Context, tx store.Tx, sourceID, eventID string) error {
	ev, ok := catalog.Event(eventID)
	if !ok {
		return fmt.Errorf("unknown event id %s", eventID)
	}
	return tx.EventAppend(ctx, &store.Event{SourceID: sourceID, SourceType: ev.SourceType, Message: ev.Message,
		Categories: []string{ev.Category}, Date: s.now()})
}

// quota returns the account quota of name.
func quota(name string) int {
	n, _ := catalog.QuotaMax(name)
	return int(n)
}
