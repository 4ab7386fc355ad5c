package apiserver

import (
	"context"

	"github.com/godwit-dms/godwit/internal/api"
)

func (s *Server) AddTagsToResource(ctx context.Context, in *api.AddTagsToResourceMessage) (*api.AddTagsToResourceResponse, error) {
	if err := s.Svc.AddTags(ctx, str(in.ResourceArn), tagsIn(in.Tags)); err != nil {
		return nil, err
	}
	return &api.AddTagsToResourceResponse{}, nil
}

func (s *Server) RemoveTagsFromResource(ctx context.Context, in *api.RemoveTagsFromResourceMessage) (*api.RemoveTagsFromResourceResponse, error) {
	if err := s.Svc.RemoveTags(ctx, str(in.ResourceArn), in.TagKeys); err != nil {
		return nil, err
	}
	return &api.RemoveTagsFromResourceResponse{}, nil
}

func (s *Server) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceMessage) (*api.ListTagsForResourceResponse, error) {
	arns := in.ResourceArnList
	if in.ResourceArn != nil {
		arns = append([]string{*in.ResourceArn}, arns...)
	}
	if len(arns) == 0 {
		return nil, api.InvalidParameter("Give ResourceArn or ResourceArnList.")
	}
	out := &api.ListTagsForResourceResponse{TagList: []api.Tag{}}
	for _, arn := range arns {
		tags, err := s.Svc.ListTags(ctx, arn)
		if err != nil {
			return nil, err
		}
		for _, t := range tags {
			t := t
			tag := api.Tag{Key: &t.Key, Value: &t.Value}
			if len(in.ResourceArnList) > 0 {
				tag.ResourceArn = ptr(arn)
			}
			out.TagList = append(out.TagList, tag)
		}
	}
	return out, nil
}
