package intermediates

import (
	"bytes"
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
)

// MaxBucket bounds one XX.pem bucket (Mozilla's ~2 000 certificates spread
// over 256 buckets are ~20 KB each).
const MaxBucket = 64 << 20

// maxBlocks bounds the certificates of one bucket.
const maxBlocks = 1 << 16

// ParseBucket returns the DER of every CERTIFICATE block of an XX.pem
// bucket, in order. Anything else in the file (another block type, a
// block that is not one DER SEQUENCE) is an error: a bucket is written by
// a mirror, never by hand. Text between blocks is ignored, as PEM allows.
func ParseBucket(data []byte) ([][]byte, error) {
	if len(data) > MaxBucket {
		return nil, fmt.Errorf("intermediates: bucket of %d bytes, more than %d", len(data), MaxBucket)
	}
	var out [][]byte
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("intermediates: bucket holds a %q block", b.Type)
		}
		if !isSequence(b.Bytes) {
			return nil, errors.New("intermediates: bucket holds a block that is not a DER certificate")
		}
		if len(out) == maxBlocks {
			return nil, fmt.Errorf("intermediates: bucket holds more than %d certificates", maxBlocks)
		}
		out = append(out, b.Bytes)
	}
	if bytes.Contains(rest, []byte("-----BEGIN")) {
		return nil, errors.New("intermediates: bucket ends in a malformed PEM block")
	}
	return out, nil
}

// isSequence: b is exactly one DER SEQUENCE (short or long definite length).
func isSequence(b []byte) bool {
	if len(b) < 2 || b[0] != 0x30 {
		return false
	}
	n, hdr := int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return false
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		hdr += k
	}
	return len(b)-hdr == n
}

// Bucket is one XX.pem file of upki's layout.
type Bucket struct {
	Name string // "XX.pem", XX the first byte of SHA-256(DER) in hex
	PEM  []byte // the certificates of that byte, sorted by SHA-256(DER)
}

// Buckets lays ders out as upki does: deduplicated, grouped by the first
// byte of SHA-256(DER), each bucket sorted by that hash; buckets in name
// order.
func Buckets(ders [][]byte) []Bucket {
	type cert struct {
		sum [32]byte
		der []byte
	}
	by := map[byte][]cert{}
	seen := map[[32]byte]bool{}
	for _, der := range ders {
		s := sha256.Sum256(der)
		if !seen[s] {
			seen[s] = true
			by[s[0]] = append(by[s[0]], cert{s, der})
		}
	}
	var out []Bucket
	for b := 0; b < 256; b++ {
		certs := by[byte(b)]
		if len(certs) == 0 {
			continue
		}
		slices.SortFunc(certs, func(x, y cert) int { return bytes.Compare(x.sum[:], y.sum[:]) })
		var buf bytes.Buffer
		for _, c := range certs {
			pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.der})
		}
		out = append(out, Bucket{fmt.Sprintf("%02x.pem", b), buf.Bytes()})
	}
	return out
}
