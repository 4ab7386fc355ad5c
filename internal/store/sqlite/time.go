package sqlite

import (
	"fmt"
	"math"
	"time"
)

// Times are stored as INTEGER nanoseconds since the Unix epoch, which covers
// the years 1678 to 2262.
var (
	minTime = time.Unix(0, math.MinInt64).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func toNanos(t time.Time) (int64, error) {
	if t.Before(minTime) || t.After(maxTime) {
		return 0, fmt.Errorf("time %s is outside the storable range %s to %s", t, minTime, maxTime)
	}
	return t.UnixNano(), nil
}

// clampNanos is for range filters: a bound beyond the storable range matches
// as if it were the range's end.
func clampNanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}
