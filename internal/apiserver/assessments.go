package apiserver

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/api"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/service"
)

func runShape(r *dms.AssessmentRun, latest bool) *api.ReplicationTaskAssessmentRun {
	count, done := r.Progress()
	t := r.Tally()
	out := &api.ReplicationTaskAssessmentRun{
		ReplicationTaskAssessmentRunArn:          ptr(r.ARN),
		ReplicationTaskArn:                       ptr(r.TaskARN),
		Status:                                   ptr(r.Status),
		ReplicationTaskAssessmentRunCreationDate: api.NewTime(r.CreatedAt),
		AssessmentProgress:                       &api.ReplicationTaskAssessmentRunProgress{IndividualAssessmentCount: ptr(count), IndividualAssessmentCompletedCount: ptr(done)},
		LastFailureMessage:                       optPtr(r.LastFailure),
		ServiceAccessRoleArn:                     optPtr(r.ServiceAccessRoleARN),
		ResultLocationBucket:                     ptr(r.Bucket),
		ResultLocationFolder:                     ptr(r.Folder),
		ResultEncryptionMode:                     ptr(r.EncryptionMode),
		ResultKmsKeyArn:                          optPtr(r.KmsKeyARN),
		AssessmentRunName:                        ptr(r.Name),
		IsLatestTaskAssessmentRun:                ptr(latest),
		ResultStatistic: &api.ReplicationTaskAssessmentRunResultStatistic{
			Passed: ptr(t[dms.CheckPassed]), Failed: ptr(t[dms.CheckFailed]), Error: ptr(t[dms.CheckError]),
			Warning: ptr(t[dms.CheckWarning]), Cancelled: ptr(t[dms.CheckCancelled]), Skipped: ptr(t[dms.CheckSkipped]),
		},
	}
	return out
}

// latestRuns maps each task to its newest run.
func latestRuns(runs []*dms.AssessmentRun) map[string]string {
	out := map[string]string{}
	newest := map[string]time.Time{}
	for _, r := range runs {
		if r.CreatedAt.After(newest[r.TaskARN]) || out[r.TaskARN] == "" {
			out[r.TaskARN], newest[r.TaskARN] = r.ARN, r.CreatedAt
		}
	}
	return out
}

func (s *Server) StartReplicationTaskAssessmentRun(ctx context.Context, in *api.StartReplicationTaskAssessmentRunMessage) (*api.StartReplicationTaskAssessmentRunResponse, error) {
	r, err := s.Svc.StartAssessmentRun(ctx, service.AssessmentSpec{
		TaskARN: str(in.ReplicationTaskArn), Name: str(in.AssessmentRunName), ServiceAccessRoleARN: str(in.ServiceAccessRoleArn),
		Bucket: str(in.ResultLocationBucket), Folder: str(in.ResultLocationFolder), EncryptionMode: str(in.ResultEncryptionMode),
		KmsKeyARN: str(in.ResultKmsKeyArn), IncludeOnly: in.IncludeOnly, Exclude: in.Exclude, Tags: tagsIn(in.Tags),
	})
	if err != nil {
		return nil, err
	}
	return &api.StartReplicationTaskAssessmentRunResponse{ReplicationTaskAssessmentRun: runShape(r, true)}, nil
}

func (s *Server) runFilters() filterFields[*dms.AssessmentRun] {
	return filterFields[*dms.AssessmentRun]{
		"replication-task-assessment-run-arn": func(r *dms.AssessmentRun) []string { return []string{r.ARN} },
		"replication-task-arn":                func(r *dms.AssessmentRun) []string { return []string{r.TaskARN} },
		"status":                              func(r *dms.AssessmentRun) []string { return []string{r.Status} },
	}
}

func (s *Server) DescribeReplicationTaskAssessmentRuns(ctx context.Context, in *api.DescribeReplicationTaskAssessmentRunsMessage) (*api.DescribeReplicationTaskAssessmentRunsResponse, error) {
	all, err := s.Svc.ListAssessmentRuns(ctx)
	if err != nil {
		return nil, err
	}
	fields := s.runFilters()
	tasks, err := s.Svc.ListTasks(ctx)
	if err != nil {
		return nil, err
	}
	instanceOf := map[string]string{}
	for _, t := range tasks {
		instanceOf[t.ARN] = t.InstanceARN
	}
	fields["replication-instance-arn"] = func(r *dms.AssessmentRun) []string { return []string{instanceOf[r.TaskARN]} }
	items, err := applyFilters(all, in.Filters, fields)
	if err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 && len(items) == 0 {
		return nil, noneMatched("assessment runs")
	}
	pg, next, err := page(items, in.Marker, in.MaxRecords, limitsStd)
	if err != nil {
		return nil, err
	}
	latest := latestRuns(all)
	out := &api.DescribeReplicationTaskAssessmentRunsResponse{Marker: next, ReplicationTaskAssessmentRuns: []api.ReplicationTaskAssessmentRun{}}
	for _, r := range pg {
		out.ReplicationTaskAssessmentRuns = append(out.ReplicationTaskAssessmentRuns, *runShape(r, latest[r.TaskARN] == r.ARN))
	}
	return out, nil
}

type individual struct {
	run *dms.AssessmentRun
	a   dms.IndividualAssessment
}

func (s *Server) DescribeReplicationTaskIndividualAssessments(ctx context.Context, in *api.DescribeReplicationTaskIndividualAssessmentsMessage) (*api.DescribeReplicationTaskIndividualAssessmentsResponse, error) {
	runs, err := s.Svc.ListAssessmentRuns(ctx)
	if err != nil {
		return nil, err
	}
	var all []individual
	for _, r := range runs {
		for _, a := range r.Assessments {
			all = append(all, individual{r, a})
		}
	}
	items, err := applyFilters(all, in.Filters, filterFields[individual]{
		"replication-task-assessment-run-arn": func(i individual) []string { return []string{i.run.ARN} },
		"replication-task-arn":                func(i individual) []string { return []string{i.run.TaskARN} },
		"status":                              func(i individual) []string { return []string{i.a.Status} },
	})
	if err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 && len(items) == 0 {
		return nil, noneMatched("individual assessments")
	}
	pg, next, err := page(items, in.Marker, in.MaxRecords, limitsStd)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeReplicationTaskIndividualAssessmentsResponse{Marker: next, ReplicationTaskIndividualAssessments: []api.ReplicationTaskIndividualAssessment{}}
	for _, i := range pg {
		out.ReplicationTaskIndividualAssessments = append(out.ReplicationTaskIndividualAssessments, api.ReplicationTaskIndividualAssessment{
			ReplicationTaskIndividualAssessmentArn: ptr(i.a.ARN), ReplicationTaskAssessmentRunArn: ptr(i.run.ARN),
			IndividualAssessmentName: ptr(i.a.Name), Status: ptr(i.a.Status),
			ReplicationTaskIndividualAssessmentStartDate: api.NewTime(i.a.StartDate),
		})
	}
	return out, nil
}

func (s *Server) CancelReplicationTaskAssessmentRun(ctx context.Context, in *api.CancelReplicationTaskAssessmentRunMessage) (*api.CancelReplicationTaskAssessmentRunResponse, error) {
	r, err := s.Svc.CancelAssessmentRun(ctx, str(in.ReplicationTaskAssessmentRunArn))
	if err != nil {
		return nil, err
	}
	return &api.CancelReplicationTaskAssessmentRunResponse{ReplicationTaskAssessmentRun: runShape(r, false)}, nil
}

func (s *Server) DeleteReplicationTaskAssessmentRun(ctx context.Context, in *api.DeleteReplicationTaskAssessmentRunMessage) (*api.DeleteReplicationTaskAssessmentRunResponse, error) {
	r, err := s.Svc.DeleteAssessmentRun(ctx, str(in.ReplicationTaskAssessmentRunArn))
	if err != nil {
		return nil, err
	}
	return &api.DeleteReplicationTaskAssessmentRunResponse{ReplicationTaskAssessmentRun: runShape(r, false)}, nil
}

func (s *Server) DescribeApplicableIndividualAssessments(ctx context.Context, in *api.DescribeApplicableIndividualAssessmentsMessage) (*api.DescribeApplicableIndividualAssessmentsResponse, error) {
	if in.ReplicationConfigArn != nil {
		return nil, api.InvalidParameter("ReplicationConfigArn names a DMS Serverless replication, which this Godwit server does not support.")
	}
	if arn := str(in.ReplicationInstanceArn); arn != "" {
		if _, _, err := s.Svc.GetInstance(ctx, s.Svc.Store, arn); err != nil {
			return nil, err
		}
	}
	names, err := s.Svc.ApplicableAssessments(ctx, str(in.ReplicationTaskArn), str(in.SourceEngineName), str(in.TargetEngineName), str(in.MigrationType))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	pg, next, err := page(names, in.Marker, in.MaxRecords, pageLimits{100, 1, 100})
	if err != nil {
		return nil, err
	}
	return &api.DescribeApplicableIndividualAssessmentsResponse{IndividualAssessmentNames: append([]string{}, pg...), Marker: next}, nil
}

// Legacy assessment: the data-type report of one task, in the bucket DMS names after the account.

func (s *Server) legacyBucket() string {
	return strings.ToLower(fmt.Sprintf("dms-%s-%s", s.Svc.Account.ID, s.Svc.Account.Region))
}

func (s *Server) StartReplicationTaskAssessment(ctx context.Context, in *api.StartReplicationTaskAssessmentMessage) (*api.StartReplicationTaskAssessmentResponse, error) {
	t, _, err := s.Svc.GetTask(ctx, s.Svc.Store, str(in.ReplicationTaskArn))
	if err != nil {
		return nil, err
	}
	now := s.Svc.Time()
	_, err = s.Svc.StartAssessmentRun(ctx, service.AssessmentSpec{
		TaskARN: t.ARN, Name: legacyPrefix + t.ResourceID + "-" + now.Format("20060102150405.000"), Legacy: true,
		Bucket: s.legacyBucket(), Folder: t.ResourceID + "/" + now.Format("2006-01-02-15-04"),
	})
	if err != nil {
		return nil, err
	}
	t, _, err = s.Svc.GetTask(ctx, s.Svc.Store, t.ARN)
	if err != nil {
		return nil, err
	}
	return &api.StartReplicationTaskAssessmentResponse{ReplicationTask: taskShape(t, true)}, nil
}

const legacyPrefix = "legacy-data-type-assessment-"

func (s *Server) DescribeReplicationTaskAssessmentResults(ctx context.Context, in *api.DescribeReplicationTaskAssessmentResultsMessage) (*api.DescribeReplicationTaskAssessmentResultsResponse, error) {
	taskARN := str(in.ReplicationTaskArn)
	if taskARN != "" {
		if _, _, err := s.Svc.GetTask(ctx, s.Svc.Store, taskARN); err != nil {
			return nil, err
		}
	}
	runs, err := s.Svc.ListAssessmentRuns(ctx)
	if err != nil {
		return nil, err
	}
	tasks, err := s.Svc.ListTasks(ctx)
	if err != nil {
		return nil, err
	}
	byARN := map[string]*dms.ReplicationTask{}
	for _, t := range tasks {
		byARN[t.ARN] = t
	}
	latest := map[string]*dms.AssessmentRun{}
	for _, r := range runs {
		if !strings.HasPrefix(r.Name, legacyPrefix) || (taskARN != "" && r.TaskARN != taskARN) {
			continue
		}
		if cur := latest[r.TaskARN]; cur == nil || r.CreatedAt.After(cur.CreatedAt) {
			latest[r.TaskARN] = r
		}
	}
	var items []*dms.AssessmentRun
	for _, r := range latest {
		items = append(items, r)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].TaskARN < items[j].TaskARN })
	pg, next, err := page(items, in.Marker, in.MaxRecords, limitsStd)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeReplicationTaskAssessmentResultsResponse{BucketName: ptr(s.legacyBucket()), Marker: next, ReplicationTaskAssessmentResults: []api.ReplicationTaskAssessmentResult{}}
	for _, r := range pg {
		res := api.ReplicationTaskAssessmentResult{ReplicationTaskArn: ptr(r.TaskARN), ReplicationTaskLastAssessmentDate: api.NewTime(r.CreatedAt),
			AssessmentStatus: ptr(r.Status), AssessmentResultsFile: ptr(r.Folder + "/" + r.ResourceID + "/summary.json")}
		if t := byARN[r.TaskARN]; t != nil {
			res.ReplicationTaskIdentifier = ptr(t.Identifier)
		}
		if taskARN != "" && len(r.Assessments) > 0 {
			res.AssessmentResults = ptr(fmt.Sprintf(`{"summary":{"task-name":%q,"status":%q,"details":%q}}`, str(res.ReplicationTaskIdentifier), r.Assessments[0].Status, r.Assessments[0].Details))
		}
		out.ReplicationTaskAssessmentResults = append(out.ReplicationTaskAssessmentResults, res)
	}
	return out, nil
}
