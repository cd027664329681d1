// Package testpki makes the throwaway PKI every integration test and the
// demo run against: a root, intermediates, and one leaf per "site" whose
// revocation status is known, with embedded SCTs from a fake CT log so the
// leaves are covered by the filters the project's builder makes.
//
// Nothing here is trusted outside a test: keys are fresh per run and the
// SCT signatures of the revocation sites are not real; the CT sites
// (ct.go, GenerateCT) carry SCTs that verify.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LogID is the fake CT log every test SCT names.
var LogID = sha256.Sum256([]byte("revocheck test CT log"))

var oidSCTList = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}

// Cert is a certificate with its key and PEM file paths.
type Cert struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM string // path of the certificate alone
	KeyPEM  string // path of the private key (PKCS#8)
}

// Site is one TLS server identity.
type Site struct {
	Name     string
	Leaf     *Cert
	Issuer   *Cert
	ChainPEM string // leaf then issuer, as a server presents them
	Revoked  bool   // revoked in the clubcard data
}

// PKI is the whole test hierarchy, written under Dir.
type PKI struct {
	Dir        string
	Root       *Cert // trust anchor; RootPEM == Root.CertPEM
	Int        *Cert // enrolled intermediate
	IntRevoked *Cert // intermediate revoked by the root
	IntOther   *Cert // intermediate not enrolled in the filter, without a CRL
	Sites      map[string]*Site
	// CRLs (DER files): Int's CRL lists the revoked and crl-revoked leaves,
	// the root's lists IntRevoked.
	IntCRL, RootCRL string
}

// SiteNames lists the sites in a stable order.
var SiteNames = []string{"good", "revoked", "uncovered", "unenrolled", "revoked-int", "crl-revoked"}

// Generate makes a fresh PKI under dir.
func Generate(dir string) (*PKI, error) {
	p := &PKI{Dir: dir, Sites: map[string]*Site{}}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	now := time.Now().Truncate(time.Second)
	var err error
	if p.Root, err = p.issue("root", "revocheck test root", nil, true, false, now); err != nil {
		return nil, err
	}
	if p.Int, err = p.issue("int", "revocheck test intermediate", p.Root, true, true, now); err != nil {
		return nil, err
	}
	if p.IntRevoked, err = p.issue("int-revoked", "revocheck revoked intermediate", p.Root, true, true, now); err != nil {
		return nil, err
	}
	if p.IntOther, err = p.issue("int-other", "revocheck unenrolled intermediate", p.Root, true, true, now); err != nil {
		return nil, err
	}
	for _, s := range []struct {
		name    string
		issuer  *Cert
		sct     bool
		revoked bool
	}{
		{"good", p.Int, true, false},
		{"revoked", p.Int, true, true},
		// Issued by the CA that publishes no CRL, so nothing covers it.
		{"uncovered", p.IntOther, false, false},
		{"unenrolled", p.IntOther, true, false},
		{"revoked-int", p.IntRevoked, true, false},
		{"crl-revoked", p.Int, false, false},
	} {
		leaf, err := p.issue(s.name, s.name+".revocheck.test", s.issuer, false, s.sct, now)
		if err != nil {
			return nil, err
		}
		site := &Site{Name: s.name, Leaf: leaf, Issuer: s.issuer, Revoked: s.revoked,
			ChainPEM: filepath.Join(dir, s.name+".chain.pem")}
		if err := writePEM(site.ChainPEM, "CERTIFICATE", leaf.Cert.Raw, s.issuer.Cert.Raw); err != nil {
			return nil, err
		}
		p.Sites[s.name] = site
	}
	p.IntCRL = filepath.Join(dir, "int.crl")
	if err := p.writeCRL(p.IntCRL, p.Int, now, p.Sites["revoked"].Leaf, p.Sites["crl-revoked"].Leaf); err != nil {
		return nil, err
	}
	p.RootCRL = filepath.Join(dir, "root.crl")
	if err := p.writeCRL(p.RootCRL, p.Root, now, p.IntRevoked); err != nil {
		return nil, err
	}
	return p, nil
}

// RootPEM is the path of the trust anchor.
func (p *PKI) RootPEM() string { return p.Root.CertPEM }

func (p *PKI) issue(file, cn string, parent *Cert, ca, sct bool, now time.Time) (*Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl, err := template(cn, ca, now)
	if err != nil {
		return nil, err
	}
	if sct {
		ext, err := sctExtension(now)
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, ext)
	}
	return p.finish(file, cn, tmpl, parent, key)
}

// template is a CA or a leaf (server name cn) certificate, valid for 30 days.
func template(cn string, ca bool, now time.Time) (*x509.Certificate, error) {
	// 16 random bytes with the top bit set: the DER serial then carries a
	// leading 0x00, the case extractors most often get wrong.
	sb := make([]byte, 16)
	if _, err := rand.Read(sb); err != nil {
		return nil, err
	}
	sb[0] |= 0x80
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(sb),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"revocheck tests"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(30 * 24 * time.Hour),
	}
	if ca {
		tmpl.IsCA = true
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		// "revoked.test" too: the Docker tests' clients use the short names.
		tmpl.DNSNames = []string{cn, strings.TrimSuffix(cn, ".revocheck.test") + ".test", "localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	return tmpl, nil
}

// finish signs tmpl for key (self-signed when parent is nil) and writes the
// certificate and key PEM files.
func (p *PKI) finish(file, cn string, tmpl *x509.Certificate, parent *Cert, key *ecdsa.PrivateKey) (*Cert, error) {
	signerCert, signerKey := tmpl, crypto.Signer(key)
	if parent != nil {
		signerCert, signerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signerKey)
	if err != nil {
		return nil, fmt.Errorf("testpki: issue %s: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	c := &Cert{Cert: cert, Key: key,
		CertPEM: filepath.Join(p.Dir, file+".pem"), KeyPEM: filepath.Join(p.Dir, file+".key.pem")}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := writePEM(c.CertPEM, "CERTIFICATE", der); err != nil {
		return nil, err
	}
	if err := writePEM(c.KeyPEM, "PRIVATE KEY", pk); err != nil {
		return nil, err
	}
	return c, nil
}

// sctExtension encodes a SignedCertificateTimestampList (RFC 6962 §3.3)
// with one v1 SCT from the test log, timestamped now.
func sctExtension(now time.Time) (pkix.Extension, error) {
	var sct []byte
	sct = append(sct, 0) // v1
	sct = append(sct, LogID[:]...)
	sct = binary.BigEndian.AppendUint64(sct, uint64(now.UnixMilli()))
	sct = append(sct, 0, 0) // no extensions
	sct = append(sct, 4, 3) // sha256, ecdsa
	sig := make([]byte, 70) // not a real signature: nothing here enforces CT
	sct = binary.BigEndian.AppendUint16(sct, uint16(len(sig)))
	sct = append(sct, sig...)
	var list []byte
	list = binary.BigEndian.AppendUint16(list, uint16(len(sct)+2))
	list = binary.BigEndian.AppendUint16(list, uint16(len(sct)))
	list = append(list, sct...)
	val, err := asn1.Marshal(list) // extnValue wraps the TLS list in an OCTET STRING
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: oidSCTList, Value: val}, nil
}

func (p *PKI) writeCRL(path string, ca *Cert, now time.Time, revoked ...*Cert) error {
	var entries []x509.RevocationListEntry
	for _, c := range revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: c.Cert.SerialNumber, RevocationTime: now.Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(now.Unix()),
		ThisUpdate:                now.Add(-time.Hour),
		NextUpdate:                now.Add(7 * 24 * time.Hour),
		RevokedCertificateEntries: entries,
	}, ca.Cert, ca.Key)
	if err != nil {
		return fmt.Errorf("testpki: crl: %w", err)
	}
	return os.WriteFile(path, der, 0o644)
}

func writePEM(path, typ string, ders ...[]byte) error {
	var out []byte
	for _, d := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: d})...)
	}
	return os.WriteFile(path, out, 0o644)
}
