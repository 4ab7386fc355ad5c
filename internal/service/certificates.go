package service

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/dms/catalog"
	"github.com/godwit-dms/godwit/internal/store"
)

// CertificateSpec is the input of ImportCertificate.
type CertificateSpec struct {
	Identifier string
	PEM        string
	Wallet     []byte
	KmsKeyID   string
	Tags       []store.Tag
}

// ImportCertificate parses and stores a CA certificate or Oracle wallet.
func (s *Service) ImportCertificate(ctx context.Context, spec CertificateSpec) (*dms.Certificate, error) {
	if err := dms.ValidateIdentifier("CertificateIdentifier", spec.Identifier, dms.MaxCertificateIdentifier); err != nil {
		return nil, invalidParam("%s", err)
	}
	if (spec.PEM == "") == (len(spec.Wallet) == 0) {
		return nil, newErr(CodeInvalidParameterCombination, "Give exactly one of CertificatePem and CertificateWallet.")
	}
	if err := validateTags(spec.Tags); err != nil {
		return nil, err
	}
	resID := dms.NewResourceID()
	c := &dms.Certificate{ARN: s.Account.ARN(dms.TypeCertificate, resID), Identifier: spec.Identifier,
		PEM: spec.PEM, Wallet: spec.Wallet, KmsKeyID: spec.KmsKeyID, CreatedAt: s.now()}
	if spec.PEM != "" {
		if err := describePEM(c); err != nil {
			return nil, err
		}
	}
	err := s.update(ctx, func(tx store.Tx) error {
		certs, err := list[dms.Certificate](ctx, tx, KindCertificate, "")
		if err != nil {
			return err
		}
		for _, o := range certs {
			if strings.EqualFold(o.Identifier, c.Identifier) {
				return &Error{Code: CodeAlreadyExists, Msg: fmt.Sprintf("Certificate %s already exists.", c.Identifier), ARN: o.ARN}
			}
		}
		if max := quota(catalog.QuotaCertificates); len(certs) >= max {
			return newErr(CodeQuotaExceeded, "The quota of %d certificates is reached.", max)
		}
		if err := insert(ctx, tx, KindCertificate, resID, c.ARN, "", c); err != nil {
			return err
		}
		return tx.TagPut(ctx, c.ARN, spec.Tags)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// describePEM fills the certificate's metadata from the first certificate
// of the PEM, and checks every block is a certificate.
func describePEM(c *dms.Certificate) error {
	rest := []byte(c.PEM)
	var first *x509.Certificate
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return newErr(CodeInvalidCertificate, "CertificatePem holds a %q block; only CERTIFICATE blocks can be imported.", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return newErr(CodeInvalidCertificate, "CertificatePem is not a valid X.509 certificate: %v.", err)
		}
		if first == nil {
			first = cert
		}
	}
	if first == nil {
		return newErr(CodeInvalidCertificate, "CertificatePem holds no PEM-encoded certificate (expected -----BEGIN CERTIFICATE-----).")
	}
	c.Owner = first.Subject.String()
	c.SigningAlgorithm = first.SignatureAlgorithm.String()
	c.ValidFrom = first.NotBefore.UTC()
	c.ValidTo = first.NotAfter.UTC()
	switch k := first.PublicKey.(type) {
	case *rsa.PublicKey:
		c.KeyLength = int32(k.N.BitLen())
	case *ecdsa.PublicKey:
		c.KeyLength = int32(k.Curve.Params().BitSize)
	case ed25519.PublicKey:
		c.KeyLength = 256
	}
	return nil
}

// ListCertificates returns every certificate.
func (s *Service) ListCertificates(ctx context.Context) ([]*dms.Certificate, error) {
	return list[dms.Certificate](ctx, s.Store, KindCertificate, "")
}

// GetCertificate reads a certificate by ARN.
func (s *Service) GetCertificate(ctx context.Context, r store.Reader, arn string) (*dms.Certificate, error) {
	c, _, err := loadByARN[dms.Certificate](ctx, r, KindCertificate, arn, "Certificate")
	return c, err
}

// DeleteCertificate removes a certificate no endpoint uses.
func (s *Service) DeleteCertificate(ctx context.Context, arn string) (*dms.Certificate, error) {
	var out *dms.Certificate
	err := s.update(ctx, func(tx store.Tx) error {
		c, rec, err := loadByARN[dms.Certificate](ctx, tx, KindCertificate, arn, "Certificate")
		if err != nil {
			return err
		}
		eps, err := list[dms.Endpoint](ctx, tx, KindEndpoint, "")
		if err != nil {
			return err
		}
		for _, ep := range eps {
			if ep.CertificateARN == c.ARN {
				return invalidState("Certificate %s is used by endpoint %s.", c.Identifier, ep.Identifier)
			}
		}
		out = c
		return tx.RecordDelete(ctx, KindCertificate, rec.ID)
	})
	return out, err
}
