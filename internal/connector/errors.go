package connector

import "errors"

// ErrUnsupportedEngine: no connector is registered for the engine name.
var ErrUnsupportedEngine = errors.New("engine not supported by this server")
