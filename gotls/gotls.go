// Package gotls brings revocheck's revocation checks to Go programs that
// use crypto/tls, without cgo: the same engine the C library wraps, applied
// to the chains crypto/tls has already verified.
//
//	checker, err := engine.Open("", "") // default configuration
//	client := &http.Client{Transport: gotls.Transport(checker, nil)}
//
// or, for any tls.Config:
//
//	conf.VerifyConnection = gotls.VerifyConnection(checker)
//
// A refused certificate is an *Error (Outcome says why: revoked, or the
// outcome a policy denied). Under policy.ct = "enforce" a leaf whose
// embedded SCTs do not satisfy the Certificate Transparency policy is a
// *CTError instead, which errors.As also finds as an *Error with Outcome
// ct_noncompliant. Under "report" such a leaf is accepted and nothing is
// returned or logged here: the checker's Decision carries the outcome for
// callers that check chains themselves (engine.Checker.CheckDER).
package gotls

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"

	"github.com/revocheck/revocheck/core/engine"
	"github.com/revocheck/revocheck/core/outcome"
)

// Error reports a certificate refused by revocheck.
type Error struct {
	Subject string          // subject of the refused certificate
	Depth   int             // 0 for the end-entity certificate
	Outcome outcome.Outcome // revoked, or the outcome the policy denied
	Reason  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("revocheck: certificate %q (depth %d): %s", e.Subject, e.Depth, e.Reason)
}

// CTError reports a certificate refused under policy.ct = enforce: its
// embedded SCTs do not satisfy the Certificate Transparency policy
// (outcome ct_noncompliant). errors.As also finds it as an *Error.
type CTError struct {
	Subject string // subject of the refused certificate
	Depth   int    // 0: CT applies to end-entity certificates
	Reason  string
}

func (e *CTError) Error() string {
	return fmt.Sprintf("revocheck: certificate %q (depth %d) is not Certificate Transparency compliant: %s",
		e.Subject, e.Depth, e.Reason)
}

// Unwrap returns the refusal as an *Error, for callers that handle every
// refusal alike.
func (e *CTError) Unwrap() error {
	return &Error{Subject: e.Subject, Depth: e.Depth, Outcome: outcome.CTNoncompliant, Reason: e.Reason}
}

// refusal is the error for a certificate the policy denies.
func refusal(cert *x509.Certificate, depth int, d engine.Decision) error {
	if d.Outcome == outcome.CTNoncompliant {
		return &CTError{Subject: cert.Subject.String(), Depth: depth, Reason: d.Reason()}
	}
	return &Error{Subject: cert.Subject.String(), Depth: depth, Outcome: d.Outcome, Reason: d.Reason()}
}

// VerifyConnection returns a tls.Config.VerifyConnection callback. It runs
// after crypto/tls verified the chain, and checks every certificate of the
// verified chain that has an issuer in it (end-entity and intermediates).
// The connection is accepted if some verified chain passes. With
// InsecureSkipVerify there is no verified chain and nothing is checked,
// as curl -k behaves.
func VerifyConnection(c *engine.Checker) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		var first error
		for _, chain := range cs.VerifiedChains {
			err := checkChain(c, chain)
			if err == nil {
				return nil
			}
			if first == nil {
				first = err
			}
		}
		return first
	}
}

func checkChain(c *engine.Checker, chain []*x509.Certificate) error {
	for i := 0; i+1 < len(chain); i++ {
		d, err := c.CheckDER(chain[i].Raw, chain[i+1].Raw)
		if err != nil && d.Allowed {
			continue // unreadable input, allowed by the error policy
		}
		if !d.Allowed {
			return refusal(chain[i], i, d)
		}
	}
	return nil
}

// Transport returns a copy of base (http.DefaultTransport when nil) whose
// TLS connections are checked with c.
func Transport(c *engine.Checker, base *http.Transport) *http.Transport {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	t := base.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	prev := t.TLSClientConfig.VerifyConnection
	check := VerifyConnection(c)
	t.TLSClientConfig.VerifyConnection = func(cs tls.ConnectionState) error {
		if prev != nil {
			if err := prev(cs); err != nil {
				return err
			}
		}
		return check(cs)
	}
	return t
}
