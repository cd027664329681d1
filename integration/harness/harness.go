// Package harness sets up what every integration test and the demo need: a
// fresh test PKI, a revocation cache built with the project's own builder
// (clubcard filter + compiled CRL sets), and one HTTPS server on 127.0.0.1
// per site. Tests then drive real clients (curl, wget, tstclnt...) at it.
package harness

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall" // only SysProcAttr, which os/exec takes: a standard library type
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/revocheck/revocheck/core/cachedir"
	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/crlcompile"
	"github.com/revocheck/revocheck/core/filterbuild"
	"github.com/revocheck/revocheck/integration/testpki"
)

// Site is one running HTTPS server.
type Site struct {
	Name     string
	Port     int
	URL      string // https://127.0.0.1:PORT/
	ChainPEM string // leaf then issuer
	Leaf     []byte // DER
	Issuer   []byte // DER
	Revoked  bool   // revoked in the clubcard data or a CRL
}

// Env is a prepared test environment.
type Env struct {
	Dir      string
	Build    string // build directory (bin/, lib/)
	RootPEM  string
	CacheDir string
	CRLs     []string // DER CRL files (intermediate's, root's)
	PKI      *testpki.PKI
	Sites    map[string]*Site
	// CT: the CT logs, intermediate and sites (testpki.CTSiteNames, also in
	// Sites) of an Env made by NewCT; nil otherwise.
	CT      *testpki.CT
	servers []*http.Server
}

// New prepares an Env for a test; everything stops at the end of the test.
func New(t testing.TB) *Env {
	t.Helper()
	e, err := Setup(t.TempDir())
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	t.Cleanup(e.Close)
	return e
}

// NewCT is New plus the Certificate Transparency sites (issue 22): test
// logs, an intermediate enrolled in the clubcard data (so CT applies to its
// leaves) whose CRL revokes ct-revoked, and one server per
// testpki.CTSiteNames entry. The log list is e.CT.LogList; the cache holds
// no CT data until a test runs `revocheck mirror ctlogs` into it.
func NewCT(t testing.TB) *Env {
	t.Helper()
	e, err := setup(t.TempDir(), true)
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	t.Cleanup(e.Close)
	return e
}

// Setup prepares an Env in dir (used by New and by the demo).
func Setup(dir string) (*Env, error) { return setup(dir, false) }

func setup(dir string, ct bool) (*Env, error) {
	p, err := testpki.Generate(filepath.Join(dir, "pki"))
	if err != nil {
		return nil, err
	}
	e := &Env{Dir: dir, Build: BuildDir(), RootPEM: p.RootPEM(), PKI: p,
		CacheDir: filepath.Join(dir, "cache"), CRLs: []string{p.IntCRL, p.RootCRL}, Sites: map[string]*Site{}}
	names := testpki.SiteNames
	sites := p.Sites
	if ct {
		if e.CT, err = p.GenerateCT(); err != nil {
			return nil, err
		}
		e.CRLs = append(e.CRLs, e.CT.IntCRL)
		names = append(append([]string(nil), names...), testpki.CTSiteNames...)
		sites = map[string]*testpki.Site{}
		for n, s := range p.Sites {
			sites[n] = s
		}
		for n, s := range e.CT.Sites {
			sites[n] = s
		}
	}
	if err := e.buildCache(); err != nil {
		return nil, err
	}
	for _, name := range names {
		if err := e.serve(sites[name]); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

// buildCache writes the clubcard filter (with random filler serials, so the
// filter is not trivially small) and the compiled CRL sets.
func (e *Env) buildCache() error {
	p := e.PKI
	var entries []filterbuild.Entry
	add := func(cert, issuer *testpki.Cert, revoked bool) error {
		en, err := filterbuild.FromChain(cert.Cert.Raw, issuer.Cert.Raw, revoked)
		if err != nil {
			return err
		}
		entries = append(entries, en)
		return nil
	}
	for _, c := range []struct {
		cert, issuer *testpki.Cert
		revoked      bool
	}{
		{p.Sites["good"].Leaf, p.Int, false},
		{p.Sites["revoked"].Leaf, p.Int, true},
		{p.Sites["revoked-int"].Leaf, p.IntRevoked, false},
		{p.Int, p.Root, false},
		{p.IntOther, p.Root, false},
		{p.IntRevoked, p.Root, true},
	} {
		if err := add(c.cert, c.issuer, c.revoked); err != nil {
			return err
		}
	}
	fillers := []filterbuild.Entry{entries[0], entries[3]}
	if e.CT != nil {
		// The CT intermediate's logged leaves (their SCTs name the test
		// logs): the issuer is enrolled, so CT applies to every leaf it
		// issues, ct-none's included.
		for _, name := range testpki.CTSiteNames {
			if s := e.CT.Sites[name]; name != "ct-none" { // no SCTs: FromChain cannot place it
				if err := add(s.Leaf, e.CT.Int, s.Revoked); err != nil {
					return err
				}
			}
		}
		fillers = append(fillers, entries[len(entries)-1])
		if err := add(e.CT.Int, p.Root, false); err != nil {
			return err
		}
	}
	// Filler: other certificates of the same issuers, some revoked.
	for _, base := range fillers {
		for i := 0; i < 300; i++ {
			f := base
			f.Input.Serial = make([]byte, 16)
			rand.Read(f.Input.Serial)
			f.Input.Serial[0] &= 0x7f
			f.Input.SCTs = []certinput.SCT{base.Input.SCTs[0]}
			f.Revoked = i%20 == 0
			entries = append(entries, f)
		}
	}
	filter, err := filterbuild.Filter(entries, time.Now())
	if err != nil {
		return err
	}
	if err := cachedir.WriteFilters(e.CacheDir, []cachedir.File{{Name: "revocheck-test.filter", Data: filter}}); err != nil {
		return err
	}
	var crls, cas [][]byte
	for _, f := range e.CRLs {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		crls = append(crls, b)
	}
	caFiles := []string{p.Root.CertPEM, p.Int.CertPEM}
	if e.CT != nil {
		caFiles = append(caFiles, e.CT.Int.CertPEM)
	}
	for _, f := range caFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		cas = append(cas, b)
	}
	return crlcompile.CompileFiles(crls, cas, e.CacheDir)
}

func (e *Env) serve(s *testpki.Site) error {
	cert, err := tls.LoadX509KeyPair(s.ChainPEM, s.Leaf.KeyPEM)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	name := s.Name
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "hello from %s\n", name)
		}),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
	srv.ErrorLog = quietLog()
	go srv.ServeTLS(ln, "", "")
	e.servers = append(e.servers, srv)
	port := ln.Addr().(*net.TCPAddr).Port
	e.Sites[s.Name] = &Site{Name: s.Name, Port: port, URL: fmt.Sprintf("https://127.0.0.1:%d/", port),
		ChainPEM: s.ChainPEM, Leaf: s.Leaf.Cert.Raw, Issuer: s.Issuer.Cert.Raw,
		Revoked: s.Revoked || s.Name == "crl-revoked" || s.Name == "revoked-int"}
	return nil
}

// Close stops the servers.
func (e *Env) Close() {
	for _, s := range e.servers {
		s.Close()
	}
	e.servers = nil
}

// BuildDir is $REVOCHECK_BUILD, or build/ at the module root.
func BuildDir() string {
	if d := os.Getenv("REVOCHECK_BUILD"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "build")
}

// Run runs a client with extra environment, echoing the command, with a
// 60 s timeout that kills the whole process group. It returns the combined
// output and the exit error.
func (e *Env) Run(t testing.TB, extraEnv []string, name string, args ...string) (string, error) {
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
	cmd.Cancel = func() error { return unix.Kill(-cmd.Process.Pid, unix.SIGKILL) }
	cmd.Stdin = nil
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after 60s: %w", err)
	}
	t.Logf("%s(exit: %v)", out, err)
	return string(out), err
}
