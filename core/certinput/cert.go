package certinput

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Error is the type of every error this package returns, so callers can tell
// "this certificate is malformed" from other failures with errors.As.
type Error struct{ msg string }

func (e *Error) Error() string { return "certinput: " + e.msg }

func errorf(format string, args ...any) error {
	return &Error{msg: fmt.Sprintf(format, args...)}
}

// Preallocated so the success and common failure paths never allocate.
var (
	errCert       = &Error{msg: "malformed certificate"}
	errTBS        = &Error{msg: "malformed tbsCertificate"}
	errVersion    = &Error{msg: "malformed version"}
	errSerial     = &Error{msg: "malformed serial number"}
	errSigAlg     = &Error{msg: "malformed signature algorithm"}
	errIssuer     = &Error{msg: "malformed issuer name"}
	errValidity   = &Error{msg: "malformed validity"}
	errSubject    = &Error{msg: "malformed subject name"}
	errSPKI       = &Error{msg: "malformed subjectPublicKeyInfo"}
	errUID        = &Error{msg: "malformed unique identifier"}
	errExtensions = &Error{msg: "malformed extensions"}
	errTrailing   = &Error{msg: "trailing data after certificate"}
	errTBSExtra   = &Error{msg: "unexpected data at end of tbsCertificate"}
	errDupSCT     = &Error{msg: "duplicate SCT list extension"}
)

// OID contents (without tag and length) of the extensions this package knows.
var (
	// 1.3.6.1.4.1.11129.2.4.2, RFC 6962 §3.3 embedded SCT list.
	oidSCTList = []byte{0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02}
)

// Cert holds the parts of a DER certificate that revocation checking needs.
// Every field is a sub-slice of Raw; nothing is copied.
type Cert struct {
	Raw        []byte // the whole Certificate
	TBS        []byte // the whole tbsCertificate element
	Serial     []byte // INTEGER content bytes, leading 0x00 kept
	Issuer     []byte // the issuer Name element (DER, tag included), as NSS's CKA_ISSUER
	Subject    []byte // the subject Name element (DER, tag included), as NSS's CKA_SUBJECT
	SPKI       []byte // the whole SubjectPublicKeyInfo element
	NotBefore  []byte // the notBefore Time element (UTCTime or GeneralizedTime)
	NotAfter   []byte // the notAfter Time element
	Extensions []byte // contents of the extensions SEQUENCE; nil for v1/v2 certificates
	SCTList    []byte // value of the embedded SCT extension (an OCTET STRING element); nil if absent
}

// ParseCert walks a DER X.509 certificate (RFC 5280 §4.1) far enough to fill
// c. It checks the DER framing of every element it passes and of the
// extensions, but not their meaning: it is not a certificate validator. It
// does not allocate. Trailing bytes after the certificate are rejected. On
// error *c is zeroed.
//
// The serial number is taken as the INTEGER's content bytes exactly as
// issued, without a minimality check: CRLs and CRLite key on those bytes, and
// refusing an oddly encoded serial would only hide the certificate from the
// check.
func ParseCert(der []byte, c *Cert) error {
	*c = Cert{}
	if err := parseCert(der, c); err != nil {
		*c = Cert{}
		return err
	}
	return nil
}

func parseCert(der []byte, c *Cert) error {
	in := cursor(der)
	var full, body []byte
	if !in.readTagFull(tagSequence, &full, &body) {
		return errCert
	}
	if !in.empty() {
		return errTrailing
	}
	c.Raw = full
	cert := cursor(body)
	var tbsBody, sigAlg, sigValue []byte
	if !cert.readTagFull(tagSequence, &c.TBS, &tbsBody) {
		return errTBS
	}
	if !cert.readTag(tagSequence, &sigAlg) || !cert.readTag(tagBitString, &sigValue) || !cert.empty() {
		return errCert
	}
	tbs := cursor(tbsBody)
	if err := parseTBSHead(&tbs, c); err != nil {
		return err
	}
	return parseTBSTail(&tbs, c)
}

// parseTBSHead reads tbsCertificate up to and including the
// subjectPublicKeyInfo.
func parseTBSHead(tbs *cursor, c *Cert) error {
	var body []byte
	var present bool
	if !tbs.readOptional(tagVersion, &body, &present) {
		return errVersion
	}
	if present {
		v := cursor(body)
		var ver []byte
		if !v.readTag(tagInteger, &ver) || !v.empty() || len(ver) != 1 || ver[0] > 2 {
			return errVersion
		}
	}
	if !tbs.readTag(tagInteger, &c.Serial) || len(c.Serial) == 0 {
		return errSerial
	}
	if !tbs.readTag(tagSequence, &body) {
		return errSigAlg
	}
	if !tbs.readTagFull(tagSequence, &c.Issuer, &body) {
		return errIssuer
	}
	var validity []byte
	if !tbs.readTag(tagSequence, &validity) {
		return errValidity
	}
	v := cursor(validity)
	if !readTime(&v, &c.NotBefore) || !readTime(&v, &c.NotAfter) || !v.empty() {
		return errValidity
	}
	if !tbs.readTagFull(tagSequence, &c.Subject, &body) {
		return errSubject
	}
	if !tbs.readTagFull(tagSequence, &c.SPKI, &body) {
		return errSPKI
	}
	return nil
}

// readTime reads a Time CHOICE (UTCTime or GeneralizedTime) element whole.
func readTime(s *cursor, out *[]byte) bool {
	var body []byte
	if s.peekTag(tagUTCTime) {
		return s.readTagFull(tagUTCTime, out, &body)
	}
	return s.readTagFull(tagGenTime, out, &body)
}

// parseTBSTail reads the optional unique identifiers and the extensions
// after the subjectPublicKeyInfo, and finds the SCT list.
func parseTBSTail(tbs *cursor, c *Cert) error {
	var body []byte
	var present bool
	if !tbs.readOptional(tagIssuerUID, &body, &present) || !tbs.readOptional(tagSubjectUID, &body, &present) {
		return errUID
	}
	if !tbs.readOptional(tagExtensions, &body, &present) {
		return errExtensions
	}
	if !tbs.empty() {
		return errTBSExtra
	}
	if !present {
		return nil
	}
	outer := cursor(body)
	var exts []byte
	if !outer.readTag(tagSequence, &exts) || !outer.empty() || len(exts) == 0 {
		return errExtensions // RFC 5280: SEQUENCE SIZE (1..MAX) OF Extension
	}
	c.Extensions = exts
	it := cursor(exts)
	for !it.empty() {
		var oid, value []byte
		if !readExtension(&it, &oid, &value) {
			return errExtensions
		}
		if bytes.Equal(oid, oidSCTList) {
			if c.SCTList != nil {
				return errDupSCT
			}
			c.SCTList = value
		}
	}
	return nil
}

// readExtension reads one Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER,
// critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }; critical is
// checked for its encoding, not returned (nothing here depends on it).
func readExtension(s *cursor, oid *[]byte, value *[]byte) bool {
	var body []byte
	if !s.readTag(tagSequence, &body) {
		return false
	}
	e := cursor(body)
	if !e.readTag(tagOID, oid) || len(*oid) == 0 {
		return false
	}
	var crit []byte
	var present bool
	if !e.readOptional(tagBoolean, &crit, &present) {
		return false
	}
	// DER encodes TRUE as 0xff, and a DEFAULT value is never encoded
	// (X.690 §11.1, §11.5); accept an explicit FALSE anyway, as many
	// certificates in the wild carry one.
	if present && (len(crit) != 1 || (crit[0] != 0xff && crit[0] != 0x00)) {
		return false
	}
	var full []byte
	return e.readTagFull(tagOctetString, &full, value) && e.empty()
}

// SPKIHash returns the SHA-256 of the full DER SubjectPublicKeyInfo of a
// DER certificate: algorithm identifier, parameters and key bits, tag and
// length included (what CRLite and the C2SP procedure call the issuer's
// SPKI hash; OpenSSL's X509_pubkey_digest hashes only the key bits). It
// walks only as far as the key and does not allocate.
func SPKIHash(der []byte) ([32]byte, error) {
	in := cursor(der)
	var body []byte
	if !in.readTag(tagSequence, &body) {
		return [32]byte{}, errCert
	}
	if !in.empty() {
		return [32]byte{}, errTrailing
	}
	cert := cursor(body)
	var tbsBody []byte
	if !cert.readTag(tagSequence, &tbsBody) {
		return [32]byte{}, errTBS
	}
	var c Cert
	tbs := cursor(tbsBody)
	if err := parseTBSHead(&tbs, &c); err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(c.SPKI), nil
}

// IsError reports whether err came from this package.
func IsError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
