package sigv4

import (
	"fmt"
	"strings"
	"time"
)

const (
	algorithm       = "AWS4-HMAC-SHA256"
	scopeTerminator = "aws4_request"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	amzDateFormat   = "20060102T150405Z"
	scopeDateFormat = "20060102"
	// maxPresignExpires is the longest X-Amz-Expires AWS accepts: one week.
	maxPresignExpires = 7 * 24 * time.Hour
	// maxEcho bounds how much of a client-supplied value an error message repeats.
	maxEcho = 64
)

// Presign query parameter names (case-sensitive, as AWS treats them).
const (
	qAlgorithm     = "X-Amz-Algorithm"
	qCredential    = "X-Amz-Credential"
	qDate          = "X-Amz-Date"
	qSignedHeaders = "X-Amz-SignedHeaders"
	qSignature     = "X-Amz-Signature"
	qExpires       = "X-Amz-Expires"
)

// authParams are the three parameters of an AWS4-HMAC-SHA256 Authorization header.
type authParams struct {
	Credential    string
	SignedHeaders string
	Signature     string
}

// credentialScope is a parsed X-Amz-Credential / Credential= value.
type credentialScope struct {
	AccessKeyID, Date, Region, Service string
}

// String is the scope as it appears in the string to sign: date/region/service/aws4_request.
func (s credentialScope) String() string {
	return s.Date + "/" + s.Region + "/" + s.Service + "/" + scopeTerminator
}

// parseAuthorization splits an Authorization header value into its parameters. It checks
// syntax only: the algorithm, key=value pairs, and that each required parameter is present
// once and non-empty.
func parseAuthorization(header string) (authParams, error) {
	header = strings.TrimSpace(header)
	alg, rest, _ := strings.Cut(header, " ")
	if alg != algorithm {
		return authParams{}, errIncomplete(fmt.Sprintf("Unsupported AWS 'algorithm': '%s'. Only '%s' is supported.",
			echo(alg), algorithm))
	}
	var p authParams
	seen := map[string]bool{}
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			return authParams{}, errIncomplete(fmt.Sprintf(
				"'%s' not a valid key=value pair (missing equal-sign) in Authorization header.", echo(part)))
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		var dst *string
		switch key {
		case "Credential":
			dst = &p.Credential
		case "SignedHeaders":
			dst = &p.SignedHeaders
		case "Signature":
			dst = &p.Signature
		default:
			// Unknown parameters are not signed and change nothing; ignore them as AWS does.
			continue
		}
		if seen[key] {
			return authParams{}, errIncomplete(fmt.Sprintf("Authorization header has parameter '%s' more than once.", key))
		}
		seen[key] = true
		*dst = val
	}
	var missing []string
	for _, req := range []struct{ name, val string }{
		{"Credential", p.Credential}, {"Signature", p.Signature}, {"SignedHeaders", p.SignedHeaders},
	} {
		if req.val == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", req.name))
		}
	}
	if len(missing) > 0 {
		return authParams{}, errIncomplete(strings.Join(missing, " "))
	}
	return p, nil
}

// parseCredential parses keyid/YYYYMMDD/region/service/aws4_request.
func parseCredential(cred string) (credentialScope, error) {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return credentialScope{}, errIncomplete(fmt.Sprintf(
			"Credential should have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'.",
			echo(cred)))
	}
	s := credentialScope{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}
	switch {
	case s.AccessKeyID == "":
		return credentialScope{}, errIncomplete("Credential is missing the access key id.")
	case parts[4] != scopeTerminator:
		return credentialScope{}, errIncomplete(fmt.Sprintf(
			"Credential should be scoped with a valid terminator: '%s', not '%s'.", scopeTerminator, echo(parts[4])))
	case s.Region == "":
		return credentialScope{}, errIncomplete("Credential should be scoped to a valid region.")
	case s.Service == "":
		return credentialScope{}, errIncomplete("Credential should be scoped to a valid service.")
	}
	if _, err := time.Parse(scopeDateFormat, s.Date); err != nil || len(s.Date) != len(scopeDateFormat) {
		return credentialScope{}, errIncomplete(fmt.Sprintf(
			"Invalid credential date '%s'. It must be in YYYYMMDD format.", echo(s.Date)))
	}
	return s, nil
}

// parseSignedHeaders splits "content-type;host;x-amz-date" into lower-case names and checks
// that host is among them.
func parseSignedHeaders(list string) ([]string, error) {
	var names []string
	hasHost := false
	for name := range strings.SplitSeq(list, ";") {
		if name == "" {
			return nil, errIncomplete(fmt.Sprintf("SignedHeaders contains an empty header name: '%s'.", echo(list)))
		}
		name = strings.ToLower(name)
		hasHost = hasHost || name == "host"
		names = append(names, name)
	}
	if !hasHost {
		return nil, errIncomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return names, nil
}

// parseAmzDate parses an ISO-8601 basic timestamp such as 20240102T030405Z.
func parseAmzDate(s string) (time.Time, error) {
	t, err := time.Parse(amzDateFormat, s)
	if err != nil || len(s) != len(amzDateFormat) {
		return time.Time{}, errIncomplete(fmt.Sprintf(
			"Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", echo(s)))
	}
	return t, nil
}

// echo shortens a client-supplied value for inclusion in an error message.
func echo(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	return s[:maxEcho] + "..."
}
