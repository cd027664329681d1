package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/revocheck/revocheck/integration/harness"
)

// TestStatusOpenSSLLoaded: status asks OpenSSL itself whether the provider
// is loaded, and reports the state the provider gives; a configuration
// that has revocheck's block but does not load it is said so.
func TestStatusOpenSSLLoaded(t *testing.T) {
	harness.Require(t, "openssl", "openssl")
	module := filepath.Join(enBuildDir(t), "lib", opensslModuleFile)
	if _, err := os.Stat(module); err != nil {
		t.Fatalf("%v (run make all)", err)
	}
	snippet, err := filepath.Abs("../../openssl-provider/revocheck-openssl.cnf")
	if err != nil {
		t.Fatal(err)
	}
	env := harness.New(t)
	dir := t.TempDir()
	conf := func(name, module, cache string) string {
		p := filepath.Join(dir, name)
		enWrite(t, p, blockBegin+"\n.include "+snippet+"\n"+blockEnd+"\n[ revocheck_sect ]\nmodule = "+module+"\ncache-dir = "+cache+"\n")
		return p
	}
	for _, c := range []struct {
		name, module, cache string
		active              bool
		want                string
	}{
		{"ready.cnf", module, env.CacheDir, true, "its state: ready (cache " + env.CacheDir + ")"},
		{"nodata.cnf", module, filepath.Join(dir, "none"), true, "(OpenSSL status inactive: loaded, but its checks cannot work)"},
		{"broken.cnf", "/nonexistent/revocheck-openssl.so", env.CacheDir, false, "has revocheck's block, but OpenSSL does not load the provider"},
	} {
		t.Setenv("OPENSSL_CONF", conf(c.name, c.module, c.cache))
		s := detectOpenSSL()
		ev := strings.Join(s.Evidence, "\n")
		if s.Active != c.active || !strings.Contains(ev, c.want) {
			t.Errorf("%s: active %v, evidence:\n%s\nwant active %v and %q", c.name, s.Active, ev, c.active, c.want)
		}
	}
}
