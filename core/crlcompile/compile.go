// Package crlcompile compiles CRLs into a CRL set tree (core/crlset): every
// CRL's signature is verified against its issuing CA certificate, stale CRLs
// are reported, and the result is written as <out>/crlsets/<name>-<hash>.crlset
// plus <out>/crlsets/manifest.json — apart from the clubcard manifest, so
// that the tree stays consumable by upki clients. cmd/revocheck's
// `mirror crl` is its command line.
package crlcompile

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/revocheck/revocheck/core/crlset"
)

// Source is one CRL as read from a file or URL.
type Source struct {
	Name string // file name or URL, for messages
	Data []byte // DER, or PEM with one or more "X509 CRL" blocks
}

// Options configure one compilation.
type Options struct {
	CRLs   []Source
	CAs    []*x509.Certificate // issuing CA certificates; matched by name and key id
	OutDir string              // the tree (or cache) root; output goes to OutDir/crlsets
	Name   string              // base name of the set file; default "crls"
	Strict bool                // a CRL past its nextUpdate is an error, not a warning
	Now    time.Time           // default time.Now()
	Warn   io.Writer           // warnings; default discarded
}

// Result describes what was written.
type Result struct {
	File     string // path of the .crlset
	Size     int64
	Issuers  int
	Entries  int
	Warnings []string
}

// CompileFiles is the simple entry for tests and harnesses: crls and cas are
// DER or PEM (cas may be bundles); the set is written under outDir/crlsets.
// Stale CRLs are accepted with a warning.
func CompileFiles(crls [][]byte, cas [][]byte, outDir string) error {
	opts := Options{OutDir: outDir}
	for i, c := range crls {
		opts.CRLs = append(opts.CRLs, Source{Name: fmt.Sprintf("crl #%d", i+1), Data: c})
	}
	for i, c := range cas {
		certs, err := ParseCerts(c)
		if err != nil {
			return fmt.Errorf("crlcompile: ca #%d: %w", i+1, err)
		}
		opts.CAs = append(opts.CAs, certs...)
	}
	_, err := Compile(&opts)
	return err
}

// ParseCerts reads certificates from DER or a PEM bundle.
func ParseCerts(data []byte) ([]*x509.Certificate, error) {
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, err
		}
		return []*x509.Certificate{c}, nil
	}
	var out []*x509.Certificate
	for rest := data; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no certificate found")
	}
	return out, nil
}

// crlDERs returns the DER CRLs in data (DER, or PEM "X509 CRL" blocks).
func crlDERs(data []byte) ([][]byte, error) {
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		return [][]byte{data}, nil
	}
	var out [][]byte
	for rest := data; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type == "X509 CRL" {
			out = append(out, blk.Bytes)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no X509 CRL block found")
	}
	return out, nil
}

var (
	oidDeltaCRLIndicator = []int{2, 5, 29, 27}
	oidIssuingDistPoint  = []int{2, 5, 29, 28}
)

// Compile verifies every CRL and writes the set and its manifest.
func Compile(opts *Options) (*Result, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	name := opts.Name
	if name == "" {
		name = "crls"
	}
	if strings.ContainsAny(name, "/\\.") || len(name) > 40 {
		return nil, fmt.Errorf("crlcompile: bad set name %q", name)
	}
	if opts.OutDir == "" {
		return nil, errors.New("crlcompile: no output directory")
	}
	res := &Result{}
	warn := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		res.Warnings = append(res.Warnings, msg)
		if opts.Warn != nil {
			fmt.Fprintf(opts.Warn, "revocheck: warning: %s\n", msg)
		}
	}

	type parsed struct {
		src string
		der []byte
		rl  *x509.RevocationList
		ca  *x509.Certificate
	}
	var crls []parsed
	for _, s := range opts.CRLs {
		ders, err := crlDERs(s.Data)
		if err != nil {
			return nil, fmt.Errorf("crlcompile: %s: %w", s.Name, err)
		}
		for _, der := range ders {
			rl, err := x509.ParseRevocationList(der)
			if err != nil {
				return nil, fmt.Errorf("crlcompile: %s: %w", s.Name, err)
			}
			for _, ext := range rl.Extensions {
				if ext.Id.Equal(oidDeltaCRLIndicator) {
					return nil, fmt.Errorf("crlcompile: %s: delta CRLs are not supported; give the full CRL", s.Name)
				}
				if ext.Id.Equal(oidIssuingDistPoint) {
					warn("%s: partitioned CRL (issuing distribution point): compile every partition of this CA, or revocations listed only in the others are missed", s.Name)
				}
			}
			ca, err := findIssuer(rl, opts.CAs)
			if err != nil {
				return nil, fmt.Errorf("crlcompile: %s: %w", s.Name, err)
			}
			if !rl.NextUpdate.IsZero() && now.After(rl.NextUpdate) {
				msg := fmt.Sprintf("%s: stale: nextUpdate %s is past (issuer %s)", s.Name,
					rl.NextUpdate.UTC().Format(time.RFC3339), ca.Subject)
				if opts.Strict {
					return nil, errors.New("crlcompile: " + msg)
				}
				warn("%s", msg)
			}
			if rl.ThisUpdate.After(now.Add(time.Hour)) {
				warn("%s: thisUpdate %s is in the future", s.Name, rl.ThisUpdate.UTC().Format(time.RFC3339))
			}
			crls = append(crls, parsed{src: s.Name, der: der, rl: rl, ca: ca})
		}
	}

	// The salt depends on every input byte, so nobody can aim serials at
	// fingerprint collisions before the CRLs exist; same input, same file.
	sums := make([][32]byte, len(crls))
	for i, c := range crls {
		sums[i] = sha256.Sum256(c.der)
	}
	slices.SortFunc(sums, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	sh := sha256.New()
	sh.Write([]byte("revocheck crlset salt v1"))
	for _, s := range sums {
		sh.Write(s[:])
	}
	var salt [16]byte
	copy(salt[:], sh.Sum(nil))

	b := crlset.NewBuilder(salt)
	for _, c := range crls {
		spki := sha256.Sum256(c.ca.RawSubjectPublicKeyInfo)
		if err := b.AddIssuer(spki, c.ca.RawSubject, c.rl.ThisUpdate, c.rl.NextUpdate); err != nil {
			return nil, fmt.Errorf("crlcompile: %s: %w", c.src, err)
		}
		n := 0
		err := revokedSerials(c.rl.RawTBSRevocationList, func(serial []byte) error {
			n++
			return b.AddSerial(spki, serial)
		})
		if err != nil {
			return nil, fmt.Errorf("crlcompile: %s: %w", c.src, err)
		}
		if n != len(c.rl.RevokedCertificateEntries) {
			return nil, fmt.Errorf("crlcompile: %s: read %d serials, crypto/x509 read %d", c.src, n, len(c.rl.RevokedCertificateEntries))
		}
		res.Entries += n
	}
	keys := map[string]bool{}
	for _, c := range crls {
		keys[string(c.ca.RawSubjectPublicKeyInfo)] = true
	}
	res.Issuers = len(keys)

	file, size, err := WriteSet(b, opts.OutDir, name, now)
	if err != nil {
		return nil, err
	}
	res.File, res.Size = file, size
	return res, nil
}

// findIssuer picks the CA whose subject equals the CRL's issuer (byte for
// byte), whose subject key id matches the CRL's authority key id when both
// are present, and whose key verifies the CRL's signature.
func findIssuer(rl *x509.RevocationList, cas []*x509.Certificate) (*x509.Certificate, error) {
	var lastErr error
	candidates := 0
	for _, ca := range cas {
		if !bytes.Equal(ca.RawSubject, rl.RawIssuer) {
			continue
		}
		if len(rl.AuthorityKeyId) > 0 && len(ca.SubjectKeyId) > 0 && !bytes.Equal(rl.AuthorityKeyId, ca.SubjectKeyId) {
			continue
		}
		candidates++
		if err := rl.CheckSignatureFrom(ca); err != nil {
			lastErr = err
			continue
		}
		return ca, nil
	}
	if candidates == 0 {
		return nil, fmt.Errorf("no CA certificate (--ca) for issuer %q", rl.Issuer)
	}
	return nil, fmt.Errorf("signature does not verify against the CA certificate of %q: %v", rl.Issuer, lastErr)
}

// Manifest is the crlsets/manifest.json shape, the same as upki's manifest.
type Manifest struct {
	GeneratedAt int64          `json:"generated_at"`
	Comment     string         `json:"comment,omitempty"`
	Files       []ManifestFile `json:"files"`
}

// ManifestFile is one entry of a Manifest.
type ManifestFile struct {
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	Hash     string `json:"hash"` // lowercase hex SHA-256
}

// WriteSet writes the builder's set as outDir/crlsets/<name>-<hash16>.crlset
// and replaces the manifest atomically: the set is renamed into place first,
// then the manifest. Sets of other names stay listed; sets of this name from
// the previous manifest are deleted only after the next replacement, so a
// client holding the previous manifest can still fetch its files.
func WriteSet(b *crlset.Builder, outDir, name string, now time.Time) (string, int64, error) {
	dir := filepath.Join(outDir, crlset.Dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, fmt.Errorf("crlcompile: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".crlset-*.tmp")
	if err != nil {
		return "", 0, fmt.Errorf("crlcompile: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	size, err := b.WriteTo(io.MultiWriter(tmp, h), now)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644) // readers may run as another user
	}
	if err != nil {
		return "", 0, fmt.Errorf("crlcompile: writing set: %w", err)
	}
	// Self-check what readers will map before publishing it.
	written, err := os.ReadFile(tmp.Name())
	if err != nil {
		return "", 0, fmt.Errorf("crlcompile: %w", err)
	}
	set, err := crlset.Parse(written)
	if err == nil {
		err = set.Verify()
	}
	if err != nil {
		return "", 0, fmt.Errorf("crlcompile: the written set does not verify: %w", err)
	}
	written = nil
	sum := hex.EncodeToString(h.Sum(nil))
	fname := fmt.Sprintf("%s-%s.crlset", name, sum[:16])
	final := filepath.Join(dir, fname)
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", 0, fmt.Errorf("crlcompile: %w", err)
	}

	mpath := filepath.Join(dir, crlset.ManifestName)
	var old Manifest
	if raw, err := os.ReadFile(mpath); err == nil {
		if err := json.Unmarshal(raw, &old); err != nil {
			return "", 0, fmt.Errorf("crlcompile: existing %s: %w", mpath, err)
		}
	}
	m := Manifest{GeneratedAt: now.Unix(), Comment: "revocheck crl sets (docs/FORMATS.md, section crlset)"}
	keep := map[string]bool{fname: true}
	for _, f := range old.Files {
		if strings.HasPrefix(f.Filename, name+"-") {
			keep[f.Filename] = true // previous generation of this name: removed next time
			continue
		}
		if crlset.ValidFilename(f.Filename) == nil && f.Filename != fname {
			m.Files = append(m.Files, f)
			keep[f.Filename] = true
		}
	}
	m.Files = append(m.Files, ManifestFile{Filename: fname, Size: size, Hash: sum})
	slices.SortFunc(m.Files, func(a, b ManifestFile) int { return strings.Compare(a.Filename, b.Filename) })
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", 0, err
	}
	if err := writeAtomic(mpath, append(raw, '\n')); err != nil {
		return "", 0, err
	}
	// Delayed removal: sets of this name in neither manifest.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, name+"-") && strings.HasSuffix(n, ".crlset") && !keep[n] {
			os.Remove(filepath.Join(dir, n))
		}
	}
	return final, size, nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".manifest-*.tmp")
	if err != nil {
		return fmt.Errorf("crlcompile: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("crlcompile: writing manifest: %w", err)
	}
	return nil
}
