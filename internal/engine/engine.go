// Package engine runs Godwit's replication instances in process. It
// reconciles the desired state in the store: it brings instances through
// their transitional statuses, runs each instance's worker pool and, on
// those pools, the work the API asked for (connection tests now; tasks later),
// writing the outcome back through the service layer. Everything it does is
// rebuilt from the store, so a restart resumes where the last process stopped.
package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
	"github.com/godwit-dms/godwit/internal/engine/assess"
	"github.com/godwit-dms/godwit/internal/service"
)

// Config tunes the engine.
type Config struct {
	// ConnectionTestTimeout bounds one TestConnection (default 30 s).
	ConnectionTestTimeout time.Duration
	// ResyncInterval is how often the engine re-reads the store even when
	// nobody notified it (default 2 s).
	ResyncInterval time.Duration
	// ObjectStore locates the buckets of S3-style endpoints.
	ObjectStore connector.ObjectStore
	// MinRunningTime is the shortest time a task is reported running, so a
	// task that finishes in milliseconds is still seen running by pollers
	// (default 1 s; Terraform's first poll comes after 30 s).
	MinRunningTime time.Duration
	// FullLoadCommitInterval is fullload.Job.CommitEvery (0: its default).
	FullLoadCommitInterval time.Duration
	// FullLoadSegmentRows is fullload.Job.SegmentRows (0: its default).
	FullLoadSegmentRows int64
	// Checks are the premigration assessments the engine can run.
	Checks *assess.Registry
}

// Engine is the reconciler plus the running instances.
type Engine struct {
	svc      *service.Service
	registry *connector.Registry
	cfg      Config
	log      *slog.Logger

	wake chan struct{}
	stop context.CancelFunc
	done chan struct{}

	mu        sync.Mutex
	instances map[string]*Instance               // by ARN
	inFlight  map[string]int64                   // connection id → attempt being tested
	tasks     map[string]*taskRun                // by task ARN
	runs      map[string]context.CancelCauseFunc // assessment runs by ARN
}

// New returns an engine; Start runs it.
func New(svc *service.Service, registry *connector.Registry, cfg Config, log *slog.Logger) *Engine {
	if cfg.ConnectionTestTimeout <= 0 {
		cfg.ConnectionTestTimeout = 30 * time.Second
	}
	if cfg.ResyncInterval <= 0 {
		cfg.ResyncInterval = 2 * time.Second
	}
	if cfg.Checks == nil {
		cfg.Checks = assess.NewRegistry()
	}
	if cfg.MinRunningTime < 0 {
		cfg.MinRunningTime = 0
	}
	if log == nil {
		log = slog.Default()
	}
	return &Engine{svc: svc, registry: registry, cfg: cfg, log: log.With("component", "engine"),
		wake: make(chan struct{}, 1), instances: map[string]*Instance{}, inFlight: map[string]int64{}, tasks: map[string]*taskRun{}, runs: map[string]context.CancelCauseFunc{}}
}

// Notify asks the engine to reconcile soon. It never blocks.
func (e *Engine) Notify() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Start runs the reconcile loop until Stop.
func (e *Engine) Start(ctx context.Context) {
	ctx, e.stop = context.WithCancel(ctx)
	e.done = make(chan struct{})
	go func() {
		defer close(e.done)
		t := time.NewTicker(e.cfg.ResyncInterval)
		defer t.Stop()
		for {
			e.reconcile(ctx)
			select {
			case <-ctx.Done():
				return
			case <-e.wake:
			case <-t.C:
			}
		}
	}()
}

// Stop ends the loop and stops every instance, waiting for their work.
func (e *Engine) Stop() {
	if e.stop == nil {
		return
	}
	e.stop()
	<-e.done
	e.mu.Lock()
	insts := e.instances
	e.instances = map[string]*Instance{}
	e.mu.Unlock()
	for _, in := range insts {
		in.Stop()
	}
}

func (e *Engine) reconcile(ctx context.Context) {
	if err := e.reconcileInstances(ctx); err != nil && ctx.Err() == nil {
		e.log.Error("reconcile instances", "err", err)
	}
	if err := e.reconcileConnections(ctx); err != nil && ctx.Err() == nil {
		e.log.Error("reconcile connections", "err", err)
	}
	if err := e.reconcileSchemaRefreshes(ctx); err != nil && ctx.Err() == nil {
		e.log.Error("reconcile schema refreshes", "err", err)
	}
	if err := e.reconcileAssessments(ctx); err != nil && ctx.Err() == nil {
		e.log.Error("reconcile assessment runs", "err", err)
	}
	if err := e.reconcileTasks(ctx); err != nil && ctx.Err() == nil {
		e.log.Error("reconcile tasks", "err", err)
	}
}

func (e *Engine) instance(arn string) *Instance {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.instances[arn]
}

func (e *Engine) reconcileInstances(ctx context.Context) error {
	insts, err := e.svc.ListInstances(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, ri := range insts {
		seen[ri.ARN] = true
		running := e.instance(ri.ARN)
		switch ri.Status {
		case dms.InstanceDeleting:
			if running != nil {
				running.Stop()
				e.forget(ri.ARN)
			}
			if err := e.svc.PurgeInstance(ctx, ri.ARN); err != nil {
				return err
			}
			continue
		case dms.InstanceRebooting, dms.InstanceModifying, dms.InstanceUpgrading:
			// Restart the pool with the new shape.
			if running != nil {
				running.Stop()
				e.forget(ri.ARN)
				running = nil
			}
			if ri.Target != nil {
				ri.Target.Apply(ri)
			}
		}
		if running == nil {
			e.launch(ri)
		}
		if ri.Status != dms.InstanceAvailable && ri.Status != dms.InstanceFailed {
			if _, err := e.svc.CompleteInstanceTransition(ctx, ri.ARN, ri.Status); err != nil {
				return err
			}
		}
	}
	// Instances that disappeared from the store.
	e.mu.Lock()
	var gone []*Instance
	for arn, in := range e.instances {
		if !seen[arn] {
			gone = append(gone, in)
			delete(e.instances, arn)
		}
	}
	e.mu.Unlock()
	for _, in := range gone {
		in.Stop()
	}
	return nil
}

func (e *Engine) launch(ri *dms.ReplicationInstance) {
	vcpu, _, ok := catalog.InstanceClassResources(ri.Class)
	if !ok || vcpu < 1 {
		vcpu = 1
	}
	in := newInstance(ri.ARN, ri.Identifier, 2*vcpu, e.log)
	e.mu.Lock()
	e.instances[ri.ARN] = in
	e.mu.Unlock()
	e.log.Info("replication instance running", "instance", ri.Identifier, "class", ri.Class, "workers", 2*vcpu)
}

func (e *Engine) forget(arn string) {
	e.mu.Lock()
	delete(e.instances, arn)
	e.mu.Unlock()
}
