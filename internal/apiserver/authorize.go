package apiserver

import (
	"context"
	"slices"
	"strings"

	"github.com/godwit-dms/godwit/internal/api"
)

// readOnlyPrefixes are the operations a read-only key may call.
var readOnlyPrefixes = []string{"Describe", "List"}

// Authorize refuses every operation that changes something to a read-only
// key: AccessDeniedFault where the operation models it, else
// AccessDeniedException (IAM's answer).
func (s *Server) Authorize(ctx context.Context, op string) *api.Fault {
	if s.Svc.RequestKey == nil {
		return nil
	}
	key, ok := s.Svc.RequestKey(ctx)
	if !ok || !s.Svc.ReadOnlyKeys[key] {
		return nil
	}
	for _, p := range readOnlyPrefixes {
		if strings.HasPrefix(op, p) {
			return nil
		}
	}
	code := "AccessDeniedException"
	if slices.Contains(api.OperationFaults[op], "AccessDeniedFault") {
		code = "AccessDeniedFault"
	}
	return api.NewFault(code, "The access key %s is read-only: it may not call %s.", key, op)
}
