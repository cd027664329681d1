package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revocheck/revocheck/integration/harness"
)

// cachePaths lists every file of a cache directory, crlsets/ included.
func cachePaths(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return err
	})
	if err != nil || len(out) < 5 {
		t.Fatalf("cache files %v: %v", out, err)
	}
	return out
}

// TestVerifyHostileFiles: a FIFO, a directory, a symlink loop, a symlink
// to /dev/zero or a file over the size bound at any cache path makes
// verify report a problem at once (it hung on a FIFO and said OK for
// files the checkers refuse).
func TestVerifyHostileFiles(t *testing.T) {
	env := harness.New(t)
	for _, p := range cachePaths(t, env.CacheDir) {
		rel, _ := filepath.Rel(env.CacheDir, p)
		for _, kind := range []string{"fifo", "directory", "loop", "devzero", "oversize"} {
			dir := filepath.Join(t.TempDir(), "cache")
			if err := os.CopyFS(dir, os.DirFS(env.CacheDir)); err != nil {
				t.Fatal(err)
			}
			harness.PlantHostile(t, filepath.Join(dir, rel), kind)
			start := time.Now()
			code, out, _ := runCLI(t, nil, "verify", "--cache-dir", dir)
			if code != 1 || !strings.Contains(out, "problem:") {
				t.Errorf("%s at %s: exit %d\n%s", kind, rel, code, out)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("%s at %s: verify took %v", kind, rel, d)
			}
		}
	}
}

// TestVerifyAgreesWithReaders: an index.bin with bytes after its last
// section is refused by the checkers (no_data) and by verify alike.
func TestVerifyAgreesWithReaders(t *testing.T) {
	env := harness.New(t)
	ix := filepath.Join(env.CacheDir, "index.bin")
	b, err := os.ReadFile(ix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ix, append(b, "trailing"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCLI(t, nil, "verify", "--cache-dir", env.CacheDir); code != 1 || !strings.Contains(out, "trailing bytes") {
		t.Errorf("verify: exit %d\n%s", code, out)
	}
	s := env.Sites["unenrolled"] // no CRL covers its issuer: only the clubcard cache answers
	leaf, issuer := filepath.Join(t.TempDir(), "leaf.der"), filepath.Join(t.TempDir(), "issuer.der")
	os.WriteFile(leaf, s.Leaf, 0o644)
	os.WriteFile(issuer, s.Issuer, 0o644)
	if _, out, _ := runCLI(t, nil, "check", "--cache-dir", env.CacheDir, leaf, issuer); !strings.HasPrefix(out, "no_data") {
		t.Errorf("check: %s", out)
	}
}
