package service

import (
	"context"
	"time"

	"github.com/godwit-dms/godwit/internal/store"
)

// ListEvents returns events between since and until (zero = unbounded).
func (s *Service) ListEvents(ctx context.Context, sourceID, sourceType string, since, until time.Time) ([]*store.Event, error) {
	return s.Store.EventList(ctx, &store.EventListParams{SourceID: sourceID, SourceType: sourceType, Since: since, Until: until})
}

// Usage is what DescribeAccountAttributes reports as used.
type Usage struct {
	Instances, Endpoints, SubnetGroups, Certificates int
	AllocatedStorage                                 int64
}

// AccountUsage counts the resources of the account.
func (s *Service) AccountUsage(ctx context.Context) (Usage, error) {
	var u Usage
	insts, err := s.ListInstances(ctx)
	if err != nil {
		return u, err
	}
	u.Instances = len(insts)
	for _, ri := range insts {
		u.AllocatedStorage += int64(ri.AllocatedStorage)
	}
	for kind, dst := range map[store.Kind]*int{KindEndpoint: &u.Endpoints, KindSubnetGroup: &u.SubnetGroups, KindCertificate: &u.Certificates} {
		if *dst, err = countKind(ctx, s.Store, kind); err != nil {
			return u, err
		}
	}
	return u, nil
}
