package tasksettings

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t *testing.T, doc string, create bool) (*Settings, string) {
	t.Helper()
	s, out, err := Parse(doc, create)
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return s, out
}

func TestDefaultsRoundTrip(t *testing.T) {
	def := Defaults()
	if !json.Valid([]byte(def)) {
		t.Fatalf("Defaults() is not valid JSON: %s", def)
	}
	if strings.ContainsAny(def, "\n\t") {
		t.Errorf("Defaults() is not compact")
	}
	for _, doc := range []string{"", "   ", "\n", "{}", " { } ", def} {
		for _, create := range []bool{true, false} {
			_, out := mustParse(t, doc, create)
			if out != def {
				t.Errorf("Parse(%q, %v) =\n%s\nwant Defaults()", doc, create, out)
			}
		}
	}
	_, out, err := Merge(def, "")
	if err != nil || out != def {
		t.Errorf("Merge(Defaults(), \"\") = %s, %v", out, err)
	}
}

func TestDefaultsDocument(t *testing.T) {
	def := Defaults()
	// Section order as DMS returns it.
	sections := []string{
		`"TargetMetadata":`, `"FullLoadSettings":`, `"Logging":`, `"ControlTablesSettings":`,
		`"StreamBufferSettings":`, `"ChangeProcessingTuning":`, `"ChangeProcessingDdlHandlingPolicy":`,
		`"ErrorBehavior":`, `"ValidationSettings":`, `"BeforeImageSettings":null`,
		`"LoopbackPreventionSettings":null`, `"CharacterSetSettings":null`, `"TTSettings":null`,
		`"PostProcessingRules":null`, `"FailTaskWhenCleanTaskResourceFailed":false}`,
	}
	last := -1
	for _, s := range sections {
		i := strings.Index(def, s)
		if i <= last {
			t.Fatalf("%s missing or out of order in %s", s, def)
		}
		last = i
	}
	for _, readOnly := range []string{
		`"historyTimeslotInMinutes":5`, `"EnableLogContext":false`,
		`"CloudWatchLogGroup":null`, `"CloudWatchLogStream":null`,
	} {
		if !strings.Contains(def, readOnly) {
			t.Errorf("defaults lack read-only key %s", readOnly)
		}
	}
	if !strings.HasPrefix(def, `{"TargetMetadata":{"TargetSchema":"","SupportLobs":true,"FullLobMode":false,"LobChunkSize":0,`) {
		t.Errorf("unexpected start: %.120s", def)
	}

	s, _ := mustParse(t, "", true)
	if got := s.FullLoadSettings; got.TargetTablePrepMode != PrepTruncateBeforeLoad || got.CommitRate != 10000 ||
		got.MaxFullLoadSubTasks != 8 || got.TransactionConsistencyTimeout != 600 {
		t.Errorf("FullLoadSettings = %+v", got)
	}
	if got := s.TargetMetadata; !got.SupportLobs || !got.LimitedSizeLobMode || got.FullLobMode || got.LobMaxSize != 32 {
		t.Errorf("TargetMetadata = %+v", got)
	}
	if got := s.ErrorBehavior; got.RecoverableErrorCount != -1 || got.ApplyErrorDeletePolicy != PolicyIgnoreRecord ||
		got.EventErrorPolicy != PolicyIgnore || got.RecoverableErrorThrottlingMax != 1800 {
		t.Errorf("ErrorBehavior = %+v", got)
	}
	if got := s.ControlTablesSettings.HistoryTimeslotInMinutes; got != 5 {
		t.Errorf("HistoryTimeslotInMinutes = %d", got)
	}
	if got := s.ValidationSettings; got.ValidationMode != ValidationRowLevel || got.ThreadCount != 5 || got.MaxKeyColumnSize != 8096 {
		t.Errorf("ValidationSettings = %+v", got)
	}
	if s.BeforeImageSettings != nil || s.Logging.CloudWatchLogGroup != nil || s.Logging.CloudWatchLogStream != nil {
		t.Errorf("nullable defaults not nil: %+v %+v", s.BeforeImageSettings, s.Logging)
	}
	if n := len(s.Logging.LogComponents); n != 19 {
		t.Errorf("%d default log components, want 19", n)
	}
	for _, c := range s.Logging.LogComponents {
		if c.Severity != SeverityDefault {
			t.Errorf("component %s severity %s", c.Id, c.Severity)
		}
	}
}

func TestUserValuesPreserved(t *testing.T) {
	doc := `{
	  "FullLoadSettings": {"CommitRate": 20000, "MaxFullLoadSubTasks": 1.0e1, "Extra": "x"},
	  "Foo": {"Bar": [1, 2.50]},
	  "TargetMetadata": {"TargetSchema": "caf\u00e9 \"q\"", "LobMaxSize": 64.0},
	  "Zed": [ {"a" : 1} ,  true ],
	  "Logging": {"LogComponents": [{"Id": "SOURCE_CAPTURE", "Severity": "LOGGER_SEVERITY_DEBUG", "Note": 1}]}
	}`
	s, out := mustParse(t, doc, true)
	for _, frag := range []string{
		`"MaxFullLoadSubTasks":1.0e1,`,
		`"TransactionConsistencyTimeout":600,"CommitRate":20000,"Extra":"x"}`,
		`"TargetSchema":"caf\u00e9 \"q\""`,
		`"LobMaxSize":64.0,`,
		`"Logging":{"EnableLogging":false,"EnableLogContext":false,"LogComponents":[{"Id":"SOURCE_CAPTURE","Severity":"LOGGER_SEVERITY_DEBUG","Note":1}],"CloudWatchLogGroup":null`,
		// Unknown top-level keys follow the defaults, in the user's order.
		`"FailTaskWhenCleanTaskResourceFailed":false,"Foo":{"Bar":[1,2.50]},"Zed":[{"a":1},true]}`,
	} {
		if !strings.Contains(out, frag) {
			t.Errorf("output lacks %s\n%s", frag, out)
		}
	}
	if s.FullLoadSettings.CommitRate != 20000 || s.FullLoadSettings.MaxFullLoadSubTasks != 10 || s.TargetMetadata.LobMaxSize != 64 {
		t.Errorf("typed values: %+v %+v", s.FullLoadSettings, s.TargetMetadata)
	}
	if s.TargetMetadata.TargetSchema != `café "q"` {
		t.Errorf("TargetSchema = %q", s.TargetMetadata.TargetSchema)
	}
	want := []LogComponent{{Id: "SOURCE_CAPTURE", Severity: SeverityDebug}}
	if !reflect.DeepEqual(s.Logging.LogComponents, want) {
		t.Errorf("LogComponents = %+v", s.Logging.LogComponents)
	}

	// The result is a superset of the input: every user value is in it.
	var in, got map[string]any
	if err := json.Unmarshal([]byte(doc), &in); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	assertSubset(t, "", in, got)

	// Stable: parsing the output again changes nothing.
	s2, out2 := mustParse(t, out, true)
	if out2 != out || !reflect.DeepEqual(s, s2) {
		t.Errorf("second parse differs:\n%s\n%s", out, out2)
	}
}

func assertSubset(t *testing.T, path string, want, got any) {
	t.Helper()
	wm, ok := want.(map[string]any)
	if !ok {
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
		return
	}
	gm, ok := got.(map[string]any)
	if !ok {
		t.Errorf("%s is %T, want object", path, got)
		return
	}
	for k, v := range wm {
		assertSubset(t, path+"."+k, v, gm[k])
	}
}

func TestKeyMatching(t *testing.T) {
	// Escaped names match the default key and take its spelling.
	s, out := mustParse(t, `{"FullLoadSettings":{"Commit\u0052ate":300}}`, false)
	if s.FullLoadSettings.CommitRate != 300 || !strings.Contains(out, `"CommitRate":300}`) || strings.Contains(out, `\u0052`) {
		t.Errorf("escaped key: %d %s", s.FullLoadSettings.CommitRate, out)
	}
	// Names are case-sensitive: a differently-cased key is an unknown key.
	s, out = mustParse(t, `{"FullLoadSettings":{"commitrate":"ignored"}}`, false)
	if s.FullLoadSettings.CommitRate != 10000 || !strings.Contains(out, `"CommitRate":10000,"commitrate":"ignored"}`) {
		t.Errorf("case: %d %s", s.FullLoadSettings.CommitRate, out)
	}
	// A repeated key: the later value wins (objects merge).
	s, out = mustParse(t, `{"FullLoadSettings":{"CommitRate":1},"FullLoadSettings":{"CommitRate":2},"X":{"a":1},"X":{"b":2}}`, false)
	if s.FullLoadSettings.CommitRate != 2 || !strings.Contains(out, `"X":{"a":1,"b":2}}`) || strings.Count(out, `"FullLoadSettings"`) != 1 {
		t.Errorf("duplicates: %s", out)
	}
}

func TestHistoryTimeslotMirror(t *testing.T) {
	cases := []struct {
		doc  string
		want string
	}{
		{`{"ControlTablesSettings":{"HistoryTimeslotInMinutes":10}}`, `"HistoryTimeslotInMinutes":10,"historyTimeslotInMinutes":10,`},
		{`{"ControlTablesSettings":{"historyTimeslotInMinutes":7}}`, `"HistoryTimeslotInMinutes":7,"historyTimeslotInMinutes":7,`},
		{`{"ControlTablesSettings":{"historyTimeslotInMinutes":7,"HistoryTimeslotInMinutes":9.0}}`, `"HistoryTimeslotInMinutes":9.0,"historyTimeslotInMinutes":9.0,`},
		{`{"ControlTablesSettings":{"ControlSchema":"dms"}}`, `"HistoryTimeslotInMinutes":5,"historyTimeslotInMinutes":5,`},
	}
	for _, c := range cases {
		_, out := mustParse(t, c.doc, true)
		if !strings.Contains(out, c.want) {
			t.Errorf("Parse(%s): lacks %s\n%s", c.doc, c.want, out)
		}
	}
	// Modify keeps the mirror in step too.
	_, cur := mustParse(t, `{"ControlTablesSettings":{"HistoryTimeslotInMinutes":10}}`, true)
	_, out, err := Merge(cur, `{"ControlTablesSettings":{"HistoryTimeslotInMinutes":15}}`)
	if err != nil || !strings.Contains(out, `"HistoryTimeslotInMinutes":15,"historyTimeslotInMinutes":15,`) {
		t.Errorf("Merge: %v %s", err, out)
	}
	_, out, err = Merge(cur, `{"ControlTablesSettings":{"StatusTableEnabled":true}}`)
	if err != nil || !strings.Contains(out, `"HistoryTimeslotInMinutes":10,"historyTimeslotInMinutes":10,`) {
		t.Errorf("Merge: %v %s", err, out)
	}
}

func TestMerge(t *testing.T) {
	_, cur := mustParse(t, `{
	  "FullLoadSettings": {"CommitRate": 20000, "TargetTablePrepMode": "DO_NOTHING"},
	  "Foo": {"Bar": [1, 2.50], "Keep": true},
	  "BeforeImageSettings": {"EnableBeforeImage": true, "FieldName": "before", "ColumnFilter": "all"}
	}`, true)

	s, out, err := Merge(cur, `{
	  "FullLoadSettings": {"MaxFullLoadSubTasks": 16},
	  "Foo": {"Bar": [3], "New": null},
	  "Logging": {"EnableLogging": true, "LogComponents": [{"Id": "TARGET_APPLY", "Severity": "LOGGER_SEVERITY_INFO"}]},
	  "Later": 1
	}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{
		`"TargetTablePrepMode":"DO_NOTHING",`, // from current
		`"MaxFullLoadSubTasks":16,`,           // from patch
		`"CommitRate":20000}`,                 // from current
		`"Foo":{"Bar":[3],"Keep":true,"New":null},"Later":1}`,
		`"LogComponents":[{"Id":"TARGET_APPLY","Severity":"LOGGER_SEVERITY_INFO"}]`, // arrays replace
		`"BeforeImageSettings":{"EnableBeforeImage":true,"FieldName":"before","ColumnFilter":"all"}`,
	} {
		if !strings.Contains(out, frag) {
			t.Errorf("merged document lacks %s\n%s", frag, out)
		}
	}
	if s.FullLoadSettings.CommitRate != 20000 || s.FullLoadSettings.MaxFullLoadSubTasks != 16 || !s.Logging.EnableLogging {
		t.Errorf("typed: %+v %+v", s.FullLoadSettings, s.Logging)
	}
	if s.BeforeImageSettings == nil || s.BeforeImageSettings.ColumnFilter != ColumnFilterAll {
		t.Errorf("BeforeImageSettings = %+v", s.BeforeImageSettings)
	}

	// null replaces an object; a patch can turn before images off again.
	s, out, err = Merge(out, `{"BeforeImageSettings": null}`)
	if err != nil || s.BeforeImageSettings != nil || !strings.Contains(out, `"BeforeImageSettings":null,`) {
		t.Errorf("null patch: %v %+v %s", err, s.BeforeImageSettings, out)
	}

	// An empty patch returns the current document unchanged.
	_, same, err := Merge(cur, "{}")
	if err != nil || same != cur {
		t.Errorf("empty patch changed the document:\n%s\n%s", cur, same)
	}

	// A stored document missing keys (older release) is completed from the defaults.
	s, out, err = Merge(`{"FullLoadSettings":{"CommitRate":5}}`, "")
	if err != nil || s.FullLoadSettings.CommitRate != 5 || s.FullLoadSettings.MaxFullLoadSubTasks != 8 {
		t.Errorf("sparse current: %v %+v", err, s)
	}
	if want := strings.Replace(Defaults(), `"CommitRate":10000`, `"CommitRate":5`, 1); out != want {
		t.Errorf("sparse current:\n%s\nwant\n%s", out, want)
	}

	// Merge validates the result.
	_, _, err = Merge(cur, `{"FullLoadSettings":{"CommitRate":0}}`)
	var e *Error
	if !errors.As(err, &e) || e.Key != "FullLoadSettings.CommitRate" {
		t.Errorf("Merge with bad patch: %v", err)
	}
	_, _, err = Merge(cur, `{"FullLoadSettings":`)
	if !errors.As(err, &e) || e.Key != "" || !strings.HasPrefix(e.Reason, "not valid JSON: ") {
		t.Errorf("Merge with malformed patch: %v", err)
	}
	_, _, err = Merge(`[`, `{}`)
	if !errors.As(err, &e) || e.Key != "" {
		t.Errorf("Merge with malformed current: %v", err)
	}
}

func TestMergeMatchesParse(t *testing.T) {
	for _, doc := range []string{
		`{}`,
		`{"FullLoadSettings":{"CommitRate":20000},"Foo":{"Bar":[1,2.50]}}`,
		`{"ControlTablesSettings":{"historyTimeslotInMinutes":3}}`,
		`{"BeforeImageSettings":{"EnableBeforeImage":true,"FieldName":"b"}}`,
	} {
		s1, out1, err1 := Parse(doc, false)
		s2, out2, err2 := Merge(Defaults(), doc)
		if err1 != nil || err2 != nil || out1 != out2 || !reflect.DeepEqual(s1, s2) {
			t.Errorf("%s: Parse and Merge(Defaults()) differ:\n%s %v\n%s %v", doc, out1, err1, out2, err2)
		}
	}
}

func TestBeforeImageDefaults(t *testing.T) {
	s, out := mustParse(t, `{"BeforeImageSettings":{"EnableBeforeImage":true,"FieldName":"before-image"}}`, true)
	want := &BeforeImageSettings{EnableBeforeImage: true, FieldName: "before-image", ColumnFilter: ColumnFilterPkOnly}
	if !reflect.DeepEqual(s.BeforeImageSettings, want) {
		t.Errorf("BeforeImageSettings = %+v", s.BeforeImageSettings)
	}
	if !strings.Contains(out, `"BeforeImageSettings":{"EnableBeforeImage":true,"FieldName":"before-image"},`) {
		t.Errorf("document: %s", out)
	}
}

func TestCreateOnlyCloudWatch(t *testing.T) {
	for _, key := range []string{"CloudWatchLogGroup", "CloudWatchLogStream"} {
		doc := `{"Logging":{"EnableLogging":true,"` + key + `":"dms-tasks-x"}}`
		_, _, err := Parse(doc, true)
		var e *Error
		if !errors.As(err, &e) || e.Key != "Logging."+key {
			t.Fatalf("create with %s: %v", key, err)
		}
		const dms = "Task Settings CloudWatchLogGroup or CloudWatchLogStream cannot be set on create."
		if !strings.HasSuffix(err.Error(), dms) {
			t.Errorf("message %q does not end with DMS's %q", err.Error(), dms)
		}
		// Not a create: accepted and kept.
		s, out, err := Parse(doc, false)
		if err != nil || !strings.Contains(out, `"`+key+`":"dms-tasks-x"`) {
			t.Errorf("non-create with %s: %v %s", key, err, out)
		}
		if key == "CloudWatchLogGroup" && (s.Logging.CloudWatchLogGroup == nil || *s.Logging.CloudWatchLogGroup != "dms-tasks-x") {
			t.Errorf("typed CloudWatchLogGroup = %v", s.Logging.CloudWatchLogGroup)
		}
		_, cur := mustParse(t, "", true)
		if _, _, err := Merge(cur, doc); err != nil {
			t.Errorf("modify with %s: %v", key, err)
		}
	}
	// Explicit nulls are fine on create (a saved settings file of a task without logging).
	mustParse(t, `{"Logging":{"CloudWatchLogGroup":null,"CloudWatchLogStream":null}}`, true)
}

func TestImmutableChange(t *testing.T) {
	a, _ := mustParse(t, `{"ValidationSettings":{"EnableValidation":true}}`, true)
	b, _ := mustParse(t, `{"ValidationSettings":{"EnableValidation":false},"FullLoadSettings":{"CommitRate":5}}`, true)
	if k := ImmutableChange(a, b); k != "" {
		t.Errorf("mutable change reported as %q", k)
	}
	c, _ := mustParse(t, `{"ValidationSettings":{"EnableValidation":true,"ValidationOnly":true},"FullLoadSettings":{"TargetTablePrepMode":"DO_NOTHING"}}`, true)
	if k := ImmutableChange(a, c); k != "ValidationSettings.ValidationOnly" {
		t.Errorf("ImmutableChange = %q", k)
	}
	if k := ImmutableChange(c, a); k != "ValidationSettings.ValidationOnly" {
		t.Errorf("ImmutableChange reversed = %q", k)
	}
	if k := ImmutableChange(nil, a); k != "" {
		t.Errorf("nil before: %q", k)
	}
}

func TestErrorMessage(t *testing.T) {
	e := &Error{Key: "FullLoadSettings.CommitRate", Reason: "must be between 1 and 50000 (got 0)"}
	if got, want := e.Error(), "Invalid task settings: FullLoadSettings.CommitRate: must be between 1 and 50000 (got 0)."; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	_, _, err := Parse(`{"FullLoadSettings":{"CommitRate":0}}`, true)
	if err == nil || err.Error() != "Invalid task settings: FullLoadSettings.CommitRate: must be between 1 and 50000 (got 0)." {
		t.Errorf("Parse error = %v", err)
	}
	e = &Error{Reason: "must be a JSON object (got array)"}
	if got := e.Error(); got != "Invalid task settings: must be a JSON object (got array)." {
		t.Errorf("Error() = %q", got)
	}
}
