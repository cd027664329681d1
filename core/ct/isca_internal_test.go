package ct

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/certinput"
)

func TestIsCA(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, ca := range []bool{true, false} {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: ca, BasicConstraintsValid: true}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
		if err != nil {
			t.Fatal(err)
		}
		var c certinput.Cert
		if err := certinput.ParseCert(der, &c); err != nil {
			t.Fatal(err)
		}
		if got := isCA(&c); got != ca {
			t.Errorf("isCA = %v for IsCA %v", got, ca)
		}
	}
}
