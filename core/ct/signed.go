package ct

import (
	"bytes"
	"errors"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Extension OIDs (content bytes) removed from a certificate's TBS to get
// its precertificate's (RFC 6962 §3.2, §3.1).
var (
	oidSCTList = []byte{0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02} // 1.3.6.1.4.1.11129.2.4.2
	oidPoison  = []byte{0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03} // 1.3.6.1.4.1.11129.2.4.3
)

var errTBS = errors.New("ct: malformed tbsCertificate")

// maxTBS is what the signed data's tbs_certificate<1..2^24-1> can hold.
const maxTBS = 1<<24 - 1

// PrecertTBS returns the TBSCertificate a log signed for the certificate
// whose TBS (the whole element) is given: the same fields, in the same
// encoding, without the embedded SCT list extension (and without the
// poison extension, were it present), the extensions SEQUENCE and the
// outer SEQUENCE re-encoded with their new lengths. An extensions field
// left empty is dropped (RFC 5280 allows no empty one).
func PrecertTBS(tbs []byte) ([]byte, error) {
	in := cryptobyte.String(tbs)
	var body cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errTBS
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(out *cryptobyte.Builder) {
		for !body.Empty() {
			var elem cryptobyte.String
			var tag cbasn1.Tag
			if !body.ReadAnyASN1Element(&elem, &tag) {
				out.SetError(errTBS)
				return
			}
			if tag != cbasn1.Tag(3).ContextSpecific().Constructed() {
				out.AddBytes(elem)
				continue
			}
			if !body.Empty() {
				out.SetError(errTBS) // extensions are the last field
				return
			}
			var inner, exts cryptobyte.String
			if !elem.ReadAnyASN1(&inner, &tag) || !inner.ReadASN1(&exts, cbasn1.SEQUENCE) || !inner.Empty() {
				out.SetError(errTBS)
				return
			}
			var kept [][]byte
			for !exts.Empty() {
				var ext, e, oid cryptobyte.String
				if !exts.ReadASN1Element(&ext, cbasn1.SEQUENCE) {
					out.SetError(errTBS)
					return
				}
				whole := ext
				if !whole.ReadASN1(&e, cbasn1.SEQUENCE) || !e.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) {
					out.SetError(errTBS)
					return
				}
				if bytes.Equal(oid, oidSCTList) || bytes.Equal(oid, oidPoison) {
					continue
				}
				kept = append(kept, ext)
			}
			if len(kept) == 0 {
				continue
			}
			out.AddASN1(cbasn1.Tag(3).ContextSpecific().Constructed(), func(t *cryptobyte.Builder) {
				t.AddASN1(cbasn1.SEQUENCE, func(s *cryptobyte.Builder) {
					for _, k := range kept {
						s.AddBytes(k)
					}
				})
			})
		}
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, errTBS
	}
	if len(out) > maxTBS {
		return nil, errTBS
	}
	return out, nil
}

// SignedData is the digitally-signed struct of RFC 6962 §3.2 for a
// precertificate entry: sct_version, signature_type certificate_timestamp,
// timestamp, entry_type precert_entry, the PreCert (issuer_key_hash,
// tbs_certificate<1..2^24-1>) and the SCT's extensions<0..2^16-1>.
func SignedData(s *SCT, issuerKeyHash *[32]byte, precertTBS []byte) []byte {
	out := make([]byte, 0, 1+1+8+2+32+3+len(precertTBS)+2+len(s.Extensions))
	out = append(out, s.Version, 0) // v1, certificate_timestamp
	for i := 56; i >= 0; i -= 8 {
		out = append(out, byte(s.Timestamp>>i))
	}
	out = append(out, 0, 1) // precert_entry
	out = append(out, issuerKeyHash[:]...)
	n := len(precertTBS)
	out = append(out, byte(n>>16), byte(n>>8), byte(n))
	out = append(out, precertTBS...)
	e := len(s.Extensions)
	out = append(out, byte(e>>8), byte(e))
	return append(out, s.Extensions...)
}
