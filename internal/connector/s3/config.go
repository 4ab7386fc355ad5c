package s3

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"

	"github.com/godwit-dms/godwit/internal/connector"
)

// DefaultRegion signs requests to an S3-compatible API that names none.
const DefaultRegion = "us-east-1"

// Config is what the S3 connector needs: the bucket and folder of the
// endpoint (S3Settings) and where buckets live (the server's object store).
// Store.SecretAccessKey is a secret: Config implements slog.LogValuer.
type Config struct {
	Bucket string
	// Folder is the key prefix inside the bucket, without leading or
	// trailing slashes; empty for the bucket root.
	Folder          string
	CompressionType string // none or gzip
	Role            connector.Role
	Store           connector.ObjectStore
	// Target shapes the files a full load writes (DataFormat, CSV options,
	// MaxFileSize, Parquet options).
	Target TargetSettings
	// Ignored says which settings the endpoint sets that have no effect.
	Ignored []string
}

// ignoredSettings are the S3Settings Godwit keeps without acting on them,
// in the order they are reported; localIgnored are the ObjectOptions, which
// a local bucket (a folder) cannot honour.
var (
	ignoredSettings = []connector.IgnoredSetting{
		{Name: "AddTrailingPaddingCharacter", Why: "string values are written as they are, without padding"},
		{Name: "GlueCatalogGeneration", Why: "there is no AWS Glue Data Catalog to write to"},
	}
	localIgnored = func() []connector.IgnoredSetting {
		var out []connector.IgnoredSetting
		for _, name := range []string{"CannedAclForObjects", "EncryptionMode", "ExpectedBucketOwner", "ServerSideEncryptionKmsKeyId"} {
			out = append(out, connector.IgnoredSetting{Name: name, Why: "a local bucket is a folder: its files are written as they are"})
		}
		return out
	}()
)

// LogValue implements slog.LogValuer without the secret key.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("bucket", c.Bucket),
		slog.String("folder", c.Folder),
		slog.String("role", string(c.Role)),
		slog.String("local_root", c.Store.LocalRoot),
		slog.String("url", c.Store.URL),
	)
}

// Local says buckets are folders under Store.LocalRoot.
func (c Config) Local() bool { return c.Store.URL == "" }

// ConfigFromEndpoint builds a Config from an S3 endpoint: S3Settings
// BucketName (required), BucketFolder, CompressionType and the settings of
// the files a target writes (see TargetSettings). A missing or invalid value
// is a StageConfig *connector.CheckError.
func ConfigFromEndpoint(ep connector.Endpoint) (Config, error) {
	eca := connector.ParseAttributes(ep.ExtraConnectionAttributes)
	cfg := Config{
		Bucket:          connector.FirstNonEmpty(connector.SettingString(ep.Settings, "BucketName"), eca["bucketname"]),
		Folder:          strings.Trim(connector.FirstNonEmpty(connector.SettingString(ep.Settings, "BucketFolder"), eca["bucketfolder"]), "/"),
		CompressionType: strings.ToLower(connector.FirstNonEmpty(connector.SettingString(ep.Settings, "CompressionType"), eca["compressiontype"], "none")),
		Role:            ep.Role,
		Store:           ep.ObjectStore,
	}
	cfg.Ignored = connector.IgnoredSettings("S3Settings", ep.Settings, eca, ignoredSettings)
	if cfg.Local() {
		cfg.Ignored = append(cfg.Ignored, connector.IgnoredSettings("S3Settings", ep.Settings, eca, localIgnored)...)
	}
	target, terr := parseTargetSettings(ep.Settings, eca)
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	cfg.Target = target
	if terr != nil {
		return cfg, terr
	}
	return cfg, nil
}

// Validate reports the first missing or invalid field as a StageConfig
// *connector.CheckError.
func (c Config) Validate() error {
	if c.Bucket == "" {
		return configError("no bucket is set: S3Settings.BucketName is required")
	}
	if err := validBucketName(c.Bucket); err != "" {
		return configError("BucketName %q is not a valid bucket name: %s", c.Bucket, err)
	}
	if c.Folder != "" {
		for _, part := range strings.Split(c.Folder, "/") {
			if part == "" || part == "." || part == ".." {
				return configError("BucketFolder %q is not valid: it may not contain empty, \".\" or \"..\" path segments", c.Folder)
			}
		}
	}
	switch c.CompressionType {
	case "", "none", "gzip":
	default:
		return configError("CompressionType %q is not valid: use none or gzip", c.CompressionType)
	}
	if err := c.Target.validate(); err != nil {
		return err
	}
	if c.Local() {
		if c.Store.LocalRoot == "" {
			return configError("this server has no object store: configure a local bucket directory or an S3-compatible API URL")
		}
		return nil
	}
	u, err := url.Parse(c.Store.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return configError("the object store URL %q of this server is not an http(s) URL", c.Store.URL)
	}
	return nil
}

// validBucketName applies the S3 bucket naming rules; it returns why name
// breaks them, or "". The rules also keep a local bucket inside its root.
func validBucketName(name string) string {
	if len(name) < 3 || len(name) > 63 {
		return "it must be 3 to 63 characters long"
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return "it may contain only lower-case letters, digits, dots and hyphens"
		}
	}
	alnum := func(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return "it must begin and end with a letter or digit"
	}
	if strings.Contains(name, "..") {
		return "it may not contain two dots in a row"
	}
	if net.ParseIP(name) != nil {
		return "it may not look like an IP address"
	}
	return ""
}

func configError(format string, args ...any) *connector.CheckError {
	return &connector.CheckError{Stage: connector.StageConfig, Message: fmt.Sprintf(format, args...), Err: ErrInvalidConfig}
}
