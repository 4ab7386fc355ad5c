package dms

import "errors"

var (
	// ErrInvalidARN: the string is not a DMS ARN.
	ErrInvalidARN = errors.New("invalid ARN")
	// ErrInvalidIdentifier: an identifier breaks DMS's naming rules.
	ErrInvalidIdentifier = errors.New("invalid identifier")
)
