package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

var (
	logA = [32]byte{0xa1, 0xa2}
	logB = [32]byte{0xb1, 0xb2}
	logC = [32]byte{0xc1}
)

func sample() []FileCoverage {
	return []FileCoverage{
		{Name: "20260304-1-default.filter", Coverage: []Coverage{
			{LogID: logA, Low: 100, High: 200},
			{LogID: logB, Low: 1000, High: 2000},
		}},
		{Name: "20260305-0-default.filter.delta", Coverage: []Coverage{
			{LogID: logA, Low: 150, High: 250},
		}},
		{Name: "20260305-1-default.filter.delta", Coverage: []Coverage{
			{LogID: logA, Low: 150, High: 160},
			{LogID: logB, Low: 1500, High: 1500},
		}},
	}
}

func mustBuild(t testing.TB, files []FileCoverage) []byte {
	t.Helper()
	b, err := Build(files)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	data := mustBuild(t, sample())
	// 14 header + 3 names + 2 logs + 5 entries.
	if want := 14 + 3*32 + 2*42 + 5*18; len(data) != want {
		t.Fatalf("size %d, want %d", len(data), want)
	}
	ix, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Version() != 1 || ix.NumLogs() != 2 {
		t.Fatalf("version %d logs %d", ix.Version(), ix.NumLogs())
	}
	if !slices.Equal(ix.Filenames(), []string{"20260304-1-default.filter", "20260305-0-default.filter.delta", "20260305-1-default.filter.delta"}) {
		t.Fatalf("names %q", ix.Filenames())
	}
	id, es := ix.Log(0, nil)
	if id != logA || !slices.Equal(es, []Entry{{0, 100, 200}, {1, 150, 250}, {2, 150, 160}}) {
		t.Fatalf("log 0 = %x %v", id[:2], es)
	}
	id, es = ix.Log(1, nil)
	if id != logB || !slices.Equal(es, []Entry{{0, 1000, 2000}, {2, 1500, 1500}}) {
		t.Fatalf("log 1 = %x %v", id[:2], es)
	}
}

func TestAppendCovering(t *testing.T) {
	ix, err := Parse(mustBuild(t, sample()))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		log  [32]byte
		ts   uint64
		want []uint16
	}{
		{logA, 99, nil},
		{logA, 100, []uint16{0}},
		{logA, 155, []uint16{0, 1, 2}}, // every match, not just the first
		{logA, 200, []uint16{0, 1}},
		{logA, 250, []uint16{1}},
		{logA, 251, nil},
		{logB, 1500, []uint16{0, 2}},
		{logB, 1501, []uint16{0}},
		{logC, 150, nil}, // unknown log
		{[32]byte{}, 150, nil},
		{[32]byte{0xff, 0xff}, 150, nil},
	}
	for _, c := range cases {
		got := ix.AppendCovering(nil, &c.log, c.ts)
		if !slices.Equal(got, c.want) {
			t.Errorf("log %x ts %d: got %v, want %v", c.log[:2], c.ts, got, c.want)
		}
	}
	// Dedupe across SCTs: a second SCT hitting the same filters adds nothing.
	got := ix.AppendCovering(nil, &logA, 155)
	got = ix.AppendCovering(got, &logB, 1500)
	if !slices.Equal(got, []uint16{0, 1, 2}) {
		t.Fatalf("two SCTs: %v", got)
	}
}

func TestAppendCoveringAllocs(t *testing.T) {
	ix, err := Parse(mustBuild(t, sample()))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]uint16, 0, 8)
	n := testing.AllocsPerRun(1000, func() {
		buf = ix.AppendCovering(buf[:0], &logA, 155)
		buf = ix.AppendCovering(buf, &logB, 1500)
	})
	if n != 0 {
		t.Fatalf("%v allocs per run", n)
	}
}

// buildV0 writes the legacy upkiidx0 layout from a v1 index (u8 counts).
func buildV0(t *testing.T, ix *Index) []byte {
	t.Helper()
	var out []byte
	out = append(out, Magic0...)
	out = append(out, byte(len(ix.Filenames())))
	out = binary.BigEndian.AppendUint32(out, uint32(ix.NumLogs()))
	for _, n := range ix.Filenames() {
		var slot [32]byte
		copy(slot[:], n)
		out = append(out, slot[:]...)
	}
	off := uint64(len(out) + ix.NumLogs()*42)
	var sections []byte
	for i := range ix.NumLogs() {
		id, es := ix.Log(i, nil)
		out = append(out, id[:]...)
		out = binary.BigEndian.AppendUint64(out, off)
		out = binary.BigEndian.AppendUint16(out, uint16(len(es)))
		for _, e := range es {
			sections = append(sections, byte(e.FilterIdx))
			sections = binary.BigEndian.AppendUint64(sections, e.Min)
			sections = binary.BigEndian.AppendUint64(sections, e.Max)
		}
		off += uint64(17 * len(es))
	}
	return append(out, sections...)
}

func TestLegacyV0(t *testing.T) {
	v1, err := Parse(mustBuild(t, sample()))
	if err != nil {
		t.Fatal(err)
	}
	data := buildV0(t, v1)
	if want := 13 + 3*32 + 2*42 + 5*17; len(data) != want {
		t.Fatalf("v0 size %d, want %d", len(data), want)
	}
	v0, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if v0.Version() != 0 || !slices.Equal(v0.Filenames(), v1.Filenames()) {
		t.Fatalf("v0 header: version %d names %q", v0.Version(), v0.Filenames())
	}
	for _, ts := range []uint64{99, 100, 155, 200, 250, 1500, 1501} {
		for _, l := range [][32]byte{logA, logB, logC} {
			a := v1.AppendCovering(nil, &l, ts)
			b := v0.AppendCovering(nil, &l, ts)
			if !slices.Equal(a, b) {
				t.Errorf("log %x ts %d: v1 %v v0 %v", l[:2], ts, a, b)
			}
		}
	}
	// filter_idx out of range in v0 (u8) as well.
	bad := bytes.Clone(data)
	bad[13+3*32+2*42] = 3
	if _, err := Parse(bad); !errors.Is(err, ErrMalformed) {
		t.Fatalf("v0 out-of-range filter_idx: %v", err)
	}
}

func TestEmptyIndex(t *testing.T) {
	data := mustBuild(t, nil)
	if !bytes.Equal(data, []byte("upkiidx1\x00\x00\x00\x00\x00\x00")) {
		t.Fatalf("empty index %q", data)
	}
	ix, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := ix.AppendCovering(nil, &logA, 1); got != nil {
		t.Fatalf("empty index covers %v", got)
	}
}

func TestMalformed(t *testing.T) {
	good := mustBuild(t, sample())
	namesEnd := 14 + 3*32
	dir0 := namesEnd
	dir1 := namesEnd + 42
	entries := namesEnd + 2*42
	patch := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	put64 := func(b []byte, at int, v uint64) []byte { binary.BigEndian.PutUint64(b[at:], v); return b }
	put16 := func(b []byte, at int, v uint16) []byte { binary.BigEndian.PutUint16(b[at:], v); return b }

	cases := map[string][]byte{
		"empty":                 nil,
		"short magic":           []byte("upkii"),
		"bad magic":             patch(func(b []byte) []byte { b[7] = '2'; return b }),
		"truncated header":      good[:12],
		"truncated v0 header":   []byte("upkiidx0\x01"),
		"names exceed file":     patch(func(b []byte) []byte { return put16(b, 8, 0xffff) }),
		"2**32-1 logs":          patch(func(b []byte) []byte { binary.BigEndian.PutUint32(b[10:], 0xffffffff); return b }),
		"logs exceed file":      good[:dir1+20],
		"section past end":      good[:len(good)-1],
		"offset 2**64-1":        patch(func(b []byte) []byte { return put64(b, dir0+32, ^uint64(0)) }),
		"offset into header":    patch(func(b []byte) []byte { return put64(b, dir0+32, 0) }),
		"offset into log dir":   patch(func(b []byte) []byte { return put64(b, dir0+32, uint64(dir1)) }),
		"count 65535":           patch(func(b []byte) []byte { return put16(b, dir0+40, 0xffff) }),
		"overlapping sections":  patch(func(b []byte) []byte { return put64(b, dir1+32, uint64(entries+18)) }),
		"filter_idx 3 of 3":     patch(func(b []byte) []byte { return put16(b, entries, 3) }),
		"filter_idx 65535":      patch(func(b []byte) []byte { return put16(b, entries+18*4, 0xffff) }),
		"unsorted log dir":      patch(func(b []byte) []byte { b[dir1] = 0x01; return b }),
		"duplicate log id":      patch(func(b []byte) []byte { copy(b[dir1:dir1+32], logA[:]); return b }),
		"empty filename":        patch(func(b []byte) []byte { clear(b[14 : 14+32]); return b }),
		"filename with slash":   patch(func(b []byte) []byte { b[14+3] = '/'; return b }),
		"filename dot-dot":      patch(func(b []byte) []byte { clear(b[14 : 14+32]); copy(b[14:], ".."); return b }),
		"filename bad utf8":     patch(func(b []byte) []byte { b[14] = 0xff; return b }),
		"v0 names exceed":       []byte("upkiidx0\x05\x00\x00\x00\x00"),
		"v0 logs exceed":        []byte("upkiidx0\x00\x00\x00\x00\x01"),
		"v1 names 1, truncated": append([]byte("upkiidx1\x00\x01\x00\x00\x00\x00"), "abc"...),
		"trailing byte":         append(bytes.Clone(good), 0),
		"trailing garbage":      append(bytes.Clone(good), "garbage after the entries"...),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			ix, err := Parse(data)
			if err == nil || ix != nil {
				t.Fatalf("accepted: %v", ix)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
		})
	}
}

func TestZeroEntryLogAccepted(t *testing.T) {
	// A directory entry with no entries may point anywhere inside the file
	// past the tables, including its end.
	data := mustBuild(t, []FileCoverage{{Name: "a", Coverage: []Coverage{{LogID: logA, Low: 1, High: 2}}}})
	var out []byte
	out = append(out, data[:10]...)
	out = binary.BigEndian.AppendUint32(out, 2)
	out = append(out, data[14:14+32]...)
	out = append(out, data[14+32:14+32+42]...)
	out = append(out, logB[:]...)
	out = binary.BigEndian.AppendUint64(out, uint64(14+32+2*42+18))
	out = binary.BigEndian.AppendUint16(out, 0)
	binary.BigEndian.PutUint64(out[14+32+32:], uint64(14+32+2*42))
	out = append(out, data[14+32+42:]...)
	ix, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := ix.AppendCovering(nil, &logA, 1); !slices.Equal(got, []uint16{0}) {
		t.Fatalf("got %v", got)
	}
	if got := ix.AppendCovering(nil, &logB, 1); got != nil {
		t.Fatalf("got %v", got)
	}
}

func TestBuildRejects(t *testing.T) {
	long := "0123456789abcdef0123456789abcdef0"
	cases := map[string][]FileCoverage{
		"empty name":     {{Name: ""}},
		"name too long":  {{Name: long}},
		"slash":          {{Name: "a/b"}},
		"nul":            {{Name: "a\x00b"}},
		"dot-dot":        {{Name: ".."}},
		"duplicate":      {{Name: "a"}, {Name: "a"}},
		"low > high":     {{Name: "a", Coverage: []Coverage{{LogID: logA, Low: 2, High: 1}}}},
		"too many files": make([]FileCoverage, MaxFilenames1+1),
	}
	for name, files := range cases {
		if _, err := Build(files); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// 32 bytes exactly is fine and round-trips without a terminator.
	data := mustBuild(t, []FileCoverage{{Name: long[:32]}})
	ix, err := Parse(data)
	if err != nil || ix.Filenames()[0] != long[:32] {
		t.Fatalf("32-byte name: %v %q", err, ix.Filenames())
	}
}

// mozillaShapedIndex has one full filter and 35 deltas over 12 logs.
func mozillaShapedIndex(b *testing.B) *Index {
	var files []FileCoverage
	for f := range 36 {
		fc := FileCoverage{Name: "f" + string(rune('a'+f%26)) + string(rune('a'+f/26))}
		for l := range 12 {
			fc.Coverage = append(fc.Coverage, Coverage{LogID: [32]byte{byte(l * 20)}, Low: uint64(f) * 1000, High: uint64(f)*1000 + 5000})
		}
		files = append(files, fc)
	}
	ix, err := Parse(mustBuild(b, files))
	if err != nil {
		b.Fatal(err)
	}
	return ix
}

func BenchmarkAppendCovering(b *testing.B) {
	ix := mozillaShapedIndex(b)
	buf := make([]uint16, 0, 64)
	id := [32]byte{100}
	b.ReportAllocs()
	for b.Loop() {
		buf = ix.AppendCovering(buf[:0], &id, 17500)
	}
}

func TestAppendCoveringSet(t *testing.T) {
	// 100 files over one log, so indices cross a 64-bit word; every file
	// covers [i, i+50], and a second log repeats some of them.
	var files []FileCoverage
	for i := range 100 {
		files = append(files, FileCoverage{Name: "f" + string(rune('A'+i/26)) + string(rune('a'+i%26)), Coverage: []Coverage{
			{LogID: logA, Low: uint64(i), High: uint64(i + 50)},
			{LogID: logB, Low: uint64(i), High: uint64(i)},
		}})
	}
	ix, err := Parse(mustBuild(t, files))
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range []uint64{0, 30, 60, 70, 99, 149, 150} {
		want := ix.AppendCovering(nil, &logA, ts)
		want = ix.AppendCovering(want, &logB, ts)
		for _, words := range []int{0, 1, 2} {
			seen := make([]uint64, words)
			got := ix.AppendCoveringSet(nil, seen, &logA, ts)
			got = ix.AppendCoveringSet(got, seen, &logB, ts)
			if !slices.Equal(got, want) {
				t.Fatalf("ts %d, %d words: %v, want %v", ts, words, got, want)
			}
		}
		// Reference: every file whose interval contains ts, once.
		var ref []uint16
		for i := range 100 {
			if uint64(i) <= ts && ts <= uint64(i+50) {
				ref = append(ref, uint16(i))
			}
		}
		if !slices.Equal(want, ref) {
			t.Fatalf("ts %d: %v, want %v", ts, want, ref)
		}
	}
}

// checkMask asserts that CoveringMask gives the set AppendCovering listed
// (want), when the index is small enough to have masks.
func checkMask(t *testing.T, ix *Index, id *[32]byte, ts uint64, want []uint16) {
	t.Helper()
	m, ok := ix.CoveringMask(id, ts)
	if ok != (len(ix.Filenames()) <= MaskFilters) {
		t.Fatalf("CoveringMask ok %v with %d filenames", ok, len(ix.Filenames()))
	}
	if !ok {
		return
	}
	var w uint64
	for _, i := range want {
		w |= 1 << i
	}
	if m != w {
		t.Fatalf("log %x ts %d: CoveringMask %b, AppendCovering %v", id[:4], ts, m, want)
	}
}

// TestCoveringMask compares CoveringMask with AppendCovering on random
// indexes whose intervals overlap, repeat a filter within a log, touch
// and reach the ends of the timestamp range, at every timestamp where the
// answer can change.
func TestCoveringMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	logs := [][32]byte{logA, logB, logC, {0xa1, 0xa2, 0, 0, 0, 0, 0, 0, 1}}
	for round := range 200 {
		nf := 1 + rng.IntN(MaskFilters+4) // past the bound too: ok must turn false
		files := make([]FileCoverage, nf)
		for i := range files {
			files[i].Name = fmt.Sprintf("f%d", i)
			for range rng.IntN(4) {
				lo := uint64(rng.IntN(100))
				hi := lo + uint64(rng.IntN(30))
				if rng.IntN(10) == 0 {
					hi = ^uint64(0)
				}
				files[i].Coverage = append(files[i].Coverage, Coverage{LogID: logs[rng.IntN(len(logs))], Low: lo, High: hi})
			}
		}
		ix, err := Parse(mustBuild(t, files))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for _, id := range append(logs, [32]byte{0xee}) {
			for _, ts := range []uint64{0, 1, 29, 30, 31, 99, 100, 128, 129, 130, 1 << 40, ^uint64(0) - 1, ^uint64(0)} {
				checkMask(t, ix, &id, ts, ix.AppendCovering(nil, &id, ts))
			}
			for ts := range uint64(140) {
				checkMask(t, ix, &id, ts, ix.AppendCovering(nil, &id, ts))
			}
		}
	}
}

func BenchmarkCoveringMask(b *testing.B) {
	ix := mozillaShapedIndex(b)
	id := [32]byte{100}
	b.ReportAllocs()
	var m uint64
	for b.Loop() {
		mm, _ := ix.CoveringMask(&id, 17500)
		m |= mm
	}
	if m == 0 {
		b.Fatal("no cover")
	}
}
