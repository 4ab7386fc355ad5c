package apiserver

import (
	"context"
	"slices"
	"time"

	"github.com/godwit-dms/godwit/internal/api"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
	"github.com/godwit-dms/godwit/internal/store"
)

var sourceTypes = []string{catalog.SourceReplicationInstance, catalog.SourceReplicationTask}

func (s *Server) DescribeEvents(ctx context.Context, in *api.DescribeEventsMessage) (*api.DescribeEventsResponse, error) {
	st := str(in.SourceType)
	if st != "" && !slices.Contains(sourceTypes, st) {
		return nil, api.InvalidParameter("Invalid SourceType %q: valid values are replication-instance and replication-task.", st)
	}
	var since, until time.Time
	if in.StartTime != nil {
		since = in.StartTime.Time
	}
	if in.EndTime != nil {
		until = in.EndTime.Time
	}
	if in.Duration != nil {
		if *in.Duration < 0 {
			return nil, api.InvalidParameter("Duration must not be negative (got %d).", *in.Duration)
		}
		if since.IsZero() {
			end := until
			if end.IsZero() {
				end = time.Now()
			}
			since = end.Add(-time.Duration(*in.Duration) * time.Minute)
		}
	}
	if !since.IsZero() && !until.IsZero() && until.Before(since) {
		return nil, api.NewFault(api.CodeInvalidParameterCombination, "EndTime must not be before StartTime.")
	}
	for _, c := range in.EventCategories {
		if !catalog.IsEventCategory("", c) && !catalog.IsEventCategory(catalog.SourceReplicationInstance, c) && !catalog.IsEventCategory(catalog.SourceReplicationTask, c) {
			return nil, api.InvalidParameter("Invalid event category %q: see DescribeEventCategories.", c)
		}
	}
	all, err := s.Svc.ListEvents(ctx, str(in.SourceIdentifier), st, since, until)
	if err != nil {
		return nil, err
	}
	items, err := applyFilters(all, in.Filters, filterFields[*store.Event]{
		"replication-instance-id": func(e *store.Event) []string {
			if e.SourceType == catalog.SourceReplicationInstance {
				return []string{e.SourceID}
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	if len(in.EventCategories) > 0 {
		items = slices.DeleteFunc(items, func(e *store.Event) bool {
			return !slices.ContainsFunc(e.Categories, func(c string) bool { return slices.Contains(in.EventCategories, c) })
		})
	}
	pg, next, err := page(items, in.Marker, in.MaxRecords, limitsStd)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeEventsResponse{Marker: next, Events: []api.Event{}}
	for _, e := range pg {
		out.Events = append(out.Events, api.Event{SourceIdentifier: ptr(e.SourceID), SourceType: ptr(e.SourceType),
			Message: ptr(e.Message), EventCategories: e.Categories, Date: api.NewTime(e.Date)})
	}
	return out, nil
}

func (s *Server) DescribeEventCategories(ctx context.Context, in *api.DescribeEventCategoriesMessage) (*api.DescribeEventCategoriesResponse, error) {
	st := str(in.SourceType)
	if st != "" && !slices.Contains(sourceTypes, st) {
		return nil, api.InvalidParameter("Invalid SourceType %q: valid values are replication-instance and replication-task.", st)
	}
	groups, err := applyFilters(catalog.EventCategories(), in.Filters, filterFields[catalog.EventCategoryGroup]{
		"source-type": func(g catalog.EventCategoryGroup) []string { return []string{g.SourceType} },
	})
	if err != nil {
		return nil, err
	}
	out := &api.DescribeEventCategoriesResponse{EventCategoryGroupList: []api.EventCategoryGroup{}}
	for _, g := range groups {
		if st != "" && g.SourceType != st {
			continue
		}
		out.EventCategoryGroupList = append(out.EventCategoryGroupList, api.EventCategoryGroup{SourceType: ptr(g.SourceType), EventCategories: g.EventCategories})
	}
	return out, nil
}
