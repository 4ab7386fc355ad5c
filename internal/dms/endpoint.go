package dms

import (
	"encoding/json"
	"strings"
	"time"
)

// Endpoint statuses.
const (
	EndpointActive   = "active"
	EndpointCreating = "creating"
	EndpointDeleting = "deleting"
)

// Endpoint is a database or file location a task reads from or writes to.
type Endpoint struct {
	ARN                       string
	Identifier                string
	ResourceID                string
	Type                      string // "source" or "target" (lower-case)
	Engine                    string
	Status                    string
	Username                  string
	ServerName                string
	Port                      int32
	DatabaseName              string
	ExtraConnectionAttributes string
	KmsKeyID                  string
	CertificateARN            string
	SSLMode                   string
	ServiceAccessRoleARN      string
	ExternalTableDefinition   string
	ExternalID                string
	// Settings holds the engine settings blocks by member name
	// ("PostgreSQLSettings": {...}), without their secrets.
	Settings map[string]json.RawMessage `json:",omitempty"`
	// Secrets is the encrypted JSON object of every secret of the endpoint:
	// "Password" and "<Block>.<Member>" for secrets inside settings blocks.
	Secrets   []byte `json:",omitempty"`
	CreatedAt time.Time
}

// IsSecretSetting reports whether a settings member holds a secret that must
// be encrypted and never returned.
func IsSecretSetting(member string) bool {
	return strings.Contains(strings.ToLower(member), "password") || member == "SecurityDbEncryption"
}

// Connection statuses.
const (
	ConnectionTesting    = "testing"
	ConnectionSuccessful = "successful"
	ConnectionFailed     = "failed"
	ConnectionDeleting   = "deleting"
)

// Connection is the result of testing an endpoint from an instance.
type Connection struct {
	InstanceARN        string
	EndpointARN        string
	InstanceIdentifier string
	EndpointIdentifier string
	Status             string
	LastFailureMessage string
	// Attempt increases with every TestConnection so the engine can tell a
	// new test from one it already ran.
	Attempt   int64
	TestedAt  time.Time
	CreatedAt time.Time
}

// ConnectionID is the store key of a connection.
func ConnectionID(instanceARN, endpointARN string) string { return instanceARN + "|" + endpointARN }

// Certificate is an imported CA certificate (PEM) or Oracle wallet.
type Certificate struct {
	ARN              string
	Identifier       string
	PEM              string `json:",omitempty"`
	Wallet           []byte `json:",omitempty"`
	Owner            string
	SigningAlgorithm string
	KeyLength        int32
	ValidFrom        time.Time
	ValidTo          time.Time
	KmsKeyID         string
	CreatedAt        time.Time
}

// Schema refresh statuses.
const (
	RefreshRefreshing = "refreshing"
	RefreshSuccessful = "successful"
	RefreshFailed     = "failed"
)

// SchemaRefresh is the last RefreshSchemas of an endpoint.
type SchemaRefresh struct {
	EndpointARN string
	InstanceARN string
	Status      string
	LastFailure string `json:",omitempty"`
	LastRefresh time.Time
	Schemas     []string `json:",omitempty"`
	Attempt     int64
}
