package main

import (
	"bytes"
	"github.com/revocheck/revocheck/integration/harness"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestStatusNSSWhatIsLoaded: `revocheck status` reports NSS active only
// while something really loads the module: a database registration made
// by `enable nss`, or the p11-kit module file (which `make install`
// ships) when something loads p11-kit-proxy and no administrator's file
// (as `disable nss` writes) keeps it out. It always says Chromium is not
// protected.
func TestStatusNSSWhatIsLoaded(t *testing.T) {
	root := nssRoot(t)
	home := "/home/tester"
	args := []string{"--root", root, "--libdir", "/usr/lib"}
	p11 := filepath.Join(root, "usr/share/p11-kit/modules/revocheck.module")
	enWrite(t, p11, "module: /usr/lib/pkcs11/"+nssModuleFile+"\nx-init-reserved: log=syslog\ncritical: no\n")
	status := func() (adapterStatus, string) {
		t.Helper()
		s := detectNSSIn(root, home)
		var b bytes.Buffer
		(&statusReport{Adapters: []adapterStatus{s}}).print(&b)
		out := b.String()[strings.Index(b.String(), "adapters:"):]
		t.Logf("%s", out)
		return s, out
	}
	has := func(out string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("want %q in:\n%s", w, out)
			}
		}
	}

	if code, _, _ := enRun(t, append([]string{"enable", "nss"}, args...)...); code != 0 {
		t.Fatal("enable nss failed")
	}
	s, out := status()
	if !s.Active || !strings.Contains(out, "nss      ACTIVE") {
		t.Errorf("after enable nss: want ACTIVE")
	}
	has(out, "loaded from the NSS database /etc/pki/nssdb", "nothing here loads p11-kit-proxy.so",
		"protects: tstclnt, vfychain", "protects: libcurl-nss", "NOT protected: Chromium", "NOT protected: Firefox")

	// After disable, the shipped module file stays (a package file), and
	// the administrator's file disable writes keeps p11-kit from loading it.
	code, dout, _ := enRun(t, append([]string{"disable", "nss"}, args...)...)
	if code != 0 {
		t.Fatal("disable nss failed")
	}
	has(dout, "wrote "+root+":/etc/pkcs11/modules/revocheck.module")
	if !enExists(p11) {
		t.Errorf("disable nss removed the package's %s", p11)
	}
	s, out = status()
	if s.Active || !strings.Contains(out, "nss      inactive") || len(s.Protects) != 0 {
		t.Errorf("after disable nss: want inactive, nothing protected")
	}
	has(out, "p11-kit module file /etc/pkcs11/modules/revocheck.module loads nothing: its enable-in: leaves out p11-kit-proxy",
		"NOT protected: tstclnt, vfychain, libcurl-nss, Firefox: nothing here loads the module", "NOT protected: Chromium")

	// A database that loads p11-kit-proxy loads the module file's module,
	// unless disable's file keeps it out.
	proxy := filepath.Join("/usr/lib", multiarch(), "p11-kit-proxy.so")
	if _, err := os.Stat(proxy); err != nil {
		harness.Missing(t, proxy+" is not installed", "apt-get install p11-kit-modules")
	}
	db := filepath.Join(root, "etc/pki/nssdb")
	if out, err := exec.Command("modutil", "-add", "p11-kit-proxy", "-libfile", proxy, "-dbdir", "sql:"+db, "-force").CombinedOutput(); err != nil {
		t.Fatalf("modutil -add p11-kit-proxy: %v\n%s", err, out)
	}
	enWrite(t, filepath.Join(root, proxy), "stand-in: only its registration is read")
	s, out = status()
	if s.Active {
		t.Errorf("p11-kit-proxy registered after disable nss: want inactive")
	}
	has(out, "/etc/pkcs11/modules/revocheck.module loads nothing: its enable-in: leaves out p11-kit-proxy")

	// Without that file (the package file alone, as after make install).
	if err := os.Remove(filepath.Join(root, "etc/pkcs11/modules/revocheck.module")); err != nil {
		t.Fatal(err)
	}
	s, out = status()
	if !s.Active {
		t.Errorf("p11-kit-proxy registered: want ACTIVE")
	}
	has(out, "loaded through p11-kit-proxy.so by the NSS database /etc/pki/nssdb", "protects: libcurl-nss")
	// An administrator's override keeping it out of the proxy.
	enWrite(t, filepath.Join(root, "etc/pkcs11/modules/revocheck.module"), "module: /usr/lib/pkcs11/"+nssModuleFile+"\ndisable-in: p11-kit-proxy\n")
	s, out = status()
	if s.Active {
		t.Errorf("disable-in: p11-kit-proxy: want inactive")
	}
	has(out, "/etc/pkcs11/modules/revocheck.module loads nothing: its disable-in: names p11-kit-proxy")

	// Firefox profiles: one that loads the module, one that does not.
	for _, p := range []string{"abc.default-esr", "def.work"} {
		pdb := filepath.Join(root, home, ".mozilla/firefox", p)
		if err := os.MkdirAll(pdb, 0o700); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("certutil", "-N", "--empty-password", "-d", "sql:"+pdb).CombinedOutput(); err != nil {
			t.Fatalf("certutil -N: %v\n%s", err, out)
		}
	}
	if code, _, _ := enRun(t, "enable", "nss", "--root", root, "--libdir", "/usr/lib", "--nssdb", filepath.Join(home, ".mozilla/firefox/abc.default-esr")); code != 0 {
		t.Fatal("enable nss --nssdb PROFILE failed")
	}
	s, out = status()
	if !s.Active {
		t.Errorf("Firefox profile with the module: want ACTIVE")
	}
	if strings.Contains(out, "libcurl-nss (it opens") {
		t.Errorf("libcurl-nss is not protected when only a Firefox profile loads the module")
	}
	has(out, "read by Firefox with profile abc.default-esr", "protects: Firefox",
		"NOT protected: Firefox: 1 of this user's 2 profile(s) do not load the module")
}
