package intermediates

import (
	"bytes"
	"errors"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/revocheck/revocheck/core/certinput"
)

// OID contents of the extensions read here (RFC 5280 §4.2.1).
var (
	oidSKI   = []byte{0x55, 0x1d, 0x0e} // 2.5.29.14 subjectKeyIdentifier
	oidAKI   = []byte{0x55, 0x1d, 0x23} // 2.5.29.35 authorityKeyIdentifier
	oidBasic = []byte{0x55, 0x1d, 0x13} // 2.5.29.19 basicConstraints
)

var errExtension = errors.New("intermediates: malformed extension")

// certKeys is what the index needs of a certificate: sub-slices of its DER.
type certKeys struct {
	issuer, subject []byte // Name elements, tag included
	ski             []byte // subjectKeyIdentifier; nil when absent
	aki             []byte // authorityKeyIdentifier keyIdentifier; nil when absent
	ca              bool   // basicConstraints cA = TRUE
}

// parseKeys walks der (certinput.ParseCert: bounds-checked, no allocation)
// and its extensions.
func parseKeys(der []byte, k *certKeys) error {
	var c certinput.Cert
	if err := certinput.ParseCert(der, &c); err != nil {
		return err
	}
	*k = certKeys{issuer: c.Issuer, subject: c.Subject}
	exts := cryptobyte.String(c.Extensions)
	for !exts.Empty() {
		var ext, oid, value cryptobyte.String
		if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) ||
			!ext.SkipOptionalASN1(cbasn1.BOOLEAN) || !ext.ReadASN1(&value, cbasn1.OCTET_STRING) {
			return errExtension
		}
		switch {
		case bytes.Equal(oid, oidSKI):
			var id cryptobyte.String
			if !value.ReadASN1(&id, cbasn1.OCTET_STRING) || len(id) == 0 {
				return errExtension
			}
			k.ski = id
		case bytes.Equal(oid, oidAKI):
			var seq, id cryptobyte.String
			var present bool
			if !value.ReadASN1(&seq, cbasn1.SEQUENCE) ||
				!seq.ReadOptionalASN1(&id, &present, cbasn1.Tag(0).ContextSpecific()) {
				return errExtension
			}
			if present && len(id) > 0 {
				k.aki = id
			}
		case bytes.Equal(oid, oidBasic):
			var seq cryptobyte.String
			if !value.ReadASN1(&seq, cbasn1.SEQUENCE) {
				return errExtension
			}
			if seq.PeekASN1Tag(cbasn1.BOOLEAN) {
				var b cryptobyte.String
				if !seq.ReadASN1(&b, cbasn1.BOOLEAN) || len(b) != 1 {
					return errExtension
				}
				k.ca = b[0] != 0
			}
		}
	}
	return nil
}
