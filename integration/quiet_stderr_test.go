package integration

// A host's stderr is not ours (issue 18, item 4b): in the states a correctly
// installed system passes through (no data yet, stale data, the daemon
// restarting) the adapters print nothing there and log to syslog instead,
// once per process per state. The tests point the adapters' syslog at a
// socket of their own ($REVOCHECK_LOG_SOCKET) and read what arrives.

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revocheck/revocheck/integration/harness"
)

// logSink is a syslog socket; messages returns what it received so far.
type logSink struct {
	path string
	mu   sync.Mutex
	msgs []string
}

func newLogSink(t *testing.T) *logSink {
	t.Helper()
	dir, err := os.MkdirTemp("", "rclog") // short: sun_path holds 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &logSink{path: filepath.Join(dir, "log.sock")}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: s.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := c.ReadFromUnix(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, string(buf[:n]))
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *logSink) env() string { return "REVOCHECK_LOG_SOCKET=" + s.path }

// messages waits briefly for datagrams in flight, then returns them all.
func (s *logSink) messages() []string {
	time.Sleep(100 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

// count is how many messages contain sub.
func (s *logSink) count(sub string) int {
	n := 0
	for _, m := range s.messages() {
		if strings.Contains(m, sub) {
			n++
		}
	}
	return n
}

func TestQuietStderrEmptyCache(t *testing.T) {
	needClient(t, "curl")
	env := harness.New(t)
	empty := filepath.Join(t.TempDir(), "cache") // between install and the first fetch
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	module := providerPaths(t, env)
	bare := filepath.Join(t.TempDir(), "openssl.cnf")
	if err := os.WriteFile(bare, []byte(".include "+shippedSnippet()+"\n\n[ revocheck_sect ]\nmodule = "+module+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		env    []string
		source string // how the message names the cache's origin
	}{
		{"provider-cache-dir", confEnv(opensslConf(t, env, "cache-dir = "+empty)), "cache " + empty + ", set by this adapter's cache-dir"},
		{"env-cache-dir", []string{"OPENSSL_CONF=" + bare, "REVOCHECK_CACHE_DIR=" + empty}, "cache " + empty + ", from $REVOCHECK_CACHE_DIR"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sink := newLogSink(t)
			ce := append(c.env, sink.env())
			// Two verifications in one process: one message.
			out, err := env.Run(t, ce, "curl", "-sS", "--max-time", "30", "--cacert", env.RootPEM,
				env.Sites["good"].URL, env.Sites["revoked"].URL)
			if err != nil || strings.Count(out, "hello from") != 2 {
				t.Errorf("no data yet, default policy: want both pages: %v\n%s", err, out)
			}
			if strings.Contains(out, "revocheck (") || strings.Contains(out, "revocheck:") {
				t.Errorf("curl: nothing of revocheck's may reach the host's stderr:\n%s", out)
			}
			if n := sink.count("no revocation data yet (" + c.source); n != 1 {
				t.Errorf("want one syslog message naming %q, got %d: %q", c.source, n, sink.messages())
			}
			if n := sink.count("revocheck["); n != len(sink.messages()) || n != 1 {
				t.Errorf("want exactly one message, ident revocheck: %q", sink.messages())
			}
		})
	}
	t.Run("s_client", func(t *testing.T) {
		needClient(t, "openssl")
		sink := newLogSink(t)
		ce := append(confEnv(opensslConf(t, env, "cache-dir = "+empty)), sink.env())
		out, _ := env.Run(t, ce, "openssl", "s_client", "-connect", "127.0.0.1:"+portOf(env, "good"),
			"-CAfile", env.RootPEM, "-verify_return_error", "-brief")
		if !strings.Contains(out, "Verification: OK") {
			t.Errorf("s_client: want the handshake verified:\n%s", out)
		}
		if strings.Contains(out, "revocheck (") || strings.Contains(out, "revocheck:") {
			t.Errorf("s_client: nothing of revocheck's may reach the host's stderr:\n%s", out)
		}
		if n := sink.count("no revocation data yet"); n != 1 {
			t.Errorf("s_client: want one syslog message, got %q", sink.messages())
		}
	})
	t.Run("debug-keeps-stderr", func(t *testing.T) {
		sink := newLogSink(t)
		ce := append(confEnv(opensslConf(t, env, "cache-dir = "+empty)), sink.env(), "REVOCHECK_DEBUG=1")
		out, _ := env.Run(t, ce, "curl", "-sS", "--max-time", "30", "--cacert", env.RootPEM, env.Sites["good"].URL)
		if !strings.Contains(out, "revocheck (openssl-provider): no revocation data yet") ||
			!strings.Contains(out, "depth 0: no_data (allowed)") {
			t.Errorf("REVOCHECK_DEBUG: want the verbose lines on stderr:\n%s", out)
		}
	})
}

func portOf(env *harness.Env, site string) string {
	u := env.Sites[site].URL
	u = strings.TrimSuffix(strings.TrimPrefix(u, "https://127.0.0.1:"), "/")
	return u
}
