package tasksettings

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzParse: Parse never panics; it either fails with *Error or returns a
// valid document that parses back to the same Settings and the same text, and
// that Merge over the defaults reproduces.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"{}",
		Defaults(),
		`{"FullLoadSettings":{"CommitRate":20000},"Foo":{"Bar":[1, 2.50]}}`,
		`{"FullLoadSettings":{"CommitRate":0}}`,
		`{"FullLoadSettings":{"CommitRate":1e3,"MaxFullLoadSubTasks":4.0}}`,
		`{"ControlTablesSettings":{"historyTimeslotInMinutes":7}}`,
		`{"ControlTablesSettings":{"HistoryTimeslotInMinutes":"x","historyTimeslotInMinutes":[]}}`,
		`{"ControlTablesSettings":null}`,
		`{"Logging":{"CloudWatchLogGroup":"g","LogComponents":[{"Id":"IO","Severity":"LOGGER_SEVERITY_INFO"}]}}`,
		`{"Logging":{"LogComponents":[1,{"Id":"X"}]}}`,
		`{"BeforeImageSettings":{"EnableBeforeImage":true,"FieldName":"b","ColumnFilter":"all"}}`,
		`{"TargetMetadata":{"FullLobMode":true}}`,
		`{"A":{"b":1},"A":{"c":[{"d":"\u0041"}]},"FullLoadSettings":{"Commit\u0052ate":5}}`,
		`{"ValidationSettings":{"ValidationOnly":true},"FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING"}}`,
		`[]`, `null`, `{"x":`, "{\"a\":\"\xff\"}", `{"TargetMetadata":{"LobMaxSize":-1e999}}`,
	} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, doc string, create bool) {
		s, out, err := Parse(doc, create)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if s != nil || out != "" {
				t.Fatalf("failure returned settings or document")
			}
			return
		}
		if !json.Valid([]byte(out)) {
			t.Fatalf("invalid document %q", out)
		}
		s2, out2, err := Parse(out, false)
		if err != nil {
			t.Fatalf("document does not parse back: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("settings differ after round trip:\n%+v\n%+v", s, s2)
		}
		if out2 != out {
			t.Fatalf("document not stable:\n%s\n%s", out, out2)
		}
		s3, out3, err := Merge(Defaults(), doc)
		if err != nil || out3 != out || !reflect.DeepEqual(s, s3) {
			t.Fatalf("Merge(Defaults(), doc) differs from Parse: %v\n%s\n%s", err, out, out3)
		}
	})
}
