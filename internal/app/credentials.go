package app

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// CredentialsFile holds the generated key pair inside the data directory.
const CredentialsFile = "credentials.json"

// Credentials is an access key pair.
type Credentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
}

const (
	keyIDAlphabet  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// loadCredentials returns the configured pair, else the stored one, else a
// freshly generated pair that it stores (0600).
func loadCredentials(cfg Config) (Credentials, bool, error) {
	if cfg.AccessKeyID != "" || cfg.SecretAccessKey != "" {
		if cfg.AccessKeyID == "" || cfg.SecretAccessKey == "" {
			return Credentials{}, false, errors.New("both an access key id and a secret access key are needed")
		}
		return Credentials{cfg.AccessKeyID, cfg.SecretAccessKey}, false, nil
	}
	path := filepath.Join(cfg.DataDir, CredentialsFile)
	b, err := os.ReadFile(path)
	if err == nil {
		var c Credentials
		if err := json.Unmarshal(b, &c); err != nil || c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return Credentials{}, false, fmt.Errorf("%s is not a valid credentials file", path)
		}
		return c, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return Credentials{}, false, fmt.Errorf("read credentials: %w", err)
	}
	c := Credentials{AccessKeyID: "GWIT" + randomString(keyIDAlphabet, 16), SecretAccessKey: randomString(secretAlphabet, 40)}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return Credentials{}, false, err
	}
	b, _ = json.MarshalIndent(c, "", "  ")
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return Credentials{}, false, fmt.Errorf("write credentials: %w", err)
	}
	return c, true, nil
}
