package ct

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/ctlog"
)

// Status is one SCT's verdict.
type Status uint8

const (
	Valid                Status = iota + 1 // signature good, log admissible (usable, qualified, readonly)
	ValidRetired                           // signature good, log retired after the SCT's timestamp
	UnknownLog                             // the log is not in the list
	LogNotAdmissible                       // the log is pending or rejected: never counted
	LogRetiredBefore                       // the log was retired at or before the SCT's timestamp
	FutureTimestamp                        // the SCT is dated after the time of the check
	BadSignature                           // the log's key does not verify the signature
	UnsupportedVersion                     // not a v1 SCT
	UnsupportedAlgorithm                   // not SHA-256 with the log's key type
)

var statusNames = [...]string{
	Valid: "valid", ValidRetired: "valid (log retired later)", UnknownLog: "unknown log",
	LogNotAdmissible: "log not admissible (pending or rejected)", LogRetiredBefore: "log retired before the SCT's timestamp",
	FutureTimestamp: "timestamp in the future", BadSignature: "bad signature",
	UnsupportedVersion: "unsupported SCT version", UnsupportedAlgorithm: "unsupported signature algorithm",
}

func (s Status) String() string {
	if int(s) < len(statusNames) && statusNames[s] != "" {
		return statusNames[s]
	}
	return "unknown"
}

// Result is one SCT and its verdict.
type Result struct {
	SCT    SCT
	Status Status
	Log    *ctlog.Log // nil when the log is unknown
}

// Report is the CT check of one certificate.
type Report struct {
	Results []Result
	Verdict Verdict
	Err     error // the certificate or its SCT list could not be read: not compliant
}

// Check verifies the embedded SCTs of leaf (DER) against list, issued by
// the CA whose SubjectPublicKeyInfo hashes to issuerSPKIHash, at time now,
// and judges them by Mozilla's CT policy.
func Check(list *ctlog.List, leaf []byte, issuerSPKIHash *[32]byte, now time.Time) *Report {
	r := &Report{}
	var c certinput.Cert
	if err := certinput.ParseCert(leaf, &c); err != nil {
		r.Err = err
		r.Verdict = Verdict{Reason: "the certificate cannot be read: " + err.Error()}
		return r
	}
	if isCA(&c) {
		r.Verdict = Verdict{Compliant: true, Exempt: "a CA certificate: the CT policy judges end-entity certificates"}
		return r
	}
	nb, na, err := validity(&c)
	if err != nil {
		r.Err = err
		r.Verdict = Verdict{Reason: err.Error()}
		return r
	}
	if c.SCTList != nil {
		r.Results, r.Err = Verify(list, c.TBS, c.SCTList, issuerSPKIHash, now)
	}
	r.Verdict = Judge(r.Results, na.Sub(nb))
	if r.Err != nil {
		r.Verdict.Compliant = false
		r.Verdict.Reason = "the SCT list cannot be read: " + r.Err.Error()
	}
	return r
}

// Verify checks every SCT of the list extension sctExt (an OCTET STRING
// element) of the certificate whose TBS is tbs.
func Verify(list *ctlog.List, tbs, sctExt []byte, issuerSPKIHash *[32]byte, now time.Time) ([]Result, error) {
	scts, err := ParseList(sctExt)
	if err != nil {
		return nil, err
	}
	if len(scts) == 0 {
		return nil, nil
	}
	pre, err := PrecertTBS(tbs)
	if err != nil {
		return nil, err
	}
	nowMS := uint64(max(now.UnixMilli(), 0))
	out := make([]Result, len(scts))
	for i := range scts {
		out[i] = verifyOne(list, &scts[i], pre, issuerSPKIHash, nowMS)
	}
	return out, nil
}

func verifyOne(list *ctlog.List, s *SCT, pre []byte, issuerKeyHash *[32]byte, nowMS uint64) Result {
	r := Result{SCT: *s}
	if s.Version != 0 {
		r.Status = UnsupportedVersion
		return r
	}
	r.Log = list.Find(&s.LogID)
	if r.Log == nil {
		r.Status = UnknownLog
		return r
	}
	if err := verifySig(r.Log.Public, s, SignedData(s, issuerKeyHash, pre)); err != nil {
		r.Status = BadSignature
		if errors.Is(err, errAlg) {
			r.Status = UnsupportedAlgorithm
		}
		return r
	}
	if s.Timestamp > nowMS {
		r.Status = FutureTimestamp
		return r
	}
	switch r.Log.State {
	case ctlog.Usable, ctlog.Qualified, ctlog.ReadOnly:
		r.Status = Valid
	case ctlog.Retired:
		if r.Log.StateTime != 0 && s.Timestamp < uint64(r.Log.StateTime) {
			r.Status = ValidRetired
		} else {
			r.Status = LogRetiredBefore
		}
	default:
		r.Status = LogNotAdmissible
	}
	return r
}

var errAlg = errors.New("ct: unsupported algorithm")

// verifySig checks a digitally-signed SHA-256 signature with the log's key:
// ECDSA (DER signature) or RSASSA-PKCS1-v1_5.
func verifySig(pub any, s *SCT, data []byte) error {
	if s.HashAlg != HashSHA256 {
		return errAlg
	}
	h := sha256.Sum256(data)
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if s.SigAlg != SigECDSA {
			return errAlg
		}
		if !ecdsa.VerifyASN1(k, h[:], s.Signature) {
			return errors.New("ct: bad ECDSA signature")
		}
		return nil
	case *rsa.PublicKey:
		if s.SigAlg != SigRSA {
			return errAlg
		}
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], s.Signature)
	}
	return fmt.Errorf("%w: key %T", errAlg, pub)
}
