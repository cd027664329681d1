package ctlog

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// OIDs (content bytes) of the two key types RFC 6962 §2.1.4 allows.
var (
	oidECPublicKey = []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}             // 1.2.840.10045.2.1
	oidP256        = []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}       // 1.2.840.10045.3.1.7
	oidRSA         = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01} // 1.2.840.113549.1.1.1
)

var errKey = errors.New("key: not a DER SubjectPublicKeyInfo of ECDSA P-256 or RSA")

// ParseKey parses a log's DER SubjectPublicKeyInfo: ECDSA P-256 or RSA of
// 2048 to 4096 bits, the keys RFC 6962 §2.1.4 allows. Read here with
// cryptobyte rather than crypto/x509.ParsePKIXPublicKey: x509 would add
// about 1 MB to librevocheck.so, loaded into every TLS program, for two
// key shapes (docs/BENCHMARKS.md "CT verification").
func ParseKey(der []byte) (any, error) {
	if len(der) > maxKeyLen {
		return nil, errors.New("key too long")
	}
	in := cryptobyte.String(der)
	var spki, alg, oid cryptobyte.String
	var bits cryptobyte.String
	if !in.ReadASN1(&spki, cbasn1.SEQUENCE) || !in.Empty() ||
		!spki.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) ||
		!spki.ReadASN1(&bits, cbasn1.BIT_STRING) || !spki.Empty() || len(bits) < 1 || bits[0] != 0 {
		return nil, errKey
	}
	key := bits[1:] // whole bytes: no unused bits
	switch {
	case string(oid) == string(oidECPublicKey):
		var curve cryptobyte.String
		if !alg.ReadASN1(&curve, cbasn1.OBJECT_IDENTIFIER) || !alg.Empty() || string(curve) != string(oidP256) {
			return nil, errors.New("key: ECDSA key not on P-256")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), key)
		if err != nil {
			return nil, fmt.Errorf("key: %v", err)
		}
		return pub, nil
	case string(oid) == string(oidRSA):
		if !alg.Empty() && !(alg.PeekASN1Tag(cbasn1.NULL) && alg.SkipASN1(cbasn1.NULL) && alg.Empty()) {
			return nil, errKey
		}
		k := cryptobyte.String(key)
		var seq cryptobyte.String
		n, e := new(big.Int), 0
		if !k.ReadASN1(&seq, cbasn1.SEQUENCE) || !k.Empty() || !seq.ReadASN1Integer(n) || !seq.ReadASN1Integer(&e) || !seq.Empty() {
			return nil, errKey
		}
		if n.Sign() <= 0 || e < 3 || e&1 == 0 {
			return nil, errors.New("key: bad RSA modulus or exponent")
		}
		if b := n.BitLen(); b < 2048 || b > 4096 {
			return nil, fmt.Errorf("key: RSA key of %d bits", b)
		}
		return &rsa.PublicKey{N: n, E: e}, nil
	}
	return nil, errKey
}
