package s3

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
)

// Defaults of the S3Settings a full load uses, as DMS documents them.
const (
	// DefaultMaxFileSizeKB is MaxFileSize's default: 1 GB.
	DefaultMaxFileSizeKB = 1048576
	// DefaultRowGroupLength is RowGroupLength's default (rows per Parquet row group).
	DefaultRowGroupLength = 10000
	// DefaultDataPageSize is DataPageSize's default (bytes per Parquet data page).
	DefaultDataPageSize = 1024000
	// DefaultDictPageSizeLimit is DictPageSizeLimit's default (bytes per Parquet dictionary).
	DefaultDictPageSizeLimit = 1024000
	// DefaultCdcMaxBatchInterval is CdcMaxBatchInterval's default (seconds).
	DefaultCdcMaxBatchInterval = 60
	// DefaultCdcMinFileSizeKB is CdcMinFileSize's default: 32 000 KB.
	DefaultCdcMinFileSizeKB = 32000
)

// Settings keys that are not DMS's: the engine fills them in Endpoint.Settings.
const (
	// SettingTaskStart is the task's start time (RFC 3339 text or a
	// time.Time), used for TimestampColumnName when
	// UseTaskStartTimeForFullLoadTimestamp is true.
	SettingTaskStart = "_godwit_task_start"
	// SettingTempDir is the local directory where files of an S3-compatible
	// API target are staged before upload (default os.TempDir()).
	SettingTempDir = "_godwit_temp_dir"
)

// Data formats (S3Settings.DataFormat).
const (
	FormatCSV     = "csv"
	FormatParquet = "parquet"
)

// Parquet encodings (S3Settings.EncodingType).
const (
	EncodingRLEDictionary   = "rle-dictionary"
	EncodingPlain           = "plain"
	EncodingPlainDictionary = "plain-dictionary"
)

// TargetSettings are the S3Settings that shape the files of a full load.
// The zero value is DMS's defaults: the boolean fields whose DMS default is
// true are stored negated (NoRFC4180, NoStatistics).
type TargetSettings struct {
	DataFormat      string // csv (default) or parquet
	CSVDelimiter    string // default ","
	CSVRowDelimiter string // default "\n"
	// CSVNullValue is written for NULL when CSVNullValueSet; otherwise NULL
	// is an empty, unquoted field.
	CSVNullValue    string
	CSVNullValueSet bool
	// NoRFC4180 is Rfc4180=false: fields are never quoted.
	NoRFC4180            bool
	AddColumnName        bool
	IncludeOpForFullLoad bool
	// TimestampColumnName adds a last column holding the time the row was
	// written, or the task start time with UseTaskStartTime.
	TimestampColumnName string
	UseTaskStartTime    bool
	// TaskStart is the task's start time (SettingTaskStart); zero = unknown.
	TaskStart time.Time
	// MaxFileSizeKB bounds a LOAD file (uncompressed CSV bytes; Parquet
	// size estimate); 0 = DefaultMaxFileSizeKB.
	MaxFileSizeKB int

	ParquetVersion string // parquet-1-0 (default) or parquet-2-0
	// NoStatistics is EnableStatistics=false: no page statistics.
	NoStatistics      bool
	EncodingType      string // rle-dictionary (default), plain, plain-dictionary
	DictPageSizeLimit int    // 0 = DefaultDictPageSizeLimit
	RowGroupLength    int    // 0 = DefaultRowGroupLength
	DataPageSize      int    // 0 = DefaultDataPageSize
	TimestampMillis   bool   // ParquetTimestampInMillisecond
	TempDir           string // SettingTempDir

	// CdcInsertsOnly writes only the inserts of change processing;
	// CdcInsertsAndUpdates only inserts and updates. With either, CDC
	// rows have an op column only when IncludeOpForFullLoad is set.
	CdcInsertsOnly       bool
	CdcInsertsAndUpdates bool
	// CdcMaxBatchIntervalSec and CdcMinFileSizeKB cut CDC files: a file is
	// written when the oldest change it holds is that old or its changes
	// reach that size, whichever comes first; 0 = the defaults.
	CdcMaxBatchIntervalSec int
	CdcMinFileSizeKB       int
	// DatePartition (DatePartitionEnabled) puts each CDC file in a folder
	// of its table named after the commit date of its first transaction,
	// per DatePartitionSequence (YYYYMMDD when empty) and
	// DatePartitionDelimiter (SLASH when empty), in the time zone
	// DatePartitionZone (DatePartitionTimezone; nil = UTC). See partition.go.
	DatePartition          bool
	DatePartitionSequence  string
	DatePartitionDelimiter string
	DatePartitionZone      *time.Location
	// PreserveTransactions writes the changes of every table in commit
	// order to transaction files in the folder CdcPath (under the
	// BucketFolder) instead of per-table CDC files. See txn.go.
	PreserveTransactions bool
	CdcPath              string
	// NoSupValue, when set (UseCsvNoSupValue=true and a CsvNoSupValue),
	// is written in CSV CDC files for the values an update did not carry
	// and no full old row gives (PostgreSQL's unchanged TOASTed values):
	// "columns not included in the supplemental log" in DMS's words.
	// Without it they are NULL, as in DMS.
	NoSupValue *string
	// IgnoredCDCSettings are the CDC settings given that Godwit does not
	// apply (see ignoredCDC).
	IgnoredCDCSettings []string

	// Objects says how an S3-compatible API stores each object written
	// (EncryptionMode, ServerSideEncryptionKmsKeyId, CannedAclForObjects,
	// ExpectedBucketOwner); a local bucket keeps files as they are.
	Objects ObjectOptions
}

// ObjectOptions are the S3Settings sent with every object a target writes
// through an S3-compatible API.
type ObjectOptions struct {
	// Encryption is sse-s3 or sse-kms when EncryptionMode is given, else
	// "": without it nothing is asked of the store (DMS's default, sse-s3,
	// is refused by stores without encryption configured).
	Encryption string
	KMSKeyID   string
	// CannedACL is the object ACL (CannedAclForObjects, e.g. public-read;
	// "" or none: no ACL header).
	CannedACL           string
	ExpectedBucketOwner string
}

// cannedACLs are the values of CannedAclForObjects.
var cannedACLs = []string{"none", "private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read",
	"bucket-owner-read", "bucket-owner-full-control"}

// settingsReader looks a setting up in S3Settings, then in the extra
// connection attributes (lower-cased keys).
type settingsReader struct {
	settings map[string]any
	eca      map[string]string
	err      error
}

func (r *settingsReader) raw(key string) (any, bool) {
	if v, ok := r.settings[key]; ok && v != nil {
		return v, true
	}
	if v, ok := r.eca[strings.ToLower(key)]; ok {
		return v, true
	}
	return nil, false
}

func (r *settingsReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = configError(format, args...)
	}
}

func (r *settingsReader) str(key, def string) (string, bool) {
	v, ok := r.raw(key)
	if !ok {
		return def, false
	}
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case float64, bool, int, int64:
		return fmt.Sprint(v), true
	}
	r.fail("S3Settings.%s must be a string, not %T", key, v)
	return def, false
}

// boolean accepts true/false and DMS's y/n.
func (r *settingsReader) boolean(key string, def bool) bool {
	v, ok := r.raw(key)
	if !ok {
		return def
	}
	if b, ok := v.(bool); ok {
		return b
	}
	s, _ := r.str(key, "")
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "y", "yes", "1":
		return true
	case "false", "n", "no", "0":
		return false
	}
	r.fail("S3Settings.%s must be true or false, not %q", key, s)
	return def
}

func (r *settingsReader) integer(key string, def, min, max int) int {
	v, ok := r.raw(key)
	if !ok {
		return def
	}
	var n int64
	switch v := v.(type) {
	case float64:
		if v != float64(int64(v)) {
			r.fail("S3Settings.%s must be a whole number, not %v", key, v)
			return def
		}
		n = int64(v)
	case int:
		n = int64(v)
	case int64:
		n = v
	default:
		s, _ := r.str(key, "")
		var err error
		n, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			r.fail("S3Settings.%s must be a whole number, not %q", key, s)
			return def
		}
	}
	if n < int64(min) || n > int64(max) {
		r.fail("S3Settings.%s = %d is out of range: use %d to %d", key, n, min, max)
		return def
	}
	return int(n)
}

// unescapeDelimiter turns the escapes users write for delimiters in extra
// connection attributes (\n, \r, \t, \\) into the characters.
func unescapeDelimiter(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case 'r':
				b.WriteByte('\r')
				i++
				continue
			case 't':
				b.WriteByte('\t')
				i++
				continue
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseTargetSettings reads the file-shaping S3Settings. A bad value is a
// StageConfig *connector.CheckError.
func parseTargetSettings(settings map[string]any, eca map[string]string) (TargetSettings, error) {
	r := &settingsReader{settings: settings, eca: eca}
	var s TargetSettings
	format, _ := r.str("DataFormat", FormatCSV)
	s.DataFormat = strings.ToLower(strings.TrimSpace(format))
	if s.DataFormat == "" {
		s.DataFormat = FormatCSV
	}
	s.CSVDelimiter, _ = r.str("CsvDelimiter", ",")
	s.CSVDelimiter = unescapeDelimiter(s.CSVDelimiter)
	s.CSVRowDelimiter, _ = r.str("CsvRowDelimiter", "\n")
	s.CSVRowDelimiter = unescapeDelimiter(s.CSVRowDelimiter)
	s.CSVNullValue, s.CSVNullValueSet = r.str("CsvNullValue", "")
	s.NoRFC4180 = !r.boolean("Rfc4180", true)
	s.AddColumnName = r.boolean("AddColumnName", false)
	s.IncludeOpForFullLoad = r.boolean("IncludeOpForFullLoad", false)
	s.TimestampColumnName, _ = r.str("TimestampColumnName", "")
	s.UseTaskStartTime = r.boolean("UseTaskStartTimeForFullLoadTimestamp", false)
	s.MaxFileSizeKB = r.integer("MaxFileSize", DefaultMaxFileSizeKB, 1, DefaultMaxFileSizeKB)
	version, _ := r.str("ParquetVersion", "parquet-1-0")
	s.ParquetVersion = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(version)), "_", "-")
	s.NoStatistics = !r.boolean("EnableStatistics", true)
	enc, _ := r.str("EncodingType", EncodingRLEDictionary)
	s.EncodingType = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(enc)), "_", "-")
	s.DictPageSizeLimit = r.integer("DictPageSizeLimit", DefaultDictPageSizeLimit, 1, 1<<30)
	s.RowGroupLength = r.integer("RowGroupLength", DefaultRowGroupLength, 1, 1<<30)
	s.DataPageSize = r.integer("DataPageSize", DefaultDataPageSize, 1, 1<<30)
	s.TimestampMillis = r.boolean("ParquetTimestampInMillisecond", false)
	s.TempDir = connector.SettingString(settings, SettingTempDir)
	switch v := settings[SettingTaskStart].(type) {
	case time.Time:
		s.TaskStart = v.UTC()
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			r.fail("%s %q is not an RFC 3339 time", SettingTaskStart, v)
		}
		s.TaskStart = t.UTC()
	}
	s.CdcInsertsOnly = r.boolean("CdcInsertsOnly", false)
	s.CdcInsertsAndUpdates = r.boolean("CdcInsertsAndUpdates", false)
	s.CdcMaxBatchIntervalSec = r.integer("CdcMaxBatchInterval", DefaultCdcMaxBatchInterval, 1, 1<<30)
	s.CdcMinFileSizeKB = r.integer("CdcMinFileSize", DefaultCdcMinFileSizeKB, 1, 1<<30)
	r.partitionSettings(&s)
	r.noSupSettings(&s)
	r.objectSettings(&s.Objects)
	if r.err != nil {
		return s, r.err
	}
	return s, s.validate()
}

// objectSettings reads the ObjectOptions.
func (r *settingsReader) objectSettings(o *ObjectOptions) {
	norm := func(v string) string { return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(v)), "_", "-") }
	if mode, ok := r.str("EncryptionMode", ""); ok {
		o.Encryption = norm(mode)
	}
	o.KMSKeyID, _ = r.str("ServerSideEncryptionKmsKeyId", "")
	acl, _ := r.str("CannedAclForObjects", "none")
	if o.CannedACL = norm(acl); o.CannedACL == "none" {
		o.CannedACL = ""
	}
	o.ExpectedBucketOwner, _ = r.str("ExpectedBucketOwner", "")
}

// validate checks the settings' values; the zero value is valid.
func (s TargetSettings) validate() error {
	switch s.DataFormat {
	case "", FormatCSV, FormatParquet:
	default:
		return configError("DataFormat %q is not valid: use csv or parquet", s.DataFormat)
	}
	delim, row := s.delimiter(), s.rowDelimiter()
	switch {
	case strings.Contains(delim, `"`):
		return configError("CsvDelimiter %q may not contain a double quote", delim)
	case strings.Contains(row, `"`):
		return configError("CsvRowDelimiter %q may not contain a double quote", row)
	case delim == row:
		return configError("CsvDelimiter and CsvRowDelimiter are both %q: they must differ", delim)
	}
	switch s.ParquetVersion {
	case "", "parquet-1-0", "parquet-2-0":
	default:
		return configError("ParquetVersion %q is not valid: use parquet-1-0 or parquet-2-0", s.ParquetVersion)
	}
	switch s.EncodingType {
	case "", EncodingRLEDictionary, EncodingPlain, EncodingPlainDictionary:
	default:
		return configError("EncodingType %q is not valid: use rle-dictionary, plain or plain-dictionary", s.EncodingType)
	}
	switch o := s.Objects; {
	case o.Encryption != "" && o.Encryption != "sse-s3" && o.Encryption != "sse-kms":
		return configError("EncryptionMode %q is not valid: use sse-s3 or sse-kms", o.Encryption)
	case o.KMSKeyID != "" && o.Encryption != "sse-kms":
		return configError("ServerSideEncryptionKmsKeyId is set, but EncryptionMode is not sse-kms: set EncryptionMode to sse-kms")
	case o.CannedACL != "" && !slices.Contains(cannedACLs, o.CannedACL):
		return configError("CannedAclForObjects %q is not valid: use one of %s", o.CannedACL, strings.Join(cannedACLs, ", "))
	}
	if s.CdcInsertsOnly && s.CdcInsertsAndUpdates {
		return configError("CdcInsertsOnly and CdcInsertsAndUpdates are both true: set at most one of them")
	}
	if err := s.validatePartitions(); err != nil {
		return err
	}
	if s.MaxFileSizeKB < 0 || s.MaxFileSizeKB > DefaultMaxFileSizeKB {
		return configError("MaxFileSize %d is out of range: use 1 to %d (KB)", s.MaxFileSizeKB, DefaultMaxFileSizeKB)
	}
	return nil
}

func (s TargetSettings) format() string { return cmp.Or(s.DataFormat, FormatCSV) }

func (s TargetSettings) delimiter() string { return cmp.Or(s.CSVDelimiter, ",") }

func (s TargetSettings) rowDelimiter() string { return cmp.Or(s.CSVRowDelimiter, "\n") }

// maxFileBytes is MaxFileSize in bytes.
func (s TargetSettings) maxFileBytes() int64 {
	kb := s.MaxFileSizeKB
	if kb <= 0 {
		kb = DefaultMaxFileSizeKB
	}
	return int64(kb) * 1024
}

// cdcOpColumn says CDC rows have an op column: always, unless only
// inserts (or inserts and updates) are written and the full load has none.
func (s TargetSettings) cdcOpColumn() bool {
	return s.IncludeOpForFullLoad || !(s.CdcInsertsOnly || s.CdcInsertsAndUpdates)
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}
