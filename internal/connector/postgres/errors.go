package postgres

import "errors"

var (
	// ErrInvalidConfig: the endpoint's settings are missing or invalid.
	ErrInvalidConfig = errors.New("invalid PostgreSQL endpoint configuration")
	// ErrClosed: the connector was closed.
	ErrClosed = errors.New("postgres connector closed")
	// ErrMissingPrivileges: the user lacks privileges the endpoint's role needs.
	ErrMissingPrivileges = errors.New("missing privileges")
	// ErrUnexpectedSSLResponse: the server answered the TLS request with
	// something other than yes or no.
	ErrUnexpectedSSLResponse = errors.New("unexpected answer to the TLS request")
)

// SQLSTATE codes the connector tells apart.
const (
	sqlstateInvalidAuthorization = "28000" // invalid_authorization_specification (pg_hba, NOLOGIN)
	sqlstateInvalidPassword      = "28P01" // invalid_password
	sqlstateInvalidCatalogName   = "3D000" // database does not exist
	sqlstateInsufficientPriv     = "42501" // insufficient_privilege (CONNECT)
	sqlstateTooManyConnections   = "53300"
	sqlstateCannotConnectNow     = "57P03" // starting up, shutting down, recovery
	sqlstateAdminShutdown        = "57P01"
	sqlstateQueryCanceled        = "57014"
	sqlstateUndefinedObject      = "42704"
)
