package engine

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/intermediates"
)

func mkcert(t *testing.T, cn string, ca bool, parent *x509.Certificate, pkey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: ca, BasicConstraintsValid: true}
	if parent == nil {
		parent, pkey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, pkey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

// FindIssuers: the synced set's candidates, none without a set, none when
// intermediates.complete is off; the index is not opened before the first
// call.
func TestFindIssuers(t *testing.T) {
	cache := t.TempDir()
	root, rk := mkcert(t, "Root", true, nil, nil)
	inter, ik := mkcert(t, "Inter", true, root, rk)
	leaf, _ := mkcert(t, "leaf", false, inter, ik)

	c := checker(t, cache, "")
	if got, err := c.FindIssuers(leaf.Raw); len(got) != 0 || err != nil {
		t.Fatalf("no set: %d %v", len(got), err)
	}

	dir := filepath.Join(cache, intermediates.Dir)
	os.MkdirAll(dir, 0o755)
	b, _, err := intermediates.Build([][]byte{inter.Raw, root.Raw}, intermediates.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if err := intermediates.WriteIndex(dir, b); err != nil {
		t.Fatal(err)
	}
	c2 := checker(t, cache, "")
	got, err := c2.FindIssuers(leaf.Raw)
	if err != nil || len(got) != 1 || !bytes.Equal(got[0], inter.Raw) {
		t.Fatalf("set: %d %v", len(got), err)
	}
	off := checker(t, cache, "intermediates=off")
	if got, err := off.FindIssuers(leaf.Raw); len(got) != 0 || err != nil {
		t.Fatalf("off: %d %v", len(got), err)
	}
}
