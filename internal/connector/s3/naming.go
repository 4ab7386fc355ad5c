package s3

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/godwit-dms/godwit/internal/record"
)

// loadPrefix starts the name of every full-load file.
const loadPrefix = "LOAD"

// loadDigits is the width of the upper-case hexadecimal counter of a LOAD
// file name: LOAD00000001, ..., LOAD00000009, LOAD0000000A, ...
const loadDigits = 8

// maxLoadNumber is the largest counter an 8-digit name can carry.
const maxLoadNumber = 1<<32 - 1

// loadExtensions are the endings of LOAD and CDC files this connector
// writes, and so deletes when a table is dropped or truncated.
var loadExtensions = []string{".csv", ".csv.gz", ".parquet"}

// loadMarker is the object a DO_NOTHING load leaves in the table's folder
// when older LOAD files exist: it holds the highest LOAD number that
// predates the load, so a restarted process knows which files are its own.
// It stays after FinishTable (a load redone with DeleteRange(nil) must
// still spare the older files) until the next PrepareTable rewrites or
// removes it. Names starting with "_" or "." are skipped by Athena, Glue
// and Spark.
const loadMarker = "_godwit_load_base"

// loadName is the file name of LOAD file n with extension ext.
func loadName(n uint32, ext string) string {
	return fmt.Sprintf("%s%08X%s", loadPrefix, n, ext)
}

// parseLoadName returns the counter of a LOAD file name written by this
// connector (any of loadExtensions), or false.
func parseLoadName(name string) (uint32, bool) {
	rest, ok := strings.CutPrefix(name, loadPrefix)
	if !ok || len(rest) < loadDigits {
		return 0, false
	}
	digits, ext := rest[:loadDigits], rest[loadDigits:]
	if !knownExtension(ext) {
		return 0, false
	}
	var n uint32
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | uint32(d)
	}
	return n, true
}

// cdcTimeLayout is the date and time part of a CDC file name; four
// digits follow it (ten-thousandths of a second, or a sequence).
const cdcTimeLayout = "20060102-150405"

// cdcStamp is the number a CDC file name encodes: the seconds of t's
// wall-clock time in loc counted as if it were UTC, times 10 000, plus
// the four digits, so that the next file name is stamp+1.
func cdcStamp(t time.Time, loc *time.Location) int64 {
	_, offset := t.In(loc).Zone()
	return (t.Unix()+int64(offset))*10000 + int64(t.Nanosecond()/100000)
}

// cdcName is the file name of the CDC file with stamp and extension ext:
// <yyyyMMdd-HHmmss><4 digits><ext> (the wall-clock time of the stamp's
// zone), e.g. 20141029-1134010000.csv.
func cdcName(stamp int64, ext string) string {
	sec, frac := stamp/10000, stamp%10000
	return fmt.Sprintf("%s%04d%s", time.Unix(sec, 0).UTC().Format(cdcTimeLayout), frac, ext)
}

// parseCDCName returns the stamp of a CDC file name written by this
// connector (any of loadExtensions), or false.
func parseCDCName(name string) (int64, bool) {
	n := len(cdcTimeLayout) + 4
	if len(name) < n || !knownExtension(name[n:]) {
		return 0, false
	}
	t, err := time.Parse(cdcTimeLayout, name[:len(cdcTimeLayout)])
	if err != nil {
		return 0, false
	}
	frac := 0
	for _, c := range name[len(cdcTimeLayout):n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		frac = frac*10 + int(c-'0')
	}
	return t.Unix()*10000 + int64(frac), true
}

func knownExtension(ext string) bool { return slices.Contains(loadExtensions, ext) }

// fileExtension is the extension of the LOAD files cfg writes: .csv,
// .csv.gz with GZIP, .parquet (compressed inside the file with GZIP).
func fileExtension(cfg Config) string {
	if cfg.Target.format() == FormatParquet {
		return ".parquet"
	}
	if cfg.CompressionType == "gzip" {
		return ".csv.gz"
	}
	return ".csv"
}

// checkPathPart refuses a schema or table name that cannot be one segment
// of an object key or a local path.
func checkPathPart(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: the %s name is empty", ErrInvalidName, what)
	case name == "." || name == "..":
		return fmt.Errorf("%w: the %s name %q cannot be a folder name", ErrInvalidName, what, name)
	case strings.ContainsAny(name, "/\x00"):
		return fmt.Errorf("%w: the %s name %q contains a slash or a NUL character", ErrInvalidName, what, name)
	}
	return nil
}

// tablePrefix is the key prefix of t's files, ending in "/":
// [BucketFolder/]<schema>/<table>/.
func tablePrefix(cfg Config, t *record.Table) (string, error) {
	if err := checkPathPart("schema", t.Schema); err != nil {
		return "", err
	}
	if err := checkPathPart("table", t.Name); err != nil {
		return "", err
	}
	return path.Join(cfg.Folder, t.Schema, t.Name) + "/", nil
}
