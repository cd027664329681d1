package crlset

// NormalizeSerial returns the DER INTEGER content bytes of a serial given
// either as content bytes or as a complete DER INTEGER (tag 0x02, a minimal
// definite length, then exactly that many content bytes), as NSS sends both.
// isDER reports that the input parsed as a complete INTEGER. The result
// aliases the input.
//
// The two forms are ambiguous: content bytes may happen to start with 0x02
// and a length byte that matches (probability about 2⁻¹⁶ for random
// serials). Callers that must not miss a revocation look up both the input
// and the returned content when isDER is true; see LookupNameEither.
func NormalizeSerial(serial []byte) (content []byte, isDER bool) {
	if len(serial) < 3 || serial[0] != 0x02 {
		return serial, false
	}
	n, hdr := 0, 2
	switch l := serial[1]; {
	case l < 0x80:
		n = int(l)
	case l == 0x81 && len(serial) >= 3 && serial[2] >= 0x80:
		n, hdr = int(serial[2]), 3
	default: // longer forms do not occur for serials (≤ 20 octets, RFC 5280 §4.1.2.2)
		return serial, false
	}
	if n == 0 || hdr+n != len(serial) {
		return serial, false
	}
	return serial[hdr:], true
}

// LookupNameEither is LookupName for a serial in either encoding: the input
// as content bytes and, when it also parses as a complete DER INTEGER, its
// content. Revoked when either form is listed.
func (s *Set) LookupNameEither(issuerName, serial []byte) (covered, revoked bool) {
	covered, revoked = s.LookupName(issuerName, serial)
	if !covered || revoked {
		return covered, revoked
	}
	if c, ok := NormalizeSerial(serial); ok {
		_, revoked = s.LookupName(issuerName, c)
	}
	return covered, revoked
}
