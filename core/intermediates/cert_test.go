package intermediates

import (
	"bytes"
	"crypto/x509"
	"testing"
)

// FuzzParseKeys holds parseKeys — which reads certificates a host hands to
// revocheck_find_issuers — to crypto/x509 wherever both accept the bytes:
// the same issuer and subject Names, key identifiers and cA flag.
func FuzzParseKeys(f *testing.F) {
	root := issue(f, "Root", nil, true, nil, false)
	inter := issue(f, "Inter", root, true, nil, false)
	bare := issue(f, "Bare", root, true, nil, true)
	leaf := issue(f, "leaf", inter, false, nil, false)
	for _, c := range []*tcert{root, inter, bare, leaf} {
		f.Add(c.der)
		f.Add(c.der[:len(c.der)/2])
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		var k certKeys
		if parseKeys(der, &k) != nil {
			return
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return // parseKeys reads less than x509 checks
		}
		if !bytes.Equal(k.issuer, c.RawIssuer) || !bytes.Equal(k.subject, c.RawSubject) {
			t.Fatalf("names differ from crypto/x509")
		}
		if !bytes.Equal(k.ski, c.SubjectKeyId) || !bytes.Equal(k.aki, c.AuthorityKeyId) {
			t.Fatalf("key identifiers differ: ski %x/%x aki %x/%x", k.ski, c.SubjectKeyId, k.aki, c.AuthorityKeyId)
		}
		if k.ca != (c.BasicConstraintsValid && c.IsCA) {
			t.Fatalf("cA %v, crypto/x509 %v", k.ca, c.IsCA)
		}
	})
}
