package connector

import "errors"

var (
	// ErrUnsupportedEngine: no connector is registered for the engine name.
	ErrUnsupportedEngine = errors.New("engine not supported by this server")
	// ErrRowRejected: the target refused a row (a data or integrity error).
	// The batch it was in is not committed; the table is in error, the task
	// goes on. Connectors wrap it with the engine's code and message.
	ErrRowRejected = errors.New("row rejected by the target")
	// ErrConnectionLost: the connection broke mid-operation; retrying later
	// may succeed.
	ErrConnectionLost = errors.New("connection lost")
)
