package service

import (
	"errors"
	"fmt"
)

// Code classifies a use-case failure. The apiserver turns each into the
// matching DMS fault; nothing else in the service knows about faults.
type Code int

const (
	CodeNotFound Code = iota + 1
	CodeAlreadyExists
	CodeInvalidState
	CodeInvalidParameter
	CodeInvalidParameterCombination
	CodeQuotaExceeded
	CodeAccessDenied
	CodeInvalidSubnet
	CodeSubnetGroupAZs
	CodeSubnetInUse
	CodeInvalidCertificate
	CodeKMSKeyNotAccessible
	CodeUpgradeDependency
	CodeS3NotFound
	CodeS3AccessDenied
)

// Error is a use-case failure with a message written for the API user.
type Error struct {
	Code Code
	Msg  string
	ARN  string // the existing resource, for CodeAlreadyExists
}

func (e *Error) Error() string { return e.Msg }

func newErr(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error { return newErr(CodeNotFound, format, args...) }
func invalidState(format string, args ...any) error {
	return newErr(CodeInvalidState, format, args...)
}
func invalidParam(format string, args ...any) error {
	return newErr(CodeInvalidParameter, format, args...)
}

// IsCode reports whether err is a service Error with code c.
func IsCode(err error, c Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == c
}
