package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// countingProxy forwards TCP connections to backend and counts the bytes
// each way: what a fetch really puts on the wire (headers included).
type countingProxy struct {
	ln           net.Listener
	backend      atomic.Pointer[string]
	down, up     atomic.Int64 // server → client, client → server
	conns        atomic.Int64
	active       sync.WaitGroup
	activeCount  atomic.Int64
	acceptClosed chan struct{}
}

func newProxy() (*countingProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &countingProxy{ln: ln, acceptClosed: make(chan struct{})}
	go p.serve()
	return p, nil
}

func (p *countingProxy) serve() {
	defer close(p.acceptClosed)
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		p.active.Add(1)
		p.activeCount.Add(1)
		go p.relay(c)
	}
}

func (p *countingProxy) relay(c net.Conn) {
	defer p.active.Done()
	defer p.activeCount.Add(-1)
	defer c.Close()
	b, err := net.Dial("tcp", *p.backend.Load())
	if err != nil {
		return
	}
	defer b.Close()
	done := make(chan struct{})
	go func() {
		n, _ := io.Copy(b, c)
		p.up.Add(n)
		b.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	n, _ := io.Copy(c, b)
	p.down.Add(n)
	c.(*net.TCPConn).CloseWrite()
	<-done
}

// settle waits until every relayed connection has closed.
func (p *countingProxy) settle() {
	deadline := time.Now().Add(5 * time.Second)
	for p.activeCount.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

func (p *countingProxy) reset() { p.down.Store(0); p.up.Store(0); p.conns.Store(0) }

// startServe runs `revocheck serve --dir dir` on a free port and returns
// its address and the process.
func startServe(bin, dir string) (string, *exec.Cmd, error) {
	cmd := exec.Command(bin, "serve", "--dir", dir, "--listen", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return "", nil, fmt.Errorf("revocheck serve printed nothing: %v", err)
	}
	m := regexp.MustCompile(`http://([0-9.:]+)/`).FindStringSubmatch(line)
	if m == nil {
		cmd.Process.Kill()
		cmd.Wait()
		return "", nil, fmt.Errorf("revocheck serve: unexpected %q", line)
	}
	go io.Copy(io.Discard, out)
	return m[1], cmd, nil
}

type fetchResult struct {
	wall      time.Duration
	down, up  int64
	conns     int64
	files     int64 // filters downloaded, per fetch's summary
	fileBytes int64
	upToDate  bool
	summary   string
}

var downloadedRE = regexp.MustCompile(`revocation data: updated: (\d+) downloaded \((\d+) bytes\)`)

func runFetch(bin string, p *countingProxy, cacheDir string) (fetchResult, error) {
	p.reset()
	// The synthetic data is dated 2025: with max-age on, fetch would
	// (rightly) fail on stale data. Staleness is not what this measures.
	cfg := filepath.Join(filepath.Dir(cacheDir), "fetch-config.toml")
	if err := os.WriteFile(cfg, []byte("max-age = \"0\"\n"), 0o644); err != nil {
		return fetchResult{}, err
	}
	cmd := exec.Command(bin, "fetch", "--url", "http://"+p.ln.Addr().String()+"/", "--cache-dir", cacheDir,
		"--attempts", "1", "--lock-wait", "0s", "--config", cfg)
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(t0)
	if err != nil {
		return fetchResult{}, fmt.Errorf("revocheck fetch: %v\n%s", err, out)
	}
	p.settle()
	r := fetchResult{wall: wall, down: p.down.Load(), up: p.up.Load(), conns: p.conns.Load(), summary: strings.TrimSpace(string(out))}
	if m := downloadedRE.FindStringSubmatch(string(out)); m != nil {
		r.files, _ = strconv.ParseInt(m[1], 10, 64)
		r.fileBytes, _ = strconv.ParseInt(m[2], 10, 64)
	}
	r.upToDate = strings.Contains(string(out), "revocation data: up to date")
	return r, nil
}

// treeBytes is the size of what a mirror tree serves to a fetch: the
// manifest and every filter it lists.
func treeBytes(dir string) (int64, error) {
	_, filters, err := cacheBytes(dir)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return 0, err
	}
	return filters + fi.Size(), nil
}

// cmdSync measures revocheck fetch against revocheck serve of two
// synthetic mirror trees one run apart (mozilla-prev, then mozilla, which
// adds one delta): a cold fetch into an empty cache, the delta fetch, and a
// no-op fetch; bytes counted on the wire by a TCP proxy in front of serve.
func cmdSync(args []string) error {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	rowsPath := fs.String("rows", "", "rows file (default $BENCH_ROWS)")
	bin := fs.String("revocheck", "build/bin/revocheck", "the revocheck binary")
	runs := fs.Int("runs", 5, "repetitions (medians of the times)")
	cmdline := fs.String("cmd", "bench/sync-cost.sh", "reproduce command to show in the rows")
	if err := fs.Parse(args); err != nil {
		return err
	}
	prev, _, err := synthetic("mozilla-prev")
	if err != nil {
		return err
	}
	cur, _, err := synthetic("mozilla")
	if err != nil {
		return err
	}
	prevBytes, err := treeBytes(prev)
	if err != nil {
		return err
	}
	curNames, err := filterNames(cur)
	if err != nil {
		return err
	}
	newest, err := os.Stat(filepath.Join(cur, curNames[len(curNames)-1]))
	if err != nil {
		return err
	}
	mfst, err := os.Stat(filepath.Join(cur, "manifest.json"))
	if err != nil {
		return err
	}

	p, err := newProxy()
	if err != nil {
		return err
	}
	defer p.ln.Close()
	prevAddr, prevCmd, err := startServe(*bin, prev)
	if err != nil {
		return err
	}
	defer func() { prevCmd.Process.Kill(); prevCmd.Wait() }()
	curAddr, curCmd, err := startServe(*bin, cur)
	if err != nil {
		return err
	}
	defer func() { curCmd.Process.Kill(); curCmd.Wait() }()

	tmp, err := os.MkdirTemp("", "revocheck-sync-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var cold, delta, noop []fetchResult
	for i := range *runs {
		cache := filepath.Join(tmp, fmt.Sprintf("cache%d", i))
		p.backend.Store(&prevAddr)
		r, err := runFetch(*bin, p, cache)
		if err != nil {
			return err
		}
		cold = append(cold, r)
		p.backend.Store(&curAddr)
		if r, err = runFetch(*bin, p, cache); err != nil {
			return err
		}
		delta = append(delta, r)
		if r, err = runFetch(*bin, p, cache); err != nil {
			return err
		}
		noop = append(noop, r)
		if i == 0 {
			fmt.Printf("cold:  %s\ndelta: %s\nno-op: %s\n", cold[0].summary, delta[0].summary, noop[0].summary)
		}
	}
	med := func(rs []fetchResult) (time.Duration, fetchResult) {
		var w []float64
		for _, r := range rs {
			w = append(w, float64(r.wall))
		}
		return time.Duration(median(w)), rs[len(rs)-1]
	}
	fmtB := func(n int64) string {
		if n >= 1e6 {
			return fmt.Sprintf("%.2f MB", float64(n)/1e6)
		}
		return fmt.Sprintf("%d B", n)
	}
	w, r := med(cold)
	ratio := float64(r.down) / float64(prevBytes)
	if err := emit(*rowsPath, Row{"sync", fmt.Sprintf("cold fetch: empty cache ← mirror of %d filters (%s of manifest + filters)", r.files, fmtB(prevBytes)),
		fmt.Sprintf("%s received (%.3f× the data), %s sent, %d connections, %v", fmtB(r.down), ratio, fmtB(r.up), r.conns, w.Round(time.Millisecond)),
		"within a few % of the data", verdict(ratio <= 1.05 && r.files > 0), *cmdline}); err != nil {
		return err
	}
	w, r = med(delta)
	changed := newest.Size() + mfst.Size()
	ratio = float64(r.down) / float64(changed)
	if err := emit(*rowsPath, Row{"sync", fmt.Sprintf("delta fetch: one new delta (%s) + manifest (%s)", fmtB(newest.Size()), fmtB(mfst.Size())),
		fmt.Sprintf("%s received (%.3f× the changed data), %d filter downloaded, %s sent, %v", fmtB(r.down), ratio, r.files, fmtB(r.up), w.Round(time.Millisecond)),
		"only the changed filter", verdict(r.files == 1 && r.fileBytes == newest.Size() && ratio <= 1.05), *cmdline}); err != nil {
		return err
	}
	w, r = med(noop)
	if err := emit(*rowsPath, Row{"sync", "no-op fetch: mirror unchanged",
		fmt.Sprintf("%s received, %s sent, %d filter bytes, %d connections, %v", fmtB(r.down), fmtB(r.up), r.fileBytes, r.conns, w.Round(time.Millisecond)),
		"no filter bytes", verdict(r.upToDate && r.fileBytes == 0 && r.down < mfst.Size()), *cmdline}); err != nil {
		return err
	}
	return nil
}
