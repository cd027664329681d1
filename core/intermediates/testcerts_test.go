package intermediates

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"
)

// tcert is a generated certificate and its key.
type tcert struct {
	der  []byte
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial int64

// issue makes a certificate named cn under parent (self-signed when nil).
// ca: basicConstraints cA=TRUE; ski: nil lets Go derive one for a CA,
// noSKI: none at all (cA marked through a raw extension, as Go adds an SKI
// to every CA it encodes otherwise).
func issue(t testing.TB, cn string, parent *tcert, ca bool, ski []byte, noSKI bool) *tcert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"revocheck test"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		SubjectKeyId: ski,
	}
	switch {
	case ca && noSKI:
		v, _ := asn1.Marshal(struct{ CA bool }{true})
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: v}}
	case ca:
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	default:
		tmpl.BasicConstraintsValid = true
	}
	pc, pk := tmpl, key
	if parent != nil {
		pc, pk = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, pc, &key.PublicKey, pk)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &tcert{der, c, key}
}
