package main

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"

	"github.com/revocheck/revocheck/core/certinput"
)

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
	// logs remembers decoded log ids by their hex digits: a few dozen CT
	// logs sign every certificate, so most SCTs of a line are a compare
	// of 64 bytes, not a decode (a quarter of a line's parsing).
	logs [64]struct {
		hex [64]byte
		id  [32]byte
		set bool
	}
}

// parse reads one line (its newline removed; a trailing CR is blank) into
// q.In, in one pass over its bytes. On error q.In is unspecified.
func (q *rawQuery) parse(line []byte) error {
	if err := q.parseFields(line); err != nil {
		if countFields(line) < 3 { // the slow path only: name the real fault
			return errRawFields
		}
		return err
	}
	return nil
}

func (q *rawQuery) parseFields(line []byte) error {
	p := skipBlanks(line, 0)
	// The issuer: exactly 64 hex digits, then a blank.
	if len(line)-p < 65 || !isBlank(line[p+64]) || !unhex32(&q.In.IssuerSPKIHash, line[p:p+64]) {
		return errRawIssuer
	}
	p = skipBlanks(line, p+65)
	// The serial: an even number of hex digits, then a blank.
	e := p
	for e < len(line) && !isBlank(line[e]) {
		e++
	}
	n := e - p
	if e == len(line) || n == 0 || n%2 != 0 || n > 2*maxRawSerial || !unhex(q.serial[:n/2], line[p:e]) {
		return errRawSerial
	}
	q.In.Serial = q.serial[:n/2]
	q.In.SCTs = q.scts[:0]
	p = skipBlanks(line, e)
	if p+1 <= len(line) && line[p] == '-' && (p+1 == len(line) || isBlank(line[p+1])) {
		return nil
	}
	for {
		// LOGID_HEX ':' TIMESTAMP_MS, then ',' and the next, or the end
		// of the field.
		if len(line)-p < 65 || line[p+64] != ':' {
			return errRawSCT
		}
		if len(q.In.SCTs) == maxRawSCTs {
			return errRawManySCTs
		}
		k := len(q.In.SCTs)
		q.In.SCTs = q.In.SCTs[:k+1]
		s := &q.In.SCTs[k]
		src := (*[64]byte)(line[p : p+64])
		memo := &q.logs[binary.LittleEndian.Uint64(src[:8])*0x9e3779b97f4a7c15>>58]
		if memo.set && memo.hex == *src {
			s.LogID = memo.id
		} else {
			if !unhex32(&s.LogID, src[:]) {
				return errRawSCT
			}
			memo.hex, memo.id, memo.set = *src, s.LogID, true
		}
		p += 65
		var ok bool
		if s.Timestamp, p, ok = parseMillis(line, p); !ok {
			return errRawTimestamp
		}
		if p == len(line) || isBlank(line[p]) {
			return nil
		}
		if line[p] != ',' {
			return errRawTimestamp
		}
		p++
	}
}

func skipBlanks(s []byte, i int) int {
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	return i
}

// countFields counts the blank-separated fields of s.
func countFields(s []byte) int {
	n := 0
	for i := skipBlanks(s, 0); i < len(s); i = skipBlanks(s, i) {
		n++
		for i < len(s) && !isBlank(s[i]) {
			i++
		}
	}
	return n
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// parseMillis parses the 1 to 20 decimal digits at s[i:] as a uint64 and
// returns it and the index past them.
func parseMillis(s []byte, i int) (uint64, int, bool) {
	var v uint64
	start := i
	// 19 digits cannot overflow (10^19 - 1 < 2^64); only a 20th is checked.
	for ; i < len(s) && s[i]-'0' <= 9 && i-start < 19; i++ {
		v = v*10 + uint64(s[i]-'0')
	}
	if i < len(s) && s[i]-'0' <= 9 {
		d := uint64(s[i] - '0')
		if v > (1<<64-1-d)/10 {
			return 0, i, false
		}
		v = v*10 + d
		i++
		if i < len(s) && s[i]-'0' <= 9 {
			return 0, i, false // 21 digits
		}
	}
	return v, i, i > start
}

// unhex32 decodes 64 hex digits (a SHA-256 hash: the issuer, a log id),
// eight at a time in a word, with one validity test at the end.
func unhex32(dst *[32]byte, src []byte) bool {
	if len(src) != 64 {
		return false
	}
	var bad uint64
	for i := range 8 {
		// unhex8, written out: the compiler does not inline it.
		x := binary.LittleEndian.Uint64(src[8*i:])
		l := x | ones*0x20
		digit := (ones*(127+'9'+1) - x) & ^x & (x + ones*(127-('0'-1))) & highs
		letter := (ones*(127+'f'+1) - l) & ^l & (l + ones*(127-('a'-1))) & highs
		bad |= x&highs | ((digit | letter) ^ highs)
		v := x&(ones*0x0f) + (x>>6)&ones*9
		v = (v<<4 | v>>8) & 0x00ff00ff00ff00ff
		v = (v | v>>8) & 0x0000ffff0000ffff
		v = (v | v>>16) & 0xffffffff
		binary.LittleEndian.PutUint32(dst[4*i:], uint32(v))
	}
	return bad == 0
}

// unhex decodes exactly 2*len(dst) hex digits of src into dst (a serial).
func unhex(dst, src []byte) bool {
	if len(src) != 2*len(dst) {
		return false
	}
	var bad uint64 // a high bit per byte not a hex digit
	for len(src) >= 8 {
		n, b := unhex8(binary.LittleEndian.Uint64(src))
		bad |= b
		binary.LittleEndian.PutUint32(dst, n)
		src, dst = src[8:], dst[4:]
	}
	var tail byte // 0xff (from hexVal) if any digit of the rest is not one
	for i := range dst {
		hi, lo := hexVal[src[2*i]], hexVal[src[2*i+1]]
		tail |= hi | lo
		dst[i] = hi<<4 | lo&0x0f
	}
	return bad == 0 && tail&0x80 == 0
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// unhex8 decodes the eight hex digits in x (the first in the low byte) to
// four bytes (the first in the low byte); bad has a high bit set for each
// byte of x that is not a hex digit.
func unhex8(x uint64) (n uint32, bad uint64) {
	// Bit Twiddling Hacks' hasbetween, valid for bytes below 0x80: a
	// high bit for each byte strictly between lo and hi. Letters are
	// tested after folding case (x|0x20), digits as they are.
	l := x | ones*0x20
	digit := (ones*(127+'9'+1) - x) & ^x & (x + ones*(127-('0'-1))) & highs
	letter := (ones*(127+'f'+1) - l) & ^l & (l + ones*(127-('a'-1))) & highs
	bad = x&highs | ((digit | letter) ^ highs)
	// A digit's value is its low nibble; a letter's (bit 0x40 set) is
	// its low nibble plus 9.
	v := x&(ones*0x0f) + (x>>6)&ones*9
	// Pair the nibbles: byte 2i gets v[2i]<<4 | v[2i+1], then squeeze.
	v = (v<<4 | v>>8) & 0x00ff00ff00ff00ff
	v = (v | v>>8) & 0x0000ffff0000ffff
	v = (v | v>>16) & 0xffffffff
	return uint32(v), bad
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

// appendRawLine appends in as a line that parse reads back (without the
// newline): the inverse of parse, for `filter build --queries` and tests.
func appendRawLine(b []byte, in *certinput.Input) []byte {
	b = hex.AppendEncode(b, in.IssuerSPKIHash[:])
	b = append(b, ' ')
	b = hex.AppendEncode(b, in.Serial)
	b = append(b, ' ')
	if len(in.SCTs) == 0 {
		return append(b, '-')
	}
	for i := range in.SCTs {
		if i > 0 {
			b = append(b, ',')
		}
		b = hex.AppendEncode(b, in.SCTs[i].LogID[:])
		b = append(b, ':')
		b = strconv.AppendUint(b, in.SCTs[i].Timestamp, 10)
	}
	return b
}
