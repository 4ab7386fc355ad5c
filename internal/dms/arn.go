// Package dms is Godwit's domain: DMS resources, their status machines,
// ARNs and identifier rules. It knows nothing about HTTP, wire shapes or
// storage.
package dms

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// Resource types as they appear in ARNs.
const (
	TypeInstance       = "rep"
	TypeEndpoint       = "endpoint"
	TypeTask           = "task"
	TypeSubnetGroup    = "subgrp"
	TypeCertificate    = "cert"
	TypeEventSub       = "es"
	TypeAssessmentRun  = "assessment-run"
	TypeIndividualAsmt = "individual-assessment"
)

// ARN is arn:<partition>:dms:<region>:<account>:<type>:<id>.
type ARN struct {
	Partition, Region, Account, Type, ID string
}

func (a ARN) String() string {
	return fmt.Sprintf("arn:%s:dms:%s:%s:%s:%s", a.Partition, a.Region, a.Account, a.Type, a.ID)
}

// ParseARN splits a DMS ARN; it fails on anything else.
func ParseARN(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 7)
	if len(parts) != 7 || parts[0] != "arn" || parts[2] != "dms" || parts[1] == "" || parts[5] == "" || parts[6] == "" {
		return ARN{}, fmt.Errorf("%w: %q is not a DMS ARN (arn:aws:dms:<region>:<account>:<type>:<id>)", ErrInvalidARN, s)
	}
	return ARN{Partition: parts[1], Region: parts[3], Account: parts[4], Type: parts[5], ID: parts[6]}, nil
}

// Account is where resources live: the partition, region and account id
// every ARN this server makes carries.
type Account struct {
	Partition string
	Region    string
	ID        string
}

// ARN makes an ARN of this account.
func (a Account) ARN(typ, id string) string {
	return ARN{Partition: a.Partition, Region: a.Region, Account: a.ID, Type: typ, ID: id}.String()
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// NewResourceID returns a random 26-character upper-case id like DMS's
// (T3OM7OUB5NM2LCVZF7JPGJRNUE).
func NewResourceID() string {
	var b [26]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b[:])
}
