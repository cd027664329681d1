// Package certinput extracts the revocation inputs of the C2SP
// upki-revocation procedure from DER certificates: the issuer's SPKI hash,
// the serial (DER INTEGER content bytes, leading 0x00 kept) and the embedded
// SCTs. It walks the DER; it never parses a certificate fully.
package certinput

// SCT is one embedded Signed Certificate Timestamp, reduced to what a
// revocation check needs.
type SCT struct {
	LogID     [32]byte // SHA-256 of the log's public key (RFC 6962 §3.2)
	Timestamp uint64   // milliseconds since the Unix epoch
}

// Input is what a revocation check consumes.
type Input struct {
	IssuerSPKIHash [32]byte // SHA-256 of the issuer's DER SubjectPublicKeyInfo
	Serial         []byte   // DER INTEGER content bytes; may alias the certificate DER
	SCTs           []SCT    // Extract appends into SCTs[:0], reusing capacity
}
