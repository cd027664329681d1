package ct

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/ctlog"
)

// testLog is a CT log made by the test.
type testLog struct {
	key      crypto.Signer
	spki     []byte
	id       [32]byte
	operator string
}

func newTestLog(t testing.TB, operator string, rsaKey bool) *testLog {
	var k crypto.Signer
	var err error
	if rsaKey {
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	spki, _ := x509.MarshalPKIXPublicKey(k.Public())
	return &testLog{key: k, spki: spki, id: sha256.Sum256(spki), operator: operator}
}

// sign makes a v1 SCT over precertTBS issued under issuerKeyHash.
func (l *testLog) sign(t testing.TB, ts uint64, issuerKeyHash [32]byte, precertTBS []byte) SCT {
	s := SCT{LogID: l.id, Timestamp: ts, HashAlg: HashSHA256}
	h := sha256.Sum256(signedData(&s, &issuerKeyHash, precertTBS))
	var err error
	if _, ok := l.key.(*rsa.PrivateKey); ok {
		s.SigAlg = SigRSA
		s.Signature, err = l.key.Sign(rand.Reader, h[:], crypto.SHA256)
	} else {
		s.SigAlg = SigECDSA
		s.Signature, err = l.key.Sign(rand.Reader, h[:], crypto.SHA256)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// encodeList is the extension value (OCTET STRING element) of scts.
func encodeList(scts []SCT) []byte {
	var list []byte
	for _, s := range scts {
		var one []byte
		one = append(one, s.Version)
		one = append(one, s.LogID[:]...)
		one = binary.BigEndian.AppendUint64(one, s.Timestamp)
		one = binary.BigEndian.AppendUint16(one, uint16(len(s.Extensions)))
		one = append(one, s.Extensions...)
		one = append(one, s.HashAlg, s.SigAlg)
		one = binary.BigEndian.AppendUint16(one, uint16(len(s.Signature)))
		one = append(one, s.Signature...)
		list = binary.BigEndian.AppendUint16(list, uint16(len(one)))
		list = append(list, one...)
	}
	tls := binary.BigEndian.AppendUint16(nil, uint16(len(list)))
	tls = append(tls, list...)
	der, _ := asn1.Marshal(tls)
	return der
}

var (
	oidSCTExt    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}
	oidPoisonExt = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 3}
)

// pki is a test CA issuing precertificates and their final certificates.
type pki struct {
	ca     *x509.Certificate
	caKey  crypto.Signer
	caHash [32]byte
}

func newPKI(t testing.TB) *pki {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CT test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	return &pki{ca: ca, caKey: k, caHash: sha256.Sum256(ca.RawSubjectPublicKeyInfo)}
}

// issue makes a leaf valid for lifetime whose embedded SCTs come from
// sign, given the precertificate's TBS (poison removed).
func (p *pki) issue(t testing.TB, lifetime time.Duration, sign func(precertTBS []byte) []SCT) []byte {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	nb := time.Now().Add(-time.Hour).Truncate(time.Second)
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "leaf.test"}, DNSNames: []string{"leaf.test"},
		NotBefore: nb, NotAfter: nb.Add(lifetime), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	tmpl.ExtraExtensions = []pkix.Extension{{Id: oidPoisonExt, Critical: true, Value: []byte{0x05, 0x00}}}
	pre, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, k.Public(), p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	var pc certinput.Cert
	if err := certinput.ParseCert(pre, &pc); err != nil {
		t.Fatal(err)
	}
	preTBS, err := PrecertTBS(pc.TBS)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.ExtraExtensions = []pkix.Extension{{Id: oidSCTExt, Value: encodeList(sign(preTBS))}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, k.Public(), p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func listOf(t testing.TB, logs ...*testLog) *ctlog.List {
	l := &ctlog.List{}
	for _, g := range logs {
		pub, err := ctlog.ParseKey(g.spki)
		if err != nil {
			t.Fatal(err)
		}
		l.Logs = append(l.Logs, ctlog.Log{ID: g.id, Key: g.spki, Public: pub, Operator: g.operator, Description: g.operator + " log", State: ctlog.Usable})
	}
	data, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ctlog.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func TestPolicy(t *testing.T) {
	p := newPKI(t)
	a1, a2 := newTestLog(t, "A", false), newTestLog(t, "A", true)
	b1, c1 := newTestLog(t, "B", false), newTestLog(t, "C", false)
	retired := newTestLog(t, "R", false)
	list := listOf(t, a1, a2, b1, c1, retired)
	now := time.Now()
	ts := uint64(now.Add(-time.Minute).UnixMilli())
	mark := func(id [32]byte, st ctlog.State, at int64) {
		g := list.Find(&id)
		g.State, g.StateTime = st, at
	}
	mark(retired.id, ctlog.Retired, now.Add(-time.Hour).UnixMilli()) // retired before the SCTs
	short, long := 90*24*time.Hour, 365*24*time.Hour
	signWith := func(logs ...*testLog) func([]byte) []SCT {
		return func(pre []byte) []SCT {
			var out []SCT
			for _, g := range logs {
				out = append(out, g.sign(t, ts, p.caHash, pre))
			}
			return out
		}
	}
	cases := []struct {
		name      string
		lifetime  time.Duration
		sign      func([]byte) []SCT
		compliant bool
		statuses  []Status
	}{
		{"two operators, short", short, signWith(a1, b1), true, []Status{Valid, Valid}},
		{"ECDSA and RSA logs", short, signWith(a2, c1), true, []Status{Valid, Valid}},
		{"one operator only", short, signWith(a1, a2), false, []Status{Valid, Valid}},
		{"long lifetime needs three", long, signWith(a1, b1), false, nil},
		{"three logs two operators, long", long, signWith(a1, a2, b1), true, nil},
		{"no SCT", short, func([]byte) []SCT { return nil }, false, nil},
		{"retired before the SCT", short, signWith(a1, retired), false, []Status{Valid, LogRetiredBefore}},
		{"forged signature", short, func(pre []byte) []SCT {
			s := signWith(a1, b1)(pre)
			s[1].Signature = append([]byte(nil), s[1].Signature...)
			s[1].Signature[len(s[1].Signature)-1] ^= 1
			return s
		}, false, []Status{Valid, BadSignature}},
		{"signed over another certificate", short, func(pre []byte) []SCT {
			other := append([]byte(nil), pre...)
			other[len(other)-1] ^= 1
			return []SCT{a1.sign(t, ts, p.caHash, pre), b1.sign(t, ts, p.caHash, other)}
		}, false, []Status{Valid, BadSignature}},
		{"another issuer key", short, func(pre []byte) []SCT {
			return []SCT{a1.sign(t, ts, p.caHash, pre), b1.sign(t, ts, [32]byte{1}, pre)}
		}, false, []Status{Valid, BadSignature}},
		{"unknown log", short, func(pre []byte) []SCT {
			return append(signWith(a1)(pre), newTestLog(t, "X", false).sign(t, ts, p.caHash, pre))
		}, false, []Status{Valid, UnknownLog}},
		{"future timestamp", short, func(pre []byte) []SCT {
			return []SCT{a1.sign(t, ts, p.caHash, pre), b1.sign(t, uint64(now.Add(time.Hour).UnixMilli()), p.caHash, pre)}
		}, false, []Status{Valid, FutureTimestamp}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			leaf := p.issue(t, c.lifetime, c.sign)
			r := Check(list, leaf, &p.caHash, now)
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if r.Verdict.Compliant != c.compliant {
				t.Errorf("compliant = %v (%s), want %v", r.Verdict.Compliant, r.Verdict.Reason, c.compliant)
			}
			if !c.compliant && r.Verdict.Reason == "" {
				t.Error("no reason given")
			}
			for i, want := range c.statuses {
				if i >= len(r.Results) || r.Results[i].Status != want {
					t.Fatalf("results %+v, want statuses %v", r.Results, c.statuses)
				}
			}
		})
	}
}

func TestPendingAndRetiredLater(t *testing.T) {
	p := newPKI(t)
	a, b := newTestLog(t, "A", false), newTestLog(t, "B", false)
	list := listOf(t, a, b)
	now := time.Now()
	ts := uint64(now.Add(-time.Hour).UnixMilli())
	leaf := p.issue(t, 30*24*time.Hour, func(pre []byte) []SCT {
		return []SCT{a.sign(t, ts, p.caHash, pre), b.sign(t, ts, p.caHash, pre)}
	})
	gb := list.Find(&b.id)
	gb.State, gb.StateTime = ctlog.Retired, now.Add(-time.Minute).UnixMilli() // after the SCT
	if r := Check(list, leaf, &p.caHash, now); !r.Verdict.Compliant || r.Results[1].Status != ValidRetired {
		t.Errorf("a log retired after the SCT and the issuance still counts: %+v %s", r.Results, r.Verdict.Reason)
	}
	gb.State = ctlog.Pending
	if r := Check(list, leaf, &p.caHash, now); r.Verdict.Compliant || r.Results[1].Status != LogNotAdmissible {
		t.Errorf("a pending log's SCT must not count: %+v", r.Results)
	}
}

func TestPrecertTBSDropsEmptyExtensions(t *testing.T) {
	// A TBS whose only extension is the SCT list loses its [3] field.
	ext, _ := asn1.Marshal(pkix.Extension{Id: oidSCTExt, Value: []byte{4, 0}})
	exts, _ := asn1.Marshal(asn1.RawValue{Tag: 16, IsCompound: true, Bytes: ext})
	wrapped, _ := asn1.Marshal(asn1.RawValue{Class: 2, Tag: 3, IsCompound: true, Bytes: exts})
	serial, _ := asn1.Marshal(7)
	body := append(append([]byte{}, serial...), wrapped...)
	tbs, _ := asn1.Marshal(asn1.RawValue{Tag: 16, IsCompound: true, Bytes: body})
	got, err := PrecertTBS(tbs)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := asn1.Marshal(asn1.RawValue{Tag: 16, IsCompound: true, Bytes: serial})
	if string(got) != string(want) {
		t.Errorf("got %x want %x", got, want)
	}
}

// The real test sites' chains: every embedded SCT of a log in the copied
// log list (Google's v3 list 59.1, testdata/fixtures/ctlogs/README.md)
// verifies with that log's key over the rebuilt precertificate.
func TestFixtureSites(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/fixtures/ctlogs/log_list_v3_59.1_excerpt.json")
	if err != nil {
		t.Fatal(err)
	}
	list, err := ctlog.ParseV3(raw, "fixture")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../testdata/fixtures/test-sites.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Sites []struct {
			Label  string `json:"ca_label"`
			Detail *struct {
				Leaf          string   `json:"end_entity_cert"`
				Intermediates []string `json:"intermediates"`
			} `json:"detail"`
		} `json:"sites"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var sites, scts, valid, unknown int
	for _, s := range doc.Sites {
		if s.Detail == nil || len(s.Detail.Intermediates) == 0 {
			continue
		}
		leaf, _ := base64.StdEncoding.DecodeString(s.Detail.Leaf)
		issuer, _ := base64.StdEncoding.DecodeString(s.Detail.Intermediates[0])
		ih, err := certinput.SPKIHash(issuer)
		if err != nil {
			t.Fatalf("%s: %v", s.Label, err)
		}
		var c certinput.Cert
		if err := certinput.ParseCert(leaf, &c); err != nil {
			t.Fatalf("%s: %v", s.Label, err)
		}
		if c.SCTList == nil {
			continue
		}
		sites++
		res, err := Verify(list, c.TBS, c.SCTList, &ih, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatalf("%s: %v", s.Label, err)
		}
		for _, r := range res {
			scts++
			switch r.Status {
			case Valid, ValidRetired:
				valid++
			case UnknownLog:
				unknown++
			default:
				t.Errorf("%s: SCT of %s: %s", s.Label, r.Log.Description, r.Status)
			}
		}
	}
	t.Logf("%d sites, %d SCTs: %d verified, %d from logs not in the copied list", sites, scts, valid, unknown)
	if sites < 50 || valid < 200 {
		t.Errorf("too few verified: %d sites, %d valid SCTs", sites, valid)
	}
}

func FuzzParseList(f *testing.F) {
	f.Add(encodeList([]SCT{{LogID: [32]byte{1}, Timestamp: 5, HashAlg: 4, SigAlg: 3, Signature: []byte{1, 2}}}))
	f.Add(encodeList([]SCT{{Version: 1}}))
	f.Add([]byte{4, 2, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		scts, err := ParseList(data)
		if err != nil {
			return
		}
		if len(scts) > MaxSCTs {
			t.Fatalf("%d SCTs", len(scts))
		}
		for _, s := range scts {
			if s.Version == 0 && (len(s.Signature) == 0 || len(s.Signature) > maxSignature) {
				t.Fatalf("bad signature length %d", len(s.Signature))
			}
		}
	})
}

func FuzzPrecertTBS(f *testing.F) {
	p := newPKI(f)
	leaf := p.issue(f, time.Hour, func([]byte) []SCT { return nil })
	var c certinput.Cert
	if err := certinput.ParseCert(leaf, &c); err != nil {
		f.Fatal(err)
	}
	f.Add(c.TBS)
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := PrecertTBS(data)
		if err != nil {
			return
		}
		again, err := PrecertTBS(out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("not idempotent: %v", err)
		}
	})
}
