package mysql

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // ServerTimezone must resolve on hosts without a zoneinfo database.

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/netcheck"
)

// DefaultPort is the MySQL port used when the endpoint names none.
const DefaultPort = 3306

// TargetDbType values of MySQLSettings.
const (
	TargetSpecificDatabase  = "specific-database"
	TargetMultipleDatabases = "multiple-databases"
)

// Config is what the MySQL/MariaDB connector needs to reach and use a
// server. Password is a secret: Config implements slog.LogValuer to keep it
// out of logs.
type Config struct {
	Engine    string // mysql, mariadb, aurora...
	Host      string
	Port      int
	Database  string // empty: server level (every database)
	User      string
	Password  string
	SSLMode   netcheck.SSLMode
	CACertPEM []byte

	Role    connector.Role
	WantCDC bool

	// ServerTimezone is the time zone of the server's DATETIME values
	// (MySQLSettings.ServerTimezone); Location is it loaded, UTC by default.
	ServerTimezone string
	Location       *time.Location
	// AfterConnectScript runs on every new session (MySQLSettings, or the
	// initstmt / afterConnectScript extra connection attributes).
	AfterConnectScript string
	// TargetDbType is specific-database or multiple-databases.
	TargetDbType string
	// Ignored says which settings the endpoint sets that have no effect
	// (ignoredSettings).
	Ignored []string
}

// ignoredSettings are the MySQLSettings Godwit keeps without acting on
// them, in the order they are reported.
var ignoredSettings = []connector.IgnoredSetting{
	{Name: "CleanSourceMetadataOnMismatch", Why: "no copy of the tables' metadata is kept to clean: it is read from the server"},
	{Name: "EventsPollInterval", Why: "the binary log is streamed as a replica reads it: new events arrive without polling"},
	{Name: "ExecuteTimeout", Why: "no statement timeout is set on the sessions; a statement ends when it is done or the task stops"},
	{Name: "ParallelLoadThreads", Why: "a table loads on one session per segment; MaxFullLoadSubTasks and parallel-load rules set how many"},
}

// LogValue implements slog.LogValuer without the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("engine", c.Engine),
		slog.String("host", c.Host),
		slog.Int("port", c.Port),
		slog.String("database", c.Database),
		slog.String("user", c.User),
		slog.String("ssl_mode", string(c.SSLMode)),
		slog.String("role", string(c.Role)),
		slog.Bool("cdc", c.WantCDC),
	)
}

// Addr is host:port.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// ConfigFromEndpoint builds a Config from an endpoint. MySQLSettings
// (ServerName, Port, DatabaseName, Username, ServerTimezone,
// AfterConnectScript, TargetDbType) fill what the endpoint's own fields
// leave empty; extra connection attributes (serverTimezone, initstmt,
// afterConnectScript, targetDbType) come last. A missing or invalid value is
// a StageConfig *connector.CheckError.
func ConfigFromEndpoint(ep connector.Endpoint) (Config, error) {
	eca := connector.ParseAttributes(ep.ExtraConnectionAttributes)
	s := ep.Settings
	cfg := Config{
		Engine:         ep.Engine,
		Host:           connector.FirstNonEmpty(ep.Host, connector.SettingString(s, "ServerName")),
		Port:           ep.Port,
		Database:       connector.FirstNonEmpty(ep.Database, connector.SettingString(s, "DatabaseName")),
		User:           connector.FirstNonEmpty(ep.Username, connector.SettingString(s, "Username")),
		Password:       ep.Password,
		CACertPEM:      ep.CACertPEM,
		Role:           ep.Role,
		WantCDC:        ep.WantCDC,
		ServerTimezone: connector.FirstNonEmpty(connector.SettingString(s, "ServerTimezone"), eca["servertimezone"]),
		TargetDbType: normalizeTargetDbType(connector.FirstNonEmpty(connector.SettingString(s, "TargetDbType"),
			eca["targetdbtype"], TargetMultipleDatabases)),
		Ignored: connector.IgnoredSettings("MySQLSettings", s, eca, ignoredSettings),
	}
	if why := connector.UnsupportedAuthentication(s, eca); why != "" {
		return Config{}, configError("%s", why)
	}
	var scripts []string
	for _, sc := range []string{eca["initstmt"], connector.FirstNonEmpty(connector.SettingString(s, "AfterConnectScript"), eca["afterconnectscript"])} {
		if sc = strings.TrimSpace(sc); sc != "" {
			scripts = append(scripts, strings.TrimSuffix(sc, ";"))
		}
	}
	cfg.AfterConnectScript = strings.Join(scripts, ";\n")
	if cfg.Port == 0 {
		p, ok, err := connector.SettingInt(s, "Port")
		if err != nil {
			return Config{}, configError("MySQLSettings.Port must be a number: %v", err)
		}
		if ok {
			cfg.Port = p
		}
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	mode, err := netcheck.ParseSSLMode(ep.SSLMode)
	if err != nil {
		return Config{}, err
	}
	cfg.SSLMode = mode
	if cfg.ServerTimezone != "" {
		loc, err := time.LoadLocation(cfg.ServerTimezone)
		if err != nil {
			return Config{}, configError("ServerTimezone %q is not a known time zone: use an IANA name such as UTC or America/New_York", cfg.ServerTimezone)
		}
		cfg.Location = loc
	}
	return cfg, cfg.Validate()
}

func normalizeTargetDbType(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-")
}

// Validate reports the first missing or invalid field as a StageConfig
// *connector.CheckError.
func (c Config) Validate() error {
	switch {
	case c.Host == "":
		return configError("no server name is set: set the endpoint's ServerName")
	case c.Port < 1 || c.Port > 65535:
		return configError("port %d is not a valid TCP port", c.Port)
	case c.User == "":
		return configError("no user name is set: set the endpoint's Username")
	}
	switch c.TargetDbType {
	case "", TargetMultipleDatabases:
	case TargetSpecificDatabase:
		if c.Role == connector.RoleTarget && c.Database == "" {
			return configError("TargetDbType is specific-database but no DatabaseName is set: set DatabaseName, or use multiple-databases")
		}
	default:
		return configError("TargetDbType %q is not valid: use specific-database or multiple-databases", c.TargetDbType)
	}
	if _, err := netcheck.ParseSSLMode(string(c.SSLMode)); err != nil {
		return err
	}
	if _, err := netcheck.TLSConfig(c.SSLMode, c.CACertPEM, c.Host); err != nil {
		return err
	}
	return nil
}

func configError(format string, args ...any) *connector.CheckError {
	return &connector.CheckError{Stage: connector.StageConfig, Message: fmt.Sprintf(format, args...), Err: ErrInvalidConfig}
}
