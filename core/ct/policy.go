package ct

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/revocheck/revocheck/core/certinput"
)

// Verdict is Mozilla's CT policy applied to one certificate's embedded SCTs
// (Firefox's CTPolicyEnforcer, embedded-SCT case):
//
//   - at least one valid SCT from a log admissible now (usable, qualified,
//     readonly);
//   - SCTs from at least Required distinct logs that were qualified when
//     the certificate was issued: admissible logs, and retired logs whose
//     retirement came after both the SCT and the effective issuance time
//     (the earliest admissible SCT: notBefore can be backdated);
//     Required is 2 for a lifetime of at most 180 days, else 3;
//   - those logs run by at least 2 distinct operators.
type Verdict struct {
	Compliant    bool
	Reason       string // why not, in words; "" when compliant
	Exempt       string // why the policy does not judge this certificate (a CA's); "" when it does
	Required     int    // distinct logs required
	Logs         int    // distinct qualifying logs
	Operators    int    // distinct operators of those logs
	LifetimeDays int
}

// lifetimeForTwo is the longest lifetime satisfied by two SCTs.
const lifetimeForTwo = 180 * 24 * time.Hour

// Judge applies the policy to verified SCTs of a certificate of the given
// lifetime (notAfter - notBefore).
func Judge(results []Result, lifetime time.Duration) Verdict {
	v := Verdict{Required: 3, LifetimeDays: int(lifetime / (24 * time.Hour))}
	if lifetime <= lifetimeForTwo {
		v.Required = 2
	}
	issued := ^uint64(0)
	for _, r := range results {
		if r.Status == Valid {
			issued = min(issued, r.SCT.Timestamp)
		}
	}
	if issued == ^uint64(0) {
		v.Reason = "no valid SCT from a log admissible now"
		return v
	}
	var logs [][32]byte
	var ops []string
	for _, r := range results {
		ok := r.Status == Valid ||
			r.Status == ValidRetired && issued < uint64(r.Log.StateTime) && r.SCT.Timestamp < uint64(r.Log.StateTime)
		if !ok {
			continue
		}
		if !containsID(logs, r.SCT.LogID) {
			logs = append(logs, r.SCT.LogID)
		}
		if !containsOp(ops, r.Log.Operator) {
			ops = append(ops, r.Log.Operator)
		}
	}
	v.Logs, v.Operators = len(logs), len(ops)
	switch {
	case v.Logs < v.Required:
		v.Reason = fmt.Sprintf("valid SCTs from %d distinct log(s), %d required for a lifetime of %d days", v.Logs, v.Required, v.LifetimeDays)
	case v.Operators < 2:
		v.Reason = fmt.Sprintf("valid SCTs from %d log operator(s), 2 distinct operators required", v.Operators)
	default:
		v.Compliant = true
	}
	return v
}

func containsID(s [][32]byte, id [32]byte) bool {
	for _, x := range s {
		if x == id {
			return true
		}
	}
	return false
}

func containsOp(s []string, op string) bool {
	for _, x := range s {
		if x == op {
			return true
		}
	}
	return false
}

// validity reads notBefore and notAfter (UTCTime or GeneralizedTime).
func validity(c *certinput.Cert) (nb, na time.Time, err error) {
	nb, err1 := readTime(c.NotBefore)
	na, err2 := readTime(c.NotAfter)
	if err1 != nil || err2 != nil {
		return nb, na, errors.New("ct: the certificate's validity cannot be read")
	}
	return nb, na, nil
}

func readTime(elem []byte) (time.Time, error) {
	s := cryptobyte.String(elem)
	var t time.Time
	var ok bool
	if s.PeekASN1Tag(cbasn1.UTCTime) {
		ok = s.ReadASN1UTCTime(&t)
	} else {
		ok = s.ReadASN1GeneralizedTime(&t)
	}
	if !ok || !s.Empty() {
		return t, errors.New("bad time")
	}
	return t, nil
}

// oidBasicConstraints is 2.5.29.19.
var oidBasicConstraints = []byte{0x55, 0x1d, 0x13}

// isCA reports whether the certificate's basicConstraints say cA TRUE: the
// CT policy judges end-entity certificates, and an adapter checks every
// certificate of a chain against its issuer, intermediates included.
func isCA(c *certinput.Cert) bool {
	exts := cryptobyte.String(c.Extensions)
	for !exts.Empty() {
		var ext, oid, value cryptobyte.String
		if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) {
			return false
		}
		if string(oid) != string(oidBasicConstraints) {
			continue
		}
		ext.SkipOptionalASN1(cbasn1.BOOLEAN) // critical
		var bc cryptobyte.String
		if !ext.ReadASN1(&value, cbasn1.OCTET_STRING) || !value.ReadASN1(&bc, cbasn1.SEQUENCE) {
			return false
		}
		var ca bool // DEFAULT FALSE
		return bc.PeekASN1Tag(cbasn1.BOOLEAN) && bc.ReadASN1Boolean(&ca) && ca
	}
	return false
}
