package dms

import "time"

// Replication instance statuses (the model's list).
const (
	InstanceCreating  = "creating"
	InstanceAvailable = "available"
	InstanceModifying = "modifying"
	InstanceUpgrading = "upgrading"
	InstanceRebooting = "rebooting"
	InstanceDeleting  = "deleting"
	InstanceFailed    = "failed"
)

// ReplicationInstance is a worker pool that runs tasks.
type ReplicationInstance struct {
	ARN                        string
	Identifier                 string // stored lower-case
	Class                      string
	Status                     string
	AllocatedStorage           int32
	EngineVersion              string
	AutoMinorVersionUpgrade    bool
	AvailabilityZone           string
	SecondaryAvailabilityZone  string
	MultiAZ                    bool
	PubliclyAccessible         bool
	KmsKeyID                   string
	NetworkType                string
	PreferredMaintenanceWindow string
	DNSNameServers             string
	SubnetGroupID              string
	VpcSecurityGroupIDs        []string
	KerberosSettings           map[string]any `json:",omitempty"`
	PrivateIP                  string
	PublicIP                   string
	CreatedAt                  time.Time
	// Pending holds modifications parked until the maintenance window
	// (ApplyImmediately=false); nil when none.
	Pending *InstanceChange `json:",omitempty"`
	// Target is the modification the engine is applying while Status is
	// modifying or upgrading; nil otherwise.
	Target *InstanceChange `json:",omitempty"`
	// RebootRequested is set by RebootReplicationInstance until the engine
	// has restarted the worker pool.
	RebootRequested bool `json:",omitempty"`
	ForceFailover   bool `json:",omitempty"`
}

// InstanceChange is a set of requested modifications; nil members stay as they are.
type InstanceChange struct {
	Class            *string `json:",omitempty"`
	AllocatedStorage *int32  `json:",omitempty"`
	MultiAZ          *bool   `json:",omitempty"`
	EngineVersion    *string `json:",omitempty"`
	NetworkType      *string `json:",omitempty"`
}

// Empty reports whether the change changes nothing.
func (c *InstanceChange) Empty() bool {
	return c == nil || (c.Class == nil && c.AllocatedStorage == nil && c.MultiAZ == nil && c.EngineVersion == nil && c.NetworkType == nil)
}

// Apply writes the change into the instance.
func (c *InstanceChange) Apply(ri *ReplicationInstance) {
	if c == nil {
		return
	}
	if c.Class != nil {
		ri.Class = *c.Class
	}
	if c.AllocatedStorage != nil {
		ri.AllocatedStorage = *c.AllocatedStorage
	}
	if c.MultiAZ != nil {
		ri.MultiAZ = *c.MultiAZ
	}
	if c.EngineVersion != nil {
		ri.EngineVersion = *c.EngineVersion
	}
	if c.NetworkType != nil {
		ri.NetworkType = *c.NetworkType
	}
}

// Merge folds o into c (o's members win).
func (c *InstanceChange) Merge(o *InstanceChange) *InstanceChange {
	if c == nil {
		c = &InstanceChange{}
	}
	if o == nil {
		return c
	}
	if o.Class != nil {
		c.Class = o.Class
	}
	if o.AllocatedStorage != nil {
		c.AllocatedStorage = o.AllocatedStorage
	}
	if o.MultiAZ != nil {
		c.MultiAZ = o.MultiAZ
	}
	if o.EngineVersion != nil {
		c.EngineVersion = o.EngineVersion
	}
	if o.NetworkType != nil {
		c.NetworkType = o.NetworkType
	}
	return c
}

// SubnetGroup is a stored replication subnet group. Godwit has no VPC: the
// group records the subnets it is given and assigns them availability zones.
type SubnetGroup struct {
	Identifier  string
	Description string
	VpcID       string
	Subnets     []Subnet
	CreatedAt   time.Time
}

// Subnet is a member of a subnet group.
type Subnet struct {
	ID               string
	AvailabilityZone string
}

// DefaultSubnetGroup is the identifier of the group used when none is given.
const DefaultSubnetGroup = "default"
