// Package assess holds Godwit's premigration assessments: small, independent
// checks that query the source and/or target of a task and say what they
// looked at, what they found and what to do. An error from a check means "could
// not run"; a Result means "ran and found".
package assess

import (
	"context"
	"sort"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms/mapping"
	"github.com/godwit-dms/godwit/internal/dms/tasksettings"
	"github.com/godwit-dms/godwit/internal/record"
)

// Result statuses of an individual assessment that ran.
const (
	Passed  = "passed"
	Warning = "warning"
	Failed  = "failed"
	Skipped = "skipped"
)

// Env is what a check can look at. Source and Target are open connectors;
// they implement connector.SQLQuerier when their engine is a SQL database.
type Env struct {
	Source, Target connector.Conn
	// SourceEngine and TargetEngine are DMS engine names ("postgres", "mariadb", "s3"...).
	SourceEngine, TargetEngine string
	// SourceFamily and TargetFamily are "postgres", "mysql" or "s3".
	SourceFamily, TargetFamily string
	MigrationType              string // full-load | cdc | full-load-and-cdc
	Settings                   *tasksettings.Settings
	Mappings                   *mapping.Mappings
	// Tables are all the source's tables; Plans the ones the mappings select.
	Tables []*record.Table
	Plans  []*mapping.TablePlan
}

// CDC reports whether the task captures changes.
func (e *Env) CDC() bool { return e.MigrationType == "cdc" || e.MigrationType == "full-load-and-cdc" }

// Result is the outcome of a check that ran.
type Result struct {
	Status string // Passed, Warning, Failed or Skipped
	// Details is the one-line test-result-details of the DMS summary.
	Details string
	// LookedAt says what the check examined; Action what to do about a finding.
	LookedAt string
	Action   string
	// Objects are the affected objects (tables, columns, settings), as text.
	Objects []string
}

// Check is one individual assessment.
type Check struct {
	// Name is DMS's assessment name (the API key), e.g. "postgres-check-wallevel".
	Name string
	// Applies reports whether the check is relevant to a task of these engines
	// and migration type (DescribeApplicableIndividualAssessments).
	Applies func(sourceEngine, targetEngine, migrationType string) bool
	// Run runs the check; ctx is cancelled when the run is cancelled, and
	// the check's queries must stop with it.
	Run func(ctx context.Context, env *Env) (Result, error)
}

// Registry is the set of checks, by name.
type Registry struct{ checks map[string]Check }

// NewRegistry returns a registry of the given checks.
func NewRegistry(checks ...Check) *Registry {
	r := &Registry{checks: map[string]Check{}}
	for _, c := range checks {
		r.checks[c.Name] = c
	}
	return r
}

// Get returns the check named name.
func (r *Registry) Get(name string) (Check, bool) {
	c, ok := r.checks[name]
	return c, ok
}

// Applicable lists, sorted, the checks that apply to the engines and migration type.
func (r *Registry) Applicable(sourceEngine, targetEngine, migrationType string) []string {
	var out []string
	for n, c := range r.checks {
		if c.Applies == nil || c.Applies(sourceEngine, targetEngine, migrationType) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Names lists every check, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.checks))
	for n := range r.checks {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// All returns every check, sorted by name.
func (r *Registry) All() []Check {
	out := make([]Check, 0, len(r.checks))
	for _, n := range r.Names() {
		out = append(out, r.checks[n])
	}
	return out
}
