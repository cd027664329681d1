package engine

import (
	"sort"

	"github.com/revocheck/revocheck/core/cache"
	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/outcome"
)

// A Source is one kind of revocation data under the cache directory. The
// engine asks every source, in rank order, and combines their answers
// (see Checker.Check). A source opens lazily-safe: with no data it answers
// outcome.NoData (or, for optional data, outcome.NotCovered: "says
// nothing") until data appears.
//
// Adding a kind of data is one file: a type with these methods and an init
// function that calls register.
type Source interface {
	// Check answers for one certificate. outcome.NotCovered means the
	// source says nothing about it. d, when not nil, may receive detail
	// (the clubcard cache lists its covering filters). in must not be
	// kept after Check returns (the engine hides it from escape analysis:
	// engine.go, hide).
	Check(in *certinput.Input, d *cache.Detail) (outcome.Outcome, error)
	// CheckName answers for a certificate known by its issuer's DER Name
	// and serial only (NSS): exact data only, else outcome.NotCovered.
	CheckName(issuerName, serial []byte) outcome.Outcome
	// Poll looks for a new generation of the data now (the engine calls
	// it on its once-a-second gate; lookups themselves never stat).
	Poll()
	// DataTime is when the data answering now was generated (unix ns),
	// judged against max-age; 0: not judged.
	DataTime() int64
	Close() error
}

type sourceKind struct {
	rank int
	name string
	open func(cfg *config.Config) Source
}

var sourceKinds []sourceKind

// register adds a kind of source; lower ranks are asked first (docs/
// ARCHITECTURE.md "How a check is answered": exact CRL sets, 10, before
// the clubcard cache, 20).
func register(rank int, name string, open func(cfg *config.Config) Source) {
	sourceKinds = append(sourceKinds, sourceKind{rank, name, open})
	sort.SliceStable(sourceKinds, func(i, j int) bool { return sourceKinds[i].rank < sourceKinds[j].rank })
}

// strength orders answers when sources disagree without a revocation
// (which ends the check): an error might hide a revocation; exact and
// fresh data outrank old data; a source with no data outranks one that
// says nothing, so an empty cache reads no_data, not not_covered.
var strength = [16]uint8{
	outcome.NotCovered:  1,
	outcome.NoData:      2,
	outcome.NotEnrolled: 3,
	outcome.Stale:       4,
	outcome.NotRevoked:  5,
	outcome.Error:       6,
	outcome.Revoked:     7,
}

func stronger(a, b outcome.Outcome) bool { return strength[a&15] > strength[b&15] }
