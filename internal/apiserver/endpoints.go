package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/godwit-dms/godwit/internal/api"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
	"github.com/godwit-dms/godwit/internal/service"
)

// settingsBlocks picks the engine settings blocks (members named *Settings)
// out of a Create/ModifyEndpoint message, as raw JSON.
func settingsBlocks(msg any) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{}
	for k, v := range all {
		if strings.HasSuffix(k, "Settings") && string(v) != "null" {
			out[k] = v
		}
	}
	return out, nil
}

// endpointShape is the wire form of an endpoint: the type upper-case, the
// connection fields mirrored into the engine's settings block, no secrets.
func endpointShape(ep *dms.Endpoint) (*api.Endpoint, error) {
	m := map[string]any{
		"EndpointArn":        ep.ARN,
		"EndpointIdentifier": ep.Identifier,
		"EndpointType":       strings.ToUpper(ep.Type),
		"EngineName":         ep.Engine,
		"EngineDisplayName":  catalog.DisplayName(ep.Engine),
		"Status":             ep.Status,
		"SslMode":            ep.SSLMode,
		"ExternalId":         ep.ExternalID,
		"IsReadOnly":         false,
	}
	for k, v := range map[string]string{"Username": ep.Username, "ServerName": ep.ServerName, "DatabaseName": ep.DatabaseName,
		"ExtraConnectionAttributes": ep.ExtraConnectionAttributes, "KmsKeyId": ep.KmsKeyID, "CertificateArn": ep.CertificateARN,
		"ServiceAccessRoleArn": ep.ServiceAccessRoleARN, "ExternalTableDefinition": ep.ExternalTableDefinition} {
		if v != "" {
			m[k] = v
		}
	}
	if ep.Port != 0 {
		m["Port"] = ep.Port
	}
	for block, raw := range ep.Settings {
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("endpoint %s: settings %s: %w", ep.Identifier, block, err)
		}
		m[block] = v
	}
	if block := catalog.SettingsBlock(ep.Engine); block != "" {
		blk, _ := m[block].(map[string]any)
		if blk == nil {
			blk = map[string]any{}
		}
		for _, f := range catalog.MirroredConnectionFields(block) {
			if v, ok := m[f]; ok {
				blk[f] = v
			}
		}
		if len(blk) > 0 {
			m[block] = blk
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := new(api.Endpoint)
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", ep.Identifier, err)
	}
	return out, nil
}

func (s *Server) CreateEndpoint(ctx context.Context, in *api.CreateEndpointMessage) (*api.CreateEndpointResponse, error) {
	blocks, err := settingsBlocks(in)
	if err != nil {
		return nil, err
	}
	ep, err := s.Svc.CreateEndpoint(ctx, service.EndpointSpec{
		Identifier: in.EndpointIdentifier, ResourceIdentifier: str(in.ResourceIdentifier),
		Type: in.EndpointType, Engine: in.EngineName, Username: in.Username, Password: in.Password,
		ServerName: in.ServerName, Port: in.Port, DatabaseName: in.DatabaseName,
		ExtraConnectionAttributes: in.ExtraConnectionAttributes, KmsKeyID: in.KmsKeyId, CertificateARN: in.CertificateArn,
		SSLMode: in.SslMode, ServiceAccessRoleARN: in.ServiceAccessRoleArn, ExternalTableDefinition: in.ExternalTableDefinition,
		Settings: blocks, Tags: tagsIn(in.Tags),
	})
	if err != nil {
		return nil, err
	}
	shape, err := endpointShape(ep)
	if err != nil {
		return nil, err
	}
	return &api.CreateEndpointResponse{Endpoint: shape}, nil
}

func (s *Server) DescribeEndpoints(ctx context.Context, in *api.DescribeEndpointsMessage) (*api.DescribeEndpointsResponse, error) {
	all, err := s.Svc.ListEndpoints(ctx)
	if err != nil {
		return nil, err
	}
	items, err := applyFilters(all, in.Filters, filterFields[*dms.Endpoint]{
		"endpoint-arn":  func(ep *dms.Endpoint) []string { return []string{ep.ARN} },
		"endpoint-type": func(ep *dms.Endpoint) []string { return []string{ep.Type, strings.ToUpper(ep.Type)} },
		"endpoint-id":   func(ep *dms.Endpoint) []string { return []string{ep.Identifier} },
		"engine-name":   func(ep *dms.Endpoint) []string { return []string{ep.Engine} },
	})
	if err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 && len(items) == 0 {
		return nil, noneMatched("Endpoints")
	}
	pg, next, err := page(items, in.Marker, in.MaxRecords, limitsStd)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeEndpointsResponse{Marker: next, Endpoints: []api.Endpoint{}}
	for _, ep := range pg {
		shape, err := endpointShape(ep)
		if err != nil {
			return nil, err
		}
		out.Endpoints = append(out.Endpoints, *shape)
	}
	return out, nil
}

func (s *Server) ModifyEndpoint(ctx context.Context, in *api.ModifyEndpointMessage) (*api.ModifyEndpointResponse, error) {
	blocks, err := settingsBlocks(in)
	if err != nil {
		return nil, err
	}
	ep, err := s.Svc.ModifyEndpoint(ctx, service.EndpointSpec{
		ARN: str(in.EndpointArn), Identifier: in.EndpointIdentifier,
		Type: in.EndpointType, Engine: in.EngineName, Username: in.Username, Password: in.Password,
		ServerName: in.ServerName, Port: in.Port, DatabaseName: in.DatabaseName,
		ExtraConnectionAttributes: in.ExtraConnectionAttributes, CertificateARN: in.CertificateArn,
		SSLMode: in.SslMode, ServiceAccessRoleARN: in.ServiceAccessRoleArn, ExternalTableDefinition: in.ExternalTableDefinition,
		Settings: blocks, ExactSettings: boolv(in.ExactSettings),
	})
	if err != nil {
		return nil, err
	}
	shape, err := endpointShape(ep)
	if err != nil {
		return nil, err
	}
	return &api.ModifyEndpointResponse{Endpoint: shape}, nil
}

func (s *Server) DeleteEndpoint(ctx context.Context, in *api.DeleteEndpointMessage) (*api.DeleteEndpointResponse, error) {
	ep, err := s.Svc.DeleteEndpoint(ctx, str(in.EndpointArn))
	if err != nil {
		return nil, err
	}
	shape, err := endpointShape(ep)
	if err != nil {
		return nil, err
	}
	return &api.DeleteEndpointResponse{Endpoint: shape}, nil
}
