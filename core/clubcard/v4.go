package clubcard

import "encoding/binary"

// reader is a cursor over the file; every read checks the remaining length
// first, so a lying count can never index or allocate past the data.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(msg string) {
	if r.err == nil {
		r.err = malformed(msg)
	}
	r.b = nil
}

func (r *reader) take(n uint64, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("truncated " + what)
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u8(what string) uint8 {
	if p := r.take(1, what); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) u16(what string) uint16 {
	if p := r.take(2, what); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (r *reader) u32(what string) uint32 {
	if p := r.take(4, what); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (r *reader) u64(what string) uint64 {
	if p := r.take(8, what); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// count reads nothing; it checks that n items of at least min bytes each
// can still fit, so make() is bounded by the input size.
func (r *reader) fits(n, min uint64, what string) bool {
	if r.err != nil {
		return false
	}
	if n > uint64(len(r.b))/min {
		r.fail(what + " count exceeds the file size")
		return false
	}
	return true
}

// Sizes of the fixed v4 structures (spec "Filter file format").
const (
	v4CoverageEntry = 32 + 8 + 8
	v4IssuerEntry   = 32 + 4 + 1 + 4 + 4 + 4 + 1 + 2 // with no exceptions
)

// parseV4 reads a FilterFile; data starts with its version and reserved0
// bytes.
func parseV4(data []byte) (*Filter, error) {
	r := &reader{b: data[2:]}
	f := &Filter{version: 4, data: data}

	// CRLiteCoverage: uint16 count, 48-byte entries.
	nc := uint64(r.u16("coverage count"))
	if r.fits(nc, v4CoverageEntry, "coverage") {
		f.coverage = make([]CoverageEntry, nc)
		for i := range f.coverage {
			c := &f.coverage[i]
			copy(c.LogID[:], r.take(32, "coverage entry"))
			c.Low = r.u64("coverage entry")
			c.High = r.u64("coverage entry")
		}
	}

	// ClubcardIndex: uint32 count, IssuerEntry each. Only each entry's
	// offset is kept: a Block is decoded from the file when a check needs
	// it, so a process pays 4 bytes of heap per issuer, not a copy of
	// the index.
	ni := uint64(r.u32("issuer count"))
	if r.fits(ni, v4IssuerEntry, "issuer") {
		f.ent = make([]uint32, ni)
		d := f.data
		o := uint64(f.offset(r))
		var rank uint8
		var prev uint64 // the last issuer's first 8 bytes (see Filter.ascending)
		asc := true
		for i := range f.ent {
			f.ent[i] = uint32(o)
			if o+8 <= uint64(len(d)) {
				k := binary.BigEndian.Uint64(d[o : o+8])
				asc = asc && (i == 0 || k > prev)
				prev = k
			}
			// Most entries have no exceptions: check those in one slice,
			// with the cursor in a register (this loop is most of a
			// cache's open).
			if o+v4IssuerEntry <= uint64(len(d)) {
				if p := d[o : o+v4IssuerEntry]; p[49] <= 1 && p[50]|p[51] == 0 {
					rank = max(rank, p[36])
					o += v4IssuerEntry
					continue
				}
			}
			r.b = d[o:]
			r.take(32, "issuer entry")
			r.u32("issuer block") // approx_m
			f.noteRank(r.u8("issuer block"))
			r.take(12, "issuer block") // approx_offset, exact_m, exact_offset
			if inv := r.u8("issuer block"); inv > 1 {
				r.fail("issuer block inverted flag is not 0 or 1")
			}
			for range r.u16("exception count") {
				n := r.u8("exception")
				if n == 0 && r.err == nil {
					r.fail("empty exception serial")
				}
				r.take(uint64(n), "exception")
			}
			if r.err != nil {
				break
			}
			o = uint64(f.offset(r))
		}
		if r.err == nil {
			r.b = d[o:]
		}
		f.noteRank(rank)
		f.ascending = asc
	}

	// ApproximateFilter: uint8 count, BitColumns.
	na := uint64(r.u8("approximate filter column count"))
	if r.fits(na, 4, "approximate filter column") {
		f.approx = make([]column, na)
		for i := range f.approx {
			f.approx[i] = r.column("approximate filter column")
		}
	}
	f.exact = r.column("exact filter")
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

// column reads a BitColumn: uint32 word_count, big-endian words.
func (r *reader) column(what string) column {
	n := uint64(r.u32(what + " word count"))
	return column{b: r.take(8*n, what), n: n}
}
