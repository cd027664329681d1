// Package policy turns a check's outcome into allow or deny. Revoked is
// always denied; every other outcome is allowed by default, so installing
// revocheck never breaks a working system, and each can be set to deny.
package policy

import (
	"fmt"
	"time"

	"github.com/revocheck/revocheck/core/outcome"
)

// Action is what the policy does with an outcome.
type Action uint8

const (
	Allow Action = iota
	Deny
)

func (a Action) String() string {
	if a == Deny {
		return "deny"
	}
	return "allow"
}

// ParseAction accepts "allow" and "deny".
func ParseAction(s string) (Action, error) {
	switch s {
	case "allow":
		return Allow, nil
	case "deny":
		return Deny, nil
	}
	return Allow, fmt.Errorf("policy: %q is not allow or deny", s)
}

// DefaultMaxAge is the age after which data counts as stale: Firefox
// treats CRLite data older than 10 days as absent.
const DefaultMaxAge = 10 * 24 * time.Hour

// CTMode is policy.ct: whether embedded SCTs are checked against the CT
// policy, and what a certificate that fails it gets.
type CTMode uint8

const (
	CTOff     CTMode = iota // no CT check at all (the default)
	CTReport                // ct_noncompliant, allowed (the adapters log it once)
	CTEnforce               // ct_noncompliant, denied
)

var ctModes = [...]string{CTOff: "off", CTReport: "report", CTEnforce: "enforce"}

func (m CTMode) String() string {
	if int(m) < len(ctModes) {
		return ctModes[m]
	}
	return "off"
}

// ParseCTMode accepts "off", "report" and "enforce".
func ParseCTMode(s string) (CTMode, error) {
	for i, n := range ctModes {
		if s == n {
			return CTMode(i), nil
		}
	}
	return CTOff, fmt.Errorf("policy: %q is not off, report or enforce", s)
}

// Policy maps outcomes to actions. The zero value is not useful; use Default.
type Policy struct {
	actions [outcome.Last + 1]Action
	MaxAge  time.Duration // data older than this is "stale"; 0 disables the check
	CT      CTMode        // policy.ct; set with SetCT
}

// SetCT sets policy.ct: the action for ct_noncompliant follows it (deny
// only under enforce).
func (p *Policy) SetCT(m CTMode) {
	p.CT = m
	p.actions[outcome.CTNoncompliant] = Allow
	if m == CTEnforce {
		p.actions[outcome.CTNoncompliant] = Deny
	}
}

// Default allows everything but revoked, with a 10-day stale limit.
func Default() Policy {
	p := Policy{MaxAge: DefaultMaxAge}
	p.actions[outcome.Revoked] = Deny
	return p
}

// Set changes the action for one outcome. Revoked cannot be allowed: a
// revocation checker that lets revoked certificates through is off, and the
// way to turn it off is to disable the adapter.
func (p *Policy) Set(o outcome.Outcome, a Action) error {
	if o == outcome.Revoked {
		if a != Deny {
			return fmt.Errorf("policy: revoked is always denied")
		}
		return nil
	}
	if o == outcome.CTNoncompliant {
		return fmt.Errorf("policy: ct_noncompliant follows policy.ct (off, report or enforce)")
	}
	if o == 0 || o > outcome.Last {
		return fmt.Errorf("policy: unknown outcome %d", o)
	}
	p.actions[o] = a
	return nil
}

// Action returns the action for an outcome; unknown outcomes follow error.
func (p *Policy) Action(o outcome.Outcome) Action {
	if o == 0 || o > outcome.Last {
		o = outcome.Error
	}
	return p.actions[o]
}

// Decision is a policy verdict on one outcome.
type Decision struct {
	Outcome outcome.Outcome
	Allowed bool
}

// Decide applies the policy. It allocates nothing.
func (p *Policy) Decide(o outcome.Outcome) Decision {
	return Decision{Outcome: o, Allowed: p.Action(o) == Allow}
}

// Reason explains a decision in one sentence a user can act on.
func (d Decision) Reason() string {
	verdict := "allowed"
	if !d.Allowed {
		verdict = "denied"
	}
	switch d.Outcome {
	case outcome.Revoked:
		return "the certificate is revoked"
	case outcome.NotRevoked:
		return "the revocation data covers this certificate and it is not revoked"
	case outcome.NotEnrolled:
		return "the certificate's issuer is not part of the revocation data (" + verdict + " by policy not-enrolled)"
	case outcome.NotCovered:
		return "no revocation data covers this certificate (no SCTs, or newer than the data; " + verdict + " by policy not-covered)"
	case outcome.NoData:
		return "there is no usable revocation cache (" + verdict + " by policy no-data)"
	case outcome.Stale:
		return "the revocation data is older than the maximum age (" + verdict + " by policy stale)"
	case outcome.CTNoncompliant:
		return "the certificate's embedded SCTs do not satisfy the Certificate Transparency policy (" + verdict + " by policy ct)"
	default:
		return "the check failed (" + verdict + " by policy error)"
	}
}
