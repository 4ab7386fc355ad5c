package catalog

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Lifecycle values of EngineVersion.
const (
	LifecycleDefault    = "DEFAULT_VERSION"
	LifecycleActive     = "ACTIVE"
	LifecycleDeprecated = "DEPRECATED"
)

// EngineVersion is one row of DescribeEngineVersions.
type EngineVersion struct {
	Version           string
	Lifecycle         string // DEFAULT_VERSION, ACTIVE or DEPRECATED
	ReleaseStatus     string // prod or beta
	LaunchDate        time.Time
	AutoUpgradeDate   time.Time // zero when not scheduled
	DeprecationDate   time.Time // after this date no new instance can use the version; zero when not scheduled
	ForceUpgradeDate  time.Time // end of life: instances are upgraded; zero when not scheduled
	AvailableUpgrades []string
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// versions lists replication engine versions oldest first, with the release,
// "no new instances" and end-of-life dates of the DMS release notes. Instances
// on a version are upgraded automatically at its end of life, so
// AutoUpgradeDate equals ForceUpgradeDate. AvailableUpgrades is filled in by
// EngineVersions: every later version that is not deprecated.
var versions = []EngineVersion{
	{Version: "3.4.7", Lifecycle: LifecycleDeprecated, ReleaseStatus: "prod",
		LaunchDate: day(2022, time.May, 31), DeprecationDate: day(2024, time.September, 30),
		AutoUpgradeDate: day(2024, time.October, 31), ForceUpgradeDate: day(2024, time.October, 31)},
	{Version: "3.5.1", Lifecycle: LifecycleDeprecated, ReleaseStatus: "prod",
		LaunchDate: day(2023, time.June, 30), DeprecationDate: day(2024, time.November, 30),
		AutoUpgradeDate: day(2025, time.March, 15), ForceUpgradeDate: day(2025, time.March, 15)},
	{Version: "3.5.2", Lifecycle: LifecycleDeprecated, ReleaseStatus: "prod",
		LaunchDate: day(2023, time.October, 29), DeprecationDate: day(2025, time.March, 30),
		AutoUpgradeDate: day(2025, time.April, 29), ForceUpgradeDate: day(2025, time.April, 29)},
	{Version: "3.5.3", Lifecycle: LifecycleDeprecated, ReleaseStatus: "prod",
		LaunchDate: day(2024, time.May, 17), DeprecationDate: day(2026, time.February, 28),
		AutoUpgradeDate: day(2026, time.June, 30), ForceUpgradeDate: day(2026, time.June, 30)},
	{Version: "3.5.4", Lifecycle: LifecycleDefault, ReleaseStatus: "prod",
		LaunchDate: day(2024, time.November, 15), DeprecationDate: day(2027, time.January, 31),
		AutoUpgradeDate: day(2027, time.March, 31), ForceUpgradeDate: day(2027, time.March, 31)},
	{Version: "3.6.1", Lifecycle: LifecycleActive, ReleaseStatus: "prod",
		LaunchDate: day(2025, time.May, 15)},
}

// EngineVersions returns the replication engine versions, oldest first.
// Exactly one has Lifecycle DEFAULT_VERSION.
func EngineVersions() []EngineVersion {
	out := make([]EngineVersion, len(versions))
	for i, v := range versions {
		v.AvailableUpgrades = []string{}
		for _, later := range versions[i+1:] {
			if later.Lifecycle != LifecycleDeprecated {
				v.AvailableUpgrades = append(v.AvailableUpgrades, later.Version)
			}
		}
		out[i] = v
	}
	return out
}

// LookupEngineVersion returns the catalogue entry for a version string.
func LookupEngineVersion(version string) (EngineVersion, bool) {
	for _, v := range EngineVersions() {
		if v.Version == version {
			return v, true
		}
	}
	return EngineVersion{}, false
}

// DefaultEngineVersion is the version a replication instance gets when
// CreateReplicationInstance names none.
func DefaultEngineVersion() string {
	for _, v := range versions {
		if v.Lifecycle == LifecycleDefault {
			return v.Version
		}
	}
	panic("catalog: no default engine version")
}

// IsOrderableEngineVersion reports whether new replication instances can be
// created with, or upgraded to, version (it exists and is not deprecated).
func IsOrderableEngineVersion(version string) bool {
	v, ok := LookupEngineVersion(version)
	return ok && v.Lifecycle != LifecycleDeprecated
}

// orderableVersions lists the versions OrderableInstances offers, newest first.
func orderableVersions() []string {
	var out []string
	for _, v := range versions {
		if v.Lifecycle != LifecycleDeprecated {
			out = append(out, v.Version)
		}
	}
	slices.Reverse(out)
	return out
}

// CompareVersions compares dotted numeric versions such as "3.5.4": it returns
// -1, 0 or +1. Missing components count as 0; a non-numeric component compares
// as 0.
func CompareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func versionParts(v string) []int {
	fields := strings.Split(v, ".")
	parts := make([]int, len(fields))
	for i, f := range fields {
		parts[i], _ = strconv.Atoi(f)
	}
	return parts
}
