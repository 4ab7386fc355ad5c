package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/s3"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/engine/assess"
	"github.com/godwit-dms/godwit/internal/service"
)

// errRunCancelled is the cause of a run context cancelled by CancelReplicationTaskAssessmentRun.
var errRunCancelled = errors.New("assessment run cancelled")

// CheckResultBucket implements service.ResultBuckets.
func (e *Engine) CheckResultBucket(ctx context.Context, bucket string) error {
	b := s3.OpenBucket(e.cfg.ObjectStore, bucket)
	defer b.Close()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err := b.Check(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, s3.ErrNoSuchBucket):
		return &service.Error{Code: service.CodeS3NotFound, Msg: fmt.Sprintf("The result bucket %s does not exist: %v", bucket, err)}
	case errors.Is(err, s3.ErrBucketAccessDenied):
		return &service.Error{Code: service.CodeS3AccessDenied, Msg: fmt.Sprintf("The result bucket %s cannot be written: %v", bucket, err)}
	}
	return &service.Error{Code: service.CodeS3AccessDenied, Msg: fmt.Sprintf("The result bucket %s cannot be used: %v", bucket, err)}
}

func (e *Engine) reconcileAssessments(ctx context.Context) error {
	runs, err := e.svc.ListAssessmentRuns(ctx)
	if err != nil {
		return err
	}
	for _, r := range runs {
		e.mu.Lock()
		cancel, running := e.runs[r.ARN]
		e.mu.Unlock()
		switch r.Status {
		case dms.RunStarting, dms.RunProvisioning, dms.RunRunning:
			if running {
				continue
			}
			t, _, err := e.svc.GetTask(ctx, e.svc.Store, r.TaskARN)
			if err != nil {
				_ = e.svc.FinishAssessmentRun(ctx, r.ARN, dms.RunErrorProvisioning, "The task of this run no longer exists.")
				continue
			}
			in := e.instance(t.InstanceARN)
			if in == nil {
				continue
			}
			e.launchRun(in, r)
		case dms.RunCancelling:
			if running {
				cancel(errRunCancelled)
				continue
			}
			// No run in this process (a restart): settle it.
			if err := e.settleRun(ctx, r.ARN, errRunCancelled); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *Engine) launchRun(in *Instance, r *dms.AssessmentRun) {
	ctx, cancel := context.WithCancelCause(context.Background())
	e.mu.Lock()
	e.runs[r.ARN] = cancel
	e.mu.Unlock()
	forget := func() {
		e.mu.Lock()
		delete(e.runs, r.ARN)
		e.mu.Unlock()
	}
	ok := in.Go(func(ictx context.Context) {
		defer forget()
		stop := context.AfterFunc(ictx, func() { cancel(errInstanceStopping) })
		defer stop()
		defer cancel(nil)
		e.runAssessment(ctx, r)
	})
	if !ok {
		cancel(nil)
		forget()
	}
}

// runAssessment runs every pending individual assessment of the run, one
// after the other, and writes the results.
func (e *Engine) runAssessment(ctx context.Context, r *dms.AssessmentRun) {
	log := e.log.With("assessment_run", r.Name, "run_arn", r.ARN)
	bg := context.WithoutCancel(ctx)
	if _, err := e.svc.UpdateRunByEngine(bg, r.ARN, func(cur *dms.AssessmentRun) {
		if cur.Status == dms.RunStarting {
			cur.Status = dms.RunProvisioning
		}
	}); err != nil {
		log.Error("assessment run", "err", err)
		return
	}
	env, closeEnv, err := e.assessmentEnv(ctx, r)
	if err != nil {
		if errors.Is(context.Cause(ctx), errInstanceStopping) {
			return
		}
		if errors.Is(context.Cause(ctx), errRunCancelled) {
			_ = e.settleRun(bg, r.ARN, errRunCancelled)
			return
		}
		log.Warn("assessment run could not start", "err", err)
		_ = e.svc.FinishAssessmentRun(bg, r.ARN, dms.RunErrorProvisioning, err.Error())
		return
	}
	defer closeEnv()
	cur, err := e.svc.UpdateRunByEngine(bg, r.ARN, func(cur *dms.AssessmentRun) {
		if cur.Status == dms.RunProvisioning {
			cur.Status = dms.RunRunning
		}
	})
	if err != nil {
		return
	}
	bucket := s3.OpenBucket(e.cfg.ObjectStore, r.Bucket)
	defer bucket.Close()
	for i := range cur.Assessments {
		a := cur.Assessments[i]
		if a.Status != dms.CheckPending && a.Status != dms.CheckRunning {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		check, ok := e.cfg.Checks.Get(a.Name)
		if !ok {
			e.recordCheck(bg, r.ARN, i, dms.CheckError, fmt.Sprintf("%s is not an assessment this server can run.", a.Name))
			continue
		}
		started := e.svc.Time()
		if _, err := e.svc.UpdateRunByEngine(bg, r.ARN, func(cur *dms.AssessmentRun) {
			cur.Assessments[i].Status, cur.Assessments[i].StartDate = dms.CheckRunning, started
		}); err != nil {
			return
		}
		res, err := check.Run(ctx, env)
		if ctx.Err() != nil {
			break // interrupted: settled below
		}
		status, details := res.Status, res.Details
		if err != nil {
			status, details = dms.CheckError, fmt.Sprintf("%s could not run: %v", a.Name, err)
		}
		doc := map[string]any{
			"test-name": a.Name, "test-result": status, "test-result-details": details,
			"looked-at": res.LookedAt, "action": res.Action, "objects": nonNil(res.Objects),
			"start-date": started.Format(time.RFC3339Nano), "end-date": e.svc.Time().Format(time.RFC3339Nano),
			"assessment-run-arn": r.ARN, "individual-assessment-arn": a.ARN,
		}
		if err := e.writeResult(bg, bucket, r, a.Name+".json", doc); err != nil {
			log.Error("write assessment result", "assessment", a.Name, "err", err)
			status, details = dms.CheckError, fmt.Sprintf("%s ran but its result could not be written to bucket %s: %v", a.Name, r.Bucket, err)
		}
		e.recordCheck(bg, r.ARN, i, status, details)
	}
	if errors.Is(context.Cause(ctx), errInstanceStopping) {
		return // picked up again when the instance is back
	}
	if err := e.settleRun(bg, r.ARN, context.Cause(ctx)); err != nil {
		log.Error("finish assessment run", "err", err)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (e *Engine) recordCheck(ctx context.Context, runARN string, i int, status, details string) {
	_, _ = e.svc.UpdateRunByEngine(ctx, runARN, func(cur *dms.AssessmentRun) {
		if i < len(cur.Assessments) {
			cur.Assessments[i].Status, cur.Assessments[i].Details = status, details
		}
	})
}

// settleRun marks unfinished assessments cancelled (when cause says so),
// writes the summary and records the run's terminal status.
func (e *Engine) settleRun(ctx context.Context, runARN string, cause error) error {
	cancelled := errors.Is(cause, errRunCancelled)
	r, err := e.svc.UpdateRunByEngine(ctx, runARN, func(cur *dms.AssessmentRun) {
		for i := range cur.Assessments {
			if st := cur.Assessments[i].Status; st == dms.CheckPending || st == dms.CheckRunning {
				cur.Assessments[i].Status = dms.CheckCancelled
			}
		}
	})
	if err != nil {
		return err
	}
	outcome := r.Outcome()
	failure := ""
	for _, a := range r.Assessments {
		switch a.Status {
		case dms.CheckError:
			failure = a.Details
		case dms.CheckFailed:
			if failure == "" {
				failure = a.Name + ": " + a.Details
			}
		}
	}
	if cancelled {
		n := r.Tally()[dms.CheckCancelled]
		failure = fmt.Sprintf("The run was cancelled by CancelReplicationTaskAssessmentRun: %d individual assessment(s) did not run to the end.", n)
	}
	bucket := s3.OpenBucket(e.cfg.ObjectStore, r.Bucket)
	defer bucket.Close()
	if err := e.writeResult(ctx, bucket, r, "summary.json", summaryDoc(r, outcome)); err != nil {
		e.log.Error("write assessment summary", "run", r.Name, "err", err)
		if failure == "" {
			failure = fmt.Sprintf("The summary could not be written to bucket %s: %v", r.Bucket, err)
		}
	}
	return e.svc.FinishAssessmentRun(ctx, runARN, outcome, failure)
}

// ResultKey is where a run's result document goes in its bucket.
func ResultKey(r *dms.AssessmentRun, name string) string {
	return path.Join(r.Folder, r.ResourceID, name)
}

func (e *Engine) writeResult(ctx context.Context, b *s3.Bucket, r *dms.AssessmentRun, name string, doc any) error {
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return b.Put(ctx, ResultKey(r, name), append(body, '\n'), r.EncryptionMode, r.KmsKeyARN)
}

// summaryDoc is the run's summary.json in DMS's layout.
func summaryDoc(r *dms.AssessmentRun, outcome string) map[string]any {
	groups := map[string][]map[string]any{"passed": {}, "failed": {}, "error": {}, "warning": {}, "cancelled": {}, "skipped": {}}
	for _, a := range r.Assessments {
		key := a.Status
		if _, ok := groups[key]; !ok {
			key = "error"
		}
		groups[key] = append(groups[key], map[string]any{
			"test-name": a.Name, "test-result": a.Status, "test-result-details": a.Details,
			"results-summary": map[string]string{"passed": "N/A", "warning": "N/A", "failed": "N/A"},
		})
	}
	sum := map[string]any{}
	for k, v := range groups {
		sum[k] = v
	}
	return map[string]any{"version": "0.0.2", "overall-test-result": outcome, "assessment-run-name": r.Name,
		"assessment-run-arn": r.ARN, "replication-task-arn": r.TaskARN, "summary": sum}
}

// assessmentEnv opens the task's endpoints and plans its tables.
func (e *Engine) assessmentEnv(ctx context.Context, r *dms.AssessmentRun) (*assess.Env, func(), error) {
	t, _, err := e.svc.GetTask(ctx, e.svc.Store, r.TaskARN)
	if err != nil {
		return nil, nil, err
	}
	settings, _, err := tasksettings.Parse(t.Settings, false)
	if err != nil {
		return nil, nil, fmt.Errorf("the task settings are invalid: %w", err)
	}
	maps, err := mapping.Parse(t.TableMappings)
	if err != nil {
		return nil, nil, fmt.Errorf("the table mappings are invalid: %w", err)
	}
	src, srcEP, err := e.openEndpoint(ctx, t.SourceEndpointARN)
	if err != nil {
		return nil, nil, fmt.Errorf("source endpoint: %w", err)
	}
	tgt, tgtEP, err := e.openEndpoint(ctx, t.TargetEndpointARN)
	if err != nil {
		src.Close()
		return nil, nil, fmt.Errorf("target endpoint: %w", err)
	}
	env := &assess.Env{Source: src, Target: tgt, SourceEngine: srcEP.Engine, TargetEngine: tgtEP.Engine,
		SourceFamily: family(src), TargetFamily: family(tgt), MigrationType: t.MigrationType, Settings: settings, Mappings: maps}
	closeAll := func() { src.Close(); tgt.Close() }
	if sr, ok := src.(connector.SchemaReader); ok {
		tables, err := sr.Tables(ctx)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("could not read the tables of source endpoint %s: %w", srcEP.Identifier, err)
		}
		env.Tables = tables
		if env.Plans, err = maps.Plan(tables); err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("the table mappings cannot be applied: %w", err)
		}
	}
	return env, closeAll, nil
}

// family is the engine family of an open connector ("postgres", "mysql", "s3").
func family(c connector.Conn) string {
	if d, ok := c.(connector.TargetDialect); ok {
		return d.Family()
	}
	return ""
}
