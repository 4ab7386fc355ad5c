package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
	"github.com/godwit-dms/godwit/internal/store"
)

// InstanceSpec is the input of CreateReplicationInstance.
type InstanceSpec struct {
	Identifier                 string
	Class                      string
	ResourceIdentifier         string
	AllocatedStorage           *int32
	EngineVersion              string
	AutoMinorVersionUpgrade    *bool
	AvailabilityZone           string
	MultiAZ                    bool
	PubliclyAccessible         *bool
	KmsKeyID                   string
	NetworkType                string
	PreferredMaintenanceWindow string
	DNSNameServers             string
	SubnetGroupID              string
	VpcSecurityGroupIDs        []string
	KerberosSettings           map[string]any
	Tags                       []store.Tag
}

var maintenanceWindow = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$`)

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func (s *Service) checkClass(class string) error {
	if !catalog.IsInstanceClass(class) {
		return invalidParam("Invalid ReplicationInstanceClass %q: see DescribeOrderableReplicationInstances for the classes offered.", class)
	}
	return nil
}

func checkStorage(gb int32) error {
	if gb < 5 || gb > 6144 {
		return invalidParam("AllocatedStorage must be between 5 and 6144 GB (got %d).", gb)
	}
	return nil
}

func checkEngineVersion(v string) error {
	if catalog.IsOrderableEngineVersion(v) {
		return nil
	}
	return invalidParam("Invalid EngineVersion %q: see DescribeEngineVersions and DescribeOrderableReplicationInstances for the versions offered.", v)
}

func majorOf(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// CreateInstance validates and records a new replication instance in
// "creating"; the engine brings it to "available".
func (s *Service) CreateInstance(ctx context.Context, spec InstanceSpec) (*dms.ReplicationInstance, *dms.SubnetGroup, error) {
	if err := dms.ValidateIdentifier("ReplicationInstanceIdentifier", spec.Identifier, dms.MaxInstanceIdentifier); err != nil {
		return nil, nil, invalidParam("%s", err)
	}
	if err := s.checkClass(spec.Class); err != nil {
		return nil, nil, err
	}
	resID := dms.NewResourceID()
	if spec.ResourceIdentifier != "" {
		if err := dms.ValidateIdentifier("ResourceIdentifier", spec.ResourceIdentifier, dms.MaxResourceIdentifier); err != nil {
			return nil, nil, invalidParam("%s", err)
		}
		resID = spec.ResourceIdentifier
	}
	ri := &dms.ReplicationInstance{
		ARN:                        s.Account.ARN(dms.TypeInstance, resID),
		Identifier:                 strings.ToLower(spec.Identifier),
		Class:                      spec.Class,
		Status:                     dms.InstanceCreating,
		AllocatedStorage:           catalog.DefaultAllocatedStorage(spec.Class),
		EngineVersion:              catalog.DefaultEngineVersion(),
		AutoMinorVersionUpgrade:    true,
		MultiAZ:                    spec.MultiAZ,
		PubliclyAccessible:         true,
		KmsKeyID:                   spec.KmsKeyID,
		NetworkType:                "IPV4",
		PreferredMaintenanceWindow: spec.PreferredMaintenanceWindow,
		DNSNameServers:             spec.DNSNameServers,
		VpcSecurityGroupIDs:        spec.VpcSecurityGroupIDs,
		KerberosSettings:           spec.KerberosSettings,
		PrivateIP:                  "127.0.0.1",
		CreatedAt:                  s.now(),
	}
	if spec.AllocatedStorage != nil {
		if err := checkStorage(*spec.AllocatedStorage); err != nil {
			return nil, nil, err
		}
		ri.AllocatedStorage = *spec.AllocatedStorage
	}
	if spec.EngineVersion != "" {
		if err := checkEngineVersion(spec.EngineVersion); err != nil {
			return nil, nil, err
		}
		ri.EngineVersion = spec.EngineVersion
	}
	if spec.AutoMinorVersionUpgrade != nil {
		ri.AutoMinorVersionUpgrade = *spec.AutoMinorVersionUpgrade
	}
	if spec.PubliclyAccessible != nil {
		ri.PubliclyAccessible = *spec.PubliclyAccessible
	}
	if ri.PubliclyAccessible {
		ri.PublicIP = "127.0.0.1"
	}
	if spec.NetworkType != "" {
		if spec.NetworkType != "IPV4" && spec.NetworkType != "DUAL" {
			return nil, nil, invalidParam("Invalid NetworkType %q: valid values are IPV4 and DUAL.", spec.NetworkType)
		}
		ri.NetworkType = spec.NetworkType
	}
	if spec.MultiAZ && spec.AvailabilityZone != "" {
		return nil, nil, newErr(CodeInvalidParameterCombination, "AvailabilityZone cannot be given when MultiAZ is true.")
	}
	if ri.PreferredMaintenanceWindow == "" {
		days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
		b := []byte(randomHex(4))
		d, h := days[int(b[0])%7], int(b[1])%24
		ri.PreferredMaintenanceWindow = fmt.Sprintf("%s:%02d:%02d-%s:%02d:%02d", d, h, int(b[2])%30, d, h, int(b[2])%30+30)
	} else if !maintenanceWindow.MatchString(strings.ToLower(ri.PreferredMaintenanceWindow)) {
		return nil, nil, invalidParam("PreferredMaintenanceWindow %q must be ddd:hh24:mi-ddd:hh24:mi in UTC, e.g. sun:23:45-mon:00:15.", ri.PreferredMaintenanceWindow)
	}
	if len(ri.VpcSecurityGroupIDs) == 0 {
		ri.VpcSecurityGroupIDs = []string{"sg-" + randomHex(17)}
	}
	if err := validateTags(spec.Tags); err != nil {
		return nil, nil, err
	}

	var group *dms.SubnetGroup
	err := s.update(ctx, func(tx store.Tx) error {
		insts, err := list[dms.ReplicationInstance](ctx, tx, KindInstance, "")
		if err != nil {
			return err
		}
		var storage int32
		for _, o := range insts {
			if o.Identifier == ri.Identifier {
				return &Error{Code: CodeAlreadyExists, Msg: fmt.Sprintf("Replication instance %s already exists.", ri.Identifier), ARN: o.ARN}
			}
			storage += o.AllocatedStorage
		}
		if max := quota(catalog.QuotaReplicationInstances); len(insts) >= max {
			return newErr(CodeQuotaExceeded, "The quota of %d replication instances is reached.", max)
		}
		if max := quota(catalog.QuotaAllocatedStorage); int(storage+ri.AllocatedStorage) > max {
			return newErr(CodeQuotaExceeded, "The allocated storage quota of %d GB would be exceeded.", max)
		}
		if spec.SubnetGroupID == "" {
			group, err = s.ensureDefaultSubnetGroup(ctx, tx)
		} else {
			group, err = s.GetSubnetGroup(ctx, tx, spec.SubnetGroupID)
		}
		if err != nil {
			return err
		}
		ri.SubnetGroupID = group.Identifier
		zones := make([]string, 0, len(group.Subnets))
		for _, sn := range group.Subnets {
			zones = append(zones, sn.AvailabilityZone)
		}
		switch {
		case spec.AvailabilityZone != "":
			if !slices.Contains(zones, spec.AvailabilityZone) {
				return invalidParam("AvailabilityZone %s is not covered by replication subnet group %s (zones: %s).", spec.AvailabilityZone, group.Identifier, strings.Join(zones, ", "))
			}
			ri.AvailabilityZone = spec.AvailabilityZone
		default:
			ri.AvailabilityZone = zones[0]
		}
		if ri.MultiAZ {
			ri.SecondaryAvailabilityZone = zones[1%len(zones)]
		}
		if err := insert(ctx, tx, KindInstance, resID, ri.ARN, "", ri); err != nil {
			if IsCode(err, CodeAlreadyExists) {
				return &Error{Code: CodeAlreadyExists, Msg: fmt.Sprintf("A replication instance with resource identifier %s already exists.", resID), ARN: ri.ARN}
			}
			return err
		}
		if err := tx.TagPut(ctx, ri.ARN, spec.Tags); err != nil {
			return err
		}
		return s.event(ctx, tx, ri.Identifier, catalog.EventInstanceCreating)
	})
	if err != nil {
		return nil, nil, err
	}
	s.notify()
	return ri, group, nil
}

// GetInstance reads an instance by ARN.
func (s *Service) GetInstance(ctx context.Context, r store.Reader, arn string) (*dms.ReplicationInstance, *store.Record, error) {
	return loadByARN[dms.ReplicationInstance](ctx, r, KindInstance, arn, "Replication instance")
}

// ListInstances returns every instance.
func (s *Service) ListInstances(ctx context.Context) ([]*dms.ReplicationInstance, error) {
	return list[dms.ReplicationInstance](ctx, s.Store, KindInstance, "")
}

// InstanceModify is the input of ModifyReplicationInstance.
type InstanceModify struct {
	ARN                        string
	NewIdentifier              string
	Change                     dms.InstanceChange
	ApplyImmediately           bool
	AllowMajorVersionUpgrade   bool
	AutoMinorVersionUpgrade    *bool
	PreferredMaintenanceWindow string
	VpcSecurityGroupIDs        []string
	KerberosSettings           map[string]any
}

// ModifyInstance applies or parks modifications.
func (s *Service) ModifyInstance(ctx context.Context, m InstanceModify) (*dms.ReplicationInstance, error) {
	c := m.Change
	if c.Class != nil {
		if err := s.checkClass(*c.Class); err != nil {
			return nil, err
		}
	}
	if c.AllocatedStorage != nil {
		if err := checkStorage(*c.AllocatedStorage); err != nil {
			return nil, err
		}
	}
	if c.EngineVersion != nil {
		if err := checkEngineVersion(*c.EngineVersion); err != nil {
			return nil, err
		}
	}
	if c.NetworkType != nil && *c.NetworkType != "IPV4" && *c.NetworkType != "DUAL" {
		return nil, invalidParam("Invalid NetworkType %q: valid values are IPV4 and DUAL.", *c.NetworkType)
	}
	if m.PreferredMaintenanceWindow != "" && !maintenanceWindow.MatchString(strings.ToLower(m.PreferredMaintenanceWindow)) {
		return nil, invalidParam("PreferredMaintenanceWindow %q must be ddd:hh24:mi-ddd:hh24:mi in UTC.", m.PreferredMaintenanceWindow)
	}
	if m.NewIdentifier != "" {
		if err := dms.ValidateIdentifier("ReplicationInstanceIdentifier", m.NewIdentifier, dms.MaxInstanceIdentifier); err != nil {
			return nil, invalidParam("%s", err)
		}
	}
	var out *dms.ReplicationInstance
	err := s.update(ctx, func(tx store.Tx) error {
		ri, rec, err := s.GetInstance(ctx, tx, m.ARN)
		if err != nil {
			return err
		}
		if ri.Status != dms.InstanceAvailable {
			return invalidState("Replication instance %s is %s; it can be modified only when available.", ri.Identifier, ri.Status)
		}
		// Drop members that would not change anything.
		if c.Class != nil && *c.Class == ri.Class {
			c.Class = nil
		}
		if c.AllocatedStorage != nil && *c.AllocatedStorage == ri.AllocatedStorage {
			c.AllocatedStorage = nil
		}
		if c.AllocatedStorage != nil && *c.AllocatedStorage < ri.AllocatedStorage {
			return invalidParam("AllocatedStorage can only grow (current %d GB, requested %d GB).", ri.AllocatedStorage, *c.AllocatedStorage)
		}
		if c.MultiAZ != nil && *c.MultiAZ == ri.MultiAZ {
			c.MultiAZ = nil
		}
		if c.NetworkType != nil && *c.NetworkType == ri.NetworkType {
			c.NetworkType = nil
		}
		if c.EngineVersion != nil {
			switch {
			case *c.EngineVersion == ri.EngineVersion:
				c.EngineVersion = nil
			case catalog.CompareVersions(*c.EngineVersion, ri.EngineVersion) < 0:
				return invalidParam("EngineVersion %s is older than the current %s; downgrades are not possible.", *c.EngineVersion, ri.EngineVersion)
			case majorOf(*c.EngineVersion) != majorOf(ri.EngineVersion) && !m.AllowMajorVersionUpgrade:
				return newErr(CodeInvalidParameterCombination, "Upgrading from %s to %s is a major version upgrade: set AllowMajorVersionUpgrade.", ri.EngineVersion, *c.EngineVersion)
			}
		}
		if m.NewIdentifier != "" && strings.ToLower(m.NewIdentifier) != ri.Identifier {
			insts, err := list[dms.ReplicationInstance](ctx, tx, KindInstance, "")
			if err != nil {
				return err
			}
			for _, o := range insts {
				if o.Identifier == strings.ToLower(m.NewIdentifier) {
					return &Error{Code: CodeAlreadyExists, Msg: fmt.Sprintf("Replication instance %s already exists.", o.Identifier), ARN: o.ARN}
				}
			}
			ri.Identifier = strings.ToLower(m.NewIdentifier)
		}
		if m.AutoMinorVersionUpgrade != nil {
			ri.AutoMinorVersionUpgrade = *m.AutoMinorVersionUpgrade
		}
		if m.PreferredMaintenanceWindow != "" {
			ri.PreferredMaintenanceWindow = strings.ToLower(m.PreferredMaintenanceWindow)
		}
		if len(m.VpcSecurityGroupIDs) > 0 {
			ri.VpcSecurityGroupIDs = m.VpcSecurityGroupIDs
		}
		if m.KerberosSettings != nil {
			ri.KerberosSettings = m.KerberosSettings
		}
		if !c.Empty() {
			if m.ApplyImmediately {
				ri.Target = ri.Pending.Merge(&c)
				ri.Pending = nil
				ri.Status = dms.InstanceModifying
				if ri.Target.EngineVersion != nil {
					ri.Status = dms.InstanceUpgrading
				}
				for _, id := range modifyEvents(ri.Target, true) {
					if err := s.event(ctx, tx, ri.Identifier, id); err != nil {
						return err
					}
				}
			} else {
				ri.Pending = ri.Pending.Merge(&c)
			}
		}
		out = ri
		return save(ctx, tx, rec, ri)
	})
	if err != nil {
		return nil, err
	}
	s.notify()
	return out, nil
}

// RebootInstance restarts an available instance's worker pool.
func (s *Service) RebootInstance(ctx context.Context, arn string, forceFailover, forcePlanned bool) (*dms.ReplicationInstance, error) {
	var out *dms.ReplicationInstance
	err := s.update(ctx, func(tx store.Tx) error {
		ri, rec, err := s.GetInstance(ctx, tx, arn)
		if err != nil {
			return err
		}
		if ri.Status != dms.InstanceAvailable {
			return invalidState("Replication instance %s is %s; it can be rebooted only when available.", ri.Identifier, ri.Status)
		}
		if (forceFailover || forcePlanned) && !ri.MultiAZ {
			return newErr(CodeInvalidParameterCombination, "ForceFailover and ForcePlannedFailover need a Multi-AZ replication instance; %s is single-AZ.", ri.Identifier)
		}
		if forceFailover && forcePlanned {
			return newErr(CodeInvalidParameterCombination, "ForceFailover and ForcePlannedFailover cannot both be true.")
		}
		ri.Status = dms.InstanceRebooting
		ri.RebootRequested = true
		ri.ForceFailover = forceFailover || forcePlanned
		out = ri
		if err := save(ctx, tx, rec, ri); err != nil {
			return err
		}
		if ri.ForceFailover {
			return s.event(ctx, tx, ri.Identifier, catalog.EventInstanceFailoverStarted)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.notify()
	return out, nil
}

// DeleteInstance marks an instance for deletion; the engine stops it and
// removes the record.
func (s *Service) DeleteInstance(ctx context.Context, arn string) (*dms.ReplicationInstance, error) {
	var out *dms.ReplicationInstance
	err := s.update(ctx, func(tx store.Tx) error {
		ri, rec, err := s.GetInstance(ctx, tx, arn)
		if err != nil {
			return err
		}
		switch ri.Status {
		case dms.InstanceAvailable, dms.InstanceFailed:
		case dms.InstanceDeleting:
			return invalidState("Replication instance %s is already being deleted.", ri.Identifier)
		default:
			return invalidState("Replication instance %s is %s; it can be deleted only when available or failed.", ri.Identifier, ri.Status)
		}
		if err := s.checkNoTasksOn(ctx, tx, ri.ARN, "replication instance "+ri.Identifier); err != nil {
			return err
		}
		ri.Status = dms.InstanceDeleting
		out = ri
		if err := save(ctx, tx, rec, ri); err != nil {
			return err
		}
		return s.event(ctx, tx, ri.Identifier, catalog.EventInstanceDeleting)
	})
	if err != nil {
		return nil, err
	}
	s.notify()
	return out, nil
}

// modifyEvents lists the events that mark the start (or the end) of a modification.
func modifyEvents(c *dms.InstanceChange, start bool) []string {
	pick := func(a, b string) string {
		if start {
			return a
		}
		return b
	}
	var out []string
	if c == nil {
		return out
	}
	if c.Class != nil {
		out = append(out, pick(catalog.EventInstanceClassChanging, catalog.EventInstanceClassChanged))
	}
	if c.AllocatedStorage != nil {
		out = append(out, pick(catalog.EventInstanceStorageGrowing, catalog.EventInstanceStorageGrown))
	}
	if c.MultiAZ != nil && *c.MultiAZ {
		out = append(out, pick(catalog.EventInstanceToMultiAZ, catalog.EventInstanceMultiAZDone))
	}
	if c.MultiAZ != nil && !*c.MultiAZ {
		out = append(out, pick(catalog.EventInstanceToSingleAZ, catalog.EventInstanceSingleAZDone))
	}
	if c.EngineVersion != nil && !start {
		out = append(out, catalog.EventInstanceSoftwareUpdated)
	}
	return out
}
