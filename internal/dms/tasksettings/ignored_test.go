package tasksettings

import (
	"slices"
	"strings"
	"testing"
)

func TestIgnored(t *testing.T) {
	if got := Ignored(Defaults()); len(got) != 0 {
		t.Fatalf("the defaults: %q", got)
	}
	_, doc, err := Parse(`{"TargetMetadata":{"ParallelLoadThreads":4,"BatchApplyEnabled":true},
		"ErrorBehavior":{"DataErrorPolicy":"STOP_TASK"},"BeforeImageSettings":{"EnableBeforeImage":true,"FieldName":"bi","ColumnFilter":"pk-only"},
		"Logging":{"LogComponents":[{"Id":"SOURCE_UNLOAD","Severity":"LOGGER_SEVERITY_DETAILED_DEBUG"}]}}`, true)
	if err != nil {
		t.Fatal(err)
	}
	got := Ignored(doc)
	want := []string{"TargetMetadata.ParallelLoadThreads=4", "ErrorBehavior.DataErrorPolicy=\"STOP_TASK\""}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%q lacks %q", got, w)
		}
	}
	for _, prefix := range []string{"Logging.LogComponents=", "BeforeImageSettings="} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, prefix) }) {
			t.Errorf("%q lacks %s...", got, prefix)
		}
	}
	if slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "TargetMetadata.BatchApplyEnabled") }) {
		t.Errorf("%q names a setting Godwit acts on", got)
	}
}
