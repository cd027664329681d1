package harness

import (
	"os"
	"os/exec"
	"testing"
)

// RequireAllEnv names the variable `make test` sets: with it set to 1 a
// missing client, library or tool fails the test instead of skipping it,
// so a CI run cannot pass having exercised no real client.
const RequireAllEnv = "REVOCHECK_REQUIRE_ALL"

// Packages maps the programs the tests run to the Debian package that
// installs them (scripts/deps.sh installs every one of them).
var Packages = map[string]string{
	"c++":                     "g++",
	"cc":                      "gcc",
	"certutil":                "libnss3-tools",
	"curl":                    "curl",
	"firefox":                 "firefox-esr",
	"firefox-esr":             "firefox-esr",
	"git":                     "git",
	"gnutls-cli":              "gnutls-bin",
	"make":                    "make",
	"modutil":                 "libnss3-tools",
	"nm":                      "binutils",
	"openssl":                 "openssl",
	"python3":                 "python3",
	"setpriv":                 "util-linux",
	"systemd-socket-activate": "systemd",
	"tstclnt":                 "libnss3-tools",
	"vfychain":                "libnss3-tools",
	"wget":                    "wget",
}

// RequireAll reports whether missing prerequisites fail tests (make test).
func RequireAll() bool { return os.Getenv(RequireAllEnv) == "1" }

// Missing stops the test because what is not there; fix is the command
// that provides it. Under make test (REVOCHECK_REQUIRE_ALL=1) that is a
// failure, elsewhere a skip; both say what to run.
func Missing(t testing.TB, what, fix string) {
	t.Helper()
	if RequireAll() {
		t.Fatalf("MISSING: %s; run: %s (%s=1: make test runs every real-client test)", what, fix, RequireAllEnv)
	}
	t.Skipf("SKIP: %s; run: %s", what, fix)
}

// Require returns the path of program name, or stops the test naming the
// Debian package pkg to install ("" looks name up in Packages).
func Require(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" is not installed", "apt-get install "+pkgFor(name, pkg))
	}
	return p
}

// RequireFile checks a library or data file another package provides.
func RequireFile(t testing.TB, path, pkg string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		Missing(t, path+" is not installed", "apt-get install "+pkg)
	}
}

func pkgFor(name, pkg string) string {
	if pkg != "" {
		return pkg
	}
	if p, ok := Packages[name]; ok {
		return p
	}
	return "the package providing " + name
}
