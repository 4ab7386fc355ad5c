package sigv4

import (
	"errors"
	"net/http"
)

// AWS error codes the server puts in the `__type` field of its error response.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	CodeInvalidSignature           = "InvalidSignatureException"
)

// Sentinels. Every error Verify returns is an *Error that wraps exactly one of these, so
// callers can branch with errors.Is and still hand the client the AWS code and message.
var (
	// ErrMissingAuthentication: neither an Authorization header nor presign query parameters.
	ErrMissingAuthentication = errors.New("sigv4: missing authentication")
	// ErrIncompleteSignature: the Authorization header, presign parameters or credential scope
	// are malformed, incomplete, or use an unsupported algorithm.
	ErrIncompleteSignature = errors.New("sigv4: incomplete or malformed signature")
	// ErrUnrecognizedClient: the access key id is not in the KeyStore.
	ErrUnrecognizedClient = errors.New("sigv4: unrecognized access key")
	// ErrSignatureMismatch: the signature (or the signed payload hash) does not match.
	ErrSignatureMismatch = errors.New("sigv4: signature mismatch")
	// ErrSignatureExpired: the signing date is outside MaxSkew, or a presigned URL has expired.
	ErrSignatureExpired = errors.New("sigv4: signature expired")
	// ErrWrongScope: the credential scope names another service, or its date disagrees with
	// the request date.
	ErrWrongScope = errors.New("sigv4: credential scope does not match the request")
)

// Messages AWS uses verbatim.
const (
	msgMissingAuthentication = "Request is missing Authentication Token"
	msgUnrecognizedClient    = "The security token included in the request is invalid."
	msgSignatureMismatch     = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgRequestExpired = "Request has expired"
)

// Error is a verification failure as the client should see it: Code goes to `__type`,
// Message to `message`. It unwraps to one of the package sentinels.
type Error struct {
	Code    string
	Message string
	Err     error
	// CanonicalRequest and StringToSign are set on a signature mismatch: what the server
	// computed for the request (the most likely candidate). They hold no secret and are meant
	// for debug logs; AWS itself echoes them to the client for some services.
	CanonicalRequest string
	StringToSign     string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func (e *Error) Unwrap() error { return e.Err }

// HTTPStatus is the status code AWS JSON services answer with for this error.
func (e *Error) HTTPStatus() int {
	if e.Code == CodeMissingAuthenticationToken {
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

func newError(sentinel error, code, msg string) *Error {
	return &Error{Code: code, Message: msg, Err: sentinel}
}

func errMissing() *Error {
	return newError(ErrMissingAuthentication, CodeMissingAuthenticationToken, msgMissingAuthentication)
}

func errIncomplete(msg string) *Error {
	return newError(ErrIncompleteSignature, CodeIncompleteSignature, msg)
}

func errUnrecognized() *Error {
	return newError(ErrUnrecognizedClient, CodeUnrecognizedClient, msgUnrecognizedClient)
}

func errMismatch(msg string) *Error {
	return newError(ErrSignatureMismatch, CodeInvalidSignature, msg)
}

func errExpired(msg string) *Error {
	return newError(ErrSignatureExpired, CodeInvalidSignature, msg)
}

func errScope(msg string) *Error {
	return newError(ErrWrongScope, CodeInvalidSignature, msg)
}
