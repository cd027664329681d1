package integration

// A typo in the revocheck configuration must never turn revocation off
// (issue 18, item 4): with no daemon, curl (OpenSSL provider) and wget
// (GnuTLS hook) still refuse the revoked site, the host gets at most one
// line on stderr, and `revocheck status` / `revocheck config` name the
// file and line.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/revocheck/revocheck/integration/harness"
)

// brokenConfig is a config file with the cache directory set correctly
// and three mistakes around it. A config file's cache-dir is upki's: the
// parent of the data, which is in its revocation/ (a copy of the harness's
// cache, made here).
func brokenConfig(t *testing.T, env *harness.Env) string {
	dir := t.TempDir()
	parent := filepath.Join(dir, "cache")
	if out, err := exec.Command("mkdir", "-p", parent).CombinedOutput(); err != nil {
		t.Fatalf("mkdir: %v %s", err, out)
	}
	if out, err := exec.Command("cp", "-a", env.CacheDir, filepath.Join(parent, "revocation")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	p := filepath.Join(dir, "config.toml")
	body := fmt.Sprintf(`# revocheck configuration with typos
cache-dir = %q
max-age = "10 days"
[policy]
not-covred = "deny"
[revocation
fetch-url = "https://example.invalid/"
`, parent)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ourLines are the lines revocheck's adapters printed.
func ourLines(out string) []string {
	var l []string
	for _, s := range strings.Split(out, "\n") {
		if strings.HasPrefix(s, "revocheck (") {
			l = append(l, s)
		}
	}
	return l
}

func TestConfigTypoCurl(t *testing.T) {
	needClient(t, "curl")
	env := harness.New(t)
	module := providerPaths(t, env)
	bare := filepath.Join(t.TempDir(), "openssl.cnf")
	if err := os.WriteFile(bare, []byte(fmt.Sprintf(".include %s\n\n[ revocheck_sect ]\nmodule = %s\n",
		shippedSnippet(), module)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := brokenConfig(t, env)
	ce := []string{"OPENSSL_CONF=" + bare, "REVOCHECK_CONFIG=" + cfg, "REVOCHECK_CACHE_DIR="}
	for _, site := range []string{"revoked", "good"} {
		s := env.Sites[site]
		out, err := env.Run(t, ce, "curl", "-sS", "--max-time", "30", "--cacert", env.RootPEM, s.URL)
		if site == "revoked" {
			if exitCode(err) != curlVerifyErr || !strings.Contains(out, curlRevoked) {
				t.Errorf("curl with a broken config: want the revoked site refused (exit 60, %q), got %d:\n%s", curlRevoked, exitCode(err), out)
			}
		} else if err != nil || !strings.Contains(out, "hello from good") {
			t.Errorf("curl with a broken config: want the good site fetched:\n%s", out)
		}
		lines := ourLines(out)
		if len(lines) != 1 || !strings.Contains(lines[0], cfg+":3:") {
			t.Errorf("want exactly one line naming %s:3, got %d:\n%s", cfg, len(lines), out)
		}
	}

	// python's ssl module, through the same provider.
	if _, err := exec.LookPath("python3"); err == nil {
		out, err := env.Run(t, ce, "python3", testdataScript("fetch.py"), env.RootPEM, env.Sites["revoked"].URL, env.Sites["good"].URL)
		if err != nil || !strings.Contains(lineWith(out, env.Sites["revoked"].URL+" "), curlRevoked) ||
			!strings.Contains(out, "ok hello from good") || len(ourLines(out)) != 1 {
			t.Errorf("python with a broken config: want revoked refused, good fetched, one line:\n%s", out)
		}
	}

	// An explicit config file that cannot be read: every setting at its
	// default, the cache from the environment still used.
	missing := []string{"OPENSSL_CONF=" + bare, "REVOCHECK_CONFIG=" + filepath.Join(t.TempDir(), "typo.toml"),
		"REVOCHECK_CACHE_DIR=" + env.CacheDir}
	out, err := env.Run(t, missing, "curl", "-sS", "--max-time", "30", "--cacert", env.RootPEM, env.Sites["revoked"].URL)
	if exitCode(err) != curlVerifyErr || !strings.Contains(out, curlRevoked) || len(ourLines(out)) != 1 {
		t.Errorf("curl with a missing config file: want refused and one line, got %d:\n%s", exitCode(err), out)
	}
}

func TestConfigTypoWget(t *testing.T) {
	requireTool(t, "wget")
	g := newGnuTLSCase(t)
	cfg := brokenConfig(t, g.env)
	ce := []string{"LD_PRELOAD=" + g.hook, "REVOCHECK_CONFIG=" + cfg, "REVOCHECK_CACHE_DIR="}
	out, err := g.wget(t, ce, "revoked")
	expectRefused(t, "revoked", out, err, "has been revoked")
	if lines := ourLines(out); len(lines) != 1 || !strings.Contains(lines[0], cfg+":3:") {
		t.Errorf("want exactly one line naming %s:3:\n%s", cfg, out)
	}
	out, err = g.wget(t, ce, "good")
	expectFetched(t, "good", out, err)
}

func TestConfigTypoStatus(t *testing.T) {
	env := harness.New(t)
	cfg := brokenConfig(t, env)
	bin := filepath.Join(env.Build, "bin", "revocheck")
	ce := []string{"REVOCHECK_CONFIG=" + cfg, "REVOCHECK_CACHE_DIR="}
	out, err := env.Run(t, ce, bin, "status")
	if err != nil {
		t.Errorf("status must still report (exit 0): %v", err)
	}
	for _, want := range []string{"CONFIGURATION PROBLEMS", cfg + ":3: max-age", cfg + ":5: unknown key \"policy.not-covred\"",
		cfg + ":6: malformed section header", cfg + ":7: \"fetch-url\" not applied",
		"cache:    " + filepath.Join(filepath.Dir(cfg), "cache", "revocation")} {
		if !strings.Contains(out, want) {
			t.Errorf("status: want %q in:\n%s", want, out)
		}
	}
	if !strings.HasPrefix(out, "CONFIGURATION PROBLEMS") {
		t.Errorf("status: the problems come first:\n%s", out)
	}
	out, err = env.Run(t, ce, bin, "config")
	if exitCode(err) != 1 || !strings.Contains(out, cfg+":5: unknown key") || !regexp.MustCompile(`policy.not-covered +=\s+"allow"\s+# default`).MatchString(out) {
		t.Errorf("config: want exit 1, the problem by file and line, and the default kept:\n%s", out)
	}
	out, err = env.Run(t, ce, bin, "status", "--json")
	if err != nil || !strings.Contains(out, `"config_problems"`) {
		t.Errorf("status --json: want config_problems:\n%s", out)
	}
}
