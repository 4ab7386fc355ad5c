package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeFromReadme builds the binary, runs `godwit serve` as README.md
// says (on a free port and a fresh data dir), and drives it with the aws CLI
// using the key pair it generated.
func TestServeFromReadme(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "godwit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", data)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
		for sc.Scan() {
			if u := re.FindString(sc.Text()); u != "" {
				urls <- u
				return
			}
		}
	}()
	var url string
	select {
	case url = <-urls:
	case <-time.After(30 * time.Second):
		t.Fatal("godwit serve printed no URL")
	}
	raw, err := os.ReadFile(filepath.Join(data, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var creds struct{ AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal(raw, &creds); err != nil {
		t.Fatal(err)
	}
	aws, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("aws CLI not installed")
		}
		t.Skip("aws CLI not installed")
	}
	cli := exec.Command(aws, "dms", "describe-account-attributes", "--endpoint-url", url, "--output", "json")
	cli.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+creds.AccessKeyId, "AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cli.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ReplicationInstances") {
		t.Fatalf("aws dms describe-account-attributes: %v\n%s", err, out)
	}
}

func TestHelpExplainsEveryFlag(t *testing.T) {
	var out, errb strings.Builder
	if err := run([]string{"serve", "--help"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"-listen", "-data-dir", "-region", "-account-id", "-auth", "-tls-cert", "-tls-key", "GODWIT_ACCESS_KEY_ID"} {
		if !strings.Contains(errb.String(), f) {
			t.Errorf("serve --help does not mention %s", f)
		}
	}
	if err := run([]string{"frobnicate"}, &out, &errb); err == nil {
		t.Error("an unknown command was accepted")
	}
}
