package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/revocheck/revocheck/integration/harness"
)

// TestCABI compiles a C program against the installed-style header and
// library and checks chains from 8 threads at once.
func TestCABI(t *testing.T) {
	env := harness.New(t)
	inc := filepath.Join(env.Build, "include")
	lib := filepath.Join(env.Build, "lib")
	bin := filepath.Join(t.TempDir(), "cabi")
	src := filepath.Join("cdrivers", "cabi.c")
	out, err := env.Run(t, nil, "cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-D_POSIX_C_SOURCE=200809L",
		"-I"+inc, "-o", bin, src, "-L"+lib, "-lrevocheck", "-lpthread", "-Wl,-rpath,"+lib)
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, out)
	}
	var args []string
	for name, want := range map[string]string{"good": "not_revoked", "revoked": "revoked", "uncovered": "not_covered", "unenrolled": "not_enrolled"} {
		s := env.Sites[name]
		leaf := filepath.Join(t.TempDir(), name+".der")
		issuer := filepath.Join(t.TempDir(), name+"-issuer.der")
		os.WriteFile(leaf, s.Leaf, 0o644)
		os.WriteFile(issuer, s.Issuer, 0o644)
		args = append(args, want, leaf, issuer)
	}
	out, err = env.Run(t, nil, bin, append([]string{env.CacheDir}, args...)...)
	if err != nil || !strings.Contains(out, "0 failures") {
		t.Fatalf("cabi: %v\n%s", err, out)
	}
}

// TestHeaderCompilesAsCxx keeps revocheck.h usable from C++.
func TestHeaderCompilesAsCxx(t *testing.T) {
	harness.Require(t, "c++", "g++")
	inc := filepath.Join(harness.BuildDir(), "include")
	cmd := exec.Command("c++", "-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only", "-x", "c++", "-I"+inc, "-")
	cmd.Stdin = strings.NewReader("#include <revocheck.h>\nint main() { return revocheck_abi_version(); }\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// TestExportedSymbols: librevocheck.so exports the documented API only.
func TestExportedSymbols(t *testing.T) {
	lib := filepath.Join(harness.BuildDir(), "lib", "librevocheck.so")
	out, err := exec.Command("nm", "-D", "--defined-only", lib).Output()
	if err != nil {
		t.Fatalf("nm: %v", err)
	}
	header, err := os.ReadFile(filepath.Join("..", "go-shim", "revocheck.h"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	n := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[1] != "T" {
			continue
		}
		n++
		if !strings.HasPrefix(f[2], "revocheck_") || !bytes.Contains(header, []byte(f[2]+"(")) {
			t.Errorf("exported symbol %s is not in revocheck.h", f[2])
		}
	}
	if n < 8 {
		t.Errorf("only %d exported functions", n)
	}
}

// TestCABIFindIssuers: revocheck_find_issuers through the installed-style
// header and library, against an intermediates index in the cache: the
// leaf's issuer comes back as DER, a too-small buffer says how much is
// needed, intermediates=off and a cache without the set give none.
func TestCABIFindIssuers(t *testing.T) {
	env := harness.New(t)
	inc := filepath.Join(env.Build, "include")
	lib := filepath.Join(env.Build, "lib")
	bin := filepath.Join(t.TempDir(), "find_issuers")
	out, err := env.Run(t, nil, "cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic",
		"-I"+inc, "-o", bin, filepath.Join("cdrivers", "find_issuers.c"), "-L"+lib, "-lrevocheck", "-Wl,-rpath,"+lib)
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, out)
	}
	site := env.Sites["good"]
	leaf := filepath.Join(t.TempDir(), "leaf.der")
	os.WriteFile(leaf, site.Leaf, 0o644)
	got := filepath.Join(t.TempDir(), "got.der")
	run := func(cache string, extra ...string) string {
		t.Helper()
		os.Remove(got)
		out, err := env.Run(t, nil, bin, append([]string{cache, leaf, got}, extra...)...)
		if err != nil {
			t.Fatalf("find_issuers: %v\n%s", err, out)
		}
		return strings.TrimSpace(out)
	}
	if out := run(env.CacheDir); out != "rc 0 count 0 len 0" {
		t.Fatalf("no set: %q", out)
	}
	env.PreloadIntermediates(t, site.Issuer, env.PKI.Root.Cert.Raw)
	want := fmt.Sprintf("rc 0 count 1 len %d", len(site.Issuer))
	if out := run(env.CacheDir); out != want {
		t.Fatalf("set: %q, want %q", out, want)
	}
	if der, err := os.ReadFile(got); err != nil || !bytes.Equal(der, site.Issuer) {
		t.Fatalf("candidate is not the issuer (%v)", err)
	}
	if out := run(env.CacheDir, "intermediates=off"); out != "rc 0 count 0 len 0" {
		t.Fatalf("off: %q", out)
	}
}
