package netcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/godwit-dms/godwit/internal/connector"
)

// SSLMode is the DMS SslMode of an endpoint.
type SSLMode string

const (
	// SSLNone: plain TCP.
	SSLNone SSLMode = "none"
	// SSLRequire: TLS, without verifying the server certificate.
	SSLRequire SSLMode = "require"
	// SSLVerifyCA: TLS, verifying the certificate chain against the endpoint's CA.
	SSLVerifyCA SSLMode = "verify-ca"
	// SSLVerifyFull: as verify-ca, and the certificate must name the host.
	SSLVerifyFull SSLMode = "verify-full"
)

// ParseSSLMode reads a DMS SslMode; empty means none. The error is a
// *connector.CheckError with StageConfig.
func ParseSSLMode(s string) (SSLMode, error) {
	switch m := SSLMode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return SSLNone, nil
	case SSLNone, SSLRequire, SSLVerifyCA, SSLVerifyFull:
		return m, nil
	}
	return "", &connector.CheckError{
		Stage:   connector.StageConfig,
		Message: fmt.Sprintf("SslMode %q is not valid: use none, require, verify-ca or verify-full", s),
		Err:     ErrUnknownSSLMode,
	}
}

// Verifies says whether the mode checks the server certificate.
func (m SSLMode) Verifies() bool { return m == SSLVerifyCA || m == SSLVerifyFull }

// TLSConfig builds the client TLS configuration for mode: nil for none; for
// require, TLS without verification; for verify-ca, the chain is verified
// against caPEM (the system roots when caPEM is empty) but not the host
// name; for verify-full, the host name too. serverName is the host the
// endpoint names. A bad caPEM is a StageConfig *connector.CheckError.
func TLSConfig(mode SSLMode, caPEM []byte, serverName string) (*tls.Config, error) {
	if mode == SSLNone || mode == "" {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: serverName}
	if mode == SSLRequire {
		cfg.InsecureSkipVerify = true
		return cfg, nil
	}
	var roots *x509.CertPool // nil: the system roots
	if len(caPEM) > 0 {
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(caPEM) {
			return nil, &connector.CheckError{
				Stage:   connector.StageConfig,
				Message: "the endpoint's certificate (CertificateArn) holds no PEM certificate: import the CA certificate in PEM form with ImportCertificate",
				Err:     ErrBadCACert,
			}
		}
	}
	// crypto/tls verifies the host name before the chain and cannot skip
	// only the name; verify here, chain first (an untrusted certificate is
	// the more basic problem), then the name for verify-full.
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return ErrNoPeerCertificate
		}
		opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		leaf := cs.PeerCertificates[0]
		if _, err := leaf.Verify(opts); err != nil {
			return err
		}
		if mode == SSLVerifyFull {
			return leaf.VerifyHostname(serverName)
		}
		return nil
	}
	return cfg, nil
}

// NoServerTLSError says the server at addr does not offer TLS although mode
// asks for it.
func NoServerTLSError(addr string, mode SSLMode) *connector.CheckError {
	return &connector.CheckError{
		Stage: connector.StageTLS,
		Message: fmt.Sprintf("the server at %s does not support TLS, but the endpoint's SslMode is %s: enable TLS on the server, or set SslMode to none",
			addr, mode),
		Err: ErrServerNoTLS,
	}
}

// TLSRequiredError says the server at addr only accepts TLS connections for
// who (e.g. `user "app" on database "sales"`) while the SslMode is none.
func TLSRequiredError(addr, who string, cause error) *connector.CheckError {
	return &connector.CheckError{
		Stage: connector.StageTLS,
		Message: fmt.Sprintf("the server at %s requires TLS for %s, but the endpoint's SslMode is none: set SslMode to require, verify-ca or verify-full",
			addr, who),
		Err: errors.Join(ErrTLSRequired, cause),
	}
}

// TLSError classifies a failed TLS handshake with the server at addr.
// haveCA says whether the endpoint carries a CA certificate.
func TLSError(ctx context.Context, err error, addr string, mode SSLMode, haveCA bool) *connector.CheckError {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		record    tls.RecordHeaderError
		alert     tls.AlertError
		ne        net.Error
		msg       string
	)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		msg = fmt.Sprintf("the TLS handshake with %s was canceled", addr)
	case errors.As(err, &unknownCA):
		if haveCA {
			msg = fmt.Sprintf("the certificate of the server at %s is not trusted: it was not issued by the CA certificate of the endpoint. "+
				"Import the CA that signed the server certificate with ImportCertificate and set it as the endpoint's CertificateArn "+
				"(or set SslMode to require to encrypt without verifying)", addr)
		} else {
			msg = fmt.Sprintf("the certificate of the server at %s is not trusted: it is not signed by a CA this server trusts, and the endpoint has no certificate. "+
				"Import the server's CA certificate with ImportCertificate and set it as the endpoint's CertificateArn "+
				"(or set SslMode to require to encrypt without verifying)", addr)
		}
	case errors.As(err, &hostname):
		msg = fmt.Sprintf("the certificate of the server at %s does not match the host name %q (it is valid for %s): "+
			"set the endpoint's ServerName to a name the certificate lists, or use SslMode verify-ca to verify the CA only",
			addr, hostname.Host, certNames(hostname.Certificate))
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			msg = fmt.Sprintf("the certificate of the server at %s has expired or is not yet valid: renew the server certificate, or check this server's clock", addr)
		} else {
			msg = fmt.Sprintf("the certificate of the server at %s is not valid: %v", addr, invalid)
		}
	case errors.Is(err, ErrNoPeerCertificate):
		msg = fmt.Sprintf("the server at %s presented no certificate, so SslMode %s cannot verify it", addr, mode)
	case errors.As(err, &record):
		msg = fmt.Sprintf("the server at %s did not answer the TLS handshake with TLS: check the port, and that the server has TLS enabled", addr)
	case errors.As(err, &alert):
		msg = fmt.Sprintf("the server at %s rejected the TLS handshake (%v): check the server's TLS versions and ciphers", addr, err)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		msg = fmt.Sprintf("the TLS handshake with %s timed out", addr)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
		msg = fmt.Sprintf("the server at %s closed the connection during the TLS handshake: check that it accepts TLS on this port", addr)
	default:
		msg = fmt.Sprintf("the TLS handshake with %s failed: %v", addr, err)
	}
	return &connector.CheckError{Stage: connector.StageTLS, Message: msg, Err: err}
}

// certNames lists the names a certificate is valid for.
func certNames(c *x509.Certificate) string {
	if c == nil {
		return "no names"
	}
	var names []string
	names = append(names, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		if c.Subject.CommonName != "" {
			return fmt.Sprintf("no subject alternative names; common name %q", c.Subject.CommonName)
		}
		return "no names"
	}
	return strings.Join(names, ", ")
}

// Handshake runs the client side of a TLS handshake over conn, bounded by
// ctx, and classifies a failure with TLSError. On failure conn is closed.
func Handshake(ctx context.Context, conn net.Conn, cfg *tls.Config, addr string, mode SSLMode, haveCA bool) (*tls.Conn, error) {
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, TLSError(ctx, err, addr, mode, haveCA)
	}
	return tc, nil
}

// IsTLSError says whether err came out of a TLS handshake: certificate
// verification, a non-TLS answer, or an alert from the server.
func IsTLSError(err error) bool {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		record    tls.RecordHeaderError
		alert     tls.AlertError
	)
	return errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &record) || errors.As(err, &alert) ||
		errors.Is(err, ErrNoPeerCertificate)
}
