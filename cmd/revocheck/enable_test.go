package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/revocheck/revocheck/integration/harness"
)

// Every test here works in a temporary root (--root): nothing touches the
// real /etc.

// debianOpenSSLCnf is the provider part of Debian bookworm's openssl.cnf.
const debianOpenSSLCnf = `HOME = .
openssl_conf = openssl_init

[openssl_init]
providers = provider_sect
ssl_conf = ssl_sect

[provider_sect]
default = default_sect

[default_sect]
# activate = 1

[ssl_sect]
system_default = system_default_sect

[system_default_sect]
CipherString = DEFAULT:@SECLEVEL=2
`

// enRun runs `revocheck enable|disable ARGS` in-process and reports the
// exit status main would give.
func enRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	f := cmdEnable
	if args[0] == "disable" {
		f = cmdDisable
	}
	if err := f(args[1:], &o, &e); err != nil {
		fmt.Fprintf(&e, "revocheck: %s\n", err)
		code = 1
	}
	t.Logf("revocheck %s → %d\n%s%s", strings.Join(args, " "), code, o.String(), e.String())
	return code, o.String(), e.String()
}

func enWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func enRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func enExists(path string) bool { _, err := os.Lstat(path); return err == nil }

// opensslRoot makes a root laid out like Debian: OPENSSLDIR /usr/lib/ssl
// whose openssl.cnf is an absolute symlink to /etc/ssl/openssl.cnf.
func opensslRoot(t *testing.T, cnf string) (root, conf string) {
	root = t.TempDir()
	conf = filepath.Join(root, "etc/ssl/openssl.cnf")
	enWrite(t, conf, cnf)
	enWrite(t, filepath.Join(root, "etc/ssl/revocheck-openssl.cnf"), "[ revocheck_sect ]\nactivate = 1\n")
	if err := os.MkdirAll(filepath.Join(root, "usr/lib/ssl"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/ssl/openssl.cnf", filepath.Join(root, "usr/lib/ssl/openssl.cnf")); err != nil {
		t.Fatal(err)
	}
	return root, conf
}

func TestEnableOpenSSLRoundTrip(t *testing.T) {
	root, conf := opensslRoot(t, debianOpenSSLCnf)
	args := []string{"--root", root, "--openssl-dir", "/usr/lib/ssl"}
	if code, _, _ := enRun(t, append([]string{"enable", "openssl"}, args...)...); code != 0 {
		t.Fatalf("enable openssl: exit %d", code)
	}
	got := enRead(t, conf)
	want := debianOpenSSLCnf + blockBegin + "\n.include /etc/ssl/revocheck-openssl.cnf\n" + blockEnd + "\n"
	if got != want {
		t.Fatalf("openssl.cnf after enable:\n%s\nwant:\n%s", got, want)
	}
	if fi, err := os.Lstat(filepath.Join(root, "usr/lib/ssl/openssl.cnf")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the OPENSSLDIR symlink was replaced: %v", err)
	}
	if b := enRead(t, conf+backupSuffix); b != debianOpenSSLCnf {
		t.Fatalf("backup holds %q, want the original", b)
	}
	// Idempotent: a second run changes nothing.
	code, out, _ := enRun(t, append([]string{"enable", "openssl"}, args...)...)
	if code != 0 || !strings.Contains(out, "already enabled") || enRead(t, conf) != want {
		t.Fatalf("second enable: exit %d, %q; file changed: %v", code, out, enRead(t, conf) != want)
	}
	if code, _, _ := enRun(t, append([]string{"disable", "openssl"}, args...)...); code != 0 {
		t.Fatalf("disable openssl: exit %d", code)
	}
	if got := enRead(t, conf); got != debianOpenSSLCnf {
		t.Fatalf("disable did not restore the original:\n%s", got)
	}
	// Disabling again is a no-op.
	code, out, _ = enRun(t, append([]string{"disable", "openssl"}, args...)...)
	if code != 0 || !strings.Contains(out, "nothing changed") {
		t.Fatalf("second disable: exit %d, %q", code, out)
	}
	// The first original stays the backup.
	if b := enRead(t, conf+backupSuffix); b != debianOpenSSLCnf {
		t.Fatalf("backup changed: %q", b)
	}
}

func TestEnableOpenSSLNoTrailingNewline(t *testing.T) {
	orig := strings.TrimSuffix(debianOpenSSLCnf, "\n")
	root, conf := opensslRoot(t, orig)
	args := []string{"--root", root, "--openssl-dir", "/usr/lib/ssl"}
	if code, _, _ := enRun(t, append([]string{"enable", "openssl"}, args...)...); code != 0 {
		t.Fatal("enable failed")
	}
	if !strings.Contains(enRead(t, conf), "SECLEVEL=2\n"+blockBegin+"\n") {
		t.Fatalf("block not on its own line:\n%s", enRead(t, conf))
	}
	if code, _, _ := enRun(t, append([]string{"disable", "openssl"}, args...)...); code != 0 {
		t.Fatal("disable failed")
	}
	if got := enRead(t, conf); got != orig+"\n" {
		t.Fatalf("after disable: %q", got)
	}
}

// TestEnableOpenSSLRefuses: configurations the snippet would silently
// override are left alone, byte for byte, with no backup written.
func TestEnableOpenSSLRefuses(t *testing.T) {
	cases := []struct {
		name, cnf, want string
		extra           map[string]string // more files in the root
	}{
		{"other init section", "openssl_conf = my_init\n[my_init]\nproviders = p\n", "openssl_conf = my_init", nil},
		{"other providers section", "openssl_conf = openssl_init\n[openssl_init]\nproviders = my_providers\n", "providers = my_providers", nil},
		{"default provider elsewhere", "openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n[provider_sect]\ndefault = mine\n", "default = mine", nil},
		{"revocheck configured by hand", debianOpenSSLCnf + "[provider_sect]\nrevocheck = rc\n", "already configures a provider named revocheck", nil},
		{"explicit section syntax", "openssl_conf = openssl_init\nopenssl_init::providers = elsewhere\n", "providers = elsewhere", nil},
		{"setting in an included file", debianOpenSSLCnf + ".include /etc/ssl/conf.d\n", "openssl_conf = other",
			map[string]string{"etc/ssl/conf.d/10-local.cnf": "[default]\nopenssl_conf = other\n"}},
		{"relative include", debianOpenSSLCnf + ".include local.cnf\n", "relative .include", nil},
		{"unterminated header", "[openssl_init\n", "section header", nil},
		{"garbage line", debianOpenSSLCnf + "this is not a setting\n", "neither a section", nil},
		{"binary", "openssl_conf = openssl_init\x00\n", "binary", nil},
		{"damaged block", debianOpenSSLCnf + blockBegin + "\n.include /etc/ssl/revocheck-openssl.cnf\n", "without its", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, conf := opensslRoot(t, c.cnf)
			for p, d := range c.extra {
				enWrite(t, filepath.Join(root, p), d)
			}
			code, _, stderr := enRun(t, "enable", "openssl", "--root", root, "--openssl-dir", "/usr/lib/ssl")
			if code == 0 || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want a refusal mentioning %q", code, stderr, c.want)
			}
			if enRead(t, conf) != c.cnf {
				t.Fatal("openssl.cnf changed despite the refusal")
			}
			if enExists(conf + backupSuffix) {
				t.Fatal("a backup was written although nothing changed")
			}
		})
	}
}

func TestEnableOpenSSLPreconditions(t *testing.T) {
	root, conf := opensslRoot(t, debianOpenSSLCnf)
	os.Remove(filepath.Join(root, "etc/ssl/revocheck-openssl.cnf"))
	code, _, stderr := enRun(t, "enable", "openssl", "--root", root, "--openssl-dir", "/usr/lib/ssl")
	if code == 0 || !strings.Contains(stderr, "not installed") || enRead(t, conf) != debianOpenSSLCnf {
		t.Fatalf("missing snippet: exit %d %q", code, stderr)
	}
	// No openssl.cnf at all: we do not invent one.
	root = t.TempDir()
	enWrite(t, filepath.Join(root, "etc/ssl/revocheck-openssl.cnf"), "\n")
	code, _, stderr = enRun(t, "enable", "openssl", "--root", root, "--openssl-dir", "/etc/ssl")
	if code == 0 || !strings.Contains(stderr, "does not exist") || enExists(filepath.Join(root, "etc/ssl/openssl.cnf")) {
		t.Fatalf("missing openssl.cnf: exit %d %q", code, stderr)
	}
}

// TestEnableOpenSSLKeepsOwnBlockCurrent: a block naming another snippet path
// (an older install) is rewritten in place, not duplicated.
func TestEnableOpenSSLKeepsOwnBlockCurrent(t *testing.T) {
	old := debianOpenSSLCnf + blockBegin + "\n.include /usr/local/etc/ssl/revocheck-openssl.cnf\n" + blockEnd + "\n# trailer\n"
	root, conf := opensslRoot(t, old)
	if code, _, _ := enRun(t, "enable", "openssl", "--root", root, "--openssl-dir", "/usr/lib/ssl"); code != 0 {
		t.Fatal("enable failed")
	}
	want := debianOpenSSLCnf + blockBegin + "\n.include /etc/ssl/revocheck-openssl.cnf\n" + blockEnd + "\n# trailer\n"
	if got := enRead(t, conf); got != want {
		t.Fatalf("got:\n%s", got)
	}
}

// TestEnableOpenSSLWithRealOpenSSL edits a copy of this machine's real
// openssl.cnf and asks the openssl command what it loads from the result:
// the default provider must stay active, and revocheck's provider (from
// this build) must be listed.
func TestEnableOpenSSLWithRealOpenSSL(t *testing.T) {
	opensslBin := harness.Require(t, "openssl", "openssl")
	info := runQuiet(nil, opensslBin, "version", "-d")
	sysConf := filepath.Join(opensslField(info, "OPENSSLDIR"), "openssl.cnf")
	data, err := os.ReadFile(sysConf)
	if err != nil {
		harness.Missing(t, fmt.Sprintf("no system openssl.cnf to copy (%v)", err), "apt-get install openssl")
	}
	module := filepath.Join(enBuildDir(t), "lib", "revocheck-openssl.so")
	if _, err := os.Stat(module); err != nil {
		harness.Missing(t, module+" is not built", "make all")
	}
	dir := t.TempDir()
	snippet := filepath.Join(dir, "revocheck-openssl.cnf")
	shipped := enRead(t, filepath.Join("..", "..", "openssl-provider", "revocheck-openssl.cnf"))
	shipped = strings.Replace(shipped, "module = revocheck-openssl.so", "module = "+module, 1)
	enWrite(t, snippet, shipped)
	o := &enableOpts{root: "/", snippet: snippet}
	newData, what, err := o.planOpenSSLEnable(data, sysConf)
	if err != nil {
		t.Fatalf("this machine's openssl.cnf is refused: %v", err)
	}
	if newData == nil {
		t.Fatalf("no change planned: %s", what)
	}
	conf := filepath.Join(dir, "openssl.cnf")
	enWrite(t, conf, string(newData))
	cmd := exec.Command(opensslBin, "list", "-providers")
	cmd.Env = append(os.Environ(), "OPENSSL_CONF="+conf)
	out, err := cmd.CombinedOutput()
	t.Logf("openssl list -providers:\n%s", out)
	if err != nil {
		t.Fatalf("openssl cannot load the edited configuration: %v", err)
	}
	p := listedProviders(string(out))
	if _, ok := p["revocheck"]; p["default"] != "active" || !ok {
		t.Fatalf("providers %v: want default active and revocheck listed", p)
	}
}

// enBuildDir is the build directory of this tree ($REVOCHECK_BUILD from make).
func enBuildDir(t *testing.T) string {
	if b := os.Getenv("REVOCHECK_BUILD"); b != "" {
		return b
	}
	abs, err := filepath.Abs(filepath.Join("..", "..", "build"))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func TestListedProviders(t *testing.T) {
	// As OpenSSL 3.0 prints it, the provider's notice on stderr first.
	out := "revocheck (openssl-provider): no revocation data\nProviders:\n" +
		"  default\n    name: OpenSSL Default Provider\n    version: 3.0.16\n    status: active\n" +
		"  revocheck\n    name: revocheck revocation checking provider\n    version: 0.1.0\n    status: inactive\n"
	p := listedProviders(out)
	if len(p) != 2 || p["default"] != "active" || p["revocheck"] != "inactive" {
		t.Fatalf("got %v", p)
	}
}

// realSharedObject finds some ELF shared library of this machine to stand
// in for the GnuTLS hook (enable checks the file is one).
func realSharedObject(t *testing.T) []byte {
	var cands []string
	for _, g := range []string{"/usr/lib/*/libc.so.6", "/lib/*/libc.so.6", "/usr/lib64/libc.so.6", "/lib64/libc.so.6"} {
		m, _ := filepath.Glob(g)
		cands = append(cands, m...)
	}
	cands = append([]string{filepath.Join(enBuildDir(t), "lib", gnutlsHookName)}, cands...)
	for _, c := range cands {
		if b, err := os.ReadFile(c); err == nil && checkELF(c) == nil {
			return b
		}
	}
	harness.Missing(t, "no ELF shared object of this machine's class found to stand in for the hook", "make all")
	return nil
}

func gnutlsRoot(t *testing.T) (root, libdir string) {
	root = t.TempDir()
	libdir = "/usr/lib/" + multiarch()
	if multiarch() == "" {
		libdir = "/usr/lib"
	}
	p := filepath.Join(root, libdir, gnutlsHookName)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, realSharedObject(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, libdir
}

func TestEnableGnuTLSRoundTrip(t *testing.T) {
	root, libdir := gnutlsRoot(t)
	preload := filepath.Join(root, "etc/ld.so.preload")
	orig := "/usr/lib/libother.so\n"
	enWrite(t, preload, orig)
	args := []string{"--root", root, "--prefix", "/usr"}
	if code, _, _ := enRun(t, append([]string{"enable", "gnutls"}, args...)...); code != 0 {
		t.Fatal("enable gnutls failed")
	}
	want := orig + filepath.Join(libdir, gnutlsHookName) + "\n"
	if got := enRead(t, preload); got != want {
		t.Fatalf("ld.so.preload:\n%s\nwant:\n%s", got, want)
	}
	if enRead(t, preload+backupSuffix) != orig {
		t.Fatal("backup is not the original")
	}
	code, out, _ := enRun(t, append([]string{"enable", "gnutls"}, args...)...)
	if code != 0 || !strings.Contains(out, "nothing changed") || enRead(t, preload) != want {
		t.Fatal("second enable was not a no-op")
	}
	if code, _, _ := enRun(t, append([]string{"disable", "gnutls"}, args...)...); code != 0 {
		t.Fatal("disable gnutls failed")
	}
	if got := enRead(t, preload); got != orig {
		t.Fatalf("after disable: %q, want %q", got, orig)
	}
}

func TestEnableGnuTLSCreatesAndRemovesPreload(t *testing.T) {
	root, libdir := gnutlsRoot(t)
	preload := filepath.Join(root, "etc/ld.so.preload")
	// Flags after the stack name, explicit --libdir.
	if code, _, _ := enRun(t, "enable", "gnutls", "--root", root, "--libdir", libdir); code != 0 {
		t.Fatal("enable failed")
	}
	if got := enRead(t, preload); got != filepath.Join(libdir, gnutlsHookName)+"\n" {
		t.Fatalf("created ld.so.preload: %q", got)
	}
	if fi, _ := os.Stat(preload); fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, want 0644 (ld.so reads it for every user)", fi.Mode().Perm())
	}
	if enExists(preload + backupSuffix) {
		t.Fatal("backup of a file that did not exist")
	}
	if code, _, _ := enRun(t, "disable", "gnutls", "--root", root); code != 0 {
		t.Fatal("disable failed")
	}
	if enExists(preload) {
		t.Fatal("an empty ld.so.preload was left behind")
	}
}

func TestDisableGnuTLSKeepsOtherEntries(t *testing.T) {
	root := t.TempDir()
	preload := filepath.Join(root, "etc/ld.so.preload")
	enWrite(t, preload, "# local\n/lib/a.so /usr/lib/x86_64-linux-gnu/librevocheck-gnutls.so:/lib/b.so\n/lib/c.so\n")
	if code, _, _ := enRun(t, "disable", "gnutls", "--root", root); code != 0 {
		t.Fatal("disable failed")
	}
	if got, want := enRead(t, preload), "# local\n/lib/a.so /lib/b.so\n/lib/c.so\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestEnableGnuTLSRefuses(t *testing.T) {
	t.Run("library missing", func(t *testing.T) {
		root := t.TempDir()
		code, _, stderr := enRun(t, "enable", "gnutls", "--root", root, "--prefix", "/usr")
		if code == 0 || !strings.Contains(stderr, "not found") || enExists(filepath.Join(root, "etc/ld.so.preload")) {
			t.Fatalf("exit %d %q", code, stderr)
		}
	})
	t.Run("not a shared object", func(t *testing.T) {
		root := t.TempDir()
		enWrite(t, filepath.Join(root, "usr/lib", gnutlsHookName), "#!/bin/sh\n")
		code, _, stderr := enRun(t, "enable", "gnutls", "--root", root, "--libdir", "/usr/lib")
		if code == 0 || !strings.Contains(stderr, "not an ELF") || enExists(filepath.Join(root, "etc/ld.so.preload")) {
			t.Fatalf("exit %d %q", code, stderr)
		}
	})
	t.Run("another copy preloaded", func(t *testing.T) {
		root, libdir := gnutlsRoot(t)
		orig := "/opt/old/lib/librevocheck-gnutls.so\n"
		enWrite(t, filepath.Join(root, "etc/ld.so.preload"), orig)
		code, _, stderr := enRun(t, "enable", "gnutls", "--root", root, "--libdir", libdir)
		if code == 0 || !strings.Contains(stderr, "another copy") || enRead(t, filepath.Join(root, "etc/ld.so.preload")) != orig {
			t.Fatalf("exit %d %q", code, stderr)
		}
	})
}

func TestEnableUsage(t *testing.T) {
	if code, _, stderr := enRun(t, "enable"); code == 0 || !strings.Contains(stderr, "name a TLS stack") {
		t.Fatalf("no stack: exit %d", code)
	}
	if code, _, stderr := enRun(t, "enable", "schannel", "--root", t.TempDir()); code == 0 || !strings.Contains(stderr, "unknown TLS stack") {
		t.Fatalf("unknown stack: exit %d", code)
	}
}

func TestResolveInRoot(t *testing.T) {
	root := t.TempDir()
	enWrite(t, filepath.Join(root, "etc/real.cnf"), "x")
	os.MkdirAll(filepath.Join(root, "a"), 0o755)
	os.Symlink("/etc/real.cnf", filepath.Join(root, "a/abs"))
	os.Symlink("abs", filepath.Join(root, "a/rel"))
	os.Symlink("loop", filepath.Join(root, "a/loop"))
	o := &enableOpts{root: root}
	for _, p := range []string{"/a/abs", "/a/rel"} {
		got, err := o.resolveInRoot(p)
		if err != nil || got != filepath.Join(root, "etc/real.cnf") {
			t.Errorf("%s → %q, %v", p, got, err)
		}
	}
	if _, err := o.resolveInRoot("/a/loop"); err == nil {
		t.Error("symlink loop not detected")
	}
}

// nssRoot puts a PKCS#11 module that NSS can load where enable looks for
// revocheck's: this build's module, else p11-kit's trust module.
func nssRoot(t *testing.T) (root string) {
	for _, tool := range []string{"certutil", "modutil"} {
		harness.Require(t, tool, "libnss3-tools")
	}
	cands := []string{filepath.Join(enBuildDir(t), "lib", nssModuleFile)}
	if ma := multiarch(); ma != "" {
		cands = append(cands, filepath.Join("/usr/lib", ma, "pkcs11", "p11-kit-trust.so"))
	}
	for _, c := range cands {
		b, err := os.ReadFile(c)
		if err != nil {
			continue
		}
		root = t.TempDir()
		enWrite(t, filepath.Join(root, "usr/lib/pkcs11", nssModuleFile), string(b))
		return root
	}
	harness.Missing(t, "no loadable PKCS#11 module found", "make all (it builds nss-module)")
	return ""
}

func TestEnableNSSSystemRoundTrip(t *testing.T) {
	root := nssRoot(t)
	db := filepath.Join(root, "etc/pki/nssdb")
	args := []string{"--root", root, "--libdir", "/usr/lib"}
	code, out, _ := enRun(t, append([]string{"enable", "nss"}, args...)...)
	if code != 0 || !strings.Contains(out, "created the NSS database") {
		t.Fatalf("enable nss: exit %d", code)
	}
	// modutil loaded the tree's copy; the database names the path the
	// tree's own system sees.
	mods, err := nssModules(db)
	if err != nil || mods[nssModuleName] != filepath.Join("/usr/lib/pkcs11", nssModuleFile) {
		t.Fatalf("modules after enable: %v %v", mods, err)
	}
	for _, f := range []string{"cert9.db", "key4.db", "pkcs11.txt"} {
		if fi, err := os.Stat(filepath.Join(db, f)); err != nil || fi.Mode().Perm()&0o044 != 0o044 {
			t.Errorf("%s is not readable by every user: %v", f, err)
		}
	}
	code, out, _ = enRun(t, append([]string{"enable", "nss"}, args...)...)
	if code != 0 || !strings.Contains(out, "already registered") {
		t.Fatalf("second enable: exit %d", code)
	}
	before := enRead(t, filepath.Join(db, "pkcs11.txt"))
	if code, _, _ := enRun(t, append([]string{"disable", "nss"}, args...)...); code != 0 {
		t.Fatal("disable nss failed")
	}
	mods, err = nssModules(db)
	if _, still := mods[nssModuleName]; err != nil || still {
		t.Fatalf("module still registered after disable: %v %v", mods, err)
	}
	if enRead(t, filepath.Join(db, "pkcs11.txt")+backupSuffix) != before {
		t.Fatal("backup of pkcs11.txt is not the state before the first change to it")
	}
	code, out, _ = enRun(t, append([]string{"disable", "nss"}, args...)...)
	if code != 0 || !strings.Contains(out, "not registered") {
		t.Fatalf("second disable: exit %d", code)
	}
}

func TestEnableNSSUser(t *testing.T) {
	root := nssRoot(t)
	home := "/home/tester"
	t.Setenv("HOME", home)
	if code, _, _ := enRun(t, "enable", "nss", "--user", "--root", root, "--libdir", "/usr/lib"); code != 0 {
		t.Fatal("enable --user failed")
	}
	if mods, err := nssModules(filepath.Join(root, home, ".pki/nssdb")); err != nil || mods[nssModuleName] == "" {
		t.Fatalf("user database: %v %v", mods, err)
	}
	if enExists(filepath.Join(root, "etc/pki/nssdb")) {
		t.Fatal("--user alone touched the system database")
	}
	if code, _, _ := enRun(t, "disable", "nss", "--user", "--root", root); code != 0 {
		t.Fatal("disable --user failed")
	}
}

func TestEnableNSSRefusesMissingModule(t *testing.T) {
	harness.Require(t, "modutil", "libnss3-tools")
	root := t.TempDir()
	code, _, stderr := enRun(t, "enable", "nss", "--root", root, "--prefix", "/usr")
	if code == 0 || !strings.Contains(stderr, "not found") || enExists(filepath.Join(root, "etc/pki")) {
		t.Fatalf("exit %d %q", code, stderr)
	}
}

func TestCheckELF(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"empty": "", "text": "hello world, not elf at all", "short": "\x7fELF"} {
		p := filepath.Join(dir, name)
		enWrite(t, p, data)
		if checkELF(p) == nil {
			t.Errorf("%s accepted as a shared object", name)
		}
	}
}

// TestEnableBackupsUser: the per-user NSS database's backup is reported
// (the system paths are only read).
func TestEnableBackupsUser(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	b := filepath.Join(home, ".pki/nssdb/pkcs11.txt"+backupSuffix)
	if got := enableBackups()["nss"]; len(got) != 0 && got[len(got)-1] == b {
		t.Fatalf("reported %v before the backup exists", got)
	}
	enWrite(t, b, "library=\n")
	got := enableBackups()["nss"]
	if len(got) == 0 || got[len(got)-1] != b {
		t.Fatalf("nss backups %v, want %s listed", got, b)
	}
}
