package integration

// `revocheck daemon` started by hand creates its socket directory the way
// the adapters trust it (root-owned 0755, whatever the umask), and when it
// cannot, says which command prepares it.

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/revocheck/revocheck/integration/harness"
)

func TestDaemonCreatesSocketDir(t *testing.T) {
	needClient(t, "curl")
	env := harness.New(t)
	bin := filepath.Join(env.Build, "bin", "revocheck")
	parent := filepath.Join(t.TempDir(), "run") // does not exist yet
	sock := filepath.Join(parent, "revocheck", "check.sock")
	// umask 077 would make 0700 directories other users cannot enter.
	cmd := exec.Command("sh", "-c", `umask 077; exec "$0" "$@"`, bin, "daemon", "--socket", sock, "--cache-dir", env.CacheDir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, "answering checks on "+sock) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("daemon did not start: %q %v\n%s", line, err, stderr.String())
	}
	for _, d := range []string{parent, filepath.Dir(sock)} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode().Perm() != 0o755 || int(st.Uid) != os.Geteuid() {
			t.Errorf("%s: mode %o uid %d, want 0755 owned by %d", d, fi.Mode().Perm(), st.Uid, os.Geteuid())
		}
	}
	if strings.Contains(stderr.String(), "warning") {
		t.Errorf("daemon warned about its own directory:\n%s", stderr.String())
	}
	// The adapters trust it: answers come from the daemon (no library).
	on := daemonEnv(opensslConf(t, env, daemonOnly...), sock)
	curlExpect(t, env, on, "good", true, "")
	curlExpect(t, env, on, "revoked", false, curlRevoked)
}

func TestDaemonSocketDirNotCreatable(t *testing.T) {
	if os.Geteuid() != 0 {
		harness.Missing(t, "root (to run the daemon as another user)", "sudo make test")
	}
	setpriv := requireTool(t, "setpriv")
	env := harness.New(t)
	bin := filepath.Join(env.Build, "bin", "revocheck")
	// A root-owned 0755 parent: an unprivileged user cannot create in it.
	parent := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	traversable(t, parent)
	dir := filepath.Join(parent, "revocheck")
	cacheDir := filepath.Join(t.TempDir(), "cache") // absent: the daemon answers no_data
	traversable(t, filepath.Dir(cacheDir))
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "daemon",
		"--socket", filepath.Join(dir, "check.sock"), "--cache-dir", cacheDir)
	cmd.Env = append(os.Environ(), "HOME=/nonexistent", "XDG_CONFIG_HOME=/nonexistent")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("daemon did not exit")
	}
	want := "install -d -m 0755 -o root -g root " + dir
	if exitCode(err) != 1 || !strings.Contains(string(out), "permission denied") || !strings.Contains(string(out), want) {
		t.Errorf("want exit 1 naming %q, got %v:\n%s", want, err, out)
	}
}

// traversable lets every user reach into path (o+x on it and its
// ancestors) without letting anyone write there.
func traversable(t *testing.T, path string) {
	t.Helper()
	for d := path; d != "/" && d != "."; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o011 != 0o011 {
			if err := os.Chmod(d, fi.Mode().Perm()|0o011); err != nil {
				t.Fatal(err)
			}
		}
	}
}
