package sigv4

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// claim is what a request says about its own signature, before anything is checked
// against a key.
type claim struct {
	presigned     bool
	scope         credentialScope
	signedHeaders string   // as sent; goes into the canonical request verbatim
	headerNames   []string // the same, split and lower-cased
	signature     string
	amzDate       string // ISO-8601 basic, as used in the string to sign
	signedAt      time.Time
	hasExpires    bool
	expires       time.Duration
	query         []queryPair
}

// parseClaim finds the authentication mechanism the request uses and parses it.
func parseClaim(r *http.Request) (*claim, error) {
	authz := r.Header.Values("Authorization")
	hasHeader := strings.TrimSpace(strings.Join(authz, "")) != ""
	query, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		if !hasHeader && !strings.Contains(r.URL.RawQuery, "X-Amz-") {
			return nil, errMissing()
		}
		return nil, err
	}
	hasPresign := false
	for _, p := range query {
		if p.Key == qAlgorithm || p.Key == qCredential || p.Key == qSignature {
			hasPresign = true
			break
		}
	}
	switch {
	case hasHeader && hasPresign:
		return nil, errIncomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter " +
			"or the Authorization header should be specified.")
	case hasHeader:
		if len(authz) > 1 {
			return nil, errIncomplete("Request has more than one Authorization header.")
		}
		return headerClaim(r, authz[0], query)
	case hasPresign:
		return presignClaim(query)
	default:
		return nil, errMissing()
	}
}

// headerClaim parses the Authorization header form.
func headerClaim(r *http.Request, authz string, query []queryPair) (*claim, error) {
	p, err := parseAuthorization(authz)
	if err != nil {
		return nil, err
	}
	c := &claim{query: query, signedHeaders: p.SignedHeaders, signature: p.Signature}
	if c.scope, err = parseCredential(p.Credential); err != nil {
		return nil, err
	}
	if c.headerNames, err = parseSignedHeaders(p.SignedHeaders); err != nil {
		return nil, err
	}
	if dates := headerValues(r, "x-amz-date"); len(dates) > 0 {
		c.amzDate = strings.TrimSpace(dates[0])
		if c.signedAt, err = parseAmzDate(c.amzDate); err != nil {
			return nil, err
		}
		return c, nil
	}
	if date := r.Header.Get("Date"); date != "" {
		t, err := http.ParseTime(date)
		if err != nil {
			return nil, errIncomplete(fmt.Sprintf("Date header '%s' is not an HTTP date.", echo(date)))
		}
		c.signedAt = t.UTC()
		c.amzDate = c.signedAt.Format(amzDateFormat)
		return c, nil
	}
	return nil, errIncomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
}

// presignClaim parses the presigned query form.
func presignClaim(query []queryPair) (*claim, error) {
	vals := map[string]string{}
	counts := map[string]int{}
	for _, p := range query {
		switch p.Key {
		case qAlgorithm, qCredential, qDate, qSignedHeaders, qSignature, qExpires:
			vals[p.Key] = p.Value
			counts[p.Key]++
		}
	}
	var missing []string
	for _, k := range []string{qAlgorithm, qCredential, qDate, qSignedHeaders, qSignature} {
		if counts[k] > 1 {
			return nil, errIncomplete(fmt.Sprintf("AWS query-string parameter '%s' appears more than once.", k))
		}
		if vals[k] == "" {
			missing = append(missing, fmt.Sprintf("AWS query-string parameters must include '%s'.", k))
		}
	}
	if len(missing) > 0 {
		return nil, errIncomplete(strings.Join(missing, " ") + " Re-examine the query-string parameters.")
	}
	if alg := vals[qAlgorithm]; alg != algorithm {
		return nil, errIncomplete(fmt.Sprintf("Unsupported AWS 'algorithm': '%s'. Only '%s' is supported.",
			echo(alg), algorithm))
	}
	c := &claim{
		presigned:     true,
		query:         query,
		signedHeaders: vals[qSignedHeaders],
		signature:     vals[qSignature],
		amzDate:       vals[qDate],
	}
	var err error
	if c.scope, err = parseCredential(vals[qCredential]); err != nil {
		return nil, err
	}
	if c.headerNames, err = parseSignedHeaders(c.signedHeaders); err != nil {
		return nil, err
	}
	if c.signedAt, err = parseAmzDate(c.amzDate); err != nil {
		return nil, err
	}
	if counts[qExpires] > 1 {
		return nil, errIncomplete(fmt.Sprintf("AWS query-string parameter '%s' appears more than once.", qExpires))
	}
	if counts[qExpires] == 1 {
		secs, err := strconv.ParseInt(vals[qExpires], 10, 64)
		switch {
		case err != nil:
			return nil, errIncomplete(fmt.Sprintf("X-Amz-Expires should be a number, got '%s'.", echo(vals[qExpires])))
		case secs < 0:
			return nil, errIncomplete("X-Amz-Expires must be non-negative.")
		case secs > int64(maxPresignExpires/time.Second):
			return nil, errIncomplete("X-Amz-Expires must be less than a week (in seconds) that is 604800.")
		}
		c.hasExpires = true
		c.expires = time.Duration(secs) * time.Second
	}
	return c, nil
}
