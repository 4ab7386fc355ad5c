package mysql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/godwit-dms/godwit/internal/connector"
)

var (
	// ErrInvalidConfig: the endpoint's settings are missing or invalid.
	ErrInvalidConfig = errors.New("invalid MySQL endpoint configuration")
	// ErrClosed: the connector was closed.
	ErrClosed = errors.New("mysql connector closed")
	// ErrMissingPrivileges: the user lacks privileges the endpoint's role needs.
	ErrMissingPrivileges = errors.New("missing privileges")
	// ErrRowRejected: the target refused a row of a Load (out of range, too
	// long, incorrect value, duplicate key, NULL in a NOT NULL column...).
	// Nothing of the batch was committed. The error is a *RowError.
	ErrRowRejected = fmt.Errorf("%w", connector.ErrRowRejected)
	// ErrConnectionLost: the session to the server broke (network, server
	// restart, killed connection); the statement's outcome is unknown unless
	// it ran in a transaction, which is then rolled back.
	ErrConnectionLost = fmt.Errorf("connection to the MySQL server lost: %w", connector.ErrConnectionLost)
	// ErrUnsupported: a request this connector cannot serve (an unknown
	// column, filter operator or value of the wrong type).
	ErrUnsupported = errors.New("unsupported request")
)

// MySQL / MariaDB error numbers the connector tells apart.
const (
	erDBAccessDenied          = 1044 // ER_DBACCESS_DENIED_ERROR
	erAccessDenied            = 1045 // ER_ACCESS_DENIED_ERROR
	erBadDB                   = 1049 // ER_BAD_DB_ERROR
	erConCount                = 1040 // ER_CON_COUNT_ERROR
	erServerShutdown          = 1053 // ER_SERVER_SHUTDOWN
	erDupEntry                = 1062 // ER_DUP_ENTRY
	erMultiplePriKey          = 1068 // ER_MULTIPLE_PRI_KEY
	erDupKeyName              = 1061 // ER_DUP_KEYNAME
	erParseError              = 1064 // ER_PARSE_ERROR
	erBadNull                 = 1048 // ER_BAD_NULL_ERROR
	erHostIsBlocked           = 1129 // ER_HOST_IS_BLOCKED
	erHostNotPrivileged       = 1130 // ER_HOST_NOT_PRIVILEGED
	erTableAccessDenied       = 1142 // ER_TABLEACCESS_DENIED_ERROR
	erColumnAccessDenied      = 1143 // ER_COLUMNACCESS_DENIED_ERROR
	erNotAllowedCommand       = 1148 // ER_NOT_ALLOWED_COMMAND (local infile off)
	erUnknownSystemVariable   = 1193 // ER_UNKNOWN_SYSTEM_VARIABLE
	erTooManyUserConnections  = 1203 // ER_TOO_MANY_USER_CONNECTIONS
	erSpecificAccessDenied    = 1227 // ER_SPECIFIC_ACCESS_DENIED_ERROR
	erNotSupportedAuthMode    = 1251 // ER_NOT_SUPPORTED_AUTH_MODE
	erQueryInterrupted        = 1317 // ER_QUERY_INTERRUPTED
	erLockWaitTimeout         = 1205 // ER_LOCK_WAIT_TIMEOUT
	erNoBinaryLogging         = 1381 // ER_NO_BINARY_LOGGING
	erTruncateFKReferenced    = 1701 // ER_TRUNCATE_ILLEGAL_FK
	erMustChangePassword      = 1820 // ER_MUST_CHANGE_PASSWORD
	erMustChangePasswordLogin = 1862 // ER_MUST_CHANGE_PASSWORD_LOGIN
	erConnectionKilled        = 1927 // ER_CONNECTION_KILLED (MariaDB)
	erAccountLockedMySQL      = 3118 // ER_ACCOUNT_HAS_BEEN_LOCKED (MySQL)
	erSecureTransportRequired = 3159 // ER_SECURE_TRANSPORT_REQUIRED (MySQL)
	erClientLocalFilesOff     = 3948 // ER_CLIENT_LOCAL_FILES_DISABLED (MySQL 8)
	erAccountLockedMariaDB    = 4151 // ER_ACCOUNT_HAS_BEEN_LOCKED (MariaDB)
	erLocalInfileDisabled     = 4166 // ER_LOAD_INFILE_CAPABILITY_DISABLED (MariaDB)
	crServerGone              = 2006 // CR_SERVER_GONE_ERROR (client library)
	crServerLost              = 2013 // CR_SERVER_LOST (client library)
)

// rowErrorNumbers are the errors (and LOAD DATA warnings) that blame a row's
// data rather than the statement or the session.
var rowErrorNumbers = map[uint16]bool{
	erBadNull: true, erDupEntry: true,
	1263: true, // ER_WARN_NULL_TO_NOTNULL (LOAD DATA)
	1261: true, // ER_WARN_TOO_FEW_RECORDS
	1262: true, // ER_WARN_TOO_MANY_RECORDS
	1264: true, // ER_WARN_DATA_OUT_OF_RANGE
	1265: true, // WARN_DATA_TRUNCATED
	1292: true, // ER_TRUNCATED_WRONG_VALUE
	1366: true, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
	1367: true, // ER_ILLEGAL_VALUE_FOR_TYPE
	1406: true, // ER_DATA_TOO_LONG
	1411: true, // ER_WRONG_VALUE_FOR_TYPE
	1416: true, // ER_CANT_CREATE_GEOMETRY_OBJECT
	1451: true, // ER_ROW_IS_REFERENCED_2
	1452: true, // ER_NO_REFERENCED_ROW_2
	1690: true, // ER_DATA_OUT_OF_RANGE
	3140: true, // ER_INVALID_JSON_TEXT (MySQL)
	3819: true, // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
	4025: true, // ER_CONSTRAINT_FAILED (MariaDB: CHECK, json_valid)
	4078: true, // ER_ILLEGAL_PARAMETER_DATA_TYPES2_FOR_OPERATION (MariaDB)
}

// RowError is a row the target refused. It matches ErrRowRejected with
// errors.Is, and the server's *mysql.MySQLError with errors.As when the
// refusal was an error (not a LOAD DATA warning).
type RowError struct {
	Number  uint16 // server error number; 0 when the client refused the value
	Message string
	// Row is the index in the Load batch of the refused row, or -1 when the
	// server did not say.
	Row int
	Err error // the server's error, if any
}

func (e *RowError) Error() string {
	where := ""
	if e.Row >= 0 {
		where = fmt.Sprintf(" (batch row %d)", e.Row)
	}
	if e.Number == 0 {
		return fmt.Sprintf("%v%s: %s", ErrRowRejected, where, e.Message)
	}
	return fmt.Sprintf("%v%s: %s (error %d)", ErrRowRejected, where, e.Message, e.Number)
}

func (e *RowError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrRowRejected, e.Err}
	}
	return []error{ErrRowRejected}
}

var atRowRE = regexp.MustCompile(` at row (\d+)$`)

// newRowError builds a RowError from a server error number and message;
// first is the batch index of the statement's first row.
func newRowError(number uint16, message string, first int, err error) *RowError {
	re := &RowError{Number: number, Message: message, Row: -1, Err: err}
	if m := atRowRE.FindStringSubmatch(message); m != nil {
		if n, perr := strconv.Atoi(m[1]); perr == nil && n >= 1 {
			re.Row = first + n - 1
		}
	}
	return re
}

// classify wraps a driver error of a data statement: rejected rows become
// *RowError, a broken session ErrConnectionLost; anything else is returned
// with what was being done.
func classify(ctx context.Context, doing string, err error, firstRow int) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		if errors.Is(err, ctx.Err()) {
			return fmt.Errorf("%s: %w", doing, err)
		}
		return fmt.Errorf("%s: %w", doing, errors.Join(ctx.Err(), err))
	}
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		switch {
		case rowErrorNumbers[me.Number]:
			return newRowError(me.Number, me.Message, firstRow, me)
		case me.Number == erServerShutdown || me.Number == erConnectionKilled ||
			me.Number == crServerGone || me.Number == crServerLost:
			return fmt.Errorf("%s: %w: %w", doing, ErrConnectionLost, err)
		}
		return fmt.Errorf("%s: %w", doing, err)
	}
	if isConnectionError(err) {
		return fmt.Errorf("%s: %w: %w", doing, ErrConnectionLost, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// isConnectionError reports errors that mean the session is gone.
func isConnectionError(err error) bool {
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, gomysql.ErrInvalidConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.As(err, &ne)
}
