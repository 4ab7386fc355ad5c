package api

import (
	"slices"
	"strings"
)

func missing(path string) error {
	return InvalidParameter("The request must contain the parameter %s.", path)
}

// checkEnum accepts v when it is one of the enum's values: exactly at the top
// level of an input, ignoring case deeper down.
func checkEnum(path, enum, v string, exact bool) error {
	vals := Enums[enum]
	if exact {
		if slices.Contains(vals, v) {
			return nil
		}
	} else {
		for _, e := range vals {
			if strings.EqualFold(e, v) {
				return nil
			}
		}
	}
	return InvalidParameter("Invalid value %q for %s. Valid values: %s.", v, path, strings.Join(vals, ", "))
}

func checkLen(path string, n, min, max int) error {
	if n < min || (max >= 0 && n > max) {
		if max >= 0 {
			return InvalidParameter("The length of %s must be between %d and %d characters.", path, min, max)
		}
		return InvalidParameter("The length of %s must be at least %d characters.", path, min)
	}
	return nil
}

func checkCount(path string, n, min, max int) error {
	if n < min || (max >= 0 && n > max) {
		if max >= 0 {
			return InvalidParameter("%s must have between %d and %d items.", path, min, max)
		}
		return InvalidParameter("%s must have at least %d item(s).", path, min)
	}
	return nil
}
