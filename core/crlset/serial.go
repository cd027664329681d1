package crlset

import "bytes"

// Lookups by issuer Name (what NSS gives a trust module) take the serial as
// DER INTEGER content bytes, exactly: which encoding NSS meant is decided by
// the NSS module, which sees the order of NSS's queries (docs/NSS.md
// "Serial encodings"). Nothing here guesses between encodings.

// SharedName is a DER Name that several issuer keys carry.
type SharedName struct {
	Name []byte
	Keys [][32]byte // distinct SPKI hashes, in order of appearance
}

// SharedNames lists the names carried by more than one distinct issuer key
// (the same key in several sets counts once). A lookup by such a name cannot
// tell which CA a certificate came from: Store.LookupName does not answer
// for it.
func SharedNames(issuers []IssuerInfo) []SharedName {
	first := make(map[string]int, len(issuers)) // name → index in out, or -1-i of its first issuer
	var out []SharedName
	for i, in := range issuers {
		j, seen := first[string(in.Name)]
		switch {
		case !seen:
			first[string(in.Name)] = -1 - i
		case j < 0:
			k0 := issuers[-1-j].SPKIHash
			if k0 == in.SPKIHash {
				continue
			}
			first[string(in.Name)] = len(out)
			out = append(out, SharedName{Name: bytes.Clone(in.Name), Keys: [][32]byte{k0, in.SPKIHash}})
		default:
			if !containsKey(out[j].Keys, in.SPKIHash) {
				out[j].Keys = append(out[j].Keys, in.SPKIHash)
			}
		}
	}
	return out
}

func containsKey(keys [][32]byte, k [32]byte) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}
