package policy

import (
	"testing"

	"github.com/revocheck/revocheck/core/outcome"
)

func TestDefaultAllowsAllButRevoked(t *testing.T) {
	p := Default()
	for _, o := range outcome.All() {
		d := p.Decide(o)
		if d.Allowed == (o == outcome.Revoked) {
			t.Errorf("%v: allowed=%v", o, d.Allowed)
		}
		if d.Reason() == "" {
			t.Errorf("%v: empty reason", o)
		}
	}
}

func TestRevokedCannotBeAllowed(t *testing.T) {
	p := Default()
	if err := p.Set(outcome.Revoked, Allow); err == nil {
		t.Fatal("allowing revoked was accepted")
	}
	if p.Decide(outcome.Revoked).Allowed {
		t.Fatal("revoked allowed")
	}
}

func TestDeny(t *testing.T) {
	p := Default()
	if err := p.Set(outcome.NotCovered, Deny); err != nil {
		t.Fatal(err)
	}
	if p.Decide(outcome.NotCovered).Allowed || !p.Decide(outcome.NotEnrolled).Allowed {
		t.Fatal("deny not applied to exactly not-covered")
	}
	if p.Decide(outcome.Outcome(99)).Outcome != 99 || !p.Decide(outcome.Outcome(99)).Allowed {
		t.Fatal("unknown outcome should follow the error policy (allow)")
	}
}
