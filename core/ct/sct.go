// Package ct checks a certificate's embedded Signed Certificate Timestamps
// (RFC 6962) against a CT log list (core/ctlog) and Mozilla's CT policy:
// every SCT is parsed whole (ParseList), the signed data of a precertificate
// entry is rebuilt from the certificate (PrecertTBS, signedData), the
// signature checked with the log's key, the log's state at the SCT's time
// honoured (Verify), and the valid SCTs judged by certificate lifetime and
// distinct operators (Judge). A Memo keeps verdicts per leaf, so a process
// or a daemon generation verifies a certificate once.
//
// Only embedded SCTs: SCTs from the TLS extension or a stapled OCSP
// response never reach revocheck (the adapters see certificates, not the
// handshake), and certificates without embedded SCTs are judged on theirs.
//
// Written on the standard library's crypto rather than
// google/certificate-transparency-go: that module adds 7.2 MB to the shared
// library every TLS program loads, 1.6 MB of RSS and ~3 ms of load time
// (docs/BENCHMARKS.md, "CT verification"), for ~300 lines of code here.
package ct

import (
	"errors"

	"golang.org/x/crypto/cryptobyte"
)

// Bounds: a certificate's SCT list has a handful of entries; a signature is
// at most an RSA-4096 one (512 bytes) or a DER ECDSA one (~72 bytes).
const (
	MaxSCTs       = 64
	maxSignature  = 1024
	maxExtensions = 1024
)

// Hash and signature algorithm codes of RFC 5246 §7.4.1.4.1, the only
// ones RFC 6962 §2.1.4 allows.
const (
	HashSHA256 = 4
	SigRSA     = 1
	SigECDSA   = 3
)

// SCT is one SignedCertificateTimestamp (RFC 6962 §3.2), its byte fields
// sub-slices of the list it was parsed from.
type SCT struct {
	Version    uint8 // 0 = v1, the only version defined; others are kept, never valid
	LogID      [32]byte
	Timestamp  uint64 // ms since the epoch
	Extensions []byte
	HashAlg    uint8
	SigAlg     uint8
	Signature  []byte
}

var (
	errExt  = errors.New("ct: the SCT list extension is not an OCTET STRING")
	errList = errors.New("ct: malformed SignedCertificateTimestampList")
	errSCT  = errors.New("ct: malformed v1 SCT")
	errMany = errors.New("ct: more SCTs than a certificate carries")
)

// ParseList decodes the embedded SCT list extension's value (the OCTET
// STRING element, as certinput.Cert.SCTList holds it) into SCTs. An SCT of
// an unknown version is kept with only Version set (RFC 6962 says to ignore
// it; Verify reports it); a v1 SCT must be well formed to its last byte and
// the list framing must account for every byte.
func ParseList(ext []byte) ([]SCT, error) {
	in := cryptobyte.String(ext)
	var octets, list cryptobyte.String
	if !in.ReadASN1(&octets, 0x04) || !in.Empty() {
		return nil, errExt
	}
	if !octets.ReadUint16LengthPrefixed(&list) || !octets.Empty() {
		return nil, errList
	}
	var out []SCT
	for !list.Empty() {
		var raw cryptobyte.String
		if !list.ReadUint16LengthPrefixed(&raw) || raw.Empty() {
			return nil, errList
		}
		if len(out) == MaxSCTs {
			return nil, errMany
		}
		var s SCT
		raw.ReadUint8(&s.Version)
		if s.Version != 0 {
			out = append(out, s)
			continue
		}
		var id, exts, sig cryptobyte.String
		if !raw.ReadBytes((*[]byte)(&id), 32) || !raw.ReadUint64(&s.Timestamp) ||
			!raw.ReadUint16LengthPrefixed(&exts) || !raw.ReadUint8(&s.HashAlg) || !raw.ReadUint8(&s.SigAlg) ||
			!raw.ReadUint16LengthPrefixed(&sig) || !raw.Empty() {
			return nil, errSCT
		}
		if len(exts) > maxExtensions || len(sig) == 0 || len(sig) > maxSignature {
			return nil, errSCT
		}
		copy(s.LogID[:], id)
		s.Extensions, s.Signature = exts, sig
		out = append(out, s)
	}
	return out, nil
}
