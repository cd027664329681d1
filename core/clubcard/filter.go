package clubcard

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"sort"
	"unsafe"

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

// Block is one issuer's IssuerBlock (spec "Per-issuer index"), decoded:
// what a query of that issuer needs. It is small so that a cache can keep
// one per issuer and filter, side by side, and read them without a cache
// miss per filter.
type Block struct {
	approxMod fastmod // a[3] mod approxM without a division
	exactMod  fastmod // a[3] mod max(exactM, 1), likewise
	// What members' fast path needs of the filter, so that it reads the
	// block alone: the first approximate column and the exact column
	// (the filter's own, so no Block can point a read elsewhere), and
	// lim = minCol[rank], the bound of a window inside the first rank
	// columns.
	cols, exact           *column
	lim                   uint64
	approxM, approxOffset uint32
	exactM, exactOffset   uint32
	exc, nexc             uint32 // the exception list: its offset in the file, its entry count
	rank                  uint8
	inverted              bool
	le                    bool // the filter's words are little-endian (v3)
}

// Filter is a parsed clubcard. It aliases the bytes given to Parse, which
// must stay unchanged (and mapped) as long as the Filter is used. A Filter
// is immutable and safe for concurrent use.
type Filter struct {
	version  int
	le       bool // v3: words and exception lengths are little-endian bincode
	coverage []CoverageEntry
	covPfx   []uint64 // first 8 bytes of each coverage log id, to skip mismatches fast
	maxRank  uint8    // the largest approx_rank, checked against len(approx)
	// minCol[r] is the length in bytes of the shortest of the first r
	// approximate columns: a window that ends within it is inside all of
	// them (members' fast path).
	minCol []uint64
	// ascending: the parse walk found every issuer's first 8 bytes
	// strictly above the last's, so the index is sorted without duplicates
	// (checkIndex then compares no hashes).
	ascending bool
	data      []byte   // the whole file
	ent       []uint32 // offset in data of each enrolled issuer's SPKI hash, then its block
	approx    []column
	exact     column
}

// Parse reads a clubcard filter file, dispatching on its first two bytes:
// [4, 0] is the C2SP v4 format, [3, 0] the bincode v3 format of
// clubcard-crlite. The data is not copied.
func Parse(data []byte) (*Filter, error) {
	if len(data) < 2 {
		return nil, malformed("truncated version")
	}
	if uint64(len(data)) > maxFilterSize {
		return nil, malformed("larger than 4 GiB")
	}
	switch v := data[0]; {
	case v == 4:
		if data[1] != 0 {
			return nil, malformed("v4 reserved byte is not zero")
		}
		return parseV4(data)
	case v == 3 && data[1] == 0:
		return parseV3(data)
	case v <= 2 && data[1] == 0:
		return nil, &FormatError{Kind: ErrUnsupportedVersion,
			Msg: "version " + string('0'+rune(v)) + " is a legacy mlbf filter cascade, not a clubcard"}
	default:
		return nil, &FormatError{Kind: ErrUnsupportedVersion, Msg: "unknown filter version"}
	}
}

// maxFilterSize keeps every offset into a filter within a uint32.
const maxFilterSize = 1<<32 - 1

// offset is the reader's position in the file.
func (f *Filter) offset(r *reader) uint32 { return uint32(len(f.data) - len(r.b)) }

func (f *Filter) noteRank(rank uint8) { f.maxRank = max(f.maxRank, rank) }

// Version is 3 or 4.
func (f *Filter) Version() int { return f.version }

// Coverage returns the filter's coverage entries; the slice must not be
// modified.
func (f *Filter) Coverage() []CoverageEntry { return f.coverage }

// NumIssuers is the number of enrolled issuers.
func (f *Filter) NumIssuers() int { return len(f.ent) }

// IssuerHash returns the SPKI hash of enrolled issuer i, 0 <= i < NumIssuers.
func (f *Filter) IssuerHash(i int) [32]byte { return *f.hashAt(i) }

func (f *Filter) hashAt(i int) *[32]byte {
	o := f.ent[i]
	return (*[32]byte)(f.data[o : o+32])
}

// Block decodes enrolled issuer i's block, 0 <= i < NumIssuers. Parse
// validated it; decoding reads a few dozen bytes of the file.
func (f *Filter) Block(i int) Block {
	p := f.data[f.ent[i]+32:]
	var b Block
	if f.le { // v3: five u64 (m, exact_m, rank, offset, exact_offset), bool, u64 count
		p = p[:49]
		le := binary.LittleEndian
		b = Block{
			approxM: uint32(le.Uint64(p)), exactM: uint32(le.Uint64(p[8:])), rank: uint8(le.Uint64(p[16:])),
			approxOffset: uint32(le.Uint64(p[24:])), exactOffset: uint32(le.Uint64(p[32:])),
			inverted: p[40] == 1, nexc: uint32(le.Uint64(p[41:])), exc: f.ent[i] + 32 + 49,
		}
	} else {
		p = p[:20] // u32 m, u8 rank, u32 offset, u32 exact_m, u32 exact_offset, u8, u16 count
		be := binary.BigEndian
		b = Block{
			approxM: be.Uint32(p), rank: p[4], approxOffset: be.Uint32(p[5:]),
			exactM: be.Uint32(p[9:]), exactOffset: be.Uint32(p[13:]),
			inverted: p[17] == 1, nexc: uint32(be.Uint16(p[18:])), exc: f.ent[i] + 32 + 20,
		}
	}
	b.approxMod = newFastmod(uint64(b.approxM))
	b.exactMod = newFastmod(max(uint64(b.exactM), 1))
	b.cols, b.exact, b.le = unsafe.SliceData(f.approx), &f.exact, f.le
	b.lim = f.minCol[min(int(b.rank), len(f.approx))] // Parse checked rank <= len(approx)
	return b
}

// fastmod computes x mod d by multiplications (Lemire, Kaser and Kurz,
// "Faster remainder by direct computation", 2019: with a 128-bit M =
// ceil(2^128 / d), x mod d = ((M·x) mod 2^128)·d / 2^128, exact for every
// 64-bit x and d). A query takes one remainder per covering filter, and a
// 64-bit division costs several times these four multiplications.
type fastmod struct{ hi, lo uint64 }

func newFastmod(d uint64) fastmod {
	if d == 0 {
		return fastmod{}
	}
	// floor((2^128 - 1) / d) + 1; d = 1 wraps to 0, which still yields 0.
	hi, r := bits.Div64(0, ^uint64(0), d)
	lo, _ := bits.Div64(r, ^uint64(0), d)
	lo, c := bits.Add64(lo, 1, 0)
	return fastmod{hi: hi + c, lo: lo}
}

// mod returns x mod d for the d m was made for.
func (m fastmod) mod(x, d uint64) uint64 {
	h, l := bits.Mul64(m.lo, x)
	h += m.hi * x // (M·x) mod 2^128 is h:l
	h1, _ := bits.Mul64(l, d)
	h2, l2 := bits.Mul64(h, d)
	_, c := bits.Add64(l2, h1, 0)
	return h2 + c
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
	for i := range f.ent {
		b := f.Block(i)
		if !fn(IssuerInfo{SPKIHash: f.IssuerHash(i), ApproxRank: int(b.rank), ApproxRows: uint64(b.approxM),
			ExactRows: uint64(b.exactM), Inverted: b.inverted, Exceptions: int(b.nexc)}) {
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
	for i := range f.ent {
		b := f.Block(i)
		exceptions += int(b.nexc)
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
	b := f.Block(i)
	return true, f.Member(&b, &key, serial)
}

// Find returns the index of the enrolled issuer with this SPKI hash, or -1.
func (f *Filter) Find(issuer *[32]byte) int {
	lo, hi := 0, len(f.ent)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := bytes.Compare(f.hashAt(m)[:], issuer[:]); {
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

// keyLanes returns the 256 coefficients of the homogeneous GF(2) equation
// a key hashes to (clubcard-crlite's as_query, W = 4): the key's four
// little-endian 64-bit words, the lowest bit forced to 1 (aligned).
func keyLanes(key *[32]byte) [4]uint64 {
	return [4]uint64{
		binary.LittleEndian.Uint64(key[0:]) | 1, binary.LittleEndian.Uint64(key[8:]),
		binary.LittleEndian.Uint64(key[16:]), binary.LittleEndian.Uint64(key[24:]),
	}
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

// eval returns the parity of the 256 coefficients a against the bits
// [64*limb+shift, +256) of column c: five words, shifted into place.
func (f *Filter) eval(c *column, limb, shift uint64, a *[4]uint64) uint64 {
	var w0, w1, w2, w3, w4 uint64
	switch {
	case limb >= c.n:
		return 0
	case c.n-limb >= 5:
		// The common case: five words inside the column, one bounds check.
		p := c.b[8*limb:][:40]
		if f.le {
			w0, w1, w2, w3, w4 = binary.LittleEndian.Uint64(p), binary.LittleEndian.Uint64(p[8:]),
				binary.LittleEndian.Uint64(p[16:]), binary.LittleEndian.Uint64(p[24:]), binary.LittleEndian.Uint64(p[32:])
		} else {
			w0, w1, w2, w3, w4 = binary.BigEndian.Uint64(p), binary.BigEndian.Uint64(p[8:]),
				binary.BigEndian.Uint64(p[16:]), binary.BigEndian.Uint64(p[24:]), binary.BigEndian.Uint64(p[32:])
		}
	default:
		w0, w1, w2, w3, w4 = f.word(c, limb), f.word(c, limb+1), f.word(c, limb+2), f.word(c, limb+3), f.word(c, limb+4)
	}
	return parity5(w0, w1, w2, w3, w4, shift, a)
}

// parity5 is the parity of a against the 256 bits from bit shift of the
// five words w0..w4 (w0's low bit first).
func parity5(w0, w1, w2, w3, w4, shift uint64, a *[4]uint64) uint64 {
	// Two shifts, so that shift == 0 moves the next word out entirely;
	// masked to 63 so that the compiler needs no over-shift fixups.
	sh, up := shift&63, 63-shift&63
	r := (w0>>sh | w1<<1<<up) & a[0]
	r ^= (w1>>sh | w2<<1<<up) & a[1]
	r ^= (w2>>sh | w3<<1<<up) & a[2]
	r ^= (w3>>sh | w4<<1<<up) & a[3]
	return uint64(bits.OnesCount64(r) & 1)
}

// Member is clubcard's query for a block of this filter (from Block) and
// the serial's key (see Key, computed once for all the filters a check
// consults): in the encoded set iff the approximate filter's leading rank
// columns and the exact column all evaluate to zero and the serial is not
// an exception; the answer is then flipped if the block is inverted. An
// empty block (approx_m = 0) encodes nothing.
func (f *Filter) Member(b *Block, key *[32]byte, serial []byte) bool {
	return f.encoded(b, key, serial) != b.inverted
}

func (f *Filter) encoded(b *Block, key *[32]byte, serial []byte) bool {
	if b.approxM == 0 {
		return false
	}
	a := keyLanes(key)
	// The equation starts at row a[3] mod m of the block (the same row in
	// every approximate column).
	s := b.approxMod.mod(a[3], uint64(b.approxM)) + uint64(b.approxOffset)
	for i := range f.approx[:b.rank] {
		if f.eval(&f.approx[i], s/64, s%64, &a) != 0 {
			return false
		}
	}
	s = a[3]%max(uint64(b.exactM), 1) + uint64(b.exactOffset)
	if f.eval(&f.exact, s/64, s%64, &a) != 0 {
		return false
	}
	return b.nexc == 0 || !f.isException(b, serial)
}

// isException scans the block's exception list in the file.
func (f *Filter) isException(b *Block, serial []byte) bool {
	p := f.data[b.exc:]
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
	// Strictly increasing: the parse walk compared the first 8 bytes of
	// each issuer with the last's, which decides almost every file; the
	// whole hashes are compared only when it could not.
	for i := 1; !f.ascending && i < len(f.ent); i++ {
		a, b := f.hashAt(i-1), f.hashAt(i)
		pa, pb := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
		if pa > pb || pa == pb && bytes.Compare(a[8:], b[8:]) >= 0 {
			return malformed("issuer index not sorted or has duplicates")
		}
	}
	if int(f.maxRank) > len(f.approx) {
		return malformed("issuer approx_rank exceeds the approximate filter's column count")
	}
	f.minCol = make([]uint64, len(f.approx)+1)
	f.minCol[0] = math.MaxUint64
	for i, c := range f.approx {
		f.minCol[i+1] = min(f.minCol[i], uint64(len(c.b)))
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
