// Package cttest makes Certificate Transparency material for tests: logs
// with keys made on the spot, SCTs they sign over real precertificates,
// certificates carrying them, and log lists in Google's v3 shape. Tests
// only; nothing here is a mock: every SCT verifies (or fails) for real.
package cttest

import (
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
	"time"

	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/ct"
)

// Log is a CT log whose key the test holds.
type Log struct {
	Key      crypto.Signer
	SPKI     []byte
	ID       [32]byte
	Operator string
	Name     string
	State    string // v3 state name ("usable" unless set)
	StateAt  time.Time
}

// NewLog makes a log with an ECDSA P-256 key, or RSA-2048 when rsaKey.
func NewLog(name, operator string, rsaKey bool) (*Log, error) {
	var k crypto.Signer
	var err error
	if rsaKey {
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return nil, err
	}
	return &Log{Key: k, SPKI: spki, ID: sha256.Sum256(spki), Operator: operator, Name: name,
		State: "usable", StateAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}, nil
}

// Sign makes the log's v1 SCT at ts (ms) over a precertificate TBS issued
// by the CA whose SPKI hashes to issuerKeyHash.
func (l *Log) Sign(ts uint64, issuerKeyHash [32]byte, precertTBS []byte) (ct.SCT, error) {
	s := ct.SCT{LogID: l.ID, Timestamp: ts, HashAlg: ct.HashSHA256, SigAlg: ct.SigECDSA}
	if _, ok := l.Key.(*rsa.PrivateKey); ok {
		s.SigAlg = ct.SigRSA
	}
	h := sha256.Sum256(ct.SignedData(&s, &issuerKeyHash, precertTBS))
	sig, err := l.Key.Sign(rand.Reader, h[:], crypto.SHA256)
	s.Signature = sig
	return s, err
}

// EncodeList is the embedded SCT list extension's value (a DER OCTET
// STRING around the TLS SignedCertificateTimestampList) of scts.
func EncodeList(scts []ct.SCT) []byte {
	var list []byte
	for _, s := range scts {
		var one []byte
		one = append(one, s.Version)
		one = append(one, s.LogID[:]...)
		one = binary.BigEndian.AppendUint64(one, s.Timestamp)
		one = binary.BigEndian.AppendUint16(one, uint16(len(s.Extensions)))
		one = append(one, s.Extensions...)
		one = append(one, s.HashAlg, s.SigAlg)
		one = binary.BigEndian.AppendUint16(one, uint16(len(s.Signature)))
		one = append(one, s.Signature...)
		list = binary.BigEndian.AppendUint16(list, uint16(len(one)))
		list = append(list, one...)
	}
	tls := binary.BigEndian.AppendUint16(nil, uint16(len(list)))
	der, _ := asn1.Marshal(append(tls, list...))
	return der
}

// OIDs of the embedded SCT list and of the precertificate poison.
var (
	OIDSCTList = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}
	OIDPoison  = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 3}
)

// Issue issues tmpl (for pub) under parent the way a CA that logs does: a
// precertificate with the poison extension first, whose TBS (poison
// removed) sign turns into SCTs, then the certificate with those SCTs
// embedded. It returns the certificate's DER. tmpl.ExtraExtensions is
// overwritten.
func Issue(tmpl *x509.Certificate, pub any, parent *x509.Certificate, parentKey crypto.Signer,
	sign func(precertTBS []byte, issuerKeyHash [32]byte) ([]ct.SCT, error)) ([]byte, error) {
	tmpl.ExtraExtensions = []pkix.Extension{{Id: OIDPoison, Critical: true, Value: []byte{0x05, 0x00}}}
	pre, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, err
	}
	var pc certinput.Cert
	if err := certinput.ParseCert(pre, &pc); err != nil {
		return nil, err
	}
	preTBS, err := ct.PrecertTBS(pc.TBS)
	if err != nil {
		return nil, err
	}
	scts, err := sign(preTBS, sha256.Sum256(parent.RawSubjectPublicKeyInfo))
	if err != nil {
		return nil, err
	}
	tmpl.ExtraExtensions = []pkix.Extension{{Id: OIDSCTList, Value: EncodeList(scts)}}
	return x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
}

// SignWith returns a sign function for Issue: one SCT at ts from each log.
func SignWith(ts time.Time, logs ...*Log) func([]byte, [32]byte) ([]ct.SCT, error) {
	return func(pre []byte, ikh [32]byte) ([]ct.SCT, error) {
		var out []ct.SCT
		for _, l := range logs {
			s, err := l.Sign(uint64(ts.UnixMilli()), ikh, pre)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
}

// V3 is a log list in Google's v3 shape holding logs, grouped by operator
// (`revocheck mirror ctlogs` reads it).
func V3(logs ...*Log) []byte {
	type v3log struct {
		Description string                       `json:"description"`
		LogID       string                       `json:"log_id"`
		Key         string                       `json:"key"`
		URL         string                       `json:"url"`
		MMD         int                          `json:"mmd"`
		State       map[string]map[string]string `json:"state"`
	}
	type op struct {
		Name string  `json:"name"`
		Logs []v3log `json:"logs"`
	}
	var ops []*op
	byName := map[string]*op{}
	for _, l := range logs {
		o := byName[l.Operator]
		if o == nil {
			o = &op{Name: l.Operator}
			byName[l.Operator] = o
			ops = append(ops, o)
		}
		o.Logs = append(o.Logs, v3log{Description: l.Name, LogID: base64.StdEncoding.EncodeToString(l.ID[:]),
			Key: base64.StdEncoding.EncodeToString(l.SPKI), URL: "https://" + l.Name + ".invalid/", MMD: 86400,
			State: map[string]map[string]string{l.State: {"timestamp": l.StateAt.UTC().Format(time.RFC3339)}}})
	}
	out, _ := json.MarshalIndent(map[string]any{"version": "test", "log_list_timestamp": time.Now().UTC().Format(time.RFC3339), "operators": ops}, "", " ")
	return out
}
