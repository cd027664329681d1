package clubcard

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"

	"github.com/revocheck/revocheck/core/certinput"

	"github.com/stretchr/testify/require"
)

// fuzzSeeds: the real Mozilla delta, built filters of several shapes, and
// the v3 encodings of both.
func fuzzSeeds(t testing.TB) [][]byte {
	real := readFixture(t, fixtureFilter)
	seeds := [][]byte{real}
	rng := rand.New(rand.NewPCG(41, 42))
	for _, shape := range [][2]int{{1, 0}, {0, 0}, {3, 40}, {40, 40}, {2, 300}} {
		in := &BuildInput{Coverage: testCoverage(), Seed: 43}
		for i := range 3 {
			in.Issuers = append(in.Issuers, genIssuer(rng, uint32(i), shape[0], shape[1]))
		}
		data, err := Build(in)
		require.NoError(t, err)
		seeds = append(seeds, data)
	}
	n := len(seeds)
	for _, s := range seeds[:n] {
		f, err := Parse(s)
		require.NoError(t, err)
		seeds = append(seeds, encodeV3(f))
	}
	// A small filter with exceptions, in both formats.
	f, _ := Parse(seeds[3])
	g, _ := Parse(reencodeV4(f, map[int][][]byte{0: {{1}, {2, 3}}, 2: {{4}}}))
	return append(seeds, reencodeV4(g, nil), encodeV3(g), []byte{4, 0}, []byte{3, 0}, []byte{1, 0})
}

// FuzzParse: bad input never panics; a failure is a *FormatError and no
// filter; a success re-encodes to exactly the input (the reader keeps
// every field) and answers queries without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	ins := []certinput.Input{
		{SCTs: []certinput.SCT{{LogID: testLog, Timestamp: 1500}}},
		{Serial: []byte{1, 2, 3}, SCTs: []certinput.SCT{{LogID: testLog, Timestamp: 1500}}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		flt, err := Parse(data)
		if err != nil {
			var fe *FormatError
			if flt != nil || !errors.As(err, &fe) || (!errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedVersion)) {
				t.Fatalf("bad failure: %v, %v", flt, err)
			}
			return
		}
		var re []byte
		if flt.Version() == 4 {
			re = reencodeV4(flt, nil)
		} else {
			re = encodeV3(flt)
		}
		if !bytes.Equal(re, data) {
			t.Fatalf("v%d re-encoding differs", flt.Version())
		}
		for i := range ins {
			flt.Query(&ins[i])
		}
		// Enrolled issuers, with serials that are and are not exceptions.
		for i := range flt.ent {
			b := flt.Block(i)
			iss := flt.IssuerHash(i)
			flt.Contains(&iss, []byte{1})
			// members' fast path answers as Member, for keys in and out
			// of the block.
			for _, serial := range [][]byte{{1}, {2, 3}, data[:min(len(data), 9)]} {
				key := Key(&iss, serial)
				want := flt.Member(&b, &key, serial)
				if got := members([]*Filter{flt}, []Block{b}, 1, &key, serial, false); got != 0 != want {
					t.Fatalf("issuer %d serial %x: members %b, Member %v", i, serial, got, want)
				}
			}
			flt.forExceptions(&b, func(s []byte) {
				if enrolled, revoked := flt.Contains(&iss, s); !enrolled || revoked != b.inverted {
					t.Fatalf("exception %x: enrolled %v revoked %v", s, enrolled, revoked)
				}
			})
		}
	})
}

// TestParseAllocBound: counts claiming far more than the file holds are
// rejected before anything proportional to them is allocated.
func TestParseAllocBound(t *testing.T) {
	big := [][]byte{
		{4, 0, 0xff, 0xff},                                  // 65535 coverage entries
		{4, 0, 0, 0, 0xff, 0xff, 0xff, 0xff},                // 4 Gi issuers
		{4, 0, 0, 0, 0, 0, 0, 0, 0xff},                      // 255 columns
		{4, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, // 4 Gi exact words
		{3, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		append([]byte{3, 0}, append(make([]byte, 8), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)...),
		append([]byte{3, 0}, append(make([]byte, 16), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)...),
	}
	for _, data := range big {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f, err := Parse(data)
		runtime.ReadMemStats(&after)
		if f != nil || err == nil {
			t.Fatalf("%x parsed", data)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 4096 {
			t.Errorf("%x: allocated %d bytes", data, d)
		}
	}
	// On success, what Parse keeps is a small multiple of the file size.
	for _, s := range fuzzSeeds(t) {
		f, err := Parse(s)
		if err != nil {
			continue
		}
		kept := uintptr(cap(f.coverage))*unsafe.Sizeof(CoverageEntry{}) +
			uintptr(cap(f.ent))*4 + uintptr(cap(f.approx))*unsafe.Sizeof(column{})
		if kept > 4*uintptr(len(s))+1024 {
			t.Errorf("kept %d bytes for a %d-byte file", kept, len(s))
		}
	}
}

// FuzzBuild: any set of serials and statuses builds a filter that answers
// right for every one of them.
func FuzzBuild(f *testing.F) {
	f.Add([]byte{1, 0x81, 2, 3, 4, 5}, uint64(1))
	f.Add(bytes.Repeat([]byte{3, 1, 2, 3}, 100), uint64(2))
	f.Add([]byte{0x90, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, uint64(3))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		// data is a sequence of records: a header byte (bit 7: revoked,
		// bit 6: second issuer, low bits: serial length-1), then the serial.
		issuers := []IssuerInput{{SPKIHash: [32]byte{1}}, {SPKIHash: [32]byte{2}}}
		seen := map[string]bool{}
		for len(data) > 0 {
			h := data[0]
			n := int(h&0x3f) + 1
			if len(data) < 1+n {
				break
			}
			s := data[1 : 1+n]
			data = data[1+n:]
			is := &issuers[h>>6&1]
			if seen[string(is.SPKIHash[:1])+string(s)] {
				continue
			}
			seen[string(is.SPKIHash[:1])+string(s)] = true
			if h&0x80 != 0 {
				is.Revoked = append(is.Revoked, s)
			} else {
				is.NotRevoked = append(is.NotRevoked, s)
			}
		}
		in := &BuildInput{Coverage: testCoverage(), Issuers: issuers, Seed: seed}
		flt := buildParse(t, in)
		checkAll(t, flt, issuers)
	})
}
