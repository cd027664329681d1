package fetch

import (
	"bytes"
	"crypto/sha256"
	"github.com/revocheck/revocheck/core/httpget"
	"github.com/revocheck/revocheck/core/policy"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/crlcompile"
	"github.com/revocheck/revocheck/core/crlset"
)

// The default is upki's own fetch-url, and the manifest is asked for at
// <url>manifest.json, as upki does (upki/src/revocation/fetch.rs).
func TestDefaultURLIsUpkis(t *testing.T) {
	if DefaultURL != "https://upki.rustls.dev/revocation/" {
		t.Fatalf("DefaultURL = %s", DefaultURL)
	}
	m := newMirror(t)
	m.publish(t, "revocation", tfile{"a.filter", fixture(t)})
	var mu sync.Mutex
	var paths []string
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		return false
	})
	for _, u := range []string{m.srv.URL + "/revocation/", m.srv.URL + "/revocation"} {
		paths = nil
		cache := t.TempDir()
		o := Options{URL: u, CacheDir: cache, Client: fastClient(), SkipCRLSets: true}
		if _, err := Sync(t.Context(), o); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if paths[0] != "/revocation/manifest.json" || paths[1] != "/revocation/a.filter" {
			t.Fatalf("%s: requests %v", u, paths)
		}
		if err := cacheCheck(cache, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// A mirror of CRL sets only (a private PKI's): no manifest.json at the
// top, crlsets/ present. The fetch succeeds and the sets answer.
func TestCRLSetsOnlyMirror(t *testing.T) {
	ca, caDER, crl := privateCA(t)
	m := newMirror(t)
	if err := crlcompile.CompileFiles([][]byte{crl}, [][]byte{caDER}, m.dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(m.dir, "manifest.json")); err == nil {
		t.Fatal("the tree has a top-level manifest")
	}
	cache := t.TempDir()
	res, err := syncOnce(t, m, cache)
	if err != nil {
		t.Fatalf("crl-sets-only mirror: %v", err)
	}
	if !res.Trees[0].Absent || res.Trees[1].Downloaded != 1 {
		t.Fatalf("%+v", res.Trees)
	}
	st := crlset.OpenStore(filepath.Join(cache, crlset.Dir))
	defer st.Close()
	spki := sha256.Sum256(ca.RawSubjectPublicKeyInfo)
	if covered, revoked := st.Lookup(&spki, []byte{0x12, 0x34}); !covered || !revoked {
		t.Fatalf("revoked serial: covered=%v revoked=%v", covered, revoked)
	}
	// A whole run too: no error, the sets count as data.
	var errb bytes.Buffer
	if err := runFetch(Options{URL: m.srv.URL + "/", CacheDir: cache, Client: fastClient()}, policy.DefaultMaxAge, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
}

// A url where nothing is (the wrong-url case that left every machine
// without data) fails, and a clubcard generation already in the cache is
// never removed because its manifest vanished.
func TestNoMirrorAtURL(t *testing.T) {
	m, cache, _ := primed(t)
	os.Remove(filepath.Join(m.dir, "manifest.json"))
	_, err := syncOnce(t, m, cache)
	wantExit(t, err, httpget.Failed, "not a revocation mirror")
	stillAnswers(t, cache)

	empty := newMirror(t)
	_, err = syncOnce(t, empty, t.TempDir())
	wantExit(t, err, httpget.Failed, "not a revocation mirror")
}

// The unit must not be quiet about a machine without usable data: a
// failed run says so on stderr, a run that leaves stale data fails.
func TestMainFailsLoudlyWithoutUsableData(t *testing.T) {
	m := newMirror(t)
	cache := t.TempDir()
	var errb bytes.Buffer
	run := func(url string, maxAge time.Duration) error {
		c := fastClient()
		c.Attempts = 1
		return runFetch(Options{URL: url, CacheDir: cache, Client: c}, maxAge, &errb)
	}

	// Never filled, mirror unreachable: temporary, and a line saying the data is absent.
	url := m.srv.URL + "/"
	m.srv.Close()
	err := run(url, policy.DefaultMaxAge)
	if httpget.KindOf(err) != httpget.Temporary || !strings.Contains(errb.String(), "no revocation data in "+cache) {
		t.Fatalf("unreachable, empty cache: %v\nstderr: %s", err, errb.String())
	}

	// A mirror whose data is 11 days old: installed, but the run fails.
	m = newMirror(t)
	m.publishAt(t, "", time.Now().Add(-11*24*time.Hour).Unix(), tfile{"a.filter", fixture(t)})
	errb.Reset()
	err = run(m.srv.URL+"/", policy.DefaultMaxAge)
	if httpget.KindOf(err) != httpget.Failed || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("stale mirror: %v", err)
	}
	if err := cacheCheck(cache, nil); err != nil {
		t.Fatalf("stale data not installed: %v", err)
	}
	// With max-age 30d the same data is fine.
	if err := run(m.srv.URL+"/", 30*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	h := CheckHealth(cache, 30*24*time.Hour)
	if h.Problem() != "" || h.LastSuccess.IsZero() || h.Filters != 1 {
		t.Fatalf("health %+v: %s", h, h.Problem())
	}
	// A last successful fetch longer ago than max-age is a problem too.
	h.LastSuccess = time.Now().Add(-31 * 24 * time.Hour)
	if !strings.Contains(h.Problem(), "last successful fetch") {
		t.Fatalf("overdue: %q", h.Problem())
	}
}

// A cache of the old layout (data directly in the cache-dir) is carried
// into <cache-dir>/revocation by the first fetch: answers at once, no
// filter downloaded again, the old names left for old readers.
func TestMigrateOldLayout(t *testing.T) {
	fx := fixture(t)
	m := newMirror(t)
	m.publish(t, "", tfile{"a.filter", fx})
	ca, caDER, crl := privateCA(t)
	if err := crlcompile.CompileFiles([][]byte{crl}, [][]byte{caDER}, m.dir); err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	if _, err := syncOnce(t, m, parent); err != nil { // the old layout
		t.Fatal(err)
	}
	m.fileBytes.Store(0)
	var out, errb bytes.Buffer
	opts := Options{URL: m.srv.URL + "/", CacheDir: filepath.Join(parent, "revocation"), Client: fastClient(), Out: &out}
	if err := runFetch(opts, policy.DefaultMaxAge, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "moved to upki's layout") || m.fileBytes.Load() != 0 {
		t.Fatalf("%d file bytes downloaded after the migration:\n%s", m.fileBytes.Load(), out.String())
	}
	data := filepath.Join(parent, "revocation")
	if err := cacheCheck(data, nil); err != nil {
		t.Fatal(err)
	}
	st := crlset.OpenStore(filepath.Join(data, crlset.Dir))
	defer st.Close()
	spki := sha256.Sum256(ca.RawSubjectPublicKeyInfo)
	if covered, revoked := st.Lookup(&spki, []byte{0x12, 0x34}); !covered || !revoked {
		t.Fatalf("crl set after migration: covered=%v revoked=%v", covered, revoked)
	}
	if err := cacheCheck(parent, nil); err != nil {
		t.Fatalf("the old names no longer answer: %v", err)
	}
}
