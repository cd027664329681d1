package engine

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/cachedir"
	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/outcome"
	"github.com/revocheck/revocheck/integration/harness"
)

func checker(t testing.TB, dir string, overrides string) *Checker {
	t.Helper()
	cfg := config.Default()
	cfg.CacheDir = dir
	if err := cfg.ApplyOverrides(overrides, "test"); err != nil {
		t.Fatal(err)
	}
	c := New(cfg)
	t.Cleanup(c.Close)
	return c
}

func TestSites(t *testing.T) {
	env := harness.New(t)
	c := checker(t, env.CacheDir, "")
	for site, want := range map[string]outcome.Outcome{
		"good":        outcome.NotRevoked,
		"revoked":     outcome.Revoked,
		"uncovered":   outcome.NotCovered,
		"unenrolled":  outcome.NotEnrolled,
		"revoked-int": outcome.NotRevoked, // the leaf itself is fine; its issuer is revoked
		"crl-revoked": outcome.Revoked,    // no SCTs: only the compiled CRL knows
	} {
		s := env.Sites[site]
		d, err := c.CheckDER(s.Leaf, s.Issuer)
		if err != nil || d.Outcome != want || d.Allowed != (want != outcome.Revoked) {
			t.Errorf("%s: %+v, %v; want %v", site, d, err, want)
		}
	}
	// The revoked intermediate, checked against the root.
	d, err := c.CheckDER(env.PKI.IntRevoked.Cert.Raw, env.PKI.Root.Cert.Raw)
	if err != nil || d.Outcome != outcome.Revoked {
		t.Errorf("revoked intermediate: %+v, %v", d, err)
	}
	if d, err := c.CheckDER([]byte{0x30, 0x03, 1, 2, 3}, env.Sites["good"].Issuer); err == nil || d.Outcome != outcome.Error {
		t.Errorf("junk DER: %+v, %v", d, err)
	}
}

func TestPolicyDeny(t *testing.T) {
	env := harness.New(t)
	c := checker(t, env.CacheDir, "policy.not-covered=deny;policy.not-enrolled=deny")
	for site, allowed := range map[string]bool{"good": true, "uncovered": false, "unenrolled": false} {
		s := env.Sites[site]
		if d, _ := c.CheckDER(s.Leaf, s.Issuer); d.Allowed != allowed {
			t.Errorf("%s: %+v", site, d)
		}
	}
}

func TestNoDataThenCacheAppears(t *testing.T) {
	env := harness.New(t)
	dir := filepath.Join(t.TempDir(), "cache")
	c := checker(t, dir, "policy.no-data=deny")
	s := env.Sites["good"]
	if d, _ := c.CheckDER(s.Leaf, s.Issuer); d.Outcome != outcome.NoData || d.Allowed {
		t.Fatalf("missing cache: %+v", d)
	}
	if err := os.Rename(env.CacheDir, dir); err != nil {
		t.Fatal(err)
	}
	// Within the poll interval the missing cache is not looked for...
	if d, _ := c.CheckDER(s.Leaf, s.Issuer); d.Outcome != outcome.NoData {
		t.Fatalf("re-opened within the poll interval: %+v", d)
	}
	// ...after it, the cache that appeared is used.
	c.next.Store(0) // the interval has passed
	if d, _ := c.CheckDER(s.Leaf, s.Issuer); d.Outcome != outcome.NotRevoked {
		t.Fatalf("cache not picked up: %+v", d)
	}
}

func TestStale(t *testing.T) {
	env := harness.New(t)
	c := checker(t, env.CacheDir, "max-age=1d;policy.stale=deny")
	good, rev := env.Sites["unenrolled"], env.Sites["revoked"] // unenrolled: no CRL covers its issuer
	if d, _ := c.CheckDER(good.Leaf, good.Issuer); d.Outcome != outcome.NotEnrolled {
		t.Errorf("fresh data: %+v", d)
	}
	// Two days later: the verdict holds until the gate's second passed.
	c.now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	if d, _ := c.CheckDER(good.Leaf, good.Issuer); d.Outcome != outcome.NotEnrolled {
		t.Errorf("re-judged within the second: %+v", d)
	}
	c.next.Store(0)
	if d, _ := c.CheckDER(good.Leaf, good.Issuer); d.Outcome != outcome.Stale || d.Allowed {
		t.Errorf("old data: %+v", d)
	}
	if d, _ := c.CheckDER(rev.Leaf, rev.Issuer); d.Outcome != outcome.Revoked {
		t.Errorf("a revocation stays true in old data: %+v", d)
	}
}

func TestIssuerSerial(t *testing.T) {
	env := harness.New(t)
	c := checker(t, env.CacheDir, "")
	int := env.PKI.Int.Cert
	crlLeaf := env.PKI.Sites["crl-revoked"].Leaf.Cert
	goodLeaf := env.PKI.Sites["good"].Leaf.Cert
	content := func(der []byte) []byte { // serial content bytes from a full DER INTEGER
		return der[2:]
	}
	rawSerial := func(n []byte) []byte {
		b := append([]byte{}, n...)
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	crlSerial := rawSerial(crlLeaf.SerialNumber.Bytes())
	der := append([]byte{0x02, byte(len(crlSerial))}, crlSerial...)
	for name, serial := range map[string][]byte{"content": crlSerial, "der-content": content(der)} {
		if d, err := c.CheckIssuerSerial(int.RawSubject, serial); err != nil || d.Outcome != outcome.Revoked {
			t.Errorf("%s: %+v %v", name, d, err)
		}
	}
	// The serial is content bytes, exactly (the NSS module strips a DER
	// INTEGER when it knows NSS sent one).
	if d, _ := c.CheckIssuerSerial(int.RawSubject, der); d.Outcome != outcome.NotRevoked {
		t.Errorf("a full DER INTEGER taken for content bytes: %+v", d)
	}
	if d, _ := c.CheckIssuerSerial(int.RawSubject, rawSerial(goodLeaf.SerialNumber.Bytes())); d.Outcome != outcome.NotRevoked {
		t.Errorf("good serial under a CRL-covered issuer: %+v", d)
	}
	other := env.PKI.IntOther.Cert
	if d, _ := c.CheckIssuerSerial(other.RawSubject, crlSerial); d.Outcome != outcome.NotCovered {
		t.Errorf("issuer without a CRL: %+v", d)
	}
}

func TestCheckDERAllocsNothing(t *testing.T) {
	env := harness.New(t)
	c := checker(t, env.CacheDir, "")
	s := env.Sites["good"]
	c.CheckDER(s.Leaf, s.Issuer) // warm: open the cache
	if n := testing.AllocsPerRun(200, func() { c.CheckDER(s.Leaf, s.Issuer) }); n != 0 {
		t.Errorf("CheckDER allocates %v times per check", n)
	}
}

func BenchmarkCheckDER(b *testing.B) {
	env := harness.New(b)
	c := checker(b, env.CacheDir, "")
	s := env.Sites["good"]
	c.CheckDER(s.Leaf, s.Issuer)
	b.ReportAllocs()
	for b.Loop() {
		c.CheckDER(s.Leaf, s.Issuer)
	}
}

// BenchmarkCheckMozillaSized is the whole decision a C ABI check
// makes (CRL sets, cache, staleness, policy) for extracted inputs, on a
// cache the size of Mozilla's (cachedir.MozillaSized, generated on first
// use: minutes, so give go test -timeout 60m). max-age is on, with a
// bound the synthetic data's dates meet.
func BenchmarkCheckMozillaSized(b *testing.B) {
	if testing.Short() {
		b.Skip("-short: the Mozilla-sized cache takes minutes to generate")
	}
	dir, s, err := cachedir.SyntheticCached(cachedir.MozillaSized)
	if err != nil {
		b.Fatal(err)
	}
	c := checker(b, dir, "max-age=36500d")
	for _, k := range s.Kinds() {
		for i := range k.Set { // a warm handle: the cache open, every issuer seen once
			c.Check(&k.Set[i], nil)
		}
		b.Run(k.Want.String(), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if o, err := c.Check(&k.Set[i%len(k.Set)], nil); o != k.Want {
					b.Fatalf("sample %d: %v %v", i%len(k.Set), o, err)
				}
			}
		})
	}
}
