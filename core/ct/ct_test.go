package ct_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/ct"
	"github.com/revocheck/revocheck/core/ctlog"
	"github.com/revocheck/revocheck/internal/cttest"
)

func newTestLog(t testing.TB, operator string, rsaKey bool) *cttest.Log {
	l, err := cttest.NewLog(operator+" log", operator, rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func sign(t testing.TB, l *cttest.Log, ts uint64, ikh [32]byte, pre []byte) ct.SCT {
	s, err := l.Sign(ts, ikh, pre)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

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
func (p *pki) issue(t testing.TB, lifetime time.Duration, sign func(precertTBS []byte) []ct.SCT) []byte {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	nb := time.Now().Add(-time.Hour).Truncate(time.Second)
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "leaf.test"}, DNSNames: []string{"leaf.test"},
		NotBefore: nb, NotAfter: nb.Add(lifetime), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := cttest.Issue(tmpl, k.Public(), p.ca, p.caKey, func(pre []byte, _ [32]byte) ([]ct.SCT, error) { return sign(pre), nil })
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func listOf(t testing.TB, logs ...*cttest.Log) *ctlog.List {
	l := &ctlog.List{}
	for _, g := range logs {
		pub, err := ctlog.ParseKey(g.SPKI)
		if err != nil {
			t.Fatal(err)
		}
		l.Logs = append(l.Logs, ctlog.Log{ID: g.ID, Key: g.SPKI, Public: pub, Operator: g.Operator, Description: g.Name, State: ctlog.Usable})
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
	mark(retired.ID, ctlog.Retired, now.Add(-time.Hour).UnixMilli()) // retired before the SCTs
	short, long := 90*24*time.Hour, 365*24*time.Hour
	signWith := func(logs ...*cttest.Log) func([]byte) []ct.SCT {
		return func(pre []byte) []ct.SCT {
			var out []ct.SCT
			for _, g := range logs {
				out = append(out, sign(t, g, ts, p.caHash, pre))
			}
			return out
		}
	}
	cases := []struct {
		name      string
		lifetime  time.Duration
		sign      func([]byte) []ct.SCT
		compliant bool
		statuses  []ct.Status
	}{
		{"two operators, short", short, signWith(a1, b1), true, []ct.Status{ct.Valid, ct.Valid}},
		{"ECDSA and RSA logs", short, signWith(a2, c1), true, []ct.Status{ct.Valid, ct.Valid}},
		{"one operator only", short, signWith(a1, a2), false, []ct.Status{ct.Valid, ct.Valid}},
		{"long lifetime needs three", long, signWith(a1, b1), false, nil},
		{"three logs two operators, long", long, signWith(a1, a2, b1), true, nil},
		{"no ct.SCT", short, func([]byte) []ct.SCT { return nil }, false, nil},
		{"retired before the ct.SCT", short, signWith(a1, retired), false, []ct.Status{ct.Valid, ct.LogRetiredBefore}},
		{"forged signature", short, func(pre []byte) []ct.SCT {
			s := signWith(a1, b1)(pre)
			s[1].Signature = append([]byte(nil), s[1].Signature...)
			s[1].Signature[len(s[1].Signature)-1] ^= 1
			return s
		}, false, []ct.Status{ct.Valid, ct.BadSignature}},
		{"signed over another certificate", short, func(pre []byte) []ct.SCT {
			other := append([]byte(nil), pre...)
			other[len(other)-1] ^= 1
			return []ct.SCT{sign(t, a1, ts, p.caHash, pre), sign(t, b1, ts, p.caHash, other)}
		}, false, []ct.Status{ct.Valid, ct.BadSignature}},
		{"another issuer key", short, func(pre []byte) []ct.SCT {
			return []ct.SCT{sign(t, a1, ts, p.caHash, pre), sign(t, b1, ts, [32]byte{1}, pre)}
		}, false, []ct.Status{ct.Valid, ct.BadSignature}},
		{"unknown log", short, func(pre []byte) []ct.SCT {
			return append(signWith(a1)(pre), sign(t, newTestLog(t, "X", false), ts, p.caHash, pre))
		}, false, []ct.Status{ct.Valid, ct.UnknownLog}},
		{"future timestamp", short, func(pre []byte) []ct.SCT {
			return []ct.SCT{sign(t, a1, ts, p.caHash, pre), sign(t, b1, uint64(now.Add(time.Hour).UnixMilli()), p.caHash, pre)}
		}, false, []ct.Status{ct.Valid, ct.FutureTimestamp}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			leaf := p.issue(t, c.lifetime, c.sign)
			r := ct.Check(list, leaf, &p.caHash, now)
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
	leaf := p.issue(t, 30*24*time.Hour, func(pre []byte) []ct.SCT {
		return []ct.SCT{sign(t, a, ts, p.caHash, pre), sign(t, b, ts, p.caHash, pre)}
	})
	gb := list.Find(&b.ID)
	gb.State, gb.StateTime = ctlog.Retired, now.Add(-time.Minute).UnixMilli() // after the ct.SCT
	if r := ct.Check(list, leaf, &p.caHash, now); !r.Verdict.Compliant || r.Results[1].Status != ct.ValidRetired {
		t.Errorf("a log retired after the ct.SCT and the issuance still counts: %+v %s", r.Results, r.Verdict.Reason)
	}
	gb.State = ctlog.Pending
	if r := ct.Check(list, leaf, &p.caHash, now); r.Verdict.Compliant || r.Results[1].Status != ct.LogNotAdmissible {
		t.Errorf("a pending log's ct.SCT must not count: %+v", r.Results)
	}
}

func TestPrecertTBSDropsEmptyExtensions(t *testing.T) {
	// A TBS whose only extension is the ct.SCT list loses its [3] field.
	ext, _ := asn1.Marshal(pkix.Extension{Id: cttest.OIDSCTList, Value: []byte{4, 0}})
	exts, _ := asn1.Marshal(asn1.RawValue{Tag: 16, IsCompound: true, Bytes: ext})
	wrapped, _ := asn1.Marshal(asn1.RawValue{Class: 2, Tag: 3, IsCompound: true, Bytes: exts})
	serial, _ := asn1.Marshal(7)
	body := append(append([]byte{}, serial...), wrapped...)
	tbs, _ := asn1.Marshal(asn1.RawValue{Tag: 16, IsCompound: true, Bytes: body})
	got, err := ct.PrecertTBS(tbs)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := asn1.Marshal(asn1.RawValue{Tag: 16, IsCompound: true, Bytes: serial})
	if string(got) != string(want) {
		t.Errorf("got %x want %x", got, want)
	}
}

// The real test sites' chains: every embedded ct.SCT of a log in the copied
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
		res, err := ct.Verify(list, c.TBS, c.SCTList, &ih, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatalf("%s: %v", s.Label, err)
		}
		for _, r := range res {
			scts++
			switch r.Status {
			case ct.Valid, ct.ValidRetired:
				valid++
			case ct.UnknownLog:
				unknown++
			default:
				t.Errorf("%s: ct.SCT of %s: %s", s.Label, r.Log.Description, r.Status)
			}
		}
	}
	t.Logf("%d sites, %d SCTs: %d verified, %d from logs not in the copied list", sites, scts, valid, unknown)
	if sites < 50 || valid < 200 {
		t.Errorf("too few verified: %d sites, %d valid SCTs", sites, valid)
	}
}

func FuzzParseList(f *testing.F) {
	f.Add(cttest.EncodeList([]ct.SCT{{LogID: [32]byte{1}, Timestamp: 5, HashAlg: 4, SigAlg: 3, Signature: []byte{1, 2}}}))
	f.Add(cttest.EncodeList([]ct.SCT{{Version: 1}}))
	f.Add([]byte{4, 2, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		scts, err := ct.ParseList(data)
		if err != nil {
			return
		}
		if len(scts) > ct.MaxSCTs {
			t.Fatalf("%d SCTs", len(scts))
		}
		for _, s := range scts {
			if s.Version == 0 && (len(s.Signature) == 0 || len(s.Signature) > 1024) {
				t.Fatalf("bad signature length %d", len(s.Signature))
			}
		}
	})
}

func FuzzPrecertTBS(f *testing.F) {
	p := newPKI(f)
	leaf := p.issue(f, time.Hour, func([]byte) []ct.SCT { return nil })
	var c certinput.Cert
	if err := certinput.ParseCert(leaf, &c); err != nil {
		f.Fatal(err)
	}
	f.Add(c.TBS)
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := ct.PrecertTBS(data)
		if err != nil {
			return
		}
		again, err := ct.PrecertTBS(out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("not idempotent: %v", err)
		}
	})
}

// BenchmarkCheck is one uncached CT check of a leaf with two ECDSA SCTs
// (and one with two RSA-2048 SCTs): parse, rebuild the precertificate,
// verify both, judge.
func BenchmarkCheck(b *testing.B) {
	for _, rsaLogs := range []bool{false, true} {
		name := map[bool]string{false: "ECDSA-P256", true: "RSA-2048"}[rsaLogs]
		b.Run(name, func(b *testing.B) {
			p := newPKI(b)
			a, c := newTestLog(b, "A", rsaLogs), newTestLog(b, "B", rsaLogs)
			list := listOf(b, a, c)
			ts := uint64(time.Now().Add(-time.Minute).UnixMilli())
			leaf := p.issue(b, 90*24*time.Hour, func(pre []byte) []ct.SCT {
				return []ct.SCT{sign(b, a, ts, p.caHash, pre), sign(b, c, ts, p.caHash, pre)}
			})
			now := time.Now()
			if r := ct.Check(list, leaf, &p.caHash, now); !r.Verdict.Compliant {
				b.Fatal(r.Verdict.Reason)
			}
			b.ReportAllocs()
			for b.Loop() {
				ct.Check(list, leaf, &p.caHash, now)
			}
		})
	}
}
