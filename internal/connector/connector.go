// Package connector defines the small capability interfaces that database and
// file connectors implement, and the registry that maps an engine name to a
// connector. A connector knows nothing about tasks, ARNs or the store: the
// engine turns an endpoint into an Endpoint value and asks the registry.
package connector

import (
	"context"
	"fmt"
	"sort"
)

// Role is the side of a migration an endpoint is on.
type Role string

const (
	RoleSource Role = "source"
	RoleTarget Role = "target"
)

// Endpoint is the engine-neutral description of an endpoint a connector is
// opened with. Password is the plain secret: never log or print it.
type Endpoint struct {
	Engine   string // DMS EngineName, e.g. "postgres", "mariadb", "s3"
	Role     Role
	Host     string
	Port     int
	Database string
	Username string
	Password string
	// SSLMode is the DMS SslMode: "none", "require", "verify-ca", "verify-full".
	SSLMode string
	// CACertPEM is the PEM of the imported certificate the endpoint names
	// (CertificateArn), used for verify-ca / verify-full.
	CACertPEM []byte
	// Settings is the engine settings block of the endpoint (PostgreSQLSettings,
	// MySQLSettings, S3Settings...) decoded from JSON; nil when absent.
	Settings map[string]any
	// ExtraConnectionAttributes is the DMS "key=value;key=value" string.
	ExtraConnectionAttributes string
	// WantCDC says the endpoint will be used as a CDC source, so CDC
	// prerequisites matter.
	WantCDC bool
	// ObjectStore says where S3-style endpoints keep their buckets.
	ObjectStore ObjectStore
}

// ObjectStore locates the buckets of S3-style endpoints: either a local
// directory in which each bucket is a folder (the default), or an
// S3-compatible API.
type ObjectStore struct {
	// LocalRoot is the directory holding one folder per bucket; used when URL is empty.
	LocalRoot string
	// URL of an S3-compatible API (e.g. http://127.0.0.1:9000); empty = local.
	URL             string
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	// PathStyle addresses buckets as URL/bucket/key instead of bucket.host.
	PathStyle bool
}

// Conn is the base every connector implements.
type Conn interface {
	Ping(ctx context.Context) error
	Close() error
}

// ConnectionChecker verifies an endpoint layer by layer (DNS, TCP, TLS,
// authentication, database, privileges, CDC prerequisites) the way DMS
// TestConnection does.
type ConnectionChecker interface {
	// CheckConnection returns a report when the endpoint is usable (possibly
	// with warnings), or a *CheckError saying which layer failed and what to fix.
	CheckConnection(ctx context.Context) (*CheckReport, error)
}

// CheckReport is the outcome of a successful CheckConnection.
type CheckReport struct {
	// ServerVersion is what the server reported, e.g. "PostgreSQL 15.19".
	ServerVersion string
	// Warnings are problems that do not stop the connection from working but
	// will stop some use of it (for example CDC prerequisites not met).
	Warnings []string
}

// Stage is the layer at which a connection check failed.
type Stage string

const (
	StageConfig     Stage = "configuration"
	StageDNS        Stage = "dns"
	StageTCP        Stage = "network"
	StageTLS        Stage = "tls"
	StageAuth       Stage = "authentication"
	StageDatabase   Stage = "database"
	StagePrivileges Stage = "privileges"
	StageCDC        Stage = "cdc-prerequisites"
	StageStorage    Stage = "storage"
)

// CheckError is a failed connection check. Message is written for the user:
// it says what failed and what to do. It never contains a password.
type CheckError struct {
	Stage   Stage
	Message string
	Err     error // underlying cause, for logs; may be nil
}

func (e *CheckError) Error() string { return fmt.Sprintf("%s: %s", e.Stage, e.Message) }
func (e *CheckError) Unwrap() error { return e.Err }

// Factory opens a connector for an endpoint. It must not do network I/O
// beyond what is needed to return a usable value; CheckConnection does the
// layered checks.
type Factory func(ep Endpoint) (Conn, error)

// Registry maps DMS engine names to factories.
type Registry struct {
	factories map[string]Factory
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{factories: map[string]Factory{}} }

// Register adds f for each engine name.
func (r *Registry) Register(f Factory, engines ...string) {
	for _, e := range engines {
		r.factories[e] = f
	}
}

// Open returns a connector for ep, or ErrUnsupportedEngine.
func (r *Registry) Open(ep Endpoint) (Conn, error) {
	f, ok := r.factories[ep.Engine]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedEngine, ep.Engine)
	}
	return f(ep)
}

// Engines lists the registered engine names, sorted.
func (r *Registry) Engines() []string {
	out := make([]string, 0, len(r.factories))
	for e := range r.factories {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}
