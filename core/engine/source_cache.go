package engine

import (
	"github.com/revocheck/revocheck/core/cache"
	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/outcome"
)

// The clubcard cache (index.bin and filters, C2SP) answers for
// certificates with SCTs, after the CRL sets.
func init() {
	register(20, "clubcard cache", func(cfg *config.Config) Source {
		// Lazy: a missing cache answers no_data until a fetch writes one.
		c, _ := cache.Open(cfg.CacheDir, cache.Options{StatInterval: -1, Lazy: true})
		return cacheSource{c}
	})
}

type cacheSource struct{ *cache.Cache }

// CheckName: a clubcard answers at random for keys outside its universe
// and, without SCTs, that cannot be ruled out (docs/NSS.md).
func (cacheSource) CheckName(_, _ []byte) outcome.Outcome { return outcome.NotCovered }

func (s cacheSource) DataTime() int64 { return s.DataTimeUnix() }

// DataErr says why the clubcard cache cannot answer now (nil: it can),
// trying a load first. It feeds the adapters' state line (`openssl list
// -providers -verbose`, the daemon's state request), never a check.
func (c *Checker) DataErr() error {
	for _, s := range c.sources {
		cs, ok := s.(cacheSource)
		if !ok {
			continue
		}
		if cs.Cache == nil {
			return cache.ErrNoData
		}
		if cs.Generation() != nil {
			return nil
		}
		return cs.Refresh()
	}
	return nil
}
