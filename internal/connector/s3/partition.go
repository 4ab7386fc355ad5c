package s3

import (
	"cmp"
	"path"
	"strings"
	"time"
	_ "time/tzdata" // DatePartitionTimezone must resolve on hosts without a zoneinfo database.
)

// Date-based folder partitioning (DatePartitionEnabled), as DMS does it
// for an S3 target: CDC files go to a folder of their table named after
// the commit date of their changes, [BucketFolder/]<schema>/<table>/
// 2024/01/31/20240131-1134010000.csv with the defaults. LOAD files stay
// in the table's folder. DatePartitionSequence orders the parts (YYYYMMDD,
// YYYYMMDDHH, YYYYMM, MMYYYYDD, DDMMYYYY), DatePartitionDelimiter joins
// them (SLASH, UNDERSCORE, DASH, NONE), and DatePartitionTimezone
// (an Area/Location name, UTC by default) is the zone of both the folder
// and the CDC file name.
//
// A file's folder is derived from its stamp, which the table's cdcMarker
// records, so a replayed apply rewrites the same object in the same
// folder. Stamps count the zone's wall-clock time, so that the names of
// consecutive files still sort in order when the clock goes back an
// hour: a file whose name would not sort after the last one takes the
// next number (see applyChanges).

// partitionLayouts are the time layouts of the parts of a date folder,
// per DatePartitionSequence.
var partitionLayouts = map[string][]string{
	"YYYYMMDD":   {"2006", "01", "02"},
	"YYYYMMDDHH": {"2006", "01", "02", "15"},
	"YYYYMM":     {"2006", "01"},
	"MMYYYYDD":   {"01", "2006", "02"},
	"DDMMYYYY":   {"02", "01", "2006"},
}

// partitionDelimiters join the parts of a date folder, per
// DatePartitionDelimiter.
var partitionDelimiters = map[string]string{"SLASH": "/", "UNDERSCORE": "_", "DASH": "-", "NONE": ""}

// ignoredReasons say why a setting in IgnoredCDCSettings has no effect.
var ignoredReasons = map[string]string{
	"CdcPath":                "an S3 target uses it only with PreserveTransactions=true",
	"DatePartitionSequence":  "it applies only with DatePartitionEnabled=true",
	"DatePartitionDelimiter": "it applies only with DatePartitionEnabled=true",
	"DatePartitionTimezone":  "it applies only with DatePartitionEnabled=true",
	"UseCsvNoSupValue":       "it applies to CSV files, with a CsvNoSupValue",
	"CsvNoSupValue":          "it applies to CSV files, with UseCsvNoSupValue=true",
}

// partitionSettings reads the settings of date partitions and transaction
// files into s, noting those given without effect.
func (r *settingsReader) partitionSettings(s *TargetSettings) {
	s.DatePartition = r.boolean("DatePartitionEnabled", false)
	s.PreserveTransactions = r.boolean("PreserveTransactions", false)
	seq, seqSet := r.str("DatePartitionSequence", "")
	s.DatePartitionSequence = strings.ToUpper(strings.TrimSpace(seq))
	delim, delimSet := r.str("DatePartitionDelimiter", "")
	s.DatePartitionDelimiter = strings.ToUpper(strings.TrimSpace(delim))
	zone, zoneSet := r.str("DatePartitionTimezone", "")
	switch zone = strings.TrimSpace(zone); {
	case zone == "":
	case strings.EqualFold(zone, "Local"):
		r.fail("DatePartitionTimezone %q is not a time zone name: use an Area/Location name such as Asia/Seoul", zone)
	default:
		loc, err := time.LoadLocation(zone)
		if err != nil {
			r.fail("DatePartitionTimezone %q is not a time zone name: use an Area/Location name such as Asia/Seoul (%v)", zone, err)
		}
		s.DatePartitionZone = loc
	}
	cdcPath, pathSet := r.str("CdcPath", "")
	s.CdcPath = strings.Trim(strings.TrimSpace(cdcPath), "/")
	if !s.DatePartition {
		for _, k := range []struct {
			name string
			set  bool
		}{{"DatePartitionSequence", seqSet}, {"DatePartitionDelimiter", delimSet}, {"DatePartitionTimezone", zoneSet}} {
			if k.set {
				s.IgnoredCDCSettings = append(s.IgnoredCDCSettings, k.name)
			}
		}
	}
	if pathSet && !s.PreserveTransactions {
		s.IgnoredCDCSettings = append(s.IgnoredCDCSettings, "CdcPath")
	}
}

// validatePartitions checks the settings of date partitions and
// transaction files.
func (s TargetSettings) validatePartitions() error {
	if _, ok := partitionLayouts[s.partitionSequence()]; !ok {
		return configError("DatePartitionSequence %q is not valid: use YYYYMMDD, YYYYMMDDHH, YYYYMM, MMYYYYDD or DDMMYYYY", s.DatePartitionSequence)
	}
	if _, ok := partitionDelimiters[s.partitionDelimiter()]; !ok {
		return configError("DatePartitionDelimiter %q is not valid: use SLASH, UNDERSCORE, DASH or NONE", s.DatePartitionDelimiter)
	}
	if !s.PreserveTransactions {
		return nil
	}
	if s.CdcPath == "" {
		return configError("PreserveTransactions is true but CdcPath is not set: S3Settings.CdcPath must name the folder (under BucketFolder) for the transaction files")
	}
	for _, part := range strings.Split(s.CdcPath, "/") {
		if part == "" || part == "." || part == ".." {
			return configError("CdcPath %q is not valid: it may not contain empty, \".\" or \"..\" path segments", s.CdcPath)
		}
	}
	if s.DatePartition {
		return configError("DatePartitionEnabled cannot be used with PreserveTransactions: the transaction files in CdcPath are not partitioned by date")
	}
	return nil
}

func (s TargetSettings) partitionSequence() string {
	return cmp.Or(s.DatePartitionSequence, "YYYYMMDD")
}

func (s TargetSettings) partitionDelimiter() string { return cmp.Or(s.DatePartitionDelimiter, "SLASH") }

// cdcZone is the time zone of CDC file names and date folders.
func (s TargetSettings) cdcZone() *time.Location {
	if s.DatePartition && s.DatePartitionZone != nil {
		return s.DatePartitionZone
	}
	return time.UTC
}

// dateFolder is the date folder of the CDC file with stamp (see
// cdcStamp), or "" without date partitioning.
func (s TargetSettings) dateFolder(stamp int64) string {
	if !s.DatePartition {
		return ""
	}
	wall := time.Unix(stamp/10000, 0).UTC()
	layouts := partitionLayouts[s.partitionSequence()]
	parts := make([]string, len(layouts))
	for i, l := range layouts {
		parts[i] = wall.Format(l)
	}
	return strings.Join(parts, partitionDelimiters[s.partitionDelimiter()])
}

// cdcKey is the key of the CDC file with stamp of the table at prefix.
func (s TargetSettings) cdcKey(prefix string, stamp int64, ext string) string {
	return path.Join(prefix, s.dateFolder(stamp), cdcName(stamp, ext))
}

// isDateFolder says dir, a folder inside a table's folder ("a/b/"), has
// the shape of a date folder of any sequence and delimiter.
func isDateFolder(dir string) bool {
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		return false
	}
	for _, part := range strings.Split(dir, "/") {
		if part == "" {
			return false
		}
		for _, c := range part {
			if !(c >= '0' && c <= '9' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}

// ignoredCDC lists the settings of IgnoredCDCSettings with their reasons.
func ignoredCDC(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n + " (" + ignoredReasons[n] + ")"
	}
	return out
}

// noSupSettings reads UseCsvNoSupValue and CsvNoSupValue into s: the
// value applies to CSV files when both are given (a parquet target writes
// NULL; transaction files are always CSV), and a setting given without
// effect is noted.
func (r *settingsReader) noSupSettings(s *TargetSettings) {
	use := r.boolean("UseCsvNoSupValue", false)
	val, valSet := r.str("CsvNoSupValue", "")
	csv := s.format() != FormatParquet || s.PreserveTransactions
	if use && valSet && csv {
		s.NoSupValue = &val
		return
	}
	if use {
		s.IgnoredCDCSettings = append(s.IgnoredCDCSettings, "UseCsvNoSupValue")
	}
	if valSet {
		s.IgnoredCDCSettings = append(s.IgnoredCDCSettings, "CsvNoSupValue")
	}
}
