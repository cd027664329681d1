package clubcard

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"sort"

	"github.com/revocheck/revocheck/core/certinput"
)

// Result is one filter's answer for one certificate (C2SP upki-revocation,
// "Step 2: query each covering filter").
type Result uint8

const (
	NotCovered  Result = iota // no SCT of the certificate falls in the filter's coverage
	NotEnrolled               // covered, but the issuer is not in the filter's index
	NotRevoked                // covered, enrolled, and not in the revoked set
	Revoked                   // covered, enrolled, and in the revoked set
)

var resultNames = [...]string{"not_covered", "not_enrolled", "not_revoked", "revoked"}

// String returns the lowercase name of r ("not_covered"), as core/outcome
// spells the same outcomes.
func (r Result) String() string {
	if int(r) < len(resultNames) {
		return resultNames[r]
	}
	return "unknown"
}

// CoverageEntry says the filter covers certificates carrying an SCT from the
// log LogID with Low <= timestamp <= High (inclusive, milliseconds).
type CoverageEntry struct {
	LogID     [32]byte
	Low, High uint64
}

// Sentinels for errors.Is; every parse error is a *FormatError wrapping one.
var (
	// ErrUnsupportedVersion: the file is not a clubcard v3 or v4 (legacy
	// MLBF cascades, versions 0-2, are read by core/cascade).
	ErrUnsupportedVersion = errors.New("unsupported filter version")
	// ErrMalformed: the file claims a supported version but breaks its format.
	ErrMalformed = errors.New("malformed filter")
)

// FormatError describes why a filter file was rejected.
type FormatError struct {
	Kind error  // ErrUnsupportedVersion or ErrMalformed
	Msg  string // what was wrong, lowercase
}

func (e *FormatError) Error() string { return "clubcard: " + e.Msg }
func (e *FormatError) Unwrap() error { return e.Kind }

func malformed(msg string) error { return &FormatError{Kind: ErrMalformed, Msg: msg} }

// column is one bit column of the approximate or exact matrix, kept as the
// raw words of the file (8 bytes each; big-endian in v4, little-endian in
// v3). Words past the end are implicitly zero (spec "Approximate filter").
type column struct {
	b []byte
	n uint64 // number of words
}

// block is one issuer's IssuerBlock (spec "Per-issuer index").
type block struct {
	approxM, approxOffset uint64
	exactM, exactOffset   uint64
	rank                  uint8
	inverted              bool
	nexc                  uint32
	exc                   []byte // the encoded exception list, nexc entries
}

// Filter is a parsed clubcard. It aliases the bytes given to Parse, which
// must stay unchanged (and mapped) as long as the Filter is used. A Filter
// is immutable and safe for concurrent use.
type Filter struct {
	version  int
	le       bool // v3: words and exception lengths are little-endian bincode
	coverage []CoverageEntry
	covPfx   []uint64 // first 8 bytes of each coverage log id, to skip mismatches fast
	// issKey holds the enrolled issuers' SPKI hashes as big-endian words,
	// sorted and distinct: a binary search compares integers, and the
	// hashes are not kept a second time as bytes (36 filters × 1000
	// issuers is heap a host process pays for).
	issKey [][4]uint64
	blocks []block // blocks[i] belongs to issKey[i]
	approx []column
	exact  column
}

// Parse reads a clubcard filter file, dispatching on its first two bytes:
// [4, 0] is the C2SP v4 format, [3, 0] the bincode v3 format of
// clubcard-crlite. The data is not copied.
func Parse(data []byte) (*Filter, error) {
	if len(data) < 2 {
		return nil, malformed("truncated version")
	}
	switch v := data[0]; {
	case v == 4:
		if data[1] != 0 {
			return nil, malformed("v4 reserved byte is not zero")
		}
		return parseV4(data[2:])
	case v == 3 && data[1] == 0:
		return parseV3(data[2:])
	case v <= 2 && data[1] == 0:
		return nil, &FormatError{Kind: ErrUnsupportedVersion,
			Msg: "version " + string('0'+rune(v)) + " is a legacy mlbf filter cascade, not a clubcard"}
	default:
		return nil, &FormatError{Kind: ErrUnsupportedVersion, Msg: "unknown filter version"}
	}
}

// Version is 3 or 4.
func (f *Filter) Version() int { return f.version }

// Coverage returns the filter's coverage entries; the slice must not be
// modified.
func (f *Filter) Coverage() []CoverageEntry { return f.coverage }

// NumIssuers is the number of enrolled issuers.
func (f *Filter) NumIssuers() int { return len(f.issKey) }

// IssuerHash returns the SPKI hash of enrolled issuer i, 0 <= i < NumIssuers.
func (f *Filter) IssuerHash(i int) [32]byte {
	var h [32]byte
	for j, w := range f.issKey[i] {
		binary.BigEndian.PutUint64(h[8*j:], w)
	}
	return h
}

// IssuerInfo describes one enrolled issuer, for status displays.
type IssuerInfo struct {
	SPKIHash   [32]byte
	ApproxRank int
	ApproxRows uint64
	ExactRows  uint64
	Inverted   bool
	Exceptions int
}

// Issuers calls fn for each enrolled issuer in index order until fn
// returns false.
func (f *Filter) Issuers(fn func(IssuerInfo) bool) {
	for i := range f.issKey {
		b := &f.blocks[i]
		if !fn(IssuerInfo{SPKIHash: f.IssuerHash(i), ApproxRank: int(b.rank), ApproxRows: b.approxM,
			ExactRows: b.exactM, Inverted: b.inverted, Exceptions: int(b.nexc)}) {
			return
		}
	}
}

// Stats reports the sizes of the two matrices in 64-bit words, summed over
// the approximate filter's columns, and the total number of exceptions.
func (f *Filter) Stats() (approxWords, exactWords uint64, exceptions int) {
	for _, c := range f.approx {
		approxWords += c.n
	}
	for i := range f.blocks {
		exceptions += int(f.blocks[i].nexc)
	}
	return approxWords, f.exact.n, exceptions
}

// Covers reports whether any SCT falls in the filter's coverage (step 2.1).
func (f *Filter) Covers(scts []certinput.SCT) bool {
	for i := range scts {
		s := &scts[i]
		p := binary.LittleEndian.Uint64(s.LogID[:8])
		for j, q := range f.covPfx {
			if q != p {
				continue
			}
			if c := &f.coverage[j]; c.LogID == s.LogID && c.Low <= s.Timestamp && s.Timestamp <= c.High {
				return true
			}
		}
	}
	return false
}

// Query runs the C2SP per-filter query: coverage, then the issuer lookup,
// then the clubcard membership of SHA-256(issuer_spki_hash || serial).
// It does not allocate.
func (f *Filter) Query(in *certinput.Input) Result {
	if !f.Covers(in.SCTs) {
		return NotCovered
	}
	enrolled, revoked := f.Contains(&in.IssuerSPKIHash, in.Serial)
	switch {
	case !enrolled:
		return NotEnrolled
	case revoked:
		return Revoked
	default:
		return NotRevoked
	}
}

// Contains looks the serial up without a coverage check: enrolled is false
// when the issuer is not in the index.
func (f *Filter) Contains(issuer *[32]byte, serial []byte) (enrolled, revoked bool) {
	i := f.Find(issuer)
	if i < 0 {
		return false, false
	}
	key := Key(issuer, serial)
	return true, f.Member(i, &key, serial)
}

// Member answers for enrolled issuer i (from Find) whether the serial,
// whose clubcard key (see Key) the caller computed once for all the
// filters it consults, is in the encoded revoked set.
func (f *Filter) Member(i int, key *[32]byte, serial []byte) bool {
	return f.member(&f.blocks[i], key, serial)
}

// Find returns the index of the enrolled issuer with this SPKI hash, or -1.
func (f *Filter) Find(issuer *[32]byte) int {
	k := issuerKey(issuer)
	lo, hi := 0, len(f.issKey)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := cmpKey(&f.issKey[m], &k); {
		case c == 0:
			return m
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return -1
}

func issuerKey(h *[32]byte) [4]uint64 {
	return [4]uint64{
		binary.BigEndian.Uint64(h[0:]), binary.BigEndian.Uint64(h[8:]),
		binary.BigEndian.Uint64(h[16:]), binary.BigEndian.Uint64(h[24:]),
	}
}

// cmpKey orders keys as bytes.Compare orders the hashes they came from.
func cmpKey(a, b *[4]uint64) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// maxStackSerial bounds the serials hashed from a stack buffer; longer
// ones (which no sane CA issues) take a slower path that allocates.
const maxStackSerial = 255

// Key returns the clubcard lookup key SHA-256(issuer || serial).
func Key(issuer *[32]byte, serial []byte) [32]byte {
	if len(serial) <= 32 {
		// The common case; a small buffer is cheaper to zero.
		var buf [64]byte
		*(*[32]byte)(buf[:32]) = *issuer
		n := copy(buf[32:], serial)
		return sha256.Sum256(buf[:32+n])
	}
	if len(serial) > maxStackSerial {
		return sha256.Sum256(append(issuer[:len(issuer):len(issuer)], serial...))
	}
	var buf [32 + maxStackSerial]byte
	copy(buf[:32], issuer[:])
	n := copy(buf[32:], serial)
	return sha256.Sum256(buf[:32+n])
}

// equation is the homogeneous GF(2) equation a key hashes to: 256
// coefficients a starting at row s (clubcard-crlite's as_query, W = 4).
type equation struct {
	s uint64
	a [4]uint64
}

// keyEquation turns a key into its equation for a block of m rows at the
// given offset: the lanes are the key's four little-endian 64-bit words,
// the lowest bit is forced to 1 (aligned), and s = a[3] mod max(1, m).
func keyEquation(key *[32]byte, m, offset uint64) equation {
	var e equation
	e.a[0] = binary.LittleEndian.Uint64(key[0:]) | 1
	e.a[1] = binary.LittleEndian.Uint64(key[8:])
	e.a[2] = binary.LittleEndian.Uint64(key[16:])
	e.a[3] = binary.LittleEndian.Uint64(key[24:])
	e.s = e.a[3]%max(m, 1) + offset
	return e
}

// word returns word i of c, zero past the end.
func (f *Filter) word(c *column, i uint64) uint64 {
	if i >= c.n {
		return 0
	}
	if f.le {
		return binary.LittleEndian.Uint64(c.b[8*i:])
	}
	return binary.BigEndian.Uint64(c.b[8*i:])
}

// eval returns the parity of the equation's 256 coefficients against the
// bits [s, s+256) of column c.
func (f *Filter) eval(e *equation, c *column) uint64 {
	limb, shift := e.s/64, e.s%64
	if limb >= c.n {
		return 0
	}
	var r uint64
	// A shift of 64 yields 0 in Go, so shift == 0 needs no special case.
	cur := f.word(c, limb)
	for i := range uint64(4) {
		next := f.word(c, limb+i+1)
		r ^= (cur>>shift | next<<(64-shift)) & e.a[i]
		cur = next
	}
	return parity(r)
}

func parity(x uint64) uint64 {
	x ^= x >> 32
	x ^= x >> 16
	x ^= x >> 8
	x ^= x >> 4
	x ^= x >> 2
	x ^= x >> 1
	return x & 1
}

// member is clubcard's query: in the encoded set iff the approximate
// filter's leading rank columns and the exact column all evaluate to zero
// and the serial is not an exception; the answer is then flipped if the
// block is inverted. An empty block (approx_m = 0) encodes nothing.
func (f *Filter) member(b *block, key *[32]byte, serial []byte) bool {
	return f.encoded(b, key, serial) != b.inverted
}

func (f *Filter) encoded(b *block, key *[32]byte, serial []byte) bool {
	if b.approxM == 0 {
		return false
	}
	e := keyEquation(key, b.approxM, b.approxOffset)
	for i := range int(b.rank) {
		if f.eval(&e, &f.approx[i]) != 0 {
			return false
		}
	}
	e.s = e.a[3]%max(b.exactM, 1) + b.exactOffset
	if f.eval(&e, &f.exact) != 0 {
		return false
	}
	return !f.isException(b, serial)
}

// isException scans the block's encoded exception list.
func (f *Filter) isException(b *block, serial []byte) bool {
	p := b.exc
	for range b.nexc {
		var n uint64
		if f.le {
			n, p = binary.LittleEndian.Uint64(p), p[8:]
		} else {
			n, p = uint64(p[0]), p[1:]
		}
		if n == uint64(len(serial)) && bytes.Equal(p[:n], serial) {
			return true
		}
		p = p[n:]
	}
	return false
}

// checkIndex validates what both versions require of the decoded index:
// strictly increasing issuers, ranks within the approximate filter.
func (f *Filter) checkIndex() error {
	f.covPfx = make([]uint64, len(f.coverage))
	for i := range f.coverage {
		f.covPfx[i] = binary.LittleEndian.Uint64(f.coverage[i].LogID[:8])
	}
	for i := 1; i < len(f.issKey); i++ {
		if cmpKey(&f.issKey[i-1], &f.issKey[i]) >= 0 {
			return malformed("issuer index not sorted or has duplicates")
		}
	}
	for i := range f.blocks {
		if int(f.blocks[i].rank) > len(f.approx) {
			return malformed("issuer approx_rank exceeds the approximate filter's column count")
		}
	}
	ids := make([][32]byte, len(f.coverage))
	for i := range f.coverage {
		ids[i] = f.coverage[i].LogID
	}
	sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i][:], ids[j][:]) < 0 })
	for i := 1; i < len(ids); i++ {
		if ids[i-1] == ids[i] {
			return malformed("coverage lists a log twice")
		}
	}
	return nil
}
