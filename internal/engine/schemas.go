package engine

import (
	"context"
	"fmt"
	"sort"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
)

// reconcileSchemaRefreshes runs every requested RefreshSchemas not yet running.
func (e *Engine) reconcileSchemaRefreshes(ctx context.Context) error {
	pending, err := e.svc.PendingSchemaRefreshes(ctx)
	if err != nil {
		return err
	}
	for _, r := range pending {
		key := "refresh|" + r.EndpointARN
		e.mu.Lock()
		attempt, busy := e.inFlight[key]
		if busy && attempt == r.Attempt {
			e.mu.Unlock()
			continue
		}
		e.inFlight[key] = r.Attempt
		e.mu.Unlock()
		in := e.instance(r.InstanceARN)
		r := *r
		run := func(ctx context.Context) {
			defer func() {
				e.mu.Lock()
				if e.inFlight[key] == r.Attempt {
					delete(e.inFlight, key)
				}
				e.mu.Unlock()
			}()
			schemas, failure := e.refreshSchemas(ctx, r.EndpointARN)
			if ctx.Err() != nil {
				return
			}
			if err := e.svc.RecordSchemaRefresh(context.WithoutCancel(ctx), r.EndpointARN, r.Attempt, schemas, failure); err != nil {
				e.log.Error("record schema refresh", "endpoint", r.EndpointARN, "err", err)
			}
		}
		if in == nil || !in.Go(run) {
			e.mu.Lock()
			delete(e.inFlight, key)
			e.mu.Unlock()
		}
	}
	return nil
}

func (e *Engine) refreshSchemas(ctx context.Context, endpointARN string) ([]string, string) {
	conn, ep, err := e.openEndpoint(ctx, endpointARN)
	if err != nil {
		return nil, err.Error()
	}
	defer conn.Close()
	sr, ok := conn.(connector.SchemaReader)
	if !ok {
		return nil, fmt.Sprintf("Godwit cannot list the schemas of %s endpoints.", catalog.DisplayName(ep.Engine))
	}
	tctx, cancel := context.WithTimeout(ctx, e.cfg.ConnectionTestTimeout)
	defer cancel()
	schemas, err := sr.Schemas(tctx)
	if err != nil {
		return nil, fmt.Sprintf("Could not list the schemas of endpoint %s: %v", ep.Identifier, err)
	}
	sort.Strings(schemas)
	return schemas, ""
}
