package certinput

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtures are committed in testdata/fixtures/ (provenance and licence in its READMEs).
const fixtures = "../../testdata/fixtures"

type testSites struct {
	Sites []struct {
		Label  string `json:"ca_label"`
		URL    string `json:"test_website_revoked"`
		Detail *struct {
			EndEntity     string   `json:"end_entity_cert"`
			Intermediates []string `json:"intermediates"`
			Serial        string   `json:"serial"`
			IssuerSPKI    string   `json:"issuer_spki_sha256"`
			SCTs          []struct {
				LogID     string `json:"log_id"`
				Timestamp uint64 `json:"timestamp"`
			} `json:"scts"`
		} `json:"detail"`
	} `json:"sites"`
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	require.NoError(t, err, "fixture missing (testdata/fixtures/ is part of the repository)")
	return b
}

func b64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err, "bad base64 %q", s)
	return b
}

// site is one test site's chain with the inputs upki recorded.
type site struct {
	name       string
	leaf       []byte
	candidates [][]byte
	serial     []byte
	issuerSPKI []byte
	scts       []SCT
}

func loadSites(t testing.TB) []site {
	t.Helper()
	var ts testSites
	require.NoError(t, json.Unmarshal(readFixture(t, "test-sites.json"), &ts))
	var out []site
	for _, s := range ts.Sites {
		if s.Detail == nil {
			continue
		}
		d := s.Detail
		st := site{name: s.URL, leaf: b64(t, d.EndEntity), serial: b64(t, d.Serial), issuerSPKI: b64(t, d.IssuerSPKI)}
		for _, c := range d.Intermediates {
			st.candidates = append(st.candidates, b64(t, c))
		}
		for _, sc := range d.SCTs {
			var x SCT
			id := b64(t, sc.LogID)
			require.Len(t, id, 32, "%s: log id", s.URL)
			copy(x.LogID[:], id)
			x.Timestamp = sc.Timestamp
			st.scts = append(st.scts, x)
		}
		out = append(out, st)
	}
	require.GreaterOrEqual(t, len(out), 100, "sites with detail in test-sites.json")
	return out
}

// issuerOf picks the candidate whose Subject equals the leaf's Issuer, byte
// for byte. It returns the index chosen.
func issuerOf(t testing.TB, leaf []byte, candidates [][]byte) int {
	t.Helper()
	var lc Cert
	require.NoError(t, ParseCert(leaf, &lc))
	for i, cand := range candidates {
		var c Cert
		require.NoError(t, ParseCert(cand, &c))
		if bytes.Equal(c.Subject, lc.Issuer) {
			return i
		}
	}
	t.Fatalf("no candidate's subject matches the leaf's issuer")
	return -1
}

// TestTestSites runs Extract over every site in test-sites.json that has a
// detail and compares each field with what upki recorded.
func TestTestSites(t *testing.T) {
	sites := loadSites(t)
	notFirst := 0
	for _, s := range sites {
		idx := issuerOf(t, s.leaf, s.candidates)
		if idx != 0 {
			notFirst++
			t.Logf("%s: issuer is intermediates[%d]", s.name, idx)
		}
		var in Input
		if !assert.NoError(t, Extract(s.leaf, s.candidates[idx], &in), s.name) {
			continue
		}
		assert.Equal(t, s.serial, in.Serial, "%s: serial", s.name)
		assert.Equal(t, s.issuerSPKI, in.IssuerSPKIHash[:], "%s: issuer spki hash", s.name)
		assert.Equal(t, s.scts, in.SCTs, "%s: scts", s.name)
		// The serial must alias the leaf, not be a copy.
		if len(in.Serial) > 0 {
			assert.True(t, within(in.Serial, s.leaf), "%s: serial does not alias the certificate", s.name)
		}
	}
	t.Logf("%d sites checked; issuer was not intermediates[0] for %d", len(sites), notFirst)
}

// TestCrossCheckX509 compares every certificate of every fixture chain with
// crypto/x509's view of it.
func TestCrossCheckX509(t *testing.T) {
	var all [][]byte
	for _, s := range loadSites(t) {
		all = append(all, s.leaf)
		all = append(all, s.candidates...)
	}
	for _, p := range firefoxPEMs(t) {
		all = append(all, p.der)
	}
	for i, der := range all {
		crossCheck(t, i, der)
	}
}

func crossCheck(t *testing.T, i int, der []byte) {
	t.Helper()
	xc, err := x509.ParseCertificate(der)
	require.NoError(t, err, "cert %d: crypto/x509", i)
	var c Cert
	require.NoError(t, ParseCert(der, &c), "cert %d (%s)", i, xc.Subject)
	check := func(name string, got, want []byte) {
		assert.Equal(t, want, got, "cert %d (%s): %s differs from crypto/x509", i, xc.Subject, name)
	}
	check("Raw", c.Raw, xc.Raw)
	check("TBS", c.TBS, xc.RawTBSCertificate)
	check("Issuer", c.Issuer, xc.RawIssuer)
	check("Subject", c.Subject, xc.RawSubject)
	check("SPKI", c.SPKI, xc.RawSubjectPublicKeyInfo)
	// Serial: the content bytes are the two's-complement big-endian value.
	if got := new(big.Int).SetBytes(c.Serial); xc.SerialNumber.Sign() >= 0 && got.Cmp(xc.SerialNumber) != 0 {
		t.Errorf("cert %d: serial %x, crypto/x509 %x", i, c.Serial, xc.SerialNumber)
	}
	h, err := SPKIHash(der)
	if assert.NoError(t, err, "cert %d: SPKIHash", i) {
		assert.Equal(t, sha256.Sum256(xc.RawSubjectPublicKeyInfo), h, "cert %d: SPKIHash", i)
	}
	var sctExt []byte
	for _, e := range xc.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}) {
			sctExt = e.Value
		}
	}
	check("SCTList", c.SCTList, sctExt)
	// The walk ParseCert makes over the extensions sees what crypto/x509 sees.
	it := cursor(c.Extensions)
	for n, e := range xc.Extensions {
		var oid, v []byte
		if assert.True(t, readExtension(&it, &oid, &v), "cert %d: extension %d (%v) not read", i, n, e.Id) {
			assert.Equal(t, oidContents(t, e.Id), oid, "cert %d: extension %d: oid", i, n)
			assert.Equal(t, e.Value, v, "cert %d: extension %v: value", i, e.Id)
		}
	}
	assert.True(t, it.empty(), "cert %d: more extensions than crypto/x509 reads", i)
	if len(sctExt) > 0 {
		got, err := ParseSCTList(c.SCTList, nil)
		require.NoError(t, err, "cert %d", i)
		want := refSCTs(t, sctExt)
		assert.Equal(t, want, got, "cert %d: scts differ from the reference decoder", i)
	}
}

// oidContents encodes an OID with encoding/asn1 and strips tag and length.
func oidContents(t *testing.T, id asn1.ObjectIdentifier) []byte {
	t.Helper()
	b, err := asn1.Marshal(id)
	if err != nil || len(b) < 2 || b[1] >= 0x80 {
		t.Fatalf("oid %v: %v", id, err)
	}
	return b[2:]
}

// refSCTs is an independent decoder (encoding/asn1 + encoding/binary) of the
// v1 SCTs in an SCT list extension, for cross-checking.
func refSCTs(t testing.TB, ext []byte) []SCT {
	t.Helper()
	out, ok := refSCTsOK(ext)
	if !ok {
		t.Fatalf("reference decoder rejects %x", ext)
	}
	return out
}

func refSCTsOK(ext []byte) ([]SCT, bool) {
	var octets []byte
	if rest, err := asn1.Unmarshal(ext, &octets); err != nil || len(rest) != 0 || len(octets) < 2 {
		return nil, false
	}
	n := int(binary.BigEndian.Uint16(octets))
	list := octets[2:]
	if n != len(list) {
		return nil, false
	}
	var out []SCT
	for len(list) > 0 {
		if len(list) < 2 {
			return nil, false
		}
		l := int(binary.BigEndian.Uint16(list))
		if l == 0 || len(list) < 2+l {
			return nil, false
		}
		sct := list[2 : 2+l]
		list = list[2+l:]
		if sct[0] != 0 {
			continue
		}
		if len(sct) < 41 {
			return nil, false
		}
		var s SCT
		copy(s.LogID[:], sct[1:33])
		s.Timestamp = binary.BigEndian.Uint64(sct[33:41])
		out = append(out, s)
	}
	return out, true
}

type pemCert struct {
	name string
	der  []byte
}

func firefoxPEMs(t testing.TB) []pemCert {
	t.Helper()
	names := []string{"issuer", "valid", "revoked", "revoked-in-stash", "revoked-in-stash-2", "notcovered"}
	var out []pemCert
	for _, n := range names {
		b := readFixture(t, "firefox-crlite-certs/"+n+".pem")
		blk, _ := pem.Decode(b)
		require.NotNil(t, blk, "%s.pem: no PEM block", n)
		require.Equal(t, "CERTIFICATE", blk.Type, "%s.pem", n)
		out = append(out, pemCert{n, blk.Bytes})
	}
	return out
}

// TestFirefoxCerts checks the Firefox CRLite test certificates: serials as
// recorded there (valid.pem's has a leading zero that must be kept), and a
// shared issuer whose SPKI hash is the same for all of them.
func TestFirefoxCerts(t *testing.T) {
	certs := firefoxPEMs(t)
	issuer := certs[0].der
	xi, err := x509.ParseCertificate(issuer)
	require.NoError(t, err)
	wantHash := sha256.Sum256(xi.RawSubjectPublicKeyInfo)
	wantSerial := map[string]string{
		"valid":              "00da4f392bfd8bcea8",
		"revoked":            "2d35ca6503fb1ba3",
		"revoked-in-stash":   "009796e3b017a29f0d",
		"revoked-in-stash-2": "167d2818a75ab5d8",
		"notcovered":         "7cb3c86bf31cfdfe",
	}
	wantSCTs := map[string]int{"valid": 3, "revoked": 2, "revoked-in-stash": 2, "revoked-in-stash-2": 2, "notcovered": 3}
	for _, p := range certs[1:] {
		var in Input
		require.NoError(t, Extract(p.der, issuer, &in), "%s", p.name)
		assert.Equal(t, wantSerial[p.name], hex.EncodeToString(in.Serial), "%s: serial", p.name)
		assert.Equal(t, wantHash, in.IssuerSPKIHash, "%s: issuer spki hash", p.name)
		assert.Len(t, in.SCTs, wantSCTs[p.name], "%s: scts", p.name)
	}
	// valid.pem's first SCT, as openssl x509 -ext ct_precert_scts prints it:
	// log id A4:B9:09:90:B4:18:58:14:87:BB:13:A2:CC:67:70:0A:..., Oct 15 19:54:14.686 2018 GMT.
	var in Input
	require.NoError(t, Extract(certs[1].der, issuer, &in))
	prefix, _ := hex.DecodeString("a4b90990b418581487bb13a2cc67700a")
	ts := uint64(time.Date(2018, 10, 15, 19, 54, 14, 686e6, time.UTC).UnixMilli())
	require.NotEmpty(t, in.SCTs, "valid.pem scts")
	assert.Equal(t, prefix, in.SCTs[0].LogID[:len(prefix)], "valid.pem sct 0: log id")
	assert.Equal(t, ts, in.SCTs[0].Timestamp, "valid.pem sct 0: timestamp")
	// issuer.pem is a CA certificate without SCTs.
	var c Cert
	require.NoError(t, ParseCert(issuer, &c))
	assert.Nil(t, c.SCTList, "issuer.pem: sct list")
	assert.NoError(t, Extract(issuer, issuer, &in), "issuer.pem: Extract")
	assert.Empty(t, in.SCTs, "issuer.pem: scts")
}

// within reports whether sub lies inside buf's memory.
func within(sub, buf []byte) bool {
	if len(sub) == 0 {
		return true
	}
	if len(buf) == 0 {
		return false
	}
	b0 := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	s0 := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	return s0 >= b0 && s0+uintptr(len(sub)) <= b0+uintptr(len(buf))
}
