package certinput

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
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
	errTime       = &Error{msg: "malformed time"}
)

// OID contents (without tag and length) of the extensions this package knows.
var (
	// 1.3.6.1.4.1.11129.2.4.2, RFC 6962 §3.3 embedded SCT list.
	oidSCTList = []byte{0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02}
	// 2.5.29.19, RFC 5280 §4.2.1.9 basic constraints.
	oidBasicConstraints = []byte{0x55, 0x1d, 0x13}
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
		if !readExtension(&it, &oid, nil, &value) {
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
// critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. critical may be
// nil.
func readExtension(s *cursor, oid *[]byte, critical *bool, value *[]byte) bool {
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
	isCrit := false
	if present {
		// DER encodes TRUE as 0xff, and a DEFAULT value is never encoded
		// (X.690 §11.1, §11.5); accept an explicit FALSE anyway, as many
		// certificates in the wild carry one.
		if len(crit) != 1 || (crit[0] != 0xff && crit[0] != 0x00) {
			return false
		}
		isCrit = crit[0] == 0xff
	}
	var full []byte
	if !e.readTagFull(tagOctetString, &full, value) || !e.empty() {
		return false
	}
	if critical != nil {
		*critical = isCrit
	}
	return true
}

// Extension returns the extnValue contents of the extension with the given
// OID (content bytes only, no tag or length, e.g. {0x55, 0x1d, 0x13} for
// basic constraints). found is false when the certificate does not carry it.
func (c *Cert) Extension(oid []byte) (value []byte, critical, found bool) {
	it := cursor(c.Extensions)
	for !it.empty() {
		var id, v []byte
		var crit bool
		if !readExtension(&it, &id, &crit, &v) {
			return nil, false, false
		}
		if bytes.Equal(id, oid) {
			return v, crit, true
		}
	}
	return nil, false, false
}

// IsCA reports whether the certificate's basic constraints extension
// asserts cA (RFC 5280 §4.2.1.9). A certificate without the extension, or
// with a malformed one, is not a CA.
func (c *Cert) IsCA() bool {
	v, _, ok := c.Extension(oidBasicConstraints)
	if !ok {
		return false
	}
	in := cursor(v)
	var seq []byte
	if !in.readTag(tagSequence, &seq) || !in.empty() {
		return false
	}
	bc := cursor(seq)
	var ca []byte
	var present bool
	if !bc.readOptional(tagBoolean, &ca, &present) || !present {
		return false
	}
	return len(ca) == 1 && ca[0] == 0xff
}

// Validity decodes NotBefore and NotAfter.
func (c *Cert) Validity() (notBefore, notAfter time.Time, err error) {
	if notBefore, err = parseTime(c.NotBefore); err != nil {
		return time.Time{}, time.Time{}, err
	}
	if notAfter, err = parseTime(c.NotAfter); err != nil {
		return time.Time{}, time.Time{}, err
	}
	return notBefore, notAfter, nil
}

// parseTime decodes a DER UTCTime (YYMMDDHHMMSSZ, years 1950–2049 per
// RFC 5280 §4.1.2.5.1) or GeneralizedTime (YYYYMMDDHHMMSSZ) element.
func parseTime(elem []byte) (time.Time, error) {
	in := cursor(elem)
	var tag byte
	var full, b []byte
	if !in.readElement(&tag, &full, &b) || !in.empty() {
		return time.Time{}, errTime
	}
	var year int
	switch {
	case tag == tagUTCTime && len(b) == 13:
		yy, ok := digits(b[0:2])
		if !ok {
			return time.Time{}, errTime
		}
		year = 1900 + yy
		if yy < 50 {
			year = 2000 + yy
		}
		b = b[2:]
	case tag == tagGenTime && len(b) == 15:
		y, ok := digits(b[0:4])
		if !ok {
			return time.Time{}, errTime
		}
		year = y
		b = b[4:]
	default:
		return time.Time{}, errTime
	}
	// b is now MMDDHHMMSSZ.
	if b[10] != 'Z' {
		return time.Time{}, errTime
	}
	var f [5]int
	for i := range f {
		v, ok := digits(b[2*i : 2*i+2])
		if !ok {
			return time.Time{}, errTime
		}
		f[i] = v
	}
	month, day, hour, min, sec := f[0], f[1], f[2], f[3], f[4]
	t := time.Date(year, time.Month(month), day, hour, min, sec, 0, time.UTC)
	// time.Date normalises out-of-range fields; a round trip rejects them.
	if month < 1 || month > 12 || t.Day() != day || t.Hour() != hour || t.Minute() != min || t.Second() != sec {
		return time.Time{}, errTime
	}
	return t, nil
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
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
