package engine

import (
	"context"
	"log/slog"
	"sync"
)

// Instance is a running replication instance: a bounded worker pool whose
// work stops when the instance stops.
type Instance struct {
	ARN, Identifier string
	log             *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	slots  chan struct{}
	wg     sync.WaitGroup
}

func newInstance(arn, identifier string, workers int, log *slog.Logger) *Instance {
	ctx, cancel := context.WithCancel(context.Background())
	return &Instance{ARN: arn, Identifier: identifier, log: log.With("instance", identifier),
		ctx: ctx, cancel: cancel, slots: make(chan struct{}, workers)}
}

// Go runs fn on the pool when a worker is free. fn's context ends when the
// instance stops. It returns false when the instance is stopping.
func (in *Instance) Go(fn func(ctx context.Context)) bool {
	if in.ctx.Err() != nil {
		return false
	}
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		select {
		case in.slots <- struct{}{}:
		case <-in.ctx.Done():
			return
		}
		defer func() { <-in.slots }()
		fn(in.ctx)
	}()
	return true
}

// Stop cancels the instance's work and waits for it.
func (in *Instance) Stop() {
	in.cancel()
	in.wg.Wait()
}
