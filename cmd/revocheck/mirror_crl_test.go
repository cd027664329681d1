package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testCA writes a self-signed CA (PEM) and a CRL of it revoking serial 9
// (DER) into dir.
func testCA(t *testing.T, dir string) (caPEM, crlDER string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CLI Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SubjectKeyId: []byte{1, 2, 3},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(9), RevocationTime: time.Now().Add(-time.Minute)}},
	}, ca, key)
	require.NoError(t, err)
	caPEM, crlDER = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "a.crl")
	require.NoError(t, os.WriteFile(caPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	require.NoError(t, os.WriteFile(crlDER, crl, 0o644))
	return caPEM, crlDER
}

func TestMirrorCRLCommand(t *testing.T) {
	dir := t.TempDir()
	ca, crl := testCA(t, dir)
	code, out, errOut := runCLI(t, nil, "mirror", "crl", "--ca", ca, "--out", filepath.Join(dir, "tree"), crl)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "1 issuers, 1 revoked entries")
	_, err := os.Stat(filepath.Join(dir, "tree", "crlsets", "manifest.json"))
	require.NoError(t, err)

	code, _, errOut = runCLI(t, nil, "mirror", "crl", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, errOut, "usage: revocheck mirror crl")
	require.Contains(t, errOut, "-strict")

	code, _, errOut = runCLI(t, nil, "mirror", "crl", "--out", dir)
	require.Equal(t, 1, code, "missing --ca accepted")
	require.Contains(t, errOut, "revocheck: error: mirror crl: --out, at least one --ca and at least one CRL are required")
}
