// Command godwit is a self-hosted implementation of AWS Database Migration
// Service: `godwit serve` answers the DMS API (AWS JSON 1.1, SigV4) so the
// aws CLI, boto3, the AWS SDKs and Terraform can drive it with an endpoint URL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/godwit-dms/godwit/internal/app"
)

const usage = `godwit — a self-hosted AWS Database Migration Service.

Usage:
  godwit serve [flags]    run the DMS API server and its replication instances
  godwit bench full-load  measure the full load against raw COPY pipes (starts its own servers)
  godwit bench cdc        measure change processing against the CDC limits (starts its own servers)
  godwit version          print the version
  godwit help             this text

Run "godwit serve --help" for the server's flags.
`

var version = "dev"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "godwit:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "bench":
		return benchCmd(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "godwit", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// env returns the environment variable, or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func serve(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg app.Config
	var auth, logLevel, logFormat string
	var testTimeout time.Duration
	fs.StringVar(&cfg.Listen, "listen", env("GODWIT_LISTEN", "127.0.0.1:9329"), "address to listen on (env GODWIT_LISTEN)")
	fs.StringVar(&cfg.DataDir, "data-dir", env("GODWIT_DATA_DIR", "./godwit-data"), "directory for state, keys and local buckets (env GODWIT_DATA_DIR)")
	fs.StringVar(&cfg.Region, "region", env("GODWIT_REGION", "us-east-1"), "AWS region the ARNs name (env GODWIT_REGION)")
	fs.StringVar(&cfg.AccountID, "account-id", env("GODWIT_ACCOUNT_ID", "000000000000"), "12-digit account id the ARNs name (env GODWIT_ACCOUNT_ID)")
	fs.StringVar(&auth, "auth", env("GODWIT_AUTH", "sigv4"), "sigv4: verify request signatures; none: accept unsigned requests, for local use only (env GODWIT_AUTH)")
	fs.StringVar(&cfg.TLSCertFile, "tls-cert", env("GODWIT_TLS_CERT", ""), "PEM certificate file: serve HTTPS (env GODWIT_TLS_CERT)")
	fs.StringVar(&cfg.TLSKeyFile, "tls-key", env("GODWIT_TLS_KEY", ""), "PEM private key file for --tls-cert (env GODWIT_TLS_KEY)")
	fs.StringVar(&cfg.S3Root, "s3-root", env("GODWIT_S3_ROOT", ""), "directory of local buckets for s3 endpoints (default <data-dir>/buckets; env GODWIT_S3_ROOT)")
	fs.StringVar(&cfg.S3EndpointURL, "s3-endpoint-url", env("GODWIT_S3_ENDPOINT_URL", ""), "S3-compatible API for s3 endpoints instead of local buckets (env GODWIT_S3_ENDPOINT_URL; keys from GODWIT_S3_ACCESS_KEY_ID / GODWIT_S3_SECRET_ACCESS_KEY)")
	fs.BoolVar(&cfg.S3PathStyle, "s3-path-style", env("GODWIT_S3_PATH_STYLE", "true") == "true", "address buckets by path on the S3-compatible API (env GODWIT_S3_PATH_STYLE)")
	fs.DurationVar(&testTimeout, "connection-test-timeout", 30*time.Second, "upper bound of one TestConnection")
	fs.DurationVar(&cfg.MinTaskRunningTime, "min-task-running-time", time.Second, "shortest time a task is reported running, so pollers see it (e.g. 35s for Terraform's first poll)")
	fs.DurationVar(&cfg.FullLoadCommitInterval, "full-load-commit-interval", time.Second, "how long one load statement of a full load takes rows before it commits and the table's progress is recorded")
	fs.Int64Var(&cfg.FullLoadSegmentRows, "full-load-segment-rows", 1_000_000, "table size (estimated rows) above which a full load may cut a keyed table into segments of its own accord")
	fs.StringVar(&logLevel, "log-level", env("GODWIT_LOG_LEVEL", "info"), "debug, info, warn or error (env GODWIT_LOG_LEVEL)")
	fs.StringVar(&logFormat, "log-format", env("GODWIT_LOG_FORMAT", "text"), "text or json (env GODWIT_LOG_FORMAT)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: godwit serve [flags]\n\nRuns the DMS API on --listen with its state in --data-dir (embedded SQLite).\n"+
			"Credentials: GODWIT_ACCESS_KEY_ID and GODWIT_SECRET_ACCESS_KEY when set, else a key pair generated on\n"+
			"first start and kept in <data-dir>/credentials.json. GODWIT_READONLY_KEYS=id:secret,... adds key pairs\n"+
			"that may only call Describe* and List* operations.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	switch auth {
	case "sigv4":
	case "none":
		cfg.AuthNone = true
	default:
		return fmt.Errorf("--auth must be sigv4 or none, not %q", auth)
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if len(cfg.AccountID) != 12 || strings.Trim(cfg.AccountID, "0123456789") != "" {
		return fmt.Errorf("--account-id must be 12 digits, not %q", cfg.AccountID)
	}
	cfg.AccessKeyID = os.Getenv("GODWIT_ACCESS_KEY_ID")
	cfg.SecretAccessKey = os.Getenv("GODWIT_SECRET_ACCESS_KEY")
	if ro := os.Getenv("GODWIT_READONLY_KEYS"); ro != "" {
		cfg.ReadOnlyKeys = map[string]string{}
		for _, pair := range strings.Split(ro, ",") {
			id, secret, ok := strings.Cut(strings.TrimSpace(pair), ":")
			if !ok || id == "" || secret == "" {
				return errors.New("GODWIT_READONLY_KEYS must be id:secret pairs separated by commas")
			}
			cfg.ReadOnlyKeys[id] = secret
		}
	}
	cfg.S3AccessKeyID = os.Getenv("GODWIT_S3_ACCESS_KEY_ID")
	cfg.S3SecretAccessKey = os.Getenv("GODWIT_S3_SECRET_ACCESS_KEY")
	cfg.S3Region = env("GODWIT_S3_REGION", cfg.Region)
	cfg.ConnectionTestTimeout = testTimeout

	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var handler slog.Handler = slog.NewTextHandler(stderr, opts)
	if logFormat == "json" {
		handler = slog.NewJSONHandler(stderr, opts)
	}
	log := slog.New(handler)
	cfg.Logger = log

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
	}
	url := fmt.Sprintf("%s://%s", scheme, l.Addr())
	printBanner(stdout, url, cfg, a)
	a.Start(ctx)
	log.Info("godwit serving the DMS API", "url", url, "data_dir", cfg.DataDir, "region", cfg.Region, "auth", auth)
	return a.Serve(ctx, l)
}

func printBanner(w io.Writer, url string, cfg app.Config, a *app.App) {
	fmt.Fprintf(w, "Godwit %s — DMS API at %s (region %s, account %s)\n", version, url, cfg.Region, cfg.AccountID)
	if cfg.AuthNone {
		fmt.Fprintf(w, "Authentication is OFF (--auth=none): any request is accepted. Use any credentials:\n")
		fmt.Fprintf(w, "  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=%s\n", cfg.Region)
	} else {
		c := a.Credentials()
		if cfg.AccessKeyID != "" {
			fmt.Fprintf(w, "Requests must be signed (SigV4) with the key pair from GODWIT_ACCESS_KEY_ID / GODWIT_SECRET_ACCESS_KEY (%s).\n", c.AccessKeyID)
		} else {
			path := filepath.Join(cfg.DataDir, app.CredentialsFile)
			state := "stored in"
			if a.KeysGenerated {
				state = "generated now and stored in"
			}
			fmt.Fprintf(w, "Requests must be signed (SigV4) with the key pair %s %s (mode 0600):\n", state, path)
			fmt.Fprintf(w, "  export AWS_ACCESS_KEY_ID=%s\n", c.AccessKeyID)
			fmt.Fprintf(w, "  export AWS_SECRET_ACCESS_KEY=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))[\"SecretAccessKey\"])' %s)\n", path)
			fmt.Fprintf(w, "  export AWS_DEFAULT_REGION=%s\n", cfg.Region)
		}
	}
	fmt.Fprintf(w, "Then: aws dms describe-replication-instances --endpoint-url %s\n", url)
}
