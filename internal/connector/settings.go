package connector

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The helpers below read an endpoint's settings block (decoded JSON) and
// its extra connection attributes, for every connector's Config.

// SettingString reads a string setting; numbers and booleans are formatted.
func SettingString(s map[string]any, key string) string {
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

// SettingInt reads an integer setting, given as a JSON number or a string.
func SettingInt(s map[string]any, key string) (int, bool, error) {
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

// SettingBool reads a boolean setting, given as a JSON boolean or a string.
func SettingBool(s map[string]any, key string) (bool, bool) {
	switch v := s[key].(type) {
	case bool:
		return v, true
	case string:
		b, err := strconv.ParseBool(v)
		return b, err == nil
	}
	return false, false
}

// ParseAttributes splits DMS extra connection attributes
// ("key=value;key=value") into a map with lower-cased keys.
func ParseAttributes(s string) map[string]string {
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

// FirstNonEmpty returns the first non-empty string.
func FirstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// SettingsIgnorer is implemented by connectors that keep some of DMS's
// endpoint settings without acting on them: IgnoredSettings says, for each
// one the endpoint sets, that it has no effect and why. TestConnection
// reports them as warnings, and a task logs them when it starts.
type SettingsIgnorer interface {
	IgnoredSettings() []string
}

// IgnoredSetting is a setting a connector keeps without acting on it, and
// why it has no effect.
type IgnoredSetting struct{ Name, Why string }

// IgnoredSettings lists the settings of unused that the endpoint's
// settings block s (named block, e.g. PostgreSQLSettings) or its extra
// connection attributes eca (lower-cased keys) set, in unused's order.
func IgnoredSettings(block string, s map[string]any, eca map[string]string, unused []IgnoredSetting) []string {
	var out []string
	for _, u := range unused {
		_, inBlock := s[u.Name]
		_, inECA := eca[strings.ToLower(u.Name)]
		if inBlock || inECA {
			out = append(out, fmt.Sprintf("%s.%s has no effect in Godwit: %s.", block, u.Name, u.Why))
		}
	}
	return out
}

// BoolSetting reads a boolean setting from the settings block s, else
// from the extra connection attributes eca (lower-cased keys); ok is false
// when neither gives one.
func BoolSetting(s map[string]any, eca map[string]string, key string) (v, ok bool) {
	if v, ok := SettingBool(s, key); ok {
		return v, true
	}
	if a, found := eca[strings.ToLower(key)]; found {
		v, err := strconv.ParseBool(a)
		return v, err == nil
	}
	return false, false
}

// UnsupportedAuthentication says why the endpoint's AuthenticationMethod
// (settings block s, or attributes eca) cannot be used, or "" when it can:
// iam needs AWS IAM database authentication.
func UnsupportedAuthentication(s map[string]any, eca map[string]string) string {
	if strings.EqualFold(FirstNonEmpty(SettingString(s, "AuthenticationMethod"), eca["authenticationmethod"]), "iam") {
		return "AuthenticationMethod iam needs AWS IAM database authentication, which Godwit does not have: set AuthenticationMethod to password and give the endpoint its password"
	}
	return ""
}
