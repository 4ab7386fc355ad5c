package s3

import "errors"

var (
	// ErrInvalidConfig: the endpoint's settings are missing or invalid.
	ErrInvalidConfig = errors.New("invalid S3 endpoint configuration")
	// ErrClosed: the connector was closed.
	ErrClosed = errors.New("s3 connector closed")
	// ErrNotDirectory: a path that must be a directory is something else.
	ErrNotDirectory = errors.New("not a directory")
	// ErrNoSuchBucket: the bucket does not exist.
	ErrNoSuchBucket = errors.New("no such bucket")
)

// S3 error codes the connector tells apart.
const (
	codeNoSuchBucket          = "NoSuchBucket"
	codeNotFound              = "NotFound"
	codeAccessDenied          = "AccessDenied"
	codeForbidden             = "Forbidden"
	codeInvalidAccessKeyID    = "InvalidAccessKeyId"
	codeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	codePermanentRedirect     = "PermanentRedirect"
	codeAuthHeaderMalformed   = "AuthorizationHeaderMalformed"
	codeInvalidBucketName     = "InvalidBucketName"
	codeAllAccessDisabled     = "AllAccessDisabled"
	codeAccountProblem        = "AccountProblem"
	codeExpiredToken          = "ExpiredToken"
	codeInvalidToken          = "InvalidToken"
)
