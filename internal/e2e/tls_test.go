package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dmssdk "github.com/aws/aws-sdk-go-v2/service/databasemigrationservice"

	"github.com/godwit-dms/godwit/internal/app"
)

// TestServeTLS: with a certificate and key, the API is served over HTTPS.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "godwit"}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := app.New(ctx, app.Config{DataDir: filepath.Join(dir, "data"), TLSCertFile: certFile, TLSKeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go a.Serve(ctx, l)
	pool := x509.NewCertPool()
	pool.AddCert(func() *x509.Certificate { c, _ := x509.ParseCertificate(der); return c }())
	c := dmssdk.New(dmssdk.Options{Region: "us-east-1", BaseEndpoint: aws.String("https://" + l.Addr().String()), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(a.Credentials().AccessKeyID, a.Credentials().SecretAccessKey, ""),
		HTTPClient:  &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}})
	if _, err := c.DescribeEndpoints(ctx, &dmssdk.DescribeEndpointsInput{}); err != nil {
		t.Fatalf("over TLS: %v", err)
	}
	plain := dmssdk.New(dmssdk.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + l.Addr().String()), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(a.Credentials().AccessKeyID, a.Credentials().SecretAccessKey, "")})
	if _, err := plain.DescribeEndpoints(ctx, &dmssdk.DescribeEndpointsInput{}); err == nil {
		t.Fatal("a plain HTTP request was answered by the TLS server")
	}
}
