// Package engine is the one place where configuration, the revocation data
// and the policy meet: a Checker answers "may this certificate be used?"
// for the CLI, the C ABI, the check daemon and the Go helper.
//
// The data comes from sources (source.go): the CRL sets, then the clubcard
// cache, each a generation-swapped, memory-mapped store (core/mapped). A
// Checker asks them in order and combines the answers. It never fails
// because data is missing: it answers no_data, and a cache that appears
// later (first `revocheck fetch`) is picked up without a restart.
//
// One gate, once a second, on the monotonic clock read once per check:
// every source looks for a new generation (a stat of its key files) and the
// data's age is judged against the wall clock. The check path itself
// neither stats nor reads the wall clock.
package engine

import (
	"errors"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/revocheck/revocheck/core/cache"
	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/outcome"
	"github.com/revocheck/revocheck/core/policy"
)

// Decision is a policy verdict on one outcome.
type Decision = policy.Decision

// pollInterval is the gate: how often, at most, sources look for new data
// and the data's age is judged.
const pollInterval = time.Second

// Checker answers revocation checks. Safe for concurrent use.
type Checker struct {
	Config *config.Config
	policy policy.Policy

	sources []Source
	ct      *ctState         // nil: policy.ct = off (ct.go)
	now     func() time.Time // the wall clock, read on the gate and by CT verification only (tests set it)
	next    atomic.Int64     // mono() of the next gate
	stale   atomic.Uint64    // bit i: source i's data is older than max-age
}

var epoch = time.Now()

// mono is the gate's clock: monotonic ns, cheaper than the wall clock.
func mono() int64 { return int64(time.Since(epoch)) }

// Open loads the configuration (see config.Load) and applies overrides
// ("key=value;..."), then returns a Checker.
//
// A configuration problem does not make Open fail: a typo must never stop
// the refusal of a revoked certificate. What could not be set keeps its
// default and is listed in Checker.Config.Problems for the caller to
// report (the adapters log one line, `revocheck status` shows them).
func Open(configPath, overrides string) (*Checker, error) {
	return open(config.Load, configPath, overrides)
}

// OpenSecure is Open for a setuid or setgid process: the environment is
// ignored (config.LoadSecure).
func OpenSecure(configPath, overrides string) (*Checker, error) {
	return open(config.LoadSecure, configPath, overrides)
}

func open(load func(string) (*config.Config, error), configPath, overrides string) (*Checker, error) {
	cfg, err := load(configPath)
	var problems *config.Error
	if err != nil && !errors.As(err, &problems) {
		return nil, err
	}
	_ = cfg.ApplyOverrides(overrides, "overrides") // problems recorded in cfg.Problems
	return New(cfg), nil
}

// New returns a Checker for cfg with every source open (a missing cache is
// not an error: see the package comment).
func New(cfg *config.Config) *Checker {
	c := &Checker{Config: cfg, policy: cfg.Policy, now: time.Now}
	for _, k := range sourceKinds {
		c.sources = append(c.sources, k.open(cfg))
	}
	c.ct = openCT(cfg)
	c.judge()
	c.next.Store(mono() + int64(pollInterval))
	return c
}

// Close releases the data. Checks still running finish safely.
func (c *Checker) Close() {
	for _, s := range c.sources {
		s.Close()
	}
	if c.ct != nil {
		c.ct.logs.Close()
	}
}

// Decide applies the policy to an outcome.
func (c *Checker) Decide(o outcome.Outcome) Decision { return c.policy.Decide(o) }

// gate runs poll at most once per pollInterval across all goroutines; the
// others go on with the data they have.
func (c *Checker) gate() {
	now := mono()
	next := c.next.Load()
	if now < next || !c.next.CompareAndSwap(next, now+int64(pollInterval)) {
		return
	}
	c.poll()
}

// poll asks every source to look for new data, then judges its age.
func (c *Checker) poll() {
	for _, s := range c.sources {
		s.Poll()
	}
	if c.ct != nil {
		c.ct.logs.Poll()
	}
	c.judge()
}

// judge sets the stale bits against the wall clock; new data only arrives
// in poll, so the verdict follows new data at once.
func (c *Checker) judge() {
	var bits uint64
	if c.policy.MaxAge > 0 {
		wall := c.now().UnixNano()
		for i, s := range c.sources {
			if t := s.DataTime(); t != 0 && wall-t > int64(c.policy.MaxAge) {
				bits |= 1 << i
			}
		}
	}
	c.stale.Store(bits)
}

// CheckDER extracts the inputs from cert and its issuer (DER), checks them
// and applies the policy; with policy.ct on, a leaf whose SCTs fail the CT
// policy is ct_noncompliant (ct.go). It allocates nothing on a warm cache
// with policy.ct = off.
func (c *Checker) CheckDER(cert, issuer []byte) (Decision, error) {
	var buf [16]certinput.SCT
	in := certinput.Input{SCTs: buf[:0]}
	if err := certinput.Extract(cert, issuer, &in); err != nil {
		return c.policy.Decide(outcome.Error), err
	}
	o, _ := c.Check(&in, nil)
	if c.ct != nil {
		o = c.applyCT(cert, in.IssuerSPKIHash, o)
	}
	return c.policy.Decide(o), nil
}

// Check answers for extracted inputs; the error says why an outcome is
// error or no_data. d, when not nil, receives the clubcard filters
// consulted and their answers. Every source is asked in order: the first
// that says revoked ends the check (a revocation stays true however old
// the data); otherwise the strongest answer wins (source.go: strength), a
// source's non-revoked answer from data older than max-age being stale.
func (c *Checker) Check(in *certinput.Input, d *cache.Detail) (outcome.Outcome, error) {
	c.gate()
	stale := c.stale.Load()
	best, why := outcome.NotCovered, error(nil)
	kept := hide(in)
	for i, s := range c.sources {
		o, err := s.Check(kept, d)
		switch {
		case o == outcome.Revoked:
			return o, nil
		case stale&(1<<i) != 0 && (o == outcome.NotRevoked || o == outcome.NotEnrolled || o == outcome.NotCovered):
			o, err = outcome.Stale, nil
		}
		if stronger(o, best) || (o == best && why == nil) {
			best, why = o, err
		}
	}
	return best, why
}

// hide stops escape analysis at the Source interface: a pointer passed to
// an interface method is assumed kept, which would move every caller's
// on-stack Input (and its SCT buffer) to the heap, two allocations per
// check. No Source keeps in past its Check (the interface's contract).
func hide(in *certinput.Input) *certinput.Input {
	p := uintptr(unsafe.Pointer(in))
	return *(**certinput.Input)(unsafe.Pointer(&p))
}

// CheckIssuerSerial checks a certificate known only by its issuer's DER
// Name and its serial's DER INTEGER content bytes (what NSS gives a trust
// module), under a name that only one issuer key carries. Only exact data is
// consulted (see docs/NSS.md): a clubcard answers at random for keys outside
// its universe and, without SCTs, that cannot be ruled out.
func (c *Checker) CheckIssuerSerial(issuerName, serial []byte) (Decision, error) {
	if len(issuerName) == 0 || len(serial) == 0 {
		return c.policy.Decide(outcome.Error), errors.New("issuer name and serial are required")
	}
	c.gate()
	// The serial is content bytes, exactly: the NSS module decides which
	// encoding NSS sent (docs/NSS.md "Serial encodings").
	best := outcome.NotCovered
	for _, s := range c.sources {
		o := s.CheckName(issuerName, serial)
		if o == outcome.Revoked {
			return c.policy.Decide(o), nil
		}
		if stronger(o, best) {
			best = o
		}
	}
	return c.policy.Decide(best), nil
}
