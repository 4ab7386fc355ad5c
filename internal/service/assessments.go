package service

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/store"
)

// KindAssessmentRun holds premigration assessment runs (children of a task).
const KindAssessmentRun store.Kind = "assessment-run"

// CheckCatalog lists the individual assessments the engine can run.
type CheckCatalog interface {
	Applicable(sourceEngine, targetEngine, migrationType string) []string
	Names() []string
}

// ResultBuckets checks where assessment results go.
type ResultBuckets interface {
	// CheckResultBucket returns an *Error with CodeS3NotFound or
	// CodeS3AccessDenied when the bucket cannot take results.
	CheckResultBucket(ctx context.Context, bucket string) error
}

// AssessmentSpec is the input of StartReplicationTaskAssessmentRun.
type AssessmentSpec struct {
	TaskARN              string
	Name                 string
	ServiceAccessRoleARN string
	Bucket               string
	Folder               string
	EncryptionMode       string
	KmsKeyARN            string
	IncludeOnly          []string
	Exclude              []string
	Tags                 []store.Tag
	// Legacy marks a StartReplicationTaskAssessment (data types only).
	Legacy bool
}

var roleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)

// ApplicableAssessments lists the assessments that apply to a task, or to
// engines and a migration type.
func (s *Service) ApplicableAssessments(ctx context.Context, taskARN, sourceEngine, targetEngine, migrationType string) ([]string, error) {
	if s.Checks == nil {
		return nil, fmt.Errorf("no assessment catalog")
	}
	if taskARN != "" {
		t, _, err := s.GetTask(ctx, s.Store, taskARN)
		if err != nil {
			return nil, err
		}
		src, _, err := s.GetEndpoint(ctx, s.Store, t.SourceEndpointARN)
		if err != nil {
			return nil, err
		}
		tgt, _, err := s.GetEndpoint(ctx, s.Store, t.TargetEndpointARN)
		if err != nil {
			return nil, err
		}
		return s.Checks.Applicable(src.Engine, tgt.Engine, t.MigrationType), nil
	}
	if sourceEngine == "" && targetEngine == "" && migrationType == "" {
		return s.Checks.Names(), nil
	}
	if sourceEngine == "" || targetEngine == "" || migrationType == "" {
		return nil, newErr(CodeInvalidParameterCombination, "Give ReplicationTaskArn, or ReplicationInstanceArn with SourceEngineName, TargetEngineName and MigrationType together.")
	}
	return s.Checks.Applicable(sourceEngine, targetEngine, migrationType), nil
}

// StartAssessmentRun validates and records a run ("starting"); the engine runs it.
func (s *Service) StartAssessmentRun(ctx context.Context, spec AssessmentSpec) (*dms.AssessmentRun, error) {
	if !spec.Legacy {
		if spec.Name == "" || len(spec.Name) > 255 {
			return nil, invalidParam("AssessmentRunName must be 1 to 255 characters.")
		}
		if !roleARN.MatchString(spec.ServiceAccessRoleARN) {
			return nil, invalidParam("ServiceAccessRoleArn %q is not an IAM role ARN (arn:aws:iam::<account>:role/<name>).", spec.ServiceAccessRoleARN)
		}
	}
	if len(spec.IncludeOnly) > 0 && len(spec.Exclude) > 0 {
		return nil, newErr(CodeInvalidParameterCombination, "IncludeOnly and Exclude cannot be given together.")
	}
	switch spec.EncryptionMode {
	case "":
		spec.EncryptionMode = "NONE"
	case "NONE", "SSE_S3":
	case "SSE_KMS":
		if spec.KmsKeyARN == "" {
			return nil, newErr(CodeInvalidParameterCombination, "ResultEncryptionMode SSE_KMS needs ResultKmsKeyArn.")
		}
	default:
		return nil, invalidParam("Invalid ResultEncryptionMode %q: valid values are SSE_S3 and SSE_KMS.", spec.EncryptionMode)
	}
	spec.Folder = strings.Trim(spec.Folder, "/")
	applicable, err := s.ApplicableAssessments(ctx, spec.TaskARN, "", "", "")
	if err != nil {
		return nil, err
	}
	names := applicable
	if spec.Legacy {
		names = []string{"unsupported-data-types-in-source"}
	}
	for _, n := range append(append([]string{}, spec.IncludeOnly...), spec.Exclude...) {
		if !slices.Contains(applicable, n) {
			return nil, invalidParam("%q is not an individual assessment that applies to this task: see DescribeApplicableIndividualAssessments.", n)
		}
	}
	if len(spec.IncludeOnly) > 0 {
		names = spec.IncludeOnly
	}
	if len(spec.Exclude) > 0 {
		names = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(spec.Exclude, n) })
	}
	if len(names) == 0 {
		return nil, invalidParam("The run would include no individual assessment.")
	}
	if err := validateTags(spec.Tags); err != nil {
		return nil, err
	}
	if s.Buckets != nil {
		if err := s.Buckets.CheckResultBucket(ctx, spec.Bucket); err != nil {
			return nil, err
		}
	}
	resID := dms.NewResourceID()
	run := &dms.AssessmentRun{
		ARN: s.Account.ARN(dms.TypeAssessmentRun, resID), ResourceID: resID, TaskARN: spec.TaskARN, Name: spec.Name,
		Status: dms.RunStarting, CreatedAt: s.now(), ServiceAccessRoleARN: spec.ServiceAccessRoleARN,
		Bucket: spec.Bucket, Folder: spec.Folder, EncryptionMode: spec.EncryptionMode, KmsKeyARN: spec.KmsKeyARN,
	}
	if r, ok := requestKeyOf(s, ctx); ok {
		run.StartedBy = r
	}
	for _, n := range names {
		run.Assessments = append(run.Assessments, dms.IndividualAssessment{
			ARN: s.Account.ARN(dms.TypeIndividualAsmt, dms.NewResourceID()), Name: n, Status: dms.CheckPending})
	}
	err = s.update(ctx, func(tx store.Tx) error {
		t, rec, err := s.GetTask(ctx, tx, spec.TaskARN)
		if err != nil {
			return err
		}
		switch t.Status {
		case dms.TaskReady, dms.TaskStopped, dms.TaskFailed:
		default:
			return invalidState("Replication task %s is %s; it can be assessed when ready, stopped or failed.", t.Identifier, t.Status)
		}
		if !spec.Legacy {
			runs, err := list[dms.AssessmentRun](ctx, tx, KindAssessmentRun, "")
			if err != nil {
				return err
			}
			for _, o := range runs {
				if o.Name == run.Name {
					return &Error{Code: CodeAlreadyExists, Msg: fmt.Sprintf("An assessment run named %s already exists.", run.Name), ARN: o.ARN}
				}
			}
		}
		run.TaskReturnStatus = t.Status
		t.Status = dms.TaskTesting
		if err := save(ctx, tx, rec, t); err != nil {
			return err
		}
		if err := insert(ctx, tx, KindAssessmentRun, resID, run.ARN, t.ARN, run); err != nil {
			return err
		}
		return tx.TagPut(ctx, run.ARN, spec.Tags)
	})
	if err != nil {
		return nil, err
	}
	s.notify()
	return run, nil
}

// ListAssessmentRuns returns every run.
func (s *Service) ListAssessmentRuns(ctx context.Context) ([]*dms.AssessmentRun, error) {
	return list[dms.AssessmentRun](ctx, s.Store, KindAssessmentRun, "")
}

// GetAssessmentRun reads a run by ARN.
func (s *Service) GetAssessmentRun(ctx context.Context, r store.Reader, arn string) (*dms.AssessmentRun, *store.Record, error) {
	return loadByARN[dms.AssessmentRun](ctx, r, KindAssessmentRun, arn, "Replication task assessment run")
}

// CancelAssessmentRun asks the engine to stop a run.
func (s *Service) CancelAssessmentRun(ctx context.Context, arn string) (*dms.AssessmentRun, error) {
	return s.updateRun(ctx, arn, func(tx store.Tx, r *dms.AssessmentRun) error {
		if err := s.checkRunAccess(ctx, r); err != nil {
			return err
		}
		switch r.Status {
		case dms.RunStarting, dms.RunProvisioning, dms.RunRunning:
		default:
			return invalidState("Assessment run %s is %s: only a starting, provisioning or running run can be cancelled.", r.Name, r.Status)
		}
		r.Status = dms.RunCancelling
		return nil
	})
}

// DeleteAssessmentRun removes a finished run's record (its result files stay).
func (s *Service) DeleteAssessmentRun(ctx context.Context, arn string) (*dms.AssessmentRun, error) {
	var out *dms.AssessmentRun
	err := s.update(ctx, func(tx store.Tx) error {
		r, rec, err := s.GetAssessmentRun(ctx, tx, arn)
		if err != nil {
			return err
		}
		if err := s.checkRunAccess(ctx, r); err != nil {
			return err
		}
		if !dms.RunFinished(r.Status) {
			return invalidState("Assessment run %s is %s: cancel it and wait for it to finish before deleting it.", r.Name, r.Status)
		}
		r.Status = dms.RunDeleting
		out = r
		return tx.RecordDelete(ctx, KindAssessmentRun, rec.ID)
	})
	return out, err
}

func (s *Service) updateRun(ctx context.Context, arn string, fn func(tx store.Tx, r *dms.AssessmentRun) error) (*dms.AssessmentRun, error) {
	var out *dms.AssessmentRun
	err := s.update(ctx, func(tx store.Tx) error {
		r, rec, err := s.GetAssessmentRun(ctx, tx, arn)
		if err != nil {
			return err
		}
		if err := fn(tx, r); err != nil {
			return err
		}
		out = r
		return save(ctx, tx, rec, r)
	})
	if err != nil {
		return nil, err
	}
	s.notify()
	return out, nil
}

// checkRunAccess: a read-only key may not act on a run.
func (s *Service) checkRunAccess(ctx context.Context, r *dms.AssessmentRun) error {
	if key, ok := requestKeyOf(s, ctx); ok && s.ReadOnlyKeys[key] {
		return newErr(CodeAccessDenied, "The access key %s may not act on assessment run %s (it is read-only).", key, r.Name)
	}
	return nil
}

// UpdateRunByEngine applies fn to run if it still exists; for the engine.
func (s *Service) UpdateRunByEngine(ctx context.Context, arn string, fn func(r *dms.AssessmentRun)) (*dms.AssessmentRun, error) {
	var out *dms.AssessmentRun
	err := s.update(ctx, func(tx store.Tx) error {
		r, rec, err := s.GetAssessmentRun(ctx, tx, arn)
		if err != nil {
			return err
		}
		fn(r)
		out = r
		return save(ctx, tx, rec, r)
	})
	return out, err
}

// FinishAssessmentRun records a run's terminal status and gives the task
// back its status.
func (s *Service) FinishAssessmentRun(ctx context.Context, arn, status, failure string) error {
	return s.update(ctx, func(tx store.Tx) error {
		r, rec, err := s.GetAssessmentRun(ctx, tx, arn)
		if err != nil {
			return err
		}
		r.Status, r.LastFailure = status, failure
		if err := save(ctx, tx, rec, r); err != nil {
			return err
		}
		t, trec, err := s.GetTask(ctx, tx, r.TaskARN)
		if err != nil {
			return nil // the task is gone; the run stays as a record
		}
		if t.Status == dms.TaskTesting {
			t.Status = r.TaskReturnStatus
			if t.Status == "" {
				t.Status = dms.TaskReady
			}
			return save(ctx, tx, trec, t)
		}
		return nil
	})
}
