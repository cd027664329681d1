package integration

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/serve"
	"github.com/revocheck/revocheck/integration/harness"
)

// The shipped defaults against upki's public mirror, replicated: the
// command of dist/systemd/revocheck-fetch.service, with no flag, and the
// shipped dist/config.toml (every key at its default) fetch from
// https://upki.rustls.dev/revocation/ — here a replica of that host (its
// name, its paths, upki-mirror's manifest shape, intermediates/ beside
// revocation/, nothing at the root) served on 127.0.0.1:443 inside a
// network and mount namespace this test creates, where /etc/hosts says
// upki.rustls.dev is 127.0.0.1, /var/cache is a temporary directory, and a
// test CA is trusted through SSL_CERT_FILE. Then `revocheck check` with
// the defaults refuses the revoked certificate, and `revocheck status`
// has no warning. As a control, the previous default url
// (https://upki.rustls.dev/) fails loudly and status then warns first.
func TestShippedFetchAgainstUpkiReplica(t *testing.T) {
	if os.Geteuid() != 0 {
		harness.Missing(t, "root (to create a network and mount namespace)", "sudo make test")
	}
	harness.Require(t, "unshare", "util-linux")
	harness.Require(t, "ip", "iproute2")
	if out, err := exec.Command("unshare", "--net", "--mount", "true").CombinedOutput(); err != nil {
		harness.Missing(t, fmt.Sprintf("namespaces (unshare --net --mount: %v %s)", err, out), "run make test as root with CAP_SYS_ADMIN (not in an unprivileged container)")
	}
	env := harness.New(t)
	bin := filepath.Join(env.Build, "bin", "revocheck")
	dir := t.TempDir()

	// The unit's command, exactly; only the binary's path is this build's.
	argv := unitExecStart(t, "../dist/systemd/revocheck-fetch.service")
	if argv[0] != "/usr/bin/revocheck" || len(argv) != 2 || argv[1] != "fetch" {
		t.Fatalf("the shipped unit runs %q; this test expects `/usr/bin/revocheck fetch` with no flags", argv)
	}
	shippedConfig, err := filepath.Abs("../dist/config.toml")
	if err != nil {
		t.Fatal(err)
	}

	// The replica of https://upki.rustls.dev/.
	www := filepath.Join(dir, "www")
	filter, err := os.ReadFile(filepath.Join(env.CacheDir, "revocheck-test.filter"))
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().UTC().Format("20060102")
	upkiManifest(t, filepath.Join(www, "revocation"), map[string][]byte{
		day + "-0-default.filter":       filter,
		day + "-1-default.filter.delta": filter, // any clubcard over the same universe
	}, []string{day + "-0-default.filter", day + "-1-default.filter.delta"})
	upkiManifest(t, filepath.Join(www, "intermediates"), nil, nil)

	ca, certFile, keyFile := replicaTLS(t, dir, "upki.rustls.dev")
	hosts := filepath.Join(dir, "hosts")
	os.WriteFile(hosts, []byte("127.0.0.1 localhost\n::1 localhost\n127.0.0.1 upki.rustls.dev\n"), 0o644)
	varCache := filepath.Join(dir, "var-cache")
	os.MkdirAll(varCache, 0o755)
	reqLog := filepath.Join(dir, "requests.log")
	ready := filepath.Join(dir, "ready")
	controlCache := filepath.Join(dir, "control")

	script := `set -u
ip link set lo up
mount --bind "$R_HOSTS" /etc/hosts
mount --bind "$R_VARCACHE" /var/cache
UPKI_REPLICA_WWW="$R_WWW" UPKI_REPLICA_CERT="$R_CERT" UPKI_REPLICA_KEY="$R_KEY" \
UPKI_REPLICA_LOG="$R_LOG" UPKI_REPLICA_READY="$R_READY" \
	"$R_TESTBIN" -test.run '^TestUpkiReplicaServer$' >"$R_LOG.server" 2>&1 &
srv=$!
i=0
while [ ! -e "$R_READY" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
echo "== resolve: $(getent hosts upki.rustls.dev)"
echo "== fetch (the unit's command)"
SSL_CERT_FILE="$R_CA" "$@"
echo "== fetch exit $?"
echo "== check revoked"
"$R_BIN" check "$R_REVOKED"
echo "== check revoked exit $?"
echo "== check good"
"$R_BIN" check "$R_GOOD"
echo "== check good exit $?"
echo "== status"
"$R_BIN" status | head -n 2
echo "== control: the previous default url"
SSL_CERT_FILE="$R_CA" "$R_BIN" fetch --url https://upki.rustls.dev/ --cache-dir "$R_CONTROL" --attempts 1
echo "== control exit $?"
"$R_BIN" status --cache-dir "$R_CONTROL" | head -n 1
kill $srv
wait $srv 2>/dev/null
exit 0
`
	cmd := exec.Command("unshare", append([]string{"--net", "--mount", "--propagation", "private",
		"sh", "-c", script, "sh", bin}, argv[1:]...)...)
	cmd.Env = []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir, "LANG=C",
		"REVOCHECK_CONFIG=" + shippedConfig, // what the package installs as /etc/revocheck/config.toml
		"R_HOSTS=" + hosts, "R_VARCACHE=" + varCache, "R_WWW=" + www, "R_CERT=" + certFile, "R_KEY=" + keyFile,
		"R_LOG=" + reqLog, "R_READY=" + ready, "R_TESTBIN=" + os.Args[0], "R_CA=" + ca, "R_BIN=" + bin,
		"R_REVOKED=" + env.Sites["revoked"].ChainPEM, "R_GOOD=" + env.Sites["good"].ChainPEM, "R_CONTROL=" + controlCache,
	}
	timer := time.AfterFunc(90*time.Second, func() {
		if cmd.Process != nil {
			cmd.Process.Kill()
		}
	})
	defer timer.Stop()
	out, err := cmd.CombinedOutput()
	t.Logf("namespace run:\n%s", out)
	if err != nil {
		t.Fatalf("namespace run: %v", err)
	}
	srvOut, _ := os.ReadFile(reqLog + ".server")
	s := string(out)
	for _, want := range []string{
		"== resolve: 127.0.0.1",
		"== fetch exit 0\n",
		"== check revoked exit 2\n",
		"== check good exit 0\n",
		"== control exit 1\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q (server: %s)", want, srvOut)
		}
	}
	if i := strings.Index(s, "== status\n"); i < 0 || strings.HasPrefix(s[i+len("== status\n"):], "WARNING") {
		t.Errorf("status after a good fetch warns, or is missing")
	}
	if !strings.Contains(s, "not a revocation mirror") || !strings.Contains(s, "\nWARNING:  no revocation data in "+controlCache) {
		t.Errorf("the previous default url did not fail loudly, or status did not warn first")
	}

	// What the replica was asked: upki's paths, on upki's host name.
	logb, _ := os.ReadFile(reqLog)
	reqs := string(logb)
	for _, want := range []string{
		"upki.rustls.dev GET /revocation/manifest.json",
		"upki.rustls.dev GET /revocation/" + day + "-0-default.filter",
		"upki.rustls.dev GET /revocation/" + day + "-1-default.filter.delta",
		"upki.rustls.dev GET /revocation/crlsets/manifest.json",
	} {
		if !strings.Contains(reqs, want+"\n") {
			t.Errorf("the replica was not asked %q; it was asked:\n%s", want, reqs)
		}
	}
	// Where the data went: the default cache-dir's revocation/.
	for _, f := range []string{"manifest.json", "index.bin", day + "-0-default.filter"} {
		if _, err := os.Stat(filepath.Join(varCache, "revocheck", "revocation", f)); err != nil {
			t.Errorf("not in /var/cache/revocheck/revocation: %v", err)
		}
	}
}

// TestUpkiReplicaServer is the replica's server, run by the test above in
// its namespace (a re-execution of this test binary); alone it does
// nothing.
func TestUpkiReplicaServer(t *testing.T) {
	www := os.Getenv("UPKI_REPLICA_WWW")
	if www == "" {
		return // not a skip: alone it has nothing to do
	}
	h, err := serve.New(www)
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.OpenFile(os.Getenv("UPKI_REPLICA_LOG"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	ln, err := net.Listen("tcp", "127.0.0.1:443")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(os.Getenv("UPKI_REPLICA_READY"), nil, 0o644)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fmt.Fprintf(logf, "%s %s %s\n", r.Host, r.Method, r.URL.Path)
		mu.Unlock()
		h.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	t.Fatal(srv.ServeTLS(ln, os.Getenv("UPKI_REPLICA_CERT"), os.Getenv("UPKI_REPLICA_KEY")))
}

// unitExecStart returns the ExecStart= command of a systemd unit file.
func unitExecStart(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "ExecStart="); ok {
			return strings.Fields(v)
		}
	}
	t.Fatalf("%s: no ExecStart=", path)
	return nil
}

// upkiManifest writes files and the manifest upki-mirror writes
// (generated_at, comment, files), in order.
func upkiManifest(t *testing.T, dir string, files map[string][]byte, order []string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		Filename string `json:"filename"`
		Size     int    `json:"size"`
		Hash     string `json:"hash"`
	}
	list := []entry{}
	for _, n := range order {
		data := files[n]
		os.WriteFile(filepath.Join(dir, n), data, 0o644)
		sum := sha256.Sum256(data)
		list = append(list, entry{n, len(data), hex.EncodeToString(sum[:])})
	}
	m, _ := json.MarshalIndent(map[string]any{"generated_at": time.Now().Unix(),
		"comment": "rustls/upki run 20000000000", "files": list}, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), m, 0o644); err != nil {
		t.Fatal(err)
	}
}

// replicaTLS makes a test CA and a server certificate for host; it returns
// the CA's PEM file (for SSL_CERT_FILE) and the server's cert and key.
func replicaTLS(t *testing.T, dir, host string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "revocheck replica test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return
}
