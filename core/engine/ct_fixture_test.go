package engine

import (
	"os"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/cachedir"
	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/ct"
	"github.com/revocheck/revocheck/core/ctlog"
	"github.com/revocheck/revocheck/core/outcome"
	"github.com/revocheck/revocheck/internal/cttest"
)

// The real test sites' chains through the whole engine: a cache holding
// Mozilla's real delta filter (which enrolls their issuers) and the copied
// log list (testdata/fixtures/ctlogs/: Google's v3 list 59.1, re-dated to
// today so that the 70-day rule lets it be enforced: its keys are what is
// tested). Every site gets what the engine without CT answers, except that
// an enrolled issuer's leaf whose SCTs fail the policy is ct_noncompliant.
func TestCTRealSites(t *testing.T) {
	const fx = cttest.Fixtures
	filter, err := os.ReadFile(fx + "mozilla-20260624-1-default.filter.delta")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := cachedir.WriteFilters(dir, []cachedir.File{{Name: "20260624-1-default.filter.delta", Data: filter}}); err != nil {
		t.Fatal(err)
	}
	sites, list, err := cttest.FixtureSites(fx)
	if err != nil {
		t.Fatal(err)
	}
	list.GeneratedAt = time.Now().Unix()
	if _, err := ctlog.WriteTree(dir, list, time.Now()); err != nil {
		t.Fatal(err)
	}
	enforce := checker(t, dir, "policy.ct=enforce;max-age=0")
	off := checker(t, dir, "max-age=0")

	var judged, compliant, noncompliant int
	for _, s := range sites {
		leaf, issuer := s.Leaf, s.Issuer
		base, err := off.CheckDER(leaf, issuer)
		if err != nil {
			t.Fatalf("%s: %v", s.Label, err)
		}
		want := base.Outcome
		var in certinput.Input
		if err := certinput.Extract(leaf, issuer, &in); err != nil {
			t.Fatal(err)
		}
		if ok, _ := enforce.CTApplies(&in.IssuerSPKIHash); ok && base.Allowed && base.Outcome != outcome.Revoked {
			judged++
			if r := ct.Check(list, leaf, &in.IssuerSPKIHash, time.Now()); r.Verdict.Compliant {
				compliant++
			} else {
				noncompliant++
				want = outcome.CTNoncompliant
				for _, res := range r.Results {
					if res.Status != ct.Valid && res.Status != ct.UnknownLog {
						t.Errorf("%s: an SCT is %s, not only unknown to the 2025 list", s.Label, res.Status)
					}
				}
			}
		}
		if d, _ := enforce.CheckDER(leaf, issuer); d.Outcome != want {
			t.Errorf("%s: %v, want %v", s.Label, d.Outcome, want)
		}
	}
	t.Logf("%d real leaves judged: %d compliant, %d not (SCTs from logs the 2025 list lacks)", judged, compliant, noncompliant)
	if judged < 30 || compliant < 10 {
		t.Errorf("too few judged (%d) or compliant (%d)", judged, compliant)
	}
}
