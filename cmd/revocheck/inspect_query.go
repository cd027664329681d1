package main

// `revocheck inspect --query`: a raw key looked up in a filter file, the way
// the format's own reader would, to answer "does this file list that
// certificate?" without a certificate at hand.

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/revocheck/revocheck/core/cascade"
	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/clubcard"
)

// inspectKey is one --query: an issuer's SPKI SHA-256, a serial (DER
// INTEGER content bytes, as CRLite keys it) and, optionally, one SCT for
// the clubcard coverage check.
type inspectKey struct {
	text   string
	issuer [32]byte
	serial []byte
	sct    *certinput.SCT
}

// parseInspectKey reads ISSUER_SPKI_SHA256_HEX:SERIAL_HEX[:LOG_ID_HEX:TIMESTAMP_MS].
func parseInspectKey(s string) (inspectKey, error) {
	k := inspectKey{text: s}
	parts := strings.Split(s, ":")
	if len(parts) != 2 && len(parts) != 4 {
		return k, fmt.Errorf("--query %q: want ISSUER_SPKI_SHA256_HEX:SERIAL_HEX[:LOG_ID_HEX:TIMESTAMP_MS]", s)
	}
	b, err := hex.DecodeString(parts[0])
	if err != nil || len(b) != 32 {
		return k, fmt.Errorf("--query %q: the issuer is 64 hex digits (SHA-256 of its SubjectPublicKeyInfo)", s)
	}
	copy(k.issuer[:], b)
	b, err = hex.DecodeString(parts[1])
	if err != nil || len(b) == 0 || len(b) > 64 {
		return k, fmt.Errorf("--query %q: the serial is 1 to 64 bytes of hex (the DER INTEGER's content bytes)", s)
	}
	k.serial = b
	if len(parts) == 4 {
		var sct certinput.SCT
		b, err = hex.DecodeString(parts[2])
		if err != nil || len(b) != 32 {
			return k, fmt.Errorf("--query %q: the log id is 64 hex digits", s)
		}
		copy(sct.LogID[:], b)
		if sct.Timestamp, err = strconv.ParseUint(parts[3], 10, 64); err != nil {
			return k, fmt.Errorf("--query %q: the SCT timestamp is milliseconds since 1970", s)
		}
		k.sct = &sct
	}
	return k, nil
}

// inspectAnswer is a file's answer for one key.
type inspectAnswer struct {
	Query  string `json:"query"`
	Answer string `json:"answer"` // revoked, not_revoked, not_enrolled, not_covered, not_listed
	Note   string `json:"note,omitempty"`
}

// clubcardAnswer: with an SCT, the C2SP per-filter query (coverage, issuer,
// key); without one, the issuer and key only.
func clubcardAnswer(f *clubcard.Filter, k *inspectKey) (answer, note string) {
	if k.sct != nil {
		in := certinput.Input{IssuerSPKIHash: k.issuer, Serial: k.serial, SCTs: []certinput.SCT{*k.sct}}
		return f.Query(&in).String(), ""
	}
	enrolled, revoked := f.Contains(&k.issuer, k.serial)
	note = "coverage not checked; add :LOG_ID_HEX:TIMESTAMP_MS to check it"
	switch {
	case !enrolled:
		return clubcard.NotEnrolled.String(), note
	case revoked:
		return clubcard.Revoked.String(), note
	}
	return clubcard.NotRevoked.String(), note
}

// cascadeAnswer: a cascade encodes the revoked set exactly only over the
// certificates it was built from; it cannot tell which those were.
func cascadeAnswer(c *cascade.Cascade, k *inspectKey) (answer, note string) {
	note = "exact only for a certificate the cascade was built over"
	if c.HasCert(&k.issuer, k.serial) {
		return clubcard.Revoked.String(), note
	}
	return clubcard.NotRevoked.String(), note
}

// stashAnswer: a stash lists the revocations added since its cascade.
func stashAnswer(s *cascade.Stash, k *inspectKey) (answer, note string) {
	if s.Has(k.issuer, k.serial) {
		return clubcard.Revoked.String(), ""
	}
	return "not_listed", "a stash lists only the revocations added since its cascade"
}
