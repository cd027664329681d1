package crlcompile

import (
	"errors"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// The TBSCertList is walked with cryptobyte (strict DER: definite, minimal
// lengths) for the raw serial bytes: crypto/x509 returns them as big.Int,
// which loses the leading 0x00 that the lookup key keeps.

var errDER = errors.New("crlcompile: malformed crl")

// revokedSerials calls fn with the content bytes of every revoked entry's
// serial in a DER TBSCertList (RFC 5280 §5.1.2). The slices alias tbs.
func revokedSerials(tbs []byte, fn func(serial []byte) error) error {
	in := cryptobyte.String(tbs)
	var body cryptobyte.String
	if !in.ReadASN1(&body, asn1.SEQUENCE) {
		return errDER
	}
	if body.PeekASN1Tag(asn1.INTEGER) && !body.SkipASN1(asn1.INTEGER) { // version
		return errDER
	}
	for i := 0; i < 3; i++ { // signature, issuer, thisUpdate
		if !skipAny(&body) {
			return errDER
		}
	}
	if body.PeekASN1Tag(asn1.UTCTime) || body.PeekASN1Tag(asn1.GeneralizedTime) { // nextUpdate
		if !skipAny(&body) {
			return errDER
		}
	}
	if !body.PeekASN1Tag(asn1.SEQUENCE) {
		return nil // no revokedCertificates
	}
	var list cryptobyte.String
	if !body.ReadASN1(&list, asn1.SEQUENCE) {
		return errDER
	}
	for !list.Empty() {
		var entry, serial cryptobyte.String
		if !list.ReadASN1(&entry, asn1.SEQUENCE) || !entry.ReadASN1(&serial, asn1.INTEGER) || len(serial) == 0 {
			return errDER
		}
		if err := fn(serial); err != nil {
			return err
		}
	}
	return nil
}

// skipAny skips one element, whatever its tag.
func skipAny(s *cryptobyte.String) bool {
	var v cryptobyte.String
	var tag asn1.Tag
	return s.ReadAnyASN1(&v, &tag)
}
