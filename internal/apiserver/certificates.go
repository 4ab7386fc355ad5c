package apiserver

import (
	"context"

	"github.com/godwit-dms/godwit/internal/api"
	"github.com/godwit-dms/godwit/internal/dms"
	"github.com/godwit-dms/godwit/internal/service"
)

func certificateShape(c *dms.Certificate) *api.Certificate {
	out := &api.Certificate{
		CertificateArn:          ptr(c.ARN),
		CertificateIdentifier:   ptr(c.Identifier),
		CertificateCreationDate: api.NewTime(c.CreatedAt),
		CertificatePem:          optPtr(c.PEM),
		CertificateWallet:       c.Wallet,
		CertificateOwner:        optPtr(c.Owner),
		SigningAlgorithm:        optPtr(c.SigningAlgorithm),
		KeyLength:               optPtr(c.KeyLength),
		ValidFromDate:           api.NewTime(c.ValidFrom),
		ValidToDate:             api.NewTime(c.ValidTo),
		KmsKeyId:                optPtr(c.KmsKeyID),
	}
	return out
}

func (s *Server) ImportCertificate(ctx context.Context, in *api.ImportCertificateMessage) (*api.ImportCertificateResponse, error) {
	c, err := s.Svc.ImportCertificate(ctx, service.CertificateSpec{
		Identifier: str(in.CertificateIdentifier), PEM: str(in.CertificatePem), Wallet: in.CertificateWallet,
		KmsKeyID: str(in.KmsKeyId), Tags: tagsIn(in.Tags),
	})
	if err != nil {
		return nil, err
	}
	return &api.ImportCertificateResponse{Certificate: certificateShape(c)}, nil
}

func (s *Server) DescribeCertificates(ctx context.Context, in *api.DescribeCertificatesMessage) (*api.DescribeCertificatesResponse, error) {
	all, err := s.Svc.ListCertificates(ctx)
	if err != nil {
		return nil, err
	}
	items, err := applyFilters(all, in.Filters, filterFields[*dms.Certificate]{
		"certificate-arn": func(c *dms.Certificate) []string { return []string{c.ARN} },
		"certificate-id":  func(c *dms.Certificate) []string { return []string{c.Identifier} },
	})
	if err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 && len(items) == 0 {
		return nil, noneMatched("Certificates")
	}
	pg, next, err := page(items, in.Marker, in.MaxRecords, limitsCerts)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeCertificatesResponse{Marker: next, Certificates: []api.Certificate{}}
	for _, c := range pg {
		out.Certificates = append(out.Certificates, *certificateShape(c))
	}
	return out, nil
}

func (s *Server) DeleteCertificate(ctx context.Context, in *api.DeleteCertificateMessage) (*api.DeleteCertificateResponse, error) {
	c, err := s.Svc.DeleteCertificate(ctx, str(in.CertificateArn))
	if err != nil {
		return nil, err
	}
	return &api.DeleteCertificateResponse{Certificate: certificateShape(c)}, nil
}
