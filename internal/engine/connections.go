package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
	"github.com/godwit-dms/godwit/internal/service"
)

// reconcileConnections starts every requested connection test that is not
// already running.
func (e *Engine) reconcileConnections(ctx context.Context) error {
	pending, err := e.svc.PendingConnectionTests(ctx)
	if err != nil {
		return err
	}
	for _, c := range pending {
		id := dms.ConnectionID(c.InstanceARN, c.EndpointARN)
		e.mu.Lock()
		attempt, busy := e.inFlight[id]
		if busy && attempt == c.Attempt {
			e.mu.Unlock()
			continue
		}
		e.inFlight[id] = c.Attempt
		e.mu.Unlock()

		in := e.instance(c.InstanceARN)
		c := *c
		run := func(ctx context.Context) {
			defer func() {
				e.mu.Lock()
				if e.inFlight[id] == c.Attempt {
					delete(e.inFlight, id)
				}
				e.mu.Unlock()
			}()
			ok, msg := e.testConnection(ctx, &c)
			if ctx.Err() != nil {
				return // instance stopping: the test stays "testing" and runs again
			}
			res := service.ConnectionResult{InstanceARN: c.InstanceARN, EndpointARN: c.EndpointARN, Attempt: c.Attempt, OK: ok, Message: msg}
			if err := e.svc.RecordConnectionResult(context.WithoutCancel(ctx), res); err != nil {
				e.log.Error("record connection result", "endpoint", c.EndpointIdentifier, "err", err)
			}
		}
		if in == nil || !in.Go(run) {
			e.mu.Lock()
			delete(e.inFlight, id)
			e.mu.Unlock()
		}
	}
	return nil
}

// testConnection really connects to the endpoint from the instance and
// returns whether it worked and the message to record.
func (e *Engine) testConnection(ctx context.Context, c *dms.Connection) (bool, string) {
	ep, _, err := e.svc.GetEndpoint(ctx, e.svc.Store, c.EndpointARN)
	if err != nil {
		return false, "The endpoint no longer exists."
	}
	log := e.log.With("endpoint", ep.Identifier, "instance", c.InstanceIdentifier, "engine", ep.Engine)
	cep, err := e.connectorEndpoint(ctx, ep)
	if err != nil {
		log.Error("prepare connection test", "err", err)
		return false, "Godwit could not prepare the test: " + err.Error()
	}
	conn, err := e.registry.Open(cep)
	if errors.Is(err, connector.ErrUnsupportedEngine) {
		return false, fmt.Sprintf("Godwit cannot connect to %s endpoints: the engine %s is not supported by this server (supported: %s).",
			catalog.DisplayName(ep.Engine), ep.Engine, strings.Join(e.registry.Engines(), ", "))
	}
	if err != nil {
		msg := err.Error()
		if ce := (*connector.CheckError)(nil); errors.As(err, &ce) {
			msg = ce.Message // without the stage name the prefix already says
		}
		return false, "Invalid endpoint configuration: " + msg
	}
	defer conn.Close()
	checker, ok := conn.(connector.ConnectionChecker)
	if !ok {
		return false, fmt.Sprintf("Godwit cannot test %s endpoints yet.", ep.Engine)
	}
	tctx, cancel := context.WithTimeout(ctx, e.cfg.ConnectionTestTimeout)
	defer cancel()
	report, err := checker.CheckConnection(tctx)
	if err != nil {
		var ce *connector.CheckError
		if errors.As(err, &ce) {
			log.Info("connection test failed", "stage", ce.Stage, "cause", ce.Err)
			return false, ce.Message
		}
		if tctx.Err() != nil && ctx.Err() == nil {
			return false, fmt.Sprintf("The connection test did not finish within %s: check the network path to %s:%d.", e.cfg.ConnectionTestTimeout, ep.ServerName, ep.Port)
		}
		log.Info("connection test failed", "err", err)
		return false, err.Error()
	}
	log.Info("connection test succeeded", "server_version", report.ServerVersion, "warnings", len(report.Warnings))
	if len(report.Warnings) > 0 {
		return true, "Connected, with warnings: " + strings.Join(report.Warnings, " ")
	}
	return true, ""
}

// connectorEndpoint turns a stored endpoint into what a connector opens.
func (e *Engine) connectorEndpoint(ctx context.Context, ep *dms.Endpoint) (connector.Endpoint, error) {
	secrets, err := e.svc.EndpointSecrets(ep)
	if err != nil {
		return connector.Endpoint{}, err
	}
	block := catalog.SettingsBlock(ep.Engine)
	var settings map[string]any
	if raw := ep.Settings[block]; raw != nil {
		if err := json.Unmarshal(raw, &settings); err != nil {
			return connector.Endpoint{}, err
		}
	}
	password := secrets["Password"]
	if password == "" {
		password = secrets[block+".Password"]
	}
	out := connector.Endpoint{
		Engine: ep.Engine, Role: connector.Role(ep.Type),
		Host: ep.ServerName, Port: int(ep.Port), Database: ep.DatabaseName,
		Username: ep.Username, Password: password, SSLMode: ep.SSLMode,
		Settings: settings, ExtraConnectionAttributes: ep.ExtraConnectionAttributes,
		ObjectStore: e.cfg.ObjectStore,
	}
	if ep.CertificateARN != "" {
		cert, err := e.svc.GetCertificate(ctx, e.svc.Store, ep.CertificateARN)
		if err != nil {
			return connector.Endpoint{}, fmt.Errorf("certificate %s: %w", ep.CertificateARN, err)
		}
		out.CACertPEM = []byte(cert.PEM)
	}
	return out, nil
}
