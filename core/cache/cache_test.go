package cache

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/cachedir"
	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/index"
	"github.com/revocheck/revocheck/core/manifest"
	"github.com/revocheck/revocheck/core/outcome"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	fixtureDir   = "../../testdata/fixtures/"
	fixtureName  = "mozilla-20260624-1-default.filter.delta"
	fixtureShort = "20260624-1-default.filter.delta" // index.bin names are at most 32 bytes
)

type site struct {
	label  string
	in     certinput.Input
	answer outcome.Outcome
}

func b64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}

type jsonInput struct {
	IssuerSPKI string `json:"issuer_spki_sha256"`
	Serial     string `json:"serial"`
	SCTs       []struct {
		LogID     string `json:"log_id"`
		Timestamp uint64 `json:"timestamp"`
	} `json:"scts"`
}

func (j *jsonInput) input(t testing.TB) certinput.Input {
	var in certinput.Input
	copy(in.IssuerSPKIHash[:], b64(t, j.IssuerSPKI))
	in.Serial = b64(t, j.Serial)
	for _, s := range j.SCTs {
		in.SCTs = append(in.SCTs, certinput.SCT{LogID: [32]byte(b64(t, s.LogID)), Timestamp: s.Timestamp})
	}
	return in
}

func answerOutcome(t testing.TB, a string) outcome.Outcome {
	switch a {
	case "Good":
		return outcome.NotRevoked
	case "NotCovered":
		return outcome.NotCovered
	case "Revoked":
		return outcome.Revoked
	}
	t.Fatalf("unknown answer %q", a)
	return 0
}

// loadSites pairs test-sites.json inputs with the fixture filter's answers
// (by ca_label, in file order), plus the explicit vectors.
func loadSites(t testing.TB) []site {
	t.Helper()
	var ts struct {
		Sites []struct {
			Label  string     `json:"ca_label"`
			Detail *jsonInput `json:"detail"`
		} `json:"sites"`
	}
	var ans struct {
		TestSites []struct {
			Label  string `json:"ca_label"`
			Answer string `json:"answer"`
		} `json:"test_sites"`
		Vectors []struct {
			Name   string `json:"name"`
			Answer string `json:"answer"`
			jsonInput
		} `json:"vectors"`
	}
	for name, v := range map[string]any{"test-sites.json": &ts, fixtureName + ".answers.json": &ans} {
		data, err := os.ReadFile(fixtureDir + name)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, v))
	}
	var out []site
	i := 0
	for _, s := range ts.Sites {
		if s.Detail == nil {
			continue
		}
		require.Less(t, i, len(ans.TestSites), "more test sites than answers")
		require.Equal(t, s.Label, ans.TestSites[i].Label, "answers out of step with test sites")
		out = append(out, site{s.Label, s.Detail.input(t), answerOutcome(t, ans.TestSites[i].Answer)})
		i++
	}
	require.Equal(t, len(ans.TestSites), i, "sites with detail, answers")
	require.NotEmpty(t, ans.Vectors, "vectors")
	for _, v := range ans.Vectors {
		out = append(out, site{v.Name, v.input(t), answerOutcome(t, v.Answer)})
	}
	return out
}

func fixtureBytes(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(fixtureDir + fixtureName)
	require.NoError(t, err)
	return data
}

// fixtureCache writes a cache directory holding the real Mozilla delta
// under the given names (same bytes each) and returns it.
func fixtureCache(t testing.TB, names ...string) string {
	t.Helper()
	if len(names) == 0 {
		names = []string{fixtureShort}
	}
	dir := t.TempDir()
	data := fixtureBytes(t)
	var files []cachedir.File
	for _, n := range names {
		files = append(files, cachedir.File{Name: n, Data: data})
	}
	require.NoError(t, cachedir.Write(dir, files, cachedir.Options{GeneratedAt: time.Unix(1782000000, 0), Comment: "test"}))
	return dir
}

func mustOpen(t testing.TB, dir string, opts Options) *Cache {
	t.Helper()
	c, err := Open(dir, opts)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func checkSites(t *testing.T, c *Cache, sites []site) {
	t.Helper()
	var d Detail
	for _, s := range sites {
		got, err := c.Check(&s.in, nil)
		assert.NoError(t, err, s.label)
		assert.Equal(t, s.answer, got, s.label)
		got2, err := c.Check(&s.in, &d)
		assert.NoError(t, err, "%s: with detail", s.label)
		assert.Equal(t, got, got2, "%s: with detail", s.label)
	}
}

func TestFixtureAnswers(t *testing.T) {
	sites := loadSites(t)
	c := mustOpen(t, fixtureCache(t), Options{})
	checkSites(t, c, sites)

	counts := map[outcome.Outcome]int{}
	for _, s := range sites {
		counts[s.answer]++
	}
	require.GreaterOrEqual(t, counts[outcome.NotRevoked], 70, "fixture answer mix %v", counts)
	require.GreaterOrEqual(t, counts[outcome.NotCovered], 40, "fixture answer mix %v", counts)
	require.GreaterOrEqual(t, counts[outcome.Revoked], 1, "fixture answer mix %v", counts)

	// Detail: a covered site consults the one filter.
	var d Detail
	for _, s := range sites {
		o, err := c.Check(&s.in, &d)
		require.NoError(t, err)
		require.NotZero(t, d.Generation, "%s: generation in detail", s.label)
		switch o {
		case outcome.NotCovered:
			require.Empty(t, d.Filters, "%s: not covered but filters", s.label)
		default:
			require.Len(t, d.Filters, 1, "%s: filters in detail", s.label)
			require.Equal(t, fixtureShort, d.Filters[0].Name, s.label)
			require.Equal(t, o, d.Filters[0].Result, s.label)
		}
	}
}

func TestNoSCTs(t *testing.T) {
	c := mustOpen(t, fixtureCache(t), Options{})
	sites := loadSites(t)
	in := sites[len(sites)-1].in // revoked with its SCTs
	in.SCTs = nil
	var d Detail
	o, err := c.Check(&in, &d)
	require.NoError(t, err, "no SCTs")
	require.Equal(t, outcome.NotCovered, o, "no SCTs")
	require.True(t, d.NoSCTs, "no SCTs: detail %+v", d)
	require.Zero(t, d.Generation, "no SCTs: generation in detail")
	o, err = c.Check(nil, nil)
	require.Error(t, err, "nil input")
	require.Equal(t, outcome.Error, o, "nil input")
}

func TestMultipleCoveringFilters(t *testing.T) {
	// The same filter under three names: every covering entry is queried
	// (three filters in the detail), answers unchanged.
	names := []string{"20260624-0-default.filter", "20260624-1-default.filter.delta", "20260625-0-default.filter.delta"}
	c := mustOpen(t, fixtureCache(t, names...), Options{})
	sites := loadSites(t)
	checkSites(t, c, sites)
	var d Detail
	for _, s := range sites {
		if s.answer == outcome.NotCovered {
			continue
		}
		_, err := c.Check(&s.in, &d)
		require.NoError(t, err)
		var got []string
		for _, f := range d.Filters {
			got = append(got, f.Name)
		}
		require.Equal(t, names, got, "%s: covering filters", s.label)
	}
}

func TestCheckAllocs(t *testing.T) {
	c := mustOpen(t, fixtureCache(t), Options{})
	sites := loadSites(t)
	picked := map[outcome.Outcome]bool{}
	for _, s := range sites {
		if picked[s.answer] {
			continue
		}
		picked[s.answer] = true
		in := s.in
		n := testing.AllocsPerRun(200, func() {
			if o, _ := c.Check(&in, nil); o != s.answer {
				t.Fatalf("%s: %v", s.label, o)
			}
		})
		assert.Zero(t, n, "%s (%v): allocations per check", s.label, s.answer)
	}
	require.Len(t, picked, 3, "outcomes covered: %v", picked)
}

func TestGenerationInfo(t *testing.T) {
	dir := fixtureCache(t)
	c := mustOpen(t, dir, Options{})
	g := c.Generation()
	require.NotNil(t, g)
	assert.EqualValues(t, 1, g.ID, "generation id")
	assert.Equal(t, "index.bin", g.Source)
	assert.Equal(t, 1, g.IndexVersion)
	require.Len(t, g.Files, 1)
	assert.Equal(t, fixtureShort, g.Files[0].Name)
	assert.Equal(t, int64(len(fixtureBytes(t))), g.Files[0].Size)
	assert.NotZero(t, g.Files[0].Issuers, "issuers of the filter")
	assert.Equal(t, g.Files[0].Issuers, g.EnrolledIssuers, "enrolled issuers")
	require.NotEmpty(t, g.Files[0].Coverage, "coverage of the filter")
	require.Len(t, g.Logs, len(g.Files[0].Coverage), "logs in the index, coverage entries of the filter")
	for _, l := range g.Logs {
		assert.LessOrEqual(t, l.Min, l.Max, "log summary %+v", l)
		assert.Equal(t, 1, l.Entries, "log summary %+v", l)
	}
	require.NotNil(t, g.Manifest, "manifest: %s", g.ManifestError)
	assert.EqualValues(t, 1782000000, g.Manifest.GeneratedAt.Unix())
	assert.Equal(t, "test", g.Manifest.Comment)
	assert.True(t, c.DataTime().Equal(time.Unix(1782000000, 0)), "data time %v", c.DataTime())
	// Without manifest.json the data time is index.bin's mtime.
	require.NoError(t, os.Remove(filepath.Join(dir, "manifest.json")))
	c2 := mustOpen(t, dir, Options{})
	fi, err := os.Stat(filepath.Join(dir, "index.bin"))
	require.NoError(t, err)
	assert.True(t, c2.DataTime().Equal(fi.ModTime()), "data time %v, index mtime %v", c2.DataTime(), fi.ModTime())
	assert.Nil(t, c2.Generation().Manifest)
}

func TestNoDataAndLazy(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(dir, Options{})
	require.ErrorIs(t, err, ErrNoData, "empty dir")
	_, err = Open(filepath.Join(dir, "nope"), Options{})
	require.ErrorIs(t, err, ErrNoData, "missing dir")
	c := mustOpen(t, dir, Options{Lazy: true, StatInterval: time.Nanosecond})
	sites := loadSites(t)
	in := sites[len(sites)-1].in
	o, err := c.Check(&in, nil)
	require.ErrorIs(t, err, ErrNoData, "lazy empty")
	require.Equal(t, outcome.NoData, o, "lazy empty")
	require.Nil(t, c.Generation(), "generation without data")
	require.True(t, c.DataTime().IsZero(), "data time without data")
	// Data appears: picked up by the periodic stat, no reopen.
	require.NoError(t, cachedir.WriteFilters(dir, []cachedir.File{{Name: fixtureShort, Data: fixtureBytes(t)}}))
	time.Sleep(time.Millisecond)
	o, err = c.Check(&in, nil)
	require.NoError(t, err, "after data appeared")
	require.Equal(t, outcome.Revoked, o, "after data appeared")
	c.Close()
	o, err = c.Check(&in, nil)
	require.ErrorIs(t, err, ErrClosed, "after close")
	require.Equal(t, outcome.NoData, o, "after close")
	require.ErrorIs(t, c.Refresh(), ErrClosed, "refresh after close")
}

// writeRaw replaces name in dir atomically (test helper).
func writeRaw(t testing.TB, dir, name string, data []byte) {
	t.Helper()
	tmp := filepath.Join(dir, ".tmp-test-"+name)
	require.NoError(t, os.WriteFile(tmp, data, 0o644))
	require.NoError(t, os.Rename(tmp, filepath.Join(dir, name)))
}

func TestMissingFilter(t *testing.T) {
	dir := fixtureCache(t)
	c0 := mustOpen(t, dir, Options{})
	cov := c0.Generation().Files[0].Coverage
	var ic []index.Coverage
	for _, l := range cov {
		ic = append(ic, index.Coverage(l))
	}
	// index.bin names the real filter and one that does not exist, both
	// covering the same logs.
	raw, err := index.Build([]index.FileCoverage{{Name: fixtureShort, Coverage: ic}, {Name: "gone.delta", Coverage: ic}})
	require.NoError(t, err)
	writeRaw(t, dir, "index.bin", raw)
	c := mustOpen(t, dir, Options{Retries: 2})
	g := c.Generation()
	require.Equal(t, 1, g.BrokenFiles, "broken files: %+v", g.Files)
	require.Contains(t, g.Files[1].Error, "does not exist")
	sites := loadSites(t)
	var d Detail
	for _, s := range sites {
		o, err := c.Check(&s.in, &d)
		switch s.answer {
		case outcome.NotCovered, outcome.Revoked:
			// Revoked by a readable filter stays revoked.
			require.NoError(t, err, s.label)
			require.Equal(t, s.answer, o, s.label)
		default:
			// The missing filter might have said revoked: error.
			require.ErrorContains(t, err, "gone.delta", s.label)
			require.Equal(t, outcome.Error, o, s.label)
			require.Len(t, d.Filters, 2, "%s: filters in detail", s.label)
			require.Equal(t, outcome.Error, d.Filters[1].Result, "%s: the missing filter's result", s.label)
			require.NotEmpty(t, d.Filters[1].Error, "%s: the missing filter's error", s.label)
		}
	}
}

func TestInconsistentIndex(t *testing.T) {
	// index.bin claims coverage the filter does not have: every covering
	// filter says "not covered", which the spec calls an index problem.
	dir := fixtureCache(t)
	sites := loadSites(t)
	var nc *site
	for i := range sites {
		if sites[i].answer == outcome.NotCovered {
			nc = &sites[i]
			break
		}
	}
	sct := nc.in.SCTs[0]
	raw, err := index.Build([]index.FileCoverage{{Name: fixtureShort, Coverage: []index.Coverage{{LogID: sct.LogID, Low: sct.Timestamp, High: sct.Timestamp}}}})
	require.NoError(t, err)
	writeRaw(t, dir, "index.bin", raw)
	c := mustOpen(t, dir, Options{})
	o, err := c.Check(&nc.in, nil)
	require.ErrorIs(t, err, ErrInconsistent)
	require.Equal(t, outcome.Error, o)
}

func TestCorruptIndex(t *testing.T) {
	dir := fixtureCache(t)
	good, _ := os.ReadFile(filepath.Join(dir, "index.bin"))
	for name, bad := range map[string][]byte{
		"garbage":   []byte("this is not an index"),
		"empty":     {},
		"truncated": good[:len(good)-5],
		"bad idx":   append(append([]byte{}, good[:len(good)-18]...), append([]byte{0, 9}, good[len(good)-16:]...)...),
	} {
		writeRaw(t, dir, "index.bin", bad)
		c, err := Open(dir, Options{})
		require.ErrorIs(t, err, ErrCorrupt, name)
		require.Nil(t, c, name)
	}

	// A good generation stays in service when a corrupt index.bin replaces it.
	writeRaw(t, dir, "index.bin", good)
	c := mustOpen(t, dir, Options{StatInterval: -1})
	writeRaw(t, dir, "index.bin", []byte("upkiidx1\xff\xff"))
	require.ErrorIs(t, c.Refresh(), ErrCorrupt, "refresh")
	sites := loadSites(t)
	checkSites(t, c, sites)
	g := c.Generation()
	require.EqualValues(t, 1, g.ID, "generation kept in service")
	require.Contains(t, g.LastError, "malformed")
	// And is replaced once a good index.bin returns.
	writeRaw(t, dir, "index.bin", good)
	require.NoError(t, c.Refresh())
	g = c.Generation()
	require.EqualValues(t, 2, g.ID, "generation")
	require.Empty(t, g.LastError)
}

func TestCorruptFilter(t *testing.T) {
	dir := fixtureCache(t)
	data := fixtureBytes(t)
	sites := loadSites(t)
	// Truncations and byte flips: never a panic, a covered check fails
	// with an error or (when the damage is where the query does not look,
	// or the filter still parses) answers.
	var variants [][]byte
	for _, n := range []int{0, 1, 2, 50, 1000, len(data) / 2, len(data) - 1} {
		variants = append(variants, data[:n])
	}
	for i := 0; i < 40; i++ {
		v := append([]byte{}, data...)
		pos := (i*7919 + 13) % len(v)
		if i < 10 {
			pos = 2 + i*11 // the header, coverage and first issuer
		}
		v[pos] ^= 0xff
		variants = append(variants, v)
	}
	for vi, v := range variants {
		writeRaw(t, dir, fixtureShort, v)
		c, err := Open(dir, Options{})
		require.NoError(t, err, "variant %d: open", vi)
		broken := c.Generation().BrokenFiles == 1
		for _, s := range sites {
			o, err := c.Check(&s.in, nil)
			if broken && o != outcome.NotCovered && (o != outcome.Error || err == nil || !strings.Contains(err.Error(), fixtureShort)) {
				t.Fatalf("variant %d %s: %v %v", vi, s.label, o, err)
			}
		}
		c.Close()
		if vi < 7 && !broken {
			t.Fatalf("truncation %d parsed", vi)
		}
	}
}

// writeV0 re-encodes index.bin as the legacy upkiidx0.
func writeV0(t *testing.T, dir string) {
	data, err := os.ReadFile(filepath.Join(dir, "index.bin"))
	require.NoError(t, err)
	ix, err := index.Parse(data)
	require.NoError(t, err)
	out := append([]byte(index.Magic0), byte(len(ix.Filenames())))
	out = binary.BigEndian.AppendUint32(out, uint32(ix.NumLogs()))
	for _, n := range ix.Filenames() {
		var slot [32]byte
		copy(slot[:], n)
		out = append(out, slot[:]...)
	}
	off := uint64(len(out) + 42*ix.NumLogs())
	var sec []byte
	for i := range ix.NumLogs() {
		id, es := ix.Log(i, nil)
		out = append(out, id[:]...)
		out = binary.BigEndian.AppendUint64(out, off)
		out = binary.BigEndian.AppendUint16(out, uint16(len(es)))
		for _, e := range es {
			sec = append(sec, byte(e.FilterIdx))
			sec = binary.BigEndian.AppendUint64(sec, e.Min)
			sec = binary.BigEndian.AppendUint64(sec, e.Max)
		}
		off += uint64(17 * len(es))
	}
	writeRaw(t, dir, "index.bin", append(out, sec...))
}

func TestLegacyIndexV0(t *testing.T) {
	dir := fixtureCache(t)
	writeV0(t, dir)
	c := mustOpen(t, dir, Options{})
	require.Zero(t, c.Generation().IndexVersion, "index version")
	checkSites(t, c, loadSites(t))
}

func TestManifestOnlyDirectory(t *testing.T) {
	// As Mozilla publishes: filters + manifest.json, no index.bin.
	dir := fixtureCache(t)
	require.NoError(t, os.Remove(filepath.Join(dir, "index.bin")))
	c := mustOpen(t, dir, Options{StatInterval: -1})
	g := c.Generation()
	require.Equal(t, "manifest.json", g.Source)
	require.Len(t, g.Files, 1)
	checkSites(t, c, loadSites(t))
	// A broken listed filter makes the directory unusable in this mode.
	writeRaw(t, dir, fixtureShort, []byte{4, 0, 1})
	_, err := Open(dir, Options{})
	require.ErrorIs(t, err, ErrCorrupt, "broken filter in manifest mode")
	// An index.bin appearing later takes over.
	require.NoError(t, cachedir.WriteFilters(dir, []cachedir.File{{Name: fixtureShort, Data: fixtureBytes(t)}}))
	require.NoError(t, c.Refresh())
	g = c.Generation()
	require.Equal(t, "index.bin", g.Source, "after index.bin appeared")
	require.EqualValues(t, 2, g.ID, "after index.bin appeared")
}

// TestConcurrentReplace checks from many goroutines while another rewrites
// the cache over and over (new filter names each time, so old filters are
// deleted and old generations retired): every check must give the fixture's
// answer, no error, and generations must actually change under the readers.
func TestConcurrentReplace(t *testing.T) {
	data := fixtureBytes(t)
	dir := fixtureCache(t, "gen-0.delta")
	c := mustOpen(t, dir, Options{StatInterval: time.Microsecond})
	sites := loadSites(t)

	var stop atomic.Bool
	var checks atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var d Detail
			for i := w; !stop.Load(); i++ {
				s := &sites[i%len(sites)]
				var o outcome.Outcome
				var err error
				if i%5 == 0 {
					o, err = c.Check(&s.in, &d)
				} else {
					o, err = c.Check(&s.in, nil)
				}
				if err != nil || o != s.answer {
					select {
					case errs <- errors.New(s.label + ": got " + o.String() + ", want " + s.answer.String() + errString(err)):
					default:
					}
					return
				}
				checks.Add(1)
			}
		}()
	}
	const rounds = 40
	for r := 1; r <= rounds; r++ {
		names := []string{"gen-" + itoa(r) + ".delta"}
		if r%3 == 0 {
			names = append(names, "extra-"+itoa(r)+".delta")
		}
		var files []cachedir.File
		for _, n := range names {
			files = append(files, cachedir.File{Name: n, Data: data})
		}
		require.NoError(t, cachedir.WriteFilters(dir, files))
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(5 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	g := c.Generation()
	assert.GreaterOrEqual(t, g.ID, uint64(rounds/4), "generations loaded in %d rounds", rounds)
	require.NotEmpty(t, g.Files)
	assert.Equal(t, "gen-40.delta", g.Files[0].Name, "final generation's filter")
	t.Logf("%d checks over %d generations", checks.Load(), g.ID)
	// The removed filters are really gone: old generations were served
	// from mappings alone.
	assert.NoFileExists(t, filepath.Join(dir, "gen-1.delta"), "old filter not removed")
}

func TestCloseDuringChecks(t *testing.T) {
	c, err := Open(fixtureCache(t), Options{})
	require.NoError(t, err)
	sites := loadSites(t)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				s := &sites[(i+w)%len(sites)]
				o, err := c.Check(&s.in, nil)
				if o != s.answer && !(o == outcome.NoData && errors.Is(err, ErrClosed)) {
					t.Errorf("%s: %v %v", s.label, o, err)
					return
				}
			}
		}()
	}
	time.Sleep(time.Millisecond)
	c.Close()
	c.Close() // idempotent
	wg.Wait()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func BenchmarkCheck(b *testing.B) {
	c := mustOpen(b, fixtureCache(b), Options{})
	sites := loadSites(b)
	for _, want := range []outcome.Outcome{outcome.NotRevoked, outcome.Revoked, outcome.NotCovered} {
		var in *certinput.Input
		for i := range sites {
			if sites[i].answer == want {
				in = &sites[i].in
				break
			}
		}
		b.Run(want.String(), func(b *testing.B) {
			b.ReportAllocs()
			cpuLoop(b, func(int) {
				if o, _ := c.Check(in, nil); o != want {
					b.Fatal(o)
				}
			})
		})
	}
}

func BenchmarkCheckParallel(b *testing.B) {
	c := mustOpen(b, fixtureCache(b), Options{})
	sites := loadSites(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			s := &sites[i%len(sites)]
			if o, _ := c.Check(&s.in, nil); o != s.answer {
				b.Error(o)
				return
			}
			i++
		}
	})
}

// TestSyntheticAggregation runs the C2SP aggregation over several filters
// that disagree: certificates revoked only in one delta (every other
// covering filter says not revoked), never revoked (all say not revoked),
// unknown issuers (all say not enrolled) and SCTs newer than any filter.
// It runs twice: with the generation's issuer rows, and with the rows
// over their bound, where each filter is searched on its own.
func TestSyntheticAggregation(t *testing.T) {
	t.Run("issuer rows", testSyntheticAggregation)
	t.Run("per-filter search", func(t *testing.T) {
		defer func(n int) { maxRowBytes = n }(maxRowBytes)
		maxRowBytes = 0
		testSyntheticAggregation(t)
	})
}

// openSynthetic generates a synthetic cache in a temporary directory and
// opens it.
func openSynthetic(t *testing.T, spec cachedir.SyntheticSpec) (*Cache, *cachedir.Sample) {
	t.Helper()
	dir := t.TempDir()
	s, err := cachedir.Synthetic(dir, spec)
	require.NoError(t, err)
	return mustOpen(t, dir, Options{}), s
}

func testSyntheticAggregation(t *testing.T) {
	c, s := openSynthetic(t, cachedir.SyntheticSpec{Issuers: 20, FullSerials: 4000, Deltas: 4, DeltaSerials: 400, RevokedFraction: 0.1, Logs: 4, Seed: 7})
	g := c.Generation()
	require.Len(t, g.Files, 5, "filters in the generation")
	require.Zero(t, g.BrokenFiles, "broken filters")
	defer func() {
		gen := c.st.Acquire()
		defer gen.Release()
		g := gen.V
		// 20 enrolled issuers and the unknown ones: the table grew past
		// its first 16 slots, or stayed empty under a zero bound.
		if (g.rows.n > 20) != (maxRowBytes > 0) || g.rows.full.Load() != (maxRowBytes == 0) {
			t.Errorf("issuer rows: %d kept, full %v, bound %d", g.rows.n, g.rows.full.Load(), maxRowBytes)
		}
	}()
	var d Detail
	for name, set := range map[outcome.Outcome][]certinput.Input{
		outcome.Revoked:     s.Revoked,
		outcome.NotRevoked:  s.NotRevoked,
		outcome.NotEnrolled: s.NotEnrolled,
		outcome.NotCovered:  s.NotCovered,
	} {
		require.NotEmpty(t, set, "%v samples", name)
		for i := range set {
			o, err := c.Check(&set[i], nil)
			if o != name || err != nil {
				t.Fatalf("%v sample %d: got %v %v", name, i, o, err)
			}
			if o2, _ := c.Check(&set[i], &d); o2 != o {
				t.Fatalf("%v sample %d: with detail %v", name, i, o2)
			}
			if name == outcome.NotRevoked || name == outcome.NotEnrolled {
				// Every filter covers old certificates: all five consulted.
				if len(d.Filters) != 5 {
					t.Fatalf("%v sample %d: %d filters consulted", name, i, len(d.Filters))
				}
			}
		}
	}
	// Some revocations are known to one delta only: the other covering
	// filters said not revoked, and revoked still wins.
	deltaOnly := 0
	for i := range s.Revoked {
		c.Check(&s.Revoked[i], &d)
		n := 0
		for _, f := range d.Filters {
			if f.Result == outcome.Revoked {
				n++
			}
		}
		if n == 1 && len(d.Filters) > 1 && d.Filters[0].Result == outcome.NotRevoked {
			deltaOnly++
		}
	}
	require.NotZero(t, deltaOnly, "samples revoked by a delta alone")
}

// BenchmarkCheckMozillaShaped opens a synthetic cache shaped like Mozilla's
// (one full filter, 35 deltas, ~1000 issuers; 2.1 MB) and checks inputs of
// each kind. The cache is generated once and kept under os.TempDir().
func BenchmarkCheckMozillaShaped(b *testing.B) {
	benchCheckSynthetic(b, cachedir.MozillaShaped)
}

// BenchmarkCheckMozillaSized does the same on a cache the size of Mozilla's
// (~6 MB full filter, 35 deltas of ~170 KB). Its first run generates the
// cache: minutes and ~14 GB of memory, so give go test -timeout 60m.
func BenchmarkCheckMozillaSized(b *testing.B) {
	if testing.Short() {
		b.Skip("-short: the Mozilla-sized cache takes minutes to generate")
	}
	benchCheckSynthetic(b, cachedir.MozillaSized)
}

func benchCheckSynthetic(b *testing.B, spec cachedir.SyntheticSpec) {
	start := time.Now()
	dir, s, err := cachedir.SyntheticCached(spec)
	require.NoError(b, err)
	if d := time.Since(start); d > time.Second {
		b.Logf("generated %s in %v", dir, d.Round(time.Second))
	}
	b.Run("open", func(b *testing.B) {
		// Open alone: Close unmaps, and munmap in a multi-threaded
		// process pays TLB shootdowns that a process exiting does not.
		b.ReportAllocs()
		var cpuNs int64
		n := 0
		for b.Loop() {
			c0 := processCPU()
			c, err := Open(dir, Options{StatInterval: -1})
			cpuNs += processCPU() - c0
			require.NoError(b, err)
			b.StopTimer()
			c.Close()
			b.StartTimer()
			n++
		}
		b.ReportMetric(float64(cpuNs)/float64(n), "cpu-ns/op")
	})
	c := mustOpen(b, dir, Options{})
	g := c.Generation()
	var total int64
	for _, f := range g.Files {
		total += f.Size
	}
	b.Logf("%d files, full filter %d bytes, all %d bytes, %d issuers", len(g.Files), g.Files[0].Size, total, g.EnrolledIssuers)
	for _, k := range s.Kinds() {
		for i := range k.Set { // a warm handle: every issuer seen once
			c.Check(&k.Set[i], nil)
		}
		b.Run(k.Want.String(), func(b *testing.B) {
			b.ReportAllocs()
			cpuLoop(b, func(i int) {
				if o, err := c.Check(&k.Set[i%len(k.Set)], nil); o != k.Want {
					b.Fatalf("sample %d: %v %v", i%len(k.Set), o, err)
				}
			})
		})
	}
}

// BenchmarkCheckRealDelta36 checks the real test-site inputs against 36
// copies of the real Mozilla delta (969 issuers, 50 coverage entries): the
// per-check work of a cache of one full filter and 35 deltas where every
// filter covers the certificate.
func BenchmarkCheckRealDelta36(b *testing.B) {
	var names []string
	for i := range 36 {
		names = append(names, "20260624-1-default-"+itoa(10+i)+".delta")
	}
	dir := fixtureCache(b, names...)
	b.Run("open", func(b *testing.B) {
		b.ReportAllocs()
		processCPULoop(b, func(int) {
			c, err := Open(dir, Options{StatInterval: -1})
			require.NoError(b, err)
			c.Close()
		})
	})
	c := mustOpen(b, dir, Options{})
	sites := loadSites(b)
	for _, want := range []outcome.Outcome{outcome.NotRevoked, outcome.Revoked, outcome.NotCovered} {
		var set []*certinput.Input
		for i := range sites {
			if sites[i].answer == want {
				set = append(set, &sites[i].in)
			}
		}
		b.Run(want.String(), func(b *testing.B) {
			b.ReportAllocs()
			cpuLoop(b, func(i int) {
				if o, _ := c.Check(set[i%len(set)], nil); o != want {
					b.Fatal(o)
				}
			})
		})
	}
}

// TestVanishedFilterRetry plays the C2SP atomicity race: the index.bin a
// load opened names a filter that is gone, because a writer has meanwhile
// published a new index.bin. The load starts over from index.bin and ends
// with the new, complete generation.
func TestVanishedFilterRetry(t *testing.T) {
	dir := fixtureCache(t)
	good, err := os.ReadFile(filepath.Join(dir, "index.bin"))
	require.NoError(t, err)
	c := mustOpen(t, dir, Options{StatInterval: -1})
	raw, err := index.Build([]index.FileCoverage{{Name: "removed.delta", Coverage: []index.Coverage{{LogID: [32]byte{1}, Low: 1, High: 2}}}})
	require.NoError(t, err)
	writeRaw(t, dir, "index.bin", raw)
	retries := 0
	c.onRetry = func() {
		retries++
		writeRaw(t, dir, "index.bin", good)
	}
	require.NoError(t, c.Refresh())
	g := c.Generation()
	require.Equal(t, 1, retries, "retries")
	require.EqualValues(t, 2, g.ID, "generation")
	require.Zero(t, g.BrokenFiles, "broken files: %+v", g.Files)
	require.Len(t, g.Files, 1)
	require.Equal(t, fixtureShort, g.Files[0].Name)
	// A writer that never catches up: bounded retries, then the filter is
	// reported missing.
	writeRaw(t, dir, "index.bin", raw)
	retries = 0
	c.onRetry = func() { retries++ }
	require.NoError(t, c.Refresh())
	require.Equal(t, 3, retries, "retries")
	require.Equal(t, 1, c.Generation().BrokenFiles, "broken files")
}

// TestManifestOnlyUpdate: a fetch that finds no new filters may rewrite
// manifest.json alone; the data time must follow it.
func TestManifestOnlyUpdate(t *testing.T) {
	dir := fixtureCache(t)
	c := mustOpen(t, dir, Options{StatInterval: -1})
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	require.NoError(t, err)
	m, err := manifest.Parse(data)
	require.NoError(t, err)
	m.GeneratedAt += 3600
	out, err := m.Marshal()
	require.NoError(t, err)
	writeRaw(t, dir, "manifest.json", out)
	require.NoError(t, c.Refresh())
	require.Equal(t, m.GeneratedAt, c.DataTime().Unix(), "data time")
	// Nothing changed: no new generation.
	id := c.Generation().ID
	require.NoError(t, c.Refresh(), "idle refresh")
	require.Equal(t, id, c.Generation().ID, "generation after an idle refresh")
}

// TestIssuerRowsConcurrent: many goroutines meet the same new issuers at
// once (the rows' table grows several times under them); every answer is
// right and every issuer ends up with one row. Run it with -race.
func TestIssuerRowsConcurrent(t *testing.T) {
	c, s := openSynthetic(t, cachedir.SyntheticSpec{Issuers: 300, FullSerials: 6000, Deltas: 3, DeltaSerials: 600, RevokedFraction: 0.1, Logs: 3, Seed: 9})
	type sample struct {
		in   *certinput.Input
		want outcome.Outcome
	}
	var all []sample
	issuers := map[[32]byte]bool{}
	for want, set := range map[outcome.Outcome][]certinput.Input{
		outcome.Revoked: s.Revoked, outcome.NotRevoked: s.NotRevoked, outcome.NotEnrolled: s.NotEnrolled,
	} {
		for i := range set {
			all = append(all, sample{&set[i], want})
			issuers[set[i].IssuerSPKIHash] = true
		}
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range all {
				smp := all[(k*(w+1)+w)%len(all)]
				if o, err := c.Check(smp.in, nil); o != smp.want {
					t.Errorf("worker %d: got %v %v, want %v", w, o, err, smp.want)
					return
				}
			}
		}()
	}
	wg.Wait()
	g := c.st.Acquire()
	defer g.Release()
	assert.Equal(t, len(issuers), g.V.rows.n, "issuer rows")
}
