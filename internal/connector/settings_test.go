package connector_test

import (
	"reflect"
	"testing"

	"github.com/godwit-dms/godwit/internal/connector"
)

func TestIgnoredSettings(t *testing.T) {
	names := []string{"ExecuteTimeout", "EventsPollInterval", "MapJsonbAsClob"}
	why := map[string]string{"ExecuteTimeout": "no timeout", "EventsPollInterval": "streamed", "MapJsonbAsClob": "json"}
	settings := map[string]any{"ExecuteTimeout": float64(30), "ServerName": "db"}
	eca := connector.ParseAttributes("eventsPollInterval=5; slotName=s")
	got := connector.IgnoredSettings("MySQLSettings", settings, eca, names, why)
	want := []string{
		"MySQLSettings.ExecuteTimeout has no effect in Godwit: no timeout.",
		"MySQLSettings.EventsPollInterval has no effect in Godwit: streamed.",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := connector.IgnoredSettings("MySQLSettings", nil, nil, names, why); got != nil {
		t.Fatalf("nothing set: got %q", got)
	}
}
