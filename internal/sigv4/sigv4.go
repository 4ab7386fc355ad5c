// Package sigv4 verifies AWS Signature Version 4 on incoming HTTP requests, in both the
// Authorization header form and the presigned query form, the way AWS JSON services do.
package sigv4

import (
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// DefaultMaxSkew is the clock skew allowed when Verifier.MaxSkew is zero, as on AWS.
const DefaultMaxSkew = 15 * time.Minute

// Credentials is one access key pair the server accepts.
type Credentials struct{ AccessKeyID, SecretAccessKey string }

// KeyStore looks up a secret by access key id; ok=false when unknown.
type KeyStore interface {
	Lookup(accessKeyID string) (Credentials, bool)
}

// StaticKeys maps access key id to secret access key.
type StaticKeys map[string]string

// Lookup implements KeyStore.
func (k StaticKeys) Lookup(accessKeyID string) (Credentials, bool) {
	secret, ok := k[accessKeyID]
	if !ok {
		return Credentials{}, false
	}
	return Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secret}, true
}

// Verifier checks SigV4 signatures. The zero MaxSkew means DefaultMaxSkew; a nil Now means
// time.Now. An empty Service accepts a credential scoped to any service.
type Verifier struct {
	Keys    KeyStore
	Service string // "dms"
	MaxSkew time.Duration
	Now     func() time.Time
}

// Result is what a verified request says about itself.
type Result struct {
	AccessKeyID, Region, Service string
	SignedAt                     time.Time
}

// Verify checks the request's signature. body is the full request body, already read; the
// caller restores r.Body. Every error is an *Error wrapping one of the package sentinels.
func (v *Verifier) Verify(r *http.Request, body []byte) (*Result, error) {
	c, err := parseClaim(r)
	if err != nil {
		return nil, err
	}
	if v.Service != "" && c.scope.Service != v.Service {
		return nil, errScope(fmt.Sprintf("Credential should be scoped to correct service: '%s'.", v.Service))
	}
	if day := c.amzDate[:len(scopeDateFormat)]; c.scope.Date != day {
		return nil, errScope(fmt.Sprintf(
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			c.scope.Date, day, c.amzDate))
	}
	var creds Credentials
	ok := false
	if v.Keys != nil {
		creds, ok = v.Keys.Lookup(c.scope.AccessKeyID)
	}
	if !ok {
		return nil, errUnrecognized()
	}
	if err := v.checkTime(c); err != nil {
		return nil, err
	}
	payloads, err := payloadHashes(r, body, c.presigned)
	if err != nil {
		return nil, err
	}
	if err := matchSignature(r, c, creds.SecretAccessKey, payloads); err != nil {
		return nil, err
	}
	return &Result{
		AccessKeyID: c.scope.AccessKeyID,
		Region:      c.scope.Region,
		Service:     c.scope.Service,
		SignedAt:    c.signedAt,
	}, nil
}

// matchSignature computes the signature for every canonical form a legitimate client may
// have used (normally exactly one) and accepts the request if any equals the one provided.
func matchSignature(r *http.Request, c *claim, secret string, payloads []string) error {
	key := signingKey(secret, c.scope)
	skip := ""
	if c.presigned {
		skip = qSignature
	}
	query := canonicalQuery(c.query, skip)
	want := []byte(strings.ToLower(c.signature))
	var firstCanonical, firstSTS string
	for _, uri := range canonicalURIs(r) {
		for _, host := range hostCandidates(r) {
			headers := canonicalHeaders(r, c.headerNames, host)
			for _, payload := range payloads {
				creq := canonicalRequest(r.Method, uri, query, headers, c.signedHeaders, payload)
				sts := stringToSign(c.amzDate, c.scope, creq)
				got := hex.EncodeToString(hmacSHA256(key, sts))
				if hmac.Equal([]byte(got), want) {
					return nil
				}
				if firstCanonical == "" {
					firstCanonical, firstSTS = creq, sts
				}
			}
		}
	}
	e := errMismatch(msgSignatureMismatch)
	e.CanonicalRequest, e.StringToSign = firstCanonical, firstSTS
	return e
}

// checkTime enforces MaxSkew around the signing time, or X-Amz-Expires for presigned URLs.
func (v *Verifier) checkTime(c *claim) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now().UTC()
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	if latest := t.Add(skew); c.signedAt.After(latest) {
		return errExpired(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)",
			c.amzDate, latest.Format(amzDateFormat), t.Format(amzDateFormat), skewText(skew)))
	}
	if c.hasExpires {
		if t.After(c.signedAt.Add(c.expires)) {
			return errExpired(msgRequestExpired)
		}
		return nil
	}
	if earliest := t.Add(-skew); c.signedAt.Before(earliest) {
		return errExpired(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
			c.amzDate, earliest.Format(amzDateFormat), t.Format(amzDateFormat), skewText(skew)))
	}
	return nil
}

func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return d.String()
}

// payloadHashes lists the payload hashes the client may have signed. X-Amz-Content-Sha256,
// when sent, is what the client signed: UNSIGNED-PAYLOAD, or a hash that must match the
// body. Without it the body's hash is signed; presigned URLs may also use UNSIGNED-PAYLOAD.
func payloadHashes(r *http.Request, body []byte, presigned bool) ([]string, error) {
	bodyHash := sha256Hex(body)
	var declared string
	if vals := headerValues(r, "x-amz-content-sha256"); len(vals) > 0 {
		declared = strings.TrimSpace(vals[0])
	}
	switch {
	case declared == unsignedPayload:
		return []string{declared}, nil
	case declared != "":
		if !isSHA256Hex(declared) {
			return nil, errIncomplete(fmt.Sprintf(
				"Unsupported x-amz-content-sha256 value '%s': send the hex SHA-256 of the body or %s.",
				echo(declared), unsignedPayload))
		}
		if !strings.EqualFold(declared, bodyHash) {
			return nil, errMismatch("The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
		return []string{declared}, nil
	case presigned:
		return []string{bodyHash, unsignedPayload}, nil
	default:
		return []string{bodyHash}, nil
	}
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
