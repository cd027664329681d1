package index

import (
	"cmp"
	"encoding/binary"
	"slices"
)

// MaskFilters is the largest filename table for which CoveringMask works:
// the covering set of such an index fits one uint64 (Mozilla publishes one
// full filter and ~35 deltas).
const MaskFilters = 64

// segment: from its start up to the next segment's start (or without end,
// for a log's last one), exactly the filters in mask cover the log.
type segment struct {
	start uint64
	mask  uint64
}

// buildMasks cuts each log's timeline where its covering set changes and
// records the set of each piece, so that a lookup is a binary search
// instead of a scan of every entry. Called by Parse for indexes of at most
// MaskFilters names; it allocates at most two segments per entry, which
// Parse has already bounded by the file size.
func (ix *Index) buildMasks() {
	type event struct {
		at  uint64
		idx uint16
		add bool
	}
	ix.segs = make([]segment, 0, 2*len(ix.entries))
	var events []event
	for li := range ix.logs {
		ls := &ix.logs[li]
		events = events[:0]
		for _, e := range ix.entries[ls.first : ls.first+ls.n] {
			if e.Min > e.Max {
				continue // an empty interval covers nothing
			}
			events = append(events, event{e.Min, e.FilterIdx, true})
			if e.Max != ^uint64(0) {
				events = append(events, event{e.Max + 1, e.FilterIdx, false})
			}
		}
		slices.SortFunc(events, func(a, b event) int { return cmp.Compare(a.at, b.at) })
		ls.segFirst = len(ix.segs)
		var count [MaskFilters]uint32 // overlapping entries of one filter
		var mask uint64
		for i := 0; i < len(events); {
			at := events[i].at
			for ; i < len(events) && events[i].at == at; i++ {
				e := events[i]
				if e.add {
					count[e.idx]++
				} else {
					count[e.idx]--
				}
				if count[e.idx] > 0 {
					mask |= 1 << e.idx
				} else {
					mask &^= 1 << e.idx
				}
			}
			if n := len(ix.segs); n > ls.segFirst && ix.segs[n-1].mask == mask {
				continue // same set as the piece before: no new cut
			}
			ix.segs = append(ix.segs, segment{at, mask})
		}
		ls.segN = len(ix.segs) - ls.segFirst
	}
	ix.masked = true
}

// CoveringMask returns the set of filters covering a certificate with an
// SCT from logID at ts, bit i for filter index i: the set AppendCovering
// lists. ok is false when the index names more than MaskFilters files;
// use AppendCoveringSet then. It does not allocate.
func (ix *Index) CoveringMask(logID *[32]byte, ts uint64) (mask uint64, ok bool) {
	if !ix.masked {
		return 0, false
	}
	i, found := ix.findLog(logID)
	if !found {
		return 0, true
	}
	ls := &ix.logs[i]
	segs := ix.segs[ls.segFirst : ls.segFirst+ls.segN]
	// The last piece starting at or before ts.
	lo, hi := 0, len(segs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if segs[m].start <= ts {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return 0, true
	}
	return segs[lo-1].mask, true
}

// logPrefix is the first 8 bytes of a log id as a big-endian integer: it
// orders logs as their full ids do, so findLog compares integers and only
// compares whole ids between logs that share a prefix.
func logPrefix(id []byte) uint64 { return binary.BigEndian.Uint64(id) }
