package awsjson

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/godwit-dms/godwit/internal/api"
)

var opNames = func() []string {
	var out []string
	for n := range api.Dispatch {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}()

// FuzzDecodeAndValidate sends arbitrary bodies to every operation: the
// answer must always be a well-formed fault or success, never a 5xx or a panic.
func FuzzDecodeAndValidate(f *testing.F) {
	seeds := []string{
		`{}`, `{"MaxRecords":"x"}`, `{"Filters":[{"Name":"a","Values":["b"]}]}`, `{"EndpointType":"sideways"}`,
		`{"CdcStartTime":"2018-03-08T12:12:12"}`, `{"CdcStartTime":1594429350.259}`, `{"Tags":[{"Key":null}]}`,
		`[`, `{"a":`, `null`, `{"ReplicationInstanceArn":123}`, `{"S3Settings":{"CompressionType":"GZIP"}}`,
		`{"CertificateWallet":"!!notbase64"}`, "\x00", `{"Filters":[{"Values":[1,2]}]}`,
	}
	for i, s := range seeds {
		f.Add(i, s)
	}
	h := &Handler{Ops: api.Unimplemented{}}
	f.Fuzz(func(t *testing.T, op int, body string) {
		if op < 0 {
			op = -op
		}
		name := opNames[op%len(opNames)]
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", api.TargetPrefix+"."+name)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: HTTP %d %s", name, body, rec.Code, rec.Body.String())
		}
		var fault struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &fault); err != nil {
			t.Fatalf("%s %q: response is not JSON: %s", name, body, rec.Body.String())
		}
		if rec.Code == 400 && (fault.Type == "" || fault.Message == "") {
			t.Fatalf("%s %q: fault without __type or message: %s", name, body, rec.Body.String())
		}
	})
}

func TestEveryOperationIsRouted(t *testing.T) {
	if len(api.Dispatch) != 119 {
		t.Fatalf("%d operations routed, the DMS API has 119", len(api.Dispatch))
	}
	h := &Handler{Ops: api.Unimplemented{}}
	for _, name := range opNames {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`))
		req.Header.Set("X-Amz-Target", api.TargetPrefix+"."+name)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), "Exception") && !strings.Contains(rec.Body.String(), "Fault") {
			t.Fatalf("%s: %d %s", name, rec.Code, rec.Body.String())
		}
	}
}
