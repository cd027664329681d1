package cascade

import "encoding/binary"

// Stash is a parsed CRLite stash: a set of revoked (issuer, serial) pairs.
// It holds its own copies of the serials and is safe for concurrent reads.
type Stash struct {
	byIssuer map[[32]byte]map[string]struct{}
	serials  int
}

// ParseStash decodes a stash file (see the package documentation). Counts
// are checked against the bytes that remain before anything is allocated;
// an issuer length other than 32 (a SHA-256) is an error. Entries for the
// same issuer in several blocks are merged. Empty data is an empty stash.
func ParseStash(data []byte) (*Stash, error) {
	s := &Stash{byIssuer: make(map[[32]byte]map[string]struct{})}
	p := data
	for block := 1; len(p) > 0; block++ {
		if len(p) < 5 {
			return nil, errorf("stash: truncated header of block %d", block)
		}
		count := binary.LittleEndian.Uint32(p)
		issuerLen := int(p[4])
		p = p[5:]
		if issuerLen != 32 {
			return nil, errorf("stash: block %d has an issuer of %d bytes, want 32", block, issuerLen)
		}
		if len(p) < issuerLen {
			return nil, errorf("stash: truncated issuer in block %d", block)
		}
		var issuer [32]byte
		copy(issuer[:], p)
		p = p[issuerLen:]
		// Each serial takes at least its length byte.
		if uint64(count) > uint64(len(p)) {
			return nil, errorf("stash: block %d claims %d serials in %d bytes", block, count, len(p))
		}
		set := s.byIssuer[issuer]
		if set == nil {
			set = make(map[string]struct{}, count)
			s.byIssuer[issuer] = set
		}
		for i := range count {
			if len(p) < 1 {
				return nil, errorf("stash: truncated serial %d of block %d", i, block)
			}
			n := int(p[0])
			if len(p)-1 < n {
				return nil, errorf("stash: truncated serial %d of block %d", i, block)
			}
			serial := string(p[1 : 1+n])
			p = p[1+n:]
			if _, dup := set[serial]; !dup {
				set[serial] = struct{}{}
				s.serials++
			}
		}
	}
	return s, nil
}

// Has reports whether the stash lists (issuer, serial) as revoked. serial is
// the DER INTEGER content bytes. It does not allocate.
func (s *Stash) Has(issuer [32]byte, serial []byte) bool {
	set := s.byIssuer[issuer]
	if set == nil {
		return false
	}
	_, ok := set[string(serial)]
	return ok
}

// Len is the number of distinct (issuer, serial) pairs.
func (s *Stash) Len() int { return s.serials }

// Issuers is the number of distinct issuers.
func (s *Stash) Issuers() int { return len(s.byIssuer) }
