package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
	"github.com/godwit-dms/godwit/internal/store"
)

var subnetIDPattern = regexp.MustCompile(`^subnet-[0-9A-Za-z]{1,32}$`)

// SubnetGroupSpec is the input of Create/ModifyReplicationSubnetGroup.
type SubnetGroupSpec struct {
	Identifier  string
	Description *string
	SubnetIDs   []string
	Tags        []store.Tag
}

func (s *Service) subnetGroupARN(id string) string { return s.Account.ARN(dms.TypeSubnetGroup, id) }

// availabilityZones are the zones subnets are spread over.
func (s *Service) availabilityZones() []string {
	return catalog.AvailabilityZones(s.Account.Region)
}

func (s *Service) vpcID() string {
	h := sha256.Sum256([]byte(s.Account.ID + "/" + s.Account.Region))
	return "vpc-" + hex.EncodeToString(h[:])[:17]
}

// buildSubnets validates subnet ids and assigns them availability zones in
// turn, so that two or more subnets always span two zones.
func (s *Service) buildSubnets(ids []string) ([]dms.Subnet, error) {
	zones := s.availabilityZones()
	seen := map[string]bool{}
	var out []dms.Subnet
	for _, id := range ids {
		if !subnetIDPattern.MatchString(id) {
			return nil, newErr(CodeInvalidSubnet, "The subnet ID %q is not valid: subnet IDs look like subnet-0a1b2c3d.", id)
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, dms.Subnet{ID: id, AvailabilityZone: zones[len(out)%len(zones)]})
	}
	if len(out) < 2 {
		return nil, newErr(CodeSubnetGroupAZs, "The replication subnet group does not cover enough Availability Zones: give at least two subnets (they are spread over %s).", strings.Join(zones, ", "))
	}
	return out, nil
}

// CreateSubnetGroup stores a new subnet group.
func (s *Service) CreateSubnetGroup(ctx context.Context, spec SubnetGroupSpec) (*dms.SubnetGroup, error) {
	if err := dms.ValidateSubnetGroupIdentifier(spec.Identifier); err != nil {
		return nil, invalidParam("%s", err)
	}
	id := strings.ToLower(spec.Identifier)
	if id == dms.DefaultSubnetGroup {
		return nil, invalidParam("The replication subnet group identifier %q is reserved.", spec.Identifier)
	}
	subnets, err := s.buildSubnets(spec.SubnetIDs)
	if err != nil {
		return nil, err
	}
	if err := validateTags(spec.Tags); err != nil {
		return nil, err
	}
	g := &dms.SubnetGroup{Identifier: id, VpcID: s.vpcID(), Subnets: subnets, CreatedAt: s.now()}
	if spec.Description != nil {
		g.Description = *spec.Description
	}
	err = s.update(ctx, func(tx store.Tx) error {
		n, err := countKind(ctx, tx, KindSubnetGroup)
		if err != nil {
			return err
		}
		if max := quota(catalog.QuotaReplicationSubnetGroups); n >= max {
			return newErr(CodeQuotaExceeded, "The quota of %d replication subnet groups is reached.", max)
		}
		if err := insert(ctx, tx, KindSubnetGroup, id, s.subnetGroupARN(id), "", g); err != nil {
			if IsCode(err, CodeAlreadyExists) {
				return &Error{Code: CodeAlreadyExists, Msg: fmt.Sprintf("Replication subnet group %s already exists.", id), ARN: s.subnetGroupARN(id)}
			}
			return err
		}
		return tx.TagPut(ctx, s.subnetGroupARN(id), spec.Tags)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// ensureDefaultSubnetGroup creates the "default" group inside tx when missing.
func (s *Service) ensureDefaultSubnetGroup(ctx context.Context, tx store.Tx) (*dms.SubnetGroup, error) {
	g, _, err := load[dms.SubnetGroup](ctx, tx, KindSubnetGroup, dms.DefaultSubnetGroup, "")
	if err == nil {
		return g, nil
	}
	if !IsCode(err, CodeNotFound) {
		return nil, err
	}
	var ids []string
	for i := range s.availabilityZones() {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s/%s/default/%d", s.Account.ID, s.Account.Region, i)))
		ids = append(ids, "subnet-"+hex.EncodeToString(h[:])[:17])
	}
	subnets, err := s.buildSubnets(ids)
	if err != nil {
		return nil, err
	}
	g = &dms.SubnetGroup{Identifier: dms.DefaultSubnetGroup, Description: "default", VpcID: s.vpcID(), Subnets: subnets, CreatedAt: s.now()}
	return g, insert(ctx, tx, KindSubnetGroup, g.Identifier, s.subnetGroupARN(g.Identifier), "", g)
}

// GetSubnetGroup reads a subnet group by identifier.
func (s *Service) GetSubnetGroup(ctx context.Context, r store.Reader, id string) (*dms.SubnetGroup, error) {
	g, _, err := load[dms.SubnetGroup](ctx, r, KindSubnetGroup, strings.ToLower(id), "Replication subnet group "+id)
	return g, err
}

// ListSubnetGroups returns every subnet group.
func (s *Service) ListSubnetGroups(ctx context.Context) ([]*dms.SubnetGroup, error) {
	return list[dms.SubnetGroup](ctx, s.Store, KindSubnetGroup, "")
}

// ModifySubnetGroup replaces the subnets and/or description.
func (s *Service) ModifySubnetGroup(ctx context.Context, spec SubnetGroupSpec) (*dms.SubnetGroup, error) {
	id := strings.ToLower(spec.Identifier)
	var out *dms.SubnetGroup
	err := s.update(ctx, func(tx store.Tx) error {
		g, rec, err := load[dms.SubnetGroup](ctx, tx, KindSubnetGroup, id, "Replication subnet group "+spec.Identifier)
		if err != nil {
			return err
		}
		subnets, err := s.buildSubnets(spec.SubnetIDs)
		if err != nil {
			return err
		}
		g.Subnets = subnets
		if spec.Description != nil {
			g.Description = *spec.Description
		}
		out = g
		return save(ctx, tx, rec, g)
	})
	return out, err
}

// DeleteSubnetGroup removes a subnet group no instance uses.
func (s *Service) DeleteSubnetGroup(ctx context.Context, identifier string) error {
	id := strings.ToLower(identifier)
	return s.update(ctx, func(tx store.Tx) error {
		if _, _, err := load[dms.SubnetGroup](ctx, tx, KindSubnetGroup, id, "Replication subnet group "+identifier); err != nil {
			return err
		}
		insts, err := list[dms.ReplicationInstance](ctx, tx, KindInstance, "")
		if err != nil {
			return err
		}
		for _, ri := range insts {
			if ri.SubnetGroupID == id {
				return invalidState("Replication subnet group %s is in use by replication instance %s.", id, ri.Identifier)
			}
		}
		return tx.RecordDelete(ctx, KindSubnetGroup, id)
	})
}

func countKind(ctx context.Context, r store.Reader, kind store.Kind) (int, error) {
	recs, err := r.RecordList(ctx, &store.RecordListParams{Kind: kind})
	return len(recs), err
}
