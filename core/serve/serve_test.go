package serve

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func setup(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	root := t.TempDir()
	tree := filepath.Join(root, "tree")
	os.MkdirAll(filepath.Join(tree, "crlsets"), 0o755)
	os.MkdirAll(filepath.Join(tree, ".cache"), 0o755)
	os.WriteFile(filepath.Join(tree, "manifest.json"), []byte(`{"files":[]}`), 0o644)
	os.WriteFile(filepath.Join(tree, "a.filter"), []byte("0123456789abcdef"), 0o644)
	os.WriteFile(filepath.Join(tree, "crlsets", "x.crlset"), []byte("set"), 0o644)
	os.WriteFile(filepath.Join(tree, ".cache", "secret"), []byte("hidden"), 0o644)
	os.WriteFile(filepath.Join(tree, ".mirror-1.tmp"), []byte("partial"), 0o644)
	os.WriteFile(filepath.Join(root, "outside"), []byte("outside"), 0o644)
	os.Symlink(filepath.Join(root, "outside"), filepath.Join(tree, "link.filter"))
	h, err := New(tree)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, tree
}

func get(t *testing.T, srv *httptest.Server, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.URL.Opaque = path // keep "..", "%2e" etc. as sent
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServeConditionalAndRange(t *testing.T) {
	srv, _ := setup(t)
	resp, body := get(t, srv, "/a.filter", nil)
	if resp.StatusCode != 200 || body != "0123456789abcdef" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag == "" || lm == "" || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("headers %v", resp.Header)
	}
	if resp, _ := get(t, srv, "/a.filter", map[string]string{"If-None-Match": etag}); resp.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", resp.StatusCode)
	}
	if resp, _ := get(t, srv, "/a.filter", map[string]string{"If-Modified-Since": lm}); resp.StatusCode != 304 {
		t.Fatalf("If-Modified-Since: %d", resp.StatusCode)
	}
	resp, body = get(t, srv, "/a.filter", map[string]string{"Range": "bytes=4-7"})
	if resp.StatusCode != 206 || body != "4567" {
		t.Fatalf("range: %d %q", resp.StatusCode, body)
	}
	resp, _ = get(t, srv, "/manifest.json", nil)
	if resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("manifest headers %v", resp.Header)
	}
	if resp, body := get(t, srv, "/crlsets/x.crlset", nil); resp.StatusCode != 200 || body != "set" {
		t.Fatalf("subtree: %d", resp.StatusCode)
	}
}

func TestServeRefuses(t *testing.T) {
	srv, tree := setup(t)
	for _, p := range []string{"/", "/crlsets/", "/crlsets", "/.cache/secret", "/.mirror-1.tmp", "/../outside",
		"/crlsets/../../outside", "/link.filter", "/%2e%2e/outside", "/a.filter/", "/nope", "/a\\b"} {
		resp, body := get(t, srv, p, nil)
		if resp.StatusCode != 404 {
			t.Errorf("%s: %d %q", p, resp.StatusCode, body)
		}
		if strings.Contains(body, "outside") || strings.Contains(body, "hidden") || strings.Contains(body, "a.filter") {
			t.Errorf("%s leaked %q", p, body)
		}
	}
	req, _ := http.NewRequest("POST", srv.URL+"/a.filter", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 405 {
		t.Fatalf("POST: %v %v", err, resp.StatusCode)
	}
	// A file replaced by rename gets a new validator.
	resp1, _ := get(t, srv, "/a.filter", nil)
	os.WriteFile(filepath.Join(tree, "n"), []byte("0123456789abcdeX"), 0o644)
	os.Rename(filepath.Join(tree, "n"), filepath.Join(tree, "a.filter"))
	resp2, body := get(t, srv, "/a.filter", map[string]string{"If-None-Match": resp1.Header.Get("ETag")})
	if resp2.StatusCode != 200 || body != "0123456789abcdeX" {
		t.Fatalf("after replacement: %d %q", resp2.StatusCode, body)
	}
}
