package crlcompile

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/crlset"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t testing.TB, cn string, skid []byte) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SubjectKeyId:          skid,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	c, err := x509.ParseCertificate(der)
	must(t, err)
	return &testCA{cert: c, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca *testCA) crl(t testing.TB, next time.Time, serials ...*big.Int) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: next}
	for _, s := range serials {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.key)
	must(t, err)
	return der
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// content is the DER INTEGER content of a positive serial (leading 0x00
// when the high bit is set), i.e. what certinput extracts.
func content(n *big.Int) []byte {
	b := n.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b
}

func TestCompileAndLookup(t *testing.T) {
	out := t.TempDir()
	ca1 := newCA(t, "CA One", []byte{1})
	ca2 := newCA(t, "CA Two", []byte{2})
	ca2b := newCA(t, "CA Two", []byte{3}) // second key under the same name
	high := new(big.Int).SetBytes(bytes.Repeat([]byte{0xff}, 16))
	low := big.NewInt(0x1234)
	crl1 := ca1.crl(t, time.Now().Add(time.Hour), high, low)
	crl2 := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: ca2b.crl(t, time.Now().Add(time.Hour), big.NewInt(77))})
	bundle := append(append(bytes.Clone(ca1.pem), ca2.pem...), ca2b.pem...)
	must(t, CompileFiles([][]byte{crl1, crl2}, [][]byte{bundle}, out))

	st := crlset.OpenStore(filepath.Join(out, crlset.Dir))
	defer st.Close()
	h1 := sha256.Sum256(ca1.cert.RawSubjectPublicKeyInfo)
	if c, r := st.Lookup(&h1, content(high)); !c || !r {
		t.Fatal("high serial (leading 0x00) not revoked")
	}
	if _, r := st.Lookup(&h1, high.Bytes()); r {
		t.Fatal("serial without its leading 0x00 matched: keys must be byte-exact")
	}
	if c, r := st.LookupName(ca1.cert.RawSubject, content(low)); !c || !r {
		t.Fatal("low serial not revoked by name")
	}
	if c, r := st.LookupName(ca1.cert.RawSubject, []byte{0x12, 0x35}); !c || r {
		t.Fatal("unlisted serial revoked")
	}
	// CA Two's old key has no CRL: not covered by key, covered by name.
	h2 := sha256.Sum256(ca2.cert.RawSubjectPublicKeyInfo)
	if c, _ := st.Lookup(&h2, []byte{77}); c {
		t.Fatal("key without a CRL reported covered")
	}
	if c, r := st.LookupName(ca2.cert.RawSubject, []byte{77}); !c || !r {
		t.Fatal("serial not revoked by name (one key with a CRL under that name)")
	}
	if _, r := st.LookupName(ca2.cert.RawSubject, []byte{0x02, 0x01, 77}); r {
		t.Fatal("DER INTEGER taken for content bytes: lookups by name are exact")
	}
	stt := st.Status()
	if stt.Err != nil || len(stt.Issuers) != 2 || stt.Entries != 3 {
		t.Fatalf("status: %+v", stt)
	}
	var m Manifest
	raw, err := os.ReadFile(filepath.Join(out, "crlsets", "manifest.json"))
	must(t, err)
	must(t, json.Unmarshal(raw, &m))
	if len(m.Files) != 1 || !strings.HasPrefix(m.Files[0].Filename, "crls-") || len(m.Files[0].Hash) != 64 {
		t.Fatalf("manifest %s", raw)
	}
	// Same input, same file: the salt is derived from the CRLs.
	must(t, CompileFiles([][]byte{crl2, crl1}, [][]byte{bundle}, out))
	raw2, _ := os.ReadFile(filepath.Join(out, "crlsets", "manifest.json"))
	var m2 Manifest
	must(t, json.Unmarshal(raw2, &m2))
	if len(m2.Files) != 1 || m2.Files[0].Hash != m.Files[0].Hash {
		t.Fatalf("not reproducible: %s vs %s", raw, raw2)
	}
}

func TestCompileRejects(t *testing.T) {
	ca := newCA(t, "CA", []byte{1})
	other := newCA(t, "CA", []byte{1}) // same name and key id, different key
	crl := ca.crl(t, time.Now().Add(time.Hour), big.NewInt(5))
	for name, tc := range map[string]struct {
		crls, cas [][]byte
		want      string
	}{
		"wrong key":  {[][]byte{crl}, [][]byte{other.pem}, "signature does not verify"},
		"no ca":      {[][]byte{crl}, [][]byte{newCA(t, "Else", nil).pem}, "no CA certificate"},
		"garbage":    {[][]byte{[]byte("nope")}, [][]byte{ca.pem}, "crlcompile"},
		"tampered":   {[][]byte{flipLast(crl)}, [][]byte{ca.pem}, "crlcompile"},
		"pem no crl": {[][]byte{ca.pem}, [][]byte{ca.pem}, "no X509 CRL block"},
	} {
		err := CompileFiles(tc.crls, tc.cas, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}

func flipLast(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)-3] ^= 1
	return c
}

func TestStale(t *testing.T) {
	ca := newCA(t, "CA", []byte{1})
	crl := ca.crl(t, time.Now().Add(-time.Minute+time.Second), big.NewInt(5))
	var warn bytes.Buffer
	res, err := Compile(&Options{CRLs: []Source{{Name: "x.crl", Data: crl}}, CAs: []*x509.Certificate{ca.cert},
		OutDir: t.TempDir(), Warn: &warn, Now: time.Now().Add(time.Hour)})
	must(t, err)
	if len(res.Warnings) != 1 || !strings.Contains(warn.String(), "stale") {
		t.Fatalf("warnings %q", warn.String())
	}
	_, err = Compile(&Options{CRLs: []Source{{Name: "x.crl", Data: crl}}, CAs: []*x509.Certificate{ca.cert},
		OutDir: t.TempDir(), Strict: true, Now: time.Now().Add(time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("strict: %v", err)
	}
}

func TestRevokedSerialsMalformed(t *testing.T) {
	ca := newCA(t, "CA", []byte{1})
	rl, err := x509.ParseRevocationList(ca.crl(t, time.Now().Add(time.Hour), big.NewInt(1), big.NewInt(2)))
	must(t, err)
	tbs := rl.RawTBSRevocationList
	for n := 0; n < len(tbs); n++ {
		got := 0
		if err := revokedSerials(tbs[:n], func([]byte) error { got++; return nil }); err == nil && got == 2 {
			t.Fatalf("prefix %d/%d read both serials", n, len(tbs))
		}
	}
}

// FuzzRevokedSerials: the raw TBSCertList walker never panics, and every
// serial it yields is a non-empty sub-slice of its input.
func FuzzRevokedSerials(f *testing.F) {
	ca := newCA(f, "Fuzz CA", []byte{1})
	for _, n := range []int{0, 1, 3} {
		var serials []*big.Int
		for i := 0; i < n; i++ {
			serials = append(serials, big.NewInt(int64(1000+i*977)))
		}
		rl, err := x509.ParseRevocationList(ca.crl(f, time.Now().Add(time.Hour), serials...))
		must(f, err)
		f.Add(rl.RawTBSRevocationList)
	}
	f.Fuzz(func(t *testing.T, tbs []byte) {
		revokedSerials(tbs, func(s []byte) error {
			if len(s) == 0 || len(s) > len(tbs) {
				t.Fatalf("serial of %d bytes from %d bytes of input", len(s), len(tbs))
			}
			return nil
		})
	})
}

// CRLs can come from http(s) URLs; errors and truncation are reported.
func TestReadSourceURL(t *testing.T) {
	ca := newCA(t, "URL CA", []byte{4})
	crl := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: ca.crl(t, time.Now().Add(time.Hour), big.NewInt(42))})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ca.crl":
			w.Write(crl)
		case "/short.crl":
			w.Header().Set("Content-Length", fmt.Sprint(len(crl)+10))
			w.Write(crl)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	data, err := ReadSource(srv.Client(), srv.URL+"/ca.crl")
	must(t, err)
	tree := t.TempDir()
	_, err = Compile(&Options{CRLs: []Source{{Name: srv.URL + "/ca.crl", Data: data}}, CAs: []*x509.Certificate{ca.cert}, OutDir: tree})
	must(t, err)
	st := crlset.OpenStore(filepath.Join(tree, crlset.Dir))
	defer st.Close()
	if c, r := st.LookupName(ca.cert.RawSubject, []byte{42}); !c || !r {
		t.Fatal("serial from the URL CRL not revoked")
	}
	for _, path := range []string{"/missing.crl", "/short.crl"} {
		if _, err := ReadSource(srv.Client(), srv.URL+path); err == nil {
			t.Errorf("%s: no error", path)
		}
	}
}
