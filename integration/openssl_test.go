package integration

// Tests of the OpenSSL 3 provider with real OpenSSL programs: curl,
// `openssl s_client`, `openssl verify` and python3's ssl module. The provider
// is enabled the way users enable it: OPENSSL_CONF pointing at a config that
// includes the shipped openssl-provider/revocheck-openssl.cnf.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/revocheck/revocheck/integration/harness"
)

const (
	curlRevoked   = "certificate revoked"
	curlNoStatus  = "unable to get certificate CRL" // what a policy refusal reports
	curlVerifyErr = 60                              // CURLE_PEER_FAILED_VERIFICATION
)

// needClient stops the test when a client program is missing (harness.Require).
func needClient(t *testing.T, name string) string {
	t.Helper()
	return harness.Require(t, name, "")
}

// providerPaths fails (never skips) when the build artefacts are missing:
// that is a build problem, not a missing client.
func providerPaths(t *testing.T, env *harness.Env) (module string) {
	t.Helper()
	module = filepath.Join(env.Build, "lib", "revocheck-openssl.so")
	for _, p := range []string{module, filepath.Join(env.Build, "lib", "librevocheck.so.0")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s missing: run `make all` first (%v)", p, err)
		}
	}
	return module
}

// shippedSnippet is openssl-provider/revocheck-openssl.cnf in this tree.
func shippedSnippet() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "openssl-provider", "revocheck-openssl.cnf")
}

// opensslConf writes an OPENSSL_CONF file that includes the shipped snippet
// and then points it at this build and this test's cache; keys are extra
// "key = value" lines for the provider section (later values win).
func opensslConf(t *testing.T, env *harness.Env, keys ...string) string {
	t.Helper()
	module := providerPaths(t, env)
	var b strings.Builder
	fmt.Fprintf(&b, ".include %s\n\n[ revocheck_sect ]\nmodule = %s\ncache-dir = %s\n",
		shippedSnippet(), module, env.CacheDir)
	for _, k := range keys {
		b.WriteString(k + "\n")
	}
	f, err := os.CreateTemp(t.TempDir(), "openssl-*.cnf")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return f.Name()
}

func confEnv(conf string) []string { return []string{"OPENSSL_CONF=" + conf} }

// exitCode is the process exit code, 0 for success, -1 if it did not exit.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// curlExpect runs curl against a site and checks the verdict.
func curlExpect(t *testing.T, env *harness.Env, extraEnv []string, site string, accept bool, wantMsg string, curlArgs ...string) {
	t.Helper()
	s := env.Sites[site]
	args := append([]string{"-sS", "--max-time", "30", "--cacert", env.RootPEM}, curlArgs...)
	out, err := env.Run(t, extraEnv, "curl", append(args, s.URL)...)
	if accept {
		if err != nil || !strings.Contains(out, "hello from "+site) {
			t.Errorf("curl %s: want success, got exit %d: %s", site, exitCode(err), out)
		}
		return
	}
	if code := exitCode(err); code != curlVerifyErr {
		t.Errorf("curl %s: want exit %d (verification failed), got %d: %s", site, curlVerifyErr, code, out)
	}
	if !strings.Contains(out, wantMsg) {
		t.Errorf("curl %s: want %q in the error, got: %s", site, wantMsg, out)
	}
}

func TestOpenSSLProviderListed(t *testing.T) {
	needClient(t, "openssl")
	env := harness.New(t)
	out, err := env.Run(t, confEnv(opensslConf(t, env)), "openssl", "list", "-providers", "-verbose")
	if err != nil {
		t.Fatalf("openssl list: %v", err)
	}
	// The revocheck block: name, version, active status, build info with state.
	i := strings.Index(out, "  revocheck\n")
	if i < 0 {
		t.Fatalf("provider not listed:\n%s", out)
	}
	block := out[i:]
	for _, want := range []string{"name: revocheck", "version: ", "status: active", "ready (cache " + env.CacheDir} {
		if !strings.Contains(block, want) {
			t.Errorf("want %q in the provider listing:\n%s", want, block)
		}
	}
	// The default provider must still be active (the snippet activates it).
	if !strings.Contains(out, "  default\n") {
		t.Errorf("default provider not active:\n%s", out)
	}

	// A missing cache is visible: inactive, the reason, one syslog line
	// (no data yet is a normal state: nothing on stderr).
	conf := opensslConf(t, env, "cache-dir = "+filepath.Join(env.Dir, "no-such-cache"))
	sink := newLogSink(t)
	out, err = env.Run(t, append(confEnv(conf), sink.env()), "openssl", "list", "-providers", "-verbose")
	if err != nil {
		t.Fatalf("openssl list: %v", err)
	}
	for _, want := range []string{"status: inactive", "no revocation data: no index.bin or manifest.json in " + filepath.Join(env.Dir, "no-such-cache") + " (cache "} {
		if !strings.Contains(out, want) {
			t.Errorf("missing cache: want %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "revocheck (") || sink.count("provider active but revocation checks cannot work") != 1 {
		t.Errorf("missing cache: want one syslog line and none on stderr, got %q:\n%s", sink.messages(), out)
	}
}

// TestOpenSSLShippedSnippet uses the shipped snippet unmodified as the whole
// configuration, the way an installed system does: module found relative to
// MODULESDIR ($OPENSSL_MODULES here), cache from the environment.
func TestOpenSSLShippedSnippet(t *testing.T) {
	needClient(t, "curl")
	env := harness.New(t)
	providerPaths(t, env)
	vars := []string{"OPENSSL_CONF=" + shippedSnippet(), "OPENSSL_MODULES=" + filepath.Join(env.Build, "lib"),
		"REVOCHECK_CACHE_DIR=" + env.CacheDir}
	curlExpect(t, env, vars, "revoked", false, curlRevoked)
	curlExpect(t, env, vars, "good", true, "")
}

func TestOpenSSLCurl(t *testing.T) {
	needClient(t, "curl")
	env := harness.New(t)
	on := confEnv(opensslConf(t, env))

	t.Run("provider", func(t *testing.T) {
		for _, name := range []string{"good", "revoked", "uncovered", "unenrolled", "revoked-int", "crl-revoked"} {
			curlExpect(t, env, on, name, !env.Sites[name].Revoked, curlRevoked)
		}
	})
	t.Run("insecure", func(t *testing.T) {
		// -k: the application accepts every verification error, ours too.
		curlExpect(t, env, on, "revoked", true, "", "-k")
		curlExpect(t, env, on, "revoked-int", true, "", "--insecure")
	})
	t.Run("without-provider", func(t *testing.T) {
		if os.Getenv("OPENSSL_CONF") != "" {
			t.Fatalf("OPENSSL_CONF is set in the test environment; unset it")
		}
		for name := range env.Sites {
			curlExpect(t, env, nil, name, true, "")
		}
	})
	t.Run("deny-not-covered", func(t *testing.T) {
		deny := confEnv(opensslConf(t, env, "not-covered = deny"))
		curlExpect(t, env, deny, "uncovered", false, curlNoStatus)
		curlExpect(t, env, deny, "good", true, "")
		curlExpect(t, env, deny, "unenrolled", true, "")
	})
	t.Run("deny-not-enrolled", func(t *testing.T) {
		// Through a nested policy section, the other accepted spelling.
		deny := confEnv(opensslConf(t, env, "policy = rc_policy_sect", "[ rc_policy_sect ]", "not-enrolled = deny"))
		curlExpect(t, env, deny, "unenrolled", false, curlNoStatus)
		curlExpect(t, env, deny, "good", true, "")
		curlExpect(t, env, deny, "uncovered", true, "")
	})
	t.Run("cache-missing", func(t *testing.T) {
		missing := "cache-dir = " + filepath.Join(env.Dir, "no-such-cache")
		for _, name := range []string{"good", "revoked"} {
			sink := newLogSink(t)
			allow := append(confEnv(opensslConf(t, env, missing)), sink.env())
			s := env.Sites[name]
			out, err := env.Run(t, allow, "curl", "-sS", "--max-time", "30", "--cacert", env.RootPEM, s.URL)
			if err != nil || !strings.Contains(out, "hello from "+name) {
				t.Errorf("no cache, default policy: %s refused: %s", name, out)
			}
			// Syslog, not the host's stderr (quiet_stderr_test.go).
			if n := sink.count("no revocation data yet"); n != 1 || strings.Contains(out, "revocheck (") {
				t.Errorf("no cache: want one syslog line about it (got %d) and none on stderr:\n%s", n, out)
			}
		}
		deny := confEnv(opensslConf(t, env, missing, "no-data = deny"))
		curlExpect(t, env, deny, "good", false, curlNoStatus)
	})
	t.Run("crlfile-still-checked", func(t *testing.T) {
		// OpenSSL's own CRL check runs inside the same verification: with
		// the provider active but without data, --crlfile still refuses.
		needClient(t, "openssl")
		// curl --crlfile sets X509_V_FLAG_CRL_CHECK_ALL: every CA in the
		// chain needs its CRL, so the file holds the intermediate's and the root's.
		var pems strings.Builder
		for _, der := range env.CRLs {
			out, err := env.Run(t, nil, "openssl", "crl", "-inform", "DER", "-in", der)
			if err != nil {
				t.Fatalf("convert CRL %s: %v: %s", der, err, out)
			}
			pems.WriteString(out)
		}
		pem := filepath.Join(t.TempDir(), "crls.pem")
		if err := os.WriteFile(pem, []byte(pems.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		noData := confEnv(opensslConf(t, env, "cache-dir = "+filepath.Join(env.Dir, "no-such-cache")))
		curlExpect(t, env, noData, "crl-revoked", false, curlRevoked, "--crlfile", pem)
		curlExpect(t, env, noData, "good", true, "", "--crlfile", pem)
	})
}

func TestOpenSSLSClient(t *testing.T) {
	needClient(t, "openssl")
	env := harness.New(t)
	on := confEnv(opensslConf(t, env))
	for _, name := range []string{"good", "revoked", "revoked-int"} {
		s := env.Sites[name]
		out, err := env.Run(t, on, "openssl", "s_client", "-verify_return_error", "-CAfile", env.RootPEM,
			"-connect", fmt.Sprintf("127.0.0.1:%d", s.Port))
		if s.Revoked {
			if err == nil || !strings.Contains(out, "verify error:num=23:certificate revoked") {
				t.Errorf("s_client %s: want refusal with X509_V_ERR_CERT_REVOKED, got exit %d:\n%s", name, exitCode(err), out)
			}
			continue
		}
		if err != nil || !strings.Contains(out, "Verify return code: 0 (ok)") {
			t.Errorf("s_client %s: want success, got exit %d:\n%s", name, exitCode(err), out)
		}
	}
}

func TestOpenSSLVerify(t *testing.T) {
	needClient(t, "openssl")
	env := harness.New(t)
	on := confEnv(opensslConf(t, env))
	for _, c := range []struct {
		site  string
		depth int // where the revoked certificate sits
	}{{"good", -1}, {"revoked", 0}, {"revoked-int", 1}, {"uncovered", -1}} {
		ps := env.PKI.Sites[c.site]
		out, err := env.Run(t, on, "openssl", "verify", "-CAfile", env.RootPEM, "-untrusted", ps.Issuer.CertPEM, ps.Leaf.CertPEM)
		if c.depth < 0 {
			if err != nil || !strings.Contains(out, ": OK") {
				t.Errorf("verify %s: want OK, got exit %d: %s", c.site, exitCode(err), out)
			}
			continue
		}
		want := fmt.Sprintf("error 23 at %d depth lookup: certificate revoked", c.depth)
		if err == nil || !strings.Contains(out, want) {
			t.Errorf("verify %s: want %q, got exit %d: %s", c.site, want, exitCode(err), out)
		}
	}
	// The same command without the provider succeeds: the refusal is ours.
	ps := env.PKI.Sites["revoked"]
	if out, err := env.Run(t, nil, "openssl", "verify", "-CAfile", env.RootPEM, "-untrusted", ps.Issuer.CertPEM, ps.Leaf.CertPEM); err != nil {
		t.Errorf("verify without provider: %v: %s", err, out)
	}
}

func testdataScript(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "openssl", name)
}

func TestOpenSSLPython(t *testing.T) {
	needClient(t, "python3")
	env := harness.New(t)
	on := confEnv(opensslConf(t, env))
	args := []string{testdataScript("fetch.py"), env.RootPEM}
	for _, name := range []string{"good", "revoked", "revoked-int", "uncovered"} {
		args = append(args, env.Sites[name].URL)
	}
	out, err := env.Run(t, on, "python3", args...)
	if err != nil {
		t.Fatalf("fetch.py: %v", err)
	}
	for _, name := range []string{"good", "revoked", "revoked-int", "uncovered"} {
		s := env.Sites[name]
		line := lineWith(out, s.URL+" ")
		if s.Revoked {
			if !strings.Contains(line, "CERTIFICATE_VERIFY_FAILED") || !strings.Contains(line, curlRevoked) {
				t.Errorf("python %s: want CERTIFICATE_VERIFY_FAILED ... certificate revoked, got %q", name, line)
			}
		} else if !strings.Contains(line, "ok hello from "+name) {
			t.Errorf("python %s: want success, got %q", name, line)
		}
	}
}

func TestOpenSSLPythonFork(t *testing.T) {
	needClient(t, "python3")
	env := harness.New(t)
	good, revoked := env.Sites["good"].URL, env.Sites["revoked"].URL

	// The child cannot call into the parent's Go runtime: it asks a
	// helper process (rc_helper.c) and gets real answers, silently.
	out, err := env.Run(t, confEnv(opensslConf(t, env)), "python3", testdataScript("fork.py"), env.RootPEM, good, revoked)
	if err != nil {
		t.Fatalf("fork.py did not finish cleanly (a hang shows as a timeout): %v", err)
	}
	for _, want := range []string{
		"parent good: ok hello from good",
		"parent revoked: error",
		"child good: ok hello from good",
		"child revoked: error",
		"parent after fork revoked: error",
		"child exit status: 0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("fork: want %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "this process was forked after") {
		t.Errorf("fork: the helper answered, no unavailable notice expected:\n%s", out)
	}
	for _, who := range []string{"parent revoked:", "child revoked:"} {
		if !strings.Contains(lineWith(out, who), curlRevoked) {
			t.Errorf("%s must refuse the revoked site:\n%s", who, out)
		}
	}

	// Without the helper binary, unavailable = deny: the child refuses
	// even the good site, in bounded time (allow: TestForkWithoutHelper).
	noHelper := "REVOCHECK_HELPER=" + filepath.Join(t.TempDir(), "absent")
	out, err = env.Run(t, append(confEnv(opensslConf(t, env, "unavailable = deny")), noHelper), "python3", testdataScript("fork.py"), env.RootPEM, good, revoked)
	if err != nil {
		t.Fatalf("fork.py (deny) did not finish cleanly: %v", err)
	}
	if !strings.Contains(out, "parent good: ok hello from good") ||
		!strings.Contains(lineWith(out, "child good:"), curlNoStatus) ||
		!strings.Contains(out, "refusing connections per policy") {
		t.Errorf("fork (unavailable=deny): wrong verdicts:\n%s", out)
	}
}

func TestOpenSSLPythonThreads(t *testing.T) {
	needClient(t, "python3")
	env := harness.New(t)
	out, err := env.Run(t, confEnv(opensslConf(t, env)), "python3", testdataScript("threads.py"), env.RootPEM,
		"16", "8", env.Sites["good"].URL, env.Sites["revoked"].URL)
	if err != nil {
		t.Fatalf("threads.py: %v", err)
	}
	if !strings.Contains(out, "correct=128 wrong=0") {
		t.Errorf("concurrent connections: want all 128 answers right:\n%s", out)
	}
}

// lineWith returns the first line of out containing s, or "".
func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
