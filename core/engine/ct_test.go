package engine

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
	"github.com/revocheck/revocheck/core/ct"
	"github.com/revocheck/revocheck/core/ctlog"
	"github.com/revocheck/revocheck/core/outcome"
	"github.com/revocheck/revocheck/integration/harness"
	"github.com/revocheck/revocheck/integration/testpki"
	"github.com/revocheck/revocheck/internal/cttest"
)

type ctEnv struct {
	env                 *harness.Env
	a, a2, b            *cttest.Log
	good, oneOp, priv   []byte // leaves under the enrolled intermediate (good, oneOp) and the unenrolled one
	intDER, otherIntDER []byte
}

func newCTEnv(t *testing.T) *ctEnv {
	env := harness.New(t)
	e := &ctEnv{env: env}
	var err error
	for _, p := range []struct {
		l        **cttest.Log
		name, op string
	}{{&e.a, "a1", "Operator A"}, {&e.a2, "a2", "Operator A"}, {&e.b, "b1", "Operator B"}} {
		if *p.l, err = cttest.NewLog(p.name, p.op, false); err != nil {
			t.Fatal(err)
		}
	}
	writeList(t, env.CacheDir, e.a, e.a2, e.b)
	ts := time.Now().Add(-time.Minute)
	e.good = issueUnder(t, env.PKI.Int, cttest.SignWith(ts, e.a, e.b))
	e.oneOp = issueUnder(t, env.PKI.Int, cttest.SignWith(ts, e.a, e.a2))
	e.priv = issueUnder(t, env.PKI.IntOther, cttest.SignWith(ts))
	e.intDER, e.otherIntDER = env.PKI.Int.Cert.Raw, env.PKI.IntOther.Cert.Raw
	return e
}

func writeList(t *testing.T, dir string, logs ...*cttest.Log) {
	l, err := ctlog.ParseV3(cttest.V3(logs...), "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctlog.WriteTree(dir, l, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func issueUnder(t *testing.T, parent *testpki.Cert, sign func([]byte, [32]byte) ([]ct.SCT, error)) []byte {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	nb := time.Now().Add(-time.Hour)
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "ct.test"}, DNSNames: []string{"ct.test"},
		NotBefore: nb, NotAfter: nb.Add(90 * 24 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := cttest.Issue(tmpl, k.Public(), parent.Cert, parent.Key, sign)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestCTPolicyModes(t *testing.T) {
	e := newCTEnv(t)
	revoked := e.env.Sites["revoked"]
	type want struct {
		o       outcome.Outcome
		allowed bool
	}
	for _, mode := range []string{"off", "report", "enforce"} {
		c := checker(t, e.env.CacheDir, "policy.ct="+mode)
		nonCompliant := want{outcome.CTNoncompliant, mode == "report"}
		if mode == "off" {
			nonCompliant = want{outcome.NotRevoked, true} // the intermediate's CRL covers them
		}
		for name, tc := range map[string]struct {
			leaf, issuer []byte
			want         want
		}{
			"logged by two operators":    {e.good, e.intDER, want{outcome.NotRevoked, true}},
			"logged by one operator":     {e.oneOp, e.intDER, nonCompliant},
			"private CA, no SCT at all":  {e.priv, e.otherIntDER, want{outcome.NotCovered, true}},
			"revoked wins":               {revoked.Leaf, revoked.Issuer, want{outcome.Revoked, false}},
			"SCTs of logs not in a list": {e.env.Sites["good"].Leaf, e.env.Sites["good"].Issuer, nonCompliant},
		} {
			d, err := c.CheckDER(tc.leaf, tc.issuer)
			if err != nil || d.Outcome != tc.want.o || d.Allowed != tc.want.allowed {
				t.Errorf("policy.ct=%s, %s: %+v %v, want %+v", mode, name, d, err, tc.want)
			}
		}
	}
}

func TestCTMemoAndNewList(t *testing.T) {
	e := newCTEnv(t)
	c := checker(t, e.env.CacheDir, "policy.ct=enforce")
	for range 3 {
		if d, _ := c.CheckDER(e.good, e.intDER); d.Outcome != outcome.NotRevoked {
			t.Fatalf("compliant leaf: %+v", d)
		}
	}
	if n := c.ct.memo.Len(); n != 1 {
		t.Errorf("memo holds %d verdicts after three checks of one leaf", n)
	}
	// A new list without operator B: the same leaf is judged again.
	time.Sleep(10 * time.Millisecond)
	writeList(t, e.env.CacheDir, e.a, e.a2)
	c.poll()
	if d, _ := c.CheckDER(e.good, e.intDER); d.Outcome != outcome.CTNoncompliant || d.Allowed {
		t.Errorf("after log B left the list: %+v", d)
	}
	r := c.CTReport(e.good, mustInput(t, e.good, e.intDER))
	if !r.Applies || r.Report == nil || r.Verdict.Compliant || len(r.Results) != 2 || r.Results[1].Status != ct.UnknownLog {
		t.Errorf("report: %+v", r)
	}
}

func TestCTWithoutListChangesNothing(t *testing.T) {
	env := harness.New(t)
	c := checker(t, env.CacheDir, "policy.ct=enforce")
	s := env.Sites["good"]
	if d, _ := c.CheckDER(s.Leaf, s.Issuer); d.Outcome != outcome.NotRevoked || !d.Allowed {
		t.Errorf("no log list: %+v", d)
	}
	if ok, why := c.CTApplies(&[32]byte{}); ok || why == "" {
		t.Errorf("applies without a list: %v %q", ok, why)
	}
}

func BenchmarkCheckDERCT(b *testing.B) {
	for _, mode := range []string{"off", "enforce"} {
		b.Run(mode, func(b *testing.B) {
			env := harness.New(b)
			c := checker(b, env.CacheDir, "policy.ct="+mode)
			l, _ := cttest.NewLog("a", "A", false)
			lb, _ := cttest.NewLog("b", "B", false)
			l2, err := ctlog.ParseV3(cttest.V3(l, lb), "bench")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ctlog.WriteTree(env.CacheDir, l2, time.Now()); err != nil {
				b.Fatal(err)
			}
			c.poll()
			s := env.Sites["good"]
			c.CheckDER(s.Leaf, s.Issuer)
			b.ReportAllocs()
			for b.Loop() {
				c.CheckDER(s.Leaf, s.Issuer)
			}
		})
	}
}

func mustInput(t *testing.T, cert, issuer []byte) *certinput.Input {
	in := &certinput.Input{}
	if err := certinput.Extract(cert, issuer, in); err != nil {
		t.Fatal(err)
	}
	return in
}

// An adapter checks every certificate of a chain: intermediates carry no
// SCTs and are never judged by the CT policy, whoever issued them.
func TestCTExemptsCACertificates(t *testing.T) {
	e := newCTEnv(t)
	c := checker(t, e.env.CacheDir, "policy.ct=enforce")
	off := checker(t, e.env.CacheDir, "policy.ct=off")
	for _, p := range [][2][]byte{{e.intDER, e.env.PKI.Root.Cert.Raw}, {e.otherIntDER, e.env.PKI.Root.Cert.Raw}} {
		d, err := c.CheckDER(p[0], p[1])
		want, _ := off.CheckDER(p[0], p[1])
		if err != nil || d != want {
			t.Errorf("intermediate under enforce: %+v %v, without CT %+v", d, err, want)
		}
	}
	in := mustInput(t, e.intDER, e.env.PKI.Root.Cert.Raw)
	if r := c.CTReport(e.intDER, in); r.Applies && (r.Report == nil || r.Verdict.Exempt == "") {
		t.Errorf("an intermediate is judged: %+v", r)
	}
}
