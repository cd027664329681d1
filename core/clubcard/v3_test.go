package clubcard

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// encodeV3 writes the logical filter f in the v3 (bincode) format, from
// the reader's view of it: a v3 writer for tests, since no v3 file is at hand.
func encodeV3(f *Filter) []byte {
	le := binary.LittleEndian
	out := []byte{3, 0}
	out = le.AppendUint64(out, uint64(len(f.coverage)))
	for _, c := range f.coverage {
		out = append(out, c.LogID[:]...)
		out = le.AppendUint64(out, c.Low)
		out = le.AppendUint64(out, c.High)
	}
	out = le.AppendUint64(out, uint64(len(f.ent)))
	for i := range f.ent {
		iss := f.IssuerHash(i)
		b := f.Block(i)
		out = le.AppendUint64(out, 32)
		out = append(out, iss[:]...)
		out = le.AppendUint64(out, uint64(b.approxM))
		out = le.AppendUint64(out, uint64(b.exactM))
		out = le.AppendUint64(out, uint64(b.rank))
		out = le.AppendUint64(out, uint64(b.approxOffset))
		out = le.AppendUint64(out, uint64(b.exactOffset))
		inv := byte(0)
		if b.inverted {
			inv = 1
		}
		out = append(out, inv)
		out = le.AppendUint64(out, uint64(b.nexc))
		f.forExceptions(&b, func(s []byte) {
			out = le.AppendUint64(out, uint64(len(s)))
			out = append(out, s...)
		})
	}
	col := func(c *column) {
		out = le.AppendUint64(out, c.n)
		for i := range c.n {
			out = le.AppendUint64(out, f.word(c, i))
		}
	}
	out = le.AppendUint64(out, uint64(len(f.approx)))
	for i := range f.approx {
		col(&f.approx[i])
	}
	col(&f.exact)
	return out
}

// forExceptions calls fn with each exception serial of b.
func (f *Filter) forExceptions(b *Block, fn func([]byte)) {
	p := f.data[b.exc:]
	for range b.nexc {
		var n uint64
		if f.le {
			n, p = binary.LittleEndian.Uint64(p), p[8:]
		} else {
			n, p = uint64(p[0]), p[1:]
		}
		fn(p[:n])
		p = p[n:]
	}
}

// checkV3Equivalent re-encodes f as v3 and checks it parses to the same
// answers for every key.
func checkV3Equivalent(t *testing.T, f *Filter, issuers []IssuerInput) {
	t.Helper()
	g, err := Parse(encodeV3(f))
	require.NoError(t, err, "v3 parse")
	require.Equal(t, 3, g.Version())
	require.Equal(t, f.NumIssuers(), g.NumIssuers(), "issuers in v3")
	require.Equal(t, f.Coverage(), g.Coverage(), "coverage in v3")
	for _, is := range issuers {
		for _, s := range append(append([][]byte{}, is.Revoked...), is.NotRevoked...) {
			e1, r1 := f.Contains(&is.SPKIHash, s)
			e2, r2 := g.Contains(&is.SPKIHash, s)
			if e1 != e2 || r1 != r2 {
				t.Fatalf("v3 answer differs for %x", s)
			}
		}
	}
}

func TestV3Fixture(t *testing.T) {
	f, err := Parse(readFixture(t, fixtureFilter))
	require.NoError(t, err)
	g, err := Parse(encodeV3(f))
	require.NoError(t, err)
	for _, c := range loadFixtureCases(t) {
		assert.Equal(t, c.answer, g.Query(c.in), "v3 %s", c.name)
	}
}

// TestV3FieldBounds: a v3 issuer field that v4's uint32 could not carry,
// or a rank above 255, is refused with a format error, on the fast path
// (no exceptions) as on the field-by-field one.
func TestV3FieldBounds(t *testing.T) {
	f := mustParse(t, readFixture(t, fixtureFilter))
	data := encodeV3(f)
	// The first issuer's approx_m follows the coverage, the issuer count,
	// its key length and its key.
	first := 2 + 8 + 48*len(f.Coverage()) + 8 + 8 + 32
	for name, c := range map[string]struct {
		field int
		v     uint64
	}{
		"approx_m 2^32":        {0, 1 << 32},
		"exact_offset 2^32":    {4, 1 << 32},
		"approx_rank 256":      {2, 256},
		"approx_m max uint64":  {0, ^uint64(0)},
		"exact_m 2^32 + 1":     {1, 1<<32 + 1},
		"approx_offset 2^63":   {3, 1 << 63},
		"approx_rank 2^32 - 1": {2, 1<<32 - 1},
	} {
		bad := bytes.Clone(data)
		binary.LittleEndian.PutUint64(bad[first+8*c.field:], c.v)
		g, err := Parse(bad)
		var fe *FormatError
		assert.ErrorAs(t, err, &fe, name)
		assert.Nil(t, g, name)
	}
	_, err := Parse(data)
	require.NoError(t, err, "unmodified")
}

func TestParseErrors(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":          {},
		"one byte":       {4},
		"cascade v1":     {1, 0, 0, 0},
		"cascade v2":     {2, 0},
		"unknown":        {9, 0},
		"v4 reserved":    {4, 1},
		"v4 truncated":   {4, 0, 0},
		"v3 truncated":   {3, 0, 1},
		"v4 huge count":  {4, 0, 0, 0, 0xff, 0xff, 0xff, 0xff},
		"v4 bad inv":     append([]byte{4, 0, 0, 0, 0, 0, 0, 1}, append(make([]byte, 32+17), 2, 0, 0, 0, 0, 0, 0, 0, 0, 0)...),
		"v4 trailing":    {4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"v3 huge column": {3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		f, err := Parse(data)
		var fe *FormatError
		assert.ErrorAs(t, err, &fe, name)
		assert.Nil(t, f, name)
	}
	_, err := Parse([]byte{1, 0})
	assert.ErrorIs(t, err, ErrUnsupportedVersion, "cascade")
	// A minimal empty v4 filter parses.
	f, err := Parse([]byte{4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	require.NoError(t, err, "empty v4")
	require.Zero(t, f.NumIssuers(), "empty v4")
}

// reencodeV4 writes f back in v4, with extra exceptions per issuer index.
func reencodeV4(f *Filter, extra map[int][][]byte) []byte {
	be := binary.BigEndian
	out := []byte{4, 0}
	out = be.AppendUint16(out, uint16(len(f.coverage)))
	for _, c := range f.coverage {
		out = append(out, c.LogID[:]...)
		out = be.AppendUint64(out, c.Low)
		out = be.AppendUint64(out, c.High)
	}
	out = be.AppendUint32(out, uint32(len(f.ent)))
	for i := range f.ent {
		iss := f.IssuerHash(i)
		b := f.Block(i)
		out = append(out, iss[:]...)
		out = be.AppendUint32(out, uint32(b.approxM))
		out = append(out, b.rank)
		out = be.AppendUint32(out, uint32(b.approxOffset))
		out = be.AppendUint32(out, uint32(b.exactM))
		out = be.AppendUint32(out, uint32(b.exactOffset))
		inv := byte(0)
		if b.inverted {
			inv = 1
		}
		out = append(out, inv)
		out = be.AppendUint16(out, uint16(int(b.nexc)+len(extra[i])))
		add := func(s []byte) {
			out = append(out, byte(len(s)))
			out = append(out, s...)
		}
		f.forExceptions(&b, add)
		for _, s := range extra[i] {
			add(s)
		}
	}
	col := func(c *column) {
		out = be.AppendUint32(out, uint32(c.n))
		for i := range c.n {
			out = be.AppendUint64(out, f.word(c, i))
		}
	}
	out = append(out, byte(len(f.approx)))
	for i := range f.approx {
		col(&f.approx[i])
	}
	col(&f.exact)
	return out
}

// TestExceptions: a serial listed as an exception is not in the encoded
// set, in both formats; other serials keep their answers.
func TestExceptions(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	in := &BuildInput{Coverage: testCoverage(), Seed: 33}
	for i := range 4 {
		in.Issuers = append(in.Issuers, genIssuer(rng, uint32(i), 30, 500))
	}
	data, err := Build(in)
	require.NoError(t, err)
	f, err := Parse(data)
	require.NoError(t, err)
	require.True(t, bytes.Equal(reencodeV4(f, nil), data), "re-encoding the built filter changed it")
	// Except the first revoked serial of every issuer.
	extra := map[int][][]byte{}
	gone := map[string]bool{}
	for _, is := range in.Issuers {
		i := f.Find(&is.SPKIHash)
		extra[i] = append(extra[i], is.Revoked[0], []byte{0xee})
		gone[string(is.Revoked[0])] = true
	}
	g, err := Parse(reencodeV4(f, extra))
	require.NoError(t, err)
	for _, h := range []*Filter{g, mustParse(t, encodeV3(g))} {
		for _, is := range in.Issuers {
			for _, s := range is.Revoked {
				if _, r := h.Contains(&is.SPKIHash, s); r == gone[string(s)] {
					t.Fatalf("v%d: serial %x revoked=%v", h.Version(), s, r)
				}
			}
			for _, s := range is.NotRevoked {
				if _, r := h.Contains(&is.SPKIHash, s); r {
					t.Fatalf("v%d: serial %x revoked", h.Version(), s)
				}
			}
		}
	}
}

func mustParse(t *testing.T, data []byte) *Filter {
	t.Helper()
	f, err := Parse(data)
	require.NoError(t, err)
	return f
}
