package postgres

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/connector/netcheck"
)

// DefaultPort is the PostgreSQL port used when the endpoint names none.
const DefaultPort = 5432

// Plugin names DMS accepts in PostgreSQLSettings.PluginName.
const (
	PluginNoPreference = "no-preference"
	PluginTestDecoding = "test-decoding"
	PluginPglogical    = "pglogical"
	PluginPgoutput     = "pgoutput"
)

// Config is what the PostgreSQL connector needs to reach and use a
// database. Password is a secret: Config implements slog.LogValuer to keep it
// out of logs.
type Config struct {
	Host      string
	Port      int
	Database  string
	User      string
	Password  string
	SSLMode   netcheck.SSLMode
	CACertPEM []byte

	Role    connector.Role
	WantCDC bool

	// SlotName is an existing logical replication slot CDC must use; empty
	// means the task creates its own.
	SlotName string
	// PluginName is the logical decoding plugin: no-preference, test-decoding,
	// pglogical or pgoutput.
	PluginName      string
	HeartbeatEnable bool
	// AfterConnectScript is run on every SQL session when it opens
	// (PostgreSQLSettings.AfterConnectScript, or the afterConnectScript
	// attribute), e.g. SET session_replication_role = replica on a target.
	// The replication connection of CDC does not run it.
	AfterConnectScript string
	// FailOnLOBTruncation (FailTasksOnLobTruncation) makes a full load in
	// limited LOB mode fail on a value longer than the limit instead of
	// cutting it.
	FailOnLOBTruncation bool
	// Ignored says which settings the endpoint sets that have no effect
	// (ignoredSettings).
	Ignored []string
}

// ignoredSettings are the PostgreSQLSettings Godwit keeps without acting
// on them, in the order they are reported.
var ignoredSettings = []connector.IgnoredSetting{
	{Name: "BabelfishDatabaseName", Why: "tables are written through PostgreSQL itself, not Babelfish"},
	{Name: "DatabaseMode", Why: "tables are written through PostgreSQL itself, not Babelfish"},
	{Name: "DisableUnicodeSourceFilter", Why: "source filters already compare values in the column's own type"},
	{Name: "ExecuteTimeout", Why: "no statement timeout is set on the sessions; a statement ends when it is done or the task stops"},
	{Name: "HeartbeatSchema", Why: "the heartbeat is a logical decoding message (pg_logical_emit_message), which needs no table"},
	{Name: "MapBooleanAsBoolean", Why: "boolean columns always stay boolean (see TYPES.md of the PostgreSQL connector)"},
	{Name: "MapJsonbAsClob", Why: "jsonb is always read as JSON (see TYPES.md of the PostgreSQL connector)"},
	{Name: "MapLongVarcharAs", Why: "character varying without a length is always read as text (see TYPES.md of the PostgreSQL connector)"},
	{Name: "MaxFileSize", Why: "rows reach the target through COPY streams, not intermediate .csv files"},
	{Name: "TrimSpaceInChar", Why: "character(n) values keep their blank padding (see TYPES.md of the PostgreSQL connector)"},
}

// LogValue implements slog.LogValuer without the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
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

// ConfigFromEndpoint builds a Config from an endpoint. PostgreSQLSettings
// (ServerName, Port, DatabaseName, Username, SlotName, PluginName,
// HeartbeatEnable, AfterConnectScript) fill what the endpoint's own fields
// leave empty; extra connection attributes (slotName, pluginName,
// heartbeatEnable, afterConnectScript) come last.
// A missing or invalid value is a StageConfig *connector.CheckError.
func ConfigFromEndpoint(ep connector.Endpoint) (Config, error) {
	eca := connector.ParseAttributes(ep.ExtraConnectionAttributes)
	s := ep.Settings
	cfg := Config{
		Host:      connector.FirstNonEmpty(ep.Host, connector.SettingString(s, "ServerName")),
		Port:      ep.Port,
		Database:  connector.FirstNonEmpty(ep.Database, connector.SettingString(s, "DatabaseName")),
		User:      connector.FirstNonEmpty(ep.Username, connector.SettingString(s, "Username")),
		Password:  ep.Password,
		CACertPEM: ep.CACertPEM,
		Role:      ep.Role,
		WantCDC:   ep.WantCDC,
		SlotName:  connector.FirstNonEmpty(connector.SettingString(s, "SlotName"), eca["slotname"]),
		PluginName: strings.ToLower(connector.FirstNonEmpty(connector.SettingString(s, "PluginName"),
			eca["pluginname"], PluginNoPreference)),
		AfterConnectScript: strings.TrimSpace(connector.FirstNonEmpty(connector.SettingString(s, "AfterConnectScript"), eca["afterconnectscript"])),
		Ignored:            connector.IgnoredSettings("PostgreSQLSettings", s, eca, ignoredSettings),
	}
	if why := connector.UnsupportedAuthentication(s, eca); why != "" {
		return Config{}, configError("%s", why)
	}
	if cfg.Port == 0 {
		p, ok, err := connector.SettingInt(s, "Port")
		if err != nil {
			return Config{}, configError("PostgreSQLSettings.Port must be a number: %v", err)
		}
		if ok {
			cfg.Port = p
		}
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	cfg.FailOnLOBTruncation, _ = connector.BoolSetting(s, eca, "FailTasksOnLobTruncation")
	cfg.HeartbeatEnable, _ = connector.BoolSetting(s, eca, "HeartbeatEnable")
	mode, err := netcheck.ParseSSLMode(ep.SSLMode)
	if err != nil {
		return Config{}, err
	}
	cfg.SSLMode = mode
	return cfg, cfg.Validate()
}

// Validate reports the first missing or invalid field as a StageConfig
// *connector.CheckError.
func (c Config) Validate() error {
	switch {
	case c.Host == "":
		return configError("no server name is set: set the endpoint's ServerName")
	case c.Port < 1 || c.Port > 65535:
		return configError("port %d is not a valid TCP port", c.Port)
	case c.Database == "":
		return configError("no database name is set: a PostgreSQL endpoint needs DatabaseName")
	case c.User == "":
		return configError("no user name is set: set the endpoint's Username")
	}
	switch c.PluginName {
	case PluginNoPreference, PluginTestDecoding, PluginPglogical, PluginPgoutput:
	default:
		return configError("PluginName %q is not valid: use no-preference, test-decoding, pglogical or pgoutput", c.PluginName)
	}
	if _, err := netcheck.ParseSSLMode(string(c.SSLMode)); err != nil {
		return err
	}
	return nil
}

func configError(format string, args ...any) *connector.CheckError {
	return &connector.CheckError{Stage: connector.StageConfig, Message: fmt.Sprintf(format, args...), Err: ErrInvalidConfig}
}
