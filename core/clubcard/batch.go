package clubcard

import "math/bits"

// Members answers Member for many filters at once, for the same key and
// serial. set names the filters to query: bit i stands for the filter
// fs[i] and its block bs[i] for the issuer. The answers come back as a bit
// set over the same indices (bit i: filter i holds the key). It panics if
// a bit of set has no filter or block.
//
// The answers are those of Member, but the order of work differs. A check
// queries the same key in every covering filter (one full filter and ~35
// deltas). Member stops at the first column that rules the key out, so a
// loop of Member calls branches on every column it reads. Here column j of
// every filter still in the running is read before column j+1 of any, and
// a filter drops out by a mask update, not a branch: the reads of one
// column do not wait on each other.
func Members(fs []*Filter, bs []Block, set uint64, key *[32]byte, serial []byte) uint64 {
	a := keyLanes(key)
	var start [64]uint64      // the equation's first row in each block
	var live, inverted uint64 // filters that may still hold the key; inverted blocks
	var rank uint8
	for m := set; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		b := &bs[i]
		_ = fs[i] // every member of set names a filter
		if b.inverted {
			inverted |= 1 << i
		}
		if b.approxM == 0 { // an empty block encodes nothing
			continue
		}
		start[i] = b.approxMod.mod(a[3], uint64(b.approxM)) + uint64(b.approxOffset)
		live |= 1 << i
		rank = max(rank, b.rank)
	}
	for col := range rank {
		for m := live; m != 0; m &= m - 1 {
			i := bits.TrailingZeros64(m)
			if f := fs[i]; col < bs[i].rank {
				s := start[i]
				live &^= f.eval(&f.approx[col], s/64, s%64, &a) << i
			}
		}
	}
	for m := live; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		f, b := fs[i], &bs[i]
		s := a[3]%max(uint64(b.exactM), 1) + uint64(b.exactOffset)
		live &^= f.eval(&f.exact, s/64, s%64, &a) << i
	}
	for m := live; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		if b := &bs[i]; b.nexc != 0 && fs[i].isException(b, serial) {
			live &^= 1 << i
		}
	}
	return live ^ inverted
}
