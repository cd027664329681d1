// Package crlset reads and writes CRL sets: compact, memory-mappable files of
// revoked certificate serials compiled from CRLs, keyed by the issuer's SPKI
// SHA-256 and findable by the issuer's DER Name.
//
// A CRL set answers "is (issuer, serial) revoked?" for the issuers it lists
// and says nothing about any other issuer (not covered). Unlike a clubcard it
// never answers at random for keys outside its universe: a serial that is not
// in an issuer's list is reported revoked only if its 40-bit fingerprint
// collides with a listed one inside the same hash bucket, which has
// probability at most 64·2⁻⁴⁰ ≈ 5.8e-11 per lookup (see docs/FORMATS.md,
// section "crlset").
//
// The layout (all integers little-endian unless noted):
//
//	header       48 bytes: magic "RCCRLS\x00\x01", salt [16], generated_at u64,
//	             n_issuers u32, n_names u32, names_len u32, reserved u32 (0)
//	issuers      n_issuers × 72 bytes, sorted by SPKI hash, unique:
//	             spki_sha256 [32], this_update i64, next_update i64 (unix s, 0 = none),
//	             data_off u64, count u32, name_index u32, bucket_bits u8, reserved [7]
//	names        n_names × 16 bytes, sorted by DER bytes, unique:
//	             off u32, len u32 (into the name blob), list_start u32, list_count u32
//	name_issuers n_issuers × u32: issuer indexes, grouped by name
//	name blob    names_len bytes, padded with zeros to a multiple of 8
//	data         per issuer at data_off: (2^bucket_bits + 1) × u32 cumulative
//	             bucket starts, then count × 5-byte big-endian fingerprints,
//	             sorted; the file ends where the last issuer's data ends.
//
// An entry's 64-bit hash is the first 8 bytes (big-endian) of
// SHA-256(salt ‖ serial), serial being the DER INTEGER content bytes. Its
// bucket is the top bucket_bits bits; its fingerprint the next 40 bits.
package crlset

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Magic opens every CRL set file.
const Magic = "RCCRLS\x00\x01"

const (
	headerSize    = 48
	issuerSize    = 72
	nameSize      = 16
	fpBytes       = 5
	fpBits        = 8 * fpBytes
	maxBucketBits = 24 // bucket_bits + fingerprint bits must fit the 64-bit hash
	// MaxBucketLoad is the largest average number of entries per bucket the
	// writer produces; with 40-bit fingerprints it bounds the false-positive
	// probability of one lookup by MaxBucketLoad·2⁻⁴⁰.
	MaxBucketLoad = 64
	// maxCount bounds one issuer's entries so that buckets stay ≤ MaxBucketLoad.
	maxCount = MaxBucketLoad << maxBucketBits
)

// FalsePositiveBound is the largest probability that one Lookup of a serial
// that is not listed reports it revoked.
const FalsePositiveBound = float64(MaxBucketLoad) / float64(uint64(1)<<fpBits)

// Error is the error type of this package; its message starts with "crlset: ".
type Error struct{ msg string }

func (e *Error) Error() string { return "crlset: " + e.msg }

func errorf(format string, args ...any) error {
	return &Error{msg: fmt.Sprintf(format, args...)}
}

// ErrTruncated reports data that ends before a structure it announces.
var ErrTruncated = errors.New("crlset: truncated file")

// Set is a parsed CRL set. It aliases the bytes given to Parse and never
// modifies them; it is safe for concurrent use.
type Set struct {
	data        []byte
	salt        [16]byte
	generated   uint64
	nIssuers    int
	nNames      int
	issuers     []byte // n_issuers × issuerSize
	names       []byte // n_names × nameSize
	nameIssuers []byte // n_issuers × 4
	blob        []byte
	entries     uint64
	dataStart   uint64 // offset of the data section
}

// IssuerInfo describes one issuer of a set.
type IssuerInfo struct {
	SPKIHash   [32]byte
	Name       []byte // DER Name; aliases the set's data
	ThisUpdate time.Time
	NextUpdate time.Time // zero when the CRL had none
	Count      int       // revoked entries
}

// Parse validates data as a CRL set and returns a Set that aliases it.
// Every offset, length, table order and bucket table is checked, so a Set
// never reads out of bounds; it reads the tables but not the fingerprints
// (1/40 of a large file), so that opening a 10-million-entry set costs a
// process milliseconds. Verify also checks the fingerprints' order.
func Parse(data []byte) (*Set, error) {
	if len(data) < headerSize {
		return nil, ErrTruncated
	}
	if string(data[:8]) != Magic {
		return nil, errorf("bad magic")
	}
	s := &Set{data: data}
	copy(s.salt[:], data[8:24])
	s.generated = binary.LittleEndian.Uint64(data[24:])
	nIssuers := uint64(binary.LittleEndian.Uint32(data[32:]))
	nNames := uint64(binary.LittleEndian.Uint32(data[36:]))
	namesLen := uint64(binary.LittleEndian.Uint32(data[40:]))
	if binary.LittleEndian.Uint32(data[44:]) != 0 {
		return nil, errorf("nonzero reserved header field")
	}
	if nNames > nIssuers {
		return nil, errorf("%d names for %d issuers", nNames, nIssuers)
	}
	size := uint64(len(data))
	off := uint64(headerSize)
	need := nIssuers*issuerSize + nNames*nameSize + nIssuers*4 + pad8(namesLen)
	if need > size-off { // all factors < 2^32, no overflow
		return nil, ErrTruncated
	}
	s.nIssuers, s.nNames = int(nIssuers), int(nNames)
	s.issuers = data[off : off+nIssuers*issuerSize]
	off += nIssuers * issuerSize
	s.names = data[off : off+nNames*nameSize]
	off += nNames * nameSize
	s.nameIssuers = data[off : off+nIssuers*4]
	off += nIssuers * 4
	s.blob = data[off : off+namesLen]
	for _, b := range data[off+namesLen : off+pad8(namesLen)] {
		if b != 0 {
			return nil, errorf("nonzero name blob padding")
		}
	}
	off += pad8(namesLen)
	dataStart := off
	s.dataStart = dataStart
	if err := s.checkNames(); err != nil {
		return nil, err
	}
	// Issuers: sorted, unique, data laid out back to back in issuer order.
	next := dataStart
	for i := 0; i < s.nIssuers; i++ {
		r := s.issuers[i*issuerSize : (i+1)*issuerSize]
		if i > 0 && bytes.Compare(s.issuers[(i-1)*issuerSize:(i-1)*issuerSize+32], r[:32]) >= 0 {
			return nil, errorf("issuers not sorted or duplicated at %d", i)
		}
		for _, b := range r[65:72] {
			if b != 0 {
				return nil, errorf("issuer %d: nonzero reserved bytes", i)
			}
		}
		ni := binary.LittleEndian.Uint32(r[60:])
		if uint64(ni) >= nNames {
			return nil, errorf("issuer %d: name index %d out of range", i, ni)
		}
		dataOff := binary.LittleEndian.Uint64(r[48:])
		count := uint64(binary.LittleEndian.Uint32(r[56:]))
		bits := uint(r[64])
		if bits > maxBucketBits {
			return nil, errorf("issuer %d: bucket bits %d > %d", i, bits, maxBucketBits)
		}
		if dataOff != next-dataStart {
			return nil, errorf("issuer %d: data offset %d, want %d", i, dataOff, next-dataStart)
		}
		nb := uint64(1) << bits
		length := (nb+1)*4 + count*fpBytes
		if length > size-next {
			return nil, ErrTruncated
		}
		if err := checkBuckets(data[next:next+length], nb, count, false); err != nil {
			return nil, errorf("issuer %d: %v", i, err)
		}
		s.entries += count
		next += length
	}
	if next != size {
		return nil, errorf("%d trailing bytes", size-next)
	}
	return s, nil
}

func pad8(n uint64) uint64 { return (n + 7) &^ 7 }

// Verify checks what Parse leaves out: that the fingerprints are sorted in
// every bucket (an unsorted bucket would make lookups miss entries). The
// compiler runs it on what it wrote; fetch-verified files are byte-exact.
func (s *Set) Verify() error {
	for i := 0; i < s.nIssuers; i++ {
		r := s.issuers[i*issuerSize:]
		base := binary.LittleEndian.Uint64(r[48:]) + s.dataStart
		count := uint64(binary.LittleEndian.Uint32(r[56:]))
		nb := uint64(1) << r[64]
		if err := checkBuckets(s.data[base:base+(nb+1)*4+count*fpBytes], nb, count, true); err != nil {
			return errorf("issuer %d: %v", i, err)
		}
	}
	return nil
}

// checkNames verifies that the name table is sorted and unique, every name
// lies in the blob, and the name → issuer lists form a partition of the
// issuers consistent with each issuer's name index.
func (s *Set) checkNames() error {
	covered := uint64(0)
	for i := 0; i < s.nNames; i++ {
		r := s.names[i*nameSize:]
		off := uint64(binary.LittleEndian.Uint32(r[0:]))
		n := uint64(binary.LittleEndian.Uint32(r[4:]))
		start := uint64(binary.LittleEndian.Uint32(r[8:]))
		cnt := uint64(binary.LittleEndian.Uint32(r[12:]))
		if off > uint64(len(s.blob)) || n > uint64(len(s.blob))-off {
			return errorf("name %d outside the name blob", i)
		}
		if cnt == 0 || start != covered || cnt > uint64(s.nIssuers)-covered {
			return errorf("name %d: bad issuer list", i)
		}
		covered += cnt
		if i > 0 && bytes.Compare(s.nameAt(i-1), s.blob[off:off+n]) >= 0 {
			return errorf("names not sorted or duplicated at %d", i)
		}
		for j := start; j < start+cnt; j++ {
			ii := uint64(binary.LittleEndian.Uint32(s.nameIssuers[j*4:]))
			if ii >= uint64(s.nIssuers) {
				return errorf("name %d: issuer index out of range", i)
			}
			if binary.LittleEndian.Uint32(s.issuers[ii*issuerSize+60:]) != uint32(i) {
				return errorf("name %d: issuer %d has another name", i, ii)
			}
			if j > start && binary.LittleEndian.Uint32(s.nameIssuers[(j-1)*4:]) >= uint32(ii) {
				return errorf("name %d: issuer list not sorted", i)
			}
		}
	}
	if covered != uint64(s.nIssuers) {
		return errorf("name lists cover %d of %d issuers", covered, s.nIssuers)
	}
	return nil
}

// checkBuckets verifies the bucket table (starts at 0, non-decreasing, ends
// at count) — which is all memory safety needs — and, with fingerprints,
// that fingerprints are sorted inside every bucket.
func checkBuckets(d []byte, nb, count uint64, fingerprints bool) error {
	if binary.LittleEndian.Uint32(d) != 0 {
		return errors.New("first bucket does not start at 0")
	}
	if uint64(binary.LittleEndian.Uint32(d[nb*4:])) != count {
		return errors.New("bucket table does not end at the entry count")
	}
	fps := d[(nb+1)*4:]
	prev := uint32(0)
	for b := uint64(1); b <= nb; b++ {
		cur := binary.LittleEndian.Uint32(d[b*4:])
		if cur < prev {
			return errors.New("bucket table not sorted")
		}
		for k := uint64(prev) + 1; fingerprints && k < uint64(cur); k++ {
			if bytes.Compare(fps[(k-1)*fpBytes:k*fpBytes], fps[k*fpBytes:(k+1)*fpBytes]) > 0 {
				return errors.New("fingerprints not sorted")
			}
		}
		prev = cur
	}
	return nil
}

func (s *Set) nameAt(i int) []byte {
	r := s.names[i*nameSize:]
	off := binary.LittleEndian.Uint32(r[0:])
	n := binary.LittleEndian.Uint32(r[4:])
	return s.blob[off : off+n]
}

// NumIssuers is the number of issuer keys in the set.
func (s *Set) NumIssuers() int { return s.nIssuers }

// NumEntries is the total number of revoked entries.
func (s *Set) NumEntries() uint64 { return s.entries }

// GeneratedAt is when the set was written.
func (s *Set) GeneratedAt() time.Time { return time.Unix(int64(s.generated), 0).UTC() }

// Issuers describes every issuer of the set, in SPKI hash order.
func (s *Set) Issuers() []IssuerInfo {
	out := make([]IssuerInfo, s.nIssuers)
	for i := range out {
		r := s.issuers[i*issuerSize:]
		copy(out[i].SPKIHash[:], r[:32])
		out[i].ThisUpdate = unixOrZero(int64(binary.LittleEndian.Uint64(r[32:])))
		out[i].NextUpdate = unixOrZero(int64(binary.LittleEndian.Uint64(r[40:])))
		out[i].Count = int(binary.LittleEndian.Uint32(r[56:]))
		out[i].Name = s.nameAt(int(binary.LittleEndian.Uint32(r[60:])))
	}
	return out
}

func unixOrZero(t int64) time.Time {
	if t == 0 {
		return time.Time{}
	}
	return time.Unix(t, 0).UTC()
}

// findIssuer returns the index of the issuer with this SPKI hash, or -1.
func (s *Set) findIssuer(h *[32]byte) int {
	lo, hi := 0, s.nIssuers
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c := bytes.Compare(s.issuers[m*issuerSize:m*issuerSize+32], h[:])
		if c == 0 {
			return m
		}
		if c < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return -1
}

// findName returns the index of this DER name in the name table, or -1.
func (s *Set) findName(name []byte) int {
	lo, hi := 0, s.nNames
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c := bytes.Compare(s.nameAt(m), name)
		if c == 0 {
			return m
		}
		if c < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return -1
}

// SerialHash is the 64-bit entry hash of a serial under salt: the first 8
// bytes, big-endian, of SHA-256(salt ‖ serial).
func SerialHash(salt *[16]byte, serial []byte) uint64 {
	var buf [16 + 48]byte
	if len(serial) <= 48 { // stack buffer: no allocation for real serials (≤ 20 bytes)
		copy(buf[:16], salt[:])
		copy(buf[16:], serial)
		sum := sha256.Sum256(buf[:16+len(serial)])
		return binary.BigEndian.Uint64(sum[:8])
	}
	h := sha256.New()
	h.Write(salt[:])
	h.Write(serial)
	var sum [32]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0])[:8])
}

// hasEntry reports whether issuer i lists the entry hash h.
func (s *Set) hasEntry(i int, h uint64) bool {
	r := s.issuers[i*issuerSize:]
	base := binary.LittleEndian.Uint64(r[48:]) + s.dataStart
	bits := uint(r[64])
	nb := uint64(1) << bits
	d := s.data[base:]
	b := uint64(0)
	if bits > 0 {
		b = h >> (64 - bits)
	}
	lo := uint64(binary.LittleEndian.Uint32(d[b*4:]))
	hi := uint64(binary.LittleEndian.Uint32(d[(b+1)*4:]))
	fps := d[(nb+1)*4:]
	want := (h << bits) >> (64 - fpBits)
	for lo < hi {
		m := (lo + hi) >> 1
		got := readFP(fps[m*fpBytes:])
		if got == want {
			return true
		}
		if got < want {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return false
}

func readFP(b []byte) uint64 {
	_ = b[4]
	return uint64(b[0])<<32 | uint64(b[1])<<24 | uint64(b[2])<<16 | uint64(b[3])<<8 | uint64(b[4])
}

// Lookup answers for the issuer with this SPKI hash and a serial given as
// DER INTEGER content bytes. covered is false when the set does not list the
// issuer; revoked is then false too. No allocation.
func (s *Set) Lookup(issuerSPKIHash *[32]byte, serial []byte) (covered, revoked bool) {
	i := s.findIssuer(issuerSPKIHash)
	if i < 0 {
		return false, false
	}
	return true, s.hasEntry(i, SerialHash(&s.salt, serial))
}

// LookupName answers for every issuer key listed under this DER Name (a CA
// may have several keys under one name): covered when at least one is
// listed, revoked when any of them lists the serial. No allocation.
func (s *Set) LookupName(issuerName []byte, serial []byte) (covered, revoked bool) {
	n := s.findName(issuerName)
	if n < 0 {
		return false, false
	}
	r := s.names[n*nameSize:]
	start := binary.LittleEndian.Uint32(r[8:])
	cnt := binary.LittleEndian.Uint32(r[12:])
	h := SerialHash(&s.salt, serial)
	for j := start; j < start+cnt; j++ {
		if s.hasEntry(int(binary.LittleEndian.Uint32(s.nameIssuers[j*4:])), h) {
			return true, true
		}
	}
	return true, false
}
