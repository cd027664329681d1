package clubcard

import (
	"math/rand/v2"
	"testing"
)

// TestFastmod: the multiplication remainder agrees with % for edge and
// random divisors and numerators.
func TestFastmod(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ds := []uint64{1, 2, 3, 5, 7, 63, 64, 65, 1000, 1 << 31, 1<<32 - 1, 1 << 32, 1<<63 + 1, ^uint64(0)}
	for range 200 {
		ds = append(ds, rng.Uint64N(1<<32)+1, rng.Uint64()|1)
	}
	xs := []uint64{0, 1, 2, 1<<32 - 1, 1 << 32, 1<<63 - 1, 1 << 63, ^uint64(0) - 1, ^uint64(0)}
	for _, d := range ds {
		m := newFastmod(d)
		for _, x := range append(xs, rng.Uint64(), rng.Uint64(), d-1, d, d+1, 2*d, 2*d-1) {
			if got, want := m.mod(x, d), x%d; got != want {
				t.Fatalf("%d mod %d: got %d, want %d", x, d, got, want)
			}
		}
	}
}

// TestIssuerOrder: the index must be strictly increasing by issuer hash.
// The parse walk decides most files on 8-byte prefixes; issuers that
// share a prefix take the whole comparison. Both formats, both outcomes.
func TestIssuerOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	in := &BuildInput{Coverage: testCoverage(), Seed: 7}
	for i := range 3 {
		in.Issuers = append(in.Issuers, genIssuer(rng, uint32(i), 2, 5))
	}
	v4, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(v4)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"v4": v4, "v3": encodeV3(f)} {
		g, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		h0, h1 := g.ent[0], g.ent[1]
		mutate := func(fn func(d []byte)) error {
			d := append([]byte(nil), data...)
			fn(d)
			_, err := Parse(d)
			return err
		}
		cases := []struct {
			what string
			fn   func(d []byte)
			ok   bool
		}{
			{"swapped", func(d []byte) {
				var a [32]byte
				copy(a[:], d[h0:h0+32])
				copy(d[h0:h0+32], d[h1:h1+32])
				copy(d[h1:h1+32], a[:])
			}, false},
			{"duplicate", func(d []byte) { copy(d[h1:h1+32], d[h0:h0+32]) }, false},
			{"same prefix, second smaller", func(d []byte) {
				copy(d[h1:h1+8], d[h0:h0+8])
				copy(d[h1+8:h1+32], make([]byte, 24))
				d[h0+31] |= 1
			}, false},
			{"same prefix, second larger", func(d []byte) {
				copy(d[h1:h1+8], d[h0:h0+8])
				for i := h1 + 8; i < h1+32; i++ {
					d[i] = 0xff
				}
				d[h0+8] = 0 // h0's tail below h1's
			}, true},
		}
		for _, c := range cases {
			if err := mutate(c.fn); (err == nil) != c.ok {
				t.Errorf("%s %s: Parse error %v, want ok %v", name, c.what, err, c.ok)
			}
		}
	}
}
