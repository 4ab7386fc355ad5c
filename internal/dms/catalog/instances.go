package catalog

import "strings"

// OrderableInstance is one row of DescribeOrderableReplicationInstances.
type OrderableInstance struct {
	EngineVersion            string
	ReplicationInstanceClass string
	StorageType              string
	MinAllocatedStorage      int32
	MaxAllocatedStorage      int32
	DefaultAllocatedStorage  int32
	IncludedAllocatedStorage int32
	AvailabilityZones        []string
	ReleaseStatus            string
}

// instanceClass is a replication instance class with its size. Burstable (t3)
// classes come with 50 GB of gp2 storage included, compute (c) and memory (r)
// optimised classes with 100 GB; allocated storage ranges over 5..6144 GB.
type instanceClass struct {
	name     string
	vcpu     int
	memGiB   float64
	included int32 // IncludedAllocatedStorage, also the default allocation
}

var instanceClasses = []instanceClass{
	{"dms.t3.micro", 2, 1, 50},
	{"dms.t3.small", 2, 2, 50},
	{"dms.t3.medium", 2, 4, 50},
	{"dms.t3.large", 2, 8, 50},

	{"dms.c5.large", 2, 4, 100},
	{"dms.c5.xlarge", 4, 8, 100},
	{"dms.c5.2xlarge", 8, 16, 100},
	{"dms.c5.4xlarge", 16, 32, 100},
	{"dms.c5.9xlarge", 36, 72, 100},
	{"dms.c5.12xlarge", 48, 96, 100},
	{"dms.c5.18xlarge", 72, 144, 100},
	{"dms.c5.24xlarge", 96, 192, 100},

	{"dms.c6i.large", 2, 4, 100},
	{"dms.c6i.xlarge", 4, 8, 100},
	{"dms.c6i.2xlarge", 8, 16, 100},
	{"dms.c6i.4xlarge", 16, 32, 100},
	{"dms.c6i.8xlarge", 32, 64, 100},
	{"dms.c6i.12xlarge", 48, 96, 100},
	{"dms.c6i.16xlarge", 64, 128, 100},
	{"dms.c6i.24xlarge", 96, 192, 100},
	{"dms.c6i.32xlarge", 128, 256, 100},

	{"dms.r5.large", 2, 16, 100},
	{"dms.r5.xlarge", 4, 32, 100},
	{"dms.r5.2xlarge", 8, 64, 100},
	{"dms.r5.4xlarge", 16, 128, 100},
	{"dms.r5.8xlarge", 32, 256, 100},
	{"dms.r5.12xlarge", 48, 384, 100},
	{"dms.r5.16xlarge", 64, 512, 100},
	{"dms.r5.24xlarge", 96, 768, 100},

	{"dms.r6i.large", 2, 16, 100},
	{"dms.r6i.xlarge", 4, 32, 100},
	{"dms.r6i.2xlarge", 8, 64, 100},
	{"dms.r6i.4xlarge", 16, 128, 100},
	{"dms.r6i.8xlarge", 32, 256, 100},
	{"dms.r6i.12xlarge", 48, 384, 100},
	{"dms.r6i.16xlarge", 64, 512, 100},
	{"dms.r6i.24xlarge", 96, 768, 100},
	{"dms.r6i.32xlarge", 128, 1024, 100},
}

// Storage limits shared by every class (GB of gp2).
const (
	StorageType         = "gp2"
	MinAllocatedStorage = 5
	MaxAllocatedStorage = 6144
)

func lookupClass(class string) (instanceClass, bool) {
	for _, c := range instanceClasses {
		if c.name == class {
			return c, true
		}
	}
	return instanceClass{}, false
}

// InstanceClasses lists every replication instance class.
func InstanceClasses() []string {
	out := make([]string, len(instanceClasses))
	for i, c := range instanceClasses {
		out[i] = c.name
	}
	return out
}

// IsInstanceClass reports whether class is a replication instance class DMS
// offers, such as "dms.t3.medium".
func IsInstanceClass(class string) bool {
	_, ok := lookupClass(class)
	return ok
}

// InstanceClassResources returns the vCPU count and memory (GiB) of a class.
func InstanceClassResources(class string) (vcpu int, memGiB float64, ok bool) {
	c, ok := lookupClass(class)
	return c.vcpu, c.memGiB, ok
}

// DefaultAllocatedStorage returns the storage (GB) a new instance of class gets
// when CreateReplicationInstance names none; 0 for an unknown class.
func DefaultAllocatedStorage(class string) int32 {
	c, _ := lookupClass(class)
	return c.included
}

// OrderableInstances returns, for every engine version that is not
// deprecated (newest first) and every class, the orderable combination in
// region.
func OrderableInstances(region string) []OrderableInstance {
	zones := AvailabilityZones(region)
	var out []OrderableInstance
	for _, v := range orderableVersions() {
		for _, c := range instanceClasses {
			out = append(out, OrderableInstance{
				EngineVersion:            v,
				ReplicationInstanceClass: c.name,
				StorageType:              StorageType,
				MinAllocatedStorage:      MinAllocatedStorage,
				MaxAllocatedStorage:      MaxAllocatedStorage,
				DefaultAllocatedStorage:  c.included,
				IncludedAllocatedStorage: c.included,
				AvailabilityZones:        append([]string(nil), zones...),
				ReleaseStatus:            "prod",
			})
		}
	}
	return out
}

// zoneLetters overrides the default three zones (a, b, c) for regions that
// have a different set.
var zoneLetters = map[string]string{
	"us-east-1":      "abcdef",
	"us-west-1":      "ac",
	"us-west-2":      "abcd",
	"ap-northeast-1": "acd",
	"ap-northeast-2": "abcd",
	"ca-central-1":   "abd",
	"sa-east-1":      "abc",
}

// AvailabilityZones returns the zone names used for region ("us-east-1" when
// region is empty).
func AvailabilityZones(region string) []string {
	region = strings.TrimSpace(region)
	if region == "" {
		region = "us-east-1"
	}
	letters, ok := zoneLetters[region]
	if !ok {
		letters = "abc"
	}
	zones := make([]string, len(letters))
	for i, l := range letters {
		zones[i] = region + string(l)
	}
	return zones
}
