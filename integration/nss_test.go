package integration

// Real NSS clients against the harness sites, with an NSS database in which
// the trust module is registered by modutil, exactly as docs/NSS.md tells
// users: tstclnt, vfychain, and libcurl's NSS back end (curl-nss-driver).
// Without the module every site connects; with it, the certificates revoked
// in the compiled CRLs are refused with NSS's own errors.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/revocheck/revocheck/integration/harness"
)

const (
	secUntrustedCert   = "SEC_ERROR_UNTRUSTED_CERT"
	secUntrustedIssuer = "SEC_ERROR_UNTRUSTED_ISSUER"
)

// nssTool stops the test when an NSS client program is missing (harness.Require).
func nssTool(t *testing.T, name string) string {
	t.Helper()
	return harness.Require(t, name, "libnss3-tools")
}

// nssRun runs a command with stdin, echoing it, with a 60 s timeout that
// kills the process group.
func nssRun(t *testing.T, extraEnv []string, stdin string, name string, args ...string) (string, error) {
	t.Helper()
	t.Logf("$ %s %s %s", strings.Join(extraEnv, " "), name, strings.Join(args, " "))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	// No check daemon unless a test starts one (REVOCHECK_SOCKET in
	// extraEnv, which wins): a daemon running on this machine must not
	// answer for the test's cache.
	cmd.Env = append(append(os.Environ(), "REVOCHECK_SOCKET=none"), extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A regular file, not a pipe: tstclnt does not exit after the server
	// closes while a pipe on its stdin is still open.
	in := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(in, []byte(stdin), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd.Stdin = f
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after 60s: %w", err)
	}
	t.Logf("%s(exit: %v)", out, err)
	return string(out), err
}

// nssDB makes an NSS database trusting the harness root, with the revocheck
// module registered when withModule is set. Returns "sql:DIR".
func nssDB(t *testing.T, env *harness.Env, withModule bool) string {
	t.Helper()
	module := ""
	if withModule {
		module = "cache-dir=" + env.CacheDir
	}
	return nssDBWith(t, env, module)
}

// nssDBWith is nssDB with the module registered with that module string
// ("": no module).
func nssDBWith(t *testing.T, env *harness.Env, module string) string {
	t.Helper()
	withModule := module != ""
	certutil, modutil := nssTool(t, "certutil"), nssTool(t, "modutil")
	dir := filepath.Join(t.TempDir(), "nssdb")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := "sql:" + dir
	if out, err := nssRun(t, nil, "", certutil, "-N", "--empty-password", "-d", db); err != nil {
		t.Fatalf("certutil -N: %v\n%s", err, out)
	}
	if out, err := nssRun(t, nil, "", certutil, "-A", "-n", "revocheck test root", "-t", "C,,", "-a", "-i", env.RootPEM, "-d", db); err != nil {
		t.Fatalf("certutil -A: %v\n%s", err, out)
	}
	if withModule {
		lib := filepath.Join(env.Build, "lib", nssModuleLibraryName)
		out, err := nssRun(t, nil, "", modutil, "-add", "revocheck", "-libfile", lib,
			"-string", module, "-dbdir", db, "-force")
		if err != nil {
			t.Fatalf("modutil -add: %v\n%s", err, out)
		}
		out, err = nssRun(t, nil, "", modutil, "-list", "-dbdir", db)
		if err != nil || !strings.Contains(out, "library-description=revocheck%20revocation%20trust") || !strings.Contains(out, "token: revocheck revocation") {
			t.Fatalf("modutil -list does not show the loaded module: %v\n%s", err, out)
		}
	}
	return db
}

// want is a verdict: "" = connects, otherwise the NSS error expected.
var nssVerdicts = map[string]string{
	"good":        "",
	"uncovered":   "",
	"unenrolled":  "",
	"revoked":     secUntrustedCert, // in the clubcard and in the intermediate's CRL
	"crl-revoked": secUntrustedCert, // only in the intermediate's CRL
	"revoked-int": secUntrustedIssuer,
}

func TestNSSTstclnt(t *testing.T) {
	tstclnt := nssTool(t, "tstclnt")
	env := harness.New(t)
	for _, withModule := range []bool{false, true} {
		db := nssDB(t, env, withModule)
		for name, want := range nssVerdicts {
			if !withModule {
				want = ""
			}
			site := env.Sites[name]
			out, err := nssRun(t, nil, "GET / HTTP/1.0\r\n\r\n", tstclnt,
				"-h", "127.0.0.1", "-p", fmt.Sprint(site.Port), "-d", db)
			hello := strings.Contains(out, "hello from "+name)
			switch {
			case want == "" && (err != nil || !hello):
				t.Errorf("module=%v %s: tstclnt refused a site it must accept: %v", withModule, name, err)
			case want != "" && (err == nil || hello || !strings.Contains(out, want)):
				t.Errorf("module=%v %s: want %s, got exit %v", withModule, name, want, err)
			}
		}
	}
}

func TestNSSVfychain(t *testing.T) {
	vfychain := nssTool(t, "vfychain")
	env := harness.New(t)
	for _, withModule := range []bool{false, true} {
		db := nssDB(t, env, withModule)
		for name, want := range nssVerdicts {
			if !withModule {
				want = ""
			}
			site := env.Sites[name]
			dir := t.TempDir()
			leaf, inter := filepath.Join(dir, "leaf.der"), filepath.Join(dir, "int.der")
			if err := os.WriteFile(leaf, site.Leaf, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(inter, site.Issuer, 0o644); err != nil {
				t.Fatal(err)
			}
			// Classic verification names the error by number; libpkix
			// (-pp) only says the chain is bad.
			for _, mode := range [][]string{nil, {"-pp"}} {
				args := append(append([]string{"-d", db, "-u", "1"}, mode...), leaf, inter)
				out, err := nssRun(t, nil, "", vfychain, args...)
				good := strings.Contains(out, "Chain is good!")
				switch {
				case want == "" && (err != nil || !good):
					t.Errorf("module=%v %s %v: vfychain rejected a good chain: %v", withModule, name, mode, err)
				case want != "" && mode == nil && (good || err == nil || !strings.Contains(out, "ERROR "+secCode[want])):
					t.Errorf("module=%v %s: want ERROR %s (%s), got exit %v", withModule, name, secCode[want], want, err)
				case want != "" && mode != nil && (good || !strings.Contains(out, "Chain is bad!")):
					t.Errorf("module=%v %s -pp: want a bad chain", withModule, name)
				}
			}
		}
	}
}

// secCode is the number vfychain prints for an NSS error.
var secCode = map[string]string{secUntrustedCert: "-8171", secUntrustedIssuer: "-8172"}

func TestNSSCurl(t *testing.T) {
	driver := filepath.Join(harness.BuildDir(), "test", "curl-nss-driver")
	if _, err := os.Stat(driver); err != nil {
		t.Fatalf("%s missing (run make test-drivers): %v", driver, err)
	}
	env := harness.New(t)
	for _, withModule := range []bool{false, true} {
		db := nssDB(t, env, withModule)
		for name, want := range nssVerdicts {
			if !withModule {
				want = ""
			}
			// libcurl-nss takes a plain directory and tries "sql:" itself.
			out, err := nssRun(t, []string{"SSL_DIR=" + strings.TrimPrefix(db, "sql:")}, "", driver, env.Sites[name].URL)
			if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 77 {
				harness.Missing(t, "libcurl's NSS back end is not installed ("+strings.TrimSpace(out)+")", "apt-get install libcurl3-nss")
			}
			hello := strings.Contains(out, "hello from "+name)
			switch {
			case want == "" && (err != nil || !hello):
				t.Errorf("module=%v %s: curl-nss refused a site it must accept: %v", withModule, name, err)
			case want != "" && (err == nil || hello || !strings.Contains(out, "curl error 60") || !strings.Contains(out, "not trusted")):
				t.Errorf("module=%v %s: want a CURLE_PEER_FAILED_VERIFICATION 'not trusted' refusal, got %v", withModule, name, err)
			}
		}
	}
}

// TestNSSFirefox loads the module into a fresh Firefox profile (modutil on
// the profile's database, as a user or an enterprise policy would) and
// drives headless Firefox through Marionette: revoked sites end on the
// certificate error page with NSS's error, the others load.
func TestNSSFirefox(t *testing.T) {
	firefox := ""
	for _, name := range []string{"firefox-esr", "firefox"} {
		if p, err := exec.LookPath(name); err == nil {
			firefox = p
			break
		}
	}
	if firefox == "" {
		harness.Missing(t, "firefox-esr is not installed", "apt-get install firefox-esr")
	}
	env := harness.New(t)
	for _, withModule := range []bool{false, true} {
		db := nssDB(t, env, withModule)
		got := firefoxVisit(t, firefox, strings.TrimPrefix(db, "sql:"), env)
		for name, want := range nssVerdicts {
			if !withModule {
				want = ""
			}
			if got[name] != want {
				t.Errorf("module=%v %s: Firefox got %q, want %q", withModule, name, got[name], want)
			}
		}
	}
}

// firefoxVisit starts headless Firefox on profile and visits every site;
// the result maps a site to "" (loaded, with the expected body) or the
// certificate error code of the error page.
func firefoxVisit(t *testing.T, firefox, profile string, env *harness.Env) map[string]string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	prefs := []string{
		`user_pref("marionette.port", ` + strconv.Itoa(port) + `);`,
		`user_pref("app.update.enabled", false);`,
		`user_pref("browser.shell.checkDefaultBrowser", false);`,
		`user_pref("datareporting.policy.dataSubmissionEnabled", false);`,
		`user_pref("toolkit.telemetry.enabled", false);`,
		`user_pref("network.captive-portal-service.enabled", false);`,
		`user_pref("security.OCSP.enabled", 0);`,
		`user_pref("services.settings.server", "http://127.0.0.1:9/");`,
	}
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(strings.Join(prefs, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("$ %s --headless --marionette --no-remote -profile %s", firefox, profile)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, firefox, "--headless", "--marionette", "--no-remote", "-profile", profile)
	cmd.Env = append(os.Environ(), "MOZ_HEADLESS=1", "HOME="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		if t.Failed() {
			t.Logf("firefox output:\n%s", log.String())
		}
	}()
	var conn net.Conn
	for i := 0; i < 120; i++ {
		if conn, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("marionette did not come up: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(100 * time.Second))
	m := &marionette{c: conn, r: bufio.NewReader(conn)}
	if _, err := m.read(); err != nil {
		t.Fatalf("marionette hello: %v", err)
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{"acceptInsecureCerts": false}}}
	if e, _, err := m.cmd("WebDriver:NewSession", caps); err != nil || e != nil {
		t.Fatalf("NewSession: %v %s", err, e)
	}
	got := map[string]string{}
	for name, site := range env.Sites {
		e, _, err := m.cmd("WebDriver:Navigate", map[string]any{"url": site.URL})
		if err != nil {
			t.Fatalf("navigate %s: %v", name, err)
		}
		if e != nil {
			var we struct{ Error string }
			json.Unmarshal(e, &we)
			if we.Error != "insecure certificate" {
				t.Fatalf("navigate %s: %s", name, e)
			}
			_, r, err := m.cmd("WebDriver:ExecuteScript", map[string]any{
				"script": "return document.getFailedCertSecurityInfo().errorCodeString", "args": []any{}})
			var v struct{ Value string }
			if err != nil || json.Unmarshal(r, &v) != nil {
				t.Fatalf("%s: reading the error code: %v %s", name, err, r)
			}
			got[name] = v.Value
			t.Logf("firefox %s: certificate error page, %s", name, v.Value)
			continue
		}
		_, r, err := m.cmd("WebDriver:ExecuteScript", map[string]any{"script": "return document.body.innerText", "args": []any{}})
		var v struct{ Value string }
		if err != nil || json.Unmarshal(r, &v) != nil || !strings.Contains(v.Value, "hello from "+name) {
			t.Fatalf("%s: loaded, but the page is %q (%v)", name, v.Value, err)
		}
		got[name] = ""
		t.Logf("firefox %s: loaded %q", name, strings.TrimSpace(v.Value))
	}
	m.cmd("Marionette:Quit", map[string]any{})
	return got
}

// marionette speaks Firefox's Marionette protocol: "len:json" frames,
// commands [0, id, name, params], replies [1, id, error, result].
type marionette struct {
	c  net.Conn
	r  *bufio.Reader
	id int
}

func (m *marionette) read() ([]byte, error) {
	s, err := m.r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n < 0 || n > 64<<20 {
		return nil, fmt.Errorf("marionette: bad frame length %q", s)
	}
	b := make([]byte, n)
	_, err = io.ReadFull(m.r, b)
	return b, err
}

func (m *marionette) cmd(name string, params any) (errObj, result json.RawMessage, err error) {
	m.id++
	b, err := json.Marshal([]any{0, m.id, name, params})
	if err != nil {
		return nil, nil, err
	}
	if _, err := fmt.Fprintf(m.c, "%d:%s", len(b), b); err != nil {
		return nil, nil, err
	}
	for {
		raw, err := m.read()
		if err != nil {
			return nil, nil, err
		}
		var resp []json.RawMessage
		if err := json.Unmarshal(raw, &resp); err != nil || len(resp) != 4 {
			return nil, nil, fmt.Errorf("marionette: bad reply %s", raw)
		}
		var id int
		if json.Unmarshal(resp[1], &id) == nil && id == m.id {
			if string(resp[2]) == "null" {
				resp[2] = nil
			}
			return resp[2], resp[3], nil
		}
	}
}

// TestNSSP11KitProxy registers the module the p11-kit way: the shipped
// nss-module/revocheck.module (module path and x-init-reserved filled in)
// in the user's p11-kit config, and p11-kit-proxy.so in the NSS database.
// p11-kit ignores user config in programs running as root, so as root the
// clients run as nobody.
func TestNSSP11KitProxy(t *testing.T) {
	const proxy = "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"
	harness.RequireFile(t, proxy, "p11-kit-modules")
	tstclnt, modutil := nssTool(t, "tstclnt"), nssTool(t, "modutil")
	var asUser []string
	if os.Geteuid() == 0 {
		setpriv := harness.Require(t, "setpriv", "util-linux")
		asUser = []string{setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"}
	}
	env := harness.New(t)
	tmpl, err := os.ReadFile(filepath.Join(env.Build, "..", "nss-module", "revocheck.module"))
	if err != nil {
		t.Fatal(err)
	}
	var conf []string
	for _, line := range strings.Split(string(tmpl), "\n") {
		switch {
		case strings.HasPrefix(line, "module:"):
			line = "module: " + filepath.Join(env.Build, "lib", nssModuleLibraryName)
		case strings.HasPrefix(line, "x-init-reserved:"):
			line = "x-init-reserved: cache-dir=" + env.CacheDir + " log=stderr"
		}
		conf = append(conf, line)
	}
	home := t.TempDir()
	mods := filepath.Join(home, ".config", "pkcs11", "modules")
	if err := os.MkdirAll(mods, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mods, "revocheck.module"), []byte(strings.Join(conf, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	db := nssDB(t, env, false)
	if out, err := nssRun(t, nil, "", modutil, "-add", "p11-kit-proxy", "-libfile", proxy, "-dbdir", db, "-force"); err != nil {
		t.Fatalf("modutil -add p11-kit-proxy: %v\n%s", err, out)
	}
	if len(asUser) > 0 {
		// nobody must reach the cache, the database and the p11-kit config.
		for _, p := range []string{env.CacheDir, strings.TrimPrefix(db, "sql:"), mods} {
			openUp(t, p)
		}
	}
	for name, want := range nssVerdicts {
		args := append(append([]string{}, asUser...), tstclnt, "-h", "127.0.0.1", "-p", fmt.Sprint(env.Sites[name].Port), "-d", db)
		out, err := nssRun(t, []string{"HOME=" + home}, "GET / HTTP/1.0\r\n\r\n", args[0], args[1:]...)
		hello := strings.Contains(out, "hello from "+name)
		switch {
		case want == "" && (err != nil || !hello):
			t.Errorf("p11-kit %s: tstclnt refused a site it must accept: %v", name, err)
		case want != "" && (err == nil || hello || !strings.Contains(out, want)):
			t.Errorf("p11-kit %s: want %s, got exit %v", name, want, err)
		}
	}
}

// openUp makes path and everything under it readable (the database also
// writable) by everyone, and its parents traversable.
func openUp(t *testing.T, path string) {
	t.Helper()
	filepath.Walk(path, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			mode := fi.Mode().Perm() | 0o666
			if fi.IsDir() {
				mode |= 0o111
			}
			os.Chmod(p, mode)
		}
		return nil
	})
	for d := filepath.Dir(path); d != "/" && d != "."; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			os.Chmod(d, fi.Mode().Perm()|0o011)
		}
	}
}
