package integration

// Forked children of a process that has started revocheck's Go runtime
// (issue 18, item 3): pre-fork servers and worker pools. With no check
// daemon, each child must still get real answers — from a fresh
// `revocheck check --request` helper process (adapters-common/rc_helper.c)
// — both when the cache is named by the provider's configuration and when
// the process sets $REVOCHECK_CACHE_DIR (which bypasses the daemon).

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/revocheck/revocheck/integration/harness"
)

const forkWorkers = 20

// forkConfigs are the two ways a process names its cache, as client
// environments for the OpenSSL provider; no daemon in either (the harness
// sets REVOCHECK_SOCKET=none).
func forkConfigs(t *testing.T, env *harness.Env) map[string][]string {
	module := providerPaths(t, env)
	bare := filepath.Join(t.TempDir(), "openssl-bare.cnf")
	body := fmt.Sprintf(".include %s\n\n[ revocheck_sect ]\nmodule = %s\n", shippedSnippet(), module)
	if err := os.WriteFile(bare, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.toml")
	if err := os.WriteFile(empty, []byte("# defaults only\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return map[string][]string{
		"provider-cache-dir": confEnv(opensslConf(t, env)),
		"env-cache-dir": {"OPENSSL_CONF=" + bare, "REVOCHECK_CONFIG=" + empty,
			"REVOCHECK_CACHE_DIR=" + env.CacheDir},
	}
}

var forkSummary = regexp.MustCompile(`summary revoked_refused=(\d+)/(\d+) good_accepted=(\d+)/(\d+) max_seconds=([0-9.]+)`)

func runForks(t *testing.T, mode string) {
	needClient(t, "python3")
	env := harness.New(t)
	for name, ce := range forkConfigs(t, env) {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			out, err := env.Run(t, ce, "python3", testdataScript("forks.py"), env.RootPEM,
				env.Sites["good"].URL, env.Sites["revoked"].URL, strconv.Itoa(forkWorkers), mode)
			if err != nil {
				t.Fatalf("forks.py %s: %v", mode, err)
			}
			if !strings.Contains(lineWith(out, "parent revoked:"), curlRevoked) {
				t.Errorf("the parent must refuse the revoked site:\n%s", out)
			}
			m := forkSummary.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no summary in:\n%s", out)
			}
			want := strconv.Itoa(forkWorkers)
			if m[1] != want || m[2] != want {
				t.Errorf("%s: %s/%s forked workers refused the revoked site, want all:\n%s", mode, m[1], m[2], out)
			}
			if m[3] != want || m[4] != want {
				t.Errorf("%s: %s/%s forked workers accepted the good site, want all:\n%s", mode, m[3], m[4], out)
			}
			if secs, _ := strconv.ParseFloat(m[5], 64); secs > 10 {
				t.Errorf("%s: a connection took %.1f s in a child (bounded: 2 s per helper)", mode, secs)
			}
			if mode == "os" && !strings.Contains(out, "unreaped helper processes in the children: 0") {
				t.Errorf("%s: every helper process must be reaped:\n%s", mode, out)
			}
			if strings.Contains(out, "revocheck (") {
				t.Errorf("%s: nothing of revocheck's belongs on the host's stderr here:\n%s", mode, out)
			}
			t.Logf("%s %s: %d workers in %v", mode, name, forkWorkers, time.Since(start))
		})
	}
}

func TestForkPythonOSFork(t *testing.T) { runForks(t, "os") }

// Hosts that ignore SIGCHLD: the kernel reaps the helper, waitpid says ECHILD.
func TestForkPythonSIGCHLDIgnored(t *testing.T) {
	t.Setenv("FORKS_SIGCHLD", "ignore")
	runForks(t, "os")
}

func TestForkPythonMultiprocessing(t *testing.T) { runForks(t, "mp") }

// A C GnuTLS program (the hook preloaded, cache from $REVOCHECK_CACHE_DIR)
// that connects once and then forks 20 children connecting at once.
func TestForkGnuTLS(t *testing.T) {
	g := newGnuTLSCase(t)
	env := g.env
	drv := buildGnuTLSDriver(t, env.Build, "gnutls-verify-driver")
	for _, c := range []struct {
		site, want string
	}{
		{"revoked", fmt.Sprintf("children: 0 accepted, %d refused, 0 failed", forkWorkers)},
		{"good", fmt.Sprintf("children: %d accepted, 0 refused, 0 failed", forkWorkers)},
	} {
		out, _ := env.Run(t, g.with(), drv, "tls", env.RootPEM, strconv.Itoa(env.Sites[c.site].Port),
			"--forks", strconv.Itoa(forkWorkers))
		if !strings.Contains(out, c.want) {
			t.Errorf("%s site: want %q:\n%s", c.site, c.want, out)
		}
		if c.site == "revoked" && strings.Count(out, "refused status=0x22") != forkWorkers+1 {
			t.Errorf("revoked site: want the parent and every child refused as revoked (status 0x22):\n%s", out)
		}
		if strings.Contains(out, "revocheck (") {
			t.Errorf("nothing of revocheck's belongs on the host's stderr here:\n%s", out)
		}
	}
}

// Without a helper binary the unavailable policy answers, once logged.
func TestForkWithoutHelper(t *testing.T) {
	needClient(t, "python3")
	env := harness.New(t)
	noHelper := "REVOCHECK_HELPER=" + filepath.Join(t.TempDir(), "absent")
	for _, c := range []struct {
		policy, child string
	}{
		{"allow", "ok hello from revoked"},
		{"deny", curlNoStatus},
	} {
		out, err := env.Run(t, append(confEnv(opensslConf(t, env, "unavailable = "+c.policy)), noHelper),
			"python3", testdataScript("fork.py"), env.RootPEM, env.Sites["good"].URL, env.Sites["revoked"].URL)
		if err != nil {
			t.Fatalf("fork.py: %v", err)
		}
		if !strings.Contains(lineWith(out, "child revoked:"), c.child) {
			t.Errorf("unavailable = %s: child revoked: want %q:\n%s", c.policy, c.child, out)
		}
		if n := strings.Count(out, "could not answer"); n != 1 {
			t.Errorf("unavailable = %s: want one notice, got %d:\n%s", c.policy, n, out)
		}
	}
}

// A helper that never answers is killed after 2 s: the child finishes, by
// the unavailable policy, and no helper process survives it.
func TestForkHelperHangs(t *testing.T) {
	needClient(t, "python3")
	env := harness.New(t)
	dir := t.TempDir()
	hang := filepath.Join(dir, "revocheck")
	pidFile := filepath.Join(dir, "pids")
	script := fmt.Sprintf("#!/bin/sh\necho $$ >> %s\nexec sleep 60\n", pidFile)
	if err := os.WriteFile(hang, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := env.Run(t, append(confEnv(opensslConf(t, env, "unavailable = deny")), "REVOCHECK_HELPER="+hang),
		"python3", testdataScript("fork.py"), env.RootPEM, env.Sites["good"].URL, env.Sites["revoked"].URL)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("fork.py: %v", err)
	}
	if !strings.Contains(lineWith(out, "child good:"), curlNoStatus) || !strings.Contains(out, "no answer in time") {
		t.Errorf("hanging helper: want the child refused by the deny policy after the timeout:\n%s", out)
	}
	// Two connections in the child, each stopping at its first check.
	if took > 20*time.Second {
		t.Errorf("hanging helper: took %v, want about 2 s per check", took)
	}
	pids, _ := os.ReadFile(pidFile)
	if len(strings.Fields(string(pids))) == 0 {
		t.Fatalf("the helper was never started:\n%s", out)
	}
	for _, p := range strings.Fields(string(pids)) {
		if _, err := os.Stat("/proc/" + p); err == nil {
			t.Errorf("helper pid %s still exists (not killed or not reaped)", p)
		}
	}
}
