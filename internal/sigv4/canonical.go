package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// queryPair is one decoded key=value of a query string, in the order received.
type queryPair struct{ Key, Value string }

// parseQuery decodes a raw query string without reordering or merging anything. '+' decodes
// to a space, as url.ParseQuery and the SDKs' signers treat it.
func parseQuery(raw string) ([]queryPair, error) {
	var pairs []queryPair
	for seg := range strings.SplitSeq(raw, "&") {
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, errIncomplete("The query string is malformed: " + err.Error())
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, errIncomplete("The query string is malformed: " + err.Error())
		}
		pairs = append(pairs, queryPair{key, val})
	}
	return pairs, nil
}

// canonicalQuery encodes each key and value per RFC 3986 and sorts by key, then value.
// skip names one key to leave out (X-Amz-Signature for presigned requests).
func canonicalQuery(pairs []queryPair, skip string) string {
	enc := make([]queryPair, 0, len(pairs))
	for _, p := range pairs {
		if skip != "" && p.Key == skip {
			continue
		}
		enc = append(enc, queryPair{uriEncode(p.Key, false), uriEncode(p.Value, false)})
	}
	slices.SortFunc(enc, func(a, b queryPair) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.Key)
		b.WriteByte('=')
		b.WriteString(p.Value)
	}
	return b.String()
}

// uriEncode percent-encodes every byte outside RFC 3986's unreserved set (A-Z a-z 0-9 - _ . ~)
// with upper-case hex. keepSlash leaves '/' alone, for paths.
func uriEncode(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || (keepSlash && c == '/') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xF])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// canonicalURIs lists the canonical URI forms a legitimate client may have signed for the
// request path, most likely first. Non-S3 signers (aws-sdk-go-v2, botocore) take the path as
// sent on the wire (already percent-encoded once) and encode it again; botocore also removes
// dot segments and empty segments first. S3-style signers (and DisableURIPathEscaping) use the
// path as sent. For an ordinary path such as "/" all forms coincide and there is one candidate.
func canonicalURIs(r *http.Request) []string {
	raw := r.URL.EscapedPath()
	if raw == "" {
		raw = "/"
	}
	norm := normalizePath(raw)
	return dedup(uriEncode(raw, true), uriEncode(norm, true), raw, norm)
}

// normalizePath removes "." and ".." segments (RFC 3986 5.2.4) and empty segments, keeping a
// leading and trailing slash, the way botocore does before signing.
func normalizePath(p string) string {
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	var b strings.Builder
	if strings.HasPrefix(p, "/") {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if strings.HasSuffix(p, "/") && len(out) > 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// hostCandidates lists the host header values a client may have signed: r.Host as received
// (port included), then the same without a default port (80 for http, 443 for https), which
// both SDKs strip before signing.
func hostCandidates(r *http.Request) []string {
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	defPort := "80"
	if r.TLS != nil {
		defPort = "443"
	}
	stripped := host
	if h, port, err := net.SplitHostPort(host); err == nil && port == defPort {
		stripped = h
		if strings.Contains(h, ":") {
			stripped = "[" + h + "]"
		}
	}
	return dedup(host, stripped)
}

// canonicalHeaders builds the canonical header block ("name:value\n" per signed header, in the
// order SignedHeaders lists them) for one candidate host value.
func canonicalHeaders(r *http.Request, names []string, host string) string {
	var b strings.Builder
	for _, name := range names {
		b.WriteString(name)
		b.WriteByte(':')
		if name == "host" {
			b.WriteString(trimHeaderValue(host))
		} else {
			for i, v := range headerValues(r, name) {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(trimHeaderValue(v))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// headerValues returns every value of the named header (name is lower case). Go's server
// canonicalises header keys and moves some headers out of r.Header, so this matches keys
// case-insensitively and falls back to the fields Go keeps them in.
func headerValues(r *http.Request, name string) []string {
	vals := r.Header.Values(name)
	if vals == nil {
		var keys []string
		for k := range r.Header {
			if strings.EqualFold(k, name) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			vals = append(vals, r.Header[k]...)
		}
	}
	if vals != nil {
		return vals
	}
	switch name {
	case "content-length":
		if r.ContentLength >= 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return []string{strings.Join(r.TransferEncoding, ",")}
		}
	}
	return nil
}

// trimHeaderValue trims leading and trailing whitespace and collapses each inner run of
// spaces and tabs to a single space.
func trimHeaderValue(v string) string {
	v = strings.Trim(v, " \t")
	if !strings.Contains(v, "  ") && !strings.ContainsRune(v, '\t') {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	inSpace := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' || c == '\t' {
			if !inSpace {
				b.WriteByte(' ')
			}
			inSpace = true
			continue
		}
		inSpace = false
		b.WriteByte(c)
	}
	return b.String()
}

// canonicalRequest joins the six parts of a SigV4 canonical request.
func canonicalRequest(method, uri, query, headers, signedHeaders, payloadHash string) string {
	return method + "\n" + uri + "\n" + query + "\n" + headers + "\n" + signedHeaders + "\n" + payloadHash
}

// stringToSign is the SigV4 string to sign for a canonical request.
func stringToSign(amzDate string, scope credentialScope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return algorithm + "\n" + amzDate + "\n" + scope.String() + "\n" + hex.EncodeToString(sum[:])
}

// signingKey derives the SigV4 key for a scope.
func signingKey(secret string, scope credentialScope) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), scope.Date)
	k = hmacSHA256(k, scope.Region)
	k = hmacSHA256(k, scope.Service)
	return hmacSHA256(k, scopeTerminator)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// dedup returns the strings in order, without repeats.
func dedup(ss ...string) []string {
	out := ss[:0]
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
