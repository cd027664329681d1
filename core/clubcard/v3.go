package clubcard

import "encoding/binary"

// Version 3 is clubcard-crlite's first clubcard serialization: the u16
// little-endian version 3 followed by bincode 1.x (little-endian, fixed-size
// integers, every length a u64, bool one byte) of
//
//	struct Clubcard {
//	    universe:  HashMap<[u8; 32], (u64, u64)>, // coverage: log id -> (low, high)
//	    partition: (),                           // zero bytes
//	    index:     BTreeMap<Vec<u8>, ClubcardIndexEntry>,
//	    approx_filter: Vec<Vec<u64>>,
//	    exact_filter:  Vec<u64>,
//	}
//	struct ClubcardIndexEntry {
//	    approx_filter_m, exact_filter_m, approx_filter_rank,
//	    approx_filter_offset, exact_filter_offset: u64 (usize),
//	    inverted: bool,
//	    exceptions: Vec<Vec<u8>>,
//	}
//
// Note the per-issuer field order differs from v4 (exact_filter_m second).

// le64 reads a bincode u64.
func (r *reader) le64(what string) uint64 {
	if p := r.take(8, what); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

const (
	v3CoverageEntry = 32 + 8 + 8
	v3IssuerEntry   = 8 + 32 + 5*8 + 1 + 8 // key length and key, five usizes, bool, exception count
)

func parseV3(data []byte) (*Filter, error) {
	r := &reader{b: data}
	f := &Filter{version: 3, le: true}

	nc := r.le64("coverage count")
	if r.fits(nc, v3CoverageEntry, "coverage") {
		f.coverage = make([]CoverageEntry, nc)
		for i := range f.coverage {
			c := &f.coverage[i]
			copy(c.LogID[:], r.take(32, "coverage entry"))
			c.Low = r.le64("coverage entry")
			c.High = r.le64("coverage entry")
		}
	}

	ni := r.le64("issuer count")
	if r.fits(ni, v3IssuerEntry, "issuer") {
		f.issKey = make([][4]uint64, ni)
		f.blocks = make([]block, ni)
		for i := range f.blocks {
			if kl := r.le64("issuer key length"); kl != 32 && r.err == nil {
				r.fail("issuer key is not a 32-byte spki hash")
			}
			if p := r.take(32, "issuer entry"); p != nil {
				f.issKey[i] = issuerKey((*[32]byte)(p))
			}
			b := &f.blocks[i]
			b.approxM = r.le64("issuer block")
			b.exactM = r.le64("issuer block")
			rank := r.le64("issuer block")
			if rank > 255 && r.err == nil {
				r.fail("issuer approx_filter_rank too large")
			}
			b.rank = uint8(rank)
			b.approxOffset = r.le64("issuer block")
			b.exactOffset = r.le64("issuer block")
			switch r.u8("issuer block") {
			case 0:
			case 1:
				b.inverted = true
			default:
				r.fail("issuer block inverted flag is not 0 or 1")
			}
			ne := r.le64("exception count")
			if !r.fits(ne, 8, "exception") {
				break
			}
			if ne > 1<<32-1 {
				r.fail("too many exceptions")
				break
			}
			b.nexc = uint32(ne)
			start := r.b
			for range ne {
				r.take(r.le64("exception"), "exception")
			}
			if r.err != nil {
				break
			}
			b.exc = start[:len(start)-len(r.b)]
		}
	}

	na := r.le64("approximate filter column count")
	if na > 255 && r.err == nil {
		r.fail("approximate filter has too many columns")
	}
	if r.fits(na, 8, "approximate filter column") {
		f.approx = make([]column, na)
		for i := range f.approx {
			f.approx[i] = r.v3column("approximate filter column")
		}
	}
	f.exact = r.v3column("exact filter")
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes after the exact filter")
	}
	if r.err != nil {
		return nil, r.err
	}
	if err := f.checkIndex(); err != nil {
		return nil, err
	}
	return f, nil
}

// v3column reads a bincode Vec<u64>.
func (r *reader) v3column(what string) column {
	n := r.le64(what + " word count")
	if !r.fits(n, 8, what+" word") {
		return column{}
	}
	return column{b: r.take(8*n, what), n: n}
}
