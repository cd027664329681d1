package intermediates

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// mozillaSized is a synthetic set shaped like Mozilla's preloaded
// intermediates: 2 000 RSA-2048 CA certificates of about Mozilla's size
// (AIA, CRL distribution point, policies; ~1.3 KB of DER each) under 50
// roots' names, a few pairs sharing a subject Name (cross-signs, re-keys).
// One RSA key serves every certificate (keygen would dominate the setup);
// the index never looks at keys. Returns the DERs and a leaf under cert 1234.
var mozillaSized = sync.OnceValues(func() ([][]byte, []byte) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	spki, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	mk := func(i int, subject, issuer pkix.Name, ca bool, ski, aki []byte) []byte {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(int64(i) + 1000), Subject: subject, Issuer: issuer,
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(5 * 365 * 24 * time.Hour),
			IsCA: ca, BasicConstraintsValid: true, SubjectKeyId: ski, AuthorityKeyId: aki,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
			OCSPServer:            []string{fmt.Sprintf("http://ocsp.example-ca-%d.test", i%50)},
			IssuingCertificateURL: []string{fmt.Sprintf("http://certs.example-ca-%d.test/root.crt", i%50)},
			CRLDistributionPoints: []string{fmt.Sprintf("http://crl.example-ca-%d.test/root.crl", i%50)},
			Policies:              []x509.OID{mustOID(2, 23, 140, 1, 2, 1), mustOID(1, 3, 6, 1, 4, 1, 44947, 1, 1, 1)},
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		}
		parent := &x509.Certificate{Subject: issuer, SubjectKeyId: aki, PublicKeyAlgorithm: x509.RSA}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		return der
	}
	ski := func(i int) []byte { s := sha1.Sum(append(spki, byte(i), byte(i>>8))); return s[:] }
	name := func(i int) pkix.Name {
		if i%97 == 0 && i > 0 {
			i-- // a re-key: another certificate with the previous one's name
		}
		return pkix.Name{Country: []string{"US"}, Organization: []string{fmt.Sprintf("Example Trust Services %d, Inc.", i%300)},
			CommonName: fmt.Sprintf("Example TLS Issuing CA %d G%d", i, i%4+1)}
	}
	var ders [][]byte
	for i := 0; i < 2000; i++ {
		root := pkix.Name{Organization: []string{fmt.Sprintf("Example Root Services %d", i%50)}, CommonName: fmt.Sprintf("Example Root CA %d", i%50)}
		ders = append(ders, mk(i, name(i), root, true, ski(i), ski(100000+i%50)))
	}
	leaf := mk(99999, pkix.Name{CommonName: "www.example.test"}, name(1234), false, ski(99999), ski(1234))
	return ders, leaf
})

func mustOID(ids ...uint64) x509.OID {
	o, err := x509.OIDFromInts(ids)
	if err != nil {
		panic(err)
	}
	return o
}

// mozillaIndex writes the synthetic set's index into a directory.
func mozillaIndex(b *testing.B) (string, []byte, int) {
	ders, leaf := mozillaSized()
	idx, _, err := Build(ders, Meta{})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, IndexFile), idx, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir, leaf, len(idx)
}

// reportSize states the index's size (after the loop: ResetTimer drops
// metrics reported before it).
func reportSize(b *testing.B, size int) {
	ders, _ := mozillaSized()
	var der int
	for _, d := range ders {
		der += len(d)
	}
	b.ReportMetric(float64(size), "index-bytes")
	b.ReportMetric(float64(der)/float64(len(ders)), "der-bytes/cert")
}

// BenchmarkFind: one completion lookup (a candidate found and copied out)
// on a warm, mapped Mozilla-sized index.
func BenchmarkFind(b *testing.B) {
	dir, leaf, size := mozillaIndex(b)
	defer reportSize(b, size)
	s := NewSet(dir)
	defer s.Close()
	var sink int
	fn := func(der []byte) bool { sink += len(der); return true }
	if n, err := s.Find(leaf, fn); n != 1 || err != nil {
		b.Fatalf("%d %v", n, err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Find(leaf, fn)
	}
}

// BenchmarkFindFirst: what the first completion of a process costs: open
// and map the index, validate its table, look up once.
func BenchmarkFindFirst(b *testing.B) {
	dir, leaf, _ := mozillaIndex(b)
	fn := func([]byte) bool { return true }
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := NewSet(dir)
		if n, err := s.Find(leaf, fn); n != 1 || err != nil {
			b.Fatalf("%d %v", n, err)
		}
		s.Close()
	}
}

// BenchmarkBuild: the index of the Mozilla-sized set (what fetch adds to a
// sync that changes the set).
func BenchmarkBuild(b *testing.B) {
	ders, _ := mozillaSized()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := Build(ders, Meta{}); err != nil {
			b.Fatal(err)
		}
	}
}
