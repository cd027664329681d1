package integration

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/revocheck/revocheck/integration/harness"
)

// TestRCFindIssuers: rc_find_issuers, the adapters' way to the preloaded
// intermediates, in-process and through the check daemon, and in a child
// forked after a completion: with the daemon the child gets the candidate
// too; without it the child gets none (it must not call into the parent's
// Go runtime) and proceeds as without revocheck.
func TestRCFindIssuers(t *testing.T) {
	env := harness.New(t)
	harness.Require(t, "cc", "gcc")
	bin := filepath.Join(t.TempDir(), "rc_find")
	out, err := env.Run(t, nil, "cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE",
		"-I../adapters-common", "-I../go-shim", "-o", bin, filepath.Join("cdrivers", "rc_find.c"),
		"../adapters-common/rc_loader.c", "../adapters-common/rc_daemon.c", "../adapters-common/rc_helper.c", "-ldl", "-lpthread")
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, out)
	}
	site := env.Sites["good"]
	leaf := filepath.Join(t.TempDir(), "leaf.der")
	os.WriteFile(leaf, site.Leaf, 0o644)
	got := filepath.Join(t.TempDir(), "got.der")
	lib := filepath.Join(env.Build, "lib", "librevocheck.so.0")
	run := func(sock string, extra ...string) string {
		t.Helper()
		out, err := env.Run(t, []string{"REVOCHECK_HELPER=/nonexistent"}, bin, append([]string{lib, sock, env.CacheDir, leaf, got}, extra...)...)
		if err != nil {
			t.Fatalf("rc_find: %v\n%s", err, out)
		}
		return strings.TrimSpace(out)
	}
	if out := run("none"); out != "parent 0 0" {
		t.Fatalf("no set: %q", out)
	}
	env.PreloadIntermediates(t, site.Issuer)
	one := fmt.Sprintf("1 %d", len(site.Issuer))
	check := func(name, out, want string) {
		t.Helper()
		if out != want {
			t.Fatalf("%s: %q, want %q", name, out, want)
		}
		if der, err := os.ReadFile(got); err != nil || !bytes.Equal(der, site.Issuer) {
			t.Fatalf("%s: the candidate is not the issuer (%v)", name, err)
		}
	}
	check("in-process, fork", run("none", "fork"), "parent "+one+"\nchild 0 0")
	sock, _ := startDaemon(t, env, env.CacheDir)
	// The child's answer can only come from the daemon: its parent never
	// loaded the library (the daemon answered it too), and a forked child
	// never calls into Go.
	check("daemon, fork", run(sock, "fork"), "parent "+one+"\nchild "+one)
}
