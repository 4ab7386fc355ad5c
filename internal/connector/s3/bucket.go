package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/godwit-dms/godwit/internal/connector"
)

// Bucket writes small documents (assessment results) into a bucket of an
// object store: a folder under the local root, created on first use, or a
// bucket of an S3-compatible API.
type Bucket struct {
	conn *Conn
}

// OpenBucket returns the bucket named name of store.
func OpenBucket(store connector.ObjectStore, name string) *Bucket {
	return &Bucket{conn: NewConn(Config{Bucket: name, Role: connector.RoleTarget, Store: store})}
}

// Check makes sure the bucket can be written: it writes and deletes a probe
// object. Errors wrap ErrNoSuchBucket or ErrBucketAccessDenied when that is
// what is wrong.
func (b *Bucket) Check(ctx context.Context) error {
	_, err := b.conn.CheckConnection(ctx)
	if err == nil {
		return nil
	}
	var ce *connector.CheckError
	if errors.As(err, &ce) {
		switch {
		case errors.Is(err, ErrNoSuchBucket):
			return fmt.Errorf("%w: %s", ErrNoSuchBucket, ce.Message)
		case ce.Stage == connector.StagePrivileges || ce.Stage == connector.StageAuth:
			return fmt.Errorf("%w: %s", ErrBucketAccessDenied, ce.Message)
		}
		return errors.New(ce.Message)
	}
	return err
}

// Put stores data at key. With an S3 API, sse ("SSE_S3" or "SSE_KMS", with
// kmsKey) asks the store to encrypt it; a local store keeps files as they are.
func (b *Bucket) Put(ctx context.Context, key string, data []byte, sse, kmsKey string) error {
	st := b.conn.loadStore()
	rs, remote := st.(*remoteStore)
	if !remote || sse == "" || sse == "NONE" {
		return st.write(ctx, key, data)
	}
	in := &awss3.PutObjectInput{Bucket: aws.String(b.conn.cfg.Bucket), Key: aws.String(key),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))}
	switch sse {
	case "SSE_S3":
		in.ServerSideEncryption = types.ServerSideEncryptionAes256
	case "SSE_KMS":
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		if kmsKey != "" {
			in.SSEKMSKeyId = aws.String(kmsKey)
		}
	}
	if _, err := rs.client.PutObject(ctx, in); err != nil {
		return rs.fail(ctx, "PutObject", "write objects to bucket", err)
	}
	return nil
}

// Get reads a small object; ok is false when it does not exist.
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, bool, error) {
	return b.conn.loadStore().read(ctx, key)
}

// Close releases the bucket's client.
func (b *Bucket) Close() error { return b.conn.Close() }
