package checkd

import (
	"testing"

	"github.com/revocheck/revocheck/core/outcome"
	"github.com/revocheck/revocheck/integration/harness"
	"github.com/revocheck/revocheck/internal/cttest"
)

// A client's policy.ct override reaches the daemon's Checker for it: the
// test PKI's leaf (its SCT from a log no list has) is ct_noncompliant,
// refused under enforce, allowed under report, and off is as before.
func TestDaemonCTPolicy(t *testing.T) {
	env := harness.New(t)
	l, err := cttest.NewLog("x", "X", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := cttest.WriteList(env.CacheDir, l); err != nil {
		t.Fatal(err)
	}
	_, sock := daemon(t, env, nil)
	c := dial(t, sock)
	s := env.Sites["good"]
	for overrides, want := range map[string]Reply{
		"policy.ct=enforce": {Outcome: int32(outcome.CTNoncompliant), Allowed: false},
		"policy.ct=report":  {Outcome: int32(outcome.CTNoncompliant), Allowed: true},
		"":                  {Outcome: int32(outcome.NotRevoked), Allowed: true},
	} {
		rep := ask(t, c, Request{Kind: KindDER, Overrides: overrides, A: s.Leaf, B: s.Issuer})
		if rep.Status != StatusOK || rep.Outcome != want.Outcome || rep.Allowed != want.Allowed {
			t.Errorf("%q: %+v, want %+v", overrides, rep, want)
		}
	}
	revoked := env.Sites["revoked"]
	if rep := ask(t, c, Request{Kind: KindDER, Overrides: "policy.ct=enforce", A: revoked.Leaf, B: revoked.Issuer}); rep.Outcome != int32(outcome.Revoked) {
		t.Errorf("revoked wins: %+v", rep)
	}
}
