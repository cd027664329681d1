package engine

import (
	"path/filepath"

	"github.com/revocheck/revocheck/core/intermediates"
)

// FindIssuers returns copies of the preloaded intermediates that may have
// issued cert (DER): the CA certificates of the synced set
// (<cache>/intermediates/) whose subject Name is cert's issuer Name and,
// when cert has an Authority Key Identifier, whose SKI equals it; at most
// intermediates.MaxCandidates. They are untrusted candidates for the
// caller's own path building, never trust anchors. None (nil, nil) when
// intermediates.complete is off or no set is synced. The index is mapped
// on the first call only: a process whose chains are complete never opens
// it. An error says cert does not parse or the index is damaged.
func (c *Checker) FindIssuers(cert []byte) ([][]byte, error) {
	if !c.Config.IntermediatesComplete {
		return nil, nil
	}
	var out [][]byte
	_, err := c.inter.Find(cert, func(der []byte) bool {
		out = append(out, append([]byte(nil), der...))
		return true
	})
	return out, err
}

// Intermediates is the checker's preloaded set (for status reports).
func (c *Checker) Intermediates() *intermediates.Set { return c.inter }

func newIntermediates(cacheDir string) *intermediates.Set {
	return intermediates.NewSet(filepath.Join(cacheDir, intermediates.Dir))
}
