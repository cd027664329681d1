package integration

// The caller of a setuid program owns its environment: nothing revocheck's
// adapters read from it may choose a file, a library or a socket, or
// switch revocation off (issue 18, item 10). The test performs the attack:
// a setuid-root OpenSSL program with the provider configured, run by
// `nobody` with REVOCHECK_CONFIG naming a root-only file and the other
// REVOCHECK_* variables pointing at the attacker's choices.

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/revocheck/revocheck/integration/harness"
)

// buildSetuidVerify compiles integration/cdrivers/setuid_verify.c with its
// OpenSSL configuration file compiled in, owned by root, mode 4755.
func buildSetuidVerify(t *testing.T, dir, name, conf string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE",
		fmt.Sprintf("-DRC_OPENSSL_CONF=%q", conf), "-o", out,
		filepath.Join(filepath.Dir(shippedSnippet()), "..", "integration", "cdrivers", "setuid_verify.c"), "-lcrypto")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cc setuid_verify.c: %v\n%s", err, b)
	}
	if err := os.Chown(out, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(out, os.ModeSetuid|0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// worldDir is a temporary directory that `nobody` can traverse (t.TempDir
// and its parent are 0700).
func worldDir(t *testing.T) string {
	d := t.TempDir()
	for _, p := range []string{d, filepath.Dir(d)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestSetuidIgnoresCallerEnvironment(t *testing.T) {
	if os.Geteuid() != 0 {
		harness.Missing(t, "root (to install a setuid-root program)", "sudo make test")
	}
	needClient(t, "setpriv")
	needClient(t, "cc")
	env := harness.New(t)
	module := providerPaths(t, env)
	dir := worldDir(t)

	tag := make([]byte, 6)
	rand.Read(tag)
	secret := "TOPSECRET" + hex.EncodeToString(tag)
	// A root-only file that parses as a revocheck config, so any code path
	// that reads it can echo a value or a key name.
	secretFile := filepath.Join(t.TempDir(), "shadow.toml")
	content := fmt.Sprintf("cache-dir = \"/%s-dir\"\n%s_key = 1\n", secret, secret)
	if err := os.WriteFile(secretFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	attackerCache := filepath.Join(dir, "attacker-cache") // empty: every answer would be no_data
	if err := os.Mkdir(attackerCache, 0o777); err != nil {
		t.Fatal(err)
	}
	attackerHome := filepath.Join(dir, "home")
	if err := os.MkdirAll(filepath.Join(attackerHome, ".config", "revocheck"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(attackerHome, ".config", "revocheck", "config.toml"),
		[]byte(fmt.Sprintf("cache-dir = %q\n", attackerCache)), 0o644)
	attack := []string{
		"REVOCHECK_CONFIG=" + secretFile,
		"REVOCHECK_CACHE_DIR=" + attackerCache,
		"REVOCHECK_LIBRARY=" + filepath.Join(dir, "no-such-librevocheck.so.0"),
		"REVOCHECK_SOCKET=" + filepath.Join(dir, "attacker.sock"),
		"REVOCHECK_DEBUG=1",
		"HOME=" + attackerHome,
		"XDG_CONFIG_HOME=" + filepath.Join(attackerHome, ".config"),
	}

	writeConf := func(name string, keys ...string) string {
		p := filepath.Join(dir, name)
		body := fmt.Sprintf(".include %s\n\n[ revocheck_sect ]\nmodule = %s\n%s\n", shippedSnippet(), module,
			strings.Join(keys, "\n"))
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The administrator's configuration names the cache; a second program
	// leaves everything to the revocheck configuration (the status path
	// then reads a config file).
	admin := buildSetuidVerify(t, dir, "verify-admin", writeConf("admin.cnf", "cache-dir = "+env.CacheDir))
	plain := buildSetuidVerify(t, dir, "verify-plain", writeConf("plain.cnf"))
	// The PKI files are read by the program as root; the chain files live
	// in the harness's private directory.
	asNobody := func(bin, chain string) string {
		out, _ := env.Run(t, attack, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
			bin, env.RootPEM, chain)
		if strings.Contains(out, "secure=0") || !strings.Contains(out, "uid=65534 euid=0 secure=1") {
			harness.Missing(t, "a setuid bit that is honoured (no_new_privs or a nosuid mount here):\n"+out,
				"run make test as root on a filesystem mounted without nosuid")
		}
		if strings.Contains(out, secret) {
			t.Errorf("the root-only file named by $REVOCHECK_CONFIG leaked into the output:\n%s", out)
		}
		if strings.Contains(out, attackerCache) || strings.Contains(out, attackerHome) {
			t.Errorf("the caller's cache or home directory was used:\n%s", out)
		}
		return out
	}

	out := asNobody(admin, env.Sites["revoked"].ChainPEM)
	if !strings.Contains(out, "verify: error 23 certificate revoked") {
		t.Errorf("setuid program: the revoked certificate must still be refused despite the caller's environment:\n%s", out)
	}
	out = asNobody(admin, env.Sites["good"].ChainPEM)
	if !strings.Contains(out, "verify: ok") {
		t.Errorf("setuid program: the good certificate must be accepted:\n%s", out)
	}
	asNobody(plain, env.Sites["revoked"].ChainPEM)

	// Control: the same program without the setuid bit, run by root, does
	// honour $REVOCHECK_CONFIG, so the file's content can reach the output
	// through the paths exercised above. Without this the test could pass
	// by not looking.
	unprivileged := filepath.Join(dir, "verify-plain-nosuid")
	b, _ := os.ReadFile(plain)
	if err := os.WriteFile(unprivileged, b, 0o755); err != nil {
		t.Fatal(err)
	}
	out, _ = env.Run(t, []string{"REVOCHECK_CONFIG=" + secretFile}, unprivileged, env.RootPEM, env.Sites["good"].ChainPEM)
	if !strings.Contains(out, secret) {
		t.Errorf("control: a non-setuid run with REVOCHECK_CONFIG should read the file (the test would not see a leak):\n%s", out)
	}
}
