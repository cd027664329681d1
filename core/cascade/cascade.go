// Package cascade reads Mozilla's legacy CRLite data: the multi-level Bloom
// filter cascade ("MLBF", the format of mozilla/rust-cascade and the Python
// filter-cascade package) and the stash files that served as its deltas.
//
// # Cascade format
//
// All integers little-endian:
//
//	u16 version                       1 or 2
//	version 2 only: u8 inverted (0|1), u8 salt_len, salt[salt_len]
//	layers until the end of the data, at least one:
//	  u8  hash_alg                    1 MurmurHash3, 2 SHA-256 l32, 3 SHA-256 ctr; the same in every layer
//	  u32 size_bits
//	  u32 n_hash_funcs
//	  u8  layer_no                    1, 2, 3, ... in order
//	  bits[ceil(size_bits/8)]         bit i is bit i%8 (LSB first) of byte i/8
//
// A key is in the cascade when the first layer that does not contain it has
// an even layer number (or every layer contains it and their count is odd),
// the whole answer flipped when the file says inverted. For CRLite the key is
// the issuer's SPKI SHA-256 followed by the serial's DER INTEGER content
// bytes (see [Key]), and membership means revoked.
//
// # Stash format
//
// Repeated until the end of the data: u32le count, u8 issuer_len (32),
// issuer SPKI SHA-256, then count times (u8 serial_len, serial). Every listed
// (issuer, serial) is revoked.
package cascade

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/spaolacci/murmur3"
)

// HashAlg is a layer's index-generating function.
type HashAlg uint8

const (
	MurmurHash3 HashAlg = 1 // MurmurHash3 x86_32, seed (i << 16) + layer
	SHA256L32   HashAlg = 2 // first 4 bytes (LE) of SHA-256(salt ‖ u32le(i) ‖ u8(layer) ‖ key)
	SHA256Ctr   HashAlg = 3 // a SHA-256 counter-mode byte stream shared by all layers
)

func (h HashAlg) String() string {
	switch h {
	case MurmurHash3:
		return "murmurhash3"
	case SHA256L32:
		return "sha256l32"
	case SHA256Ctr:
		return "sha256ctr"
	}
	return fmt.Sprintf("hashalg(%d)", uint8(h))
}

// MaxHashFuncs bounds a layer's hash function count. Real cascades use at
// most a few dozen; the bound keeps a hostile file from turning one lookup
// into billions of hash computations.
const MaxHashFuncs = 256

// MaxTotalHashFuncs bounds the hash functions of all layers together, which
// is what one lookup may compute: real cascades use about a hundred, while
// a 15 KB file of tiny layers at MaxHashFuncs each would cost a lookup
// 350 000 hashes (a tenth of a second) without it.
const MaxTotalHashFuncs = 4096

// Error is the type of every parse error of this package.
type Error struct{ msg string }

func (e *Error) Error() string { return "cascade: " + e.msg }

func errorf(format string, args ...any) error {
	return &Error{msg: fmt.Sprintf(format, args...)}
}

// IsError reports whether err came from this package.
func IsError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

type layer struct {
	size  uint32 // bits
	nHash uint32
	bits  []byte // ceil(size/8) bytes, aliasing the parsed data
}

// Cascade is a parsed filter cascade. It aliases the data given to Parse,
// which must not change while the Cascade is in use (a read-only mmap is
// ideal). It is safe for concurrent use.
type Cascade struct {
	version  uint16
	inverted bool
	salt     []byte
	alg      HashAlg
	layers   []layer
}

// Parse decodes a filter cascade, checking every length against the data
// before using it. Trailing bytes that do not form a complete layer are an
// error, as in rust-cascade.
func Parse(data []byte) (*Cascade, error) {
	if len(data) < 2 {
		return nil, errorf("truncated version")
	}
	c := &Cascade{version: binary.LittleEndian.Uint16(data)}
	p := data[2:]
	switch c.version {
	case 1:
	case 2:
		if len(p) < 2 {
			return nil, errorf("truncated v2 header")
		}
		if p[0] > 1 {
			return nil, errorf("invalid inverted flag %d", p[0])
		}
		c.inverted = p[0] == 1
		saltLen := int(p[1])
		p = p[2:]
		if len(p) < saltLen {
			return nil, errorf("truncated salt")
		}
		c.salt = p[:saltLen:saltLen]
		p = p[saltLen:]
	default:
		return nil, errorf("unknown version %d", c.version)
	}
	var total uint64 // hash functions so far
	for len(p) > 0 {
		n := len(c.layers) + 1
		if len(p) < 10 {
			return nil, errorf("truncated header of layer %d", n)
		}
		alg := HashAlg(p[0])
		size := binary.LittleEndian.Uint32(p[1:])
		nHash := binary.LittleEndian.Uint32(p[5:])
		layerNo := p[9]
		p = p[10:]
		if alg < MurmurHash3 || alg > SHA256Ctr {
			return nil, errorf("unknown hash algorithm %d in layer %d", alg, n)
		}
		if n == 1 {
			c.alg = alg
		} else if alg != c.alg {
			return nil, errorf("layer %d uses hash algorithm %d, layer 1 uses %d", n, alg, c.alg)
		}
		if int(layerNo) != n {
			return nil, errorf("layer %d is numbered %d", n, layerNo)
		}
		if size == 0 {
			return nil, errorf("layer %d has zero size", n)
		}
		if nHash > MaxHashFuncs {
			return nil, errorf("layer %d has %d hash functions (max %d)", n, nHash, MaxHashFuncs)
		}
		if total += uint64(nHash); total > MaxTotalHashFuncs {
			return nil, errorf("layers 1 to %d have %d hash functions together (max %d)", n, total, MaxTotalHashFuncs)
		}
		byteCount := (uint64(size) + 7) / 8
		if uint64(len(p)) < byteCount {
			return nil, errorf("truncated bits of layer %d: %d bytes, want %d", n, len(p), byteCount)
		}
		c.layers = append(c.layers, layer{size: size, nHash: nHash, bits: p[:byteCount:byteCount]})
		p = p[byteCount:]
	}
	if len(c.layers) == 0 {
		return nil, errorf("no layers")
	}
	return c, nil
}

// Version is the format version (1 or 2).
func (c *Cascade) Version() int { return int(c.version) }

// Inverted reports whether the file inverts the membership answer.
func (c *Cascade) Inverted() bool { return c.inverted }

// Salt is the v2 salt (empty for v1); it aliases the parsed data.
func (c *Cascade) Salt() []byte { return c.salt }

// HashAlg is the index function shared by every layer.
func (c *Cascade) HashAlg() HashAlg { return c.alg }

// Layers is the number of layers.
func (c *Cascade) Layers() int { return len(c.layers) }

// LayerSize returns layer i's (0-based) size in bits and hash function count.
func (c *Cascade) LayerSize(i int) (sizeBits, hashFuncs uint32) {
	return c.layers[i].size, c.layers[i].nHash
}

// BitCount is the total size of all layers in bits.
func (c *Cascade) BitCount() uint64 {
	var n uint64
	for _, l := range c.layers {
		n += uint64(l.size)
	}
	return n
}

// Has reports whether key is in the set the cascade encodes. It does not
// allocate for keys up to a few hundred bytes.
func (c *Cascade) Has(key []byte) bool {
	return c.has(key, false)
}

// has is Has; pythonCtr selects the Python generator's SHA256Ctr byte count
// instead of Rust's, which only tests reading Python-written files need.
func (c *Cascade) has(key []byte, pythonCtr bool) bool {
	g := indexGen{alg: c.alg, key: key, salt: c.salt, pythonCtr: pythonCtr}
	in := false
	for i := range c.layers {
		l := &c.layers[i]
		g.startLayer(uint8(i + 1))
		if !l.has(&g) {
			break
		}
		// Contained in layer i+1: a member if no deeper layer claims it.
		in = !in
	}
	return in != c.inverted
}

func (l *layer) has(g *indexGen) bool {
	for range l.nHash {
		bit := g.next(l.size)
		if l.bits[bit/8]&(1<<(bit%8)) == 0 {
			return false
		}
	}
	return true
}

// KeySize is the length of a CRLite cascade key for a serial of n bytes.
func KeySize(n int) int { return sha256.Size + n }

// Key appends the legacy CRLite cascade key for a certificate to dst: the
// issuer's SPKI SHA-256 followed by the serial's DER INTEGER content bytes
// (leading 0x00 kept), as in rust-cascade's tests and moz_crlite_query.
func Key(dst []byte, issuerSPKIHash *[32]byte, serial []byte) []byte {
	dst = append(dst, issuerSPKIHash[:]...)
	return append(dst, serial...)
}

// HasCert is Has(Key(nil, issuerSPKIHash, serial)) without allocating for
// serials of up to 64 bytes (RFC 5280 allows at most 20).
func (c *Cascade) HasCert(issuerSPKIHash *[32]byte, serial []byte) bool {
	var buf [32 + 64]byte
	return c.Has(Key(buf[:0], issuerSPKIHash, serial))
}

// indexGen produces a key's bit indexes, layer after layer, as rust-cascade's
// CascadeIndexGenerator does.
type indexGen struct {
	alg     HashAlg
	key     []byte
	salt    []byte
	depth   uint8  // current layer number, 1-based (murmur, l32)
	counter uint32 // hash function number in the layer (murmur, l32), block number (ctr)
	// SHA256Ctr only: the current block and how many of its bytes are unread.
	state     [32]byte
	avail     int
	pythonCtr bool
}

func (g *indexGen) startLayer(depth uint8) {
	if g.alg == SHA256Ctr {
		return // one stream across all layers
	}
	g.depth = depth
	g.counter = 0
}

// next returns the next index in [0, size).
func (g *indexGen) next(size uint32) uint32 {
	var h uint32
	switch g.alg {
	case MurmurHash3:
		h = murmur3.Sum32WithSeed(g.key, g.counter<<16+uint32(g.depth))
		g.counter++
	case SHA256L32:
		var buf [512]byte
		var cb [5]byte
		binary.LittleEndian.PutUint32(cb[:], g.counter)
		cb[4] = g.depth
		d := sumParts(buf[:0], g.salt, cb[:], g.key)
		h = binary.LittleEndian.Uint32(d[:4])
		g.counter++
	case SHA256Ctr:
		// As many stream bytes as it takes to write size-1 (rust-cascade:
		// the bits of size.next_power_of_two(), rounded up to bytes).
		// The Python generator takes one byte more when size is a power
		// of 256; production data follows Rust, and so does this reader.
		n := (bits.Len32(size-1) + 7) / 8
		if g.pythonCtr {
			n = (bits.Len32(size) + 7) / 8
		}
		var idx [4]byte
		for i := range n {
			if g.avail == 0 {
				var buf [512]byte
				var cb [4]byte
				binary.LittleEndian.PutUint32(cb[:], g.counter)
				g.state = sumParts(buf[:0], cb[:], g.salt, g.key)
				g.avail = len(g.state)
				g.counter++
			}
			idx[i] = g.state[len(g.state)-g.avail]
			g.avail--
		}
		h = binary.LittleEndian.Uint32(idx[:])
	}
	return h % size
}

// sumParts is the SHA-256 of the concatenated parts, built in buf when it
// fits so the common case does not allocate.
func sumParts(buf []byte, parts ...[]byte) [32]byte {
	for _, p := range parts {
		buf = append(buf, p...)
	}
	return sha256.Sum256(buf)
}
