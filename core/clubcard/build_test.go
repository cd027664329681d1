package clubcard

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/revocheck/revocheck/core/certinput"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// genIssuer makes an issuer with distinct serials of varied lengths: a
// random prefix (0-12 bytes, first byte non-zero) and an 8-byte counter.
func genIssuer(rng *rand.Rand, id uint32, nRevoked, nGood int) IssuerInput {
	var is IssuerInput
	for i := range is.SPKIHash {
		is.SPKIHash[i] = byte(rng.Uint32())
	}
	for j := range nRevoked + nGood {
		p := make([]byte, rng.IntN(13), 20)
		for i := range p {
			p[i] = byte(rng.Uint32()) | 1
		}
		s := binary.BigEndian.AppendUint64(p, uint64(id)<<32|uint64(j))
		if j < nRevoked {
			is.Revoked = append(is.Revoked, s)
		} else {
			is.NotRevoked = append(is.NotRevoked, s)
		}
	}
	return is
}

var testLog = [32]byte{1, 2, 3}

func testCoverage() []CoverageEntry {
	return []CoverageEntry{{LogID: testLog, Low: 1000, High: 2000}, {LogID: [32]byte{9}, Low: 0, High: 10}}
}

// checkAll asserts every key of the universe answers right, through both
// Contains and Query.
func checkAll(t *testing.T, f *Filter, issuers []IssuerInput) {
	t.Helper()
	in := certinput.Input{SCTs: []certinput.SCT{{LogID: [32]byte{7}, Timestamp: 1500}, {LogID: testLog, Timestamp: 1500}}}
	bad := 0
	for _, is := range issuers {
		in.IssuerSPKIHash = is.SPKIHash
		for k, set := range [][][]byte{is.NotRevoked, is.Revoked} {
			want := []Result{NotRevoked, Revoked}[k]
			for _, s := range set {
				in.Serial = s
				if got := f.Query(&in); got != want {
					if bad++; bad < 10 {
						t.Errorf("issuer %x serial %x: got %v, want %v", is.SPKIHash[:4], s, got, want)
					}
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d wrong answers", bad)
	}
}

func buildParse(t *testing.T, in *BuildInput) *Filter {
	t.Helper()
	data, err := Build(in)
	require.NoError(t, err)
	f, err := Parse(data)
	require.NoError(t, err, "parse of built filter")
	require.Equal(t, len(in.Issuers), f.NumIssuers(), "issuers")
	aw, ew, ex := f.Stats()
	t.Logf("%d bytes: approx %d words, exact %d words, %d exceptions", len(data), aw, ew, ex)
	return f
}

func TestBuildRoundTrip(t *testing.T) {
	type shape struct{ revoked, good int }
	cases := []struct {
		name   string
		shapes []shape
	}{
		{"one issuer one revoked", []shape{{1, 0}}},
		{"one revoked among many", []shape{{1, 5000}}},
		{"all revoked", []shape{{300, 0}}},
		{"none revoked", []shape{{0, 300}}},
		{"empty issuer", []shape{{0, 0}}},
		{"rank zero (half revoked)", []shape{{500, 400}}},
		{"mixed", []shape{{1, 0}, {0, 10}, {10, 0}, {0, 0}, {37, 20000}, {1000, 1000}, {200, 3000}, {5, 7}}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := &BuildInput{Coverage: testCoverage(), Seed: rng.Uint64()}
			for i, s := range c.shapes {
				in.Issuers = append(in.Issuers, genIssuer(rng, uint32(i), s.revoked, s.good))
			}
			f := buildParse(t, in)
			checkAll(t, f, in.Issuers)
			checkV3Equivalent(t, f, in.Issuers)
		})
	}
	t.Run("50 random issuers", func(t *testing.T) {
		for round := range 3 {
			in := &BuildInput{Coverage: testCoverage(), Seed: uint64(round + 1)}
			for i := range 50 {
				nr := rng.IntN(200)
				if rng.IntN(5) == 0 {
					nr = 0
				}
				in.Issuers = append(in.Issuers, genIssuer(rng, uint32(i), nr, rng.IntN(4000)))
			}
			f := buildParse(t, in)
			checkAll(t, f, in.Issuers)
		}
	})
}

func TestBuildNotEnrolledNotCovered(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	in := &BuildInput{Coverage: testCoverage(), Seed: 5}
	for i := range 5 {
		in.Issuers = append(in.Issuers, genIssuer(rng, uint32(i), 10, 100))
	}
	f := buildParse(t, in)
	stranger := genIssuer(rng, 99, 10, 10)
	q := certinput.Input{IssuerSPKIHash: stranger.SPKIHash, SCTs: []certinput.SCT{{LogID: testLog, Timestamp: 2000}}}
	for _, s := range append(stranger.Revoked, stranger.NotRevoked...) {
		q.Serial = s
		require.Equal(t, NotEnrolled, f.Query(&q), "unknown issuer")
		enrolled, _ := f.Contains(&q.IssuerSPKIHash, s)
		require.False(t, enrolled, "unknown issuer enrolled")
	}
	// A revoked serial is not covered outside the coverage window, in an
	// unknown log, or without SCTs.
	q = certinput.Input{IssuerSPKIHash: in.Issuers[0].SPKIHash, Serial: in.Issuers[0].Revoked[0]}
	for _, scts := range [][]certinput.SCT{nil, {{LogID: testLog, Timestamp: 999}}, {{LogID: testLog, Timestamp: 2001}}, {{LogID: [32]byte{8}, Timestamp: 1500}}} {
		q.SCTs = scts
		require.Equal(t, NotCovered, f.Query(&q), "scts %v", scts)
	}
	q.SCTs = []certinput.SCT{{LogID: [32]byte{9}, Timestamp: 10}}
	require.Equal(t, Revoked, f.Query(&q), "covered revoked")
}

func TestBuildRejects(t *testing.T) {
	is := IssuerInput{SPKIHash: [32]byte{1}, Revoked: [][]byte{{1}}, NotRevoked: [][]byte{{2}}}
	for name, in := range map[string]*BuildInput{
		"duplicate issuer": {Issuers: []IssuerInput{is, is}},
		"duplicate log":    {Coverage: []CoverageEntry{{LogID: testLog}, {LogID: testLog}}},
		"inverted window":  {Coverage: []CoverageEntry{{LogID: testLog, Low: 2, High: 1}}},
		"empty serial":     {Issuers: []IssuerInput{{Revoked: [][]byte{{}}}}},
		"revoked and not":  {Issuers: []IssuerInput{{Revoked: [][]byte{{5}}, NotRevoked: [][]byte{{5}, {6}, {7}}}}},
	} {
		_, err := Build(in)
		assert.Error(t, err, name)
	}
}

// TestBuildDeterministic: the same seed gives the same bytes; the file
// round-trips through the reader's view of it.
func TestBuildDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	in := &BuildInput{Coverage: testCoverage(), Seed: 42}
	for i := range 20 {
		in.Issuers = append(in.Issuers, genIssuer(rng, uint32(i), rng.IntN(50), rng.IntN(2000)))
	}
	a, err := Build(in)
	require.NoError(t, err)
	b, err := Build(in)
	require.NoError(t, err)
	require.True(t, bytes.Equal(a, b), "same seed, different output")
	// Precomputed keys give the same file as hashing in the builder; keys
	// that do not match the serials' count are refused.
	for i := range in.Issuers {
		is := &in.Issuers[i]
		for _, s := range is.NotRevoked {
			is.NotRevokedKeys = append(is.NotRevokedKeys, Key(&is.SPKIHash, s))
		}
	}
	c, err := Build(in)
	require.NoError(t, err, "with precomputed keys")
	require.True(t, bytes.Equal(a, c), "with precomputed keys: different output")
	// They are used, not recomputed: other keys, another file.
	for i := range in.Issuers {
		for j := range in.Issuers[i].NotRevokedKeys {
			in.Issuers[i].NotRevokedKeys[j][5] ^= 1
		}
	}
	c, err = Build(in)
	require.NoError(t, err, "with altered keys")
	require.False(t, bytes.Equal(a, c), "with altered keys: same output")
	last := &in.Issuers[len(in.Issuers)-1]
	last.NotRevokedKeys = last.NotRevokedKeys[1:]
	_, err = Build(in)
	require.Error(t, err, "a key missing")
}

// TestRibbonSolve overloads a system so some insertions fail, and checks
// the solution satisfies every equation that was accepted, including ones
// whose elimination ran past row m.
func TestRibbonSolve(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{1, 64, 1000, 5000} {
		r := ribbon{m: uint64(n) * 80 / 100}
		r.m = max(r.m, 1)
		r.rows = make([]row, r.m)
		type eq struct {
			s    uint64
			a    [4]uint64
			b    uint64
			ok   bool
			fail bool
		}
		eqs := make([]eq, n)
		failed := 0
		for i := range eqs {
			e := &eqs[i]
			e.a = [4]uint64{rng.Uint64() | 1, rng.Uint64(), rng.Uint64(), rng.Uint64()}
			e.s, e.b = rng.Uint64N(r.m), rng.Uint64()&1
			e.ok = r.insert(e.s, e.a, e.b)
			if !e.ok {
				failed++
			}
		}
		z := solve(r.rows, 0, rng)
		for _, e := range eqs {
			if e.ok && evalWords(z, e.s, &e.a) != e.b {
				t.Fatalf("n=%d: accepted equation not satisfied", n)
			}
		}
		if n >= 5000 && failed == 0 {
			t.Errorf("n=%d: an overloaded system accepted everything", n)
		}
		t.Logf("n=%d m=%d rows=%d failed=%d", n, r.m, len(r.rows), failed)
	}
}
