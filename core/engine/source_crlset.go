package engine

import (
	"path/filepath"

	"github.com/revocheck/revocheck/core/cache"
	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/crlset"
	"github.com/revocheck/revocheck/core/outcome"
)

// CRL sets (<cache>/crlsets/) are asked first: they are exact and
// definitive for the issuers they list, with or without SCTs, and the only
// data that answers by issuer Name.
func init() {
	register(10, "CRL sets", func(cfg *config.Config) Source {
		return crlSource{crlset.OpenStorePolled(filepath.Join(cfg.CacheDir, crlset.Dir))}
	})
}

type crlSource struct{ *crlset.Store }

// Check says nothing (not_covered) for an issuer no set lists; the error
// then says why when the sets could not be loaded or read, which a check
// reports when no other source answered.
func (s crlSource) Check(in *certinput.Input, _ *cache.Detail) (outcome.Outcome, error) {
	o := answer(s.Lookup(&in.IssuerSPKIHash, in.Serial))
	if o == outcome.NotCovered {
		return o, s.Err()
	}
	return o, nil
}

func (s crlSource) CheckName(issuerName, serial []byte) outcome.Outcome {
	return answer(s.LookupName(issuerName, serial))
}

func answer(covered, revoked bool) outcome.Outcome {
	switch {
	case revoked:
		return outcome.Revoked
	case covered:
		return outcome.NotRevoked
	}
	return outcome.NotCovered
}

// DataTime: a CRL set's age is its CRLs' own business (nextUpdate), not
// max-age's.
func (crlSource) DataTime() int64 { return 0 }
