package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/netcheck"
)

// newClient builds an S3 client for the configured API: its URL as base
// endpoint, static credentials (anonymous without an access key), at most
// attempts tries per request (1 for a check, which reports the first
// failure), connections through the netcheck dialer so DNS and TCP
// failures are classified.
func newClient(cfg Config, dialer netcheck.Dialer, attempts int) *awss3.Client {
	region := cfg.Store.Region
	if region == "" {
		region = DefaultRegion
	}
	var creds aws.CredentialsProvider = aws.AnonymousCredentials{}
	if cfg.Store.AccessKeyID != "" {
		creds = credentials.NewStaticCredentialsProvider(cfg.Store.AccessKeyID, cfg.Store.SecretAccessKey, "")
	}
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.DialContext = dialer.DialContext
	})
	return awss3.New(awss3.Options{
		BaseEndpoint:               aws.String(cfg.Store.URL),
		Region:                     region,
		UsePathStyle:               cfg.Store.PathStyle,
		Credentials:                creds,
		HTTPClient:                 httpClient,
		RetryMaxAttempts:           attempts,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// objectKey is the key of name in the endpoint's folder.
func objectKey(cfg Config, name string) string {
	if cfg.Folder == "" {
		return name
	}
	return path.Join(cfg.Folder, name)
}

// headBucket checks the bucket exists and may be used; it returns the
// Server header of the answer.
func headBucket(ctx context.Context, client *awss3.Client, cfg Config) (string, error) {
	out, err := client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)})
	if err != nil {
		ce := apiError(ctx, cfg, "HeadBucket", "read bucket", err)
		if ce.Stage == connector.StagePrivileges {
			// A HEAD answer has no body, so a 403 does not say whether the
			// key is unknown, the signature wrong or access denied; a GET
			// does.
			_, lerr := client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String(cfg.Bucket), MaxKeys: aws.Int32(0)})
			if lerr != nil {
				if le := apiError(ctx, cfg, "ListObjectsV2", "read bucket", lerr); le.Stage == connector.StageAuth {
					return "", le
				}
			}
		}
		return "", ce
	}
	if raw, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response); ok && raw != nil {
		return raw.Header.Get("Server"), nil
	}
	return "", nil
}

// checkRemote checks an API bucket: it exists; a source can list its
// folder; a target can write and delete a probe object in it.
func checkRemote(ctx context.Context, client *awss3.Client, cfg Config) (*connector.CheckReport, error) {
	server, err := headBucket(ctx, client, cfg)
	if err != nil {
		return nil, err
	}
	report := &connector.CheckReport{ServerVersion: "S3-compatible object store at " + cfg.Store.URL, Warnings: slices.Clone(cfg.Ignored)}
	if server != "" {
		report.ServerVersion += " (" + server + ")"
	}
	if cfg.Role == connector.RoleSource {
		prefix := ""
		if cfg.Folder != "" {
			prefix = cfg.Folder + "/"
		}
		_, err := client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{
			Bucket: aws.String(cfg.Bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(1),
		})
		if err != nil {
			return nil, apiError(ctx, cfg, "ListObjectsV2", "list objects in bucket", err)
		}
		return report, nil
	}
	key := objectKey(cfg, probeName())
	_, err = client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: aws.String(cfg.Bucket), Key: aws.String(key),
		Body: strings.NewReader("godwit connection test\n"), ContentLength: aws.Int64(23),
	})
	if err != nil {
		return nil, apiError(ctx, cfg, "PutObject", "write objects to bucket", err)
	}
	if _, err := client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String(key)}); err != nil {
		return nil, apiError(ctx, cfg, "DeleteObject", "delete objects from bucket", err)
	}
	return report, nil
}

// apiError classifies a failed S3 call: network failures from the dialer,
// TLS failures, then the S3 error code (HTTP status when there is no body,
// as for HEAD).
func apiError(ctx context.Context, cfg Config, op, doing string, err error) *connector.CheckError {
	var ce *connector.CheckError
	if errors.As(err, &ce) {
		return ce
	}
	store := cfg.Store.URL
	if netcheck.IsTLSError(err) {
		cause := err
		var ue *url.Error
		if errors.As(err, &ue) {
			cause = ue.Err
		}
		return &connector.CheckError{Stage: connector.StageTLS,
			Message: fmt.Sprintf("the TLS handshake with the object store at %s failed (%v): check the URL, and that the store's certificate is issued by a CA this server trusts for its name", store, cause),
			Err:     err}
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &connector.CheckError{Stage: connector.StageStorage, Message: fmt.Sprintf("timed out waiting for %s on bucket %q at %s", op, cfg.Bucket, store), Err: err}
	case ctx.Err() != nil:
		return &connector.CheckError{Stage: connector.StageStorage, Message: fmt.Sprintf("%s on bucket %q was canceled", op, cfg.Bucket), Err: err}
	}
	code, status := "", 0
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	var notFound *types.NotFound
	var noBucket *types.NoSuchBucket
	ce = &connector.CheckError{Err: err}
	switch {
	case errors.As(err, &noBucket) || code == codeNoSuchBucket || (op == "HeadBucket" && (code == codeNotFound || errors.As(err, &notFound) || status == http.StatusNotFound)):
		ce.Stage = connector.StageStorage
		ce.Message = fmt.Sprintf("bucket %q does not exist at %s: create it, or check S3Settings.BucketName", cfg.Bucket, store)
		ce.Err = errors.Join(ErrNoSuchBucket, err)
	case code == codeInvalidAccessKeyID:
		ce.Stage = connector.StageAuth
		ce.Message = fmt.Sprintf("the object store at %s does not know the access key ID Godwit uses: check the object store credentials in Godwit's configuration", store)
	case code == codeSignatureDoesNotMatch:
		ce.Stage = connector.StageAuth
		ce.Message = fmt.Sprintf("the object store at %s rejected the request signature: the secret access key in Godwit's object store configuration is wrong", store)
	case code == codeExpiredToken || code == codeInvalidToken:
		ce.Stage = connector.StageAuth
		ce.Message = fmt.Sprintf("the object store at %s rejected the credentials as expired or invalid (%s)", store, code)
	case code == codePermanentRedirect || code == codeAuthHeaderMalformed || status == http.StatusMovedPermanently:
		ce.Stage = connector.StageConfig
		ce.Message = fmt.Sprintf("bucket %q is not in region %q at %s: configure the bucket's region for the object store", cfg.Bucket, cfg.Store.Region, store)
	case code == codeInvalidBucketName:
		ce.Stage = connector.StageConfig
		ce.Message = fmt.Sprintf("the object store at %s rejects the bucket name %q", store, cfg.Bucket)
	case code == codeAccessDenied || code == codeForbidden || code == codeAllAccessDisabled || code == codeAccountProblem || status == http.StatusForbidden:
		ce.Stage = connector.StagePrivileges
		ce.Message = fmt.Sprintf("access denied: the object store credentials Godwit uses may not %s %q at %s (%s). Allow s3:%s on it",
			doing, cfg.Bucket, store, connector.FirstNonEmpty(code, "HTTP 403"), permissionFor(op))
	case status >= 500:
		ce.Stage = connector.StageStorage
		ce.Message = fmt.Sprintf("the object store at %s failed %s on bucket %q (HTTP %d %s): try again later", store, op, cfg.Bucket, status, code)
	default:
		ce.Stage = connector.StageStorage
		ce.Message = fmt.Sprintf("%s on bucket %q at %s failed: %v", op, cfg.Bucket, store, err)
	}
	return ce
}

// permissionFor is the IAM action an operation needs.
func permissionFor(op string) string {
	switch op {
	case "HeadBucket", "ListObjectsV2":
		return "ListBucket"
	}
	return op
}
