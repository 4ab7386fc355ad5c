// Package awsjson is the AWS JSON 1.1 wire protocol: routing by X-Amz-Target,
// request decoding, response encoding, the fault envelope and the SigV4
// check. It knows nothing about DMS resources; it calls api.Operations.
package awsjson

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/api"
	"github.com/godwit-dms/godwit/internal/sigv4"
)

// ContentType of requests and responses.
const ContentType = "application/x-amz-json-1.1"

// DefaultMaxBodyBytes bounds a request body.
const DefaultMaxBodyBytes = 4 << 20

// Handler serves the DMS API over AWS JSON 1.1.
type Handler struct {
	Ops api.Operations
	// Verifier checks SigV4 signatures; nil disables authentication.
	Verifier     *sigv4.Verifier
	Logger       *slog.Logger
	MaxBodyBytes int64
	// ToFault maps an operation's error to the fault the client sees; nil
	// (or a nil result) means an internal failure.
	ToFault func(error) *api.Fault
	// Authorize, when set, may refuse an operation to the caller.
	Authorize func(ctx context.Context, op string) *api.Fault
}

type ctxKey struct{}

// Request describes the API call being served; it travels in the context.
type Request struct {
	ID          string
	Operation   string
	AccessKeyID string // empty when authentication is off
}

// RequestFrom returns the request the context belongs to, if any.
func RequestFrom(ctx context.Context) (*Request, bool) {
	r, ok := ctx.Value(ctxKey{}).(*Request)
	return r, ok
}

// WithRequest returns ctx carrying req (for tests and internal callers).
func WithRequest(ctx context.Context, req *Request) context.Context {
	return context.WithValue(ctx, ctxKey{}, req)
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req := &Request{ID: newRequestID()}
	w.Header().Set("x-amzn-RequestId", req.ID)
	status, code := http.StatusOK, ""
	defer func() {
		if p := recover(); p != nil {
			h.logger().Error("panic serving request", "request_id", req.ID, "operation", req.Operation,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			status, code = writeFault(w, api.NewFault(api.CodeInternalFailure, "An internal error occurred (request %s).", req.ID))
		}
		lvl := slog.LevelInfo
		if status >= 500 {
			lvl = slog.LevelError
		}
		h.logger().Log(r.Context(), lvl, "api request", "request_id", req.ID, "operation", req.Operation,
			"status", status, "error_code", code, "duration_ms", time.Since(start).Milliseconds())
	}()

	if r.Method == http.MethodGet && r.URL.Path == "/healthz" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
		return
	}
	status, code = h.serve(w, r, req)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, req *Request) (int, string) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return writeFaultStatus(w, http.StatusNotFound, api.NewFault(api.CodeUnknownOperation,
			"Godwit serves the DMS API at POST / (got %s %s).", r.Method, r.URL.Path))
	}
	limit := h.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return writeFaultStatus(w, http.StatusRequestEntityTooLarge, api.NewFault("RequestEntityTooLargeException",
				"The request body is larger than the %d bytes this server accepts.", limit))
		}
		return writeFault(w, api.NewFault(api.CodeSerialization, "Could not read the request body: %v", err))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	if h.Verifier != nil {
		res, err := h.Verifier.Verify(r, body)
		if err != nil {
			var se *sigv4.Error
			if errors.As(err, &se) {
				h.logger().Debug("signature rejected", "request_id", req.ID, "code", se.Code, "err", err)
				return writeFaultStatus(w, se.HTTPStatus(), &api.Fault{Code: se.Code, Message: se.Message})
			}
			return writeFaultStatus(w, http.StatusForbidden, api.NewFault("InvalidSignatureException", "The request signature could not be verified."))
		}
		req.AccessKeyID = res.AccessKeyID
	}

	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, api.TargetPrefix+".")
	if !ok || op == "" {
		return writeFault(w, api.NewFault(api.CodeUnknownOperation,
			"The X-Amz-Target header %q does not name a DMS operation (expected %s.<Operation>).", target, api.TargetPrefix))
	}
	handler, ok := api.Dispatch[op]
	if !ok {
		return writeFault(w, api.NewFault(api.CodeUnknownOperation, "%s is not an operation of the DMS API 2016-01-01.", op))
	}
	req.Operation = op

	ctx := WithRequest(r.Context(), req)
	if h.Authorize != nil {
		if f := h.Authorize(ctx, op); f != nil {
			return writeFault(w, f)
		}
	}
	out, err := handler(ctx, h.Ops, func(v any) error { return decode(body, v) })
	if err != nil {
		var f *api.Fault
		if h.ToFault != nil {
			f = h.ToFault(err)
		} else {
			errors.As(err, &f)
		}
		if f != nil {
			return writeFault(w, f)
		}
		h.logger().Error("operation failed", "request_id", req.ID, "operation", op, "err", err)
		return writeFaultStatus(w, http.StatusInternalServerError,
			api.NewFault(api.CodeInternalFailure, "An internal error occurred (request %s).", req.ID))
	}
	buf, err := json.Marshal(out)
	if err != nil {
		h.logger().Error("encode response", "request_id", req.ID, "operation", op, "err", err)
		return writeFaultStatus(w, http.StatusInternalServerError,
			api.NewFault(api.CodeInternalFailure, "An internal error occurred (request %s).", req.ID))
	}
	// A Content-Length, as AWS sends: clients that stop reading at the end
	// of the JSON value (the Go SDK) must not find a chunk terminator still
	// on the way.
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(buf)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf)
	return http.StatusOK, ""
}

func writeFault(w http.ResponseWriter, f *api.Fault) (int, string) {
	return writeFaultStatus(w, http.StatusBadRequest, f)
}

type faultBody struct {
	Type        string `json:"__type"`
	Message     string `json:"message"`
	ResourceArn string `json:"resourceArn,omitempty"`
}

func writeFaultStatus(w http.ResponseWriter, status int, f *api.Fault) (int, string) {
	buf, _ := json.Marshal(faultBody{Type: f.Code, Message: f.Message, ResourceArn: f.ResourceArn})
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(buf)))
	w.WriteHeader(status)
	_, _ = w.Write(buf)
	return status, f.Code
}
