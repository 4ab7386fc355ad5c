package s3_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/s3"
	"github.com/godwit-dms/godwit/internal/testenv"
)

// startMoto runs moto's S3-compatible server, when installed, and returns
// its URL and a client for it.
func startMoto(t *testing.T) (string, *awss3.Client) {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server (pip package moto[server]) is not installed: the S3-compatible API path of full loads is not exercised")
	}
	port := testenv.FreePort(t)
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	client := awss3.New(awss3.Options{
		BaseEndpoint: aws.String(url), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDGOOD", "secret-key-1", ""),
	})
	return url, client
}

func objectKeys(t *testing.T, client *awss3.Client, bucket, prefix string) []string {
	t.Helper()
	out, err := client.ListObjectsV2(bg, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	slices.Sort(keys)
	return keys
}

func getObject(t *testing.T, client *awss3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := client.GetObject(bg, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func putObject(t *testing.T, client *awss3.Client, bucket, key, body string) {
	t.Helper()
	if _, err := client.PutObject(bg, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

func TestRemoteLoad(t *testing.T) {
	url, client := startMoto(t)
	if _, err := client.CreateBucket(bg, &awss3.CreateBucketInput{Bucket: aws.String("dms-target")}); err != nil {
		t.Fatal(err)
	}
	putObject(t, client, "dms-target", "out/s/t/LOAD00000001.csv", "old\n")
	putObject(t, client, "dms-target", "out/s/t/20240101-1200000000.csv", "cdc\n")
	staging := t.TempDir()
	open := func(settings map[string]any) *s3.Conn {
		s := map[string]any{"BucketName": "dms-target", "BucketFolder": "out", s3.SettingTempDir: staging}
		for k, v := range settings {
			s[k] = v
		}
		c, err := s3.New(remoteEndpoint(url, connector.RoleTarget, s))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*s3.Conn)
	}
	tbl := textTable()

	c := open(map[string]any{"MaxFileSize": 1, "CompressionType": "GZIP", "AddColumnName": true})
	mustPrepare(t, c, tbl, connector.PrepTruncate)
	if keys := objectKeys(t, client, "dms-target", "out/"); len(keys) != 0 {
		t.Fatalf("after TRUNCATE_BEFORE_LOAD: %v", keys)
	}
	mustLoad(t, c, tbl, wideRows(0, 25))
	if keys := objectKeys(t, client, "dms-target", "out/s/t/LOAD"); !slices.Equal(keys, []string{"out/s/t/LOAD00000001.csv.gz", "out/s/t/LOAD00000002.csv.gz"}) {
		t.Fatalf("published: %v", keys)
	}
	if err := c.DeleteRange(bg, tbl, nil); err != nil {
		t.Fatal(err)
	}
	if keys := objectKeys(t, client, "dms-target", "out/s/t/LOAD"); len(keys) != 0 {
		t.Fatalf("after DeleteRange(nil): %v", keys)
	}
	rows := append(wideRows(0, 25), kindsRowsAsText()...)
	mustLoad(t, c, tbl, rows)
	mustFinish(t, c, tbl)
	keys := objectKeys(t, client, "dms-target", "out/s/t/LOAD")
	if len(keys) != 3 {
		t.Fatalf("files = %v", keys)
	}
	var got strings.Builder
	for i, k := range keys {
		if want := fmt.Sprintf("out/s/t/LOAD%08X.csv.gz", i+1); k != want {
			t.Errorf("key %s, want %s", k, want)
		}
		zr, err := gzip.NewReader(bytes.NewReader(getObject(t, client, "dms-target", k)))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		body, ok := strings.CutPrefix(string(b), "id,v\n")
		if !ok {
			t.Errorf("%s has no header", k)
		}
		got.WriteString(body)
	}
	want := loadOne(t, nil, tbl, rows) // the same rows in a local store
	if got.String() != want {
		t.Errorf("API files hold\n%q\nwant\n%q", got.String(), want)
	}
	if files := listDir(t, staging); len(files) != 0 {
		t.Errorf("staged files left: %v", files)
	}

	// DO_NOTHING keeps the files; a restarted process removes only its own.
	c = open(map[string]any{"DataFormat": "parquet"})
	mustPrepare(t, c, tbl, connector.PrepDoNothing)
	mustLoad(t, c, tbl, wideRows(100, 10))
	c2 := open(map[string]any{"DataFormat": "parquet"})
	if err := c2.DeleteRange(bg, tbl, nil); err != nil {
		t.Fatal(err)
	}
	mustLoad(t, c2, tbl, wideRows(200, 10))
	mustFinish(t, c2, tbl)
	keys = objectKeys(t, client, "dms-target", "out/s/t/")
	wantKeys := []string{"out/s/t/LOAD00000001.csv.gz", "out/s/t/LOAD00000002.csv.gz",
		"out/s/t/LOAD00000003.csv.gz", "out/s/t/LOAD00000004.parquet", "out/s/t/_godwit_load_base"}
	if !slices.Equal(keys, wantKeys) {
		t.Fatalf("keys = %v, want %v", keys, wantKeys)
	}
	path := staging + "/check.parquet"
	os.WriteFile(path, getObject(t, client, "dms-target", "out/s/t/LOAD00000004.parquet"), 0o644)
	pf := readParquet(t, path)
	if len(pf.rows) != 10 || pf.rows[0][0].Int64() != 200 {
		t.Errorf("parquet rows = %d, first id %v", len(pf.rows), pf.rows[0][0])
	}
}

func TestRemoteLoadConnectionLost(t *testing.T) {
	url := fmt.Sprintf("http://127.0.0.1:%d", testenv.ClosedPort(t))
	c, err := s3.New(remoteEndpoint(url, connector.RoleTarget, map[string]any{"BucketName": "dms-target", s3.SettingTempDir: t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.(*s3.Conn).PrepareTable(bg, textTable(), connector.PrepTruncate, false)
	if !errors.Is(err, connector.ErrConnectionLost) {
		t.Fatalf("PrepareTable = %v, want connector.ErrConnectionLost", err)
	}
	t.Log(err)
}

// EncryptionMode, ServerSideEncryptionKmsKeyId, CannedAclForObjects and
// ExpectedBucketOwner reach the store with every object written.
func TestRemoteLoadObjectOptions(t *testing.T) {
	url, client := startMoto(t)
	if _, err := client.CreateBucket(bg, &awss3.CreateBucketInput{Bucket: aws.String("dms-target")}); err != nil {
		t.Fatal(err)
	}
	const kmsKey = "arn:aws:kms:us-east-1:123456789012:key/godwit-test"
	c, err := s3.New(remoteEndpoint(url, connector.RoleTarget, map[string]any{"BucketName": "dms-target", "BucketFolder": "out",
		s3.SettingTempDir: t.TempDir(), "EncryptionMode": "sse-kms", "ServerSideEncryptionKmsKeyId": kmsKey,
		"CannedAclForObjects": "public-read", "ExpectedBucketOwner": "123456789012"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	tbl := textTable()
	mustPrepare(t, c.(*s3.Conn), tbl, connector.PrepTruncate)
	mustLoad(t, c.(*s3.Conn), tbl, wideRows(0, 5))
	mustFinish(t, c.(*s3.Conn), tbl)
	key := aws.String("out/s/t/LOAD00000001.csv")
	head, err := client.HeadObject(bg, &awss3.HeadObjectInput{Bucket: aws.String("dms-target"), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if head.ServerSideEncryption != "aws:kms" || aws.ToString(head.SSEKMSKeyId) != kmsKey {
		t.Errorf("object encryption %q with key %q, want aws:kms with %s", head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId), kmsKey)
	}
	acl, err := client.GetObjectAcl(bg, &awss3.GetObjectAclInput{Bucket: aws.String("dms-target"), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	public := false
	for _, g := range acl.Grants {
		public = public || (g.Grantee != nil && strings.HasSuffix(aws.ToString(g.Grantee.URI), "/AllUsers") && g.Permission == "READ")
	}
	if !public {
		t.Errorf("object grants %+v lack public-read", acl.Grants)
	}

	// A local bucket cannot honour them: they are named as settings without effect.
	ep := localEndpoint(t.TempDir(), connector.RoleTarget, map[string]any{"BucketName": "local-bucket", "EncryptionMode": "sse-s3"})
	lc, err := s3.New(ep)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	if miss := testenv.Missing(lc.(*s3.Conn).IgnoredSettings(), "S3Settings.EncryptionMode has no effect"); len(miss) > 0 {
		t.Errorf("local bucket: ignored settings %q", lc.(*s3.Conn).IgnoredSettings())
	}
}
