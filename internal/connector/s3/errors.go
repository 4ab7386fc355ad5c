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
	// ErrBucketAccessDenied: the bucket exists but may not be written.
	ErrBucketAccessDenied = errors.New("access to the bucket denied")
	// ErrInvalidName: a schema or table name cannot name a folder.
	ErrInvalidName = errors.New("name not usable in an object key")
	// ErrValueType: a row value's Go type does not match its column's kind.
	ErrValueType = errors.New("value does not match its column type")
	// ErrValue: a row value cannot be written in the file format (for
	// example a NaN numeric in a Parquet DECIMAL column).
	ErrValue = errors.New("value not representable")
	// ErrLoadBroken: writing a table's file failed part way; the table must
	// be restarted with DeleteRange(nil) or PrepareTable.
	ErrLoadBroken = errors.New("table load must be restarted")
	// ErrRowWidth: a row has a different number of values than its table.
	ErrRowWidth = errors.New("row width does not match the table")
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
