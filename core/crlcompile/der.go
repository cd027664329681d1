package crlcompile

import "errors"

// A minimal strict DER cursor, enough to walk a TBSCertList for the raw
// serial bytes (crypto/x509 returns them as big.Int, which loses the leading
// 0x00 that the lookup key keeps).

var errDER = errors.New("crlcompile: malformed crl")

// readTLV reads one element with a single-byte tag from d and returns its
// tag, content and the rest. Definite lengths only, at most 4 length bytes.
func readTLV(d []byte) (tag byte, content, rest []byte, err error) {
	if len(d) < 2 {
		return 0, nil, nil, errDER
	}
	tag = d[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, errDER // high tag numbers do not occur in a CRL
	}
	l, hdr := int(d[1]), 2
	if l >= 0x80 {
		n := l & 0x7f
		if n == 0 || n > 4 || len(d) < 2+n {
			return 0, nil, nil, errDER
		}
		l = 0
		for _, b := range d[2 : 2+n] {
			l = l<<8 | int(b)
		}
		hdr += n
		if l < 0x80 {
			return 0, nil, nil, errDER // non-minimal length
		}
	}
	if l > len(d)-hdr {
		return 0, nil, nil, errDER
	}
	return tag, d[hdr : hdr+l], d[hdr+l:], nil
}

const (
	tagInteger         = 0x02
	tagSequence        = 0x30
	tagUTCTime         = 0x17
	tagGeneralizedTime = 0x18
)

// revokedSerials calls fn with the content bytes of every revoked entry's
// serial in a DER TBSCertList (RFC 5280 §5.1.2). The slices alias tbs.
func revokedSerials(tbs []byte, fn func(serial []byte) error) error {
	tag, body, _, err := readTLV(tbs)
	if err != nil || tag != tagSequence {
		return errDER
	}
	next := func() (byte, []byte, error) {
		t, c, r, err := readTLV(body)
		if err != nil {
			return 0, nil, err
		}
		body = r
		return t, c, nil
	}
	if len(body) > 0 && body[0] == tagInteger { // version
		if _, _, err := next(); err != nil {
			return err
		}
	}
	for i := 0; i < 3; i++ { // signature, issuer, thisUpdate
		if _, _, err := next(); err != nil {
			return err
		}
	}
	if len(body) > 0 && (body[0] == tagUTCTime || body[0] == tagGeneralizedTime) {
		if _, _, err := next(); err != nil {
			return err
		}
	}
	if len(body) == 0 || body[0] != tagSequence {
		return nil // no revokedCertificates
	}
	_, list, err := next()
	if err != nil {
		return err
	}
	for len(list) > 0 {
		t, entry, r, err := readTLV(list)
		if err != nil || t != tagSequence {
			return errDER
		}
		list = r
		t, serial, _, err := readTLV(entry)
		if err != nil || t != tagInteger || len(serial) == 0 {
			return errDER
		}
		if err := fn(serial); err != nil {
			return err
		}
	}
	return nil
}
