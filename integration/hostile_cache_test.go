package integration

// Attacks on the cache directory, performed for real against every reader:
// `revocheck check`, curl through the OpenSSL provider, wget through the
// GnuTLS hook, `revocheck verify`, and long-running hosts (python through
// the provider, the check daemon) while a mapped file is truncated in
// place. Every reader opens through core/mapped; before it, a FIFO at a CRL
// set path hung every client and truncating a mapped .crlset killed the
// host with SIGBUS.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revocheck/revocheck/integration/harness"
)

// copyCache copies the harness cache to a fresh directory a test may damage.
func copyCache(t *testing.T, env *harness.Env) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.CopyFS(dir, os.DirFS(env.CacheDir)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// victim is one cache path and what a check answers once it is unusable.
type victim struct {
	rel string
	// The outcome for the site whose issuer no CRL covers (only the
	// clubcard cache answers) and for the site only a CRL revokes (no
	// SCTs). The clubcard-revoked site is in a CRL too: it stays revoked
	// whichever one source is broken.
	unenrolled, crlRevoked string
	cause                  bool // check prints a cause naming the file
}

// victims lists every file of the harness cache with its expectations: a
// broken index.bin is no data, a broken filter an error for what it covers;
// manifest.json is informational next to index.bin; broken CRL sets say
// nothing, so the CRL-only revocation is lost (never worse than without
// revocheck) while the other still stands.
func victims(t *testing.T, cache string) []victim {
	t.Helper()
	var vs []victim
	err := filepath.WalkDir(cache, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(cache, p)
		v := victim{rel: rel, unenrolled: "not_enrolled", crlRevoked: "revoked"}
		switch {
		case rel == "index.bin":
			v.unenrolled, v.cause = "no_data", true
		case rel == "manifest.json":
		case strings.HasPrefix(rel, "crlsets/"):
			v.crlRevoked, v.cause = "not_covered", true
		default: // a clubcard filter
			v.unenrolled, v.cause = "error", true
		}
		vs = append(vs, v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var crl, filters int
	for _, v := range vs {
		switch {
		case strings.HasSuffix(v.rel, ".crlset"):
			crl++
		case v.unenrolled == "error":
			filters++
		}
	}
	if crl == 0 || filters == 0 || len(vs) < 5 {
		t.Fatalf("harness cache lacks a kind of file: %+v", vs)
	}
	return vs
}

// bounded runs f and fails the test when it took longer than a client
// that cannot hang would (env.Run kills at 60 s; a hang used to reach it).
func bounded(t *testing.T, what string, f func()) {
	t.Helper()
	start := time.Now()
	f()
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("%s took %v", what, d)
	}
}

func TestHostileCachePaths(t *testing.T) {
	needClient(t, "curl")
	requireTool(t, "wget")
	env := harness.New(t)
	g := &gnutlsCase{env: env, hook: gnutlsHookPath(t)}
	g.cleanRC = filepath.Join(t.TempDir(), "empty.toml")
	if err := os.WriteFile(g.cleanRC, []byte("# defaults only\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(env.Build, "bin", "revocheck")
	for _, v := range victims(t, env.CacheDir) {
		for _, kind := range []string{"fifo", "directory", "loop", "devzero"} {
			t.Run(strings.ReplaceAll(v.rel, "/", "_")+"/"+kind, func(t *testing.T) {
				dir := copyCache(t, env)
				harness.PlantHostile(t, filepath.Join(dir, v.rel), kind)

				// revocheck check: the outcome, and the file named.
				outcomes := map[string]string{"revoked": "revoked", "unenrolled": v.unenrolled, "crl-revoked": v.crlRevoked}
				for site, want := range outcomes {
					var out string
					bounded(t, "check "+site, func() {
						out, _ = env.Run(t, nil, bin, "check", "--cache-dir", dir, env.Sites[site].ChainPEM)
					})
					if !strings.HasPrefix(out, want+":") {
						t.Errorf("check %s: want %s, got:\n%s", site, want, out)
					}
					if v.cause && want != "revoked" && want != "not_enrolled" && !strings.Contains(lineWith(out, "cause:"), filepath.Base(v.rel)) {
						t.Errorf("check %s: want a cause naming %s:\n%s", site, v.rel, out)
					}
				}

				// curl through the OpenSSL provider, wget through the hook,
				// with no_data and error denied: each outcome gets the
				// policy's answer.
				conf := confEnv(opensslConf(t, env, "cache-dir = "+dir, "no-data = deny", "error = deny"))
				hooked := g.with("REVOCHECK_CACHE_DIR="+dir, "REVOCHECK_GNUTLS_OVERRIDES=policy.no-data=deny;policy.error=deny")
				for site, want := range outcomes {
					bounded(t, "curl "+site, func() {
						switch want {
						case "revoked":
							curlExpect(t, env, conf, site, false, curlRevoked)
						case "no_data", "error":
							curlExpect(t, env, conf, site, false, curlNoStatus)
						default:
							curlExpect(t, env, conf, site, true, "")
						}
					})
					bounded(t, "wget "+site, func() {
						out, err := g.wget(t, hooked, site)
						switch want {
						case "revoked":
							expectRefused(t, site, out, err, "has been revoked")
						case "no_data", "error":
							expectRefused(t, site, out, err, "is not trusted")
						default:
							expectFetched(t, site, out, err)
						}
					})
				}

				// verify: a problem naming the file.
				bounded(t, "verify", func() {
					out, err := env.Run(t, nil, bin, "verify", "--cache-dir", dir)
					if exitCode(err) != 1 || !strings.Contains(out, filepath.Base(v.rel)) {
						t.Errorf("verify: want exit 1 naming %s, got %d:\n%s", v.rel, exitCode(err), out)
					}
				})
			})
		}
	}
}

// TestHostileTruncation truncates each kind of mapped file (a clubcard
// filter, index.bin, a CRL set) in place, the way a careless writer would,
// while python (through the provider, one process checking all along) and
// the check daemon are checking. Neither crashes; both keep answering.
func TestHostileTruncation(t *testing.T) {
	needClient(t, "python3")
	needClient(t, "curl")
	env := harness.New(t)
	var filter, crl string
	for _, v := range victims(t, env.CacheDir) {
		switch {
		case strings.HasSuffix(v.rel, ".crlset"):
			crl = v.rel
		case v.unenrolled == "error":
			filter = v.rel
		}
	}
	urls := []string{env.Sites["good"].URL, env.Sites["revoked"].URL, env.Sites["crl-revoked"].URL}
	for _, rel := range []string{filter, "index.bin", crl} {
		t.Run(strings.ReplaceAll(rel, "/", "_"), func(t *testing.T) {
			dir := copyCache(t, env)
			sock, _ := startDaemon(t, env, dir)
			viaDaemon := daemonEnv(opensslConf(t, env, append(daemonOnly, "cache-dir = "+dir)...), sock)
			// The daemon has the cache mapped before the damage.
			curlExpect(t, env, viaDaemon, "crl-revoked", false, curlRevoked)
			curlExpect(t, env, viaDaemon, "revoked", false, curlRevoked)

			marker := filepath.Join(t.TempDir(), "checking")
			type result struct {
				out string
				err error
			}
			host := make(chan result, 1)
			go func() {
				out, err := env.Run(t, confEnv(opensslConf(t, env, "cache-dir = "+dir)), "python3",
					append([]string{testdataScript("loop.py"), env.RootPEM, marker, "4"}, urls...)...)
				host <- result{out, err}
			}()
			deadline := time.Now().Add(60 * time.Second)
			for {
				if _, err := os.Stat(marker); err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("python never made its first round of checks")
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err := os.Truncate(filepath.Join(dir, rel), 0); err != nil {
				t.Fatal(err)
			}
			// The daemon checks on the damaged mapping meanwhile
			// (unavailable = deny: an answer from a dead daemon would
			// refuse the good site).
			for range 3 {
				curlExpect(t, env, viaDaemon, "good", true, "")
				for _, site := range []string{"revoked", "crl-revoked"} {
					out, err := env.Run(t, viaDaemon, "curl", "-sS", "--max-time", "30", "--cacert", env.RootPEM, env.Sites[site].URL)
					if c := exitCode(err); c != 0 && c != curlVerifyErr {
						t.Errorf("curl %s via the daemon: exit %d: %s", site, c, out)
					}
				}
			}
			r := <-host
			if r.err != nil || !strings.Contains(r.out, "rounds=") {
				t.Fatalf("python through the provider did not survive (exit %d):\n%s", exitCode(r.err), r.out)
			}
			if !strings.Contains(lineWith(r.out, urls[0]+" "), "ok hello from good") {
				t.Errorf("python: the good site stopped working:\n%s", r.out)
			}
			curlExpect(t, env, viaDaemon, "good", true, "")
		})
	}
}
