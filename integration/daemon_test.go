package integration

// Tests of the check daemon (`revocheck daemon`) with real clients: the
// adapters ask it before loading librevocheck.so, and fall back to the
// library when it is absent, refuses, hangs or sits in an untrusted place.
// Where a test makes the library unloadable (library = /nonexistent) with
// the deny-when-unavailable policy, an accepted good site and a refused
// revoked one can only have come from the daemon.

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/revocheck/revocheck/integration/harness"
)

// socketPath is a socket path in a fresh 0755 directory owned by the test's
// user (root in CI): one the adapters trust.
func socketPath(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "check.sock")
}

// listenPacket binds a SOCK_SEQPACKET listener at sock (a stand-in daemon).
func listenPacket(t *testing.T, sock string) *net.UnixListener {
	t.Helper()
	l, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: sock, Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// startDaemon runs build/bin/revocheck daemon on a socket in a fresh
// root-owned 0755 directory, answering from cacheDir. stop ends it early.
func startDaemon(t *testing.T, env *harness.Env, cacheDir string) (sock string, stop func()) {
	t.Helper()
	bin := filepath.Join(env.Build, "bin", "revocheck")
	sock = socketPath(t)
	cmd := exec.Command(bin, "daemon", "--socket", sock, "--cache-dir", cacheDir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, "answering checks on "+sock) {
		cmd.Process.Kill()
		t.Fatalf("daemon did not start: %q %v", line, err)
	}
	done := false
	stop = func() {
		if done {
			return
		}
		done = true
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}
	t.Cleanup(stop)
	return sock, stop
}

func daemonEnv(conf, sock string) []string {
	return []string{"OPENSSL_CONF=" + conf, "REVOCHECK_SOCKET=" + sock}
}

var daemonOnly = []string{"library = /nonexistent/librevocheck.so.0", "unavailable = deny"}

func TestDaemonCurl(t *testing.T) {
	needClient(t, "curl")
	env := harness.New(t)
	sock, stop := startDaemon(t, env, env.CacheDir)

	t.Run("answers", func(t *testing.T) {
		on := daemonEnv(opensslConf(t, env, daemonOnly...), sock)
		for _, name := range []string{"good", "revoked", "uncovered", "unenrolled", "revoked-int", "crl-revoked"} {
			curlExpect(t, env, on, name, !env.Sites[name].Revoked, curlRevoked)
		}
		curlExpect(t, env, on, "revoked", true, "", "-k")
	})
	t.Run("policy-forwarded", func(t *testing.T) {
		deny := daemonEnv(opensslConf(t, env, append(daemonOnly, "not-covered = deny")...), sock)
		curlExpect(t, env, deny, "uncovered", false, curlNoStatus)
		curlExpect(t, env, deny, "good", true, "")
	})
	t.Run("socket-key", func(t *testing.T) {
		// The provider's own key, instead of the environment.
		conf := opensslConf(t, env, append(daemonOnly, "socket = "+sock)...)
		curlExpect(t, env, confEnv(conf), "revoked", false, curlRevoked)
		curlExpect(t, env, confEnv(conf), "good", true, "")
	})
	t.Run("user-config-file", func(t *testing.T) {
		// A user with a config file of their own is not the daemon's to
		// serve: it cannot see the file (ProtectHome). The adapter tells
		// it the file exists, the daemon refuses, and the library would
		// answer; here there is none, so the unavailable policy (deny)
		// refuses even the good site. Without the file, the daemon serves.
		home := t.TempDir()
		f := filepath.Join(home, ".config", "revocheck", "config.toml")
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("max-age = \"240h\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		on := append(daemonEnv(opensslConf(t, env, daemonOnly...), sock), "HOME="+home, "XDG_CONFIG_HOME=")
		curlExpect(t, env, on, "good", false, curlNoStatus)
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
		curlExpect(t, env, on, "good", true, "")
	})
	t.Run("status", func(t *testing.T) {
		out, err := env.Run(t, daemonEnv(opensslConf(t, env, daemonOnly...), sock), "openssl", "list", "-providers", "-verbose")
		// The daemon's own state: its cache, and that it is asked.
		if err != nil || !strings.Contains(out, "ready (cache "+env.CacheDir+"); asking the check daemon at "+sock) {
			t.Errorf("openssl list: want the daemon's state and name: %v\n%s", err, out)
		}
	})
	t.Run("fork", func(t *testing.T) {
		// Through the daemon a forked child checks for real: no dead Go
		// runtime to avoid, so no "unavailable" answer.
		needClient(t, "python3")
		out, err := env.Run(t, daemonEnv(opensslConf(t, env), sock), "python3", testdataScript("fork.py"),
			env.RootPEM, env.Sites["good"].URL, env.Sites["revoked"].URL)
		if err != nil {
			t.Fatalf("fork.py: %v", err)
		}
		for _, want := range []string{"parent good: ok", "child good: ok", "child exit status: 0"} {
			if !strings.Contains(out, want) {
				t.Errorf("want %q in:\n%s", want, out)
			}
		}
		for _, l := range []string{"parent revoked:", "child revoked:", "parent after fork revoked:"} {
			if !strings.Contains(lineWith(out, l), curlRevoked) {
				t.Errorf("%s want refused as revoked:\n%s", l, out)
			}
		}
		if strings.Contains(out, "forked after") {
			t.Errorf("the child must not need the unavailable policy:\n%s", out)
		}
	})
	t.Run("threads", func(t *testing.T) {
		// Threads share one kept connection or open their own.
		needClient(t, "python3")
		out, err := env.Run(t, daemonEnv(opensslConf(t, env, daemonOnly...), sock), "python3", testdataScript("threads.py"),
			env.RootPEM, "16", "8", env.Sites["good"].URL, env.Sites["revoked"].URL)
		if err != nil || !strings.Contains(out, "correct=128 wrong=0") {
			t.Errorf("threads through the daemon: %v\n%s", err, out)
		}
	})
	t.Run("stopped", func(t *testing.T) {
		// The socket is gone: the library answers, the same way.
		stop()
		on := daemonEnv(opensslConf(t, env), sock)
		curlExpect(t, env, on, "revoked", false, curlRevoked)
		curlExpect(t, env, on, "good", true, "")
		// And without a library, the unavailable policy.
		curlExpect(t, env, daemonEnv(opensslConf(t, env, daemonOnly...), sock), "good", false, curlNoStatus)
	})
}

func TestDaemonFallbacks(t *testing.T) {
	needClient(t, "curl")
	env := harness.New(t)
	conf := opensslConf(t, env) // real library, the test's cache

	t.Run("other-cache", func(t *testing.T) {
		// A daemon serving another cache refuses this configuration; the
		// library answers for the cache the provider names.
		sock, _ := startDaemon(t, env, filepath.Join(env.Dir, "empty-cache"))
		on := append(daemonEnv(conf, sock), "REVOCHECK_DEBUG=1")
		curlExpect(t, env, on, "revoked", false, curlRevoked)
		out, _ := env.Run(t, on, "curl", "-sS", "--cacert", env.RootPEM, env.Sites["good"].URL)
		if !strings.Contains(out, "hello from good") || !strings.Contains(out, "does not serve this configuration") {
			t.Errorf("want the good site fetched after the refusal:\n%s", out)
		}
	})
	t.Run("hung", func(t *testing.T) {
		// Accepts, reads, never answers: one timeout per process, then the
		// library.
		sock := socketPath(t)
		l := listenPacket(t, sock)
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		sink := newLogSink(t)
		on := append(daemonEnv(conf, sock), sink.env())
		start := time.Now()
		out, err := env.Run(t, on, "curl", "-sS", "--cacert", env.RootPEM, env.Sites["good"].URL)
		if err != nil || !strings.Contains(out, "hello from good") {
			t.Errorf("hung daemon: want the good site fetched: %v\n%s", err, out)
		}
		// A daemon restarting is a normal state: syslog, not stderr.
		if n := sink.count("did not answer in 250 ms"); n != 1 || strings.Contains(out, "revocheck (") {
			t.Errorf("hung daemon: want one syslog notice (got %d) and nothing on stderr:\n%s", n, out)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("hung daemon: curl took %v", d)
		}
		curlExpect(t, env, on, "revoked", false, curlRevoked)
	})
	t.Run("untrusted-directory", func(t *testing.T) {
		// A socket in a world-writable directory could be anyone's.
		dir := filepath.Join(t.TempDir(), "open")
		os.Mkdir(dir, 0o755)
		sock, _ := startDaemon(t, env, env.CacheDir)
		open := filepath.Join(dir, "check.sock")
		if err := os.Symlink(sock, open); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, 0o777)
		on := daemonEnv(opensslConf(t, env, daemonOnly...), open)
		out, _ := env.Run(t, on, "curl", "-sS", "--cacert", env.RootPEM, env.Sites["good"].URL)
		if strings.Contains(out, "hello from good") || !strings.Contains(out, "writable by others") {
			t.Errorf("untrusted socket directory: want it ignored (and the unavailable policy):\n%s", out)
		}
	})
	t.Run("leftover-socket", func(t *testing.T) {
		// A socket file nobody listens on (a crashed daemon): ECONNREFUSED.
		sock := socketPath(t)
		l := listenPacket(t, sock)
		l.SetUnlinkOnClose(false)
		l.Close()
		curlExpect(t, env, daemonEnv(conf, sock), "revoked", false, curlRevoked)
		curlExpect(t, env, daemonEnv(conf, sock), "good", true, "")
	})
}

func TestDaemonWget(t *testing.T) {
	requireTool(t, "wget")
	g := newGnuTLSCase(t)
	env := g.env
	sock, _ := startDaemon(t, env, env.CacheDir)
	// No REVOCHECK_CONFIG / REVOCHECK_CACHE_DIR: the daemon's configuration.
	on := []string{"LD_PRELOAD=" + g.hook, "REVOCHECK_SOCKET=" + sock, "XDG_CONFIG_HOME=" + t.TempDir(),
		"REVOCHECK_LIBRARY=/nonexistent/librevocheck.so.0", "REVOCHECK_GNUTLS_UNAVAILABLE=deny"}
	for _, name := range []string{"good", "uncovered"} {
		out, err := g.wget(t, on, name)
		expectFetched(t, name, out, err)
	}
	for _, name := range []string{"revoked", "crl-revoked"} {
		out, err := g.wget(t, on, name)
		expectRefused(t, name, out, err, "revoked")
	}
}

func TestDaemonTstclnt(t *testing.T) {
	tstclnt := nssTool(t, "tstclnt")
	env := harness.New(t)
	sock, _ := startDaemon(t, env, env.CacheDir)
	db := nssDB(t, env, true) // the module's cache-dir is the daemon's: served
	on := []string{"REVOCHECK_SOCKET=" + sock, "REVOCHECK_LIBRARY=/nonexistent/librevocheck.so.0"}
	for name, want := range nssVerdicts {
		site := env.Sites[name]
		out, err := nssRun(t, on, "GET / HTTP/1.0\r\n\r\n", tstclnt, "-h", "127.0.0.1", "-p", fmt.Sprint(site.Port), "-d", db)
		hello := strings.Contains(out, "hello from "+name)
		switch {
		case want == "" && (err != nil || !hello):
			t.Errorf("%s: tstclnt refused a site it must accept: %v", name, err)
		case want != "" && (err == nil || hello || !strings.Contains(out, want)):
			t.Errorf("%s: want %s, got exit %v", name, want, err)
		}
	}
}

func TestDaemonSocketActivation(t *testing.T) {
	// What revocheck-checkd.socket does: systemd listens, the daemon is
	// started on the first connection and handed the socket (LISTEN_FDS).
	activate := harness.Require(t, "systemd-socket-activate", "systemd")
	needClient(t, "curl")
	env := harness.New(t)
	sock := socketPath(t)
	cmd := exec.Command(activate, "--seqpacket", "-l", sock, "--",
		filepath.Join(env.Build, "bin", "revocheck"), "daemon", "--cache-dir", env.CacheDir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	on := daemonEnv(opensslConf(t, env, daemonOnly...), sock)
	// The first check waits for the daemon to start (well within the
	// client's timeout); a Go binary starts in a few ms.
	curlExpect(t, env, on, "good", true, "")
	curlExpect(t, env, on, "revoked", false, curlRevoked)
}

func TestDaemonRestartUnderLoad(t *testing.T) {
	// 16 threads of one python process keep connecting while the daemon
	// is stopped and started again on the same socket: kept connections
	// break, checks fall back to the library or reconnect, and every
	// answer stays right.
	needClient(t, "python3")
	env := harness.New(t)
	sock, stop := startDaemon(t, env, env.CacheDir)
	cmd := exec.Command("python3", testdataScript("threads.py"), env.RootPEM, "16", "150",
		env.Sites["good"].URL, env.Sites["revoked"].URL)
	cmd.Env = append(os.Environ(), "OPENSSL_CONF="+opensslConf(t, env), "REVOCHECK_SOCKET="+sock)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	time.Sleep(300 * time.Millisecond)
	stop()
	time.Sleep(200 * time.Millisecond)
	bin := filepath.Join(env.Build, "bin", "revocheck")
	again := exec.Command(bin, "daemon", "--socket", sock, "--cache-dir", env.CacheDir)
	again.Stderr = os.Stderr
	if err := again.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { again.Process.Signal(os.Interrupt); again.Wait() }()
	select {
	case err := <-done:
		if err != nil || !strings.Contains(out.String(), "correct=2400 wrong=0") {
			t.Errorf("threads across a daemon restart: %v\n%s", err, out.String())
		}
		if d := time.Since(start); d < 600*time.Millisecond {
			t.Logf("warning: the run took %v, it may have ended before the restart", d)
		}
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("threads.py hung across a daemon restart:\n%s", out.String())
	}
}
