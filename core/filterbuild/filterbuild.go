// Package filterbuild turns certificates with a known revocation status
// into a clubcard filter whose coverage spans their SCTs: what
// `revocheck filter build` and the test PKI use to make a cache any C2SP
// reader accepts.
package filterbuild

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/clubcard"
)

// Entry is one certificate the filter must answer for.
type Entry struct {
	Input   certinput.Input // Serial is owned (copied), not aliased
	Revoked bool
}

// FromChain extracts a certificate's inputs given its issuer (both DER).
func FromChain(cert, issuer []byte, revoked bool) (Entry, error) {
	var in certinput.Input
	if err := certinput.Extract(cert, issuer, &in); err != nil {
		return Entry{}, err
	}
	in.Serial = bytes.Clone(in.Serial)
	return Entry{Input: in, Revoked: revoked}, nil
}

// ReadChainPEM reads a PEM file holding a certificate followed by its
// issuer (verified by name and signature) and returns both as DER.
func ReadChainPEM(path string) (cert, issuer []byte, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var ders [][]byte
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			ders = append(ders, b.Bytes)
		}
	}
	if len(ders) < 2 {
		return nil, nil, fmt.Errorf("%s: need a certificate followed by its issuer, found %d certificate(s)", path, len(ders))
	}
	leaf, err := x509.ParseCertificate(ders[0])
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, d := range ders[1:] {
		ic, err := x509.ParseCertificate(d)
		if err == nil && bytes.Equal(ic.RawSubject, leaf.RawIssuer) && leaf.CheckSignatureFrom(ic) == nil {
			return ders[0], d, nil
		}
	}
	return nil, nil, fmt.Errorf("%s: no certificate after the first one issued it", path)
}

// Filter builds a v4 clubcard over entries. Its coverage is, for each CT
// log seen in the entries' SCTs, from the earliest SCT to now (or the latest
// SCT if later): certificates logged in that window are answered by it.
// Entries without SCTs are enrolled (their issuer counts) but cannot be
// covered.
func Filter(entries []Entry, now time.Time) ([]byte, error) {
	if len(entries) == 0 {
		return nil, errors.New("filterbuild: no certificates")
	}
	type span struct{ low, high uint64 }
	logs := map[[32]byte]span{}
	nowMS := uint64(now.UnixMilli())
	issuers := map[[32]byte]*clubcard.IssuerInput{}
	seen := map[string]bool{}
	for _, e := range entries {
		for _, s := range e.Input.SCTs {
			sp, ok := logs[s.LogID]
			if !ok {
				sp = span{s.Timestamp, max(s.Timestamp, nowMS)}
			}
			sp.low, sp.high = min(sp.low, s.Timestamp), max(sp.high, s.Timestamp)
			logs[s.LogID] = sp
		}
		key := string(e.Input.IssuerSPKIHash[:]) + string(e.Input.Serial)
		if seen[key] {
			return nil, fmt.Errorf("filterbuild: serial %x of issuer %x given twice", e.Input.Serial, e.Input.IssuerSPKIHash[:8])
		}
		seen[key] = true
		is := issuers[e.Input.IssuerSPKIHash]
		if is == nil {
			is = &clubcard.IssuerInput{SPKIHash: e.Input.IssuerSPKIHash}
			issuers[e.Input.IssuerSPKIHash] = is
		}
		if e.Revoked {
			is.Revoked = append(is.Revoked, e.Input.Serial)
		} else {
			is.NotRevoked = append(is.NotRevoked, e.Input.Serial)
		}
	}
	if len(logs) == 0 {
		return nil, errors.New("filterbuild: no certificate has SCTs, so no coverage can be stated")
	}
	in := &clubcard.BuildInput{}
	for id, sp := range logs {
		in.Coverage = append(in.Coverage, clubcard.CoverageEntry{LogID: id, Low: sp.low, High: sp.high})
	}
	sort.Slice(in.Coverage, func(i, j int) bool { return bytes.Compare(in.Coverage[i].LogID[:], in.Coverage[j].LogID[:]) < 0 })
	for _, is := range issuers {
		in.Issuers = append(in.Issuers, *is)
	}
	sort.Slice(in.Issuers, func(i, j int) bool { return bytes.Compare(in.Issuers[i].SPKIHash[:], in.Issuers[j].SPKIHash[:]) < 0 })
	return clubcard.Build(in)
}
