package main

import "github.com/revocheck/revocheck/core/certinput"

// The line format of `revocheck check --input` (and of the interop vectors
// in testdata/fixtures/mozilla-builder/*.queries):
//
//	ISSUER_SPKI_SHA256_HEX SERIAL_HEX SCTS [ignored fields...]
//
// SCTS is "-" (none) or LOGID_HEX:TIMESTAMP_MS[,LOGID_HEX:TIMESTAMP_MS...].
// Fields are separated by spaces or tabs; fields after the third are
// ignored, so the vector files, which carry the expected answers there, can
// be fed unchanged. Hex is either case. The serial is the DER INTEGER's
// content bytes exactly as given (a leading 00 is kept: another key).

const (
	maxRawSerial = 255 // bytes; clubcard.Key hashes up to this on the stack
	maxRawSCTs   = 256 // per line; a real certificate carries 2 to 5
)

// rawLineError is a static parse error: parsing allocates nothing, even
// when it fails.
type rawLineError struct{ msg string }

func (e *rawLineError) Error() string { return e.msg }

var (
	errRawFields    = &rawLineError{"want 3 fields: ISSUER_SPKI_SHA256_HEX SERIAL_HEX SCTS"}
	errRawIssuer    = &rawLineError{"issuer: want 64 hex digits (SHA-256 of the issuer's SubjectPublicKeyInfo)"}
	errRawSerial    = &rawLineError{"serial: want an even number of hex digits, 2 to 510"}
	errRawSCT       = &rawLineError{"scts: want - or LOGID_HEX:TIMESTAMP_MS[,...] (64 hex digits, a colon, decimal milliseconds)"}
	errRawTimestamp = &rawLineError{"scts: timestamp is not a decimal number below 2^64"}
	errRawManySCTs  = &rawLineError{"scts: more than 256 SCTs"}
)

// rawQuery holds one parsed line; In's slices point into its arrays, so
// one rawQuery serves every line without allocating.
type rawQuery struct {
	In     certinput.Input
	serial [maxRawSerial]byte
	scts   [maxRawSCTs]certinput.SCT
}

// parse reads one line (its newline removed; a trailing CR is blank) into
// q.In. On error q.In is unspecified.
func (q *rawQuery) parse(line []byte) error {
	issuer, rest := rawField(line)
	serial, rest := rawField(rest)
	scts, _ := rawField(rest)
	if len(scts) == 0 {
		return errRawFields
	}
	if len(issuer) != 64 || !unhex(q.In.IssuerSPKIHash[:], issuer) {
		return errRawIssuer
	}
	if len(serial) == 0 || len(serial)%2 != 0 || len(serial) > 2*maxRawSerial || !unhex(q.serial[:len(serial)/2], serial) {
		return errRawSerial
	}
	q.In.Serial = q.serial[:len(serial)/2]
	q.In.SCTs = q.scts[:0]
	if len(scts) == 1 && scts[0] == '-' {
		return nil
	}
	for {
		// LOGID_HEX ':' TIMESTAMP_MS, then ',' or the end of the field.
		if len(scts) < 66 || scts[64] != ':' {
			return errRawSCT
		}
		if len(q.In.SCTs) == maxRawSCTs {
			return errRawManySCTs
		}
		n := len(q.In.SCTs)
		q.In.SCTs = q.In.SCTs[:n+1]
		s := &q.In.SCTs[n]
		if !unhex(s.LogID[:], scts[:64]) {
			return errRawSCT
		}
		scts = scts[65:]
		i := 0
		for i < len(scts) && scts[i] != ',' {
			i++
		}
		var ok bool
		if s.Timestamp, ok = parseMillis(scts[:i]); !ok {
			return errRawTimestamp
		}
		if i == len(scts) {
			return nil
		}
		scts = scts[i+1:] // past the comma; an empty SCT after it fails above
	}
}

// rawField returns the first blank-separated field of s and what follows it.
func rawField(s []byte) (field, rest []byte) {
	i := 0
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	j := i
	for j < len(s) && !isBlank(s[j]) {
		j++
	}
	return s[i:j], s[j:]
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// parseMillis parses 1 to 20 decimal digits that fit in a uint64.
func parseMillis(s []byte) (uint64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range s {
		d := uint64(c - '0')
		if d > 9 || v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// unhex decodes exactly 2*len(dst) hex digits of src into dst.
func unhex(dst, src []byte) bool {
	if len(src) != 2*len(dst) {
		return false
	}
	var bad byte
	for i := range dst {
		hi, lo := hexVal[src[2*i]], hexVal[src[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo&0x0f
	}
	return bad&0x80 == 0
}

// hexVal maps a hex digit to its value and anything else to 0xff.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
		t[c-'a'+'A'] = byte(c - 'a' + 10)
	}
	return t
}()
