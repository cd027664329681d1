package crlset

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"math/bits"
	"slices"
	"sort"
	"time"
)

// Builder accumulates issuers and their revoked serials and writes a CRL set.
// It keeps 8 bytes per entry in memory. Not safe for concurrent use.
type Builder struct {
	salt    [16]byte
	issuers map[[32]byte]*builderIssuer
}

type builderIssuer struct {
	name       []byte
	thisUpdate int64
	nextUpdate int64
	hashes     []uint64
}

// NewBuilder returns a Builder whose entry hashes use salt. Use a salt that
// is not predictable before the input CRLs exist (the compiler derives it
// from their bytes) so nobody can precompute fingerprint collisions.
func NewBuilder(salt [16]byte) *Builder {
	return &Builder{salt: salt, issuers: map[[32]byte]*builderIssuer{}}
}

// AddIssuer declares an issuer key. Declaring the same key again (for example
// from a second CRL of the same CA) merges: the serials are united, the
// earliest thisUpdate and earliest non-zero nextUpdate are kept. A zero
// nextUpdate means none. The name is copied.
func (b *Builder) AddIssuer(spkiHash [32]byte, name []byte, thisUpdate, nextUpdate time.Time) error {
	if len(name) == 0 {
		return errorf("issuer %x: empty name", spkiHash[:8])
	}
	if len(name) > 1<<16 {
		return errorf("issuer %x: name of %d bytes", spkiHash[:8], len(name))
	}
	tu, nu := unixOf(thisUpdate), unixOf(nextUpdate)
	if is, ok := b.issuers[spkiHash]; ok {
		if !bytes.Equal(is.name, name) {
			return errorf("issuer %x: declared with two different names", spkiHash[:8])
		}
		is.thisUpdate = min(is.thisUpdate, tu)
		if is.nextUpdate == 0 || (nu != 0 && nu < is.nextUpdate) {
			is.nextUpdate = nu
		}
		return nil
	}
	b.issuers[spkiHash] = &builderIssuer{name: bytes.Clone(name), thisUpdate: tu, nextUpdate: nu}
	return nil
}

func unixOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// AddSerial records a revoked serial (DER INTEGER content bytes) of a
// declared issuer.
func (b *Builder) AddSerial(spkiHash [32]byte, serial []byte) error {
	is, ok := b.issuers[spkiHash]
	if !ok {
		return errorf("issuer %x: serial added before the issuer", spkiHash[:8])
	}
	if len(serial) == 0 {
		return errorf("issuer %x: empty serial", spkiHash[:8])
	}
	if len(is.hashes) >= maxCount {
		return errorf("issuer %x: more than %d entries", spkiHash[:8], maxCount)
	}
	is.hashes = append(is.hashes, SerialHash(&b.salt, serial))
	return nil
}

// bucketBits is the smallest b with count ≤ MaxBucketLoad·2^b.
func bucketBits(count int) uint {
	if count <= MaxBucketLoad {
		return 0
	}
	return uint(bits.Len64(uint64(count-1) / MaxBucketLoad))
}

// WriteTo writes the set, stamped with generatedAt, to w.
func (b *Builder) WriteTo(w io.Writer, generatedAt time.Time) (int64, error) {
	keys := make([][32]byte, 0, len(b.issuers))
	for k := range b.issuers {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y [32]byte) int { return bytes.Compare(x[:], y[:]) })
	// Distinct names, sorted; each with its issuers in SPKI order.
	nameIdx := map[string]int{}
	var names []string
	for _, k := range keys {
		n := string(b.issuers[k].name)
		if _, ok := nameIdx[n]; !ok {
			nameIdx[n] = 0
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for i, n := range names {
		nameIdx[n] = i
	}
	lists := make([][]uint32, len(names))
	for i, k := range keys {
		ni := nameIdx[string(b.issuers[k].name)]
		lists[ni] = append(lists[ni], uint32(i))
	}
	if len(keys) > 1<<31 {
		return 0, errorf("too many issuers")
	}
	blobLen := 0
	for _, n := range names {
		blobLen += len(n)
	}
	if blobLen > 1<<31 {
		return 0, errorf("name blob too large")
	}

	bw := bufio.NewWriterSize(w, 1<<20)
	cw := &countWriter{w: bw}
	var hdr [headerSize]byte
	copy(hdr[:], Magic)
	copy(hdr[8:], b.salt[:])
	binary.LittleEndian.PutUint64(hdr[24:], uint64(unixOf(generatedAt)))
	binary.LittleEndian.PutUint32(hdr[32:], uint32(len(keys)))
	binary.LittleEndian.PutUint32(hdr[36:], uint32(len(names)))
	binary.LittleEndian.PutUint32(hdr[40:], uint32(blobLen))
	cw.Write(hdr[:])

	// Sort and deduplicate every issuer's hashes first: data offsets depend
	// on the final counts.
	dataOff := uint64(0)
	offs := make([]uint64, len(keys))
	for i, k := range keys {
		is := b.issuers[k]
		slices.Sort(is.hashes)
		is.hashes = slices.Compact(is.hashes)
		offs[i] = dataOff
		dataOff += (uint64(1)<<bucketBits(len(is.hashes))+1)*4 + uint64(len(is.hashes))*fpBytes
	}
	var rec [issuerSize]byte
	for i, k := range keys {
		is := b.issuers[k]
		clear(rec[:])
		copy(rec[:32], k[:])
		binary.LittleEndian.PutUint64(rec[32:], uint64(is.thisUpdate))
		binary.LittleEndian.PutUint64(rec[40:], uint64(is.nextUpdate))
		binary.LittleEndian.PutUint64(rec[48:], offs[i])
		binary.LittleEndian.PutUint32(rec[56:], uint32(len(is.hashes)))
		binary.LittleEndian.PutUint32(rec[60:], uint32(nameIdx[string(is.name)]))
		rec[64] = byte(bucketBits(len(is.hashes)))
		cw.Write(rec[:])
	}
	var nrec [nameSize]byte
	blobOff, listStart := 0, 0
	for i, n := range names {
		binary.LittleEndian.PutUint32(nrec[0:], uint32(blobOff))
		binary.LittleEndian.PutUint32(nrec[4:], uint32(len(n)))
		binary.LittleEndian.PutUint32(nrec[8:], uint32(listStart))
		binary.LittleEndian.PutUint32(nrec[12:], uint32(len(lists[i])))
		cw.Write(nrec[:])
		blobOff += len(n)
		listStart += len(lists[i])
	}
	var u32 [4]byte
	for _, l := range lists {
		for _, ii := range l {
			binary.LittleEndian.PutUint32(u32[:], ii)
			cw.Write(u32[:])
		}
	}
	for _, n := range names {
		io.WriteString(cw, n)
	}
	cw.Write(make([]byte, pad8(uint64(blobLen))-uint64(blobLen)))

	for _, k := range keys {
		is := b.issuers[k]
		bb := bucketBits(len(is.hashes))
		nb := uint64(1) << bb
		// Bucket starts: hashes are sorted, so buckets are contiguous runs.
		j := 0
		for bk := uint64(0); bk <= nb; bk++ {
			for j < len(is.hashes) && bk > 0 && bucketOf(is.hashes[j], bb) < bk {
				j++
			}
			if bk == nb {
				j = len(is.hashes)
			}
			binary.LittleEndian.PutUint32(u32[:], uint32(j))
			cw.Write(u32[:])
		}
		var fp [8]byte
		for _, h := range is.hashes {
			binary.BigEndian.PutUint64(fp[:], (h<<bb)>>(64-fpBits))
			cw.Write(fp[3:])
		}
	}
	if err := bw.Flush(); err != nil && cw.err == nil {
		cw.err = err
	}
	return cw.n, cw.err
}

func bucketOf(h uint64, bits uint) uint64 {
	if bits == 0 {
		return 0
	}
	return h >> (64 - bits)
}

// Bytes returns the encoded set.
func (b *Builder) Bytes(generatedAt time.Time) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf, generatedAt); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// countWriter remembers the first error so the writer above stays linear.
type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}
