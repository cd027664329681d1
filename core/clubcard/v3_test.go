package clubcard

import (
	"encoding/binary"
	"errors"
	"testing"
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
	out = le.AppendUint64(out, uint64(len(f.issuers)))
	for i := range f.issuers {
		b := &f.blocks[i]
		out = le.AppendUint64(out, 32)
		out = append(out, f.issuers[i][:]...)
		out = le.AppendUint64(out, b.approxM)
		out = le.AppendUint64(out, b.exactM)
		out = le.AppendUint64(out, uint64(b.rank))
		out = le.AppendUint64(out, b.approxOffset)
		out = le.AppendUint64(out, b.exactOffset)
		inv := byte(0)
		if b.inverted {
			inv = 1
		}
		out = append(out, inv)
		out = le.AppendUint64(out, uint64(b.nexc))
		f.forExceptions(b, func(s []byte) {
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
func (f *Filter) forExceptions(b *block, fn func([]byte)) {
	p := b.exc
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
	if err != nil {
		t.Fatalf("v3 parse: %v", err)
	}
	if g.Version() != 3 || g.NumIssuers() != f.NumIssuers() || len(g.Coverage()) != len(f.Coverage()) {
		t.Fatalf("v3 differs: version %d issuers %d", g.Version(), g.NumIssuers())
	}
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
	if err != nil {
		t.Fatal(err)
	}
	g, err := Parse(encodeV3(f))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range loadFixtureCases(t) {
		if got := g.Query(c.in); got != c.answer {
			t.Errorf("v3 %s: got %v, want %v", c.name, got, c.answer)
		}
	}
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
		if f != nil || !errors.As(err, &fe) {
			t.Errorf("%s: got %v, %v", name, f, err)
		}
	}
	if _, err := Parse([]byte{1, 0}); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("cascade: %v", err)
	}
	// A minimal empty v4 filter parses.
	f, err := Parse([]byte{4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	if err != nil || f.NumIssuers() != 0 {
		t.Fatalf("empty v4: %v", err)
	}
}
