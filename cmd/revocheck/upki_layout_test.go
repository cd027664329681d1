package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/serve"
	"github.com/revocheck/revocheck/integration/harness"
)

// upkiTree writes dir as upki lays out a revocation cache (and its mirror
// tree): manifest.json in upki's serialization (generated_at, comment,
// files), the filters, index.bin.
func upkiTree(t *testing.T, env *harness.Env, dir string, withIndex bool, at time.Time) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	const name = "revocheck-test.filter"
	data, err := os.ReadFile(filepath.Join(env.CacheDir, name))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, name), data, 0o644)
	sum := sha256.Sum256(data)
	type file struct {
		Filename string `json:"filename"`
		Size     int    `json:"size"`
		Hash     string `json:"hash"`
	}
	m, _ := json.Marshal(struct {
		GeneratedAt int64  `json:"generated_at"`
		Comment     string `json:"comment"`
		Files       []file `json:"files"`
	}{at.Unix(), "rustls/upki run 1", []file{{name, len(data), hex.EncodeToString(sum[:])}}})
	os.WriteFile(filepath.Join(dir, "manifest.json"), m, 0o644)
	if withIndex {
		ix, err := os.ReadFile(filepath.Join(env.CacheDir, "index.bin"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "index.bin"), ix, 0o644)
	}
}

// An upki config file and a cache laid out by upki (data under
// <cache-dir>/revocation/) give answers unchanged; `revocheck fetch` with
// the same file fills exactly that directory from an upki-shaped mirror.
func TestUpkiConfigAndLayout(t *testing.T) {
	env := harness.New(t)
	t.Setenv("REVOCHECK_CACHE_DIR", "")
	parent := filepath.Join(t.TempDir(), "upki")
	upkiTree(t, env, filepath.Join(parent, "revocation"), true, time.Now())
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte("cache-dir = \""+parent+"\"\n\n[revocation]\nfetch-url = \"https://upki.rustls.dev/revocation/\"\n"), 0o644)

	check := func(site string) (int, string) {
		code, out, e := runCLI(t, nil, "check", "--config", cfg, env.Sites[site].ChainPEM)
		return code, out + e
	}
	if code, out := check("revoked"); code != 2 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoked site through the upki layout: exit %d %s", code, out)
	}
	if code, out := check("good"); code != 0 || !strings.Contains(out, "not_revoked") {
		t.Fatalf("good site through the upki layout: exit %d %s", code, out)
	}
	if _, out, _ := runCLI(t, nil, "config", "--config", cfg); !strings.Contains(out, filepath.Join(parent, "revocation")) {
		t.Errorf("config does not show the data directory:\n%s", out)
	}

	// fetch with the same kind of file, from an upki-shaped mirror
	// (<host>/revocation/manifest.json) on 127.0.0.1.
	tree := t.TempDir()
	upkiTree(t, env, filepath.Join(tree, "revocation"), false, time.Now())
	h, err := serve.New(tree)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()
	parent2 := filepath.Join(t.TempDir(), "upki")
	cfg2 := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg2, []byte("cache-dir = \""+parent2+"\"\n\n[revocation]\nfetch-url = \""+srv.URL+"/revocation/\"\n"), 0o644)
	if code, out, e := runCLI(t, nil, "fetch", "--config", cfg2, "--quiet"); code != 0 {
		t.Fatalf("fetch: exit %d %s %s", code, out, e)
	}
	for _, f := range []string{"manifest.json", "index.bin", "revocheck-test.filter"} {
		if _, err := os.Stat(filepath.Join(parent2, "revocation", f)); err != nil {
			t.Errorf("fetch did not write <cache-dir>/revocation/%s: %v", f, err)
		}
	}
	if code, out, e := runCLI(t, nil, "check", "--config", cfg2, env.Sites["revoked"].ChainPEM); code != 2 {
		t.Fatalf("revoked site after fetch: exit %d %s %s", code, out, e)
	}
}

// `revocheck status` says first of all when revocation checking is not fed.
func TestStatusWarnsFirst(t *testing.T) {
	env := harness.New(t)
	t.Setenv("REVOCHECK_CONFIG", filepath.Join(t.TempDir(), "none.toml"))
	os.WriteFile(os.Getenv("REVOCHECK_CONFIG"), nil, 0o644)
	empty := t.TempDir()
	_, out, _ := runCLI(t, nil, "status", "--cache-dir", empty)
	if !strings.HasPrefix(out, "WARNING:  no revocation data in "+empty) || !strings.Contains(strings.SplitN(out, "\n", 2)[0], "NOT checked") {
		t.Errorf("never fetched:\n%s", out)
	}
	old := filepath.Join(t.TempDir(), "revocation")
	upkiTree(t, env, old, true, time.Now().Add(-11*24*time.Hour))
	_, out, _ = runCLI(t, nil, "status", "--cache-dir", old)
	if !strings.HasPrefix(out, "WARNING:  revocation data in "+old+" is stale") {
		t.Errorf("stale:\n%s", out)
	}
	_, out, _ = runCLI(t, nil, "status", "--json", "--cache-dir", old)
	if !strings.Contains(out, `"warning": "revocation data in `) {
		t.Errorf("stale, json:\n%s", out)
	}
	_, out, _ = runCLI(t, nil, "status", "--cache-dir", env.CacheDir)
	if strings.Contains(out, "WARNING") {
		t.Errorf("fresh data:\n%s", out)
	}
}
