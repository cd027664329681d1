package testpki

// Certificate Transparency for the tests (issue 22): logs whose keys the
// test makes, a CA that issues a precertificate, has the logs sign real
// RFC 6962 v1 SCTs over it and then issues the final certificate carrying
// them, and the v3 log list (Google's log_list.json shape) naming the logs.
// Unlike the fake SCTs of the other sites (testpki.LogID), these verify.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/revocheck/revocheck/internal/cttest"
)

var (
	// OIDPoison marks a precertificate (RFC 6962 §3.1): critical, value NULL.
	OIDPoison = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 3}
	// OIDSCTList is the embedded SignedCertificateTimestampList.
	OIDSCTList = oidSCTList
)

// CTLog is one test log.
type CTLog struct {
	Operator    string
	Description string
	Key         crypto.Signer // *ecdsa.PrivateKey (P-256) or *rsa.PrivateKey (2048)
	SPKI        []byte        // DER SubjectPublicKeyInfo
	ID          [32]byte      // SHA-256 of SPKI (RFC 6962 §3.2)
	Since       time.Time     // state timestamp of "usable"
	Retired     time.Time     // zero: usable; else retired at this time
}

// NewCTLog makes a log with a fresh key: ECDSA P-256, or RSA-2048 when
// rsaKey (internal/cttest's; what the logs sign is made here, apart from
// core/ct, so that these SCTs test the verifier rather than echo it).
func NewCTLog(operator, description string, rsaKey bool, since time.Time) (*CTLog, error) {
	l, err := cttest.NewLog(description, operator, rsaKey)
	if err != nil {
		return nil, err
	}
	return &CTLog{Operator: operator, Description: description, Key: l.Key, SPKI: l.SPKI, ID: l.ID, Since: since}, nil
}

// SignedData is the RFC 6962 §3.2 digitally-signed struct of a v1 SCT over
// a precert_entry: version, signature type certificate_timestamp,
// timestamp, entry type precert_entry (1), issuer_key_hash, the TBS
// (24-bit length) and the (empty) SCT extensions.
func SignedData(ts uint64, issuerKeyHash [32]byte, tbs []byte) ([]byte, error) {
	if len(tbs) >= 1<<24 {
		return nil, errors.New("testpki: TBS too long")
	}
	b := []byte{0, 0} // v1, certificate_timestamp
	b = binary.BigEndian.AppendUint64(b, ts)
	b = append(b, 0, 1) // precert_entry
	b = append(b, issuerKeyHash[:]...)
	b = append(b, byte(len(tbs)>>16), byte(len(tbs)>>8), byte(len(tbs)))
	b = append(b, tbs...)
	return append(b, 0, 0), nil // no extensions
}

// SCT returns one serialized v1 SCT (RFC 6962 §3.2) signed by l over a
// precertificate with that issuer key hash and TBS.
func (l *CTLog) SCT(ts time.Time, issuerKeyHash [32]byte, tbs []byte) ([]byte, error) {
	return l.sctAs(l.ID, ts, issuerKeyHash, tbs)
}

// sctAs signs with l's key an SCT that names logID (a forgery when logID
// is another log's).
func (l *CTLog) sctAs(logID [32]byte, ts time.Time, issuerKeyHash [32]byte, tbs []byte) ([]byte, error) {
	ms := uint64(ts.UnixMilli())
	data, err := SignedData(ms, issuerKeyHash, tbs)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(data)
	sigAlg := byte(3) // ecdsa
	if _, ok := l.Key.(*rsa.PrivateKey); ok {
		sigAlg = 1 // rsa (PKCS#1 v1.5)
	}
	sig, err := l.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	b := []byte{0} // v1
	b = append(b, logID[:]...)
	b = binary.BigEndian.AppendUint64(b, ms)
	b = append(b, 0, 0)      // no extensions
	b = append(b, 4, sigAlg) // sha256
	b = binary.BigEndian.AppendUint16(b, uint16(len(sig)))
	return append(b, sig...), nil
}

// SCTListExtension wraps serialized SCTs in the X.509 extension: a TLS
// SignedCertificateTimestampList (16-bit lengths) in an OCTET STRING.
func SCTListExtension(scts [][]byte) ([]byte, error) {
	var inner []byte
	for _, s := range scts {
		inner = binary.BigEndian.AppendUint16(inner, uint16(len(s)))
		inner = append(inner, s...)
	}
	list := binary.BigEndian.AppendUint16(nil, uint16(len(inner)))
	return asn1.Marshal(append(list, inner...))
}

// TBSWithout returns the TBSCertificate of a certificate (DER) with the
// extension oid removed, re-encoded (the precertificate TBS the logs sign
// is the precert's TBS without the poison, RFC 6962 §3.2).
func TBSWithout(certDER []byte, oid asn1.ObjectIdentifier) ([]byte, error) {
	in := cryptobyte.String(certDER)
	var cert, tbs cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, errors.New("testpki: not a certificate")
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for !tbs.Empty() {
			var elem cryptobyte.String
			var tag cbasn1.Tag
			if !tbs.ReadAnyASN1Element(&elem, &tag) {
				b.SetError(errors.New("testpki: bad TBS element"))
				return
			}
			if tag != cbasn1.Tag(3).Constructed().ContextSpecific() {
				b.AddBytes(elem)
				continue
			}
			var wrap, exts cryptobyte.String
			if !elem.ReadASN1(&wrap, tag) || !wrap.ReadASN1(&exts, cbasn1.SEQUENCE) {
				b.SetError(errors.New("testpki: bad extensions"))
				return
			}
			b.AddASN1(tag, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for !exts.Empty() {
						var ext, body cryptobyte.String
						var id asn1.ObjectIdentifier
						if !exts.ReadASN1Element(&ext, cbasn1.SEQUENCE) {
							b.SetError(errors.New("testpki: bad extension"))
							return
						}
						body = ext
						if !body.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1ObjectIdentifier(&id) {
							b.SetError(errors.New("testpki: bad extension id"))
							return
						}
						if !id.Equal(oid) {
							b.AddBytes(ext)
						}
					}
				})
			})
		}
	})
	return out.Bytes()
}

// CTSite is how one logged leaf's SCTs are made; see CTCases.
type CTSite struct {
	Name string
	// SCTs returns the SCTs for a precert (issuer key hash, TBS without
	// poison), nil for none.
	SCTs func(ikh [32]byte, tbs []byte) ([][]byte, error)
	// Compliant: the SCTs meet Mozilla's CT policy for a 30-day leaf.
	Compliant bool
	Revoked   bool // listed in the CT intermediate's CRL
}

// CT is the CT part of the test PKI.
type CT struct {
	Logs     []*CTLog // A1, A2 (operator A, ECDSA), B1 (operator B, RSA), C1 (operator C, ECDSA, retired at RetiredAt)
	Attacker *CTLog   // an RSA key no list names: its SCTs claim B1's id
	// Int issues every CT site, under the PKI's root; IntCRL (DER) lists
	// the revoked ones.
	Int       *Cert
	IntCRL    string
	LogList   string // v3 log_list.json
	RetiredAt time.Time
	Sites     map[string]*Site
	Precerts  map[string][]byte // DER precertificate per site, for tests
	Compliant map[string]bool
}

// CTSiteNames lists the CT sites in a stable order:
//
//	ct-logged         SCTs from A1 (ECDSA) and B1 (RSA): two operators, compliant
//	ct-retired-early  A1 + C1, both dated before C1 retired: compliant
//	ct-revoked        compliant, but revoked (CT intermediate's CRL)
//	ct-none           no SCT
//	ct-one-operator   A1 + A2: one operator only
//	ct-forged         A1 + an SCT claiming B1 signed by another key
//	ct-missigned      A1 + B1's real key signing another issuer key hash
//	ct-retired-late   A1 + C1, both dated after C1 retired
var CTSiteNames = []string{"ct-logged", "ct-retired-early", "ct-revoked",
	"ct-none", "ct-one-operator", "ct-forged", "ct-missigned", "ct-retired-late"}

// GenerateCT adds the logs, the CT intermediate (under p.Root), one leaf
// per CTSiteNames entry and the log list to p.
func (p *PKI) GenerateCT() (*CT, error) {
	now := time.Now().Truncate(time.Second)
	since := now.Add(-30 * 24 * time.Hour)
	ct := &CT{Sites: map[string]*Site{}, Precerts: map[string][]byte{}, Compliant: map[string]bool{},
		RetiredAt: now.Add(-time.Hour)}
	for _, l := range []struct {
		op, desc string
		rsa      bool
	}{
		{"revocheck test operator A", "revocheck test log A1", false},
		{"revocheck test operator A", "revocheck test log A2", false},
		{"revocheck test operator B", "revocheck test log B1 (RSA)", true},
		{"revocheck test operator C", "revocheck test log C1 (retired)", false},
	} {
		log, err := NewCTLog(l.op, l.desc, l.rsa, since)
		if err != nil {
			return nil, err
		}
		ct.Logs = append(ct.Logs, log)
	}
	ct.Logs[3].Retired = ct.RetiredAt
	var err error
	// RSA like B1, whose id its SCTs claim: the forgery fails on the
	// signature itself, not on the algorithm.
	if ct.Attacker, err = NewCTLog("attacker", "not a listed log", true, since); err != nil {
		return nil, err
	}
	if ct.Int, err = p.issue("int-ct", "revocheck test CT intermediate", p.Root, true, true, now); err != nil {
		return nil, err
	}
	a1, a2, b1, c1 := ct.Logs[0], ct.Logs[1], ct.Logs[2], ct.Logs[3]
	recent := now.Add(-time.Minute)
	signed := func(ts time.Time, logs ...*CTLog) func([32]byte, []byte) ([][]byte, error) {
		return func(ikh [32]byte, tbs []byte) ([][]byte, error) {
			var out [][]byte
			for _, l := range logs {
				s, err := l.SCT(ts, ikh, tbs)
				if err != nil {
					return nil, err
				}
				out = append(out, s)
			}
			return out, nil
		}
	}
	plus := func(f func([32]byte, []byte) ([][]byte, error), g func([32]byte, []byte) ([]byte, error)) func([32]byte, []byte) ([][]byte, error) {
		return func(ikh [32]byte, tbs []byte) ([][]byte, error) {
			out, err := f(ikh, tbs)
			if err != nil {
				return nil, err
			}
			s, err := g(ikh, tbs)
			return append(out, s), err
		}
	}
	rootKeyHash := sha256.Sum256(p.Root.Cert.RawSubjectPublicKeyInfo)
	sites := []CTSite{
		{Name: "ct-logged", SCTs: signed(recent, a1, b1), Compliant: true},
		// Logged (both SCTs) half an hour before C1 retired: a retired
		// log's SCT counts when the certificate was issued before the
		// retirement (Mozilla's policy).
		{Name: "ct-retired-early", SCTs: signed(ct.RetiredAt.Add(-30*time.Minute), a1, c1), Compliant: true},
		{Name: "ct-revoked", SCTs: signed(recent, a1, b1), Compliant: true, Revoked: true},
		{Name: "ct-none"},
		{Name: "ct-one-operator", SCTs: signed(recent, a1, a2)},
		{Name: "ct-forged", SCTs: plus(signed(recent, a1), func(ikh [32]byte, tbs []byte) ([]byte, error) {
			return ct.Attacker.sctAs(b1.ID, recent, ikh, tbs)
		})},
		{Name: "ct-missigned", SCTs: plus(signed(recent, a1), func(_ [32]byte, tbs []byte) ([]byte, error) {
			return b1.SCT(recent, rootKeyHash, tbs)
		})},
		{Name: "ct-retired-late", SCTs: signed(recent, a1, c1)},
	}
	var revoked []*Cert
	for _, s := range sites {
		leaf, pre, err := p.issueLogged(s.Name, s.Name+".revocheck.test", ct.Int, now, s.SCTs)
		if err != nil {
			return nil, err
		}
		site := &Site{Name: s.Name, Leaf: leaf, Issuer: ct.Int, Revoked: s.Revoked,
			ChainPEM: filepath.Join(p.Dir, s.Name+".chain.pem")}
		if err := writePEM(site.ChainPEM, "CERTIFICATE", leaf.Cert.Raw, ct.Int.Cert.Raw); err != nil {
			return nil, err
		}
		ct.Sites[s.Name] = site
		ct.Precerts[s.Name] = pre
		ct.Compliant[s.Name] = s.Compliant
		if s.Revoked {
			revoked = append(revoked, leaf)
		}
	}
	ct.IntCRL = filepath.Join(p.Dir, "int-ct.crl")
	if err := p.writeCRL(ct.IntCRL, ct.Int, now, revoked...); err != nil {
		return nil, err
	}
	ct.LogList = filepath.Join(p.Dir, "log_list.json")
	if err := WriteLogList(ct.LogList, ct.Logs, now); err != nil {
		return nil, err
	}
	return ct, nil
}

// issueLogged issues a leaf the CT way: a precertificate (poison, critical),
// SCTs over its TBS without the poison, then the final certificate with the
// SCT list in the poison's place. Go's CreateCertificate appends
// ExtraExtensions after the ones it builds and the template is the same,
// so the final TBS minus the SCT list equals the precert TBS minus the
// poison: checked here, the logs' signatures depend on it. scts nil: the
// leaf is issued without SCTs (and without a precertificate).
func (p *PKI) issueLogged(file, cn string, parent *Cert, now time.Time,
	scts func([32]byte, []byte) ([][]byte, error)) (*Cert, []byte, error) {
	if scts == nil {
		c, err := p.issue(file, cn, parent, false, false, now)
		return c, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl, err := template(cn, false, now)
	if err != nil {
		return nil, nil, err
	}
	tmpl.NotBefore = now.Add(-3 * time.Hour) // before every SCT, ct-retired-early's included
	null, _ := asn1.Marshal(asn1.NullRawValue)
	tmpl.ExtraExtensions = []pkix.Extension{{Id: OIDPoison, Critical: true, Value: null}}
	pre, err := x509.CreateCertificate(rand.Reader, tmpl, parent.Cert, key.Public(), parent.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("testpki: precert %s: %w", cn, err)
	}
	tbs, err := TBSWithout(pre, OIDPoison)
	if err != nil {
		return nil, nil, err
	}
	list, err := scts(sha256.Sum256(parent.Cert.RawSubjectPublicKeyInfo), tbs)
	if err != nil {
		return nil, nil, err
	}
	val, err := SCTListExtension(list)
	if err != nil {
		return nil, nil, err
	}
	tmpl.ExtraExtensions = []pkix.Extension{{Id: OIDSCTList, Value: val}}
	c, err := p.finish(file, cn, tmpl, parent, key)
	if err != nil {
		return nil, nil, err
	}
	final, err := TBSWithout(c.Cert.Raw, OIDSCTList)
	if err != nil {
		return nil, nil, err
	}
	if !bytes.Equal(final, tbs) {
		return nil, nil, fmt.Errorf("testpki: %s: final TBS without the SCT list differs from the precert's", cn)
	}
	return c, pre, nil
}

// WriteLogList writes logs as a v3 log list (the shape of Google's
// https://www.gstatic.com/ct/log_list/v3/log_list.json), one operator per
// distinct Operator in order of first appearance.
func WriteLogList(path string, logs []*CTLog, now time.Time) error {
	type stamp struct {
		Timestamp string `json:"timestamp"`
	}
	type log struct {
		Description string           `json:"description"`
		LogID       string           `json:"log_id"`
		Key         string           `json:"key"`
		URL         string           `json:"url"`
		MMD         int              `json:"mmd"`
		State       map[string]stamp `json:"state"`
	}
	type operator struct {
		Name  string   `json:"name"`
		Email []string `json:"email"`
		Logs  []log    `json:"logs"`
	}
	list := struct {
		Version   string     `json:"version"`
		Timestamp string     `json:"log_list_timestamp"`
		Operators []operator `json:"operators"`
	}{Version: "1.0", Timestamp: now.UTC().Format(time.RFC3339)}
	index := map[string]int{}
	for i, l := range logs {
		state := map[string]stamp{"usable": {l.Since.UTC().Format(time.RFC3339)}}
		if !l.Retired.IsZero() {
			state = map[string]stamp{"retired": {l.Retired.UTC().Format(time.RFC3339)}}
		}
		j, ok := index[l.Operator]
		if !ok {
			j = len(list.Operators)
			index[l.Operator] = j
			list.Operators = append(list.Operators, operator{Name: l.Operator, Email: []string{"ct@revocheck.test"}})
		}
		list.Operators[j].Logs = append(list.Operators[j].Logs, log{
			Description: l.Description,
			LogID:       base64.StdEncoding.EncodeToString(l.ID[:]),
			Key:         base64.StdEncoding.EncodeToString(l.SPKI),
			URL:         fmt.Sprintf("https://ct%d.revocheck.test/", i),
			MMD:         86400,
			State:       state,
		})
	}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
