package mysql

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/godwit-dms/godwit/internal/record"
)

// engineFamily is the record.Type.Engine of this connector's native types,
// and its TargetDialect family.
const engineFamily = "mysql"

// Limits of the target DDL.
const (
	// maxVarcharChars is the longest VARCHAR a utf8mb4 row can hold
	// (65,535 bytes / 4).
	maxVarcharChars = 16383
	// maxTextChars / maxMediumTextChars: what TEXT / MEDIUMTEXT hold in
	// utf8mb4 characters.
	maxTextChars       = 65535 / 4
	maxMediumTextChars = 16777215 / 4
	maxVarbinaryBytes  = 65535
	// maxRowBytes is InnoDB's row size limit for the in-row part of
	// VARCHAR/VARBINARY columns (less a little for length bytes and NULLs).
	maxRowBytes = 65535 - 512
	// maxKeyBytes is InnoDB's index key limit (DYNAMIC rows).
	maxKeyBytes = 3072
	// maxDecimalPrecision / maxDecimalScale are the DECIMAL limits both
	// MySQL and MariaDB accept.
	maxDecimalPrecision = 65
	maxDecimalScale     = 30
)

// sourceColumn is a column as information_schema.COLUMNS describes it.
type sourceColumn struct {
	dataType   string // DATA_TYPE, lower case
	columnType string // COLUMN_TYPE, e.g. "int(10) unsigned"
	charLen    int64  // CHARACTER_MAXIMUM_LENGTH
	precision  int64  // NUMERIC_PRECISION
	scale      int64  // NUMERIC_SCALE
	dtPrec     int64  // DATETIME_PRECISION
	json       bool   // MariaDB: LONGTEXT with a json_valid CHECK
}

// recordType maps a MySQL column type to the engine-neutral type (TYPES.md).
func recordType(c sourceColumn) record.Type {
	t := record.Type{Native: c.columnType, Engine: engineFamily}
	unsigned := strings.Contains(c.columnType, "unsigned")
	switch c.dataType {
	case "tinyint", "year":
		// TINYINT(1) included: DMS maps it to INT1, not BOOLEAN, and a
		// TINYINT(1) may hold any of -128..127.
		t.Kind = record.KindInt16
	case "smallint":
		t.Kind = record.KindInt16
		if unsigned {
			t.Kind = record.KindInt32
		}
	case "mediumint":
		t.Kind = record.KindInt32
	case "int", "integer":
		t.Kind = record.KindInt32
		if unsigned {
			t.Kind = record.KindInt64
		}
	case "bigint":
		t.Kind = record.KindInt64
		if unsigned {
			t.Kind = record.KindUint64
		}
	case "decimal", "numeric":
		t.Kind, t.Precision, t.Scale = record.KindNumeric, int(c.precision), int(c.scale)
	case "float":
		t.Kind = record.KindFloat32
	case "double", "real":
		t.Kind = record.KindFloat64
	case "bit":
		if c.precision <= 1 {
			t.Kind = record.KindBool
		} else {
			t.Kind, t.Length = record.KindBytes, int(c.precision+7)/8
		}
	case "char", "varchar":
		t.Kind, t.Length = record.KindString, int(c.charLen)
	case "tinytext", "text", "mediumtext", "longtext":
		t.Kind = record.KindText
		if c.json {
			t.Kind, t.Native = record.KindJSON, "json"
		}
	case "json":
		t.Kind = record.KindJSON
	case "binary", "varbinary":
		t.Kind, t.Length = record.KindBytes, int(c.charLen)
	case "tinyblob", "blob", "mediumblob", "longblob",
		"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
		"multipolygon", "geometrycollection", "geomcollection":
		t.Kind = record.KindBlob
	case "date":
		t.Kind = record.KindDate
	case "time":
		t.Kind, t.Precision = record.KindTime, int(c.dtPrec)
	case "datetime":
		t.Kind, t.Precision = record.KindTimestamp, int(c.dtPrec)
	case "timestamp":
		t.Kind, t.Precision = record.KindTimestampTZ, int(c.dtPrec)
	case "enum":
		t.Kind, t.EnumValues = record.KindEnum, parseEnumValues(c.columnType)
	case "set":
		t.Kind, t.Length = record.KindString, int(c.charLen)
	case "uuid": // MariaDB 10.7+
		t.Kind = record.KindUUID
	case "inet4", "inet6": // MariaDB 10.5+
		t.Kind, t.Length = record.KindString, 39
	default:
		// Types this connector does not know (MariaDB VECTOR...) travel as
		// their text form.
		t.Kind = record.KindText
	}
	return t
}

// parseEnumValues reads the labels of "enum('a','it”s')".
func parseEnumValues(columnType string) []string {
	open := strings.IndexByte(columnType, '(')
	if open < 0 {
		return nil
	}
	s := columnType[open+1:]
	var out []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case !in && ch == '\'':
			in = true
			cur.Reset()
		case in && ch == '\'' && i+1 < len(s) && s[i+1] == '\'':
			cur.WriteByte('\'')
			i++
		case in && ch == '\\' && i+1 < len(s):
			cur.WriteByte(s[i+1])
			i++
		case in && ch == '\'':
			in = false
			out = append(out, cur.String())
		case in:
			cur.WriteByte(ch)
		}
	}
	return out
}

// mariaDBOnlyTypes are native MariaDB types a MySQL target does not have.
var mariaDBOnlyTypes = []string{"uuid", "inet4", "inet6", "vector"}

// useNative says whether a column keeps its native MySQL type on this target.
func useNative(t record.Type, f serverFlavor) bool {
	if t.Engine != engineFamily || t.Native == "" {
		return false
	}
	if !f.mariaDB {
		n := strings.ToLower(t.Native)
		for _, m := range mariaDBOnlyTypes {
			if n == m || strings.HasPrefix(n, m+"(") {
				return false
			}
		}
	}
	return true
}

// colClass says how a target column type counts against InnoDB's row and
// key limits.
type colClass uint8

const (
	classFixed     colClass = iota
	classVarChar            // VARCHAR/CHAR(n): n utf8mb4 characters in the row
	classVarBinary          // VARBINARY/BINARY(n): n bytes in the row
	classTextLOB            // TEXT types, JSON: off-row, needs a prefix to be a key
	classBinaryLOB          // BLOB types
)

// colDef is a target column type.
type colDef struct {
	base    string // e.g. "varchar(64)"
	collate string // explicit collation, "" for the table default
	class   colClass
	n       int // characters (classVarChar) or bytes (classVarBinary)
}

func (d colDef) sql() string {
	if d.collate == "" {
		return d.base
	}
	return d.base + " COLLATE " + d.collate
}

// rowBytes is what the column takes of the in-row limit.
func (d colDef) rowBytes() int {
	switch d.class {
	case classVarChar:
		return 4*d.n + 2
	case classVarBinary:
		return d.n + 2
	}
	return 0
}

// targetType is the column type a target table gets for t (TYPES.md): the
// native type for a MySQL-family source, else DMS's MySQL target mapping.
// Text columns of other engines get the binary, no-pad utf8mb4 collation,
// so that keys and comparisons keep the source's case- and
// trailing-space-sensitivity.
func targetType(t record.Type, f serverFlavor) colDef {
	if useNative(t, f) {
		return nativeDef(t.Native)
	}
	bin := binCollation(f)
	text := func(n int) colDef {
		switch {
		case n > 0 && n <= maxVarcharChars:
			return colDef{base: fmt.Sprintf("varchar(%d)", n), collate: bin, class: classVarChar, n: n}
		case n > 0 && n <= maxMediumTextChars:
			return colDef{base: "mediumtext", collate: bin, class: classTextLOB}
		}
		return colDef{base: "longtext", collate: bin, class: classTextLOB}
	}
	fixed := func(s string) colDef { return colDef{base: s} }
	switch t.Kind {
	case record.KindBool:
		return fixed("tinyint(1)")
	case record.KindInt16:
		return fixed("smallint")
	case record.KindInt32:
		return fixed("int")
	case record.KindInt64:
		return fixed("bigint")
	case record.KindUint64:
		return fixed("bigint unsigned")
	case record.KindNumeric:
		p, s := t.Precision, t.Scale
		switch {
		case p == 0:
			// Unconstrained NUMERIC: the widest exact DECIMAL (DMS would use
			// NUMERIC(28,6) and round); values beyond it are rejected.
			return fixed(fmt.Sprintf("decimal(%d,%d)", maxDecimalPrecision, maxDecimalScale))
		case s < 0 && p-s <= maxDecimalPrecision:
			return fixed(fmt.Sprintf("decimal(%d,0)", p-s))
		case p <= maxDecimalPrecision && s >= 0 && s <= maxDecimalScale && s <= p:
			return fixed(fmt.Sprintf("decimal(%d,%d)", p, s))
		}
		// Wider than DECIMAL: DMS's STRING, long enough for sign and point.
		return text(p + 2)
	case record.KindFloat32:
		return fixed("float")
	case record.KindFloat64:
		return fixed("double")
	case record.KindString:
		return text(t.Length)
	case record.KindText, record.KindArray:
		return text(0)
	case record.KindBytes:
		if t.Length > 0 && t.Length <= maxVarbinaryBytes {
			return colDef{base: fmt.Sprintf("varbinary(%d)", t.Length), class: classVarBinary, n: t.Length}
		}
		return colDef{base: "longblob", class: classBinaryLOB}
	case record.KindBlob:
		return colDef{base: "longblob", class: classBinaryLOB}
	case record.KindDate:
		return fixed("date")
	case record.KindTime:
		return fixed(fmt.Sprintf("time(%d)", fracDigits(t.Precision)))
	case record.KindTimestamp, record.KindTimestampTZ:
		// DMS keeps TIMESTAMP WITH TIME ZONE as DATETIME in UTC: MySQL's
		// TIMESTAMP stops in 2038.
		return fixed(fmt.Sprintf("datetime(%d)", fracDigits(t.Precision)))
	case record.KindJSON:
		return colDef{base: "json", class: classTextLOB}
	case record.KindUUID:
		return fixed("char(36) CHARACTER SET ascii COLLATE ascii_bin")
	case record.KindEnum:
		n := 1
		for _, v := range t.EnumValues {
			n = max(n, utf8.RuneCountInString(v))
		}
		if len(t.EnumValues) == 0 {
			n = 255
		}
		return text(n)
	case record.KindInterval:
		return text(100)
	}
	return text(0)
}

// nativeDef classifies a native MySQL column type.
func nativeDef(native string) colDef {
	d := colDef{base: native}
	n := strings.ToLower(native)
	name, rest, _ := strings.Cut(n, "(")
	name = strings.TrimSpace(name)
	size := 0
	if rest != "" {
		fmt.Sscanf(rest, "%d", &size)
	}
	switch name {
	case "varchar", "char":
		d.class, d.n = classVarChar, size
	case "varbinary", "binary":
		d.class, d.n = classVarBinary, size
	case "tinytext", "text", "mediumtext", "longtext", "json":
		d.class = classTextLOB
	case "tinyblob", "blob", "mediumblob", "longblob":
		d.class = classBinaryLOB
	}
	return d
}

// fracDigits clamps fractional-second digits to MySQL's 0..6. A source
// type without a declared precision (0) gets 6, the most MySQL keeps: an
// engine-neutral timestamp may carry microseconds.
func fracDigits(p int) int {
	if p <= 0 || p > 6 {
		return 6
	}
	return p
}

// binCollation is the binary, no-pad utf8mb4 collation of the server.
func binCollation(f serverFlavor) string {
	switch {
	case f.mariaDB:
		return "utf8mb4_nopad_bin"
	case f.major >= 8:
		return "utf8mb4_0900_bin"
	}
	return "utf8mb4_bin" // MySQL 5.7 has no NO PAD binary collation

}
