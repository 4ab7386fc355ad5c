package postgres

import (
	"errors"
	"fmt"

	"github.com/godwit-dms/godwit/internal/connector"
)

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
	// ErrRowRejected: the target refused a row of a batch (a data exception,
	// SQLSTATE class 22, or an integrity violation, class 23), or a value
	// could not be converted to its target column's type. Nothing of the
	// batch was written; the table is in error, the task can go on.
	ErrRowRejected = fmt.Errorf("%w", connector.ErrRowRejected)
	// ErrConnectionLost: the session to the server broke (network, server
	// shutdown or crash). The work can be retried on a new session.
	ErrConnectionLost = fmt.Errorf("connection to PostgreSQL lost: %w", connector.ErrConnectionLost)
	// ErrNoSuchTable: a table named in a request does not exist.
	ErrNoSuchTable = errors.New("no such table")
	// ErrNoSuchColumn: a column named in a request is not in its table.
	ErrNoSuchColumn = errors.New("no such column")
	// ErrSnapshotClosed: Read or SplitPoints on a closed snapshot.
	ErrSnapshotClosed = errors.New("snapshot closed")
	// ErrBadValue: a value given for a filter, range or resume key cannot be
	// written as SQL (for example text holding a NUL byte).
	ErrBadValue = errors.New("value not usable in SQL")
	// ErrCopyProtocol: the binary COPY stream was not what PostgreSQL sends.
	ErrCopyProtocol = errors.New("malformed binary COPY stream")
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
	sqlstateCrashShutdown        = "57P02"
	sqlstateUniqueViolation      = "23505"
	sqlstateDuplicateSchema      = "42P06"
	sqlstateLockNotAvailable     = "55P03" // lock_timeout, NOWAIT
	sqlstateReadOnlyTransaction  = "25006"

	sqlstateClassConnection = "08" // connection exception
	sqlstateClassData       = "22" // data exception
	sqlstateClassIntegrity  = "23" // integrity constraint violation
)
