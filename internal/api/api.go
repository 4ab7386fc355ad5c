// Package api is the DMS API surface: wire shapes, the Operations interface,
// the dispatch table and input validation are generated from the service
// model by tools/apigen (files *_gen.go); this file and the others without
// the suffix hold the hand-written pieces the generated code relies on.
package api

import (
	"context"
	"fmt"
)

//go:generate go run ../../tools/apigen -model ../../api/model/dms-2016-01-01.json -out .

// Target prefix of the X-Amz-Target header, from the model's metadata.
const TargetPrefix = "AmazonDMSv20160101"

// Handler decodes an operation's input with decode, validates it and calls
// the implementation.
type Handler func(ctx context.Context, ops Operations, decode func(any) error) (any, error)

// Fault is an error with an AWS error code. The awsjson layer writes it as
// {"__type": Code, "message": Message}.
type Fault struct {
	Code        string
	Message     string
	ResourceArn string // only for ResourceAlreadyExistsFault
}

func (f *Fault) Error() string { return f.Code + ": " + f.Message }

// NewFault builds a fault with a formatted message.
func NewFault(code, format string, args ...any) *Fault {
	return &Fault{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Fault codes used outside the model's exception shapes.
const (
	CodeInvalidParameterValue       = "InvalidParameterValueException"
	CodeInvalidParameterCombination = "InvalidParameterCombinationException"
	CodeSerialization               = "SerializationException"
	CodeUnknownOperation            = "UnknownOperationException"
	CodeInternalFailure             = "InternalFailure"
	CodeNotImplemented              = "InvalidOperationFault"
)

// NotImplemented is the fault of an operation Godwit does not implement yet.
// It is the model's InvalidOperationFault, with a message naming the operation.
func NotImplemented(op string) *Fault {
	return NewFault(CodeNotImplemented, "%s is not implemented by this Godwit server yet (see docs/compatibility.md).", op)
}

// InvalidParameter is the fault for an input value that breaks a rule.
func InvalidParameter(format string, args ...any) *Fault {
	return NewFault(CodeInvalidParameterValue, format, args...)
}
