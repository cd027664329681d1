package fetch

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/crlcompile"
	"github.com/revocheck/revocheck/core/crlset"
)

// A private CA's CRL compiled by `mirror crl` (core/crlcompile) into the
// tree's crlsets/, fetched, answers through core/crlset's store.
func TestFetchedCRLSetAnswers(t *testing.T) {
	ca, caDER, crl := privateCA(t)

	m := newMirror(t)
	m.publish(t, "", tfile{"a.filter", fixture(t)})
	if err := crlcompile.CompileFiles([][]byte{crl}, [][]byte{caDER}, m.dir); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	res, err := syncOnce(t, m, cache)
	if err != nil {
		t.Fatal(err)
	}
	if res.Trees[1].Tree != "crlsets" || res.Trees[1].Downloaded != 1 {
		t.Fatalf("%+v", res.Trees)
	}
	st := crlset.OpenStore(filepath.Join(cache, crlset.Dir))
	defer st.Close()
	spki := sha256.Sum256(ca.RawSubjectPublicKeyInfo)
	if covered, revoked := st.Lookup(&spki, []byte{0x12, 0x34}); !covered || !revoked {
		t.Fatalf("revoked serial: covered=%v revoked=%v", covered, revoked)
	}
	if covered, revoked := st.Lookup(&spki, []byte{0x12, 0x35}); !covered || revoked {
		t.Fatalf("good serial: covered=%v revoked=%v", covered, revoked)
	}
	// Second run: nothing moves in either tree.
	m.fileBytes.Store(0)
	res, err = syncOnce(t, m, cache)
	if err != nil || !res.Trees[0].Unchanged || !res.Trees[1].Unchanged || m.fileBytes.Load() != 0 {
		t.Fatalf("%v %+v, %d bytes", err, res, m.fileBytes.Load())
	}
}

// privateCA makes a CA and its CRL revoking serial 0x1234.
func privateCA(t *testing.T) (*x509.Certificate, []byte, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Private Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(0x1234), RevocationTime: time.Now()}},
	}, ca, key)
	if err != nil {
		t.Fatal(err)
	}
	return ca, caDER, crl
}

// crlsetFile is a real CRL set (compiled by core/crlcompile).
func crlsetFile(t *testing.T) []byte {
	t.Helper()
	_, caDER, crl := privateCA(t)
	dir := t.TempDir()
	if err := crlcompile.CompileFiles([][]byte{crl}, [][]byte{caDER}, dir); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, crlset.Dir, "*.crlset"))
	if len(names) != 1 {
		t.Fatalf("compiled %v", names)
	}
	data, err := os.ReadFile(names[0])
	if err != nil {
		t.Fatal(err)
	}
	return data
}
