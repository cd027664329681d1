package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/revocheck/revocheck/core/httpget"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/index"
	"github.com/revocheck/revocheck/core/manifest"
	"github.com/revocheck/revocheck/core/serve"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fixtureDelta = "../../testdata/fixtures/mozilla-20260624-1-default.filter.delta"

func fixture(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(fixtureDelta)
	require.NoError(t, err, "fixture")
	return b
}

// testMirror is a mirror tree served by core/serve on 127.0.0.1, counting
// the body bytes of every non-manifest response, with a fault hook.
type testMirror struct {
	dir       string
	srv       *httptest.Server
	fileBytes atomic.Int64
	requests  atomic.Int64
	mu        sync.Mutex
	fault     func(w http.ResponseWriter, r *http.Request) bool
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func newMirror(t testing.TB) *testMirror {
	t.Helper()
	m := &testMirror{dir: t.TempDir()}
	h, err := serve.New(m.dir)
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.requests.Add(1)
		m.mu.Lock()
		f := m.fault
		m.mu.Unlock()
		if f != nil && f(w, r) {
			return
		}
		if !strings.HasSuffix(r.URL.Path, "manifest.json") {
			w = countingWriter{w, &m.fileBytes}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *testMirror) setFault(f func(w http.ResponseWriter, r *http.Request) bool) {
	m.mu.Lock()
	m.fault = f
	m.mu.Unlock()
}

type tfile struct {
	name string
	data []byte
}

// publish writes a generation: files first, then manifest.json ("files").
func (m *testMirror) publish(t testing.TB, sub string, files ...tfile) {
	t.Helper()
	dir := filepath.Join(m.dir, sub)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	mf := &manifest.Manifest{GeneratedAt: time.Now().Unix(), Comment: "test"}
	for _, f := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644))
		s := sha256.Sum256(f.data)
		mf.Files = append(mf.Files, manifest.File{Filename: f.name, Size: int64(len(f.data)), Hash: hex.EncodeToString(s[:])})
	}
	// Not Marshal: crlsets/ names may be longer than index.bin allows.
	data, err := json.Marshal(map[string]any{"generated_at": mf.GeneratedAt, "comment": mf.Comment, "files": mf.Files})
	require.NoError(t, err)
	writeRaw(t, filepath.Join(dir, "manifest.json"), data)
}

func writeRaw(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, data, 0o644))
	require.NoError(t, os.Rename(tmp, path))
}

func fastClient() *httpget.Client {
	c := httpget.NewClient()
	c.Backoff = 10 * time.Millisecond
	c.MaxBackoff = 50 * time.Millisecond
	c.StallTimeout = 2 * time.Second
	return c
}

func syncOnce(t testing.TB, m *testMirror, cache string, mod ...func(*Options)) (*Result, error) {
	t.Helper()
	o := Options{URL: m.srv.URL, CacheDir: cache, Client: fastClient(), LockWait: time.Second}
	for _, f := range mod {
		f(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return Sync(ctx, o)
}

// checkConsistent verifies what a reader relies on: index.bin parses, and
// every file it names exists and has the bytes of one of the allowed
// generations' manifests.
func checkConsistent(t testing.TB, cache string, allowed map[string][32]byte) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cache, "index.bin"))
	require.NoError(t, err, "index.bin")
	ix, err := index.Parse(data)
	require.NoError(t, err, "index.bin")
	for _, n := range ix.Filenames() {
		sum, err := httpget.FileSHA256(filepath.Join(cache, n))
		require.NoError(t, err, "index names %s", n)
		if want, ok := allowed[n]; ok {
			require.Equal(t, want, sum, "%s: bytes of no generation", n)
		}
	}
	return ix.Filenames()
}

func noTemps(t testing.TB, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range ents {
		assert.False(t, strings.HasPrefix(e.Name(), ".fetch-") && strings.HasSuffix(e.Name(), ".tmp"), "temporary file left: %s", e.Name())
	}
}

func TestSyncFromEmptyThenNoop(t *testing.T) {
	fx := fixture(t)
	m := newMirror(t)
	m.publish(t, "", tfile{"20260624-0-default.filter", fx}, tfile{"20260624-1-default.filter.delta", fx})
	cache := filepath.Join(t.TempDir(), "cache")

	res, err := syncOnce(t, m, cache)
	require.NoError(t, err)
	require.Equal(t, 2, res.Trees[0].Downloaded, "files downloaded")
	require.Equal(t, int64(2*len(fx)), m.fileBytes.Load(), "file bytes served")
	names := checkConsistent(t, cache, nil)
	require.Equal(t, []string{"20260624-0-default.filter", "20260624-1-default.filter.delta"}, names, "index names")
	require.FileExists(t, filepath.Join(cache, "manifest.json"))
	noTemps(t, cache)
	require.True(t, res.Trees[1].Absent, "crlsets tree should be absent: %+v", res.Trees[1])

	// Second run: a conditional request, 304, no filter bytes.
	m.fileBytes.Store(0)
	st, err := os.Stat(filepath.Join(cache, "index.bin"))
	require.NoError(t, err)
	res, err = syncOnce(t, m, cache)
	require.NoError(t, err)
	require.True(t, res.Trees[0].NotModified, "second sync: %+v", res.Trees[0])
	require.True(t, res.Trees[0].Unchanged, "second sync: %+v", res.Trees[0])
	require.Zero(t, m.fileBytes.Load(), "filter bytes transferred by the second sync")
	require.Zero(t, res.Received, "body bytes received by the second sync (304)")
	st2, err := os.Stat(filepath.Join(cache, "index.bin"))
	require.NoError(t, err)
	require.True(t, os.SameFile(st, st2), "a no-op sync replaced index.bin")

	// A new manifest listing the same files (only generated_at differs):
	// written, but index.bin stays, so readers keep their generation.
	time.Sleep(1100 * time.Millisecond)
	m.publish(t, "", tfile{"20260624-0-default.filter", fx}, tfile{"20260624-1-default.filter.delta", fx})
	res, err = syncOnce(t, m, cache)
	require.NoError(t, err)
	st3, err := os.Stat(filepath.Join(cache, "index.bin"))
	require.NoError(t, err)
	require.False(t, res.Trees[0].Unchanged, "manifest-only change: %+v", res.Trees[0])
	require.Zero(t, res.Trees[0].Downloaded, "manifest-only change: files downloaded")
	require.Zero(t, m.fileBytes.Load(), "manifest-only change: file bytes served")
	require.True(t, os.SameFile(st, st3), "manifest-only change replaced index.bin")

	// Without validators (state lost) the manifest comes back whole, but
	// still no filter byte moves.
	require.NoError(t, os.Remove(filepath.Join(cache, StateName)))
	res, err = syncOnce(t, m, cache)
	require.NoError(t, err)
	require.False(t, res.Trees[0].NotModified, "stateless sync: %+v", res.Trees[0])
	require.True(t, res.Trees[0].Unchanged, "stateless sync: %+v", res.Trees[0])
	require.Zero(t, m.fileBytes.Load(), "stateless sync: file bytes served")
}

func TestSyncOnlyChangedAndRemovals(t *testing.T) {
	fx := fixture(t)
	m := newMirror(t)
	m.publish(t, "", tfile{"a.filter", fx}, tfile{"b.delta", fx})
	cache := t.TempDir()
	_, err := syncOnce(t, m, cache)
	require.NoError(t, err)
	// A stray filter not in any manifest is cleaned up too.
	require.NoError(t, os.WriteFile(filepath.Join(cache, "stray.delta"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(cache, "notes.txt"), []byte("mine"), 0o644))
	m.publish(t, "", tfile{"b.delta", fx}, tfile{"c.delta", fx})
	m.fileBytes.Store(0)
	res, err := syncOnce(t, m, cache)
	require.NoError(t, err)
	tr := res.Trees[0]
	assert.Equal(t, 1, tr.Downloaded, "downloaded")
	assert.Equal(t, 1, tr.Kept, "kept")
	assert.Equal(t, 2, tr.Removed, "removed")
	require.Equal(t, int64(len(fx)), m.fileBytes.Load(), "bytes served (one file)")
	for n, want := range map[string]bool{"a.filter": false, "stray.delta": false, "b.delta": true, "c.delta": true, "notes.txt": true} {
		if want {
			assert.FileExists(t, filepath.Join(cache, n))
		} else {
			assert.NoFileExists(t, filepath.Join(cache, n))
		}
	}
	require.Equal(t, []string{"b.delta", "c.delta"}, checkConsistent(t, cache, nil), "index names")
}

func TestSyncLegacyFiltersKeyAndReplacedName(t *testing.T) {
	fx := fixture(t)
	m := newMirror(t)
	s := sha256.Sum256(fx)
	require.NoError(t, os.WriteFile(filepath.Join(m.dir, "x.filter"), fx, 0o644))
	writeRaw(t, filepath.Join(m.dir, "manifest.json"), fmt.Appendf(nil,
		`{"generated_at":1774181961,"comment":"legacy","filters":[{"filename":"x.filter","size":%d,"hash":"%x"}]}`, len(fx), s))
	cache := t.TempDir()
	_, err := syncOnce(t, m, cache)
	require.NoError(t, err)
	// The same name with other bytes: replaced through a transitional index.
	other := bytes.Clone(fx)
	other[len(other)-1] ^= 1
	var points []string
	m.publish(t, "", tfile{"x.filter", other})
	res, err := syncOnce(t, m, cache, func(o *Options) { o.hook = func(p string) { points = append(points, p) } })
	require.NoError(t, err)
	require.Equal(t, 1, res.Trees[0].Downloaded, "downloaded: %+v", res.Trees[0])
	require.Contains(t, points, ":transitional-index")
	got, err := os.ReadFile(filepath.Join(cache, "x.filter"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(got, other), "file not replaced")
}

func TestDryRun(t *testing.T) {
	fx := fixture(t)
	m := newMirror(t)
	m.publish(t, "", tfile{"a.filter", fx})
	cache := filepath.Join(t.TempDir(), "c")
	var out bytes.Buffer
	res, err := syncOnce(t, m, cache, func(o *Options) { o.DryRun = true; o.Out = &out })
	require.NoError(t, err)
	require.Equal(t, int64(len(fx)), res.Trees[0].Bytes, "planned bytes")
	require.Zero(t, m.fileBytes.Load(), "file bytes served to a dry run")
	require.Contains(t, out.String(), fmt.Sprintf("download a.filter (%d bytes)", len(fx)))
	require.Contains(t, out.String(), fmt.Sprintf("1 to download (%d bytes)", len(fx)))
	require.NoDirExists(t, cache, "dry run created the cache")
}

func TestCRLSetsTree(t *testing.T) {
	fx := fixture(t)
	m := newMirror(t)
	m.publish(t, "", tfile{"a.filter", fx})
	long := "issuing-ca-of-the-example-org-0123456789abcdef.crlset" // longer than index.bin allows: fine here
	m.publish(t, "crlsets", tfile{long, crlsetFile(t)})
	cache := t.TempDir()
	res, err := syncOnce(t, m, cache)
	require.NoError(t, err)
	require.Equal(t, 1, res.Trees[1].Downloaded, "crlsets downloaded: %+v", res.Trees[1])
	require.FileExists(t, filepath.Join(cache, "crlsets", long))
	require.FileExists(t, filepath.Join(cache, "crlsets", "manifest.json"))
	// The main manifest and index never mention it.
	require.Equal(t, []string{"a.filter"}, checkConsistent(t, cache, nil), "index names")
	// A 403 (some static hosts' "missing") skips the tree, keeping it.
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/crlsets/manifest.json" {
			http.Error(w, "denied", http.StatusForbidden)
			return true
		}
		return false
	})
	res, err = syncOnce(t, m, cache)
	require.NoError(t, err, "403")
	require.True(t, res.Trees[1].Skipped, "403: %+v", res.Trees[1])
	require.FileExists(t, filepath.Join(cache, "crlsets", long), "403 dropped the local crlsets")
	m.setFault(nil)
	// The mirror drops its crlsets: the local tree goes, manifest first.
	require.NoError(t, os.RemoveAll(filepath.Join(m.dir, "crlsets")))
	_, err = syncOnce(t, m, cache)
	require.NoError(t, err)
	require.NoFileExists(t, filepath.Join(cache, "crlsets", long), "crlset kept after the mirror dropped it")
}

func TestLockExcludesSecondFetch(t *testing.T) {
	m := newMirror(t)
	m.publish(t, "", tfile{"a.filter", fixture(t)})
	cache := t.TempDir()
	unlock, err := lockCache(context.Background(), cache, 0)
	require.NoError(t, err)
	_, err = syncOnce(t, m, cache, func(o *Options) { o.LockWait = 100 * time.Millisecond })
	unlock()
	require.ErrorContains(t, err, "another fetch")
	require.Equal(t, httpget.Temporary, httpget.KindOf(err), "a lock failure is temporary")
	_, err = syncOnce(t, m, cache)
	require.NoError(t, err)
}

// --- fault injection ---------------------------------------------------

// primed returns a cache holding generation 1 (a.filter) and a mirror that
// now publishes generation 2 (b.delta added).
func primed(t *testing.T) (*testMirror, string, []byte) {
	fx := fixture(t)
	m := newMirror(t)
	m.publish(t, "", tfile{"a.filter", fx})
	cache := t.TempDir()
	_, err := syncOnce(t, m, cache)
	require.NoError(t, err)
	m.publish(t, "", tfile{"a.filter", fx}, tfile{"b.delta", fx})
	return m, cache, fx
}

// oldGeneration checks that the cache still is generation 1, whole.
func oldGeneration(t *testing.T, cache string) {
	t.Helper()
	require.Equal(t, []string{"a.filter"}, checkConsistent(t, cache, nil), "index names (the old generation)")
	require.NoFileExists(t, filepath.Join(cache, "b.delta"), "unverified file installed")
	noTemps(t, cache)
}

func TestFaultHashMismatch(t *testing.T) {
	m, cache, fx := primed(t)
	bad := bytes.Clone(fx)
	bad[100] ^= 0xff
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/b.delta" {
			w.Write(bad)
			return true
		}
		return false
	})
	_, err := syncOnce(t, m, cache)
	require.ErrorContains(t, err, "does not match")
	require.Equal(t, httpget.Failed, httpget.KindOf(err), "exit code of %v", err)
	oldGeneration(t, cache)
}

func TestFaultTruncatedBody(t *testing.T) {
	m, cache, fx := primed(t)
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/b.delta" {
			return false
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(fx)))
		w.WriteHeader(200)
		w.Write(fx[:len(fx)/2])
		panic(http.ErrAbortHandler) // cut the connection mid-body
	})
	_, err := syncOnce(t, m, cache)
	require.Equal(t, httpget.Temporary, httpget.KindOf(err), "exit code of %v", err)
	oldGeneration(t, cache)
}

func TestFault500ThenSuccess(t *testing.T) {
	m, cache, _ := primed(t)
	var fails atomic.Int32
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/b.delta" && fails.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusInternalServerError)
			return true
		}
		return false
	})
	_, err := syncOnce(t, m, cache)
	require.NoError(t, err)
	require.EqualValues(t, 3, fails.Load(), "requests for b.delta")
	checkConsistent(t, cache, nil)

	// Persistent 503: temporary failure after the bounded attempts.
	m.publish(t, "", tfile{"c.delta", fixture(t)})
	fails.Store(0)
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/c.delta" {
			fails.Add(1)
			http.Error(w, "down", http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	_, err = syncOnce(t, m, cache)
	require.Equal(t, httpget.Temporary, httpget.KindOf(err), "exit code of %v", err)
	require.EqualValues(t, 4, fails.Load(), "attempts")
}

func TestFaultStallMidBody(t *testing.T) {
	m, cache, fx := primed(t)
	release := make(chan struct{})
	defer close(release)
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/b.delta" {
			return false
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(fx)))
		w.WriteHeader(200)
		w.Write(fx[:1000])
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return true
	})
	start := time.Now()
	_, err := syncOnce(t, m, cache, func(o *Options) {
		o.Client.StallTimeout = 200 * time.Millisecond
		o.Client.Attempts = 2
	})
	require.ErrorContains(t, err, "no data for")
	require.Equal(t, httpget.Temporary, httpget.KindOf(err), "exit code of %v", err)
	require.LessOrEqual(t, time.Since(start), 5*time.Second, "time to detect the stall")
	oldGeneration(t, cache)
}

func TestFaultTraversalName(t *testing.T) {
	for _, name := range []string{"../../etc/passwd", "..", "a/b", ".lock", "index.bin", strings.Repeat("x", 33), "a\x00b"} {
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			m, cache, fx := primed(t)
			s := sha256.Sum256(fx)
			writeRaw(t, filepath.Join(m.dir, "manifest.json"), fmt.Appendf(nil,
				`{"generated_at":1,"comment":"","files":[{"filename":"b.delta","size":%d,"hash":"%x"},{"filename":%q,"size":%d,"hash":"%x"}]}`,
				len(fx), s, name, len(fx), s))
			m.fileBytes.Store(0)
			_, err := syncOnce(t, m, cache)
			require.Equal(t, httpget.Failed, httpget.KindOf(err), "exit code of %v", err)
			require.Zero(t, m.fileBytes.Load(), "downloaded files of a rejected manifest")
			oldGeneration(t, cache)
		})
	}
}

func TestFaultLyingLength(t *testing.T) {
	m, cache, fx := primed(t)
	// A Content-Length larger than the manifest's size: refused before
	// reading.
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/b.delta" {
			return false
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(fx)+1000))
		w.WriteHeader(200)
		w.Write(fx)
		return true
	})
	_, err := syncOnce(t, m, cache)
	require.ErrorContains(t, err, "announces")
	require.Equal(t, httpget.Failed, httpget.KindOf(err), "exit code of %v", err)
	oldGeneration(t, cache)

	// No length and an endless body: cut off after the manifest's size.
	var sent atomic.Int64
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/b.delta" {
			return false
		}
		w.WriteHeader(200)
		chunk := make([]byte, 32<<10)
		for r.Context().Err() == nil {
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil || sent.Load() > 1<<30 {
				break
			}
		}
		return true
	})
	c := fastClient()
	_, err = syncOnce(t, m, cache, func(o *Options) { o.Client = c })
	require.ErrorContains(t, err, "longer than")
	require.Equal(t, httpget.Failed, httpget.KindOf(err), "exit code of %v", err)
	require.LessOrEqual(t, sent.Load(), int64(64<<20), "bytes the server pushed before the cut")
	oldGeneration(t, cache)

	// An endless manifest: capped.
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/manifest.json" {
			return false
		}
		w.WriteHeader(200)
		w.Write([]byte(`{"generated_at":1,"comment":"`))
		chunk := bytes.Repeat([]byte("a"), 32<<10)
		for i := 0; i < 100 && r.Context().Err() == nil; i++ {
			if _, err := w.Write(chunk); err != nil {
				break
			}
		}
		return true
	})
	require.NoError(t, os.Remove(filepath.Join(cache, StateName)))
	_, err = syncOnce(t, m, cache)
	require.ErrorContains(t, err, "limit")
	require.Equal(t, httpget.Failed, httpget.KindOf(err), "exit code of %v", err)
	oldGeneration(t, cache)
}

func TestConnectionRefusedIsTemporary(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String() + "/"
	ln.Close()
	c := fastClient()
	c.Attempts = 2
	_, err = Sync(context.Background(), Options{URL: url, CacheDir: t.TempDir(), Client: c})
	require.Equal(t, httpget.Temporary, httpget.KindOf(err), "exit code of %v", err)
}

// runFetch is one run the way `revocheck fetch` makes it
// (cmd/revocheck/fetch.go, where the flags and the configuration are
// tested): carry an old layout over, sync, judge what the cache holds.
func runFetch(opts Options, maxAge time.Duration, warn io.Writer) error {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if err := MigrateLayout(opts.CacheDir, opts.Out); err != nil {
		fmt.Fprintf(warn, "revocheck: %v (the fetch downloads everything instead)\n", err)
	}
	_, err := Sync(context.Background(), opts)
	return Judge(err, opts.CacheDir, maxAge, warn)
}

// upki's real public manifest (legacy "filters" form, Mozilla's names):
// accepted, and a dry run plans every file with the listed byte count.
func TestRealUpkiManifestDryRun(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/fixtures/upki-manifest-legacy.json")
	require.NoError(t, err)
	m := newMirror(t)
	writeRaw(t, filepath.Join(m.dir, "manifest.json"), raw)
	var out bytes.Buffer
	res, err := syncOnce(t, m, t.TempDir(), func(o *Options) { o.DryRun = true; o.Out = &out })
	require.NoError(t, err)
	var doc struct {
		Filters []struct{ Size int64 } `json:"filters"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	var total int64
	for _, f := range doc.Filters {
		total += f.Size
	}
	require.Len(t, doc.Filters, 36, "files in the manifest")
	require.Equal(t, total, res.Trees[0].Bytes, "planned bytes")
	require.Contains(t, out.String(), fmt.Sprintf("36 to download (%d bytes)", total))
}
