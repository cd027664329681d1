package clubcard

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/certinput"

	"github.com/stretchr/testify/require"
)

// realistic is a built filter shaped like a CRLite full filter in
// miniature: 1000 issuers, ~1M universe keys, ~2% revoked, skewed sizes.
var realistic = sync.OnceValues(func() (*BuildInput, []byte) {
	rng := rand.New(rand.NewPCG(11, 12))
	in := &BuildInput{Coverage: testCoverage(), Seed: 13}
	total := 0
	for i := range 1000 {
		n := 1 + int(rng.ExpFloat64()*1000)
		r := int(float64(n) * 0.02 * rng.ExpFloat64())
		r = min(r, n)
		in.Issuers = append(in.Issuers, genIssuer(rng, uint32(i), r, n-r))
		total += n
	}
	data, err := Build(in)
	if err != nil {
		panic(err)
	}
	return in, data
})

// parsedRealistic is the realistic filter's input and the filter parsed.
func parsedRealistic(b *testing.B) (*BuildInput, *Filter) {
	in, data := realistic()
	f, err := Parse(data)
	require.NoError(b, err)
	return in, f
}

func TestQueryAllocs(t *testing.T) {
	f, err := Parse(readFixture(t, fixtureFilter))
	require.NoError(t, err)
	cases := loadFixtureCases(t)
	allocs := testing.AllocsPerRun(100, func() {
		for _, c := range cases {
			f.Query(c.in)
		}
	})
	require.Zero(t, allocs, "Query allocations per run")
}

func benchQuery(b *testing.B, f *Filter, ins []certinput.Input) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f.Query(&ins[i%len(ins)])
	}
}

func BenchmarkQueryFixture(b *testing.B) {
	f, err := Parse(readFixture(b, fixtureFilter))
	require.NoError(b, err)
	var ins []certinput.Input
	for _, c := range loadFixtureCases(b) {
		ins = append(ins, *c.in)
	}
	benchQuery(b, f, ins)
}

// BenchmarkQueryRealistic queries keys of the universe, revoked and not,
// in random order over 1000 issuers.
func BenchmarkQueryRealistic(b *testing.B) {
	in, f := parsedRealistic(b)
	rng := rand.New(rand.NewPCG(1, 1))
	ins := make([]certinput.Input, 4096)
	arena := make([]byte, 0, 64*len(ins)) // serials contiguous, as hot as a certificate being checked
	scts := []certinput.SCT{{LogID: [32]byte{5}, Timestamp: 1}, {LogID: testLog, Timestamp: 1500}}
	for i := range ins {
		is := &in.Issuers[rng.IntN(len(in.Issuers))]
		all := append(is.Revoked[:len(is.Revoked):len(is.Revoked)], is.NotRevoked...)
		s := all[rng.IntN(len(all))]
		arena = append(arena, s...)
		ins[i] = certinput.Input{IssuerSPKIHash: is.SPKIHash, Serial: arena[len(arena)-len(s):], SCTs: scts}
	}
	benchQuery(b, f, ins)
}

func BenchmarkParseRealistic(b *testing.B) {
	_, data := realistic()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild reports keys/s and the file's bytes per revoked serial.
func BenchmarkBuild(b *testing.B) {
	in, _ := realistic()
	keys, revoked := 0, 0
	for _, is := range in.Issuers {
		keys += len(is.Revoked) + len(is.NotRevoked)
		revoked += len(is.Revoked)
	}
	b.ReportAllocs()
	var size int
	start := time.Now()
	for b.Loop() {
		data, err := Build(in)
		require.NoError(b, err)
		size = len(data)
	}
	b.ReportMetric(float64(keys)*float64(b.N)/time.Since(start).Seconds(), "keys/s")
	b.ReportMetric(float64(size)/float64(revoked), "bytes/revoked")
	b.ReportMetric(float64(keys), "keys")
	b.ReportMetric(float64(revoked), "revoked")
}

// TestBuildRealistic checks every key of the 1M-key filter.
func TestBuildRealistic(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	in, data := realistic()
	f, err := Parse(data)
	require.NoError(t, err)
	aw, ew, ex := f.Stats()
	t.Logf("%d bytes: approx %d words, exact %d words, %d exceptions", len(data), aw, ew, ex)
	checkAll(t, f, in.Issuers)
	checkV3Equivalent(t, f, in.Issuers)
}

// BenchmarkMember is the per-filter cost a cache check pays once it holds
// the issuer's block and the key: the division and the column reads of a
// query, on keys not in the revoked set (most answer after one or two
// columns).
func BenchmarkMember(b *testing.B) {
	in, f := parsedRealistic(b)
	rng := rand.New(rand.NewPCG(2, 2))
	type q struct {
		blk    Block
		key    [32]byte
		serial []byte
	}
	qs := make([]q, 64)
	for i := range qs {
		is := &in.Issuers[rng.IntN(len(in.Issuers))]
		for len(is.NotRevoked) == 0 {
			is = &in.Issuers[rng.IntN(len(in.Issuers))]
		}
		s := is.NotRevoked[rng.IntN(len(is.NotRevoked))]
		qs[i] = q{f.Block(f.Find(&is.SPKIHash)), Key(&is.SPKIHash, s), s}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c := &qs[i%len(qs)]
		if f.Member(&c.blk, &c.key, c.serial) {
			b.Fatal("not revoked key answered revoked")
		}
	}
}
