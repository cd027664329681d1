package certinput

var (
	errSCTExt  = &Error{msg: "malformed SCT list extension"}
	errSCTList = &Error{msg: "malformed SCT list"}
	errSCT     = &Error{msg: "malformed v1 SCT"}
)

// sctV1 is the only version RFC 6962 defines (Version enum v1(0)).
const sctV1 = 0

// ParseSCTList decodes the value of the embedded SCT list extension
// (1.3.6.1.4.1.11129.2.4.2, RFC 6962 §3.3): a DER OCTET STRING wrapping a TLS
// SignedCertificateTimestampList, i.e. a u16 list length and then, per SCT, a
// u16 length and a SignedCertificateTimestamp (u8 version, 32-byte log id,
// u64 timestamp, u16-prefixed extensions, digitally-signed signature). It
// appends one SCT per v1 entry to dst and returns the extended slice; it
// allocates only when dst lacks capacity.
//
// An SCT whose version is not v1 is skipped, not an error: its length prefix
// still frames it, RFC 6962 §3.2 tells clients to ignore versions they do not
// understand, and a future SCT version beside v1 ones must not make the whole
// certificate unreadable. A v1 SCT must be well-formed to the last byte, and
// the list framing must account for every byte. An empty list yields no
// SCTs (the certificate is then simply not covered).
//
// On error the returned slice is dst unchanged.
func ParseSCTList(ext []byte, dst []SCT) ([]SCT, error) {
	start := len(dst)
	n, err := fillSCTList(ext, dst[start:cap(dst)])
	if err != nil {
		return dst[:start], err
	}
	if start+n > cap(dst) {
		grown := make([]SCT, start+n)
		copy(grown, dst[:start])
		fillSCTList(ext, grown[start:])
		return grown, nil
	}
	return dst[:start+n], nil
}

// fillSCTList decodes the v1 SCTs of ext into dst, as many as fit, and
// returns how many there are. Writing by index instead of appending lets
// Extract keep its caller's stack buffer: a slice that append may have
// reallocated, stored back through a pointer, would force it to the heap.
func fillSCTList(ext []byte, dst []SCT) (int, error) {
	in := cursor(ext)
	var octets []byte
	if !in.readTag(tagOctetString, &octets) || !in.empty() {
		return 0, errSCTExt
	}
	outer := cursor(octets)
	var list cursor
	if !outer.readU16Prefixed(&list) || !outer.empty() {
		return 0, errSCTList
	}
	n := 0
	for !list.empty() {
		var raw cursor
		if !list.readU16Prefixed(&raw) || raw.empty() {
			return 0, errSCTList
		}
		var version uint8
		raw.readU8(&version) // cannot fail: raw is non-empty
		if version != sctV1 {
			continue
		}
		var sct SCT
		var logID []byte
		var exts, sig cursor
		var hashAlg, sigAlg uint8
		ok := raw.readBytes(&logID, 32) &&
			raw.readU64(&sct.Timestamp) &&
			raw.readU16Prefixed(&exts) &&
			raw.readU8(&hashAlg) && raw.readU8(&sigAlg) &&
			raw.readU16Prefixed(&sig) &&
			raw.empty()
		if !ok {
			return 0, errSCT
		}
		copy(sct.LogID[:], logID)
		if n < len(dst) {
			dst[n] = sct
		}
		n++
	}
	return n, nil
}
