package integration

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/revocheck/revocheck/integration/harness"
)

// The GnuTLS verify hook (gnutls-hook/): real wget, gnutls-cli, libcurl's
// GnuTLS back end and small GnuTLS drivers against the harness's sites, with
// build/lib/librevocheck-gnutls.so preloaded.

func gnutlsHookPath(t *testing.T) string {
	t.Helper()
	p := filepath.Join(harness.BuildDir(), "lib", "librevocheck-gnutls.so")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%v (run make all)", err)
	}
	return p
}

func requireTool(t *testing.T, name string) string {
	t.Helper()
	return harness.Require(t, name, "")
}

// buildGnuTLSDriver builds build/test/NAME with gnutls-hook/build.mk.
func buildGnuTLSDriver(t *testing.T, build, name string) string {
	t.Helper()
	requireTool(t, "make")
	path := filepath.Join(build, "test", name)
	cmd := exec.Command("make", "-s", "-C", "..", "BUILD="+build, path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", path, err, out)
	}
	return path
}

// TestGnuTLSHookELF: the preload library links libc only (so that
// /etc/ld.so.preload does not drag GnuTLS or Go into every process) and
// exports exactly the versioned interposer.
func TestGnuTLSHookELF(t *testing.T) {
	f, err := elf.Open(gnutlsHookPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	needed, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range needed {
		if strings.Contains(n, "gnutls") || strings.Contains(n, "revocheck") || !strings.HasPrefix(n, "libc.so") {
			t.Errorf("DT_NEEDED %s: the preload library must link libc only", n)
		}
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	var exported []string
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF || elf.ST_TYPE(s.Info) != elf.STT_FUNC {
			if s.Section != elf.SHN_UNDEF && s.Name != "GNUTLS_3_4" {
				exported = append(exported, s.Name)
			}
			continue
		}
		exported = append(exported, s.Name+"@"+s.Version)
		if s.Version != "GNUTLS_3_4" {
			t.Errorf("%s has version %q, want GNUTLS_3_4 (libgnutls's PLT reference would not bind)", s.Name, s.Version)
		}
	}
	if !slices.Equal(exported, []string{"gnutls_x509_trust_list_verify_crt2@GNUTLS_3_4"}) {
		t.Errorf("exported %v, want only gnutls_x509_trust_list_verify_crt2@GNUTLS_3_4", exported)
	}
}

// TestGnuTLSAPILibrary: the opt-in library exports the header's functions
// only, and the README's example compiles against the built header.
func TestGnuTLSAPILibrary(t *testing.T) {
	build := harness.BuildDir()
	lib := filepath.Join(build, "lib", "librevocheck-gnutls-api.so")
	f, err := elf.Open(lib)
	if err != nil {
		t.Fatalf("%v (run make all)", err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	var exported []string
	for _, s := range syms {
		if s.Section != elf.SHN_UNDEF && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			exported = append(exported, s.Name)
		}
	}
	slices.Sort(exported)
	want := []string{"revocheck_gnutls_check_chain", "revocheck_gnutls_check_session",
		"revocheck_gnutls_configure", "revocheck_gnutls_install"}
	if !slices.Equal(exported, want) {
		t.Errorf("exported %v, want %v", exported, want)
	}

	requireTool(t, "cc")
	src := filepath.Join(t.TempDir(), "example.c")
	prog := `#include <revocheck-gnutls.h>
int main(void)
{
	gnutls_certificate_credentials_t cred;
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return 1;
	gnutls_certificate_set_x509_system_trust(cred);
	int ret = revocheck_gnutls_install(cred);
	unsigned int status = 1;
	ret |= revocheck_gnutls_check_chain(NULL, NULL, 0, &status) != GNUTLS_E_INVALID_REQUEST;
	gnutls_certificate_free_credentials(cred);
	return ret != 0;
}
`
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "example")
	out, err := exec.Command("cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic",
		"-I"+filepath.Join(build, "include"), "-o", bin, src,
		"-L"+filepath.Join(build, "lib"), "-lrevocheck-gnutls-api", "-lgnutls",
		"-Wl,-rpath,"+filepath.Join(build, "lib")).CombinedOutput()
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin).CombinedOutput(); err != nil {
		t.Fatalf("example: %v\n%s", err, out)
	}
}

// TestGnuTLSHookIdleProcess: a preloaded process that never verifies a
// GnuTLS certificate maps neither GnuTLS nor librevocheck.so (no Go runtime).
func TestGnuTLSHookIdleProcess(t *testing.T) {
	hook := gnutlsHookPath(t)
	check := func(t *testing.T, who, maps string) {
		if !strings.Contains(maps, "librevocheck-gnutls.so") {
			t.Fatalf("%s: the hook is not mapped, the test proves nothing:\n%s", who, maps)
		}
		for _, bad := range []string{"librevocheck.so", "libgnutls"} {
			if strings.Contains(maps, bad) {
				t.Errorf("%s maps %s", who, bad)
			}
		}
	}
	env := append(os.Environ(), "LD_PRELOAD="+hook)

	sleep := exec.Command("sleep", "30")
	sleep.Env = env
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	// The maps show the preload once the dynamic loader has run.
	var maps []byte
	for i := 0; i < 100; i++ {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(sleep.Process.Pid) + "/maps")
		if err != nil {
			t.Fatal(err)
		}
		maps = b
		if strings.Contains(string(b), "librevocheck-gnutls.so") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	check(t, "sleep", string(maps))

	for _, argv := range [][]string{{"cat", "/proc/self/maps"}, {"bash", "-c", "ls / >/dev/null; cat /proc/$$/maps"}} {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(env, "LD_BIND_NOW=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", argv, err)
		}
		check(t, argv[0], string(out))
	}
}

// gnutlsCase is one client run with or without the hook.
type gnutlsCase struct {
	env     *harness.Env
	hook    string
	cleanRC string // an empty config file: the system config never leaks in
}

func newGnuTLSCase(t *testing.T) *gnutlsCase {
	env := harness.New(t)
	rc := filepath.Join(t.TempDir(), "empty.toml")
	if err := os.WriteFile(rc, []byte("# defaults only\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &gnutlsCase{env: env, hook: gnutlsHookPath(t), cleanRC: rc}
}

// with returns the environment of a hooked run; extra entries win.
func (g *gnutlsCase) with(extra ...string) []string {
	return append([]string{"LD_PRELOAD=" + g.hook, "REVOCHECK_CONFIG=" + g.cleanRC,
		"REVOCHECK_CACHE_DIR=" + g.env.CacheDir}, extra...)
}

// without returns the environment of an unhooked run.
func (g *gnutlsCase) without() []string {
	return []string{"LD_PRELOAD=", "REVOCHECK_CONFIG=" + g.cleanRC}
}

func (g *gnutlsCase) sites() []string {
	names := make([]string, 0, len(g.env.Sites))
	for n := range g.env.Sites {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (g *gnutlsCase) wget(t *testing.T, env []string, site string, extra ...string) (string, error) {
	args := append([]string{"--no-config", "--no-hsts", "-nv", "--tries=1", "--timeout=20",
		"--ca-certificate=" + g.env.RootPEM, "-O-"}, extra...)
	return g.env.Run(t, env, "wget", append(args, g.env.Sites[site].URL)...)
}

func expectFetched(t *testing.T, site, out string, err error) {
	t.Helper()
	if err != nil || !strings.Contains(out, "hello from "+site+"\n") {
		t.Errorf("%s: want the page fetched, got %v:\n%s", site, err, out)
	}
}

func expectRefused(t *testing.T, site, out string, err error, why string) {
	t.Helper()
	if err == nil || strings.Contains(out, "hello from") {
		t.Errorf("%s: want the connection refused, got %v:\n%s", site, err, out)
	}
	if !strings.Contains(out, why) {
		t.Errorf("%s: want %q in the output:\n%s", site, why, out)
	}
}

func TestGnuTLSHook(t *testing.T) {
	requireTool(t, "wget")
	g := newGnuTLSCase(t)
	env := g.env

	t.Run("wget", func(t *testing.T) {
		for _, name := range g.sites() {
			out, err := g.wget(t, g.with(), name)
			if env.Sites[name].Revoked {
				expectRefused(t, name, out, err, "has been revoked")
			} else {
				expectFetched(t, name, out, err)
			}
		}
	})

	t.Run("wget-without-hook", func(t *testing.T) {
		for _, name := range g.sites() {
			out, err := g.wget(t, g.without(), name)
			expectFetched(t, name, out, err)
		}
	})

	t.Run("wget-no-check-certificate", func(t *testing.T) {
		// Still downloads; wget's own warning shows the hook did run.
		out, err := g.wget(t, g.with(), "revoked", "--no-check-certificate")
		expectFetched(t, "revoked", out, err)
		if !strings.Contains(out, "has been revoked") {
			t.Errorf("want wget's warning about the revoked certificate:\n%s", out)
		}
	})

	t.Run("wget-bind-now", func(t *testing.T) {
		out, err := g.wget(t, g.with("LD_BIND_NOW=1"), "revoked")
		expectRefused(t, "revoked", out, err, "has been revoked")
		out, err = g.wget(t, g.with("LD_BIND_NOW=1"), "good")
		expectFetched(t, "good", out, err)
	})

	t.Run("wget-deny-policy-config", func(t *testing.T) {
		rc := filepath.Join(t.TempDir(), "config.toml")
		cfg := "[policy]\nnot-covered = \"deny\"\nnot-enrolled = \"deny\"\n"
		if err := os.WriteFile(rc, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"uncovered", "unenrolled"} {
			out, err := g.wget(t, g.with("REVOCHECK_CONFIG="+rc), name)
			expectRefused(t, name, out, err, "is not trusted")
			if strings.Contains(out, "has been revoked") {
				t.Errorf("%s: a policy refusal is not a revocation:\n%s", name, out)
			}
		}
		out, err := g.wget(t, g.with("REVOCHECK_CONFIG="+rc), "good")
		expectFetched(t, "good", out, err)
		out, err = g.wget(t, g.with("REVOCHECK_CONFIG="+rc), "revoked")
		expectRefused(t, "revoked", out, err, "has been revoked")
	})

	t.Run("wget-deny-policy-overrides", func(t *testing.T) {
		deny := "REVOCHECK_GNUTLS_OVERRIDES=policy.not-covered=deny"
		out, err := g.wget(t, g.with(deny), "uncovered")
		expectRefused(t, "uncovered", out, err, "is not trusted")
		out, err = g.wget(t, g.with(deny), "unenrolled")
		expectFetched(t, "unenrolled", out, err)
	})

	t.Run("wget-library-unavailable", func(t *testing.T) {
		missing := "REVOCHECK_LIBRARY=" + filepath.Join(t.TempDir(), "librevocheck.so.0")
		out, err := g.wget(t, g.with(missing), "revoked")
		expectFetched(t, "revoked", out, err) // default: degrade to allow, loudly
		if !strings.Contains(out, "could not be loaded") {
			t.Errorf("want the once-logged unavailable line:\n%s", out)
		}
		out, err = g.wget(t, g.with(missing, "REVOCHECK_GNUTLS_UNAVAILABLE=deny"), "good")
		expectRefused(t, "good", out, err, "is not trusted")
	})

	t.Run("wget-disabled", func(t *testing.T) {
		out, err := g.wget(t, g.with("REVOCHECK_GNUTLS_DISABLE=1"), "revoked")
		expectFetched(t, "revoked", out, err)
	})

	t.Run("gnutls-cli", func(t *testing.T) {
		requireTool(t, "gnutls-cli")
		cli := func(envv []string, name string) (string, error) {
			return env.Run(t, envv, "gnutls-cli", "--x509cafile", env.RootPEM,
				"-p", strconv.Itoa(env.Sites[name].Port), "127.0.0.1")
		}
		for _, name := range []string{"good", "revoked", "revoked-int", "uncovered"} {
			out, err := cli(g.with(), name)
			if env.Sites[name].Revoked {
				expectRefused(t, name, out, err, "The certificate chain is revoked")
			} else if err != nil || !strings.Contains(out, "The certificate is trusted") {
				t.Errorf("%s: want a trusted handshake, got %v:\n%s", name, err, out)
			}
		}
		out, err := cli(g.without(), "revoked")
		if err != nil || !strings.Contains(out, "The certificate is trusted") {
			t.Errorf("revoked without the hook: want trusted, got %v:\n%s", err, out)
		}
	})

	t.Run("curl-gnutls", func(t *testing.T) {
		out, err := exec.Command("cc", "-print-file-name=libcurl-gnutls.so.4").Output()
		if err != nil || !filepath.IsAbs(strings.TrimSpace(string(out))) {
			harness.Missing(t, "libcurl-gnutls.so.4 is not installed", "apt-get install libcurl3-gnutls")
		}
		drv := buildGnuTLSDriver(t, env.Build, "curl-gnutls-driver")
		for _, name := range []string{"good", "revoked", "revoked-int", "unenrolled"} {
			out, err := env.Run(t, g.with(), drv, env.RootPEM, env.Sites[name].URL)
			if env.Sites[name].Revoked {
				expectRefused(t, name, out, err, "curl error 60")
			} else {
				expectFetched(t, name, out, err)
			}
		}
		out2, err := env.Run(t, g.without(), drv, env.RootPEM, env.Sites["revoked"].URL)
		expectFetched(t, "revoked", out2, err)
	})

	t.Run("drivers", func(t *testing.T) {
		drv := buildGnuTLSDriver(t, env.Build, "gnutls-verify-driver")
		rev, good := env.Sites["revoked"], env.Sites["good"]
		revoked := "refused status=0x22 " // GNUTLS_CERT_REVOKED | GNUTLS_CERT_INVALID

		// Every GnuTLS entry point reaches the hook.
		for _, mode := range [][]string{{"chain", env.RootPEM, rev.ChainPEM},
			{"chain", env.RootPEM, rev.ChainPEM, "--crt1"},
			{"chain", env.RootPEM, env.Sites["revoked-int"].ChainPEM},
			{"tls", env.RootPEM, strconv.Itoa(rev.Port)},
			{"tls", env.RootPEM, strconv.Itoa(rev.Port), "--peers3"},
			{"tls", env.RootPEM, strconv.Itoa(rev.Port), "--auto"}} {
			out, err := env.Run(t, g.with(), drv, mode...)
			if err == nil || !strings.Contains(out, revoked) {
				t.Errorf("%v: want %q, got %v:\n%s", mode, revoked, err, out)
			}
			out, err = env.Run(t, g.without(), drv, mode...)
			if err != nil || !strings.Contains(out, ": accepted") {
				t.Errorf("%v without the hook: want accepted, got %v:\n%s", mode, err, out)
			}
		}
		out, err := env.Run(t, g.with(), drv, "tls", env.RootPEM, strconv.Itoa(good.Port), "--peers3")
		if err != nil || !strings.Contains(out, "tls: accepted") {
			t.Errorf("good: want accepted, got %v:\n%s", err, out)
		}

		// No cache: allowed by default; a "no-data = deny" refusal carries
		// GNUTLS_CERT_MISSING_OCSP_STATUS | GNUTLS_CERT_INVALID, not REVOKED.
		noCache := "REVOCHECK_CACHE_DIR=" + filepath.Join(t.TempDir(), "absent")
		out, err = env.Run(t, g.with(noCache), drv, "chain", env.RootPEM, rev.ChainPEM)
		if err != nil || !strings.Contains(out, "parent: accepted") {
			t.Errorf("no cache, default policy: want accepted, got %v:\n%s", err, out)
		}
		out, err = env.Run(t, g.with(noCache, "REVOCHECK_GNUTLS_OVERRIDES=policy.no-data=deny"), drv,
			"chain", env.RootPEM, good.ChainPEM)
		if err == nil || !strings.Contains(out, "parent: refused status=0x80002 ") {
			t.Errorf("no cache, no-data=deny: want status 0x80002, got %v:\n%s", err, out)
		}
	})

	t.Run("fork-after-use", func(t *testing.T) {
		drv := buildGnuTLSDriver(t, env.Build, "gnutls-verify-driver")
		chain := env.Sites["revoked"].ChainPEM
		// The parent started Go; the child must not call into it (it would
		// hang): it asks a helper process instead (more: fork_test.go).
		out, err := env.Run(t, g.with(), drv, "chain", env.RootPEM, chain, "--fork")
		if !strings.Contains(out, "parent: refused status=0x22") || !strings.Contains(out, "child: refused status=0x22") {
			t.Errorf("want parent and child refused as revoked, got %v:\n%s", err, out)
		}
		// Without the helper binary, the unavailable policy answers.
		noHelper := "REVOCHECK_HELPER=" + filepath.Join(t.TempDir(), "absent")
		out, err = env.Run(t, g.with(noHelper), drv, "chain", env.RootPEM, chain, "--fork")
		if !strings.Contains(out, "parent: refused status=0x22") || !strings.Contains(out, "child: accepted") ||
			!strings.Contains(out, "forked") {
			t.Errorf("no helper: want parent refused, child allowed by policy with a log line, got %v:\n%s", err, out)
		}
		out, err = env.Run(t, g.with("REVOCHECK_GNUTLS_UNAVAILABLE=deny", noHelper), drv, "chain", env.RootPEM,
			env.Sites["good"].ChainPEM, "--fork")
		if !strings.Contains(out, "parent: accepted") || !strings.Contains(out, "child: refused status=0x80002") {
			t.Errorf("want parent accepted, child refused by the deny policy, got %v:\n%s", err, out)
		}
	})

	t.Run("opt-in-api", func(t *testing.T) {
		drv := buildGnuTLSDriver(t, env.Build, "gnutls-verify-driver")
		api := []string{"LD_PRELOAD=", "REVOCHECK_CONFIG=" + g.cleanRC, "REVOCHECK_CACHE_DIR=" + env.CacheDir}
		for _, name := range []string{"good", "revoked", "revoked-int", "uncovered"} {
			s := env.Sites[name]
			out, err := env.Run(t, api, drv, "chain", env.RootPEM, s.ChainPEM, "--api")
			out2, err2 := env.Run(t, api, drv, "tls", env.RootPEM, strconv.Itoa(s.Port), "--install")
			if s.Revoked {
				expectRefused(t, name, out, err, "parent: refused status=0x22")
				expectRefused(t, name, out2, err2, "Error in the certificate verification")
			} else {
				if err != nil || !strings.Contains(out, "parent: accepted") {
					t.Errorf("%s chain --api: want accepted, got %v:\n%s", name, err, out)
				}
				if err2 != nil || !strings.Contains(out2, "tls: accepted") {
					t.Errorf("%s tls --install: want accepted, got %v:\n%s", name, err2, out2)
				}
			}
		}
	})
}
