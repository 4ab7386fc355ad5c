package service

import (
	"context"
	"errors"
	"strings"

	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/store"
)

func validateTags(tags []store.Tag) error {
	for _, t := range tags {
		switch {
		case t.Key == "" || len(t.Key) > 128:
			return invalidParam("Tag keys must be 1 to 128 characters (got %q).", t.Key)
		case len(t.Value) > 256:
			return invalidParam("The value of tag %q must be at most 256 characters.", t.Key)
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:") || strings.HasPrefix(strings.ToLower(t.Key), "dms:"):
			return invalidParam("Tag key %q must not begin with aws: or dms:.", t.Key)
		}
	}
	return nil
}

// checkTaggable returns CodeNotFound unless arn names an existing resource.
func (s *Service) checkTaggable(ctx context.Context, r store.Reader, arn string) error {
	a, err := dms.ParseARN(arn)
	if err != nil {
		return invalidParam("%s", err)
	}
	if _, err := r.RecordGetByARN(ctx, arn); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return notFound("Resource %s (type %s) not found.", arn, a.Type)
}

// AddTags adds or overwrites tags on a resource.
func (s *Service) AddTags(ctx context.Context, arn string, tags []store.Tag) error {
	if err := validateTags(tags); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		if err := s.checkTaggable(ctx, tx, arn); err != nil {
			return err
		}
		return tx.TagPut(ctx, arn, tags)
	})
}

// RemoveTags removes tag keys from a resource.
func (s *Service) RemoveTags(ctx context.Context, arn string, keys []string) error {
	return s.update(ctx, func(tx store.Tx) error {
		if err := s.checkTaggable(ctx, tx, arn); err != nil {
			return err
		}
		return tx.TagDelete(ctx, arn, keys)
	})
}

// ListTags returns a resource's tags.
func (s *Service) ListTags(ctx context.Context, arn string) ([]store.Tag, error) {
	if err := s.checkTaggable(ctx, s.Store, arn); err != nil {
		return nil, err
	}
	return s.Store.TagList(ctx, arn)
}
