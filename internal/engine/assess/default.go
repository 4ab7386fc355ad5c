package assess

import (
	"context"
	"fmt"
	"time"
)

// Default returns every individual assessment Godwit runs, under DMS's
// names.
func Default() *Registry {
	var checks []Check
	checks = append(checks, allEngineChecks()...)
	checks = append(checks, postgresChecks()...)
	checks = append(checks, mysqlChecks()...)
	return NewRegistry(checks...)
}

// TestSleepName is the name of the test-only check TestSleepCheck returns.
const TestSleepName = "godwit-test-sleep"

// TestSleepCheck returns a check, not part of Default, that runs
// SELECT pg_sleep(d) on a PostgreSQL source or SELECT SLEEP(d) on a MySQL
// one: it shows that cancelling a run stops the queries running on the
// server.
func TestSleepCheck(d time.Duration) Check {
	return Check{
		Name:    TestSleepName,
		Applies: func(s, _, _ string) bool { return isPG(s) || isMy(s) },
		Run: func(ctx context.Context, env *Env) (Result, error) {
			src, skip := sqlSide(env, "source", "")
			if skip != nil {
				return *skip, nil
			}
			q := fmt.Sprintf("SELECT pg_sleep(%.3f)", d.Seconds())
			if src.family == famMySQL {
				q = fmt.Sprintf("SELECT SLEEP(%.3f)", d.Seconds())
			}
			if _, err := src.rows(ctx, "a sleeping query ("+q+")", q); err != nil {
				return Result{}, err
			}
			return Result{Status: Passed, Details: fmt.Sprintf("The source slept %s.", d), LookedAt: q + " on the source"}, nil
		},
	}
}
