package tasksettings

// Parse merges doc (may be "" or "{}") over the defaults for a new task,
// validates the result and returns the typed settings with the full document
// to store and return. With create=true the create-only rules apply:
// Logging.CloudWatchLogGroup and Logging.CloudWatchLogStream must be null.
// Failures are *Error.
func Parse(doc string, create bool) (*Settings, string, error) {
	user, err := parseDocument(doc)
	if err != nil {
		return nil, "", err
	}
	root := layer(defaultsTemplate.clone(), user)
	return finish(root, create)
}

// Merge applies patch (the ReplicationTaskSettings of ModifyReplicationTask)
// over current, a document previously returned by Parse or Merge: objects
// merge deeply, arrays and scalars are replaced. current is itself laid over
// the defaults first, so a document stored by an older release that lacks
// newer keys comes back complete. Failures are *Error.
func Merge(current, patch string) (*Settings, string, error) {
	cur, err := parseDocument(current)
	if err != nil {
		return nil, "", err
	}
	p, err := parseDocument(patch)
	if err != nil {
		return nil, "", err
	}
	root := layer(layer(defaultsTemplate.clone(), cur), p)
	return finish(root, false)
}

// ImmutableChange reports the first setting that may not change on a task
// that has already run and differs between before and after, or "". DMS
// documents ValidationSettings.ValidationOnly as the one immutable task
// setting (endpoints and migration type are task fields, checked elsewhere).
func ImmutableChange(before, after *Settings) string {
	if before == nil || after == nil {
		return ""
	}
	if before.ValidationSettings.ValidationOnly != after.ValidationSettings.ValidationOnly {
		return "ValidationSettings.ValidationOnly"
	}
	return ""
}

// layer merges src over dst and keeps the read-only mirror
// ControlTablesSettings.historyTimeslotInMinutes equal to
// HistoryTimeslotInMinutes. A layer that sets only the lower-case spelling is
// taken as setting the value (older task settings files use it).
func layer(dst, src *node) *node {
	dst = merge(dst, src)
	cts := dst.get("ControlTablesSettings")
	if !cts.isObject() {
		return dst
	}
	if sc := src.get("ControlTablesSettings"); sc.isObject() && sc.get("HistoryTimeslotInMinutes") == nil {
		if v := sc.get("historyTimeslotInMinutes"); v != nil {
			cts.set("HistoryTimeslotInMinutes", v.clone())
		}
	}
	if v := cts.get("HistoryTimeslotInMinutes"); v != nil {
		cts.set("historyTimeslotInMinutes", v.clone())
	}
	return dst
}

func finish(root *node, create bool) (*Settings, string, error) {
	s, err := readSettings(root)
	if err != nil {
		return nil, "", err
	}
	if create {
		const reason = "Task Settings CloudWatchLogGroup or CloudWatchLogStream cannot be set on create"
		if s.Logging.CloudWatchLogGroup != nil {
			return nil, "", errorf("Logging.CloudWatchLogGroup", reason)
		}
		if s.Logging.CloudWatchLogStream != nil {
			return nil, "", errorf("Logging.CloudWatchLogStream", reason)
		}
	}
	if err := checkRules(s); err != nil {
		return nil, "", err
	}
	return s, root.String(), nil
}
