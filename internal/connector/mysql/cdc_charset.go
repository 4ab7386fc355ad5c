package mysql

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// The binary log holds text in its column's character set, where reads get
// it converted to utf8mb4 by the server. charsetConv does that conversion
// for the character sets other than UTF-8 and ASCII.
type charsetConv struct {
	name    string
	table   *[256]rune          // single-byte character sets
	convert func([]byte) []byte // the others
}

// cp1252High is Windows-1252 from 0x80 to 0x9F; MySQL's latin1 is
// Windows-1252 with the five unassigned bytes kept as C1 controls.
var cp1252High = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

// singleByteCharsets are MySQL character sets with an x/text equivalent.
var singleByteCharsets = map[string]*charmap.Charmap{
	"latin2": charmap.ISO8859_2, "cp1250": charmap.Windows1250, "cp1251": charmap.Windows1251,
	"cp1256": charmap.Windows1256, "cp1257": charmap.Windows1257, "greek": charmap.ISO8859_7,
	"hebrew": charmap.ISO8859_8, "latin5": charmap.ISO8859_9, "latin7": charmap.ISO8859_13,
	"koi8r": charmap.KOI8R, "koi8u": charmap.KOI8U, "cp866": charmap.CodePage866,
	"cp850": charmap.CodePage850, "macroman": charmap.Macintosh,
}

var multiByteCharsets = map[string]encoding.Encoding{
	"gbk": simplifiedchinese.GBK, "gb2312": simplifiedchinese.GBK, "gb18030": simplifiedchinese.GB18030,
	"big5": traditionalchinese.Big5, "sjis": japanese.ShiftJIS, "cp932": japanese.ShiftJIS,
	"ujis": japanese.EUCJP, "eucjpms": japanese.EUCJP, "euckr": korean.EUCKR,
}

// newCharsetConv returns the converter of a MySQL character set: nil when
// its bytes are UTF-8 already (utf8mb4, utf8mb3, ascii, binary), an error
// when CDC cannot convert it.
func newCharsetConv(name string) (*charsetConv, error) {
	name = strings.ToLower(name)
	switch name {
	case "", "utf8mb4", "utf8mb3", "utf8", "ascii", "binary":
		return nil, nil
	case "latin1":
		var t [256]rune
		for i := range t {
			t[i] = rune(i)
		}
		copy(t[0x80:0xa0], cp1252High[:])
		return &charsetConv{name: name, table: &t}, nil
	case "ucs2", "utf16":
		return &charsetConv{name: name, convert: func(b []byte) []byte { return utf16Text(b, binary.BigEndian) }}, nil
	case "utf16le":
		return &charsetConv{name: name, convert: func(b []byte) []byte { return utf16Text(b, binary.LittleEndian) }}, nil
	case "utf32":
		return &charsetConv{name: name, convert: utf32Text}, nil
	}
	if cm, ok := singleByteCharsets[name]; ok {
		var t [256]rune
		for i := range t {
			t[i] = cm.DecodeByte(byte(i))
		}
		return &charsetConv{name: name, table: &t}, nil
	}
	if enc, ok := multiByteCharsets[name]; ok {
		return &charsetConv{name: name, convert: func(b []byte) []byte {
			out, err := enc.NewDecoder().Bytes(b)
			if err != nil {
				return []byte(strings.ToValidUTF8(string(b), "\uFFFD"))
			}
			return out
		}}, nil
	}
	return nil, fmt.Errorf("character set %s is not supported by CDC", name)
}

// decode converts b to a UTF-8 string.
func (c *charsetConv) decode(b []byte, a *arena) (any, error) {
	if c.table == nil {
		return a.String(c.convert(b)), nil
	}
	ascii := true
	for _, ch := range b {
		if ch >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return a.String(b), nil
	}
	out := make([]byte, 0, len(b)*2)
	for _, ch := range b {
		out = utf8.AppendRune(out, c.table[ch])
	}
	return string(out), nil
}

func utf16Text(b []byte, order binary.ByteOrder) []byte {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = order.Uint16(b[2*i:])
	}
	out := make([]byte, 0, len(b))
	for _, r := range utf16.Decode(u) {
		out = utf8.AppendRune(out, r)
	}
	return out
}

func utf32Text(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i+4 <= len(b); i += 4 {
		out = utf8.AppendRune(out, rune(binary.BigEndian.Uint32(b[i:])))
	}
	return out
}
