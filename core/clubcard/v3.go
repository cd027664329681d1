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

// parseV3 reads a v3 filter; data starts with its version bytes.
func parseV3(data []byte) (*Filter, error) {
	r := &reader{b: data[2:]}
	f := &Filter{version: 3, le: true, data: data}

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
		f.ent = make([]uint32, ni)
		d := f.data
		o := uint64(f.offset(r))
		var prev uint64 // the last issuer's first 8 bytes (see Filter.ascending)
		asc := true
		for i := range f.ent {
			// The common case in one slice, the cursor in a register.
			if o+v3IssuerEntry <= uint64(len(d)) {
				if p := d[o : o+v3IssuerEntry]; binary.LittleEndian.Uint64(p) == 32 && f.v3Plain(p[8:]) {
					f.ent[i] = uint32(o + 8)
					k := binary.BigEndian.Uint64(p[8:16])
					asc = asc && (i == 0 || k > prev)
					prev = k
					o += v3IssuerEntry
					continue
				}
			}
			asc = false // the full check in checkIndex decides
			r.b = d[o:]
			if kl := r.le64("issuer key length"); kl != 32 && r.err == nil {
				r.fail("issuer key is not a 32-byte spki hash")
			}
			f.ent[i] = f.offset(r)
			r.take(32, "issuer entry")
			// approx_m, exact_m, rank, approx_offset, exact_offset: usize
			// in the crate, u32 in v4; a value v4 could not carry is not
			// one a real filter has, and Block keeps them as uint32.
			for k := range 5 {
				v := r.le64("issuer block")
				switch {
				case k == 2:
					if v > 255 && r.err == nil {
						r.fail("issuer approx_filter_rank too large")
					}
					f.noteRank(uint8(v))
				case v > 1<<32-1 && r.err == nil:
					r.fail("issuer block field exceeds 32 bits")
				}
			}
			if inv := r.u8("issuer block"); inv > 1 {
				r.fail("issuer block inverted flag is not 0 or 1")
			}
			ne := r.le64("exception count")
			if !r.fits(ne, 8, "exception") {
				break
			}
			for range ne {
				r.take(r.le64("exception"), "exception")
			}
			if r.err != nil {
				break
			}
			o = uint64(f.offset(r))
		}
		if r.err == nil {
			r.b = d[o:]
		}
		f.ascending = asc
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

// v3Plain checks, in one slice, an issuer entry after its key length with
// no exceptions and every field in range (the common case), and notes its
// rank; anything else takes the field-by-field path and its errors.
func (f *Filter) v3Plain(p []byte) bool {
	p = p[:v3IssuerEntry-8]
	le := binary.LittleEndian
	for k := range 5 {
		if v := le.Uint64(p[32+8*k:]); v > 1<<32-1 || (k == 2 && v > 255) {
			return false
		}
	}
	if p[72] > 1 || le.Uint64(p[73:]) != 0 {
		return false
	}
	f.noteRank(uint8(le.Uint64(p[48:])))
	return true
}

// v3column reads a bincode Vec<u64>.
func (r *reader) v3column(what string) column {
	n := r.le64(what + " word count")
	if !r.fits(n, 8, what+" word") {
		return column{}
	}
	return column{b: r.take(8*n, what), n: n}
}
