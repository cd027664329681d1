// Package outcome defines the result of a revocation check. The numeric
// values are part of the C ABI (revocheck.h) and never change.
package outcome

// Outcome is the answer of one check.
type Outcome uint8

const (
	Revoked     Outcome = 1 // a covering filter or revocation set says revoked
	NotRevoked  Outcome = 2 // covered and not revoked
	NotEnrolled Outcome = 3 // covered, but the issuer is not in the data
	NotCovered  Outcome = 4 // no data covers the certificate (e.g. no SCTs)
	NoData      Outcome = 5 // cache missing or unreadable
	Stale       Outcome = 6 // newest data older than the configured maximum age
	Error       Outcome = 7 // bad input or internal error
	// CTNoncompliant: not revoked, but the certificate's embedded SCTs do
	// not satisfy the CT policy (policy.ct = enforce or report only).
	CTNoncompliant Outcome = 8
)

// Last is the highest outcome value.
const Last = CTNoncompliant

var names = [...]string{
	Revoked:        "revoked",
	NotRevoked:     "not_revoked",
	NotEnrolled:    "not_enrolled",
	NotCovered:     "not_covered",
	NoData:         "no_data",
	Stale:          "stale",
	Error:          "error",
	CTNoncompliant: "ct_noncompliant",
}

// String returns the stable lowercase name ("not_covered"), "unknown" for
// values outside the enum.
func (o Outcome) String() string {
	if int(o) < len(names) && names[o] != "" {
		return names[o]
	}
	return "unknown"
}

// Parse is the inverse of String; it also accepts "-" for "_"
// ("not-covered"), the spelling of the config file's keys.
func Parse(s string) (Outcome, bool) {
	for i, n := range names {
		if n == "" {
			continue
		}
		if s == n || s == dash(n) {
			return Outcome(i), true
		}
	}
	return 0, false
}

func dash(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == '_' {
			b[i] = '-'
		}
	}
	return string(b)
}

// All lists every outcome in ABI order.
func All() []Outcome {
	return []Outcome{Revoked, NotRevoked, NotEnrolled, NotCovered, NoData, Stale, Error, CTNoncompliant}
}
