package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDisableNSSP11KitOverride: the p11-kit module file is a package file,
// so `disable nss` leaves it and writes /etc/pkcs11/modules/revocheck.module
// (an empty enable-in:, which p11-kit merges over the package file's keys);
// `enable nss` removes that file again. An administrator's own file there
// is never changed, and --user alone touches no system file.
func TestDisableNSSP11KitOverride(t *testing.T) {
	root := nssRoot(t)
	t.Setenv("HOME", "/home/tester")
	args := []string{"--root", root, "--libdir", "/usr/lib"}
	pkg := filepath.Join(root, p11kitPackageFile)
	over := filepath.Join(root, p11kitOverrideFile)

	// Nothing installed through p11-kit: nothing to keep out.
	if code, _, _ := enRun(t, append([]string{"disable", "nss"}, args...)...); code != 0 {
		t.Fatal("disable nss failed")
	}
	if enExists(over) {
		t.Fatal("disable nss wrote a p11-kit file although no package file is installed")
	}

	const shipped = "module: /usr/lib/pkcs11/" + nssModuleFile + "\nx-init-reserved: log=syslog\ncritical: no\n"
	enWrite(t, pkg, shipped)
	if code, _, _ := enRun(t, append([]string{"disable", "nss", "--user"}, args...)...); code != 0 {
		t.Fatal("disable nss --user failed")
	}
	if enExists(over) {
		t.Fatal("disable nss --user wrote the system-wide p11-kit file")
	}

	code, out, _ := enRun(t, append([]string{"disable", "nss"}, args...)...)
	if code != 0 || !strings.Contains(out, "p11-kit no longer loads the module") {
		t.Fatalf("disable nss: exit %d\n%s", code, out)
	}
	if got := enRead(t, over); got != p11kitOverride {
		t.Fatalf("override:\n%s\nwant:\n%s", got, p11kitOverride)
	}
	if why := p11kitKeepsOut(parseP11KitConf(enRead(t, over))); why == "" {
		t.Fatal("the written file does not keep the module out of p11-kit-proxy")
	}
	if enRead(t, pkg) != shipped {
		t.Fatal("disable nss changed the package's module file")
	}
	code, out, _ = enRun(t, append([]string{"disable", "nss"}, args...)...)
	if code != 0 || !strings.Contains(out, "nothing changed") || enRead(t, over) != p11kitOverride {
		t.Fatalf("second disable nss: exit %d\n%s", code, out)
	}

	code, out, _ = enRun(t, append([]string{"enable", "nss"}, args...)...)
	if code != 0 || !strings.Contains(out, "p11-kit-proxy loads the module") {
		t.Fatalf("enable nss: exit %d\n%s", code, out)
	}
	if enExists(over) {
		t.Fatal("enable nss left disable's p11-kit file")
	}
	if enRead(t, pkg) != shipped {
		t.Fatal("enable nss changed the package's module file")
	}

	// An administrator's file that lets the proxy load the module: left
	// alone, and disable says it could not finish.
	const mine = "# mine\nmodule: /opt/other.so\n"
	enWrite(t, over, mine)
	code, _, stderr := enRun(t, append([]string{"disable", "nss"}, args...)...)
	if code == 0 || !strings.Contains(stderr, "not written by revocheck") || enRead(t, over) != mine {
		t.Fatalf("disable nss over the administrator's file: exit %d\n%s", code, stderr)
	}
	if code, _, _ := enRun(t, append([]string{"enable", "nss"}, args...)...); code != 0 || enRead(t, over) != mine {
		t.Fatal("enable nss removed or failed on the administrator's file")
	}
	// One that already keeps it out: fine as it is.
	const keepsOut = "disable-in: p11-kit-proxy\n"
	enWrite(t, over, keepsOut)
	if code, _, _ := enRun(t, append([]string{"disable", "nss"}, args...)...); code != 0 || enRead(t, over) != keepsOut {
		t.Fatal("disable nss with an administrator's file that keeps the module out")
	}
}

func TestP11KitKeepsOut(t *testing.T) {
	for _, c := range []struct {
		conf string
		out  bool
	}{
		{"module: x\n", false},
		{"enable-in:\n", true},
		{"enable-in: firefox\n", true},
		{"enable-in: firefox, p11-kit-proxy\n", false},
		{"disable-in: p11-kit-proxy\n", true},
		{"disable-in: firefox\n", false},
		{"# enable-in:\nmodule: x\n", false},
		// p11-kit decides by enable-in: when both are present.
		{"enable-in: p11-kit-proxy\ndisable-in: p11-kit-proxy\n", false},
	} {
		if got := p11kitKeepsOut(parseP11KitConf(c.conf)) != ""; got != c.out {
			t.Errorf("%q: keeps out %v, want %v", c.conf, got, c.out)
		}
	}
}
