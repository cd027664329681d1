package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revocheck/revocheck/integration/harness"
)

// TestFleetMirrorNginx is the fleet path of docs/SYNC.md: an organisation
// serves its mirror tree from Debian's nginx with the configuration the doc
// shows, not from `revocheck serve`. Cold, delta and no-op fetches must
// cost what they cost against `revocheck serve` (same files requested, same
// bytes downloaded; a no-op downloads no filter), and a burst of concurrent
// no-op fetches from many clients must all succeed.
func TestFleetMirrorNginx(t *testing.T) {
	harness.Require(t, "nginx", "nginx-light")
	env := harness.New(t)
	bin := filepath.Join(env.Build, "bin", "revocheck")
	root := t.TempDir()

	// One synthetic tree with a full filter and four deltas ("new"), and the
	// same tree one publication earlier ("old": the last delta not yet out).
	full := filepath.Join(root, "full")
	out, err := exec.Command(bin, "filter", "build", "--synthetic", "--out", full, "--issuers", "40",
		"--deltas", "4", "--delta-serials", "3000", "--seed", "7").CombinedOutput()
	if err != nil {
		t.Fatalf("filter build --synthetic: %v\n%s", err, out)
	}
	// www/ is the web root of both servers; the tree is under /revocheck/.
	www := filepath.Join(root, "www")
	site := filepath.Join(www, "revocheck")
	oldTree, newTree := filepath.Join(site, "old"), filepath.Join(site, "new")
	files := writeTree(t, full, newTree, 0)
	writeTree(t, full, oldTree, 1)
	last := files[len(files)-1]

	// The synthetic data is dated 2025: fetch would call it stale (exit 1).
	cfg := filepath.Join(root, "config.toml")
	if err := os.WriteFile(cfg, []byte("max-age = \"0\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REVOCHECK_CONFIG", cfg)
	nginx := startNginx(t, site)
	serve := startServe(t, bin, www)

	type phase struct {
		name, tree string
		wantFiles  []string // filter files the phase must download
	}
	phases := []phase{
		{"cold", "old", files[:len(files)-1]},
		{"delta", "new", []string{last}},
		{"no-op", "new", nil},
	}
	downloaded := map[string]string{} // phase -> fetch's "N downloaded (B bytes)" line, by the first server
	bytesRE := regexp.MustCompile(`up to date \(\d+ files\)|\d+ downloaded \(\d+ bytes\)`)
	for _, srv := range []*mirrorServer{nginx, serve} {
		cache := filepath.Join(root, "cache-"+srv.name)
		for _, p := range phases {
			srv.resetLog(t)
			url := fmt.Sprintf("http://%s/revocheck/%s/", srv.addr, p.tree)
			out, err := exec.Command(bin, "fetch", "--url", url, "--cache-dir", cache).CombinedOutput()
			if err != nil {
				t.Fatalf("%s %s fetch: %v\n%s", srv.name, p.name, err, out)
			}
			got := srv.filterRequests(t)
			if strings.Join(got, ",") != strings.Join(p.wantFiles, ",") {
				t.Errorf("%s, %s fetch: filter requests %v, want %v\n%s", srv.name, p.name, got, p.wantFiles, out)
			}
			t.Logf("%s %s: %s", srv.name, p.name, strings.TrimSpace(string(out)))
			cost := bytesRE.FindString(string(out))
			if cost == "" {
				t.Errorf("%s %s fetch: no summary line in %q", srv.name, p.name, out)
			}
			if prev, ok := downloaded[p.name]; ok && prev != cost {
				t.Errorf("%s fetch costs %q against %s, %q against nginx", p.name, cost, srv.name, prev)
			}
			downloaded[p.name] = cost
		}
		if out, err := exec.Command(bin, "verify", "--cache-dir", cache).CombinedOutput(); err != nil {
			t.Fatalf("%s: verify after the fetches: %v\n%s", srv.name, err, out)
		}
	}

	// A burst of no-op fetches: many machines of the fleet waking at once.
	const clients = 200
	seed := filepath.Join(root, "cache-nginx")
	var wg sync.WaitGroup
	errs := make(chan string, clients)
	sem := make(chan struct{}, 50) // processes alive at once: 2 cores, not a fork bomb
	start := time.Now()
	nginx.resetLog(t)
	for i := 0; i < clients; i++ {
		dir := filepath.Join(root, fmt.Sprintf("fleet-%03d", i))
		if out, err := exec.Command("cp", "-a", seed, dir).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			url := fmt.Sprintf("http://%s/revocheck/new/", nginx.addr)
			out, err := exec.Command(bin, "fetch", "--url", url, "--cache-dir", dir, "--quiet").CombinedOutput()
			if err != nil {
				errs <- fmt.Sprintf("%s: %v %s", dir, err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("burst no-op fetch failed: %s", e)
	}
	if got := nginx.filterRequests(t); len(got) != 0 {
		t.Errorf("burst of no-op fetches requested filters: %v", got)
	}
	t.Logf("%d concurrent no-op fetches against nginx in %v", clients, time.Since(start).Round(time.Millisecond))
}

// writeTree copies the synthetic cache's manifest and filters into dir as a
// mirror tree, leaving out the last `drop` deltas (an earlier publication,
// with an earlier generated_at). It returns the filter names it published.
func writeTree(t *testing.T, from, dir string, drop int) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(from, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	list, _ := m["files"].([]any)
	if len(list) < 2+drop {
		t.Fatalf("synthetic manifest lists %d files", len(list))
	}
	list = list[:len(list)-drop]
	m["files"] = list
	if drop > 0 {
		// An earlier publication: generated_at one hour before.
		if g, ok := m["generated_at"].(float64); ok {
			m["generated_at"] = g - 3600
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range list {
		name := f.(map[string]any)["filename"].(string)
		b, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	out, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

// mirrorServer is a web server serving <site>/ under /revocheck/, with an
// access log the test reads.
type mirrorServer struct {
	name, addr, log string
	// pathRE finds the request path in one access-log line.
	pathRE *regexp.Regexp
}

func (s *mirrorServer) resetLog(t *testing.T) {
	t.Helper()
	// Both servers append with O_APPEND: truncating in place is safe.
	if err := os.Truncate(s.log, 0); err != nil {
		t.Fatal(err)
	}
}

// filterRequests lists, sorted, the files other than manifests that the
// server answered with a body (200 or 206) since the last resetLog.
func (s *mirrorServer) filterRequests(t *testing.T) []string {
	t.Helper()
	time.Sleep(100 * time.Millisecond) // nginx writes its log after the response
	f, err := os.Open(s.log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := s.pathRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		path, status := m[1], m[2]
		if strings.HasSuffix(path, "manifest.json") || (status != "200" && status != "206") {
			continue
		}
		got = append(got, filepath.Base(path))
	}
	sort.Strings(got)
	return got
}

// startNginx runs Debian's nginx with docs/SYNC.md's location block on a
// free 127.0.0.1 port, everything (pid, logs, temp files) under the test's
// directory.
func startNginx(t *testing.T, site string) *mirrorServer {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the tree is in the test's 0700 temp directory
	}
	conf := fmt.Sprintf(`%s
daemon off;
worker_processes 2;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log;
events { worker_connections 1024; }
http {
    access_log %[2]s/access.log;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    server {
        listen %[3]s;
        # docs/SYNC.md, "revocheck serve": the location block as documented.
        location /revocheck/ {
            alias %[4]s/;
            autoindex off;
            location ~ /\. { return 404; }
            location ~ manifest\.json$ { add_header Cache-Control no-cache; }
        }
    }
}
`, user, dir, addr, site)
	cf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("nginx", "-p", dir, "-c", cf, "-e", filepath.Join(dir, "error.log"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("nginx: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitListening(t, addr)
	log := filepath.Join(dir, "access.log")
	// combined format: ... "GET /revocheck/new/x.delta HTTP/1.1" 200 123 ...
	return &mirrorServer{name: "nginx", addr: addr, log: log,
		pathRE: regexp.MustCompile(`"GET (\S+) HTTP/[0-9.]+" (\d{3}) `)}
}

// startServe runs `revocheck serve --log` on the web root www (which
// holds the tree under revocheck/).
func startServe(t *testing.T, bin, www string) *mirrorServer {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	log := filepath.Join(dir, "serve.log")
	lf, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--dir", www, "--listen", addr, "--log")
	cmd.Stderr = lf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); lf.Close() })
	waitListening(t, addr)
	// serve's log: ... 127.0.0.1:5555 GET "/revocheck/new/x.delta" 200
	return &mirrorServer{name: "serve", addr: addr, log: log,
		pathRE: regexp.MustCompile(`GET "(\S+)" (\d{3})`)}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("nothing listening on %s after 5 s", addr)
}
