package clubcard

import (
	"encoding/binary"
	"math/bits"
)

// Members answers Member for many filters at once, for the same key and
// serial. set names the filters to query: bit i stands for the filter
// fs[i] and its block bs[i] for the issuer. The answers come back as a bit
// set over the same indices (bit i: filter i holds the key). It panics if
// a bit of set has no filter or block.
//
// A check queries the same key in every covering filter (one full filter
// and ~35 deltas), and the answers are those of Member; Members computes
// the key's lanes once and takes each block's fast path (approxColumns)
// where it has one.
func Members(fs []*Filter, bs []Block, set uint64, key *[32]byte, serial []byte) uint64 {
	a := keyLanes(key)
	var held uint64
	for m := set; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		f, b := fs[i], &bs[i]
		var in bool
		switch {
		case b.approxM == 0: // an empty block encodes nothing
		case !b.fits:
			in = f.encoded(b, key, serial)
		case f.approxColumns(b, &a):
			s := a[3]%max(uint64(b.exactM), 1) + uint64(b.exactOffset)
			in = f.eval(&f.exact, s/64, s%64, &a) == 0 && (b.nexc == 0 || !f.isException(b, serial))
		}
		if in != b.inverted {
			held |= 1 << i
		}
	}
	return held
}

// approxColumns reports whether the key (lanes a) evaluates to zero in
// every approximate column of a block whose windows fit its columns
// (b.fits, so no word is past a column's end). It is eval for all the
// columns, made cheaper three ways: the lanes are shifted once to the
// window's bit offset instead of shifting five words per column; columns
// are read in pairs, so the two reads do not wait on each other's answer
// (a key outside the set is ruled out after two columns on average); and
// one branch decides a pair, not one per column.
func (f *Filter) approxColumns(b *Block, a *[4]uint64) bool {
	s := b.approxMod.mod(a[3], uint64(b.approxM)) + uint64(b.approxOffset)
	w := shiftLanes(a, s%64)
	off := s / 64 * 8
	cols := f.approx[:b.rank]
	be := binary.BigEndian
	for ; len(cols) >= 2; cols = cols[2:] {
		p, q := cols[0].b[off:][:40], cols[1].b[off:][:40]
		r0 := be.Uint64(p[:8])&w[0] ^ be.Uint64(p[8:16])&w[1] ^ be.Uint64(p[16:24])&w[2] ^
			be.Uint64(p[24:32])&w[3] ^ be.Uint64(p[32:])&w[4]
		r1 := be.Uint64(q[:8])&w[0] ^ be.Uint64(q[8:16])&w[1] ^ be.Uint64(q[16:24])&w[2] ^
			be.Uint64(q[24:32])&w[3] ^ be.Uint64(q[32:])&w[4]
		if (bits.OnesCount64(r0)|bits.OnesCount64(r1))&1 != 0 {
			return false
		}
	}
	if len(cols) == 1 {
		p := cols[0].b[off:][:40]
		r0 := be.Uint64(p[:8])&w[0] ^ be.Uint64(p[8:16])&w[1] ^ be.Uint64(p[16:24])&w[2] ^
			be.Uint64(p[24:32])&w[3] ^ be.Uint64(p[32:])&w[4]
		return bits.OnesCount64(r0)&1 == 0
	}
	return true
}

// shiftLanes moves the 256 coefficients a up by sh < 64 bits, into five
// words: the parity of a against the 256 bits from bit sh of a 320-bit
// window is that of the result against the whole window.
func shiftLanes(a *[4]uint64, sh uint64) [5]uint64 {
	sh &= 63
	dn := 63 - sh // a right shift by 64 - sh, as two that stay below 64
	return [5]uint64{
		a[0] << sh,
		a[1]<<sh | a[0]>>1>>dn,
		a[2]<<sh | a[1]>>1>>dn,
		a[3]<<sh | a[2]>>1>>dn,
		a[3] >> 1 >> dn,
	}
}
