package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/index"
	"github.com/revocheck/revocheck/core/manifest"
	"github.com/revocheck/revocheck/core/serve"
)

const fixtureDelta = "../../../shared/fixtures/mozilla-20260624-1-default.filter.delta"

func fixture(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(fixtureDelta)
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
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
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mf := &manifest.Manifest{GeneratedAt: time.Now().Unix(), Comment: "test"}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(f.data)
		mf.Files = append(mf.Files, manifest.File{Filename: f.name, Size: int64(len(f.data)), Hash: hex.EncodeToString(s[:])})
	}
	// Not Marshal: crlsets/ names may be longer than index.bin allows.
	data, err := json.Marshal(map[string]any{"generated_at": mf.GeneratedAt, "comment": mf.Comment, "files": mf.Files})
	if err != nil {
		t.Fatal(err)
	}
	writeRaw(t, filepath.Join(dir, "manifest.json"), data)
}

func writeRaw(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func fastClient() *Client {
	c := NewClient()
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
	if err != nil {
		t.Fatalf("index.bin: %v", err)
	}
	ix, err := index.Parse(data)
	if err != nil {
		t.Fatalf("index.bin: %v", err)
	}
	for _, n := range ix.Filenames() {
		sum, err := hashFile(filepath.Join(cache, n))
		if err != nil {
			t.Fatalf("index names %s: %v", n, err)
		}
		if want, ok := allowed[n]; ok && want != sum {
			t.Fatalf("%s: bytes of no generation", n)
		}
	}
	return ix.Filenames()
}

func noTemps(t testing.TB, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".fetch-") && strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestSyncFromEmptyThenNoop(t *testing.T) {
	fx := fixture(t)
	m := newMirror(t)
	m.publish(t, "", tfile{"20260624-0-default.filter", fx}, tfile{"20260624-1-default.filter.delta", fx})
	cache := filepath.Join(t.TempDir(), "cache")

	res, err := syncOnce(t, m, cache)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Trees[0].Downloaded; got != 2 {
		t.Fatalf("downloaded %d files, want 2", got)
	}
	if got := m.fileBytes.Load(); got != int64(2*len(fx)) {
		t.Fatalf("served %d file bytes, want %d", got, 2*len(fx))
	}
	names := checkConsistent(t, cache, nil)
	if !slices.Equal(names, []string{"20260624-0-default.filter", "20260624-1-default.filter.delta"}) {
		t.Fatalf("index names %v", names)
	}
	if _, err := os.Stat(filepath.Join(cache, "manifest.json")); err != nil {
		t.Fatal(err)
	}
	noTemps(t, cache)
	if !res.Trees[1].Absent {
		t.Fatalf("crlsets tree should be absent: %+v", res.Trees[1])
	}

	// Second run: a conditional request, 304, no filter bytes.
	m.fileBytes.Store(0)
	st, _ := os.Stat(filepath.Join(cache, "index.bin"))
	res, err = syncOnce(t, m, cache)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Trees[0].NotModified || !res.Trees[0].Unchanged {
		t.Fatalf("second sync: %+v", res.Trees[0])
	}
	if got := m.fileBytes.Load(); got != 0 {
		t.Fatalf("second sync transferred %d filter bytes", got)
	}
	if res.Received != 0 {
		t.Fatalf("second sync received %d body bytes, want 0 (304)", res.Received)
	}
	st2, _ := os.Stat(filepath.Join(cache, "index.bin"))
	if !os.SameFile(st, st2) {
		t.Fatal("a no-op sync replaced index.bin")
	}

	// A new manifest listing the same files (only generated_at differs):
	// written, but index.bin stays, so readers keep their generation.
	time.Sleep(1100 * time.Millisecond)
	m.publish(t, "", tfile{"20260624-0-default.filter", fx}, tfile{"20260624-1-default.filter.delta", fx})
	res, err = syncOnce(t, m, cache)
	if err != nil {
		t.Fatal(err)
	}
	st3, _ := os.Stat(filepath.Join(cache, "index.bin"))
	if res.Trees[0].Unchanged || res.Trees[0].Downloaded != 0 || !os.SameFile(st, st3) || m.fileBytes.Load() != 0 {
		t.Fatalf("manifest-only change: %+v, index replaced: %v", res.Trees[0], !os.SameFile(st, st3))
	}

	// Without validators (state lost) the manifest comes back whole, but
	// still no filter byte moves.
	os.Remove(filepath.Join(cache, StateName))
	res, err = syncOnce(t, m, cache)
	if err != nil {
		t.Fatal(err)
	}
	if res.Trees[0].NotModified || !res.Trees[0].Unchanged || m.fileBytes.Load() != 0 {
		t.Fatalf("stateless sync: %+v, %d file bytes", res.Trees[0], m.fileBytes.Load())
	}
}

func TestSyncOnlyChangedAndRemovals(t *testing.T) {
	fx := fixture(t)
	m := newMirror(t)
	m.publish(t, "", tfile{"a.filter", fx}, tfile{"b.delta", fx})
	cache := t.TempDir()
	if _, err := syncOnce(t, m, cache); err != nil {
		t.Fatal(err)
	}
	// A stray filter not in any manifest is cleaned up too.
	os.WriteFile(filepath.Join(cache, "stray.delta"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(cache, "notes.txt"), []byte("mine"), 0o644)
	m.publish(t, "", tfile{"b.delta", fx}, tfile{"c.delta", fx})
	m.fileBytes.Store(0)
	res, err := syncOnce(t, m, cache)
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Trees[0]
	if tr.Downloaded != 1 || tr.Kept != 1 || tr.Removed != 2 {
		t.Fatalf("result %+v", tr)
	}
	if got := m.fileBytes.Load(); got != int64(len(fx)) {
		t.Fatalf("served %d bytes, want one file (%d)", got, len(fx))
	}
	for n, want := range map[string]bool{"a.filter": false, "stray.delta": false, "b.delta": true, "c.delta": true, "notes.txt": true} {
		_, err := os.Stat(filepath.Join(cache, n))
		if (err == nil) != want {
			t.Errorf("%s present=%v, want %v", n, err == nil, want)
		}
	}
	if names := checkConsistent(t, cache, nil); !slices.Equal(names, []string{"b.delta", "c.delta"}) {
		t.Fatalf("index %v", names)
	}
}

func TestSyncLegacyFiltersKeyAndReplacedName(t *testing.T) {
	fx := fixture(t)
	m := newMirror(t)
	s := sha256.Sum256(fx)
	os.WriteFile(filepath.Join(m.dir, "x.filter"), fx, 0o644)
	writeRaw(t, filepath.Join(m.dir, "manifest.json"), fmt.Appendf(nil,
		`{"generated_at":1774181961,"comment":"legacy","filters":[{"filename":"x.filter","size":%d,"hash":"%x"}]}`, len(fx), s))
	cache := t.TempDir()
	if _, err := syncOnce(t, m, cache); err != nil {
		t.Fatal(err)
	}
	// The same name with other bytes: replaced through a transitional index.
	other := bytes.Clone(fx)
	other[len(other)-1] ^= 1
	var points []string
	m.publish(t, "", tfile{"x.filter", other})
	res, err := syncOnce(t, m, cache, func(o *Options) { o.hook = func(p string) { points = append(points, p) } })
	if err != nil {
		t.Fatal(err)
	}
	if res.Trees[0].Downloaded != 1 {
		t.Fatalf("%+v", res.Trees[0])
	}
	if !slices.Contains(points, ":transitional-index") {
		t.Fatalf("no transitional index: %v", points)
	}
	got, _ := os.ReadFile(filepath.Join(cache, "x.filter"))
	if !bytes.Equal(got, other) {
		t.Fatal("file not replaced")
	}
}

func TestDryRun(t *testing.T) {
	fx := fixture(t)
	m := newMirror(t)
	m.publish(t, "", tfile{"a.filter", fx})
	cache := filepath.Join(t.TempDir(), "c")
	var out bytes.Buffer
	res, err := syncOnce(t, m, cache, func(o *Options) { o.DryRun = true; o.Out = &out })
	if err != nil {
		t.Fatal(err)
	}
	if res.Trees[0].Bytes != int64(len(fx)) || m.fileBytes.Load() != 0 {
		t.Fatalf("%+v, %d file bytes", res.Trees[0], m.fileBytes.Load())
	}
	want := fmt.Sprintf("download a.filter (%d bytes)", len(fx))
	if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), fmt.Sprintf("1 to download (%d bytes)", len(fx))) {
		t.Fatalf("plan:\n%s", out.String())
	}
	if _, err := os.Stat(cache); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("dry run created the cache")
	}
}

func TestCRLSetsTree(t *testing.T) {
	fx := fixture(t)
	m := newMirror(t)
	m.publish(t, "", tfile{"a.filter", fx})
	long := "issuing-ca-of-the-example-org-0123456789abcdef.crlset" // longer than index.bin allows: fine here
	m.publish(t, "crlsets", tfile{long, crlsetFile(t)})
	cache := t.TempDir()
	res, err := syncOnce(t, m, cache)
	if err != nil {
		t.Fatal(err)
	}
	if res.Trees[1].Downloaded != 1 {
		t.Fatalf("%+v", res.Trees[1])
	}
	if _, err := os.Stat(filepath.Join(cache, "crlsets", long)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cache, "crlsets", "manifest.json")); err != nil {
		t.Fatal(err)
	}
	// The main manifest and index never mention it.
	if names := checkConsistent(t, cache, nil); !slices.Equal(names, []string{"a.filter"}) {
		t.Fatal(names)
	}
	// A 403 (some static hosts' "missing") skips the tree, keeping it.
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/crlsets/manifest.json" {
			http.Error(w, "denied", http.StatusForbidden)
			return true
		}
		return false
	})
	res, err = syncOnce(t, m, cache)
	if err != nil || !res.Trees[1].Skipped {
		t.Fatalf("403: %v %+v", err, res)
	}
	if _, err := os.Stat(filepath.Join(cache, "crlsets", long)); err != nil {
		t.Fatal("403 dropped the local crlsets")
	}
	m.setFault(nil)
	// The mirror drops its crlsets: the local tree goes, manifest first.
	os.RemoveAll(filepath.Join(m.dir, "crlsets"))
	if _, err := syncOnce(t, m, cache); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cache, "crlsets", long)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("crlset kept after the mirror dropped it")
	}
}

func TestLockExcludesSecondFetch(t *testing.T) {
	m := newMirror(t)
	m.publish(t, "", tfile{"a.filter", fixture(t)})
	cache := t.TempDir()
	unlock, err := lockCache(context.Background(), cache, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = syncOnce(t, m, cache, func(o *Options) { o.LockWait = 100 * time.Millisecond })
	unlock()
	if ExitCode(err) != ExitTemp || !strings.Contains(err.Error(), "another fetch") {
		t.Fatalf("err = %v (exit %d), want a temporary lock failure", err, ExitCode(err))
	}
	if _, err := syncOnce(t, m, cache); err != nil {
		t.Fatal(err)
	}
}

// --- fault injection ---------------------------------------------------

// primed returns a cache holding generation 1 (a.filter) and a mirror that
// now publishes generation 2 (b.delta added).
func primed(t *testing.T) (*testMirror, string, []byte) {
	fx := fixture(t)
	m := newMirror(t)
	m.publish(t, "", tfile{"a.filter", fx})
	cache := t.TempDir()
	if _, err := syncOnce(t, m, cache); err != nil {
		t.Fatal(err)
	}
	m.publish(t, "", tfile{"a.filter", fx}, tfile{"b.delta", fx})
	return m, cache, fx
}

// oldGeneration checks that the cache still is generation 1, whole.
func oldGeneration(t *testing.T, cache string) {
	t.Helper()
	if names := checkConsistent(t, cache, nil); !slices.Equal(names, []string{"a.filter"}) {
		t.Fatalf("index %v, want the old generation", names)
	}
	if _, err := os.Stat(filepath.Join(cache, "b.delta")); err == nil {
		t.Fatal("unverified file installed")
	}
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
	if err == nil || ExitCode(err) != ExitFail || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("err = %v (exit %d)", err, ExitCode(err))
	}
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
	if ExitCode(err) != ExitTemp {
		t.Fatalf("err = %v (exit %d), want temporary", err, ExitCode(err))
	}
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
	if _, err := syncOnce(t, m, cache); err != nil {
		t.Fatal(err)
	}
	if fails.Load() != 3 {
		t.Fatalf("%d requests for b.delta, want 3", fails.Load())
	}
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
	_, err := syncOnce(t, m, cache)
	if ExitCode(err) != ExitTemp || fails.Load() != 4 {
		t.Fatalf("err = %v, %d attempts", err, fails.Load())
	}
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
	if ExitCode(err) != ExitTemp || !strings.Contains(err.Error(), "no data for") {
		t.Fatalf("err = %v (exit %d)", err, ExitCode(err))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("stall detected after %v", d)
	}
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
			if ExitCode(err) != ExitFail {
				t.Fatalf("err = %v (exit %d)", err, ExitCode(err))
			}
			if m.fileBytes.Load() != 0 {
				t.Fatal("downloaded files of a rejected manifest")
			}
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
	if ExitCode(err) != ExitFail || !strings.Contains(err.Error(), "announces") {
		t.Fatalf("err = %v", err)
	}
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
	if ExitCode(err) != ExitFail || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("err = %v", err)
	}
	if sent.Load() > 64<<20 {
		t.Fatalf("server pushed %d bytes before the cut", sent.Load())
	}
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
	os.Remove(filepath.Join(cache, StateName))
	_, err = syncOnce(t, m, cache)
	if ExitCode(err) != ExitFail || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("err = %v", err)
	}
	oldGeneration(t, cache)
}

func TestConnectionRefusedIsTemporary(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/"
	ln.Close()
	c := fastClient()
	c.Attempts = 2
	_, err = Sync(context.Background(), Options{URL: url, CacheDir: t.TempDir(), Client: c})
	if ExitCode(err) != ExitTemp {
		t.Fatalf("err = %v (exit %d)", err, ExitCode(err))
	}
}

func TestMainFlagsAndExitCodes(t *testing.T) {
	m := newMirror(t)
	m.publish(t, "", tfile{"a.filter", fixture(t)})
	cache := t.TempDir()
	t.Setenv("REVOCHECK_CONFIG", filepath.Join(t.TempDir(), "none.toml"))
	os.WriteFile(os.Getenv("REVOCHECK_CONFIG"), []byte("[revocation]\nfetch-url = \""+m.srv.URL+"/\"\n"), 0o644)
	var out, errb bytes.Buffer
	if err := Main([]string{"--cache-dir", cache, "--dry-run"}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	if !strings.Contains(out.String(), "download a.filter") {
		t.Fatalf("dry run output: %s", out.String())
	}
	out.Reset()
	if err := Main([]string{"--cache-dir", cache}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "updated: 1 downloaded") {
		t.Fatalf("output: %s", out.String())
	}
	out.Reset()
	if err := Main([]string{"--cache-dir", cache}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "up to date") {
		t.Fatalf("output: %s", out.String())
	}
	err := Main([]string{"--cache-dir", cache, "--url", "ftp://x/"}, &out, &errb)
	if ec, ok := err.(interface{ ExitCode() int }); !ok || ec.ExitCode() != 1 {
		t.Fatalf("bad url: %v", err)
	}
	// The error itself (not only its chain) carries the exit code, as the
	// CLI asserts it: a refused connection is 75.
	m.srv.Close()
	err = Main([]string{"--cache-dir", cache, "--attempts", "2", "--backoff", "1ms"}, &out, &errb)
	if ec, ok := err.(interface{ ExitCode() int }); !ok || ec.ExitCode() != ExitTemp || !strings.HasPrefix(err.Error(), "fetch: ") {
		t.Fatalf("unreachable mirror: %T %v", err, err)
	}
	if err := Main([]string{"--help"}, &out, &errb); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
}

// upki's real public manifest (legacy "filters" form, Mozilla's names):
// accepted, and a dry run plans every file with the listed byte count.
func TestRealUpkiManifestDryRun(t *testing.T) {
	raw, err := os.ReadFile("../../../shared/fixtures/upki-manifest-legacy.json")
	if err != nil {
		t.Fatal(err)
	}
	m := newMirror(t)
	writeRaw(t, filepath.Join(m.dir, "manifest.json"), raw)
	var out bytes.Buffer
	res, err := syncOnce(t, m, t.TempDir(), func(o *Options) { o.DryRun = true; o.Out = &out })
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Filters []struct{ Size int64 } `json:"filters"`
	}
	json.Unmarshal(raw, &doc)
	var total int64
	for _, f := range doc.Filters {
		total += f.Size
	}
	if len(doc.Filters) != 36 || res.Trees[0].Bytes != total || !strings.Contains(out.String(), fmt.Sprintf("36 to download (%d bytes)", total)) {
		t.Fatalf("%d files, plan %+v:\n%s", len(doc.Filters), res.Trees[0], out.String())
	}
}
