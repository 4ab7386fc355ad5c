package store

import "errors"

var (
	// ErrNotFound: no record with that key.
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists: the key or ARN is taken.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrConflict: the record changed since it was read (revision mismatch).
	ErrConflict = errors.New("store: revision conflict")
)
