package tasksettings

// Error is a rejected task settings document. Key is the JSON path of the
// offending value ("FullLoadSettings.CommitRate",
// "Logging.LogComponents[2].Severity"), or "" when the document as a whole is
// at fault (not JSON, not an object). The API layer turns it into
// InvalidParameterValueException with Error() as the message.
type Error struct {
	Key    string
	Reason string
}

// Error renders "Invalid task settings: <Key>: <Reason>.".
func (e *Error) Error() string {
	if e.Key == "" {
		return "Invalid task settings: " + e.Reason + "."
	}
	return "Invalid task settings: " + e.Key + ": " + e.Reason + "."
}

func errorf(key, reason string) *Error { return &Error{Key: key, Reason: reason} }
