package index

import (
	"errors"
	"slices"
	"testing"
)

// FuzzParse checks that Parse never panics, that failures wrap ErrMalformed
// with a nil Index, and that a parsed index re-encodes (through Build) to an
// index answering every query identically.
func FuzzParse(f *testing.F) {
	f.Add(mustBuild(f, sample()), logA[:], uint64(155))
	f.Add(mustBuild(f, nil), logA[:], uint64(0))
	f.Add([]byte("upkiidx0"), []byte{}, uint64(0))
	f.Add([]byte("upkiidx0\x01\x00\x00\x00\x01aaaa"), logB[:], uint64(1500))
	f.Add(mustBuild(f, []FileCoverage{{Name: "x", Coverage: []Coverage{{LogID: logC, Low: 0, High: ^uint64(0)}}}}), logC[:], ^uint64(0))

	f.Fuzz(func(t *testing.T, data, logID []byte, ts uint64) {
		ix, err := Parse(data)
		if err != nil {
			if ix != nil || !errors.Is(err, ErrMalformed) {
				t.Fatalf("failure returned %v, %v", ix, err)
			}
			return
		}
		var id [32]byte
		copy(id[:], logID)
		got := ix.AppendCovering(nil, &id, ts)
		var bits [1]uint64
		if set := ix.AppendCoveringSet(nil, bits[:], &id, ts); !slices.Equal(set, got) {
			t.Fatalf("AppendCoveringSet %v, AppendCovering %v", set, got)
		}
		for _, i := range got {
			if int(i) >= len(ix.Filenames()) {
				t.Fatalf("filter index %d out of range", i)
			}
		}
		checkMask(t, ix, &id, ts, got)
		checkMask(t, ix, &id, ts-1, ix.AppendCovering(nil, &id, ts-1))
		checkMask(t, ix, &id, ts+1, ix.AppendCovering(nil, &id, ts+1))

		// Rebuild from the parsed content. Build needs distinct names and
		// non-empty intervals; skip inputs that use what it refuses to write.
		files := make([]FileCoverage, len(ix.Filenames()))
		seen := map[string]bool{}
		for i, n := range ix.Filenames() {
			if seen[n] {
				return
			}
			seen[n] = true
			files[i].Name = n
		}
		// Build groups a log's entries by file order, so compare as sets
		// of filter indices, which is what the check procedure consumes.
		var probes [][32]byte
		for i := range ix.NumLogs() {
			lid, es := ix.Log(i, nil)
			probes = append(probes, lid)
			for _, e := range es {
				if e.Min > e.Max {
					return
				}
				files[e.FilterIdx].Coverage = append(files[e.FilterIdx].Coverage, Coverage{LogID: lid, Low: e.Min, High: e.Max})
			}
		}
		re, err := Build(files)
		if err != nil {
			t.Fatalf("rebuild: %v", err)
		}
		ix2, err := Parse(re)
		if err != nil {
			t.Fatalf("reparse: %v", err)
		}
		probes = append(probes, id)
		for _, p := range probes {
			a := ix.AppendCovering(nil, &p, ts)
			b := ix2.AppendCovering(nil, &p, ts)
			slices.Sort(a)
			slices.Sort(b)
			if !slices.Equal(a, b) {
				t.Fatalf("log %x ts %d: %v vs rebuilt %v", p[:4], ts, a, b)
			}
		}
	})
}
