package clubcard

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMembers builds filters over overlapping issuers, some blocks
// inverted (every serial revoked) and some with exceptions, and compares
// members (and AnyMember) with one Member call per filter for every key of the universe
// and for keys outside it, over random sets of filters.
func TestMembers(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	var universe []IssuerInput
	for i := range 6 {
		universe = append(universe, genIssuer(rng, uint32(i), 20+rng.IntN(40), 400+rng.IntN(400)))
	}
	// Filter j revokes a different part of each issuer's serials; issuer 0
	// is wholly revoked (an inverted block) in the odd filters.
	var fs []*Filter
	for j := range 9 {
		var in BuildInput
		in.Coverage = testCoverage()
		for k, is := range universe {
			if (j+k)%4 == 0 {
				continue // not enrolled in this filter
			}
			all := append(append([][]byte{}, is.Revoked...), is.NotRevoked...)
			var out IssuerInput
			out.SPKIHash = is.SPKIHash
			for n, s := range all {
				if (n+j)%(3+40*(k%2)) == 0 || (k == 0 && j%2 == 1) {
					out.Revoked = append(out.Revoked, s)
				} else {
					out.NotRevoked = append(out.NotRevoked, s)
				}
			}
			in.Issuers = append(in.Issuers, out)
		}
		// The builder makes exceptions only on rare collisions: add some.
		// Listing a revoked serial as an exception answers it not revoked.
		f := buildParse(t, &in)
		ex := map[int][][]byte{}
		for i := range f.NumIssuers() {
			if i%2 == 0 {
				h := f.IssuerHash(i)
				for _, is := range in.Issuers {
					if is.SPKIHash == h && len(is.Revoked) > 0 {
						ex[i] = [][]byte{is.Revoked[0]}
					}
				}
			}
		}
		f, err := Parse(reencodeV4(f, ex))
		require.NoError(t, err)
		fs = append(fs, f)
	}
	// members' slow paths: the same filters in v3, and with every column
	// cut short (the last words of some windows are then implicit zeros;
	// the answers change, and must still be Member's).
	for _, f := range fs[:3] {
		v3, err := Parse(encodeV3(f))
		require.NoError(t, err)
		cut := *f
		cut.approx = slices.Clone(f.approx)
		for i := range cut.approx {
			c := &cut.approx[i]
			n := c.n - min(c.n, 3+uint64(i))
			*c = column{b: c.b[:8*n], n: n}
		}
		short, err := Parse(reencodeV4(&cut, nil))
		require.NoError(t, err)
		fs = append(fs, v3, short)
	}
	inverted, exceptions := 0, 0
	for _, is := range universe {
		var bs []Block
		var enrolled uint64
		for j, f := range fs {
			var b Block
			if i := f.Find(&is.SPKIHash); i >= 0 {
				b = f.Block(i)
				enrolled |= 1 << j
				if b.inverted {
					inverted++
				}
				exceptions += int(b.nexc)
			}
			bs = append(bs, b)
		}
		serials := append(append([][]byte{}, is.Revoked...), is.NotRevoked...)
		for range 50 {
			serials = append(serials, []byte{byte(rng.Uint32()), byte(rng.Uint32()), 7})
		}
		for _, s := range serials {
			key := Key(&is.SPKIHash, s)
			set := enrolled & rng.Uint64()
			var want uint64
			for j := range fs {
				if set>>j&1 == 1 && fs[j].Member(&bs[j], &key, s) {
					want |= 1 << j
				}
			}
			if got := members(fs, bs, set, &key, s, false); got != want {
				t.Fatalf("issuer %x serial %x set %b: members %b, Member %b", is.SPKIHash[:4], s, set, got, want)
			}
			if any := AnyMember(fs, bs, set, &key, s); any != (want != 0) {
				t.Fatalf("issuer %x serial %x set %b: AnyMember %v, Member %b", is.SPKIHash[:4], s, set, any, want)
			}
		}
	}
	if inverted == 0 || exceptions == 0 {
		t.Fatalf("%d inverted blocks, %d exceptions: the test does not cover both", inverted, exceptions)
	}
}
