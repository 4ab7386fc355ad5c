package dms

import "time"

// Assessment run statuses.
const (
	RunStarting          = "starting"
	RunProvisioning      = "provisioning"
	RunRunning           = "running"
	RunPassed            = "passed"
	RunWarning           = "warning"
	RunFailed            = "failed"
	RunCancelling        = "cancelling"
	RunDeleting          = "deleting"
	RunErrorProvisioning = "error-provisioning"
	RunErrorExecuting    = "error-executing"
)

// Individual assessment statuses.
const (
	CheckPending   = "pending"
	CheckRunning   = "running"
	CheckPassed    = "passed"
	CheckWarning   = "warning"
	CheckFailed    = "failed"
	CheckError     = "error"
	CheckSkipped   = "skipped"
	CheckCancelled = "cancelled"
)

// RunFinished reports whether a run status is terminal.
func RunFinished(status string) bool {
	switch status {
	case RunPassed, RunWarning, RunFailed, RunErrorProvisioning, RunErrorExecuting:
		return true
	}
	return false
}

// AssessmentRun is a premigration assessment run of a task.
type AssessmentRun struct {
	ARN                  string
	ResourceID           string
	TaskARN              string
	Name                 string
	Status               string
	CreatedAt            time.Time
	ServiceAccessRoleARN string
	Bucket               string
	Folder               string
	EncryptionMode       string
	KmsKeyARN            string `json:",omitempty"`
	LastFailure          string `json:",omitempty"`
	// StartedBy is the access key that started the run.
	StartedBy   string `json:",omitempty"`
	Assessments []IndividualAssessment
	// TaskReturnStatus is the task's status before the run set it to testing.
	TaskReturnStatus string `json:",omitempty"`
}

// IndividualAssessment is one check of a run.
type IndividualAssessment struct {
	ARN       string
	Name      string
	Status    string
	StartDate time.Time
	Details   string `json:",omitempty"`
}

// Progress counts the run's assessments and the finished ones.
func (r *AssessmentRun) Progress() (count, completed int32) {
	for _, a := range r.Assessments {
		count++
		switch a.Status {
		case CheckPending, CheckRunning:
		default:
			completed++
		}
	}
	return
}

// Tally counts the finished assessments by status.
func (r *AssessmentRun) Tally() map[string]int32 {
	out := map[string]int32{}
	for _, a := range r.Assessments {
		out[a.Status]++
	}
	return out
}

// Outcome is the terminal status of a run whose assessments all finished:
// failed if any failed, then error-executing if any could not run, then
// warning if any warned, was cancelled or all were skipped, else passed.
func (r *AssessmentRun) Outcome() string {
	t := r.Tally()
	switch {
	case t[CheckFailed] > 0:
		return RunFailed
	case t[CheckError] > 0:
		return RunErrorExecuting
	case t[CheckWarning] > 0 || t[CheckCancelled] > 0 || (len(r.Assessments) > 0 && t[CheckSkipped] == int32(len(r.Assessments))):
		return RunWarning
	}
	return RunPassed
}
