// Package apiserver implements api.Operations: one file per resource family.
// It converts wire shapes to domain values, calls the service layer and
// converts back. It is the only place where errors become DMS faults (ToFault).
package apiserver

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/godwit-dms/godwit/internal/api"
	"github.com/godwit-dms/godwit/internal/service"
	"github.com/godwit-dms/godwit/internal/store"
)

// Server is the DMS API implementation.
type Server struct {
	api.Unimplemented
	Svc *service.Service
}

var _ api.Operations = (*Server)(nil)

var faultCodes = map[service.Code]string{
	service.CodeNotFound:                    "ResourceNotFoundFault",
	service.CodeAlreadyExists:               "ResourceAlreadyExistsFault",
	service.CodeInvalidState:                "InvalidResourceStateFault",
	service.CodeInvalidParameter:            api.CodeInvalidParameterValue,
	service.CodeInvalidParameterCombination: api.CodeInvalidParameterCombination,
	service.CodeQuotaExceeded:               "ResourceQuotaExceededFault",
	service.CodeAccessDenied:                "AccessDeniedFault",
	service.CodeInvalidSubnet:               "InvalidSubnet",
	service.CodeSubnetGroupAZs:              "ReplicationSubnetGroupDoesNotCoverEnoughAZs",
	service.CodeSubnetInUse:                 "SubnetAlreadyInUse",
	service.CodeInvalidCertificate:          "InvalidCertificateFault",
	service.CodeKMSKeyNotAccessible:         "KMSKeyNotAccessibleFault",
	service.CodeUpgradeDependency:           "UpgradeDependencyFailureFault",
	service.CodeS3NotFound:                  "S3ResourceNotFoundFault",
	service.CodeS3AccessDenied:              "S3AccessDeniedFault",
}

// ToFault turns any error of an operation into the fault the client sees.
// It returns nil for errors that are not the client's to see (the protocol
// layer answers those with InternalFailure).
func ToFault(err error) *api.Fault {
	var f *api.Fault
	if errors.As(err, &f) {
		return f
	}
	var se *service.Error
	if errors.As(err, &se) {
		if code, ok := faultCodes[se.Code]; ok {
			return &api.Fault{Code: code, Message: se.Msg, ResourceArn: se.ARN}
		}
	}
	if errors.Is(err, store.ErrConflict) {
		return api.NewFault("InvalidResourceStateFault", "The resource changed while the request was served; retry the request.")
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// optPtr returns nil for the zero value.
func optPtr[T comparable](v T) *T {
	var z T
	if v == z {
		return nil
	}
	return &v
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func boolv(p *bool) bool { return p != nil && *p }

// filterFields maps a filter name to the values of an item it matches.
type filterFields[T any] map[string]func(T) []string

// applyFilters keeps the items matching every filter (values OR'ed, filters
// AND'ed). Unknown filter names and empty value lists are invalid.
func applyFilters[T any](items []T, filters []api.Filter, fields filterFields[T]) ([]T, error) {
	if len(filters) == 0 {
		return items, nil
	}
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, f := range filters {
		if _, ok := fields[str(f.Name)]; !ok {
			return nil, api.InvalidParameter("The filter name %q is not valid here. Valid filter names: %s.", str(f.Name), strings.Join(names, ", "))
		}
		if len(f.Values) == 0 {
			return nil, api.InvalidParameter("The filter %q needs at least one value.", str(f.Name))
		}
	}
	var out []T
	for _, it := range items {
		ok := true
		for _, f := range filters {
			have := fields[str(f.Name)](it)
			if !slices.ContainsFunc(f.Values, func(v string) bool { return slices.Contains(have, v) }) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, it)
		}
	}
	return out, nil
}

// noneMatched is DMS's answer when filters match nothing.
func noneMatched(what string) error {
	return api.NewFault("ResourceNotFoundFault", "No %s found matching provided filters", what)
}

// pageLimits are the MaxRecords rules of an operation.
type pageLimits struct{ def, min, max int }

var (
	limitsStd   = pageLimits{100, 20, 100}
	limitsStats = pageLimits{100, 20, 500}
	limitsCerts = pageLimits{10, 10, 100}
)

const markerPrefix = "godwit-v1:"

// page cuts one page out of items. The marker is an opaque offset.
func page[T any](items []T, marker *string, maxRecords *int32, lim pageLimits) ([]T, *string, error) {
	n := lim.def
	if maxRecords != nil {
		n = int(*maxRecords)
		if n < lim.min || n > lim.max {
			return nil, nil, api.InvalidParameter("MaxRecords must be between %d and %d (got %d).", lim.min, lim.max, n)
		}
	}
	start := 0
	if m := str(marker); m != "" {
		raw, err := base64.RawURLEncoding.DecodeString(m)
		off, ok := strings.CutPrefix(string(raw), markerPrefix)
		if err != nil || !ok {
			return nil, nil, api.InvalidParameter("The Marker %q is not one this server returned.", m)
		}
		start, err = strconv.Atoi(off)
		if err != nil || start < 0 {
			return nil, nil, api.InvalidParameter("The Marker %q is not one this server returned.", m)
		}
	}
	if start >= len(items) {
		return []T{}, nil, nil
	}
	end := min(start+n, len(items))
	var next *string
	if end < len(items) {
		next = ptr(base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s%d", markerPrefix, end)))
	}
	return items[start:end], next, nil
}

func tagsIn(tags []api.Tag) []store.Tag {
	out := make([]store.Tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, store.Tag{Key: str(t.Key), Value: str(t.Value)})
	}
	return out
}
