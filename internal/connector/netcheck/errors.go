package netcheck

import "errors"

var (
	// ErrNoHost: the endpoint names no server.
	ErrNoHost = errors.New("no server name")
	// ErrNoAddresses: the host name resolved to an empty address list.
	ErrNoAddresses = errors.New("host name resolves to no addresses")
	// ErrUnknownSSLMode: the SslMode is not one DMS defines.
	ErrUnknownSSLMode = errors.New("unknown SslMode")
	// ErrBadCACert: the endpoint's certificate holds no usable PEM certificate.
	ErrBadCACert = errors.New("certificate is not a PEM certificate")
	// ErrServerNoTLS: the server does not offer TLS but the SslMode asks for it.
	ErrServerNoTLS = errors.New("server does not support TLS")
	// ErrTLSRequired: the server (or the account) only accepts TLS connections
	// but the SslMode is none.
	ErrTLSRequired = errors.New("server requires TLS")
	// ErrNoPeerCertificate: the server presented no certificate to verify.
	ErrNoPeerCertificate = errors.New("server presented no certificate")
)
