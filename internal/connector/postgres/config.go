package postgres

import (
	"fmt"
	"log/slog"
	"math"
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
// HeartbeatEnable) fill what the endpoint's own fields leave empty; extra
// connection attributes (slotName, pluginName, heartbeatEnable) come last.
// A missing or invalid value is a StageConfig *connector.CheckError.
func ConfigFromEndpoint(ep connector.Endpoint) (Config, error) {
	eca := parseAttributes(ep.ExtraConnectionAttributes)
	s := ep.Settings
	cfg := Config{
		Host:      firstNonEmpty(ep.Host, settingString(s, "ServerName")),
		Port:      ep.Port,
		Database:  firstNonEmpty(ep.Database, settingString(s, "DatabaseName")),
		User:      firstNonEmpty(ep.Username, settingString(s, "Username")),
		Password:  ep.Password,
		CACertPEM: ep.CACertPEM,
		Role:      ep.Role,
		WantCDC:   ep.WantCDC,
		SlotName:  firstNonEmpty(settingString(s, "SlotName"), eca["slotname"]),
		PluginName: strings.ToLower(firstNonEmpty(settingString(s, "PluginName"),
			eca["pluginname"], PluginNoPreference)),
	}
	if cfg.Port == 0 {
		p, ok, err := settingInt(s, "Port")
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
	if hb, ok := settingBool(s, "HeartbeatEnable"); ok {
		cfg.HeartbeatEnable = hb
	} else if v, ok := eca["heartbeatenable"]; ok {
		cfg.HeartbeatEnable, _ = strconv.ParseBool(v)
	}
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

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// settingString reads a string setting; numbers and booleans are formatted.
func settingString(s map[string]any, key string) string {
	switch v := s[key].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// settingInt reads an integer setting, given as a JSON number or a string.
func settingInt(s map[string]any, key string) (int, bool, error) {
	switch v := s[key].(type) {
	case nil:
		return 0, false, nil
	case float64:
		if v != math.Trunc(v) || v < math.MinInt32 || v > math.MaxInt32 {
			return 0, false, fmt.Errorf("%v is not an integer", v)
		}
		return int(v), true, nil
	case int:
		return v, true, nil
	case string:
		if v == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		return n, err == nil, err
	}
	return 0, false, fmt.Errorf("unexpected %T", s[key])
}

// settingBool reads a boolean setting, given as a JSON boolean or a string.
func settingBool(s map[string]any, key string) (bool, bool) {
	switch v := s[key].(type) {
	case bool:
		return v, true
	case string:
		b, err := strconv.ParseBool(v)
		return b, err == nil
	}
	return false, false
}

// parseAttributes splits DMS extra connection attributes
// ("key=value;key=value") into a map with lower-cased keys.
func parseAttributes(s string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(part, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || k == "" {
			continue
		}
		out[k] = strings.TrimSpace(v)
	}
	return out
}
