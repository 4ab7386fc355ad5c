package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Time is the model's default timestamp: epoch seconds with a millisecond
// fraction on the wire (1594429350.259). On input it also accepts a string
// holding epoch seconds or an ISO 8601 date.
type Time struct{ time.Time }

// NewTime returns a *Time for t (nil when t is zero).
func NewTime(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	return &Time{t}
}

func (t Time) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			t.Time = epoch(f)
			return nil
		}
		p, err := parseISO(s)
		if err != nil {
			return err
		}
		t.Time = p
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("timestamp %s is neither epoch seconds nor an ISO 8601 string", b)
	}
	t.Time = epoch(f)
	return nil
}

func epoch(f float64) time.Time {
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC().Round(time.Millisecond)
}

var isoLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02"}

func parseISO(s string) (time.Time, error) {
	for _, l := range isoLayouts {
		if p, err := time.Parse(l, s); err == nil {
			return p.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q is not an ISO 8601 date", s)
}

// ISOTime is the model's iso8601 timestamp: an RFC 3339 string on the wire.
type ISOTime struct{ time.Time }

// NewISOTime returns an *ISOTime for t (nil when t is zero).
func NewISOTime(t time.Time) *ISOTime {
	if t.IsZero() {
		return nil
	}
	return &ISOTime{t}
}

func (t ISOTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.UTC().Format("2006-01-02T15:04:05.000Z"))
}

func (t *ISOTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var f float64
		if err2 := json.Unmarshal(b, &f); err2 != nil {
			return err
		}
		t.Time = epoch(f)
		return nil
	}
	p, err := parseISO(s)
	if err != nil {
		return err
	}
	t.Time = p
	return nil
}
