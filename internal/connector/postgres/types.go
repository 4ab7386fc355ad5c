package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/godwit-dms/godwit/internal/record"
)

// Engine is the engine family this connector's native types belong to.
const Engine = "postgres"

// OIDs of the built-in types the connector reads or writes natively.
const (
	oidBool        = 16
	oidBytea       = 17
	oidChar        = 18
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOID         = 26
	oidJSON        = 114
	oidXML         = 142
	oidFloat4      = 700
	oidFloat8      = 701
	oidMoney       = 790
	oidBPChar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestampTZ = 1184
	oidInterval    = 1186
	oidTimeTZ      = 1266
	oidNumeric     = 1700
	oidUUID        = 2950
	oidJSONB       = 3802
	oidInet        = 869
	oidCIDR        = 650
)

// decoder says how a field of the binary COPY stream becomes a canonical
// value; it follows the type the SELECT list produces (the wire type).
type decoder uint8

const (
	decText decoder = iota // text, varchar, bpchar, name, enum, json, and anything read as ::text
	decBool
	decInt2
	decInt4
	decInt8
	decOID
	decNumeric
	decFloat4
	decFloat8
	decBytea
	decDate
	decTime
	decTimestamp
	decTimestampTZ
	decJSONB
	decUUID
)

// readAs is how a column is selected: as it is, or converted on the server.
type readAs uint8

const (
	readRaw     readAs = iota
	readText           // col::text
	readNumeric        // col::numeric (money)
	readOutput         // the type's output function, where ::text differs from it (inet, cidr)
)

// pgType is a row of pg_type, with what the connector needs.
type pgType struct {
	oid      uint32
	name     string // format_type(oid, NULL)
	typtype  byte   // b base, c composite, d domain, e enum, p pseudo, r range, m multirange
	category byte   // typcategory; 'A' = array
	baseType uint32 // domains: the type they constrain
	baseMod  int32  // domains: the typmod applied to baseType
	elem     uint32 // arrays: the element type
	notNull  bool   // domains: NOT NULL
	labels   []string
}

// typeCache holds pg_type rows loaded by loadTypes.
type typeCache map[uint32]*pgType

// loadTypes fetches the types of oids and everything they refer to
// (domains' base types, arrays' element types), and enum labels.
func (tc typeCache) loadTypes(ctx context.Context, pg *pgx.Conn, oids []uint32) error {
	for {
		var want []uint32
		for _, o := range oids {
			if _, ok := tc[o]; !ok && o != 0 && !slices.Contains(want, o) {
				want = append(want, o)
			}
		}
		if len(want) == 0 {
			break
		}
		rows, err := pg.Query(ctx, `
SELECT t.oid, pg_catalog.format_type(t.oid, NULL), t.typtype::text, t.typcategory::text,
	t.typbasetype, t.typtypmod, CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE 0 END, t.typnotnull
FROM pg_catalog.pg_type t WHERE t.oid = ANY($1::oid[])`, want)
		if err != nil {
			return err
		}
		oids = oids[:0]
		var enums []uint32
		for rows.Next() {
			var t pgType
			var typtype, category string
			if err := rows.Scan(&t.oid, &t.name, &typtype, &category, &t.baseType, &t.baseMod, &t.elem, &t.notNull); err != nil {
				rows.Close()
				return err
			}
			t.typtype, t.category = typtype[0], category[0]
			tc[t.oid] = &t
			oids = append(oids, t.baseType, t.elem)
			if t.typtype == 'e' {
				enums = append(enums, t.oid)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, o := range want {
			if _, ok := tc[o]; !ok {
				tc[o] = &pgType{oid: o, name: fmt.Sprintf("oid %d", o), typtype: 'b', category: 'U'}
			}
		}
		if len(enums) > 0 {
			if err := tc.loadLabels(ctx, pg, enums); err != nil {
				return err
			}
		}
	}
	return nil
}

func (tc typeCache) loadLabels(ctx context.Context, pg *pgx.Conn, enums []uint32) error {
	rows, err := pg.Query(ctx, `
SELECT enumtypid, enumlabel FROM pg_catalog.pg_enum
WHERE enumtypid = ANY($1::oid[]) ORDER BY enumtypid, enumsortorder`, enums)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var o uint32
		var label string
		if err := rows.Scan(&o, &label); err != nil {
			return err
		}
		tc[o].labels = append(tc[o].labels, label)
	}
	return rows.Err()
}

// colPlan is how one column is read: its canonical type, the SQL that
// selects it and how its binary field decodes.
type colPlan struct {
	name    string
	typ     record.Type
	notNull bool // the column or its domain says NOT NULL
	read    readAs
	dec     decoder
	base    *pgType // the type, domains resolved
}

// plan maps a column of type oid/typmod (native = format_type of both) to
// its record.Type and read plan. Domains resolve to their base type; the
// column keeps the domain's name as Native.
func (tc typeCache) plan(name string, oid uint32, typmod int32, native string) colPlan {
	p := colPlan{name: name}
	t := tc[oid]
	for depth := 0; t.typtype == 'd' && depth < 32; depth++ {
		p.notNull = p.notNull || t.notNull
		if t.baseMod >= 0 || typmod < 0 {
			typmod = t.baseMod
		}
		t = tc[t.baseType]
	}
	p.base = t
	p.typ, p.read, p.dec = tc.kindOf(t, typmod)
	p.typ.Native, p.typ.Engine = native, Engine
	return p
}

// kindOf maps a non-domain type to its record.Type (without Native).
func (tc typeCache) kindOf(t *pgType, typmod int32) (record.Type, readAs, decoder) {
	var rt record.Type
	switch t.oid {
	case oidBool:
		rt.Kind = record.KindBool
		return rt, readRaw, decBool
	case oidInt2:
		rt.Kind = record.KindInt16
		return rt, readRaw, decInt2
	case oidInt4:
		rt.Kind = record.KindInt32
		return rt, readRaw, decInt4
	case oidInt8:
		rt.Kind = record.KindInt64
		return rt, readRaw, decInt8
	case oidOID:
		rt.Kind = record.KindInt64
		return rt, readRaw, decOID
	case oidNumeric:
		rt.Kind = record.KindNumeric
		if typmod >= 4 {
			rt.Precision = int((typmod-4)>>16) & 0xffff
			rt.Scale = int((((typmod - 4) & 0x7ff) ^ 1024) - 1024) // 11-bit signed
		}
		return rt, readRaw, decNumeric
	case oidMoney:
		rt.Kind = record.KindNumeric
		return rt, readNumeric, decNumeric
	case oidFloat4:
		rt.Kind = record.KindFloat32
		return rt, readRaw, decFloat4
	case oidFloat8:
		rt.Kind = record.KindFloat64
		return rt, readRaw, decFloat8
	case oidText:
		rt.Kind = record.KindText
		return rt, readRaw, decText
	case oidVarchar, oidBPChar:
		rt.Kind = record.KindText
		if typmod >= 4 {
			rt.Kind, rt.Length = record.KindString, int(typmod-4)
		}
		return rt, readRaw, decText
	case oidName:
		rt.Kind, rt.Length = record.KindString, 63
		return rt, readRaw, decText
	case oidChar:
		rt.Kind, rt.Length = record.KindString, 1
		return rt, readText, decText
	case oidBytea:
		rt.Kind = record.KindBlob
		return rt, readRaw, decBytea
	case oidDate:
		rt.Kind = record.KindDate
		return rt, readRaw, decDate
	case oidTime:
		rt.Kind, rt.Precision = record.KindTime, fracDigits(typmod)
		return rt, readRaw, decTime
	case oidTimestamp:
		rt.Kind, rt.Precision = record.KindTimestamp, fracDigits(typmod)
		return rt, readRaw, decTimestamp
	case oidTimestampTZ:
		rt.Kind, rt.Precision = record.KindTimestampTZ, fracDigits(typmod)
		return rt, readRaw, decTimestampTZ
	case oidInterval:
		rt.Kind = record.KindInterval
		return rt, readText, decText
	case oidJSON:
		rt.Kind = record.KindJSON
		return rt, readRaw, decText
	case oidJSONB:
		rt.Kind = record.KindJSON
		return rt, readRaw, decJSONB
	case oidUUID:
		rt.Kind = record.KindUUID
		return rt, readRaw, decUUID
	case oidXML:
		rt.Kind = record.KindText
		return rt, readText, decText
	case oidInet, oidCIDR:
		// inet's cast to text always adds the mask length ("::1/128").
		rt.Kind = record.KindString
		return rt, readOutput, decText
	}
	switch {
	case t.typtype == 'e':
		rt.Kind = record.KindEnum
		rt.EnumValues = slices.Clone(t.labels)
		for _, l := range t.labels {
			rt.Length = max(rt.Length, utf8.RuneCountInString(l))
		}
		return rt, readRaw, decText
	case t.category == 'A' && t.elem != 0:
		rt.Kind = record.KindArray
		et := tc[t.elem]
		elemPlan := tc.plan("", t.elem, typmod, et.name)
		elem := elemPlan.typ
		rt.Elem = &elem
		return rt, readText, decText
	case t.typtype == 'c' || t.category == 'S':
		rt.Kind = record.KindText
		return rt, readText, decText
	}
	rt.Kind = record.KindString
	return rt, readText, decText
}

// fracDigits is the fractional-second precision of a time or timestamp
// typmod; the default is 6.
func fracDigits(typmod int32) int {
	if typmod >= 0 && typmod <= 6 {
		return int(typmod)
	}
	return 6
}

// targetType is the PostgreSQL type a column of type t gets on a target
// when its native type cannot be used, after DMS's PostgreSQL target
// mapping (see TYPES.md).
func targetType(t record.Type) string {
	switch t.Kind {
	case record.KindBool:
		return "boolean"
	case record.KindInt16:
		return "smallint"
	case record.KindInt32:
		return "integer"
	case record.KindInt64:
		return "bigint"
	case record.KindUint64:
		return "numeric(20,0)"
	case record.KindNumeric:
		if t.Precision >= 1 && t.Precision <= 1000 && t.Scale >= 0 && t.Scale <= t.Precision {
			return "numeric(" + strconv.Itoa(t.Precision) + "," + strconv.Itoa(t.Scale) + ")"
		}
		return "numeric"
	case record.KindFloat32:
		return "real"
	case record.KindFloat64:
		return "double precision"
	case record.KindString:
		if t.Length >= 1 && t.Length <= 10485760 {
			return "character varying(" + strconv.Itoa(t.Length) + ")"
		}
		return "text"
	case record.KindText, record.KindJSON, record.KindArray, record.KindInterval:
		return "text"
	case record.KindBytes, record.KindBlob:
		return "bytea"
	case record.KindDate:
		return "date"
	case record.KindTime:
		return "time(" + strconv.Itoa(min(max(t.Precision, 0), 6)) + ") without time zone"
	case record.KindTimestamp:
		return "timestamp(" + strconv.Itoa(min(max(t.Precision, 0), 6)) + ") without time zone"
	case record.KindTimestampTZ:
		return "timestamp(" + strconv.Itoa(min(max(t.Precision, 0), 6)) + ") with time zone"
	case record.KindUUID:
		return "uuid"
	case record.KindEnum:
		n := t.Length
		for _, v := range t.EnumValues {
			n = max(n, utf8.RuneCountInString(v))
		}
		if n >= 1 && n <= 10485760 {
			return "character varying(" + strconv.Itoa(n) + ")"
		}
		return "character varying"
	}
	return "text"
}
