// Package engine is the one place where configuration, the clubcard cache,
// the CRL-compiled revocation sets and the policy meet: a Checker answers
// "may this certificate be used?" for the CLI, the C ABI and the Go helper.
//
// A Checker never fails because the cache is missing: it answers no_data,
// and retries opening the cache at most once a second, so a cache that
// appears later (first `revocheck fetch`) is picked up without a restart.
package engine

import (
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/revocheck/revocheck/core/cache"
	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/clock"
	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/crlset"
	"github.com/revocheck/revocheck/core/outcome"
	"github.com/revocheck/revocheck/core/policy"
)

// Decision is a policy verdict on one outcome.
type Decision = policy.Decision

// retryInterval bounds how often a missing or broken cache is re-opened.
const retryInterval = time.Second

// Checker answers revocation checks. Safe for concurrent use.
type Checker struct {
	Config *config.Config
	policy policy.Policy

	openMu  sync.Mutex // serialises cache open attempts
	cache   atomic.Pointer[cache.Cache]
	nextTry atomic.Int64 // unix ns before which no re-open is attempted
	openErr atomic.Pointer[error]
	crl     *crlset.Store
	now     func() time.Time

	stale atomic.Pointer[staleness] // the last staleness verdict
}

// staleness is a verdict on the data's age, re-evaluated against the wall
// clock at most once a second and whenever the data time changes: reading
// the wall clock costs about 60 ns on some VMs, a tenth of a whole check.
type staleness struct {
	dataTime int64 // unix ns of the data judged
	until    int64 // clock.Mono() until which the verdict holds
	stale    bool
}

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

// New returns a Checker for cfg. It does not touch the cache yet.
func New(cfg *config.Config) *Checker {
	return &Checker{
		Config: cfg,
		policy: cfg.Policy,
		crl:    crlset.OpenStore(filepath.Join(cfg.CacheDir, "crlsets")),
		now:    time.Now,
	}
}

// Close releases the cache. Checks still running finish safely.
func (c *Checker) Close() {
	if cc := c.cache.Swap(nil); cc != nil {
		cc.Close()
	}
	c.crl.Close()
}

// Decide applies the policy to an outcome.
func (c *Checker) Decide(o outcome.Outcome) Decision { return c.policy.Decide(o) }

// Cache returns the open cache, opening it if needed; the error says why
// there is none (for `revocheck status`).
func (c *Checker) Cache() (*cache.Cache, error) {
	if cc := c.cache.Load(); cc != nil {
		return cc, nil
	}
	c.openMu.Lock()
	defer c.openMu.Unlock()
	if cc := c.cache.Load(); cc != nil {
		return cc, nil
	}
	now := c.now().UnixNano()
	if now < c.nextTry.Load() {
		if e := c.openErr.Load(); e != nil {
			return nil, *e
		}
		return nil, errors.New("cache not open")
	}
	cc, err := cache.Open(c.Config.CacheDir, cache.Options{})
	if err != nil {
		c.nextTry.Store(now + int64(retryInterval))
		c.openErr.Store(&err)
		return nil, err
	}
	c.cache.Store(cc)
	return cc, nil
}

// CheckDER extracts the inputs from cert and its issuer (DER) and checks
// them. It allocates nothing on a warm cache.
func (c *Checker) CheckDER(cert, issuer []byte) (Decision, error) {
	var buf [16]certinput.SCT
	in := certinput.Input{SCTs: buf[:0]}
	if err := certinput.Extract(cert, issuer, &in); err != nil {
		return c.policy.Decide(outcome.Error), err
	}
	return c.CheckInput(&in, nil), nil
}

// CheckInput checks extracted inputs. d, when not nil, receives the filters
// consulted and their answers.
func (c *Checker) CheckInput(in *certinput.Input, d *cache.Detail) Decision {
	o, _ := c.CheckInputErr(in, d)
	return c.policy.Decide(o)
}

// CheckInputErr is CheckInput with the reason for an error or no_data
// outcome (for the CLI).
func (c *Checker) CheckInputErr(in *certinput.Input, d *cache.Detail) (outcome.Outcome, error) {
	// One clock reading for the three time gates of a check (package
	// clock says why).
	mono := clock.Mono()
	// Exact revocation sets (compiled CRLs) answer first: they are
	// definitive for the issuers they cover, with or without SCTs.
	crlCovered, crlRevoked := c.crl.LookupAt(&in.IssuerSPKIHash, in.Serial, mono)
	if crlRevoked {
		return outcome.Revoked, nil
	}
	cc, err := c.Cache()
	if err != nil {
		if crlCovered {
			return outcome.NotRevoked, nil
		}
		return outcome.NoData, err
	}
	o, err := cc.CheckAt(in, d, mono)
	if err != nil {
		return outcome.Error, err
	}
	if o == outcome.Revoked {
		return o, nil // a revocation stays true however old the data
	}
	if crlCovered {
		return outcome.NotRevoked, nil
	}
	if c.policy.MaxAge > 0 && c.isStale(cc.DataTimeUnix(), mono) {
		return outcome.Stale, nil
	}
	return o, nil
}

// isStale reports whether data of this time (unix ns, 0: unknown) is older
// than the policy's max-age, to within a second.
func (c *Checker) isStale(dataTime, mono int64) bool {
	if dataTime == 0 {
		return false
	}
	if s := c.stale.Load(); s != nil && s.dataTime == dataTime && mono < s.until {
		return s.stale
	}
	s := &staleness{dataTime: dataTime, until: mono + int64(time.Second),
		stale: c.now().UnixNano()-dataTime > int64(c.policy.MaxAge)}
	c.stale.Store(s)
	return s.stale
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
	// The serial is content bytes, exactly: the NSS module decides which
	// encoding NSS sent (docs/NSS.md "Serial encodings").
	covered, revoked := c.crl.LookupName(issuerName, serial)
	switch {
	case revoked:
		return c.policy.Decide(outcome.Revoked), nil
	case covered:
		return c.policy.Decide(outcome.NotRevoked), nil
	}
	return c.policy.Decide(outcome.NotCovered), nil
}
