package netcheck

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godwit-dms/godwit/internal/connector"
	"github.com/godwit-dms/godwit/internal/testenv"
)

func wantStage(t *testing.T, err error, stage connector.Stage, want ...string) *connector.CheckError {
	t.Helper()
	var ce *connector.CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v (%T), want a *connector.CheckError", err, err)
	}
	if ce.Stage != stage {
		t.Errorf("stage = %q, want %q; message: %s", ce.Stage, stage, ce.Message)
	}
	for _, w := range want {
		if !strings.Contains(ce.Message, w) {
			t.Errorf("message %q does not contain %q", ce.Message, w)
		}
	}
	t.Logf("%s", err)
	return ce
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestLookupHost(t *testing.T) {
	var d Dialer
	addrs, err := d.LookupHost(ctxFor(t), "127.0.0.1")
	if err != nil || len(addrs) != 1 || addrs[0] != "127.0.0.1" {
		t.Fatalf("LookupHost(127.0.0.1) = %v, %v", addrs, err)
	}
	_, err = d.LookupHost(ctxFor(t), "no-such-host.invalid")
	wantStage(t, err, connector.StageDNS, `host name "no-such-host.invalid" does not resolve`, "ServerName")

	_, err = Dialer{Source: "the object store URL"}.LookupHost(ctxFor(t), "no-such-host.invalid")
	wantStage(t, err, connector.StageDNS, "check the object store URL")

	_, err = d.LookupHost(ctxFor(t), "")
	wantStage(t, err, connector.StageConfig, "ServerName")
}

func TestDial(t *testing.T) {
	var d Dialer
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if err := d.Probe(ctxFor(t), "127.0.0.1", port); err != nil {
		t.Fatalf("Probe: %v", err)
	}

	closed := testenv.ClosedPort(t)
	err = d.Probe(ctxFor(t), "127.0.0.1", closed)
	ce := wantStage(t, err, connector.StageTCP, "connection refused by 127.0.0.1:"+strconv.Itoa(closed))
	if !errors.Is(ce, errRefused()) {
		t.Errorf("cause %v is not ECONNREFUSED", ce.Err)
	}

	// localhost names its addresses when they differ from the host.
	err = d.Probe(ctxFor(t), "localhost", closed)
	wantStage(t, err, connector.StageTCP, "connection refused by localhost:"+strconv.Itoa(closed))

	err = d.Probe(ctxFor(t), "no-such-host.invalid", 5432)
	wantStage(t, err, connector.StageDNS)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = d.Probe(ctx, "127.0.0.1", port)
	wantStage(t, err, connector.StageTCP, "canceled")
}

func TestParseSSLMode(t *testing.T) {
	for in, want := range map[string]SSLMode{"": SSLNone, "none": SSLNone, "REQUIRE": SSLRequire, "verify-ca": SSLVerifyCA, " verify-full ": SSLVerifyFull} {
		got, err := ParseSSLMode(in)
		if err != nil || got != want {
			t.Errorf("ParseSSLMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseSSLMode("prefer")
	wantStage(t, err, connector.StageConfig, `"prefer"`)

	if cfg, err := TLSConfig(SSLNone, nil, "h"); cfg != nil || err != nil {
		t.Errorf("TLSConfig(none) = %v, %v", cfg, err)
	}
	_, err = TLSConfig(SSLVerifyFull, []byte("not PEM"), "h")
	wantStage(t, err, connector.StageConfig, "ImportCertificate")
}

// authority is a test CA.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newAuthority(t *testing.T, name string) *authority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &authority{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue makes a server certificate for names, valid until notAfter.
func (a *authority) issue(t *testing.T, notAfter time.Time, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serve answers each connection with handle until the test ends.
func serve(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return l.Addr().String()
}

func tlsServer(t *testing.T, cert tls.Certificate) string {
	return serve(t, func(c net.Conn) {
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		if tc.Handshake() == nil {
			tc.Write([]byte("ok"))
		}
	})
}

// handshake dials addr and runs the client side of TLS per mode.
func handshake(t *testing.T, addr, serverName string, mode SSLMode, caPEM []byte) error {
	t.Helper()
	cfg, err := TLSConfig(mode, caPEM, serverName)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	c, err := Dialer{}.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := Handshake(ctx, c, cfg, addr, mode, len(caPEM) > 0)
	if err == nil {
		tc.Close()
	}
	return err
}

func TestTLSModes(t *testing.T) {
	ca := newAuthority(t, "Test CA")
	other := newAuthority(t, "Other CA")
	// The certificate names another host than the one dialled.
	addr := tlsServer(t, ca.issue(t, time.Now().Add(time.Hour), "db.example.test"))

	if err := handshake(t, addr, "127.0.0.1", SSLRequire, nil); err != nil {
		t.Errorf("require: %v", err)
	}
	if err := handshake(t, addr, "127.0.0.1", SSLVerifyCA, ca.pem); err != nil {
		t.Errorf("verify-ca skips the host name: %v", err)
	}
	err := handshake(t, addr, "127.0.0.1", SSLVerifyFull, ca.pem)
	wantStage(t, err, connector.StageTLS, `does not match the host name "127.0.0.1"`, "valid for db.example.test", "verify-ca")

	for _, mode := range []SSLMode{SSLVerifyCA, SSLVerifyFull} {
		err = handshake(t, addr, "127.0.0.1", mode, other.pem)
		wantStage(t, err, connector.StageTLS, "not trusted", "not issued by the CA certificate of the endpoint", "ImportCertificate", "CertificateArn")
		err = handshake(t, addr, "127.0.0.1", mode, nil)
		wantStage(t, err, connector.StageTLS, "not trusted", "endpoint has no certificate")
	}

	good := tlsServer(t, ca.issue(t, time.Now().Add(time.Hour), "localhost", "127.0.0.1"))
	if err := handshake(t, good, "127.0.0.1", SSLVerifyFull, ca.pem); err != nil {
		t.Errorf("verify-full: %v", err)
	}

	expired := tlsServer(t, ca.issue(t, time.Now().Add(-time.Hour), "127.0.0.1"))
	err = handshake(t, expired, "127.0.0.1", SSLVerifyFull, ca.pem)
	wantStage(t, err, connector.StageTLS, "expired")
	err = handshake(t, expired, "127.0.0.1", SSLVerifyCA, ca.pem)
	wantStage(t, err, connector.StageTLS, "expired")
}

func TestTLSAgainstPlainServer(t *testing.T) {
	addr := serve(t, func(c net.Conn) {
		c.Write([]byte("HTTP/1.0 400 Bad Request\r\n\r\n"))
	})
	err := handshake(t, addr, "127.0.0.1", SSLRequire, nil)
	ce := wantStage(t, err, connector.StageTLS, "did not answer the TLS handshake with TLS")
	if !IsTLSError(ce.Err) {
		t.Errorf("IsTLSError(%v) = false", ce.Err)
	}

	silent := serve(t, func(c net.Conn) { time.Sleep(2 * time.Second) })
	cfg, _ := TLSConfig(SSLRequire, nil, "127.0.0.1")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	c, err := Dialer{}.DialContext(ctx, "tcp", silent)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Handshake(ctx, c, cfg, silent, SSLRequire, false)
	wantStage(t, err, connector.StageTLS, "timed out")
}

func TestMessagesHelpers(t *testing.T) {
	wantStage(t, NoServerTLSError("h:1", SSLRequire), connector.StageTLS, "does not support TLS", "SslMode is require")
	ce := wantStage(t, TLSRequiredError("h:1", `user "u"`, errors.New("cause")), connector.StageTLS, `requires TLS for user "u"`, "set SslMode")
	if !errors.Is(ce, ErrTLSRequired) {
		t.Errorf("TLSRequiredError is not ErrTLSRequired")
	}
}

func errRefused() error { return syscall.ECONNREFUSED }
