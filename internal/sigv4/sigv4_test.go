package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dms "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"
)

const (
	testKeyID  = "AKIDGODWITTEST"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testRegion = "us-west-2"
	dmsTarget  = "AmazonDMSv20160101.DescribeEndpoints"
	jsonType   = "application/x-amz-json-1.1"
)

// testClock is the fixed "now" of the verifier in the SDK-signed tests.
var testClock = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// outcome is what the server's Verify call returned for one request.
type outcome struct {
	res    *Result
	err    error
	header http.Header
}

// verifyServer is an httptest.Server whose handler verifies every request with v and answers
// like an AWS JSON service: {"Endpoints":[]} on success, {"__type","message"} on failure.
type verifyServer struct {
	*httptest.Server
	mu   sync.Mutex
	last outcome
}

func newVerifyServer(t *testing.T, v *Verifier) *verifyServer {
	t.Helper()
	s := &verifyServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		res, verr := v.Verify(r, body)
		s.mu.Lock()
		s.last = outcome{res: res, err: verr, header: r.Header.Clone()}
		s.mu.Unlock()
		w.Header().Set("Content-Type", jsonType)
		if verr != nil {
			var e *Error
			status := http.StatusInternalServerError
			out := map[string]string{"__type": "InternalFailure", "message": verr.Error()}
			if errors.As(verr, &e) {
				status = e.HTTPStatus()
				out = map[string]string{"__type": e.Code, "message": e.Message}
			}
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(out)
			return
		}
		_, _ = io.WriteString(w, `{"Endpoints":[]}`)
	}))
	t.Cleanup(s.Close)
	return s
}

// do sends req to the server and returns what Verify said about it.
func (s *verifyServer) do(t *testing.T, req *http.Request) outcome {
	t.Helper()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return s.lastOutcome()
}

func (s *verifyServer) lastOutcome() outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func testVerifier() *Verifier {
	return &Verifier{
		Keys:    StaticKeys{testKeyID: testSecret},
		Service: "dms",
		Now:     func() time.Time { return testClock },
	}
}

func testCreds() aws.Credentials {
	return aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// dmsRequest builds a DMS-style JSON request to the server.
func dmsRequest(t *testing.T, base, path string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", jsonType)
	req.Header.Set("X-Amz-Target", dmsTarget)
	return req
}

func signHeader(t *testing.T, req *http.Request, creds aws.Credentials, payloadHash, service string, at time.Time) {
	t.Helper()
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, service, testRegion, at); err != nil {
		t.Fatalf("SignHTTP: %v", err)
	}
}

// presign presigns req (X-Amz-Expires already in its query if wanted) and returns a request
// for the presigned URL carrying the headers the signer says must be sent.
func presign(t *testing.T, req *http.Request, body []byte, payloadHash string, at time.Time) *http.Request {
	t.Helper()
	signed, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), testCreds(), req, payloadHash, "dms", testRegion, at)
	if err != nil {
		t.Fatalf("PresignHTTP: %v", err)
	}
	out, err := http.NewRequest(req.Method, signed, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		if strings.EqualFold(k, "Host") {
			continue
		}
		out.Header[k] = vs
	}
	return out
}

func withExpires(t *testing.T, req *http.Request, secs int) {
	t.Helper()
	q := req.URL.Query()
	q.Set("X-Amz-Expires", strconv.Itoa(secs))
	req.URL.RawQuery = q.Encode()
}

func wantOK(t *testing.T, o outcome) *Result {
	t.Helper()
	if o.err != nil {
		var e *Error
		if errors.As(o.err, &e) && e.CanonicalRequest != "" {
			t.Logf("server canonical request:\n%s\nstring to sign:\n%s", e.CanonicalRequest, e.StringToSign)
		}
		t.Fatalf("Verify: %v", o.err)
	}
	if o.res == nil {
		t.Fatal("Verify returned no result and no error")
	}
	return o.res
}

func wantErr(t *testing.T, o outcome, sentinel error, code, msgPart string) {
	t.Helper()
	if o.err == nil {
		t.Fatalf("Verify succeeded, want %v", sentinel)
	}
	if !errors.Is(o.err, sentinel) {
		t.Fatalf("Verify error = %v, want errors.Is %v", o.err, sentinel)
	}
	var e *Error
	if !errors.As(o.err, &e) {
		t.Fatalf("Verify error %T is not *Error", o.err)
	}
	if e.Code != code {
		t.Errorf("Code = %q, want %q", e.Code, code)
	}
	if !strings.Contains(e.Message, msgPart) {
		t.Errorf("Message = %q, want it to contain %q", e.Message, msgPart)
	}
	if strings.Contains(e.Message, testSecret) {
		t.Errorf("Message echoes the secret: %q", e.Message)
	}
}

func TestSignHTTP(t *testing.T) {
	srv := newVerifyServer(t, testVerifier())
	body := []byte(`{"MaxRecords":20}`)

	t.Run("json request", func(t *testing.T) {
		req := dmsRequest(t, srv.URL, "/", body)
		signHeader(t, req, testCreds(), hashHex(body), "dms", testClock)
		res := wantOK(t, srv.do(t, req))
		want := Result{AccessKeyID: testKeyID, Region: testRegion, Service: "dms", SignedAt: testClock}
		if *res != want {
			t.Errorf("Result = %+v, want %+v", *res, want)
		}
	})
	t.Run("empty path and body", func(t *testing.T) {
		req := dmsRequest(t, srv.URL, "", nil)
		signHeader(t, req, testCreds(), hashHex(nil), "dms", testClock)
		wantOK(t, srv.do(t, req))
	})
	t.Run("session token", func(t *testing.T) {
		creds := testCreds()
		creds.SessionToken = "FQoGZXIvYXdzEXAMPLE//token=="
		req := dmsRequest(t, srv.URL, "/", body)
		signHeader(t, req, creds, hashHex(body), "dms", testClock)
		o := srv.do(t, req)
		wantOK(t, o)
		if o.header.Get("X-Amz-Security-Token") != creds.SessionToken {
			t.Fatalf("server did not receive the security token")
		}
	})
	t.Run("unsigned payload", func(t *testing.T) {
		req := dmsRequest(t, srv.URL, "/", body)
		req.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
		signHeader(t, req, testCreds(), unsignedPayload, "dms", testClock)
		wantOK(t, srv.do(t, req))
	})
	t.Run("content sha256 header", func(t *testing.T) {
		req := dmsRequest(t, srv.URL, "/", body)
		req.Header.Set("X-Amz-Content-Sha256", hashHex(body))
		signHeader(t, req, testCreds(), hashHex(body), "dms", testClock)
		wantOK(t, srv.do(t, req))
	})
	t.Run("odd path query and header spacing", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet,
			srv.URL+"/a%20b/c+d/%E2%82%AC/./x/../y?z=1&b=two%20words&a=%2F~&a=%21&empty=&plus=a+b", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Meta-Spaces", "  lots   of    space  ")
		req.Header.Add("X-Amz-Meta-Multi", "one")
		req.Header.Add("X-Amz-Meta-Multi", "two")
		signHeader(t, req, testCreds(), hashHex(nil), "dms", testClock)
		wantOK(t, srv.do(t, req))
	})
	t.Run("real dms client", func(t *testing.T) {
		v := testVerifier()
		v.Now = nil // the SDK signs with the real clock
		live := newVerifyServer(t, v)
		client := dms.New(dms.Options{
			Region:       testRegion,
			BaseEndpoint: aws.String(live.URL),
			Credentials:  credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
			HTTPClient:   live.Client(),
		})
		if _, err := client.DescribeEndpoints(context.Background(), &dms.DescribeEndpointsInput{}); err != nil {
			t.Fatalf("DescribeEndpoints: %v", err)
		}
		res := wantOK(t, live.lastOutcome())
		if res.Region != testRegion || res.Service != "dms" {
			t.Errorf("Result = %+v", *res)
		}
	})
}

func TestPresignHTTP(t *testing.T) {
	srv := newVerifyServer(t, testVerifier())
	body := []byte(`{"MaxRecords":20}`)

	t.Run("get", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/?Action=DescribeEndpoints&Filter=a%20b", nil)
		withExpires(t, req, 300)
		wantOK(t, srv.do(t, presign(t, req, nil, hashHex(nil), testClock)))
	})
	t.Run("post with body hash and signed headers", func(t *testing.T) {
		req := dmsRequest(t, srv.URL, "/", body)
		withExpires(t, req, 300)
		wantOK(t, srv.do(t, presign(t, req, body, hashHex(body), testClock)))
	})
	t.Run("unsigned payload", func(t *testing.T) {
		req := dmsRequest(t, srv.URL, "/", body)
		withExpires(t, req, 300)
		wantOK(t, srv.do(t, presign(t, req, body, unsignedPayload, testClock)))
	})
	t.Run("session token in query", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		withExpires(t, req, 300)
		creds := testCreds()
		creds.SessionToken = "session/token+value"
		signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, hashHex(nil), "dms", testRegion, testClock)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(signed, "X-Amz-Security-Token=") {
			t.Fatalf("presigned URL has no security token: %s", signed)
		}
		out, _ := http.NewRequest(http.MethodGet, signed, nil)
		wantOK(t, srv.do(t, out))
	})
	t.Run("still valid after max skew", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		withExpires(t, req, 3600)
		wantOK(t, srv.do(t, presign(t, req, nil, hashHex(nil), testClock.Add(-30*time.Minute))))
	})
	t.Run("expired", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		withExpires(t, req, 60)
		o := srv.do(t, presign(t, req, nil, hashHex(nil), testClock.Add(-2*time.Minute)))
		wantErr(t, o, ErrSignatureExpired, CodeInvalidSignature, "Request has expired")
	})
	t.Run("tampered query", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/?Marker=a", nil)
		withExpires(t, req, 300)
		out := presign(t, req, nil, hashHex(nil), testClock)
		out.URL.RawQuery = strings.Replace(out.URL.RawQuery, "Marker=a", "Marker=b", 1)
		wantErr(t, srv.do(t, out), ErrSignatureMismatch, CodeInvalidSignature, "does not match")
	})
	t.Run("tampered body", func(t *testing.T) {
		req := dmsRequest(t, srv.URL, "/", body)
		withExpires(t, req, 300)
		out := presign(t, req, body, hashHex(body), testClock)
		out.Body = io.NopCloser(strings.NewReader(`{"MaxRecords":99}`))
		wantErr(t, srv.do(t, out), ErrSignatureMismatch, CodeInvalidSignature, "does not match")
	})
	t.Run("expires too long", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		withExpires(t, req, 604801)
		o := srv.do(t, presign(t, req, nil, hashHex(nil), testClock))
		wantErr(t, o, ErrIncompleteSignature, CodeIncompleteSignature, "X-Amz-Expires")
	})
	t.Run("missing signature", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		out := presign(t, req, nil, hashHex(nil), testClock)
		q := out.URL.Query()
		q.Del("X-Amz-Signature")
		out.URL.RawQuery = q.Encode()
		o := srv.do(t, out)
		wantErr(t, o, ErrIncompleteSignature, CodeIncompleteSignature, "must include 'X-Amz-Signature'")
	})
}

func TestVerifyRejects(t *testing.T) {
	srv := newVerifyServer(t, testVerifier())
	body := []byte(`{"Marker":"a"}`)
	signed := func(t *testing.T, creds aws.Credentials, service string, at time.Time) *http.Request {
		req := dmsRequest(t, srv.URL, "/", body)
		signHeader(t, req, creds, hashHex(body), service, at)
		return req
	}
	const mismatch = "The request signature we calculated does not match the signature you provided."

	t.Run("tampered body", func(t *testing.T) {
		req := signed(t, testCreds(), "dms", testClock)
		req.Body = io.NopCloser(strings.NewReader(`{"Marker":"b"}`)) // same length
		o := srv.do(t, req)
		wantErr(t, o, ErrSignatureMismatch, CodeInvalidSignature, mismatch)
		var e *Error
		if errors.As(o.err, &e) && !strings.Contains(e.CanonicalRequest, "x-amz-target:"+dmsTarget) {
			t.Errorf("CanonicalRequest = %q", e.CanonicalRequest)
		}
	})
	t.Run("tampered header", func(t *testing.T) {
		req := signed(t, testCreds(), "dms", testClock)
		req.Header.Set("X-Amz-Target", "AmazonDMSv20160101.DeleteEndpoint")
		wantErr(t, srv.do(t, req), ErrSignatureMismatch, CodeInvalidSignature, mismatch)
	})
	t.Run("tampered content sha256", func(t *testing.T) {
		req := dmsRequest(t, srv.URL, "/", body)
		req.Header.Set("X-Amz-Content-Sha256", hashHex(body))
		signHeader(t, req, testCreds(), hashHex(body), "dms", testClock)
		req.Body = io.NopCloser(strings.NewReader(`{"Marker":"b"}`))
		wantErr(t, srv.do(t, req), ErrSignatureMismatch, CodeInvalidSignature, "x-amz-content-sha256")
	})
	t.Run("tampered security token", func(t *testing.T) {
		creds := testCreds()
		creds.SessionToken = "token-one"
		req := signed(t, creds, "dms", testClock)
		req.Header.Set("X-Amz-Security-Token", "token-two")
		wantErr(t, srv.do(t, req), ErrSignatureMismatch, CodeInvalidSignature, mismatch)
	})
	t.Run("wrong secret", func(t *testing.T) {
		creds := testCreds()
		creds.SecretAccessKey = "not-the-secret"
		wantErr(t, srv.do(t, signed(t, creds, "dms", testClock)), ErrSignatureMismatch, CodeInvalidSignature, mismatch)
	})
	t.Run("unknown key", func(t *testing.T) {
		creds := testCreds()
		creds.AccessKeyID = "AKIDUNKNOWN"
		wantErr(t, srv.do(t, signed(t, creds, "dms", testClock)), ErrUnrecognizedClient, CodeUnrecognizedClient,
			"The security token included in the request is invalid.")
	})
	t.Run("expired date", func(t *testing.T) {
		o := srv.do(t, signed(t, testCreds(), "dms", testClock.Add(-16*time.Minute)))
		wantErr(t, o, ErrSignatureExpired, CodeInvalidSignature,
			"Signature expired: 20250304T045007Z is now earlier than 20250304T045107Z (20250304T050607Z - 15 min.)")
	})
	t.Run("date in the future", func(t *testing.T) {
		o := srv.do(t, signed(t, testCreds(), "dms", testClock.Add(16*time.Minute)))
		wantErr(t, o, ErrSignatureExpired, CodeInvalidSignature, "Signature not yet current:")
	})
	t.Run("within skew", func(t *testing.T) {
		wantOK(t, srv.do(t, signed(t, testCreds(), "dms", testClock.Add(-14*time.Minute))))
	})
	t.Run("wrong service", func(t *testing.T) {
		o := srv.do(t, signed(t, testCreds(), "s3", testClock))
		wantErr(t, o, ErrWrongScope, CodeInvalidSignature, "Credential should be scoped to correct service: 'dms'.")
	})
	t.Run("missing auth", func(t *testing.T) {
		req := dmsRequest(t, srv.URL, "/", body)
		wantErr(t, srv.do(t, req), ErrMissingAuthentication, CodeMissingAuthenticationToken,
			"Request is missing Authentication Token")
	})

	malformed := []struct {
		name, authz, msg string
	}{
		{"other algorithm", "AWS4-HMAC-SHA512 Credential=a/20250304/us-west-2/dms/aws4_request, SignedHeaders=host, Signature=00",
			"Unsupported AWS 'algorithm'"},
		{"sigv2", "AWS " + testKeyID + ":c2lnbmF0dXJl", "Unsupported AWS 'algorithm'"},
		{"no params", "AWS4-HMAC-SHA256", "requires 'Credential' parameter"},
		{"no signature", "AWS4-HMAC-SHA256 Credential=" + testKeyID + "/20250304/us-west-2/dms/aws4_request, SignedHeaders=host",
			"requires 'Signature' parameter"},
		{"no equals", "AWS4-HMAC-SHA256 Credential", "not a valid key=value pair"},
		{"short credential", "AWS4-HMAC-SHA256 Credential=" + testKeyID + "/20250304/us-west-2, SignedHeaders=host, Signature=00",
			"exactly 5 slash-delimited elements"},
		{"bad terminator", "AWS4-HMAC-SHA256 Credential=" + testKeyID + "/20250304/us-west-2/dms/aws5_request, SignedHeaders=host, Signature=00",
			"valid terminator"},
		{"bad scope date", "AWS4-HMAC-SHA256 Credential=" + testKeyID + "/2025-03-04/us-west-2/dms/aws4_request, SignedHeaders=host, Signature=00",
			"Invalid credential date"},
		{"host not signed", "AWS4-HMAC-SHA256 Credential=" + testKeyID + "/20250304/us-west-2/dms/aws4_request, SignedHeaders=x-amz-date, Signature=00",
			"'Host' must be a 'SignedHeader'"},
		{"duplicate param", "AWS4-HMAC-SHA256 Credential=a/20250304/us-west-2/dms/aws4_request, Credential=b/20250304/us-west-2/dms/aws4_request, SignedHeaders=host, Signature=00",
			"more than once"},
	}
	for _, tc := range malformed {
		t.Run("malformed "+tc.name, func(t *testing.T) {
			req := dmsRequest(t, srv.URL, "/", body)
			req.Header.Set("X-Amz-Date", testClock.Format(amzDateFormat))
			req.Header.Set("Authorization", tc.authz)
			wantErr(t, srv.do(t, req), ErrIncompleteSignature, CodeIncompleteSignature, tc.msg)
		})
	}
	t.Run("malformed date", func(t *testing.T) {
		req := signed(t, testCreds(), "dms", testClock)
		req.Header.Set("X-Amz-Date", "2025-03-04T05:06:07Z")
		wantErr(t, srv.do(t, req), ErrIncompleteSignature, CodeIncompleteSignature, "ISO-8601")
	})
	t.Run("scope date differs from request date", func(t *testing.T) {
		req := signed(t, testCreds(), "dms", testClock)
		req.Header.Set("X-Amz-Date", testClock.Add(-24*time.Hour).Format(amzDateFormat))
		wantErr(t, srv.do(t, req), ErrWrongScope, CodeInvalidSignature, "Date in Credential scope does not match")
	})
	t.Run("header and presign together", func(t *testing.T) {
		req := signed(t, testCreds(), "dms", testClock)
		req.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
		wantErr(t, srv.do(t, req), ErrIncompleteSignature, CodeIncompleteSignature, "Only one auth mechanism")
	})
}

// TestAWSCLI signs with the real aws CLI (botocore) and checks the CLI accepts the answers.
func TestAWSCLI(t *testing.T) {
	bin, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("aws CLI not on PATH (CI=true): %v", err)
		}
		t.Skip("aws CLI not on PATH")
	}
	srv := newVerifyServer(t, &Verifier{Keys: StaticKeys{testKeyID: testSecret}, Service: "dms"})

	run := func(t *testing.T, keyID, secret string) (string, string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "dms", "describe-endpoints",
			"--endpoint-url", srv.URL, "--region", testRegion, "--output", "json")
		env := []string{}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "AWS_") {
				env = append(env, kv)
			}
		}
		cmd.Env = append(env,
			"AWS_ACCESS_KEY_ID="+keyID,
			"AWS_SECRET_ACCESS_KEY="+secret,
			"AWS_CONFIG_FILE=/dev/null",
			"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
			"AWS_EC2_METADATA_DISABLED=true",
			"AWS_MAX_ATTEMPTS=1",
			"AWS_PAGER=",
		)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}

	t.Run("accepted", func(t *testing.T) {
		stdout, stderr, err := run(t, testKeyID, testSecret)
		last := srv.lastOutcome()
		if err != nil {
			t.Fatalf("aws: %v\nstderr: %s\nverify: %v", err, stderr, last.err)
		}
		res := wantOK(t, last)
		if res.Region != testRegion || res.Service != "dms" || res.AccessKeyID != testKeyID {
			t.Errorf("Result = %+v", *res)
		}
		if got := last.header.Get("X-Amz-Target"); got != dmsTarget {
			t.Errorf("X-Amz-Target = %q, want %q", got, dmsTarget)
		}
		var out struct{ Endpoints []any }
		if err := json.Unmarshal([]byte(stdout), &out); err != nil || out.Endpoints == nil {
			t.Errorf("stdout = %q (%v), want {\"Endpoints\": []}", stdout, err)
		}
	})
	for _, tc := range []struct{ name, keyID, secret, code string }{
		{"wrong secret", testKeyID, "not-the-secret", CodeInvalidSignature},
		{"unknown key", "AKIDUNKNOWN", testSecret, CodeUnrecognizedClient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, err := run(t, tc.keyID, tc.secret)
			if err == nil {
				t.Fatal("aws succeeded, want an error")
			}
			if !strings.Contains(stderr, "("+tc.code+")") {
				t.Errorf("stderr = %q, want it to name %s", stderr, tc.code)
			}
		})
	}
}

// TestKnownVector checks the canonicalisation against the get-vanilla example of the AWS
// SigV4 test suite, independently of any SDK.
func TestKnownVector(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "http://example.amazonaws.com/", nil)
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "+
		"SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	v := &Verifier{
		Keys:    StaticKeys{"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
		Service: "service",
		Now:     func() time.Time { return time.Date(2015, 8, 30, 12, 40, 0, 0, time.UTC) },
	}
	res, err := v.Verify(r, nil)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.Region != "us-east-1" {
		t.Errorf("Region = %q", res.Region)
	}
}

func TestHostCandidates(t *testing.T) {
	for _, tc := range []struct {
		host string
		tls  bool
		want []string
	}{
		{"127.0.0.1:8080", false, []string{"127.0.0.1:8080"}},
		{"example.com:80", false, []string{"example.com:80", "example.com"}},
		{"example.com:443", false, []string{"example.com:443"}},
		{"example.com:443", true, []string{"example.com:443", "example.com"}},
		{"[::1]:80", false, []string{"[::1]:80", "[::1]"}},
		{"example.com", false, []string{"example.com"}},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Host = tc.host
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		got := hostCandidates(r)
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("hostCandidates(%q, tls=%v) = %q, want %q", tc.host, tc.tls, got, tc.want)
		}
	}
}

func TestCanonicalPieces(t *testing.T) {
	for in, want := range map[string]string{
		"/":             "/",
		"//a//b/":       "/a/b/",
		"/a/./b/../c":   "/a/c",
		"/../..":        "/",
		"/a/b/..":       "/a",
		"/a%20b/./c%2F": "/a%20b/c%2F",
	} {
		if got := normalizePath(in); got != want {
			t.Errorf("normalizePath(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"  a   b  ":  "a b",
		"a\t\tb":     "a b",
		"plain":      "plain",
		"":           "",
		" x , y  z ": "x , y z",
	} {
		if got := trimHeaderValue(in); got != want {
			t.Errorf("trimHeaderValue(%q) = %q, want %q", in, got, want)
		}
	}
	pairs, err := parseQuery("b=2&a=z&a=y&c&d=%2F+x~")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := canonicalQuery(pairs, ""), "a=y&a=z&b=2&c=&d=%2F%20x~"; got != want {
		t.Errorf("canonicalQuery = %q, want %q", got, want)
	}
	if _, err := parseQuery("a=%zz"); !errors.Is(err, ErrIncompleteSignature) {
		t.Errorf("parseQuery(bad escape) error = %v", err)
	}
	if got, want := uriEncode("/a b/€", true), "/a%20b/%E2%82%AC"; got != want {
		t.Errorf("uriEncode = %q, want %q", got, want)
	}
}

func TestStaticKeys(t *testing.T) {
	k := StaticKeys{"a": "s"}
	if c, ok := k.Lookup("a"); !ok || c != (Credentials{AccessKeyID: "a", SecretAccessKey: "s"}) {
		t.Errorf("Lookup(a) = %+v, %v", c, ok)
	}
	if _, ok := k.Lookup("b"); ok {
		t.Error("Lookup(b) found a key")
	}
	nilKeys := &Verifier{Service: "dms"}
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("X-Amz-Date", time.Now().UTC().Format(amzDateFormat))
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=a/"+time.Now().UTC().Format(scopeDateFormat)+
		"/us-west-2/dms/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	if _, err := nilKeys.Verify(r, nil); !errors.Is(err, ErrUnrecognizedClient) {
		t.Errorf("Verify with nil Keys = %v, want ErrUnrecognizedClient", err)
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " +
		"SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20250304/us-west-2/dms/aws4_request,SignedHeaders=content-type;host;x-amz-date;x-amz-target,Signature=00")
	f.Add("AWS4-HMAC-SHA256 Credential=a//b/c/, SignedHeaders=;;, Signature==")
	f.Add("AWS4-HMAC-SHA256 ,,,=,Credential")
	f.Add("AWS AKID:sig")
	f.Add("")
	f.Fuzz(func(t *testing.T, header string) {
		p, err := parseAuthorization(header)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrIncompleteSignature) || e.Code != CodeIncompleteSignature {
				t.Fatalf("error %v is not an IncompleteSignature *Error", err)
			}
		} else {
			if p.Credential == "" || p.SignedHeaders == "" || p.Signature == "" {
				t.Fatalf("accepted %q with an empty parameter: %+v", header, p)
			}
			again, err := parseAuthorization(algorithm + " Credential=" + p.Credential +
				", SignedHeaders=" + p.SignedHeaders + ", Signature=" + p.Signature)
			if err != nil || again != p {
				t.Fatalf("round trip of %+v = %+v, %v", p, again, err)
			}
			_, _ = parseCredential(p.Credential)
			_, _ = parseSignedHeaders(p.SignedHeaders)
		}
		// The whole verifier must not panic on it either.
		r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:9999/", nil)
		r.Header.Set("Authorization", header)
		r.Header.Set("X-Amz-Date", "20250304T050607Z")
		if _, err := testVerifier().Verify(r, nil); err == nil {
			t.Fatalf("Verify accepted fuzzed header %q", header)
		}
	})
}
