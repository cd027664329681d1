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
