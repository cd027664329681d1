package clubcard

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// AnyMember reports whether any filter of set holds the key (members != 0),
// stopping at the first that does: a certificate revoked in the full filter
// is answered without reading the deltas, which cannot change a revoked
// answer.
func AnyMember(fs []*Filter, bs []Block, set uint64, key *[32]byte, serial []byte) bool {
	return members(fs, bs, set, key, serial, true) != 0
}

// members answers Member for many filters at once, for the same key and
// serial. set names the filters to query: bit i stands for the filter
// fs[i] and its block bs[i] for the issuer. The answers come back as a bit
// set over the same indices (bit i: filter i holds the key); with first,
// it stops at the first filter that holds it (AnyMember). It panics if a
// bit of set has no filter or block.
//
// A check queries the same key in every covering filter (one full filter
// and ~35 deltas), so this loop is most of a check's work. Its common case
// is encoded for a v4 block, made cheaper three ways, and written out here
// because a call per filter costs as much as its setup: the lanes are
// shifted once to the window's bit offset instead of shifting five words
// per column; the window is bounds-checked once against the shortest of
// the block's columns (minCol), not per column; and columns are read in
// pairs, so the two reads do not wait on each other's answer (a key outside
// the set is ruled out after two columns on average) and one branch
// decides a pair. Windows that reach past a column's end (its implicit
// zero words) take encoded itself.
func members(fs []*Filter, bs []Block, set uint64, key *[32]byte, serial []byte, first bool) uint64 {
	a := keyLanes(key)
	var held uint64
	for m := set; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		f, b := fs[i], &bs[i]
		in := false
		if b.approxM != 0 { // an empty block encodes nothing
			s := b.approxMod.mod(a[3], uint64(b.approxM)) + uint64(b.approxOffset)
			off := s / 64 * 8
			cols := f.approx[:b.rank]
			if off+40 > f.minCol[len(cols)] {
				in = f.encoded(b, key, serial)
			} else {
				w := shiftLanes(&a, s%64)
				if f.le {
					// v3 words are little-endian: read them as
					// big-endian all the same, and byte-swap the lanes
					// instead (the same permutation of both sides keeps
					// the parity).
					rb := bits.ReverseBytes64
					w = [5]uint64{rb(w[0]), rb(w[1]), rb(w[2]), rb(w[3]), rb(w[4])}
				}
				pass := true
				for c := 0; pass && c < len(cols); c += 2 {
					r := window(&cols[c], off, &w)
					if c+1 < len(cols) {
						r |= window(&cols[c+1], off, &w)
					}
					pass = r&1 == 0
				}
				if pass {
					s := a[3]%max(uint64(b.exactM), 1) + uint64(b.exactOffset)
					in = f.eval(&f.exact, s/64, s%64, &a) == 0 && (b.nexc == 0 || !f.isException(b, serial))
				}
			}
		}
		if in != b.inverted {
			held |= 1 << i
			if first {
				break
			}
		}
	}
	return held
}

// window returns a value whose low bit is the parity of the shifted lanes
// w against the 40 bytes at off in column c, read as big-endian words. The caller has checked
// off+40 <= f.minCol[r] for c among f.approx[:r]; the bytes are read without
// a second check (with one, the compiler no longer inlines the read and a
// check costs a fifth more instructions). That bound is the filter's own
// (minCol[r] <= len(approx[i].b) for every i < r, set at parse), so no
// Block, however made, can move a read out of its column.
func window(c *column, off uint64, w *[5]uint64) int {
	p := (*[40]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(c.b)), off))
	be := binary.BigEndian
	r := be.Uint64(p[:8])&w[0] ^ be.Uint64(p[8:16])&w[1] ^ be.Uint64(p[16:24])&w[2] ^
		be.Uint64(p[24:32])&w[3] ^ be.Uint64(p[32:])&w[4]
	return bits.OnesCount64(r)
}

// shiftLanes moves the 256 coefficients a up by sh < 64 bits, into five
// words: the parity of a against the 256 bits from bit sh of a 320-bit
// window is that of the result against the whole window. A multiplication
// by 2^sh yields both halves of a shifted word at once: fewer instructions
// than two shifts, whose count baseline amd64 must first move into CL.
func shiftLanes(a *[4]uint64, sh uint64) [5]uint64 {
	p := uint64(1) << (sh & 63)
	h0, l0 := bits.Mul64(a[0], p)
	h1, l1 := bits.Mul64(a[1], p)
	h2, l2 := bits.Mul64(a[2], p)
	h3, l3 := bits.Mul64(a[3], p)
	return [5]uint64{l0, l1 | h0, l2 | h1, l3 | h2, h3}
}
