package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/outcome"
	"github.com/revocheck/revocheck/core/policy"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// An upki config file means what it means to upki: cache-dir is the
// parent, the data is in its revocation/ subdirectory.
func TestUpkiConfigAccepted(t *testing.T) {
	p := write(t, "# upki\ncache-dir = \"/var/cache/upki\"\n\n[revocation]\nfetch-url = 'https://upki.rustls.dev/revocation/' # mirror\n"+
		"\n[intermediates]\nenabled = true\nfetch-url = \"https://upki.rustls.dev/intermediates/\"\n")
	t.Setenv("REVOCHECK_CACHE_DIR", "")
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.CacheDir != "/var/cache/upki/revocation" || c.FetchURL != "https://upki.rustls.dev/revocation/" ||
		!c.IntermediatesEnabled || c.IntermediatesURL != "https://upki.rustls.dev/intermediates/" {
		t.Fatalf("got %+v", c)
	}
	for _, e := range c.Effective() {
		if e.Key == "cache-dir" && !strings.HasPrefix(e.Source, p+":2") {
			t.Errorf("cache-dir source = %q", e.Source)
		}
	}
	// The built-in default has the same shape.
	if d := Default().CacheDir; d != "/var/cache/revocheck/revocation" {
		t.Errorf("default data directory %s", d)
	}
	// The environment and overrides name the data directory itself.
	t.Setenv("REVOCHECK_CACHE_DIR", "/data")
	if c, err = Load(p); err != nil || c.CacheDir != "/data" {
		t.Fatalf("$REVOCHECK_CACHE_DIR: %v %+v", err, c)
	}
	if err := c.ApplyOverrides("cache-dir=/over", "test"); err != nil || c.CacheDir != "/over" {
		t.Fatalf("override: %v %s", err, c.CacheDir)
	}
}

func TestPolicyAndEnvAndOverrides(t *testing.T) {
	p := write(t, "max-age = \"3d\"\n[policy]\nnot-covered = \"deny\"\n")
	t.Setenv("REVOCHECK_CACHE_DIR", "/tmp/x")
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.CacheDir != "/tmp/x" || c.Policy.MaxAge != 72*time.Hour || c.Policy.Decide(outcome.NotCovered).Allowed {
		t.Fatalf("got %+v", c)
	}
	if err := c.ApplyOverrides("policy.not-covered=allow; cache-dir=/y\npolicy.no-data=deny", "test"); err != nil {
		t.Fatal(err)
	}
	if c.CacheDir != "/y" || !c.Policy.Decide(outcome.NotCovered).Allowed || c.Policy.Decide(outcome.NoData).Allowed {
		t.Fatalf("overrides not applied: %+v", c)
	}
}

func TestErrorsNameKeyAndFile(t *testing.T) {
	for body, want := range map[string]string{
		"colour = \"blue\"\n":                 "unknown key \"colour\"",
		"[policy]\nrevoked = \"allow\"\n":     "unknown key \"policy.revoked\"",
		"[policy]\nnot-covered = \"maybe\"\n": "not allow or deny",
		"cache-dir = \"unterminated\n":        ".toml:1: basic strings cannot have new lines",
		"cache-dir = [1, 2]\n":                "unsupported value",
		"[policy\n":                           "malformed section header",
	} {
		p := write(t, body)
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: err = %v, want %q and the file name", body, err, want)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.toml")); err == nil {
		t.Error("explicit missing file accepted")
	}
}

func FuzzParseTOML(f *testing.F) {
	f.Add([]byte("cache-dir = \"/a\"\n[revocation]\nfetch-url = 'x' # c\n[policy]\nstale = \"deny\"\n"))
	f.Add([]byte("a = \"\\\"\\\\\\n\"\nb = 12\nc = true\n"))
	f.Add([]byte("[policy\nstale = \"deny\"\n[x]\ny = 1\nz\n"))
	f.Add([]byte("a = [\n1,\nb = \"\"\"x\n[t]\nc = {d = [1, {e = 2}]}\n[[u]]\na = 1\na = 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		kvs, bad := parseTOML(data)
		// Each line yields at most one value or one problem, in order.
		lines := map[int]bool{}
		for _, e := range kvs {
			if lines[e.line] || e.line < 1 {
				t.Fatalf("line %d read twice", e.line)
			}
			lines[e.line] = true
		}
		for _, b := range bad {
			if lines[b.line] {
				t.Fatalf("line %d both read and reported", b.line)
			}
			lines[b.line] = true
		}
		c := Default()
		for _, e := range kvs {
			_ = c.Set(e.key, e.value, "fuzz")
		}
	})
}

// A typo costs only its own line: the rest of the file applies, the
// setting it meant keeps its default, and the problem names file and line.
func TestProblemsKeepDefaults(t *testing.T) {
	p := write(t, "cache-dir = \"/data\"\n[policy]\nnot-covred = \"deny\"\nstale = \"maybe\"\nno-data = \"deny\"\n[bad\nerror = \"deny\"\n")
	t.Setenv("REVOCHECK_CACHE_DIR", "")
	c, err := Load(p)
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Problems) != 4 || len(c.Problems) != 4 {
		t.Fatalf("want 4 problems, got %v / %v", err, c.Problems)
	}
	for i, want := range []string{p + ":3: unknown key \"policy.not-covred\"", p + ":4: policy.stale", p + ":6: malformed section header", p + ":7: \"error\" not applied"} {
		if !strings.HasPrefix(c.Problems[i].String(), want) {
			t.Errorf("problem %d = %q, want prefix %q", i, c.Problems[i], want)
		}
	}
	// A config file's cache-dir is upki's parent: the data is in revocation/.
	if c.CacheDir != filepath.Join("/data", DataSubdir) || c.Policy.Decide(outcome.NoData).Allowed {
		t.Errorf("the valid lines must apply: %+v", c)
	}
	if !c.Policy.Decide(outcome.NotCovered).Allowed || !c.Policy.Decide(outcome.Stale).Allowed || !c.Policy.Decide(outcome.Error).Allowed {
		t.Errorf("settings that could not be read must keep their defaults: %+v", c.Policy)
	}
	if c.Policy.Decide(outcome.Revoked).Allowed {
		t.Error("revoked must be refused")
	}
	// Unreadable or absent explicit file: defaults, one problem.
	for _, f := range []string{filepath.Join(t.TempDir(), "missing.toml"), t.TempDir()} {
		c, err := Load(f)
		if err == nil || c == nil || c.CacheDir != filepath.Join(DefaultCacheDir, DataSubdir) || len(c.Problems) != 1 {
			t.Errorf("%s: want defaults and one problem, got %v %+v", f, err, c)
		}
	}
	// Overrides: the valid pairs apply.
	c = Default()
	if err := c.ApplyOverrides("max-age=10x;cache-dir=/o;junk", "test"); err == nil || c.CacheDir != "/o" || len(c.Problems) != 2 {
		t.Errorf("overrides: got %v %+v", err, c)
	}
}

func TestLoadSecureIgnoresEnvironment(t *testing.T) {
	p := write(t, "cache-dir = \"/from/file\"\n")
	t.Setenv("REVOCHECK_CONFIG", p)
	t.Setenv("REVOCHECK_CACHE_DIR", "/from/env")
	c, err := LoadSecure("")
	if err != nil {
		t.Fatal(err)
	}
	if c.CacheDir == "/from/env" || c.CacheDir == "/from/file" {
		t.Fatalf("a setuid process took the caller's environment: %s", c.CacheDir)
	}
}

func TestPolicyCT(t *testing.T) {
	c := Default()
	if c.Policy.CT != policy.CTOff || !c.Policy.Decide(outcome.CTNoncompliant).Allowed {
		t.Fatalf("default policy.ct must be off and allow: %v", c.Policy.CT)
	}
	if err := c.ApplyOverrides("policy.ct=enforce", "test"); err != nil {
		t.Fatal(err)
	}
	if c.Policy.CT != policy.CTEnforce || c.Policy.Decide(outcome.CTNoncompliant).Allowed {
		t.Errorf("enforce must deny ct_noncompliant")
	}
	if err := c.ApplyOverrides("policy.ct=report", "test"); err != nil {
		t.Fatal(err)
	}
	if c.Policy.CT != policy.CTReport || !c.Policy.Decide(outcome.CTNoncompliant).Allowed {
		t.Errorf("report must allow ct_noncompliant")
	}
	for _, bad := range []string{"policy.ct=deny", "policy.ct-noncompliant=deny", "policy.ct_noncompliant=allow"} {
		if err := c.ApplyOverrides(bad, "test"); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if c.Policy.CT != policy.CTReport {
		t.Errorf("a bad value must keep the previous one")
	}
	for _, e := range c.Effective() {
		if e.Key == "policy.ct" && (e.Value != "report" || e.Source != "test") {
			t.Errorf("Effective policy.ct = %+v", e)
		}
	}
}
