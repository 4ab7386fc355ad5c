package postgres

import (
	"errors"
	"testing"
)

func TestNumericBinaryRoundTrip(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0", "0"}, {"-0", "0"}, {"0.000", "0.000"}, {"1", "1"}, {"-1", "-1"},
		{"12.34", "12.34"}, {"-12.3400", "-12.3400"}, {"10000", "10000"}, {"9999.9999", "9999.9999"},
		{"0.0001", "0.0001"}, {"0.00001", "0.00001"}, {".5", "0.5"}, {"5.", "5"}, {"+7", "7"},
		{"123456789012345678901234567890.000000000000000000001", "123456789012345678901234567890.000000000000000000001"},
		{"1e3", "1000"}, {"1.5E-3", "0.0015"}, {"-2.50e+2", "-250"}, {"12345e-2", "123.45"},
		{"000123.4500", "123.4500"}, {" 42 ", "42"},
		{"NaN", "NaN"}, {"Infinity", "Infinity"}, {"-Infinity", "-Infinity"}, {"inf", "Infinity"},
		{"18446744073709551615", "18446744073709551615"},
	} {
		bin, err := appendNumericBinary(nil, tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		got, err := appendNumericText(nil, bin)
		if err != nil || string(got) != tc.want {
			t.Errorf("%q: round trip %q (%v), want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "-", ".", "1.2.3", "1e", "e5", "12x", "0x10", "1e9999999", "--1", "-NaN", "1,5"} {
		if _, err := appendNumericBinary(nil, bad); !errors.Is(err, ErrBadValue) {
			t.Errorf("%q: %v, want ErrBadValue", bad, err)
		}
	}
}

func TestNumericTextMalformed(t *testing.T) {
	for _, b := range [][]byte{nil, {0, 1, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0x12, 0x34, 0, 0}} {
		if _, err := appendNumericText(nil, b); !errors.Is(err, ErrCopyProtocol) {
			t.Errorf("%x: %v", b, err)
		}
	}
}

func FuzzNumericBinary(f *testing.F) {
	for _, s := range []string{"0", "-12.3400", "1e5", "0.0001", "NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		bin, err := appendNumericBinary(nil, s)
		if err != nil {
			return
		}
		text, err := appendNumericText(nil, bin)
		if err != nil {
			t.Fatalf("%q: encoded %x does not decode: %v", s, bin, err)
		}
		again, err := appendNumericBinary(nil, string(text))
		if err != nil || string(again) != string(bin) {
			t.Fatalf("%q -> %q -> %x, want %x", s, text, again, bin)
		}
	})
}
