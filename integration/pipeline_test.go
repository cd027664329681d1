package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/revocheck/revocheck/integration/harness"
)

// TestPipelinePrivateCA is the private-PKI story end to end with the real
// binaries: an organisation compiles its CA's CRL with `revocheck mirror
// crl` next to a clubcard built with `revocheck filter build`, serves the
// tree with `revocheck serve`, a machine syncs it with one `revocheck
// fetch`, and curl — through the OpenSSL provider — refuses a certificate
// that has no SCTs at all. A second fetch transfers no filter bytes.
func TestPipelinePrivateCA(t *testing.T) {
	harness.Require(t, "curl", "curl")
	env := harness.New(t)
	bin := filepath.Join(env.Build, "bin", "revocheck")
	tree := filepath.Join(t.TempDir(), "tree")
	run := func(args ...string) string {
		t.Helper()
		out, err := env.Run(t, nil, bin, args...)
		if err != nil {
			t.Fatalf("revocheck %s: %v\n%s", args[0], err, out)
		}
		return out
	}
	run("filter", "build", "--out", tree, "--name", "private.filter",
		"--revoked", env.Sites["revoked"].ChainPEM, "--not-revoked", env.Sites["good"].ChainPEM)
	run("mirror", "crl", "--out", tree, "--ca", env.PKI.Int.CertPEM, "--ca", env.RootPEM, env.PKI.IntCRL, env.PKI.RootCRL)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := exec.Command(bin, "serve", "--dir", tree, "--listen", addr, "--log")
	logf, _ := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	srv.Stderr = logf
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	cache := filepath.Join(t.TempDir(), "cache")
	url := fmt.Sprintf("http://%s/", addr)
	run("fetch", "--url", url, "--cache-dir", cache, "--quiet")
	run("verify", "--cache-dir", cache)

	conf := filepath.Join(t.TempDir(), "openssl.cnf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
revocheck = revocheck_sect
[default_sect]
activate = 1
[revocheck_sect]
module = %s
cache-dir = %s
activate = 1
`, filepath.Join(env.Build, "lib", "revocheck-openssl.so"), cache)), 0o644)
	curl := func(site string) (string, error) {
		return env.Run(t, []string{"OPENSSL_CONF=" + conf}, "curl", "-sS", "--cacert", env.RootPEM, env.Sites[site].URL)
	}
	if out, err := curl("crl-revoked"); err == nil || !strings.Contains(out, "certificate revoked") {
		t.Errorf("crl-revoked (no SCTs, revoked by the private CA's CRL) not refused: %v %s", err, out)
	}
	if out, err := curl("revoked"); err == nil || !strings.Contains(out, "certificate revoked") {
		t.Errorf("revoked not refused: %v %s", err, out)
	}
	if out, err := curl("good"); err != nil || !strings.Contains(out, "hello from good") {
		t.Errorf("good refused: %v %s", err, out)
	}

	// A no-op sync: no filter or set is downloaded again.
	logf.Sync()
	before, _ := os.ReadFile(logf.Name())
	run("fetch", "--url", url, "--cache-dir", cache, "--quiet")
	time.Sleep(100 * time.Millisecond)
	after, _ := os.ReadFile(logf.Name())
	second := string(after[len(before):])
	t.Logf("requests of the second fetch:\n%s", second)
	data := regexp.MustCompile(`\.(filter|crlset)" 20[06]`)
	if !data.Match(before) {
		t.Errorf("the serve log does not show the first fetch's downloads:\n%s", before)
	}
	if m := data.FindString(second); m != "" {
		t.Errorf("second fetch downloaded data again: %s", m)
	}
}
