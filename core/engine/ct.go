package engine

import (
	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/ct"
	"github.com/revocheck/revocheck/core/ctlog"
	"github.com/revocheck/revocheck/core/outcome"
	"github.com/revocheck/revocheck/core/policy"
)

// ctState is policy.ct at work (nil when it is off: the check path is then
// unchanged). It judges a leaf's embedded SCTs by Mozilla's CT policy
// against the cache's log list (core/ctlog), once per leaf per list
// generation (ct.Memo).
type ctState struct {
	logs *ctlog.Store
	memo ct.Memo
}

func openCT(cfg *config.Config) *ctState {
	if cfg.Policy.CT == policy.CTOff {
		return nil
	}
	return &ctState{logs: ctlog.OpenStore(cfg.CacheDir)}
}

// CTApplies says whether the CT policy is judged for a certificate of this
// issuer, and why not: policy.ct is off; the cache has no log list; or the
// issuer is not enrolled in the CRLite data, which covers only CAs in
// Mozilla's root program, whose certificates Firefox requires to be
// logged (a private CA is never enrolled: its certificates are left alone).
func (c *Checker) CTApplies(issuerSPKIHash *[32]byte) (applies bool, why string) {
	if c.ct == nil {
		return false, "policy.ct is off"
	}
	if l, _ := c.ct.logs.Current(); l == nil {
		if err := c.ct.logs.Err(); err != nil {
			return false, "the CT log list cannot be read: " + err.Error()
		}
		return false, "the cache has no CT log list (ctlogs/ctlogs.json)"
	}
	for _, s := range c.sources {
		if cs, ok := s.(cacheSource); ok && cs.Cache != nil {
			if enrolled, ok := cs.Enrolled(issuerSPKIHash); ok && enrolled {
				return true, ""
			}
		}
	}
	return false, "the issuer is not in the CRLite data (not a CA of Mozilla's root program)"
}

// applyCT turns a not-revoked outcome the policy allows into
// ct_noncompliant when the leaf's SCTs fail the CT policy. A revocation or
// a denial stands: CT never allows what revocation refused. The issuer
// hash comes by value, so that the caller's Input stays on its stack.
func (c *Checker) applyCT(cert []byte, issuer [32]byte, o outcome.Outcome) outcome.Outcome {
	if !c.ctMayChange(o) {
		return o
	}
	if ok, _ := c.CTApplies(&issuer); !ok {
		return o
	}
	if v := c.ctVerdict(cert, &issuer); !v.Compliant {
		return outcome.CTNoncompliant
	}
	return o
}

// ctMayChange: only an outcome the policy allows, not revoked, can become
// ct_noncompliant.
func (c *Checker) ctMayChange(o outcome.Outcome) bool {
	return o != outcome.Revoked && c.policy.Decide(o).Allowed
}

// CTOutcome applies a CTReport to the revocation outcome o exactly as
// CheckDER applies its (memoized) verdict.
func (c *Checker) CTOutcome(o outcome.Outcome, r *CTReport) outcome.Outcome {
	if r == nil || !r.Applies || r.Report == nil || r.Verdict.Compliant || !c.ctMayChange(o) {
		return o
	}
	return outcome.CTNoncompliant
}

// ctVerdict is the memoized verdict of a leaf (SCTs verified once per leaf
// per log list generation).
func (c *Checker) ctVerdict(cert []byte, issuer *[32]byte) ct.Verdict {
	list, gen := c.ct.logs.Current()
	k := ct.Key(cert, issuer)
	if v, ok := c.ct.memo.Lookup(gen, &k); ok {
		return v
	}
	v := ct.Check(list, cert, issuer, c.now()).Verdict
	c.ct.memo.Store(gen, &k, v)
	return v
}

// CTReport is what `revocheck check` shows of the CT policy for one
// certificate: whether it applies (and why not), and when it does every
// SCT with its verdict and the policy's. Never memoized.
type CTReport struct {
	Applies bool
	Why     string // why it does not apply
	*ct.Report
}

// CTReport judges cert (issued by the CA whose SPKI hashes to issuer)
// afresh, whatever the memo holds.
func (c *Checker) CTReport(cert []byte, in *certinput.Input) *CTReport {
	r := &CTReport{}
	if r.Applies, r.Why = c.CTApplies(&in.IssuerSPKIHash); !r.Applies {
		return r
	}
	list, _ := c.ct.logs.Current()
	r.Report = ct.Check(list, cert, &in.IssuerSPKIHash, c.now())
	return r
}
