package certinput

// A small DER reader in the style of golang.org/x/crypto/cryptobyte, on the
// standard library only. Every value it returns is a sub-slice of the input:
// nothing is copied and nothing is allocated. Every read reports success as
// a bool and leaves the cursor unchanged on failure.

// ASN.1 identifier octets used by certificates (X.690 §8.1.2).
const (
	tagBoolean     = 0x01
	tagInteger     = 0x02
	tagBitString   = 0x03
	tagOctetString = 0x04
	tagOID         = 0x06
	tagUTCTime     = 0x17
	tagGenTime     = 0x18
	tagSequence    = 0x30 // constructed
	tagVersion     = 0xa0 // [0] EXPLICIT, constructed
	tagIssuerUID   = 0x81 // [1] IMPLICIT, primitive
	tagSubjectUID  = 0x82 // [2] IMPLICIT, primitive
	tagExtensions  = 0xa3 // [3] EXPLICIT, constructed
)

// cursor is the unread part of a DER encoding.
type cursor []byte

// empty reports whether every byte has been consumed.
func (s *cursor) empty() bool { return len(*s) == 0 }

// read advances over n bytes and returns them.
func (s *cursor) read(n int) ([]byte, bool) {
	if n < 0 || len(*s) < n {
		return nil, false
	}
	v := (*s)[:n:n]
	*s = (*s)[n:]
	return v, true
}

// readBytes reads n bytes into out.
func (s *cursor) readBytes(out *[]byte, n int) bool {
	v, ok := s.read(n)
	if ok {
		*out = v
	}
	return ok
}

// readU8 reads one byte.
func (s *cursor) readU8(out *uint8) bool {
	v, ok := s.read(1)
	if !ok {
		return false
	}
	*out = v[0]
	return true
}

// readU16 reads a big-endian (TLS network order) uint16.
func (s *cursor) readU16(out *uint16) bool {
	v, ok := s.read(2)
	if !ok {
		return false
	}
	*out = uint16(v[0])<<8 | uint16(v[1])
	return true
}

// readU64 reads a big-endian uint64.
func (s *cursor) readU64(out *uint64) bool {
	v, ok := s.read(8)
	if !ok {
		return false
	}
	var x uint64
	for _, b := range v {
		x = x<<8 | uint64(b)
	}
	*out = x
	return true
}

// readU16Prefixed reads a uint16 length and that many bytes (TLS opaque<..2^16-1>).
func (s *cursor) readU16Prefixed(out *cursor) bool {
	save := *s
	var n uint16
	if !s.readU16(&n) {
		return false
	}
	v, ok := s.read(int(n))
	if !ok {
		*s = save
		return false
	}
	*out = v
	return true
}

// readElement reads one DER TLV. It returns the identifier octet, the whole
// element (header included) and its contents. It enforces DER's rules on the
// header: low tag numbers only (X.690 §8.1.2.4 is not needed by X.509),
// definite lengths only (§10.1), and minimal length encodings (§10.1, §8.1.3.5).
func (s *cursor) readElement(tag *byte, full, body *[]byte) bool {
	in := *s
	if len(in) < 2 {
		return false
	}
	t := in[0]
	if t&0x1f == 0x1f {
		return false // high tag number form
	}
	lenByte := in[1]
	var length, header int
	switch {
	case lenByte < 0x80:
		length, header = int(lenByte), 2
	case lenByte == 0x80:
		return false // indefinite length: BER, not DER
	default:
		n := int(lenByte & 0x7f)
		// Four length octets describe up to 4 GiB, far beyond any
		// certificate; more would overflow int on 32-bit platforms.
		if n > 4 || len(in) < 2+n {
			return false
		}
		var l uint64
		for _, b := range in[2 : 2+n] {
			l = l<<8 | uint64(b)
		}
		if in[2] == 0 {
			return false // leading zero length octet: not minimal
		}
		if l < 0x80 {
			return false // should have used the short form
		}
		if l > uint64(len(in)-2-n) {
			return false // longer than the data left
		}
		length, header = int(l), 2+n
	}
	if length > len(in)-header {
		return false
	}
	end := header + length
	*tag = t
	*full = in[:end:end]
	*body = in[header:end:end]
	*s = in[end:]
	return true
}

// readTag reads one element that must carry identifier octet want and
// returns its contents.
func (s *cursor) readTag(want byte, body *[]byte) bool {
	var full []byte
	return s.readTagFull(want, &full, body)
}

// readTagFull is readTag that also returns the whole element.
func (s *cursor) readTagFull(want byte, full, body *[]byte) bool {
	save := *s
	var t byte
	if !s.readElement(&t, full, body) {
		return false
	}
	if t != want {
		*s = save
		return false
	}
	return true
}

// peekTag reports whether the next element starts with identifier octet t.
func (s *cursor) peekTag(t byte) bool {
	return len(*s) > 0 && (*s)[0] == t
}

// readOptional reads an element with identifier octet t if it comes next.
// It returns false only for a malformed element; present says whether it
// was there.
func (s *cursor) readOptional(t byte, body *[]byte, present *bool) bool {
	if !s.peekTag(t) {
		*present = false
		return true
	}
	*present = true
	return s.readTag(t, body)
}
