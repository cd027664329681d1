package integration

// Chain completion from the preloaded intermediates (issue 21): servers on
// 127.0.0.1 that send their leaf certificate only, real clients through the
// OpenSSL provider (curl, python3 urllib, openssl s_client) and the GnuTLS
// hook (wget, gnutls-cli, git over libcurl-gnutls), caches with and without
// the intermediates set.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/revocheck/revocheck/integration/harness"
	"github.com/revocheck/revocheck/integration/testpki"
)

// gitRef is what the test git server advertises (dumb HTTP).
const gitRef = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

// leafOnlySite is an HTTPS server on 127.0.0.1 that sends only its leaf
// certificate; it also answers a dumb-HTTP git ls-remote for /repo.git.
type leafOnlySite struct {
	name string
	port int
	url  string
}

func serveLeafOnly(t *testing.T, s *testpki.Site) *leafOnlySite {
	t.Helper()
	cert := tls.Certificate{Certificate: [][]byte{s.Leaf.Cert.Raw}, PrivateKey: s.Leaf.Key}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	name := s.Name
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/repo.git/info/refs":
				w.Header().Set("Content-Type", "text/plain")
				fmt.Fprintf(w, "%s\trefs/heads/main\n", gitRef)
			case "/repo.git/HEAD":
				w.Header().Set("Content-Type", "text/plain")
				fmt.Fprint(w, "ref: refs/heads/main\n")
			default:
				fmt.Fprintf(w, "hello from %s\n", name)
			}
		}),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 10 * time.Second,
	}
	srv.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are the point
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	return &leafOnlySite{name: name, port: port, url: fmt.Sprintf("https://127.0.0.1:%d/", port)}
}

// icase is one test environment: the harness's PKI and cache, leaf-only
// servers, and copies of the cache with different intermediates sets.
type icase struct {
	env   *harness.Env
	hook  string
	rc    string // an empty config file
	sites map[string]*leafOnlySite
	// Caches: "set" has the enrolled and the revoked intermediate, "none"
	// no set at all, "forged" a certificate with the intermediate's subject
	// and key identifier but another key.
	caches map[string]string
}

func newICase(t *testing.T) *icase {
	t.Helper()
	env := harness.New(t)
	rc := filepath.Join(t.TempDir(), "empty.toml")
	if err := os.WriteFile(rc, []byte("# defaults only\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &icase{env: env, hook: gnutlsHookPath(t), rc: rc, sites: map[string]*leafOnlySite{}, caches: map[string]string{}}
	for _, n := range []string{"good", "revoked", "revoked-int", "unenrolled"} {
		c.sites[n] = serveLeafOnly(t, env.PKI.Sites[n])
	}
	p := env.PKI
	c.caches["none"] = copyCache(t, env)
	c.caches["set"] = copyCache(t, env)
	mirrorIntermediates(t, env, c.caches["set"], p.Int.CertPEM, p.IntRevoked.CertPEM)
	c.caches["forged"] = copyCache(t, env)
	mirrorIntermediates(t, env, c.caches["forged"], forgeIntermediate(t, p))
	return c
}

// mirrorIntermediates adds the certificates (PEM files) to cache's
// intermediates set the way an operator does: revocheck mirror
// intermediates --out CACHE CERT.pem...
func mirrorIntermediates(t *testing.T, env *harness.Env, cache string, pems ...string) {
	t.Helper()
	bin := filepath.Join(env.Build, "bin", "revocheck")
	out, err := exec.Command(bin, append([]string{"mirror", "intermediates", "--out", cache}, pems...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("revocheck mirror intermediates: %v\n%s", err, out)
	}
}

// forgeIntermediate writes a CA certificate with Int's subject and subject
// key identifier but a fresh key, signed by the root: it matches the leaf's
// issuer name and authority key identifier, and its key verifies nothing
// Int signed.
func forgeIntermediate(t *testing.T, p *testpki.PKI) string {
	t.Helper()
	return issueUnder(t, p.Root, &x509.Certificate{
		Subject:               p.Int.Cert.Subject,
		SubjectKeyId:          p.Int.Cert.SubjectKeyId,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}).CertPEM
}

// The clients. Each returns the output and whether it fetched the page
// (or, for git, listed the ref).

type iclient struct {
	name string
	run  func(t *testing.T, c *icase, env []string, s *leafOnlySite) (string, bool)
	// revoked is how the client says "revoked", with revokedEnv added
	// (libcurl says only "verification failed": the hook's debug line shows
	// why).
	revoked    string
	revokedEnv []string
}

func (c *icase) opensslOn(t *testing.T, cache string, extra ...string) []string {
	return confEnv(opensslConf(t, c.env, append([]string{"cache-dir = " + cache}, extra...)...))
}

func (c *icase) gnutlsOn(cache string, overrides ...string) []string {
	e := []string{"LD_PRELOAD=" + c.hook, "REVOCHECK_CONFIG=" + c.rc, "REVOCHECK_CACHE_DIR=" + cache}
	if len(overrides) > 0 {
		e = append(e, "REVOCHECK_GNUTLS_OVERRIDES="+strings.Join(overrides, ";"))
	}
	return e
}

func fetched(out, site string) bool { return strings.Contains(out, "hello from "+site) }

var opensslClients = []iclient{
	{name: "curl", run: func(t *testing.T, c *icase, env []string, s *leafOnlySite) (string, bool) {
		out, err := c.env.Run(t, env, "curl", "-sS", "--max-time", "30", "--cacert", c.env.RootPEM, s.url)
		return out, err == nil && fetched(out, s.name)
	}, revoked: "certificate revoked"},
	{name: "python3", run: func(t *testing.T, c *icase, env []string, s *leafOnlySite) (string, bool) {
		out, _ := c.env.Run(t, env, "python3", testdataScript("fetch.py"), c.env.RootPEM, s.url)
		return out, strings.Contains(out, "ok hello from "+s.name)
	}, revoked: "certificate revoked"},
	{name: "openssl", run: func(t *testing.T, c *icase, env []string, s *leafOnlySite) (string, bool) {
		out, err := c.env.Run(t, env, "openssl", "s_client", "-connect", "127.0.0.1:"+strconv.Itoa(s.port),
			"-CAfile", c.env.RootPEM, "-verify_return_error", "-brief")
		return out, err == nil && strings.Contains(out, "Verification: OK")
	}, revoked: "certificate revoked"},
}

var gnutlsClients = []iclient{
	{name: "wget", run: func(t *testing.T, c *icase, env []string, s *leafOnlySite) (string, bool) {
		out, err := c.env.Run(t, env, "wget", "--no-config", "--no-hsts", "-nv", "--tries=1", "--timeout=20",
			"--ca-certificate="+c.env.RootPEM, "-O-", s.url)
		return out, err == nil && fetched(out, s.name)
	}, revoked: "has been revoked"},
	{name: "gnutls-cli", run: func(t *testing.T, c *icase, env []string, s *leafOnlySite) (string, bool) {
		out, err := c.env.Run(t, env, "gnutls-cli", "--x509cafile", c.env.RootPEM, "-p", strconv.Itoa(s.port), "127.0.0.1")
		return out, err == nil && strings.Contains(out, "The certificate is trusted")
	}, revoked: "The certificate chain is revoked"},
	{name: "git", run: func(t *testing.T, c *icase, env []string, s *leafOnlySite) (string, bool) {
		home := t.TempDir()
		env = append(env, "HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "GIT_SSL_CAINFO="+c.env.RootPEM)
		out, err := c.env.Run(t, env, "git", "ls-remote", s.url+"repo.git")
		return out, err == nil && strings.Contains(out, gitRef+"\trefs/heads/main")
	}, revoked: "revoked, refused", revokedEnv: []string{"REVOCHECK_DEBUG=1"}},
}

func requireIClients(t *testing.T) {
	for _, n := range []string{"curl", "python3", "openssl", "wget", "gnutls-cli", "git"} {
		needClient(t, n)
	}
}

// TestIntermediatesCompletion: the leaf-only server fails without
// revocheck and without the set, and works with it; revocation still
// applies to the completed chain; nothing else is accepted.
func TestIntermediatesCompletion(t *testing.T) {
	requireIClients(t)
	c := newICase(t)
	sslOn := func(cache string, extra ...string) func(t *testing.T, cl iclient) []string {
		return func(t *testing.T, cl iclient) []string { return c.opensslOn(t, cache, extra...) }
	}
	gnuOn := func(cache string, extra ...string) func(t *testing.T, cl iclient) []string {
		return func(t *testing.T, cl iclient) []string { return c.gnutlsOn(cache, extra...) }
	}
	for _, stack := range []struct {
		name    string
		clients []iclient
		on      func(cache string, extra ...string) func(t *testing.T, cl iclient) []string
		off     []string
	}{
		{"openssl", opensslClients, sslOn, nil},
		{"gnutls", gnutlsClients, gnuOn, []string{"LD_PRELOAD=", "REVOCHECK_CONFIG=" + c.rc}},
	} {
		for _, cl := range stack.clients {
			t.Run(cl.name, func(t *testing.T) {
				expect := func(env []string, site string, want bool, why string) string {
					t.Helper()
					out, ok := cl.run(t, c, env, c.sites[site])
					if ok != want {
						t.Errorf("%s %s (%s): want fetched=%v, got:\n%s", cl.name, site, why, want, out)
					}
					return out
				}
				// Without revocheck, and with revocheck but no set: as today.
				expect(stack.off, "good", false, "without revocheck")
				expect(stack.on(c.caches["none"])(t, cl), "good", false, "cache without the set")
				// With the set: completed.
				set := stack.on(c.caches["set"])(t, cl)
				expect(set, "good", true, "intermediate in the set")
				// A revoked leaf under a completed chain is refused as revoked,
				// and so is a leaf under a revoked intermediate from the set.
				for _, s := range []string{"revoked", "revoked-int"} {
					out := expect(append(set, cl.revokedEnv...), s, false, "revoked under a completed chain")
					if !strings.Contains(out, cl.revoked) {
						t.Errorf("%s %s: want a revocation error, got:\n%s", cl.name, s, out)
					}
				}
				// An intermediate not in the set: fails as before.
				expect(set, "unenrolled", false, "intermediate not in the set")
				// Right subject and key identifier, wrong key: never accepted.
				expect(stack.on(c.caches["forged"])(t, cl), "good", false, "forged intermediate")
				// Turned off: as before.
				expect(stack.on(c.caches["set"], "intermediates=off")(t, cl), "good", false, "intermediates=off")
			})
		}
	}
}

// TestGnuTLSHookGetIssuerCallback: an issuer GnuTLS got from the
// application's getissuer callback (not the presented chain, not the trust
// list) is on the verified path, and the hook checks the certificates it
// issued and it: here the callback supplies the root's revoked intermediate
// for a leaf sent alone. Before the hook walked GnuTLS's own verified
// links, neither certificate was checked ("issuer not available").
func TestGnuTLSHookGetIssuerCallback(t *testing.T) {
	g := newGnuTLSCase(t)
	env := g.env
	drv := buildGnuTLSDriver(t, env.Build, "gnutls-verify-driver")
	p := env.PKI.Sites["revoked-int"]
	args := []string{"chain", env.RootPEM, p.Leaf.CertPEM, "--getissuer", p.Issuer.CertPEM}
	out, err := env.Run(t, g.with("REVOCHECK_DEBUG=1"), drv, args...)
	if err == nil || !strings.Contains(out, "getissuer callback: 1") || !strings.Contains(out, "parent: refused status=0x22 ") {
		t.Errorf("want the callback's revoked intermediate refused (0x22), got %v:\n%s", err, out)
	}
	if !strings.Contains(out, "certificate 1 of the chain (verified path): revoked") {
		t.Errorf("want the intermediate checked on the verified path:\n%s", out)
	}
	out, err = env.Run(t, g.without(), drv, args...)
	if err != nil || !strings.Contains(out, "parent: accepted") {
		t.Errorf("without the hook: want accepted (GnuTLS completes the chain itself), got %v:\n%s", err, out)
	}
	// A good leaf through the callback: checked and accepted.
	good := env.PKI.Sites["good"]
	out, err = env.Run(t, g.with("REVOCHECK_DEBUG=1"), drv, "chain", env.RootPEM, good.Leaf.CertPEM, "--getissuer", good.Issuer.CertPEM)
	if err != nil || !strings.Contains(out, "parent: accepted") ||
		!strings.Contains(out, "certificate 0 of the chain (verified path): not_revoked") {
		t.Errorf("good leaf via the callback: want accepted after a check, got %v:\n%s", err, out)
	}
}

// TestIntermediatesForkThreadsDaemon: completion in a forked child, from
// many threads at once, and from the check daemon.
func TestIntermediatesForkThreadsDaemon(t *testing.T) {
	requireIClients(t)
	c := newICase(t)
	env, set := c.env, c.caches["set"]
	good, revoked := c.sites["good"].url, c.sites["revoked"].url

	t.Run("fork-without-daemon", func(t *testing.T) {
		// The parent completes; a forked child has no Go runtime and no
		// daemon: no candidates, so the leaf-only server fails there as it
		// does without revocheck, and nothing hangs.
		out, err := env.Run(t, c.opensslOn(t, set), "python3", testdataScript("fork.py"), env.RootPEM, good, revoked)
		if err != nil {
			t.Fatalf("fork.py: %v", err)
		}
		for _, want := range []string{"parent good: ok hello from good", "child exit status: 0"} {
			if !strings.Contains(out, want) {
				t.Errorf("want %q:\n%s", want, out)
			}
		}
		for _, who := range []string{"parent revoked:", "parent after fork revoked:"} {
			if l := lineWith(out, who); !strings.Contains(l, "certificate revoked") {
				t.Errorf("%s want revoked, got %q", who, l)
			}
		}
		for _, who := range []string{"child good:", "child revoked:"} {
			if l := lineWith(out, who); !strings.Contains(l, "unable to get local issuer certificate") {
				t.Errorf("%s want the chain left incomplete (as without revocheck), got %q", who, l)
			}
		}
	})

	t.Run("fork-gnutls", func(t *testing.T) {
		drv := buildGnuTLSDriver(t, env.Build, "gnutls-verify-driver")
		leaf := env.PKI.Sites["good"].Leaf.CertPEM
		out, _ := env.Run(t, c.gnutlsOn(set), drv, "chain", env.RootPEM, leaf, "--fork")
		if !strings.Contains(out, "parent: accepted") || !strings.Contains(out, "child: refused") ||
			strings.Contains(out, "killed by signal") {
			t.Errorf("want the parent's chain completed and the child's left as GnuTLS found it:\n%s", out)
		}
	})

	t.Run("threads", func(t *testing.T) {
		out, err := env.Run(t, c.opensslOn(t, set), "python3", testdataScript("threads.py"), env.RootPEM,
			"16", "4", good, revoked)
		if err != nil || !strings.Contains(out, "correct=64 wrong=0") {
			t.Errorf("concurrent completions: want all 64 answers right, got %v:\n%s", err, out)
		}
	})

	t.Run("daemon", func(t *testing.T) {
		// No library: every answer, candidates included, comes from the
		// daemon; so does a forked child's.
		sock, _ := startDaemon(t, env, set)
		on := append(c.opensslOn(t, set, daemonOnly...), "REVOCHECK_SOCKET="+sock)
		out, err := env.Run(t, on, "python3", testdataScript("fork.py"), env.RootPEM, good, revoked)
		if err != nil {
			t.Fatalf("fork.py: %v", err)
		}
		for _, want := range []string{"parent good: ok hello from good", "child good: ok hello from good", "child exit status: 0"} {
			if !strings.Contains(out, want) {
				t.Errorf("want %q:\n%s", want, out)
			}
		}
		for _, who := range []string{"parent revoked:", "child revoked:"} {
			if l := lineWith(out, who); !strings.Contains(l, "certificate revoked") {
				t.Errorf("%s want revoked, got %q", who, l)
			}
		}
		// No REVOCHECK_CONFIG / REVOCHECK_CACHE_DIR: the daemon's
		// configuration (it serves no client with a config of its own).
		gnu := []string{"LD_PRELOAD=" + c.hook, "REVOCHECK_SOCKET=" + sock, "XDG_CONFIG_HOME=" + t.TempDir(),
			"REVOCHECK_LIBRARY=/nonexistent/librevocheck.so.0", "REVOCHECK_GNUTLS_UNAVAILABLE=deny"}
		for _, cl := range gnutlsClients {
			if out, ok := cl.run(t, c, gnu, c.sites["good"]); !ok {
				t.Errorf("%s through the daemon: want the completed chain accepted:\n%s", cl.name, out)
			}
			if out, ok := cl.run(t, c, gnu, c.sites["revoked"]); ok {
				t.Errorf("%s through the daemon: want the revoked leaf refused:\n%s", cl.name, out)
			}
		}
	})
}

// issueUnder signs tmpl (a fresh key, serial and a day's validity added)
// with parent's key.
func issueUnder(t *testing.T, parent *testpki.Cert, tmpl *x509.Certificate) *testpki.Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent.Cert, key.Public(), parent.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return &testpki.Cert{Cert: cert, Key: key, CertPEM: path}
}

// TestIntermediatesTwoLevels: the leaf's issuer is a sub-CA of the
// intermediate, and the server sends the leaf alone: a candidate that
// itself lacks its issuer is completed in a second round. With only the
// sub-CA in the set the chain stays incomplete, as without revocheck.
func TestIntermediatesTwoLevels(t *testing.T) {
	requireIClients(t)
	c := newICase(t)
	env, p := c.env, c.env.PKI
	name := pkix.Name{CommonName: "revocheck test sub-CA", Organization: []string{"revocheck tests"}}
	sub := issueUnder(t, p.Int, &x509.Certificate{Subject: name, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign})
	leaf := issueUnder(t, sub, &x509.Certificate{Subject: pkix.Name{CommonName: "deep.revocheck.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}})
	site := serveLeafOnly(t, &testpki.Site{Name: "deep", Leaf: leaf})
	both, subOnly := copyCache(t, env), copyCache(t, env)
	mirrorIntermediates(t, env, both, sub.CertPEM, p.Int.CertPEM)
	mirrorIntermediates(t, env, subOnly, sub.CertPEM)
	for _, cl := range append(append([]iclient{}, opensslClients...), gnutlsClients...) {
		on := func(cache string) []string {
			if slices.ContainsFunc(opensslClients, func(o iclient) bool { return o.name == cl.name }) {
				return c.opensslOn(t, cache)
			}
			return c.gnutlsOn(cache)
		}
		if out, ok := cl.run(t, c, on(both), site); !ok {
			t.Errorf("%s: want the two-level chain completed:\n%s", cl.name, out)
		}
		if out, ok := cl.run(t, c, on(subOnly), site); ok {
			t.Errorf("%s: only the sub-CA in the set: want the chain left incomplete:\n%s", cl.name, out)
		}
	}
}
