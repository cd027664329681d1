package integration

// Real NSS clients against the harness sites, with an NSS database in which
// the trust module is registered by modutil, exactly as docs/NSS.md tells
// users: tstclnt, vfychain, and libcurl's NSS back end (curl-nss-driver).
// Without the module every site connects; with it, the certificates revoked
// in the compiled CRLs are refused with NSS's own errors.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// nssTool skips (loudly) when an NSS client program is missing.
func nssTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("SKIP: %s not installed (Debian: libnss3-tools): %v", name, err)
	}
	return p
}

// nssRun runs a command with stdin, echoing it, with a 60 s timeout that
// kills the process group.
func nssRun(t *testing.T, extraEnv []string, stdin string, name string, args ...string) (string, error) {
	t.Helper()
	t.Logf("$ %s %s %s", strings.Join(extraEnv, " "), name, strings.Join(args, " "))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Stdin = strings.NewReader(stdin)
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
			"-string", "cache-dir="+env.CacheDir, "-dbdir", db, "-force")
		if err != nil {
			t.Fatalf("modutil -add: %v\n%s", err, out)
		}
		out, err = nssRun(t, nil, "", modutil, "-list", "-dbdir", db)
		if err != nil || !strings.Contains(out, "revocheck revocation trust") || !strings.Contains(out, "status: loaded") {
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
		t.Fatalf("%s missing (run make): %v", driver, err)
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
				t.Skipf("SKIP: libcurl's NSS back end is not installed (Debian: libcurl3-nss): %s", out)
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
