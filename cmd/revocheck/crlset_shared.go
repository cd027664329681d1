package main

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/revocheck/revocheck/core/crlset"
)

// sharedIssuerName is a CRL-set issuer Name carried by several keys: the NSS
// module, which sees only Names, gives no opinion for it (docs/NSS.md
// "Shared issuer names").
type sharedIssuerName struct {
	Name string   `json:"name"`
	Keys []string `json:"spki_sha256"`
}

func sharedIssuerNames(issuers []crlset.IssuerInfo) []sharedIssuerName {
	out := []sharedIssuerName{}
	for _, sn := range crlset.SharedNames(issuers) {
		s := sharedIssuerName{Name: nameString(sn.Name)}
		for _, k := range sn.Keys {
			s.Keys = append(s.Keys, hex.EncodeToString(k[:]))
		}
		out = append(out, s)
	}
	return out
}

// nameString renders a DER Name, or its hex when it does not parse.
func nameString(der []byte) string {
	var rdn pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdn); err != nil || len(rest) > 0 {
		return "DER " + hex.EncodeToString(der)
	}
	var n pkix.Name
	n.FillFromRDNSequence(&rdn)
	return n.String()
}

// printSharedIssuerNames warns, under the crl sets line of `status`.
func printSharedIssuerNames(w io.Writer, shared []sharedIssuerName) {
	for _, s := range shared {
		short := make([]string, len(s.Keys))
		for i, k := range s.Keys {
			short[i] = k[:16] + "…"
		}
		fmt.Fprintf(w, "          WARNING: %q is the name of %d different CA keys (%s):\n"+
			"          the NSS module, which sees issuers only by name, does not enforce their CRLs\n"+
			"          (the other stacks do, by key)\n", s.Name, len(s.Keys), strings.Join(short, ", "))
	}
}
