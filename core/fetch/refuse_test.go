package fetch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"github.com/revocheck/revocheck/core/httpget"
	"github.com/revocheck/revocheck/core/policy"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/manifest"
)

// publishAt is publish with a chosen generated_at.
func (m *testMirror) publishAt(t *testing.T, sub string, at int64, files ...tfile) {
	t.Helper()
	dir := filepath.Join(m.dir, sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	list := []manifest.File{}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(f.data)
		list = append(list, manifest.File{Filename: f.name, Size: int64(len(f.data)), Hash: hex.EncodeToString(s[:])})
	}
	data, err := json.Marshal(map[string]any{"generated_at": at, "comment": "test", "files": list})
	if err != nil {
		t.Fatal(err)
	}
	writeRaw(t, filepath.Join(dir, "manifest.json"), data)
}

// stillAnswers asserts the previous generation is whole and still gives
// the fixture's answers (the revoked vector revoked) to a reader.
func stillAnswers(t *testing.T, cache string) {
	t.Helper()
	oldGeneration(t, cache)
	if err := cacheCheck(cache, nil); err != nil {
		t.Fatalf("the previous generation no longer answers: %v", err)
	}
}

func wantExit(t *testing.T, err error, code httpget.Kind, text string) {
	t.Helper()
	if httpget.KindOf(err) != code || !strings.Contains(err.Error(), text) {
		t.Fatalf("err = %v (kind %d), want kind %d mentioning %q", err, httpget.KindOf(err), code, text)
	}
}

// A manifest with an empty list would delete every filter: refused, the
// cache keeps answering; --force installs it.
func TestRefuseEmptyManifest(t *testing.T) {
	m, cache, _ := primed(t)
	m.publishAt(t, "", time.Now().Unix()+10)
	_, err := syncOnce(t, m, cache)
	wantExit(t, err, httpget.Refused, "lists no files")
	stillAnswers(t, cache)

	if _, err := syncOnce(t, m, cache, func(o *Options) { o.Force = true }); err != nil {
		t.Fatal(err)
	}
	if names := checkConsistent(t, cache, nil); len(names) != 0 {
		t.Fatalf("--force: index still names %v", names)
	}
	if _, err := os.Stat(filepath.Join(cache, "a.filter")); err == nil {
		t.Fatal("--force: a.filter kept")
	}
}

// A manifest older than the cache's (a replayed or rolled-back mirror) is
// refused before any file moves.
func TestRefuseRollback(t *testing.T) {
	m, cache, fx := primed(t)
	local, err := os.ReadFile(filepath.Join(cache, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	lm, err := manifest.Parse(local)
	if err != nil {
		t.Fatal(err)
	}
	m.publishAt(t, "", lm.GeneratedAt-3600, tfile{"a.filter", fx}, tfile{"b.delta", fx})
	m.fileBytes.Store(0)
	_, err = syncOnce(t, m, cache)
	wantExit(t, err, httpget.Refused, "rollback")
	if m.fileBytes.Load() != 0 {
		t.Fatal("files of a refused manifest downloaded")
	}
	stillAnswers(t, cache)

	if _, err := syncOnce(t, m, cache, func(o *Options) { o.Force = true }); err != nil {
		t.Fatal(err)
	}
	if names := checkConsistent(t, cache, nil); !slices.Equal(names, []string{"a.filter", "b.delta"}) {
		t.Fatalf("--force: index %v", names)
	}
}

// A redirect to another host is not followed, even when that host serves
// the right bytes; same-host redirects are; --allow-redirect-host opens a
// host.
func TestRefuseForeignRedirect(t *testing.T) {
	m, cache, fx := primed(t)
	var foreignHits atomic.Int32
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreignHits.Add(1)
		w.Write(fx)
	}))
	defer foreign.Close()
	// "localhost" is another host name than the mirror's 127.0.0.1.
	other := strings.Replace(foreign.URL, "127.0.0.1", "localhost", 1)
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		switch r.URL.Path {
		case "/b.delta":
			http.Redirect(w, r, other+"/b.delta", http.StatusFound)
			return true
		}
		return false
	})
	_, err := syncOnce(t, m, cache)
	wantExit(t, err, httpget.Refused, "another host")
	if foreignHits.Load() != 0 {
		t.Fatalf("the foreign host was asked %d times", foreignHits.Load())
	}
	stillAnswers(t, cache)

	// The manifest itself redirected away: refused the same way.
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/manifest.json" {
			http.Redirect(w, r, other+"/manifest.json", http.StatusMovedPermanently)
			return true
		}
		return false
	})
	os.Remove(filepath.Join(cache, StateName))
	_, err = syncOnce(t, m, cache)
	wantExit(t, err, httpget.Refused, "another host")
	stillAnswers(t, cache)

	// A redirect within the mirror is followed.
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/b.delta" {
			http.Redirect(w, r, "/a.filter", http.StatusFound) // same bytes as b.delta here
			return true
		}
		return false
	})
	if _, err := syncOnce(t, m, cache); err != nil {
		t.Fatalf("same-host redirect: %v", err)
	}
	checkConsistent(t, cache, nil)

	// Allowed explicitly: followed.
	m2, cache2, _ := primed(t)
	m2.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/b.delta" {
			http.Redirect(w, r, other+"/b.delta", http.StatusFound)
			return true
		}
		return false
	})
	if _, err := syncOnce(t, m2, cache2, func(o *Options) { o.AllowRedirectHosts = []string{"localhost"} }); err != nil {
		t.Fatalf("--allow-redirect-host localhost: %v", err)
	}
	if foreignHits.Load() == 0 {
		t.Fatal("the allowed host was never asked")
	}
}

// A redirect loop is permanent (exit 1), not a temporary failure to retry.
func TestRedirectLoopIsPermanent(t *testing.T) {
	m, cache, _ := primed(t)
	var hits atomic.Int32
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/b.delta" {
			hits.Add(1)
			http.Redirect(w, r, "/b.delta", http.StatusFound)
			return true
		}
		return false
	})
	_, err := syncOnce(t, m, cache)
	wantExit(t, err, httpget.Failed, "redirect loop")
	if hits.Load() > httpget.MaxRedirects+1 {
		t.Fatalf("%d requests: the loop was retried", hits.Load())
	}
	stillAnswers(t, cache)
}

// A listed file whose hash matches but which does not parse is refused,
// and the run leaves nothing behind: not that file, not the good file
// downloaded before it, no temporary.
func TestRefuseUnparsableFilter(t *testing.T) {
	m, cache, fx := primed(t)
	garbage := bytes.Repeat([]byte("not a clubcard "), 100)
	m.publishAt(t, "", time.Now().Unix()+10, tfile{"a.filter", fx}, tfile{"c.delta", fx}, tfile{"z.delta", garbage})
	_, err := syncOnce(t, m, cache)
	wantExit(t, err, httpget.Refused, "does not parse")
	for _, n := range []string{"c.delta", "z.delta"} {
		if _, err := os.Stat(filepath.Join(cache, n)); err == nil {
			t.Errorf("%s left in the cache after the refusal", n)
		}
	}
	stillAnswers(t, cache)
	// --force does not make an unparsable file acceptable.
	_, err = syncOnce(t, m, cache, func(o *Options) { o.Force = true })
	wantExit(t, err, httpget.Refused, "does not parse")
	stillAnswers(t, cache)
}

// A whole run: the error kinds, and Force.
func TestRunRefusalsAndForce(t *testing.T) {
	m, cache, _ := primed(t)
	m.publishAt(t, "", time.Now().Unix()+10)
	var errb bytes.Buffer
	opts := Options{URL: m.srv.URL + "/", CacheDir: cache, Client: fastClient()}
	err := runFetch(opts, policy.DefaultMaxAge, &errb)
	if _, ok := err.(*httpget.RefusedError); !ok {
		t.Fatalf("empty manifest: %T %v", err, err)
	}
	stillAnswers(t, cache)
	// --force empties the cache, and then the cache holds no data: the
	// run still fails, loudly, so that the unit shows it.
	opts.Force = true
	err = runFetch(opts, policy.DefaultMaxAge, &errb)
	if httpget.KindOf(err) != httpget.Failed || !strings.Contains(err.Error(), "no revocation data") {
		t.Fatalf("--force on an empty mirror: %v", err)
	}
}

// AllowRedirectHosts opens a host to redirects; without it the same run is
// refused.
func TestRunAllowRedirectHosts(t *testing.T) {
	m, cache, fx := primed(t)
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(fx) }))
	defer foreign.Close()
	other := strings.Replace(foreign.URL, "127.0.0.1", "localhost", 1)
	m.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/b.delta" {
			http.Redirect(w, r, other+"/b.delta", http.StatusFound)
			return true
		}
		return false
	})
	var errb bytes.Buffer
	opts := Options{URL: m.srv.URL + "/", CacheDir: cache, Client: fastClient()}
	if err := runFetch(opts, policy.DefaultMaxAge, &errb); httpget.KindOf(err) != httpget.Refused {
		t.Fatalf("no allowance: %v", err)
	}
	stillAnswers(t, cache)
	opts.Client = fastClient() // a fresh redirect policy
	opts.AllowRedirectHosts = []string{"localhost"}
	if err := runFetch(opts, policy.DefaultMaxAge, &errb); err != nil {
		t.Fatalf("AllowRedirectHosts: %v", err)
	}
	m2, cache2, _ := primed(t)
	m2.setFault(m.fault)
	opts2 := Options{URL: m2.srv.URL + "/", CacheDir: cache2, Client: fastClient(), AllowRedirectHosts: []string{"example.org", "localhost"}}
	if err := runFetch(opts2, policy.DefaultMaxAge, &errb); err != nil {
		t.Fatalf("two allowed hosts: %v", err)
	}
}

// A cache generation dated far in the future (a mirror's bad clock, once)
// does not pin the cache: the next, correctly dated, manifest is taken.
func TestRollbackFloorIgnoresFutureDates(t *testing.T) {
	fx := fixture(t)
	m := newMirror(t)
	m.publishAt(t, "", time.Now().Add(30*24*time.Hour).Unix(), tfile{"a.filter", fx})
	cache := t.TempDir()
	if _, err := syncOnce(t, m, cache); err != nil {
		t.Fatal(err)
	}
	m.publishAt(t, "", time.Now().Unix(), tfile{"a.filter", fx}, tfile{"b.delta", fx})
	if _, err := syncOnce(t, m, cache); err != nil {
		t.Fatalf("a correctly dated manifest after a future-dated one: %v", err)
	}
}
