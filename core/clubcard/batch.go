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
// is encoded, made cheaper four ways, and written out here because a call
// per filter costs as much as its setup: the lanes are shifted once to the
// window's bit offset instead of shifting five words per column; the
// window is bounds-checked once against the shortest of the block's
// columns (minCol), not per column; columns are read in pairs, so the two
// reads do not wait on each other's answer (a key outside the set is ruled
// out after two columns on average) and one branch decides a pair; and the
// words are loaded as they lie in memory (little-endian) whatever the
// format, the lanes being byte-swapped once for a v4 filter instead of
// every word (the same permutation of both sides keeps the parity). The
// exact column is read the same way, its remainder by multiplication too
// (Block.exactMod): a filter of rank 0, every key in its exact system,
// costs one window. Windows that reach past a column's end (its implicit
// zero words) take encoded and eval.
func members(fs []*Filter, bs []Block, set uint64, key *[32]byte, serial []byte, first bool) uint64 {
	if set == 0 {
		return 0
	}
	// One bounds check for every bit of set, then unchecked reads.
	if n := 64 - bits.LeadingZeros64(set); n > len(fs) || n > len(bs) {
		panic("clubcard: members: set names a filter past fs or bs")
	}
	fp, bp := unsafe.Pointer(unsafe.SliceData(fs)), unsafe.Pointer(unsafe.SliceData(bs))
	a := keyLanes(key)
	var held uint64
	for m := set; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		f := *(**Filter)(unsafe.Add(fp, uintptr(i)*unsafe.Sizeof(fp)))
		b := (*Block)(unsafe.Add(bp, uintptr(i)*unsafe.Sizeof(Block{})))
		in := false
		if b.approxM != 0 { // an empty block encodes nothing
			in = true
			if r := int(b.rank); r > 0 {
				s := b.approxMod.mod(a[3], uint64(b.approxM)) + uint64(b.approxOffset)
				off := s / 64 * 8
				if off+40 > b.lim {
					in = f.encoded(b, key, serial) // a window reaches an implicit zero word
					goto answer
				}
				w0, w1, w2, w3, w4 := shiftLanes(&a, s%64)
				if !b.le {
					w0, w1, w2, w3, w4 = swapLanes(w0, w1, w2, w3, w4)
				}
				// b.cols[:r], all inside lim: read without checks.
				for c := 0; c < r; c += 2 {
					x := window((*column)(unsafe.Add(unsafe.Pointer(b.cols), uintptr(c)*unsafe.Sizeof(column{}))), off, w0, w1, w2, w3, w4)
					if c+1 < r {
						x |= window((*column)(unsafe.Add(unsafe.Pointer(b.cols), uintptr(c+1)*unsafe.Sizeof(column{}))), off, w0, w1, w2, w3, w4)
					}
					if x&1 != 0 {
						in = false
						goto answer
					}
				}
			}
			s := b.exactMod.mod(a[3], max(uint64(b.exactM), 1)) + uint64(b.exactOffset)
			if off := s / 64 * 8; off+40 <= uint64(len(b.exact.b)) {
				w0, w1, w2, w3, w4 := shiftLanes(&a, s%64)
				if !b.le {
					w0, w1, w2, w3, w4 = swapLanes(w0, w1, w2, w3, w4)
				}
				in = window(b.exact, off, w0, w1, w2, w3, w4)&1 == 0
			} else {
				in = f.eval(b.exact, s/64, s%64, &a) == 0
			}
			in = in && (b.nexc == 0 || !f.isException(b, serial))
		}
	answer:
		if in != b.inverted {
			held |= 1 << i
			if first {
				break
			}
		}
	}
	return held
}

// window returns a value whose low bit is the parity of the lanes w0..w4
// against the 40 bytes at off in column c, loaded as little-endian words.
// The caller has checked that they lie inside the column (for the
// approximate columns: off+40 <= b.lim = f.minCol[r] for c among
// f.approx[:r]);
// the bytes are read without a second check (with one, the compiler no
// longer inlines the read and a check costs a fifth more instructions).
// That bound is the filter's own (minCol[r] <= len(approx[i].b) for every
// i < r, set at parse), so no Block, however made, can move a read out of
// its column.
func window(c *column, off uint64, w0, w1, w2, w3, w4 uint64) int {
	p := (*[40]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(c.b)), off))
	le := binary.LittleEndian
	r := le.Uint64(p[:8])&w0 ^ le.Uint64(p[8:16])&w1 ^ le.Uint64(p[16:24])&w2 ^
		le.Uint64(p[24:32])&w3 ^ le.Uint64(p[32:])&w4
	return bits.OnesCount64(r)
}

// shiftLanes moves the 256 coefficients a up by sh < 64 bits, into five
// words: the parity of a against the 256 bits from bit sh of a 320-bit
// window is that of the result against the whole window. A multiplication
// by 2^sh yields both halves of a shifted word at once: fewer instructions
// than two shifts, whose count baseline amd64 must first move into CL.
func shiftLanes(a *[4]uint64, sh uint64) (w0, w1, w2, w3, w4 uint64) {
	p := uint64(1) << (sh & 63)
	h0, l0 := bits.Mul64(a[0], p)
	h1, l1 := bits.Mul64(a[1], p)
	h2, l2 := bits.Mul64(a[2], p)
	h3, l3 := bits.Mul64(a[3], p)
	return l0, l1 | h0, l2 | h1, l3 | h2, h3
}

// swapLanes byte-swaps shifted lanes for a v4 filter: its words are
// big-endian and members loads them little-endian, so the lanes are
// swapped once instead of every word (the same permutation of both sides
// keeps the parity).
func swapLanes(w0, w1, w2, w3, w4 uint64) (uint64, uint64, uint64, uint64, uint64) {
	// Called directly: through a func value the compiler would not use
	// its byte-swap instruction.
	return bits.ReverseBytes64(w0), bits.ReverseBytes64(w1), bits.ReverseBytes64(w2),
		bits.ReverseBytes64(w3), bits.ReverseBytes64(w4)
}
