package mapping

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// SQLite date and time functions: datetime, date, time, julianday,
// unixepoch and strftime, with a time value ('now', ISO-8601 text, a
// Julian day number, or a number with 'unixepoch') and modifiers
// ('±N days|hours|minutes|seconds|months|years', 'start of day|month|year',
// 'weekday N', 'unixepoch', 'utc', 'localtime', 'subsec'). Everything is
// UTC: 'localtime' and 'utc' change nothing. An invalid value or modifier
// gives NULL, as in SQLite.

type timeOut func(t time.Time, subsec bool) any

func fmtDatetime(t time.Time, subsec bool) any {
	if subsec {
		return t.Format("2006-01-02 15:04:05.000")
	}
	return t.Format("2006-01-02 15:04:05")
}

func fmtDate(t time.Time, _ bool) any { return t.Format("2006-01-02") }

func fmtTime(t time.Time, subsec bool) any {
	if subsec {
		return t.Format("15:04:05.000")
	}
	return t.Format("15:04:05")
}

func fmtJulian(t time.Time, _ bool) any { return julianDay(t) }

func fmtUnix(t time.Time, subsec bool) any {
	if subsec {
		return float64(t.UnixMilli()) / 1000
	}
	return t.Unix()
}

func timeFn(out timeOut) func(*evalCtx, []any) (any, error) {
	return func(c *evalCtx, a []any) (any, error) {
		t, subsec, ok := timeArgs(c, a)
		if !ok {
			return nil, nil
		}
		return out(t, subsec), nil
	}
}

const unixEpochJD = 2440587.5

func julianDay(t time.Time) float64 {
	return unixEpochJD + float64(t.UnixMilli())/86400000
}

func fromJulian(jd float64) (time.Time, bool) {
	if math.IsNaN(jd) || jd < 0 || jd > 5373484.5 {
		return time.Time{}, false
	}
	ms := int64(math.Round((jd - unixEpochJD) * 86400000))
	return time.UnixMilli(ms).UTC(), true
}

func numericArg(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		if n, exact := numberExact(x); exact {
			return toFloat(n), true
		}
	}
	return 0, false
}

// timeArgs reads a time value and its modifiers; no arguments is 'now'.
func timeArgs(c *evalCtx, a []any) (t time.Time, subsec, ok bool) {
	if len(a) == 0 {
		return c.clock(), false, true
	}
	if anyNull(a) {
		return time.Time{}, false, false
	}
	mods := a[1:]
	if len(mods) > 0 && strings.EqualFold(strings.TrimSpace(text(mods[0])), "unixepoch") {
		f, isNum := numericArg(a[0])
		if !isNum || math.Abs(f) > 1e14 {
			return time.Time{}, false, false
		}
		t = time.UnixMilli(int64(math.Round(f * 1000))).UTC()
		mods = mods[1:]
	} else if t, ok = timeValue(c, a[0]); !ok {
		return time.Time{}, false, false
	}
	for _, m := range mods {
		s := strings.ToLower(strings.TrimSpace(text(m)))
		if s == "subsec" || s == "subsecond" {
			subsec = true
			continue
		}
		if t, ok = applyModifier(t, s); !ok {
			return time.Time{}, false, false
		}
	}
	if t.Year() < 0 || t.Year() > 9999 {
		return time.Time{}, false, false
	}
	return t, subsec, true
}

func timeValue(c *evalCtx, v any) (time.Time, bool) {
	switch x := v.(type) {
	case int64, float64:
		f, _ := numericArg(x)
		return fromJulian(f)
	case string:
		s := strings.TrimSpace(x)
		if strings.EqualFold(s, "now") {
			return c.clock(), true
		}
		if n, exact := numberExact(s); exact {
			return fromJulian(toFloat(n))
		}
		if t, ok := parseTimestamp(s); ok {
			return t, true
		}
		for _, layout := range []string{"15:04:05", "15:04", "15:04:05Z07:00", "15:04Z07:00"} {
			if t, err := time.Parse(layout, s); err == nil {
				t = t.UTC()
				return time.Date(2000, 1, 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), true
			}
		}
	}
	return time.Time{}, false
}

func applyModifier(t time.Time, m string) (time.Time, bool) {
	switch m {
	case "localtime", "utc", "auto":
		return t, true
	case "start of day":
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
	case "start of month":
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC), true
	case "start of year":
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC), true
	}
	if rest, ok := strings.CutPrefix(m, "weekday "); ok {
		n, err := strconv.Atoi(strings.TrimSpace(rest))
		if err != nil || n < 0 || n > 6 {
			return t, false
		}
		d := (n - int(t.Weekday()) + 7) % 7
		return t.AddDate(0, 0, d), true
	}
	f := strings.Fields(m)
	if len(f) != 2 {
		return t, false
	}
	n, err := strconv.ParseFloat(f[0], 64)
	if err != nil || math.IsNaN(n) || math.Abs(n) > 1e8 {
		return t, false
	}
	unit := strings.TrimSuffix(f[1], "s")
	switch unit {
	case "day":
		return t.Add(time.Duration(n * 86400 * float64(time.Second))), true
	case "hour":
		return t.Add(time.Duration(n * 3600 * float64(time.Second))), true
	case "minute":
		return t.Add(time.Duration(n * 60 * float64(time.Second))), true
	case "second":
		return t.Add(time.Duration(n * float64(time.Second))), true
	case "month":
		return t.AddDate(0, int(n), 0), true
	case "year":
		return t.AddDate(int(n), 0, 0), true
	}
	return t, false
}

// fnStrftime is strftime(FORMAT, TIME-VALUE, MODIFIER...).
func fnStrftime(c *evalCtx, a []any) (any, error) {
	if a[0] == nil {
		return nil, nil
	}
	t, _, ok := timeArgs(c, a[1:])
	if !ok {
		return nil, nil
	}
	format := text(a[0])
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		ch := format[i]
		if ch != '%' {
			b.WriteByte(ch)
			continue
		}
		i++
		if i >= len(format) {
			return nil, nil
		}
		switch format[i] {
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'f':
			fmt.Fprintf(&b, "%06.3f", float64(t.Second())+float64(t.Nanosecond()/1e6)/1000)
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'k':
			fmt.Fprintf(&b, "%2d", t.Hour())
		case 'I':
			fmt.Fprintf(&b, "%02d", hour12(t))
		case 'l':
			fmt.Fprintf(&b, "%2d", hour12(t))
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'J':
			b.WriteString(strconv.FormatFloat(julianDay(t), 'f', -1, 64))
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'p':
			b.WriteString(ampm(t, "AM", "PM"))
		case 'P':
			b.WriteString(ampm(t, "am", "pm"))
		case 'R':
			b.WriteString(t.Format("15:04"))
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b.WriteString(strconv.Itoa(wd))
		case 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		case 'W':
			// Week of the year, weeks starting on Monday (00-53).
			fmt.Fprintf(&b, "%02d", (t.YearDay()+6-(int(t.Weekday())+6)%7)/7)
		case 'U':
			fmt.Fprintf(&b, "%02d", (t.YearDay()+6-int(t.Weekday()))/7)
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case '%':
			b.WriteByte('%')
		default:
			return nil, nil
		}
	}
	return b.String(), nil
}

func hour12(t time.Time) int {
	h := t.Hour() % 12
	if h == 0 {
		h = 12
	}
	return h
}

func ampm(t time.Time, am, pm string) string {
	if t.Hour() < 12 {
		return am
	}
	return pm
}
