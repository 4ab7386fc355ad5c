package connector_test

import (
	"reflect"
	"testing"

	"github.com/godwit-dms/godwit/internal/connector"
)

func TestIgnoredSettings(t *testing.T) {
	unused := []connector.IgnoredSetting{{Name: "ExecuteTimeout", Why: "no timeout"}, {Name: "EventsPollInterval", Why: "streamed"}, {Name: "MapJsonbAsClob", Why: "json"}}
	settings := map[string]any{"ExecuteTimeout": float64(30), "ServerName": "db"}
	eca := connector.ParseAttributes("eventsPollInterval=5; slotName=s")
	got := connector.IgnoredSettings("MySQLSettings", settings, eca, unused)
	want := []string{
		"MySQLSettings.ExecuteTimeout has no effect in Godwit: no timeout.",
		"MySQLSettings.EventsPollInterval has no effect in Godwit: streamed.",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := connector.IgnoredSettings("MySQLSettings", nil, nil, unused); got != nil {
		t.Fatalf("nothing set: got %q", got)
	}
}
