package testenv

import "strings"

// Missing returns the strings of want that no line of lines contains.
func Missing(lines []string, want ...string) []string {
	var out []string
	for _, w := range want {
		found := false
		for _, l := range lines {
			found = found || strings.Contains(l, w)
		}
		if !found {
			out = append(out, w)
		}
	}
	return out
}
