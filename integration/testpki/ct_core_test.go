package testpki

import (
	"crypto/sha256"
	"os"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/ct"
	"github.com/revocheck/revocheck/core/ctlog"
)

// core/ct, the verifier the adapters use, against this package's SCTs
// (made without it, and checked above without it): per site, the verdict
// GenerateCT intends, and the status of each SCT.
func TestCTSitesAgainstCore(t *testing.T) {
	p, err := Generate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.GenerateCT()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(c.LogList)
	if err != nil {
		t.Fatal(err)
	}
	list, err := ctlog.ParseV3(raw, c.LogList)
	if err != nil {
		t.Fatal(err)
	}
	ikh := sha256.Sum256(c.Int.Cert.RawSubjectPublicKeyInfo)
	want := map[string][]ct.Status{
		"ct-logged":        {ct.Valid, ct.Valid},
		"ct-retired-early": {ct.Valid, ct.ValidRetired},
		"ct-revoked":       {ct.Valid, ct.Valid},
		"ct-none":          nil,
		"ct-one-operator":  {ct.Valid, ct.Valid},
		"ct-forged":        {ct.Valid, ct.BadSignature},
		"ct-missigned":     {ct.Valid, ct.BadSignature},
		"ct-retired-late":  {ct.Valid, ct.LogRetiredBefore},
	}
	for _, name := range CTSiteNames {
		r := ct.Check(list, c.Sites[name].Leaf.Cert.Raw, &ikh, time.Now())
		if r.Err != nil {
			t.Errorf("%s: %v", name, r.Err)
		}
		if r.Verdict.Compliant != c.Compliant[name] {
			t.Errorf("%s: core/ct says compliant=%v (%s), want %v", name, r.Verdict.Compliant, r.Verdict.Reason, c.Compliant[name])
		}
		if len(r.Results) != len(want[name]) {
			t.Errorf("%s: %d SCT results, want %d", name, len(r.Results), len(want[name]))
			continue
		}
		for i, res := range r.Results {
			if res.Status != want[name][i] {
				t.Errorf("%s: SCT %d is %v, want %v", name, i, res.Status, want[name][i])
			}
		}
	}
}
