// Package intermediates completes certificate chains from a preloaded set of
// CA intermediates (Mozilla's Remote Settings `intermediates`, or an
// operator's own CAs): the candidates for a certificate's missing issuer are
// the set's certificates whose subject Name equals its issuer Name and, when
// it names an Authority Key Identifier, whose Subject Key Identifier equals
// it. They are untrusted candidates only: the caller's TLS stack builds the
// path and verifies every signature as if the server had sent them.
//
// The set is synced as upki lays it out (<cache>/intermediates/manifest.json
// and XX.pem buckets, bucket.go); an index built at sync time
// (<cache>/intermediates/subjects.idx, docs/FORMATS.md) holds every CA
// certificate's DER beside a sorted table keyed by the SHA-256 of its subject
// Name, so a lookup is a binary search in one memory-mapped file. The file is
// opened on the first lookup only (Set): a process that never completes a
// chain touches nothing.
package intermediates

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// IndexFile is the index's name in the intermediates directory.
const IndexFile = "subjects.idx"

// Dir is the intermediates directory below a data directory (and a mirror
// tree): upki's layout.
const Dir = "intermediates"

// The index layout (little-endian; docs/FORMATS.md):
//
//	header  64 bytes: magic "rcinter1" | count u32 | flags u32 (0) |
//	        generated_at i64 | source SHA-256 [32] | data length u64
//	entries count × 48 bytes, sorted by (name hash, SKI hash, offset):
//	        SHA-256(subject Name DER) [32] | SHA-256(SKI)[:8] [8] |
//	        offset u32 | length u16 | flags u16 (bit 0: has SKI)
//	data    the certificates' DER, concatenated
const (
	magic      = "rcinter1"
	headerSize = 64
	entrySize  = 48
	flagSKI    = 1

	// MaxCandidates bounds the candidates one lookup returns.
	MaxCandidates = 16
	// maxScan bounds the entries of one name a lookup examines (a real set
	// has a handful per name: cross-signs, re-keys), so that a damaged or
	// hostile index cannot make a lookup walk a million entries.
	maxScan = 4 * MaxCandidates
	// MaxCert bounds one certificate (a CA certificate is 1-2 KB; the
	// daemon's reply part is 64 KiB).
	MaxCert = 65535
	// MaxCount bounds the certificates of one index (Mozilla's set is
	// about 2 000).
	MaxCount = 1 << 20
	// MaxIndexSize bounds the file.
	MaxIndexSize = 256 << 20
)

// Meta describes where an index's certificates came from.
type Meta struct {
	GeneratedAt int64    // the source manifest's generated_at (unix s); 0 unknown
	Source      [32]byte // SHA-256 of the source manifest.json; zero when none
}

// Skipped says why Build left a certificate out.
type Skipped struct {
	SHA256 [32]byte
	Reason string
}

// Build encodes the index of ders. Only CA certificates (basicConstraints
// cA = TRUE) go in: anything else could never issue a certificate, and a
// leaf in the set would only cost lookups. Duplicates are dropped; a
// certificate that does not parse or is larger than MaxCert is skipped and
// reported.
func Build(ders [][]byte, meta Meta) ([]byte, []Skipped, error) {
	type ent struct {
		name [32]byte
		ski  [8]byte
		flag uint16
		der  []byte
	}
	var ents []ent
	var skipped []Skipped
	seen := map[[32]byte]bool{}
	for _, der := range ders {
		sum := sha256.Sum256(der)
		if seen[sum] {
			continue
		}
		seen[sum] = true
		var k certKeys
		switch err := parseKeys(der, &k); {
		case err != nil:
			skipped = append(skipped, Skipped{sum, err.Error()})
			continue
		case !k.ca:
			skipped = append(skipped, Skipped{sum, "not a CA certificate (basicConstraints cA is not TRUE)"})
			continue
		case len(der) > MaxCert:
			skipped = append(skipped, Skipped{sum, fmt.Sprintf("%d bytes, more than %d", len(der), MaxCert)})
			continue
		}
		e := ent{name: sha256.Sum256(k.subject), der: der}
		if k.ski != nil {
			s := sha256.Sum256(k.ski)
			copy(e.ski[:], s[:8])
			e.flag = flagSKI
		}
		ents = append(ents, e)
	}
	if len(ents) > MaxCount {
		return nil, skipped, fmt.Errorf("intermediates: %d certificates, more than %d", len(ents), MaxCount)
	}
	slices.SortFunc(ents, func(a, b ent) int {
		if c := bytes.Compare(a.name[:], b.name[:]); c != 0 {
			return c
		}
		if c := bytes.Compare(a.ski[:], b.ski[:]); c != 0 {
			return c
		}
		return bytes.Compare(a.der, b.der)
	})
	var data int
	for _, e := range ents {
		data += len(e.der)
	}
	out := make([]byte, headerSize+entrySize*len(ents), headerSize+entrySize*len(ents)+data)
	if len(out)+data > MaxIndexSize {
		return nil, skipped, fmt.Errorf("intermediates: index of %d bytes, more than %d", len(out)+data, MaxIndexSize)
	}
	copy(out, magic)
	binary.LittleEndian.PutUint32(out[8:], uint32(len(ents)))
	binary.LittleEndian.PutUint64(out[16:], uint64(meta.GeneratedAt))
	copy(out[24:56], meta.Source[:])
	binary.LittleEndian.PutUint64(out[56:], uint64(data))
	off := 0
	for i, e := range ents {
		p := out[headerSize+i*entrySize:]
		copy(p, e.name[:])
		copy(p[32:], e.ski[:])
		binary.LittleEndian.PutUint32(p[40:], uint32(off))
		binary.LittleEndian.PutUint16(p[44:], uint16(len(e.der)))
		binary.LittleEndian.PutUint16(p[46:], e.flag)
		off += len(e.der)
	}
	for _, e := range ents {
		out = append(out, e.der...)
	}
	return out, skipped, nil
}

// ErrCert: the certificate whose issuer is looked for does not parse.
var ErrCert = errors.New("intermediates: the certificate does not parse")

func certError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %v", ErrCert, err)
}

// Index is a parsed index; it reads the bytes it was parsed from in place.
type Index struct {
	entries []byte
	data    []byte
	count   int
	Meta    Meta
	Size    int // bytes of the file
}

// Parse checks an index's framing: header, sizes, every entry's bounds and
// the table's order (a lookup's binary search relies on it). The
// certificates themselves are parsed when a lookup meets them.
func Parse(b []byte) (*Index, error) {
	if len(b) < headerSize {
		return nil, fmt.Errorf("intermediates: index of %d bytes is shorter than its header", len(b))
	}
	if string(b[:8]) != magic {
		return nil, errors.New("intermediates: not an intermediates index (bad magic)")
	}
	count := uint64(binary.LittleEndian.Uint32(b[8:]))
	if binary.LittleEndian.Uint32(b[12:]) != 0 {
		return nil, errors.New("intermediates: unknown index flags")
	}
	dataLen := binary.LittleEndian.Uint64(b[56:])
	if count > MaxCount {
		return nil, fmt.Errorf("intermediates: %d certificates, more than %d", count, MaxCount)
	}
	table := count * entrySize
	if uint64(len(b)-headerSize) < table || uint64(len(b)-headerSize)-table != dataLen {
		return nil, fmt.Errorf("intermediates: %d bytes do not hold %d entries and %d bytes of certificates", len(b), count, dataLen)
	}
	ix := &Index{entries: b[headerSize : headerSize+table], data: b[headerSize+table:], count: int(count), Size: len(b)}
	ix.Meta.GeneratedAt = int64(binary.LittleEndian.Uint64(b[16:]))
	copy(ix.Meta.Source[:], b[24:56])
	for i := 0; i < ix.count; i++ {
		e := ix.entry(i)
		off, n := uint64(binary.LittleEndian.Uint32(e[40:])), uint64(binary.LittleEndian.Uint16(e[44:]))
		if n == 0 || off+n > dataLen {
			return nil, fmt.Errorf("intermediates: entry %d: certificate at %d+%d outside %d bytes", i, off, n, dataLen)
		}
		if binary.LittleEndian.Uint16(e[46:])&^flagSKI != 0 {
			return nil, fmt.Errorf("intermediates: entry %d: unknown flags", i)
		}
		if i > 0 && bytes.Compare(ix.entry(i - 1)[:40], e[:40]) > 0 {
			return nil, fmt.Errorf("intermediates: entry %d out of order", i)
		}
	}
	return ix, nil
}

// Count is the number of certificates in the index.
func (ix *Index) Count() int { return ix.count }

func (ix *Index) entry(i int) []byte { return ix.entries[i*entrySize : (i+1)*entrySize] }

// Cert returns certificate i's DER (in place).
func (ix *Index) Cert(i int) []byte {
	e := ix.entry(i)
	off, n := binary.LittleEndian.Uint32(e[40:]), binary.LittleEndian.Uint16(e[44:])
	return ix.data[off : int(off)+int(n) : int(off)+int(n)]
}

// Lookup calls fn with the DER (in place: valid only during the call) of
// each certificate whose subject Name is issuerName, byte for byte, and,
// when aki is not nil, whose SKI is aki or that has no SKI; at most
// MaxCandidates, fewer if fn returns false. It returns how many fn saw.
// A stored certificate that does not parse is passed over.
func (ix *Index) Lookup(issuerName, aki []byte, fn func(der []byte) bool) int {
	name := sha256.Sum256(issuerName)
	var akiHash [8]byte
	if aki != nil {
		s := sha256.Sum256(aki)
		copy(akiHash[:], s[:8])
	}
	lo, hi := 0, ix.count // first entry whose name hash is >= name
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if bytes.Compare(ix.entry(m)[:32], name[:]) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	n := 0
	for i := lo; i < ix.count && i < lo+maxScan && n < MaxCandidates; i++ {
		e := ix.entry(i)
		if !bytes.Equal(e[:32], name[:]) {
			break
		}
		hasSKI := binary.LittleEndian.Uint16(e[46:])&flagSKI != 0
		if aki != nil && hasSKI && !bytes.Equal(e[32:40], akiHash[:]) {
			continue
		}
		der := ix.Cert(i)
		var k certKeys
		if parseKeys(der, &k) != nil || !bytes.Equal(k.subject, issuerName) ||
			(aki != nil && k.ski != nil && !bytes.Equal(k.ski, aki)) {
			continue // a hash collision, or a damaged entry
		}
		n++
		if !fn(der) {
			break
		}
	}
	return n
}

// Candidates is Lookup for a certificate: its issuer Name and Authority Key
// Identifier keyIdentifier. An error says cert does not parse.
func (ix *Index) Candidates(cert []byte, fn func(der []byte) bool) (int, error) {
	var k certKeys
	if err := certError(parseKeys(cert, &k)); err != nil {
		return 0, err
	}
	return ix.Lookup(k.issuer, k.aki, fn), nil
}
