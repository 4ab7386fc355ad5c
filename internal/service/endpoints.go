package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
	"github.com/godwit-dms/godwit/internal/store"
)

// EndpointSpec is the input of Create/ModifyEndpoint. Pointers are "not
// given" when nil (Modify keeps the current value).
type EndpointSpec struct {
	ARN                       string // Modify only
	Identifier                *string
	ResourceIdentifier        string // Create only
	Type                      *string
	Engine                    *string
	Username                  *string
	Password                  *string
	ServerName                *string
	Port                      *int32
	DatabaseName              *string
	ExtraConnectionAttributes *string
	KmsKeyID                  *string
	CertificateARN            *string
	SSLMode                   *string
	ServiceAccessRoleARN      *string
	ExternalTableDefinition   *string
	// Settings are the settings blocks given, by member name.
	Settings map[string]json.RawMessage
	// ExactSettings replaces the settings blocks instead of merging (Modify).
	ExactSettings bool
	Tags          []store.Tag
}

// engines whose endpoints are database servers reached over the network.
var serverEngines = []string{"mysql", "mariadb", "aurora", "aurora-serverless", "postgres", "aurora-postgresql",
	"aurora-postgresql-serverless", "oracle", "sqlserver", "azuredb", "azure-sql-managed-instance", "babelfish",
	"sybase", "db2", "db2-zos", "redshift", "gcp-mysql", "mongodb", "docdb"}

// CreateEndpoint validates and stores a new endpoint (active at once, as in DMS).
func (s *Service) CreateEndpoint(ctx context.Context, spec EndpointSpec) (*dms.Endpoint, error) {
	id := deref(spec.Identifier)
	if err := dms.ValidateIdentifier("EndpointIdentifier", id, dms.MaxEndpointIdentifier); err != nil {
		return nil, invalidParam("%s", err)
	}
	resID := dms.NewResourceID()
	if spec.ResourceIdentifier != "" {
		if err := dms.ValidateIdentifier("ResourceIdentifier", spec.ResourceIdentifier, dms.MaxResourceIdentifier); err != nil {
			return nil, invalidParam("%s", err)
		}
		resID = spec.ResourceIdentifier
	}
	ep := &dms.Endpoint{
		ARN:        s.Account.ARN(dms.TypeEndpoint, resID),
		Identifier: id,
		ResourceID: resID,
		Status:     dms.EndpointActive,
		SSLMode:    "none",
		ExternalID: dms.NewResourceID(),
		CreatedAt:  s.now(),
	}
	secrets := map[string]string{}
	if err := s.applyEndpointSpec(ep, secrets, spec); err != nil {
		return nil, err
	}
	if err := validateTags(spec.Tags); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(tx store.Tx) error {
		if err := s.checkEndpointRefs(ctx, tx, ep); err != nil {
			return err
		}
		eps, err := list[dms.Endpoint](ctx, tx, KindEndpoint, "")
		if err != nil {
			return err
		}
		for _, o := range eps {
			if strings.EqualFold(o.Identifier, ep.Identifier) {
				return &Error{Code: CodeAlreadyExists, Msg: fmt.Sprintf("Endpoint %s already exists.", ep.Identifier), ARN: o.ARN}
			}
		}
		if max := quota(catalog.QuotaEndpoints); len(eps) >= max {
			return newErr(CodeQuotaExceeded, "The quota of %d endpoints is reached.", max)
		}
		if err := s.sealSecrets(ep, secrets); err != nil {
			return err
		}
		if err := insert(ctx, tx, KindEndpoint, resID, ep.ARN, "", ep); err != nil {
			if IsCode(err, CodeAlreadyExists) {
				return &Error{Code: CodeAlreadyExists, Msg: fmt.Sprintf("An endpoint with resource identifier %s already exists.", resID), ARN: ep.ARN}
			}
			return err
		}
		return tx.TagPut(ctx, ep.ARN, spec.Tags)
	})
	if err != nil {
		return nil, err
	}
	return ep, nil
}

// applyEndpointSpec folds spec into ep (and its secrets) and validates the result.
func (s *Service) applyEndpointSpec(ep *dms.Endpoint, secrets map[string]string, spec EndpointSpec) error {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&ep.Type, spec.Type)
	set(&ep.Engine, spec.Engine)
	set(&ep.Username, spec.Username)
	set(&ep.ServerName, spec.ServerName)
	set(&ep.DatabaseName, spec.DatabaseName)
	set(&ep.ExtraConnectionAttributes, spec.ExtraConnectionAttributes)
	set(&ep.KmsKeyID, spec.KmsKeyID)
	set(&ep.CertificateARN, spec.CertificateARN)
	set(&ep.SSLMode, spec.SSLMode)
	set(&ep.ServiceAccessRoleARN, spec.ServiceAccessRoleARN)
	set(&ep.ExternalTableDefinition, spec.ExternalTableDefinition)
	if spec.Identifier != nil {
		ep.Identifier = *spec.Identifier
	}
	if spec.Port != nil {
		ep.Port = *spec.Port
	}
	if spec.Password != nil {
		secrets["Password"] = *spec.Password
	}
	if spec.ExactSettings {
		ep.Settings = nil
	}
	for block, raw := range spec.Settings {
		if err := mergeSettingsBlock(ep, secrets, block, raw, spec.ExactSettings); err != nil {
			return err
		}
	}

	ep.Type = strings.ToLower(ep.Type)
	if ep.Type != "source" && ep.Type != "target" {
		return invalidParam("Invalid EndpointType %q: valid values are source and target.", ep.Type)
	}
	if !catalog.IsEngine(ep.Engine) {
		return invalidParam("Invalid EngineName %q: see DescribeEndpointTypes for the engines DMS supports.", ep.Engine)
	}
	src, tgt := catalog.Roles(ep.Engine)
	if (ep.Type == "source" && !src) || (ep.Type == "target" && !tgt) {
		return invalidParam("Engine %s cannot be used as a %s endpoint.", ep.Engine, ep.Type)
	}
	if !slices.Contains([]string{"none", "require", "verify-ca", "verify-full"}, ep.SSLMode) {
		return invalidParam("Invalid SslMode %q: valid values are none, require, verify-ca and verify-full.", ep.SSLMode)
	}
	if (ep.SSLMode == "verify-ca" || ep.SSLMode == "verify-full") && ep.CertificateARN == "" {
		return invalidParam("SslMode %s needs a CertificateArn: import the server's CA with ImportCertificate.", ep.SSLMode)
	}
	if spec.Port != nil && *spec.Port <= 0 || ep.Port > 65535 {
		return invalidParam("Port must be between 1 and 65535 (got %d).", ep.Port)
	}
	stored, err := s.EndpointSecrets(ep)
	if err != nil {
		return err
	}
	hasSecret := func(k string) bool { return secrets[k] != "" || stored[k] != "" }
	// Connection fields may also come from the engine's settings block.
	block := catalog.SettingsBlock(ep.Engine)
	usesSecretsManager := false
	if raw, ok := ep.Settings[block]; ok {
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		fill := func(dst *string, key string) {
			if v, ok := m[key].(string); ok && *dst == "" {
				*dst = v
			}
		}
		fill(&ep.ServerName, "ServerName")
		fill(&ep.Username, "Username")
		fill(&ep.DatabaseName, "DatabaseName")
		if p, ok := m["Port"].(float64); ok && ep.Port == 0 {
			ep.Port = int32(p)
		}
		arn, _ := m["SecretsManagerAccessRoleArn"].(string)
		sid, _ := m["SecretsManagerSecretId"].(string)
		if (arn == "") != (sid == "") {
			return invalidParam("%s.SecretsManagerAccessRoleArn and %s.SecretsManagerSecretId must be given together.", block, block)
		}
		usesSecretsManager = arn != ""
	}
	if usesSecretsManager && (hasSecret("Password") || hasSecret(block+".Password")) {
		return newErr(CodeInvalidParameterCombination, "Password cannot be given together with SecretsManager settings: give one or the other.")
	}
	if slices.Contains(serverEngines, ep.Engine) && !usesSecretsManager {
		missing := []string{}
		if ep.Username == "" {
			missing = append(missing, "Username")
		}
		if !hasSecret("Password") && !hasSecret(block+".Password") {
			missing = append(missing, "Password")
		}
		if ep.ServerName == "" {
			missing = append(missing, "ServerName")
		}
		if ep.Port == 0 {
			missing = append(missing, "Port")
		}
		if strings.Contains(ep.Engine, "postgres") && ep.DatabaseName == "" {
			missing = append(missing, "DatabaseName")
		}
		if len(missing) > 0 {
			return invalidParam("A %s endpoint needs %s.", ep.Engine, strings.Join(missing, ", "))
		}
	}
	if ep.Engine == "s3" {
		var m map[string]any
		_ = json.Unmarshal(ep.Settings["S3Settings"], &m)
		if b, _ := m["BucketName"].(string); b == "" {
			return invalidParam("An s3 endpoint needs S3Settings.BucketName.")
		}
	}
	return nil
}

// mergeSettingsBlock merges (or, with exact, replaces) one settings block,
// moving its secret members into secrets.
func mergeSettingsBlock(ep *dms.Endpoint, secrets map[string]string, block string, raw json.RawMessage, exact bool) error {
	var in map[string]any
	if err := json.Unmarshal(raw, &in); err != nil {
		return invalidParam("%s must be an object.", block)
	}
	cur := map[string]any{}
	if !exact && ep.Settings[block] != nil {
		_ = json.Unmarshal(ep.Settings[block], &cur)
	}
	for k, v := range in {
		if dms.IsSecretSetting(k) {
			if str, ok := v.(string); ok {
				secrets[block+"."+k] = str
			}
			continue
		}
		cur[k] = v
	}
	out, err := json.Marshal(cur)
	if err != nil {
		return err
	}
	if ep.Settings == nil {
		ep.Settings = map[string]json.RawMessage{}
	}
	ep.Settings[block] = out
	return nil
}

// sealSecrets merges new secrets into the endpoint's encrypted secrets.
func (s *Service) sealSecrets(ep *dms.Endpoint, fresh map[string]string) error {
	if len(fresh) == 0 {
		return nil
	}
	all, err := s.EndpointSecrets(ep)
	if err != nil {
		return err
	}
	for k, v := range fresh {
		all[k] = v
	}
	plain, err := json.Marshal(all)
	if err != nil {
		return err
	}
	ep.Secrets = s.Secrets.Seal(plain)
	return nil
}

// EndpointSecrets decrypts an endpoint's secrets ("Password",
// "<Block>.<Member>"). Callers must never log or return them.
func (s *Service) EndpointSecrets(ep *dms.Endpoint) (map[string]string, error) {
	out := map[string]string{}
	if len(ep.Secrets) == 0 {
		return out, nil
	}
	plain, err := s.Secrets.Open(ep.Secrets)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", ep.Identifier, err)
	}
	if err := json.Unmarshal(plain, &out); err != nil {
		return nil, fmt.Errorf("endpoint %s: secrets: %w", ep.Identifier, err)
	}
	return out, nil
}

// checkEndpointRefs checks the certificate the endpoint names exists.
func (s *Service) checkEndpointRefs(ctx context.Context, r store.Reader, ep *dms.Endpoint) error {
	if ep.CertificateARN == "" {
		return nil
	}
	_, _, err := loadByARN[dms.Certificate](ctx, r, KindCertificate, ep.CertificateARN, "Certificate")
	return err
}

// GetEndpoint reads an endpoint by ARN.
func (s *Service) GetEndpoint(ctx context.Context, r store.Reader, arn string) (*dms.Endpoint, *store.Record, error) {
	return loadByARN[dms.Endpoint](ctx, r, KindEndpoint, arn, "Endpoint")
}

// ListEndpoints returns every endpoint.
func (s *Service) ListEndpoints(ctx context.Context) ([]*dms.Endpoint, error) {
	return list[dms.Endpoint](ctx, s.Store, KindEndpoint, "")
}

// ModifyEndpoint changes an endpoint. The connections already tested
// against it keep their last result until tested again.
func (s *Service) ModifyEndpoint(ctx context.Context, spec EndpointSpec) (*dms.Endpoint, error) {
	if spec.Identifier != nil {
		if err := dms.ValidateIdentifier("EndpointIdentifier", *spec.Identifier, dms.MaxEndpointIdentifier); err != nil {
			return nil, invalidParam("%s", err)
		}
	}
	var out *dms.Endpoint
	err := s.update(ctx, func(tx store.Tx) error {
		ep, rec, err := s.GetEndpoint(ctx, tx, spec.ARN)
		if err != nil {
			return err
		}
		oldID := ep.Identifier
		secrets := map[string]string{}
		if err := s.applyEndpointSpec(ep, secrets, spec); err != nil {
			return err
		}
		if err := s.checkEndpointRefs(ctx, tx, ep); err != nil {
			return err
		}
		if !strings.EqualFold(oldID, ep.Identifier) {
			eps, err := list[dms.Endpoint](ctx, tx, KindEndpoint, "")
			if err != nil {
				return err
			}
			for _, o := range eps {
				if o.ARN != ep.ARN && strings.EqualFold(o.Identifier, ep.Identifier) {
					return &Error{Code: CodeAlreadyExists, Msg: fmt.Sprintf("Endpoint %s already exists.", ep.Identifier), ARN: o.ARN}
				}
			}
		}
		if err := s.sealSecrets(ep, secrets); err != nil {
			return err
		}
		out = ep
		return save(ctx, tx, rec, ep)
	})
	return out, err
}

// DeleteEndpoint removes an endpoint no task uses, with its connections.
func (s *Service) DeleteEndpoint(ctx context.Context, arn string) (*dms.Endpoint, error) {
	var out *dms.Endpoint
	err := s.update(ctx, func(tx store.Tx) error {
		ep, rec, err := s.GetEndpoint(ctx, tx, arn)
		if err != nil {
			return err
		}
		if err := s.checkNoTasksOn(ctx, tx, ep.ARN, "endpoint "+ep.Identifier); err != nil {
			return err
		}
		conns, err := list[dms.Connection](ctx, tx, KindConnection, "")
		if err != nil {
			return err
		}
		for _, c := range conns {
			if c.EndpointARN == ep.ARN {
				if err := tx.RecordDelete(ctx, KindConnection, dms.ConnectionID(c.InstanceARN, c.EndpointARN)); err != nil {
					return err
				}
			}
		}
		if _, err := tx.RecordGet(ctx, KindSchemaRefresh, ep.ARN); err == nil {
			if err := tx.RecordDelete(ctx, KindSchemaRefresh, ep.ARN); err != nil {
				return err
			}
		}
		ep.Status = dms.EndpointDeleting
		out = ep
		return tx.RecordDelete(ctx, KindEndpoint, rec.ID)
	})
	return out, err
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}
