package dms

import (
	"fmt"
	"strings"
)

// ValidateIdentifier applies DMS's identifier rules: 1 to max characters,
// ASCII letters, digits and hyphens, starting with a letter, not ending with
// a hyphen and without two consecutive hyphens. what names the member in
// the error.
func ValidateIdentifier(what, id string, max int) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: %s must not be empty", ErrInvalidIdentifier, what)
	case len(id) > max:
		return fmt.Errorf("%w: %s must be at most %d characters (got %d)", ErrInvalidIdentifier, what, max, len(id))
	case !isLetter(id[0]):
		return fmt.Errorf("%w: %s %q must begin with a letter", ErrInvalidIdentifier, what, id)
	case strings.HasSuffix(id, "-"):
		return fmt.Errorf("%w: %s %q must not end with a hyphen", ErrInvalidIdentifier, what, id)
	case strings.Contains(id, "--"):
		return fmt.Errorf("%w: %s %q must not contain two consecutive hyphens", ErrInvalidIdentifier, what, id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isLetter(c) && !(c >= '0' && c <= '9') && c != '-' {
			return fmt.Errorf("%w: %s %q may contain only ASCII letters, digits and hyphens", ErrInvalidIdentifier, what, id)
		}
	}
	return nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// Identifier length limits from the DMS API reference.
const (
	MaxInstanceIdentifier    = 63
	MaxEndpointIdentifier    = 255
	MaxTaskIdentifier        = 255
	MaxCertificateIdentifier = 255
	MaxResourceIdentifier    = 31
	MaxSubnetGroupIdentifier = 255
)

// ValidateSubnetGroupIdentifier: letters, digits, periods, underscores,
// spaces and hyphens, at most 255, not "default" unless it is the default.
func ValidateSubnetGroupIdentifier(id string) error {
	if id == "" || len(id) > MaxSubnetGroupIdentifier {
		return fmt.Errorf("%w: ReplicationSubnetGroupIdentifier must be 1 to %d characters", ErrInvalidIdentifier, MaxSubnetGroupIdentifier)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isLetter(c) && !(c >= '0' && c <= '9') && !strings.ContainsRune("._ -", rune(c)) {
			return fmt.Errorf("%w: ReplicationSubnetGroupIdentifier %q may contain only letters, digits, periods, underscores, spaces and hyphens", ErrInvalidIdentifier, id)
		}
	}
	return nil
}
