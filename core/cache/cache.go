// Package cache answers revocation checks from a C2SP upki-revocation cache
// directory (index.bin + clubcard filters, optionally manifest.json).
//
// # Generations
//
// Open loads the directory once into an immutable generation: index.bin and
// every filter it names are memory-mapped read-only and each filter is
// parsed once (clubcard.Parse does not copy). The current generation is
// published through an atomic pointer. At most once per
// Options.StatInterval (default 1 s) a check stats index.bin; when its
// identity (device, inode, size, mtime, ctime) changed, the new generation
// is built completely and then swapped in. Checks already running keep the
// generation they started with: each pins it with a reference count, and
// the mappings of a replaced generation are unmapped only when its last
// reader is done. A check never touches unmapped memory.
//
// A filter named by index.bin that does not exist while a generation loads
// means index.bin was replaced meanwhile (C2SP "Cache atomicity"): loading
// restarts from index.bin, up to Options.Retries times. If it still is
// missing, or a filter does not parse, that filter alone is marked broken:
// a check that it covers returns outcome.Error (unless another covering
// filter says revoked), other checks are unaffected. A new index.bin that
// does not parse leaves the previous generation in service; the failure is
// reported by Generation().LastError and not retried until index.bin
// changes again.
//
// # No data
//
// Open returns an error wrapping ErrNoData when the directory has neither
// index.bin nor manifest.json. With Options.Lazy it instead returns a Cache
// that answers outcome.NoData (with ErrNoData) until data appears; the
// appearance is noticed by the same once-a-second stat, so a caller can keep
// one *Cache for the life of the process.
//
// # Legacy directories
//
// A directory without index.bin but with manifest.json and the filters it
// lists (as Mozilla publishes, clubcard v3 or v4) is served too: the index is
// built in memory from each filter's own coverage, as a writer would build
// index.bin. manifest.json's identity then triggers reloads. As soon as an
// index.bin appears it takes precedence.
//
// # Check
//
// Check follows the C2SP "Revocation check procedure": no SCTs gives
// NotCovered without touching the index; every index entry matching any SCT
// names a covering filter (deduplicated); every covering filter is queried
// (early return only on Revoked); revoked > not revoked > not enrolled; when
// every covering filter says "not covered" the index disagrees with the
// filters and Check returns outcome.Error with ErrInconsistent; no covering
// filter gives NotCovered. With a nil Detail a check on a warm Cache
// allocates nothing.
package cache

import (
	"errors"
	"fmt"
	"math/bits"
	"runtime/debug"
	"time"

	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/clubcard"
	"github.com/revocheck/revocheck/core/mapped"
	"github.com/revocheck/revocheck/core/outcome"
)

var (
	// ErrNoData: the directory holds no revocation data (or cannot be read).
	ErrNoData = errors.New("cache: no revocation data")
	// ErrCorrupt: index.bin, manifest.json or a filter is malformed.
	ErrCorrupt = errors.New("cache: corrupt revocation data")
	// ErrInconsistent: every covering filter said "not covered" (C2SP:
	// "this indicates an issue with the index").
	ErrInconsistent = errors.New("cache: index.bin names filters that do not cover the certificate")
	// ErrClosed: the Cache was closed.
	ErrClosed = errors.New("cache: closed")

	errNilInput = errors.New("cache: nil input")
)

// Options tune a Cache. The zero value is the production default.
type Options struct {
	// StatInterval is how often, at most, a check stats index.bin to
	// notice a new generation. 0 means 1 s; negative disables automatic
	// refresh (the owner calls Poll or Refresh: the engine does, on its
	// own once-a-second gate shared by all its sources).
	StatInterval time.Duration
	// Retries bounds how often loading restarts because a filter named by
	// index.bin vanished meanwhile. 0 means 3.
	Retries int
	// Lazy makes Open succeed on a directory without data; checks answer
	// outcome.NoData until data appears.
	Lazy bool
}

// Cache is an open cache directory. It is safe for concurrent use. Its
// generations live in a mapped.Store (mapping, swapping, reference
// counting, the stat gate); this package says how a generation is built
// from the files and how it answers.
type Cache struct {
	st      *mapped.Store[*generation]
	onRetry func() // test hook: runs before a load restarts (the test plays the writer)
}

// Open opens dir and loads its current generation.
func Open(dir string, opts Options) (*Cache, error) {
	c := &Cache{}
	st, err := mapped.Open(dir, loadGeneration, mapped.Options{
		Keys:     []string{indexName, manifestName},
		Interval: opts.StatInterval,
		Retries:  opts.Retries,
		OnRetry: func() {
			if c.onRetry != nil {
				c.onRetry()
			}
		},
	})
	c.st = st
	if err != nil && !opts.Lazy {
		st.Close()
		return nil, noData(err)
	}
	return c, nil
}

// noData classifies a load error: anything but corrupt data is "no data".
func noData(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrCorrupt), errors.Is(err, ErrNoData):
		return err
	case errors.Is(err, mapped.ErrClosed):
		return ErrClosed
	}
	return fmt.Errorf("%w: %v", ErrNoData, err)
}

// Dir is the directory the Cache reads.
func (c *Cache) Dir() string { return c.st.Dir() }

// Refresh checks for a new generation now, regardless of StatInterval, and
// loads it. It returns the load error, if any (the previous generation, if
// there is one, stays in service).
func (c *Cache) Refresh() error { return noData(c.st.Refresh()) }

// Poll looks for a new generation now (a stat of index.bin and
// manifest.json) and loads it when they changed, unless a load is running.
func (c *Cache) Poll() { c.st.Poll() }

func (c *Cache) noDataErr() error {
	if err := c.st.Err(); err != nil {
		return noData(err)
	}
	return ErrNoData
}

// Close unmaps the cache once running checks are done. Later checks return
// outcome.NoData with ErrClosed.
func (c *Cache) Close() error {
	c.st.Close()
	return nil
}

// DataTime is when the current data was generated: manifest.json's
// generated_at when present, else index.bin's modification time. Zero when
// there is no data. It does not allocate.
func (c *Cache) DataTime() time.Time {
	if t := c.DataTimeUnix(); t != 0 {
		return time.Unix(0, t)
	}
	return time.Time{}
}

// DataTimeUnix is DataTime in unix ns, 0 when there is no generation.
func (c *Cache) DataTimeUnix() int64 {
	if g := c.st.Current(); g != nil {
		return g.V.dataTime
	}
	return 0
}

// Generation describes the current generation (after the periodic
// refresh), or returns nil when there is none. The result is a snapshot the
// caller may keep; its slices must not be modified.
func (c *Cache) Generation() *GenerationInfo {
	g := c.st.Acquire()
	if g == nil {
		return nil
	}
	defer g.Release()
	info := g.V.info
	info.ID = g.Seq
	if err := c.st.Err(); err != nil {
		info.LastError = err.Error()
	}
	return &info
}

// maxStackCovering sizes the on-stack list of covering filters; a check
// covered by more filters than this allocates.
const maxStackCovering = 64

// Check answers one revocation check (see the package comment). d, when not
// nil, is reset and receives the generation id and every covering filter
// with its own answer; with d all covering filters are queried even after a
// revoked answer, so the report is complete.
func (c *Cache) Check(in *certinput.Input, d *Detail) (o outcome.Outcome, err error) {
	if d != nil {
		d.reset()
	}
	if in == nil {
		return outcome.Error, errNilInput
	}
	if len(in.SCTs) == 0 {
		if c.st.Current() == nil {
			return outcome.NoData, c.noDataErr() // no data is no data, SCTs or not
		}
		if d != nil {
			d.NoSCTs = true
		}
		return outcome.NotCovered, nil
	}
	g := c.st.Acquire()
	if g == nil {
		return outcome.NoData, c.noDataErr()
	}
	// A mapped file truncated in place (a writer breaking the atomicity
	// rules) would raise SIGBUS; turn that into an error, not a crash of
	// the host process.
	prev := debug.SetPanicOnFault(true)
	defer func() {
		if ferr := mapped.Fault(prev, recover()); ferr != nil {
			o, err = outcome.Error, ferr
		}
		g.Release()
	}()
	if d != nil {
		d.Generation = g.Seq
	}
	return g.V.check(in, d)
}

// Enrolled reports whether the issuer (its SPKI SHA-256) is enrolled in a
// filter of the current generation, i.e. is a CA the data covers (Mozilla's
// CRLite covers CAs of its root program); ok is false when there is no
// data to ask. The CT policy applies only to such issuers (core/engine).
func (c *Cache) Enrolled(issuer *[32]byte) (enrolled, ok bool) {
	g := c.st.Acquire()
	if g == nil {
		return false, false
	}
	prev := debug.SetPanicOnFault(true)
	defer func() {
		if mapped.Fault(prev, recover()) != nil {
			enrolled, ok = false, false
		}
		g.Release()
	}()
	if row := g.V.row(issuer); row != nil {
		return row.blocks != nil, true
	}
	for j := range g.V.filters { // the row memo is full: ask each filter
		if f := g.V.filters[j].f; f != nil && f.Find(issuer) >= 0 {
			return true, true
		}
	}
	return false, true
}

func (g *generation) check(in *certinput.Input, d *Detail) (outcome.Outcome, error) {
	if d == nil && g.fptrs != nil {
		return g.checkMasked(in)
	}
	var buf [maxStackCovering]uint16
	var seen [16]uint64 // dedupes filter indices < 1024 in constant time
	cov := buf[:0]
	for i := range in.SCTs {
		cov = g.ix.AppendCoveringSet(cov, seen[:], &in.SCTs[i].LogID, in.SCTs[i].Timestamp)
	}
	if len(cov) == 0 {
		return outcome.NotCovered, nil
	}
	// The issuer's blocks and the clubcard key are the same for every
	// filter: find and hash once per check, not once per filter.
	row := g.row(&in.IssuerSPKIHash)
	var revoked, notRevoked, notEnrolled bool
	var ferr error
	var key [32]byte
	keyed := false
	var tmp clubcard.Block
	for _, idx := range cov {
		lf := &g.filters[idx]
		if lf.f == nil {
			if ferr == nil {
				ferr = lf.err
			}
			if d != nil {
				d.Filters = append(d.Filters, FilterResult{Name: g.ix.Filenames()[idx], Result: outcome.Error, Error: lf.err.Error()})
			}
			continue
		}
		var r clubcard.Result
		var b *clubcard.Block
		enrolled := false
		switch {
		case row == nil: // past the rows' bound: search this filter
			if i := lf.f.Find(&in.IssuerSPKIHash); i >= 0 {
				tmp = lf.f.Block(i)
				b, enrolled = &tmp, true
			}
		case row.blocks != nil:
			b, enrolled = &row.blocks[idx], row.isEnrolled(int(idx))
		}
		switch {
		case !lf.exact && !lf.f.Covers(in.SCTs):
			// The index claims more than the filter states (C2SP step 2.1).
			r = clubcard.NotCovered
		case !enrolled:
			r = clubcard.NotEnrolled
		default:
			if !keyed {
				key, keyed = clubcard.Key(&in.IssuerSPKIHash, in.Serial), true
			}
			if lf.f.Member(b, &key, in.Serial) {
				r = clubcard.Revoked
			} else {
				r = clubcard.NotRevoked
			}
		}
		if d != nil {
			d.Filters = append(d.Filters, FilterResult{Name: g.ix.Filenames()[idx], Result: resultOutcome(r)})
		}
		switch r {
		case clubcard.Revoked:
			if d == nil {
				return outcome.Revoked, nil
			}
			revoked = true
		case clubcard.NotRevoked:
			notRevoked = true
		case clubcard.NotEnrolled:
			notEnrolled = true
		}
	}
	return aggregate(revoked, notRevoked, notEnrolled, ferr)
}

// checkMasked is check's warm path, for indexes of at most
// index.MaskFilters files and no detail to record: the covering filters
// are a bit set, intersected with the generation's broken and inexact
// filters and the issuer's enrolled ones, and the enrolled covering
// filters are queried together (clubcard.AnyMember: it stops at the first
// filter that holds the key, since revoked wins the aggregation whatever
// the others answer).
func (g *generation) checkMasked(in *certinput.Input) (outcome.Outcome, error) {
	var cov uint64
	for i := range in.SCTs {
		m, _ := g.ix.CoveringMask(&in.SCTs[i].LogID, in.SCTs[i].Timestamp)
		cov |= m
	}
	if cov == 0 {
		return outcome.NotCovered, nil
	}
	var ferr error
	if b := cov & g.broken; b != 0 {
		ferr = g.filters[bits.TrailingZeros64(b)].err
		cov &^= b
	}
	for m := cov & g.inexact; m != 0; m &= m - 1 {
		if i := bits.TrailingZeros64(m); !g.filters[i].f.Covers(in.SCTs) {
			cov &^= 1 << i // the index claims more than the filter states (C2SP step 2.1)
		}
	}
	if cov == 0 {
		return aggregate(false, false, false, ferr)
	}
	row := g.row(&in.IssuerSPKIHash)
	if row == nil { // past the rows' bound: search each filter
		return g.checkSearch(in, cov, ferr)
	}
	var enrolled uint64
	if row.enrolled != nil {
		enrolled = cov & row.enrolled[0]
	}
	if enrolled != 0 {
		key := clubcard.Key(&in.IssuerSPKIHash, in.Serial)
		if clubcard.AnyMember(g.fptrs, row.blocks, enrolled, &key, in.Serial) {
			return outcome.Revoked, nil
		}
	}
	return aggregate(false, enrolled != 0, cov != enrolled, ferr)
}

// checkSearch finishes checkMasked for an issuer without a row: each
// covering filter (cov, already reduced to usable filters that cover the
// certificate) is searched for it.
func (g *generation) checkSearch(in *certinput.Input, cov uint64, ferr error) (outcome.Outcome, error) {
	var notRevoked, notEnrolled bool
	var key [32]byte
	keyed := false
	for m := cov; m != 0; m &= m - 1 {
		f := g.fptrs[bits.TrailingZeros64(m)]
		i := f.Find(&in.IssuerSPKIHash)
		if i < 0 {
			notEnrolled = true
			continue
		}
		if !keyed {
			key, keyed = clubcard.Key(&in.IssuerSPKIHash, in.Serial), true
		}
		b := f.Block(i)
		if f.Member(&b, &key, in.Serial) {
			return outcome.Revoked, nil
		}
		notRevoked = true
	}
	return aggregate(false, notRevoked, notEnrolled, ferr)
}

// aggregate is the C2SP aggregation of the covering filters' answers.
func aggregate(revoked, notRevoked, notEnrolled bool, ferr error) (outcome.Outcome, error) {
	switch {
	case revoked:
		return outcome.Revoked, nil
	case ferr != nil:
		// A covering filter we could not read might have said revoked.
		return outcome.Error, ferr
	case notRevoked:
		return outcome.NotRevoked, nil
	case notEnrolled:
		return outcome.NotEnrolled, nil
	}
	return outcome.Error, ErrInconsistent
}

func resultOutcome(r clubcard.Result) outcome.Outcome {
	switch r {
	case clubcard.Revoked:
		return outcome.Revoked
	case clubcard.NotRevoked:
		return outcome.NotRevoked
	case clubcard.NotEnrolled:
		return outcome.NotEnrolled
	case clubcard.NotCovered:
		return outcome.NotCovered
	}
	return outcome.Error
}
