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
	"sync"
	"sync/atomic"
	"time"

	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/clock"
	"github.com/revocheck/revocheck/core/clubcard"
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
	errFault    = errors.New("cache: memory fault reading a mapped file (was a cache file modified in place?)")
)

// Options tune a Cache. The zero value is the production default.
type Options struct {
	// StatInterval is how often, at most, a check stats index.bin to
	// notice a new generation. 0 means 1 s; negative disables automatic
	// refresh (call Refresh).
	StatInterval time.Duration
	// Retries bounds how often loading restarts because a filter named by
	// index.bin vanished meanwhile. 0 means 3.
	Retries int
	// Lazy makes Open succeed on a directory without data; checks answer
	// outcome.NoData until data appears.
	Lazy bool
}

// Cache is an open cache directory. It is safe for concurrent use.
type Cache struct {
	dir      string
	interval int64 // ns; < 0: no automatic refresh
	retries  int

	cur      atomic.Pointer[generation]
	lastStat atomic.Int64 // clock.Mono() of the last stat
	lastErr  atomic.Pointer[error]
	closed   atomic.Bool

	mu      sync.Mutex // serializes loads and Close
	nextID  uint64
	failed  sourceID // identity of a source that failed to load
	onRetry func()   // test hook, see loadGeneration
}

// Open opens dir and loads its current generation.
func Open(dir string, opts Options) (*Cache, error) {
	c := &Cache{dir: dir, interval: int64(opts.StatInterval), retries: opts.Retries}
	if c.interval == 0 {
		c.interval = int64(time.Second)
	}
	if c.retries <= 0 {
		c.retries = 3
	}
	c.mu.Lock()
	err := c.refreshLocked(true)
	c.mu.Unlock()
	if err != nil && !opts.Lazy {
		return nil, err
	}
	return c, nil
}

// Dir is the directory the Cache reads.
func (c *Cache) Dir() string { return c.dir }

// Refresh checks for a new generation now, regardless of StatInterval, and
// loads it. It returns the load error, if any (the previous generation, if
// there is one, stays in service).
func (c *Cache) Refresh() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastStat.Store(clock.Mono())
	return c.refreshLocked(true)
}

// maybeRefresh runs at most once per interval across all goroutines; a
// goroutine that finds a load in progress carries on with the current
// generation.
func (c *Cache) maybeRefresh(now int64) {
	if c.interval < 0 {
		return
	}
	last := c.lastStat.Load()
	if now-last < c.interval || !c.lastStat.CompareAndSwap(last, now) {
		return
	}
	if !c.mu.TryLock() {
		return
	}
	defer c.mu.Unlock()
	_ = c.refreshLocked(false)
}

func (c *Cache) refreshLocked(force bool) error {
	if c.closed.Load() {
		return ErrClosed
	}
	id, err := statSource(c.dir)
	g := c.cur.Load()
	if err != nil {
		// Nothing to load. Keep serving what is mapped: its files are
		// still valid even if the directory was emptied.
		c.setErr(err)
		return err
	}
	if g != nil && g.srcID == id {
		return nil
	}
	if !force && id == c.failed {
		return nil // known bad; wait for the writer to replace it
	}
	ng, err := loadGeneration(c.dir, c.retries, c.onRetry)
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			c.failed = id
		}
		c.setErr(err)
		return err
	}
	c.nextID++
	ng.id = c.nextID
	ng.info.ID = ng.id
	ng.refs.Store(1) // the Cache's own reference
	if old := c.cur.Swap(ng); old != nil {
		old.release()
	}
	c.lastErr.Store(nil)
	return nil
}

func (c *Cache) setErr(err error) { c.lastErr.Store(&err) }

// acquire pins the current generation; nil if there is none.
func (c *Cache) acquire() *generation {
	for {
		g := c.cur.Load()
		if g == nil || g.tryAcquire() {
			return g
		}
		// g was retired between Load and tryAcquire; a newer one (or
		// nil, after Close) is already published.
	}
}

func (c *Cache) noDataErr() error {
	if c.closed.Load() {
		return ErrClosed
	}
	if e := c.lastErr.Load(); e != nil {
		return *e
	}
	return ErrNoData
}

// Close unmaps the cache once running checks are done. Later checks return
// outcome.NoData with ErrClosed.
func (c *Cache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed.Store(true)
	if g := c.cur.Swap(nil); g != nil {
		g.release()
	}
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
	if g := c.cur.Load(); g != nil {
		return g.dataTime
	}
	return 0
}

// Generation describes the current generation (after the periodic
// refresh), or returns nil when there is none. The result is a snapshot the
// caller may keep; its slices must not be modified.
func (c *Cache) Generation() *GenerationInfo {
	c.maybeRefresh(clock.Mono())
	g := c.acquire()
	if g == nil {
		return nil
	}
	defer g.release()
	info := g.info
	if e := c.lastErr.Load(); e != nil {
		info.LastError = (*e).Error()
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
func (c *Cache) Check(in *certinput.Input, d *Detail) (outcome.Outcome, error) {
	return c.CheckAt(in, d, clock.Mono())
}

// CheckAt is Check for a caller that has read clock.Mono() already (mono),
// so that one check reads the clock once.
func (c *Cache) CheckAt(in *certinput.Input, d *Detail, mono int64) (o outcome.Outcome, err error) {
	if d != nil {
		d.reset()
	}
	if in == nil {
		return outcome.Error, errNilInput
	}
	if len(in.SCTs) == 0 {
		if d != nil {
			d.NoSCTs = true
		}
		return outcome.NotCovered, nil
	}
	c.maybeRefresh(mono)
	g := c.acquire()
	if g == nil {
		return outcome.NoData, c.noDataErr()
	}
	defer g.release()
	// A mapped file truncated in place (a writer breaking the atomicity
	// rules) would raise SIGBUS; turn that into an error, not a crash of
	// the host process.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			o, err = outcome.Error, fmt.Errorf("%w: %v", errFault, r)
		}
	}()
	if d != nil {
		d.Generation = g.id
	}
	return g.check(in, d)
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
