package mysql

import "errors"

var (
	// ErrInvalidConfig: the endpoint's settings are missing or invalid.
	ErrInvalidConfig = errors.New("invalid MySQL endpoint configuration")
	// ErrClosed: the connector was closed.
	ErrClosed = errors.New("mysql connector closed")
	// ErrMissingPrivileges: the user lacks privileges the endpoint's role needs.
	ErrMissingPrivileges = errors.New("missing privileges")
)

// MySQL / MariaDB error numbers the connector tells apart.
const (
	erDBAccessDenied          = 1044 // ER_DBACCESS_DENIED_ERROR
	erAccessDenied            = 1045 // ER_ACCESS_DENIED_ERROR
	erBadDB                   = 1049 // ER_BAD_DB_ERROR
	erConCount                = 1040 // ER_CON_COUNT_ERROR
	erHostIsBlocked           = 1129 // ER_HOST_IS_BLOCKED
	erHostNotPrivileged       = 1130 // ER_HOST_NOT_PRIVILEGED
	erTableAccessDenied       = 1142 // ER_TABLEACCESS_DENIED_ERROR
	erColumnAccessDenied      = 1143 // ER_COLUMNACCESS_DENIED_ERROR
	erTooManyUserConnections  = 1203 // ER_TOO_MANY_USER_CONNECTIONS
	erSpecificAccessDenied    = 1227 // ER_SPECIFIC_ACCESS_DENIED_ERROR
	erNotSupportedAuthMode    = 1251 // ER_NOT_SUPPORTED_AUTH_MODE
	erNoBinaryLogging         = 1381 // ER_NO_BINARY_LOGGING
	erMustChangePassword      = 1820 // ER_MUST_CHANGE_PASSWORD
	erMustChangePasswordLogin = 1862 // ER_MUST_CHANGE_PASSWORD_LOGIN
	erAccountLockedMySQL      = 3118 // ER_ACCOUNT_HAS_BEEN_LOCKED (MySQL)
	erSecureTransportRequired = 3159 // ER_SECURE_TRANSPORT_REQUIRED (MySQL)
	erAccountLockedMariaDB    = 4151 // ER_ACCOUNT_HAS_BEEN_LOCKED (MariaDB)
	erQueryInterrupted        = 1317 // ER_QUERY_INTERRUPTED
)
