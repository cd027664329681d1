package clubcard

import (
	"bytes"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// IssuerInput is one issuer's data for Build: the serials (DER INTEGER
// content bytes) it issued, split by revocation status. The filter's
// universe for this issuer is Revoked ∪ NotRevoked; queries for other
// serials of the issuer get an arbitrary answer (mostly not revoked).
type IssuerInput struct {
	SPKIHash   [32]byte
	Revoked    [][]byte
	NotRevoked [][]byte
	// NotRevokedKeys optionally holds Key(SPKIHash, NotRevoked[i]) for
	// every i. A producer that rebuilds over the same universe every run
	// (a delta twice a day) hashes each serial once instead of per build;
	// the builder trusts these keys.
	NotRevokedKeys [][32]byte
}

// BuildInput is everything a v4 filter holds.
type BuildInput struct {
	Coverage []CoverageEntry
	Issuers  []IssuerInput
	// Seed makes the build reproducible; 0 draws a random seed. The free
	// variables of the linear systems are chosen at random (a zero choice
	// would let every key pass the approximate filter).
	Seed uint64
}

// epsilon is the clubcard crate's row overhead: m = floor((1+ε)·n).
const epsilon = 0.02

// row is one equation of a banded system: 256 coefficients starting at the
// row's own index (bit 0 of a[0] set, "aligned"), constant b.
type row struct {
	a [4]uint64
	b uint64
}

// ribbon is one issuer's block of a banded system (Algorithm 1 of Dillinger
// and Walzer, "Ribbon filter", arXiv:2103.02515, as the clubcard crate uses).
type ribbon struct {
	m    uint64 // rows addressed by hashing
	rows []row  // m rows, more if an elimination ran past row m-1
}

func newRibbon(n int) ribbon {
	m := uint64(math.Floor((1 + epsilon) * float64(n)))
	return ribbon{m: m, rows: make([]row, m)}
}

// insert adds a(x) = b with a starting at row s (a[0]&1 == 1) and reports
// false if the equation is inconsistent with those already present.
func (r *ribbon) insert(s uint64, a [4]uint64, b uint64) bool {
	for {
		if s >= uint64(len(r.rows)) {
			r.rows = append(r.rows, make([]row, s+1-uint64(len(r.rows)))...)
		}
		cur := &r.rows[s]
		if cur.a == [4]uint64{} {
			cur.a, cur.b = a, b
			return true
		}
		a[0] ^= cur.a[0]
		a[1] ^= cur.a[1]
		a[2] ^= cur.a[2]
		a[3] ^= cur.a[3]
		b ^= cur.b
		// Realign: move the lowest set coefficient to position 0.
		var k uint64
		switch {
		case a[0] != 0:
			k = uint64(bits.TrailingZeros64(a[0]))
		case a[1] != 0:
			a = [4]uint64{a[1], a[2], a[3], 0}
			k = 64 + uint64(bits.TrailingZeros64(a[0]))
		case a[2] != 0:
			a = [4]uint64{a[2], a[3], 0, 0}
			k = 128 + uint64(bits.TrailingZeros64(a[0]))
		case a[3] != 0:
			a = [4]uint64{a[3], 0, 0, 0}
			k = 192 + uint64(bits.TrailingZeros64(a[0]))
		default:
			return b == 0 // redundant, or 0 = 1
		}
		if sh := k % 64; sh != 0 {
			a[0] = a[0]>>sh | a[1]<<(64-sh)
			a[1] = a[1]>>sh | a[2]<<(64-sh)
			a[2] = a[2]>>sh | a[3]<<(64-sh)
			a[3] >>= sh
		}
		s += k
	}
}

// evalWords is eval over a column held as native words.
func evalWords(z []uint64, s uint64, a *[4]uint64) uint64 {
	limb, shift := s/64, s%64
	n := uint64(len(z))
	if limb >= n {
		return 0
	}
	var r uint64
	cur := z[limb]
	for i := range uint64(4) {
		var next uint64
		if limb+i+1 < n {
			next = z[limb+i+1]
		}
		r ^= (cur>>shift | next<<(64-shift)) & a[i]
		cur = next
	}
	return uint64(bits.OnesCount64(r) & 1)
}

// solve back-substitutes the concatenated rows into a column of len(rows)
// bits; zero rows are free variables and get random bits. pad more random
// bits follow the rows: equations near the end read up to 255 bits past
// it, and zeros there would let keys pass the approximate filter.
func solve(rows []row, pad int, rng *rand.Rand) []uint64 {
	z := make([]uint64, (len(rows)+pad+63)/64)
	for i := len(rows); i < len(rows)+pad; i++ {
		z[i/64] |= rng.Uint64() & 1 << (i % 64)
	}
	var rnd uint64
	for i := len(rows) - 1; i >= 0; i-- {
		r := &rows[i]
		if i%64 == 63 || i == len(rows)-1 {
			rnd = rng.Uint64()
		}
		var bit uint64
		if r.a == [4]uint64{} {
			bit = rnd >> (i % 64) & 1
		} else {
			// Bit i of z is still 0 and a has coefficient 1 there, so
			// choosing bit = a(z) ^ b makes the row hold.
			bit = evalWords(z, uint64(i), &r.a) ^ r.b
		}
		z[i/64] |= bit << (i % 64)
	}
	return z
}

// keyed is one serial hashed to its equation lanes; idx is the serial's
// index in its input list (no pointer, so the GC need not scan millions).
type keyed struct {
	a   [4]uint64
	idx uint32
}

func hashAll(issuer *[32]byte, serials [][]byte) ([]keyed, error) {
	dst := make([]keyed, 0, len(serials))
	for i, s := range serials {
		if len(s) == 0 {
			return nil, fmt.Errorf("clubcard: empty serial for issuer %x", issuer[:8])
		}
		dst = append(dst, keyOf(issuer, s, i))
	}
	return dst, nil
}

// keyOf hashes one serial to its lanes (as keyLanes does for queries).
func keyOf(issuer *[32]byte, serial []byte, idx int) keyed {
	key := Key(issuer, serial)
	return keyed{a: keyLanes(&key), idx: uint32(idx)}
}

// issuerBuild is the builder's state for one issuer.
type issuerBuild struct {
	in            *IssuerInput
	revoked       []keyed
	approx, exact ribbon
	rank          int
	inverted      bool
	approxOffset  uint64
	exactOffset   uint64
	exceptions    [][]byte
}

// Build solves the clubcard systems for the input and returns a v4 filter
// file (C2SP upki-revocation). See the package documentation.
func Build(in *BuildInput) ([]byte, error) {
	if len(in.Coverage) > math.MaxUint16 {
		return nil, errors.New("clubcard: more than 65535 coverage entries")
	}
	if uint64(len(in.Issuers)) > math.MaxUint32 {
		return nil, errors.New("clubcard: too many issuers")
	}
	logs := make(map[[32]byte]bool, len(in.Coverage))
	for _, c := range in.Coverage {
		if logs[c.LogID] {
			return nil, fmt.Errorf("clubcard: coverage lists log %x twice", c.LogID[:8])
		}
		if c.Low > c.High {
			return nil, fmt.Errorf("clubcard: coverage of log %x ends before it starts", c.LogID[:8])
		}
		logs[c.LogID] = true
	}
	seed := in.Seed
	for seed == 0 {
		var b [8]byte
		if _, err := crand.Read(b[:]); err != nil {
			return nil, err
		}
		seed = binary.LittleEndian.Uint64(b[:])
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	bs := make([]issuerBuild, len(in.Issuers))
	for i := range in.Issuers {
		bs[i].in = &in.Issuers[i]
	}
	slices.SortFunc(bs, func(x, y issuerBuild) int { return bytes.Compare(x.in.SPKIHash[:], y.in.SPKIHash[:]) })
	for i := 1; i < len(bs); i++ {
		if bs[i-1].in.SPKIHash == bs[i].in.SPKIHash {
			return nil, fmt.Errorf("clubcard: issuer %x given twice", bs[i].in.SPKIHash[:8])
		}
	}

	// Approximate filter: per issuer, a homogeneous system over the
	// revoked keys with about log2(|U\R|/|R|) solution columns.
	if err := parallel(len(bs), func(i int) error { return bs[i].approximate() }); err != nil {
		return nil, err
	}

	// Lay the blocks out by descending rank so column i is a prefix.
	order := make([]int, len(bs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return bs[y].rank - bs[x].rank })
	maxRank := 0
	if len(order) > 0 {
		maxRank = bs[order[0]].rank
	}
	if maxRank > math.MaxUint8 {
		return nil, errors.New("clubcard: approximate filter rank too large")
	}
	var all []row
	ends := make([]int, maxRank+1) // ends[r]: rows of the blocks with rank >= r
	for _, j := range order {
		b := &bs[j]
		b.approxOffset = uint64(len(all))
		if b.rank == 0 {
			// No column reads rank-0 blocks (they sort last): they need an
			// offset but no rows.
			b.approx.rows = nil
			continue
		}
		all = append(all, b.approx.rows...)
		for r := 1; r <= b.rank; r++ {
			ends[r] = len(all)
		}
		b.approx.rows = nil
	}
	if uint64(len(all)) > math.MaxUint32 {
		return nil, errors.New("clubcard: approximate filter too large for v4")
	}
	approx := make([][]uint64, maxRank)
	for c := range maxRank {
		approx[c] = solve(all[:ends[c+1]], 256, rng)
	}
	all = nil

	// Exact filter: per issuer, the keys that pass the approximate filter,
	// revoked ones (b = 0) first so only non-revoked keys can fail. The
	// non-revoked keys are hashed only now, and only those passing (about
	// as many as the revoked ones) are kept: memory stays O(|R|).
	if err := parallel(len(bs), func(i int) error { return bs[i].exactRibbon(approx) }); err != nil {
		return nil, err
	}
	all = nil
	for _, j := range order {
		b := &bs[j]
		b.exactOffset = uint64(len(all))
		all = append(all, b.exact.rows...)
		b.exact.rows = nil
	}
	if uint64(len(all)) > math.MaxUint32 {
		return nil, errors.New("clubcard: exact filter too large for v4")
	}
	exact := solve(all, 0, rng)
	all = nil

	return encodeV4(in.Coverage, bs, approx, exact), nil
}

// approximate hashes the revoked serials and builds the issuer's
// approximate system.
func (b *issuerBuild) approximate() error {
	if len(b.in.Revoked)+len(b.in.NotRevoked) > math.MaxUint32/2 {
		// m = 1.02·n must fit the v4 uint32 fields.
		return fmt.Errorf("clubcard: issuer %x has too many serials", b.in.SPKIHash[:8])
	}
	var err error
	if b.revoked, err = hashAll(&b.in.SPKIHash, b.in.Revoked); err != nil {
		return err
	}
	nr, nu := len(b.revoked), len(b.revoked)+len(b.in.NotRevoked)
	if nr == nu && nu > 0 {
		// Everything is revoked: an empty, inverted block (as the crate).
		// An issuer with no serials at all stays not inverted.
		b.inverted = true
		return nil
	}
	b.approx = newRibbon(nr)
	if nr > 0 && 2*nr < nu {
		b.rank = int(math.Floor(math.Log2(float64(nu-nr) / float64(nr))))
	}
	if b.rank == 0 {
		return nil // no column reads this block
	}
	for _, k := range b.revoked {
		b.approx.insert(k.a[3]%b.approx.m, k.a, 0)
	}
	return nil
}

// exactRibbon builds the issuer's exact system over the keys that pass
// the approximate filter, revoked ones (b = 0) first so only non-revoked
// keys can fail. The non-revoked keys are hashed only now, and only those
// passing (about as many as the revoked ones) are kept: memory stays O(|R|).
func (b *issuerBuild) exactRibbon(approx [][]uint64) error {
	for _, s := range b.in.NotRevoked {
		if len(s) == 0 {
			return fmt.Errorf("clubcard: empty serial for issuer %x", b.in.SPKIHash[:8])
		}
	}
	keys := b.in.NotRevokedKeys
	if keys != nil && len(keys) != len(b.in.NotRevoked) {
		return fmt.Errorf("clubcard: issuer %x has %d serials but %d keys", b.in.SPKIHash[:8], len(b.in.NotRevoked), len(keys))
	}
	if b.approx.m == 0 {
		return nil // empty block: definitive without the exact filter
	}
	var pass []keyed
	for idx, serial := range b.in.NotRevoked {
		var k keyed
		if keys != nil {
			k = keyed{a: keyLanes(&keys[idx]), idx: uint32(idx)}
		} else {
			k = keyOf(&b.in.SPKIHash, serial, idx)
		}
		s := k.a[3]%b.approx.m + b.approxOffset
		ok := true
		for c := range b.rank {
			if evalWords(approx[c], s, &k.a) != 0 {
				ok = false
				break
			}
		}
		if ok {
			pass = append(pass, k)
		}
	}
	b.exact = newRibbon(len(b.revoked) + len(pass))
	m := max(b.exact.m, 1)
	for _, k := range b.revoked {
		if !b.exact.insert(k.a[3]%m, k.a, 0) {
			return errors.New("clubcard: internal error: homogeneous insertion failed")
		}
	}
	for _, k := range pass {
		if !b.exact.insert(k.a[3]%m, k.a, 1) {
			b.exceptions = append(b.exceptions, b.in.NotRevoked[k.idx])
		}
	}
	b.revoked = nil
	return b.checkExceptions()
}

// parallel runs fn(0..n-1) on GOMAXPROCS workers and returns the error of
// the lowest failing index, so the result does not depend on scheduling.
func parallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				errs[i] = fn(i)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkExceptions validates what the v4 exception list can hold and that
// no exception is also a revoked serial (a serial listed as both).
func (b *issuerBuild) checkExceptions() error {
	if len(b.exceptions) == 0 {
		return nil
	}
	if len(b.exceptions) > math.MaxUint16 {
		return fmt.Errorf("clubcard: issuer %x has too many exceptions", b.in.SPKIHash[:8])
	}
	exc := make(map[string]bool, len(b.exceptions))
	for _, s := range b.exceptions {
		if len(s) > 255 {
			return fmt.Errorf("clubcard: serial %x of issuer %x is too long to be an exception", s, b.in.SPKIHash[:8])
		}
		exc[string(s)] = true
	}
	for _, s := range b.in.Revoked {
		if exc[string(s)] {
			return fmt.Errorf("clubcard: serial %x of issuer %x is both revoked and not revoked", s, b.in.SPKIHash[:8])
		}
	}
	return nil
}

// trimmed drops trailing zero words (implicitly zero on the wire).
func trimmed(z []uint64) []uint64 {
	n := len(z)
	for n > 0 && z[n-1] == 0 {
		n--
	}
	return z[:n]
}

func encodeV4(cov []CoverageEntry, bs []issuerBuild, approx [][]uint64, exact []uint64) []byte {
	for i := range approx {
		approx[i] = trimmed(approx[i])
	}
	exact = trimmed(exact)
	size := 2 + 2 + 48*len(cov) + 4 + 1 + 4 + 8*len(exact)
	for i := range bs {
		size += v4IssuerEntry
		for _, e := range bs[i].exceptions {
			size += 1 + len(e)
		}
	}
	for _, c := range approx {
		size += 4 + 8*len(c)
	}
	out := make([]byte, 0, size)
	out = append(out, 4, 0)
	out = binary.BigEndian.AppendUint16(out, uint16(len(cov)))
	for _, c := range cov {
		out = append(out, c.LogID[:]...)
		out = binary.BigEndian.AppendUint64(out, c.Low)
		out = binary.BigEndian.AppendUint64(out, c.High)
	}
	out = binary.BigEndian.AppendUint32(out, uint32(len(bs)))
	for i := range bs {
		b := &bs[i]
		out = append(out, b.in.SPKIHash[:]...)
		out = binary.BigEndian.AppendUint32(out, uint32(b.approx.m))
		out = append(out, uint8(b.rank))
		out = binary.BigEndian.AppendUint32(out, uint32(b.approxOffset))
		out = binary.BigEndian.AppendUint32(out, uint32(b.exact.m))
		out = binary.BigEndian.AppendUint32(out, uint32(b.exactOffset))
		inv := uint8(0)
		if b.inverted {
			inv = 1
		}
		out = append(out, inv)
		out = binary.BigEndian.AppendUint16(out, uint16(len(b.exceptions)))
		for _, e := range b.exceptions {
			out = append(out, uint8(len(e)))
			out = append(out, e...)
		}
	}
	out = append(out, uint8(len(approx)))
	for _, c := range approx {
		out = appendColumn(out, c)
	}
	return appendColumn(out, exact)
}

func appendColumn(out []byte, z []uint64) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(z)))
	for _, w := range z {
		out = binary.BigEndian.AppendUint64(out, w)
	}
	return out
}
