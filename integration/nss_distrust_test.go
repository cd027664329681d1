package integration

// False distrust through the NSS trust module, with real vfychain and
// tstclnt (issue 18 items 1 and 2):
//
//   - serials built so that one certificate's serial content bytes are
//     another's complete DER INTEGER (05 / 02 01 05, 80 / 02 02 00 80, ...),
//     revoked one way and valid the other;
//   - two CAs under one Name, one of which revokes a serial the other also
//     issued.
//
// docs/NSS.md "Serial encodings" and "Shared issuer names" state what these
// tests measure.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/crlcompile"
	"github.com/revocheck/revocheck/integration/harness"
)

// dpki is a small PKI with chosen serials.
type dpki struct {
	t    *testing.T
	dir  string
	now  time.Time
	root *dcert
}

type dcert struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	der  string // path of the DER file
	pem  string // path of the PEM file
}

func newDPKI(t *testing.T) *dpki {
	p := &dpki{t: t, dir: t.TempDir(), now: time.Now().Truncate(time.Second)}
	p.root = p.issue("root", "revocheck distrust test root", nil, true, big.NewInt(1))
	return p
}

// issue makes a certificate; serial is the positive INTEGER value (its DER
// content is the minimal two's-complement encoding, so 0x80 → 00 80).
func (p *dpki) issue(file, cn string, parent *dcert, ca bool, serial *big.Int) *dcert {
	t := p.t
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"revocheck distrust tests"}},
		NotBefore:    p.now.Add(-time.Hour),
		NotAfter:     p.now.Add(30 * 24 * time.Hour),
	}
	if ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, key.Public(), signerKey)
	if err != nil {
		t.Fatalf("issue %s: %v", file, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	d := &dcert{cert: c, key: key, der: filepath.Join(p.dir, file+".der"), pem: filepath.Join(p.dir, file+".pem")}
	must(t, os.WriteFile(d.der, der, 0o644))
	must(t, os.WriteFile(d.pem, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	return d
}

// crl is ca's DER CRL revoking the serials.
func (p *dpki) crl(ca *dcert, serials ...*big.Int) []byte {
	var entries []x509.RevocationListEntry
	for _, s := range serials {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: p.now.Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(p.now.Unix()), ThisUpdate: p.now.Add(-time.Hour), NextUpdate: p.now.Add(7 * 24 * time.Hour),
		RevokedCertificateEntries: entries,
	}, ca.cert, ca.key)
	if err != nil {
		p.t.Fatal(err)
	}
	return der
}

// cache compiles the CRLs (each verified against the CA certificates given)
// into a fresh cache directory, as `revocheck mirror crl` does.
func (p *dpki) cache(crls [][]byte, cas ...*dcert) string {
	dir := filepath.Join(p.t.TempDir(), "cache")
	var caPEMs [][]byte
	for _, c := range cas {
		b, err := os.ReadFile(c.pem)
		must(p.t, err)
		caPEMs = append(caPEMs, b)
	}
	if err := crlcompile.CompileFiles(crls, caPEMs, dir); err != nil {
		p.t.Fatalf("compile CRLs: %v", err)
	}
	return dir
}

// distrustDB is an NSS database trusting p's root, with the module reading
// cache when withModule.
func distrustDB(t *testing.T, rootPEM, cache string, withModule bool) string {
	t.Helper()
	certutil, modutil := nssTool(t, "certutil"), nssTool(t, "modutil")
	dir := filepath.Join(t.TempDir(), "nssdb")
	must(t, os.MkdirAll(dir, 0o755))
	db := "sql:" + dir
	if out, err := nssRun(t, nil, "", certutil, "-N", "--empty-password", "-d", db); err != nil {
		t.Fatalf("certutil -N: %v\n%s", err, out)
	}
	if out, err := nssRun(t, nil, "", certutil, "-A", "-n", "distrust test root", "-t", "C,,", "-a", "-i", rootPEM, "-d", db); err != nil {
		t.Fatalf("certutil -A: %v\n%s", err, out)
	}
	if withModule {
		lib := filepath.Join(harness.BuildDir(), "lib", nssModuleLibraryName)
		if out, err := nssRun(t, nil, "", modutil, "-add", "revocheck", "-libfile", lib,
			"-string", "cache-dir="+cache, "-dbdir", db, "-force"); err != nil {
			t.Fatalf("modutil -add: %v\n%s", err, out)
		}
	}
	return db
}

// vfy runs vfychain -u 1 on leaf+ca: "" when the chain is good, else the
// "ERROR -NNNN" code printed.
func vfy(t *testing.T, db string, env []string, leaf, ca *dcert) string {
	t.Helper()
	out, err := nssRun(t, env, "", nssTool(t, "vfychain"), "-d", db, "-u", "1", leaf.der, ca.der)
	if err == nil && strings.Contains(out, "Chain is good!") {
		return ""
	}
	if i := strings.Index(out, "ERROR -"); i >= 0 {
		return strings.TrimSuffix(strings.Fields(out[i:])[1], ":")
	}
	return "failed: " + fmt.Sprint(err)
}

func hexSerial(c *dcert) string {
	// The DER content bytes, as a CRL and NSS carry them.
	b := c.cert.SerialNumber.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return hex.EncodeToString(b)
}

func bigHex(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic(s)
	}
	return v
}

// TestNSSDistrustSerialEncodings: one CA's certificates whose serial
// content bytes are another's full DER INTEGER, in both directions: each
// revoked one is refused (vfychain -8171, tstclnt SEC_ERROR_UNTRUSTED_CERT),
// each valid one accepted; without the module all are accepted.
func TestNSSDistrustSerialEncodings(t *testing.T) {
	p := newDPKI(t)
	ca := p.issue("ca", "Serial Test CA", p.root, true, big.NewInt(2))
	type leafCase struct {
		serial  string // hex value
		revoked bool
	}
	cases := []leafCase{
		{"05", true}, {"020105", false}, // revoked one-byte serial; its DER as a valid serial
		{"07", false}, {"020107", true}, // and the other way round
		{"80", true}, {"02020080", false}, // leading 00 (content 00 80, DER 02 02 00 80)
		{"81", false}, {"02020081", true},
		{"7f", true}, {"02017f", false}, // one-byte serial at the sign boundary
		// A revoked serial that is itself a DER INTEGER (of 01 09), and
		// the valid serials it and its own DER encoding collide with.
		{"0109", false}, {"02020109", true}, {"020402020109", false},
	}
	var revoked []*big.Int
	leaves := map[string]*dcert{}
	for _, c := range cases {
		s := bigHex(strings.ReplaceAll(c.serial, " ", ""))
		leaves[c.serial] = p.issue("leaf-"+strings.ReplaceAll(c.serial, " ", ""), "localhost", ca, false, s)
		if c.revoked {
			revoked = append(revoked, s)
		}
	}
	cache := p.cache([][]byte{p.crl(ca, revoked...)}, ca)
	tstclnt := nssTool(t, "tstclnt")
	ports := map[string]int{}
	for _, c := range cases {
		ports[c.serial] = serveChain(t, leaves[c.serial], ca)
	}
	for _, withModule := range []bool{false, true} {
		db := distrustDB(t, p.root.pem, cache, withModule)
		for _, c := range cases {
			want := ""
			if withModule && c.revoked {
				want = secCode[secUntrustedCert]
			}
			leaf := leaves[c.serial]
			if got := vfy(t, db, []string{"REVOCHECK_DEBUG=1"}, leaf, ca); got != want {
				t.Errorf("module=%v serial %s (content %s, revoked %v): vfychain got %q, want %q",
					withModule, c.serial, hexSerial(leaf), c.revoked, got, want)
			}
			// The same chain presented by a TLS server, to tstclnt.
			out, err := nssRun(t, nil, "GET / HTTP/1.0\r\n\r\n", tstclnt,
				"-h", "127.0.0.1", "-p", fmt.Sprint(ports[c.serial]), "-d", db)
			hello := strings.Contains(out, "hello distrust")
			if wantOK := want == ""; wantOK != (err == nil && hello) ||
				(!wantOK && !strings.Contains(out, secUntrustedCert)) {
				t.Errorf("module=%v serial %s (revoked %v): tstclnt exit %v, connected %v", withModule, c.serial, c.revoked, err, hello)
			}
		}
	}
}

// serveChain serves leaf+ca over TLS on 127.0.0.1 until the test ends.
func serveChain(t *testing.T, leaf, ca *dcert) int {
	t.Helper()
	cert := tls.Certificate{Certificate: [][]byte{leaf.cert.Raw, ca.cert.Raw}, PrivateKey: leaf.key}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello distrust") }),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// revocheckCLI runs build/bin/revocheck with args; its exit code (-1 when it
// did not run) and output.
func revocheckCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	out, err := nssRun(t, nil, "", filepath.Join(harness.BuildDir(), "bin", "revocheck"), args...)
	if err == nil {
		return 0, out
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out
	}
	return -1, out
}

// TestNSSDistrustSharedName: CAs X and Y are both "CN=Corp Internal CA"
// (different keys); X revokes serial 02, which Y has also issued, valid.
//
//   - Both CRLs compiled: the Name is under two keys, so the module gives no
//     opinion for it. Y's valid 02 is accepted, and so is X's revoked 02:
//     the documented loss. `revocheck check` (by key, as the OpenSSL and
//     GnuTLS adapters) still refuses X's 02 and accepts Y's; `revocheck
//     status` warns about the shared Name.
//   - Only X's CRL compiled: the cache knows one key under the Name, and the
//     module distrusts X's revoked 02 — and Y's valid 02 too, the one
//     exception docs/NSS.md states (a CA whose CRL is not compiled is
//     invisible to the cache).
func TestNSSDistrustSharedName(t *testing.T) {
	p := newDPKI(t)
	x := p.issue("ca-x", "Corp Internal CA", p.root, true, big.NewInt(0x10))
	y := p.issue("ca-y", "Corp Internal CA", p.root, true, big.NewInt(0x11))
	if !bytes.Equal(x.cert.RawSubject, y.cert.RawSubject) {
		t.Fatal("the two CAs must carry byte-identical Names")
	}
	x02 := p.issue("x-02", "localhost", x, false, big.NewInt(2))
	x03 := p.issue("x-03", "localhost", x, false, big.NewInt(3))
	y02 := p.issue("y-02", "localhost", y, false, big.NewInt(2))
	y05 := p.issue("y-05", "localhost", y, false, big.NewInt(5))
	crlX, crlY := p.crl(x, big.NewInt(2)), p.crl(y, big.NewInt(5))

	unk, bad := "", secCode[secUntrustedCert]
	for _, tc := range []struct {
		desc  string
		cache string
		want  map[*dcert]string // vfychain verdict with the module
	}{
		{"both CRLs", p.cache([][]byte{crlX, crlY}, x, y),
			map[*dcert]string{x02: unk, x03: unk, y02: unk, y05: unk}},
		{"only X's CRL", p.cache([][]byte{crlX}, x),
			map[*dcert]string{x02: bad, x03: unk, y02: bad, y05: unk}},
	} {
		db := distrustDB(t, p.root.pem, tc.cache, true)
		for leaf, want := range tc.want {
			ca := x
			if leaf == y02 || leaf == y05 {
				ca = y
			}
			if got := vfy(t, db, nil, leaf, ca); got != want {
				t.Errorf("%s: %s: vfychain got %q, want %q", tc.desc, filepath.Base(leaf.der), got, want)
			}
		}
	}

	// The other stacks judge by issuer key: unaffected by the shared Name.
	both := p.cache([][]byte{crlX, crlY}, x, y)
	for leaf, want := range map[*dcert]int{x02: 2, x03: 0, y02: 0, y05: 2} {
		ca := x
		if leaf == y02 || leaf == y05 {
			ca = y
		}
		if code, out := revocheckCLI(t, "check", "--cache-dir", both, leaf.der, ca.der); code != want {
			t.Errorf("revocheck check %s: exit %d, want %d\n%s", filepath.Base(leaf.der), code, want, out)
		}
	}
	code, out := revocheckCLI(t, "status", "--cache-dir", both)
	if code < 0 || !strings.Contains(out, `WARNING: "CN=Corp Internal CA,O=revocheck distrust tests" is the name of 2 different CA keys`) {
		t.Errorf("revocheck status does not warn about the shared name (exit %d)", code)
	}
	code, out = revocheckCLI(t, "status", "--cache-dir", p.cache([][]byte{crlX}, x))
	if code < 0 || strings.Contains(out, "WARNING: \"CN=Corp") {
		t.Errorf("revocheck status warns about a name under one key (exit %d)", code)
	}
}

// TestNSSDistrustDatabaseCerts: a certificate NSS reads from its database
// (here imported with certutil -A) is asked about with the DER INTEGER only.
// A revoked serial of 8 octets or more is then still refused; a short one
// whose DER INTEGER is another certificate's valid serial is ambiguous and
// not distrusted (docs/NSS.md "Serial encodings").
func TestNSSDistrustDatabaseCerts(t *testing.T) {
	p := newDPKI(t)
	ca := p.issue("ca", "Database Test CA", p.root, true, big.NewInt(3))
	long := p.issue("leaf-long", "localhost", ca, false, bigHex("5a0b1c2d3e4f60718293a4b5c6d7e8f9"))
	short := p.issue("leaf-05", "localhost", ca, false, big.NewInt(5))
	p.issue("leaf-020105", "localhost", ca, false, bigHex("020105")) // valid
	cache := p.cache([][]byte{p.crl(ca, long.cert.SerialNumber, short.cert.SerialNumber)}, ca)
	certutil := nssTool(t, "certutil")
	for _, tc := range []struct {
		leaf *dcert
		want string
	}{
		{long, secCode[secUntrustedCert]},
		{short, ""}, // ambiguous from a database: the documented loss
	} {
		db := distrustDB(t, p.root.pem, cache, true)
		// Fresh from bytes (content bytes, then DER INTEGER): refused.
		if got := vfy(t, db, nil, tc.leaf, ca); got != secCode[secUntrustedCert] {
			t.Errorf("%s as a file: vfychain got %q, want refused", filepath.Base(tc.leaf.der), got)
		}
		for _, c := range []*dcert{ca, tc.leaf} {
			if out, err := nssRun(t, nil, "", certutil, "-A", "-n", filepath.Base(c.der), "-t", ",,", "-a", "-i", c.pem, "-d", db); err != nil {
				t.Fatalf("certutil -A: %v\n%s", err, out)
			}
		}
		if got := vfy(t, db, []string{"REVOCHECK_DEBUG=1"}, tc.leaf, ca); got != tc.want {
			t.Errorf("%s from the database: vfychain got %q, want %q", filepath.Base(tc.leaf.der), got, tc.want)
		}
	}
}

// TestNSSDistrustSearchReading drives the module's reading of a search
// (docs/NSS.md "Serial encodings", rules 1-3) search by search, on one OS
// thread, as NSS would: content bytes, the DER follow-up, and DER INTEGERs
// alone (database certificates).
func TestNSSDistrustSearchReading(t *testing.T) {
	p := newDPKI(t)
	ca := p.issue("ca", "Reading Test CA", p.root, true, big.NewInt(4))
	long := bigHex("5a0b1c2d3e4f6071") // 8 octets
	cache := p.cache([][]byte{p.crl(ca, big.NewInt(5), bigHex("020107"), long)}, ca)
	name := ca.cert.RawSubject
	runtime.LockOSThread() // the module remembers the previous search per thread
	defer runtime.UnlockOSThread()
	m := nssModule(t, harness.BuildDir(), "cache-dir="+cache)
	s := openRO(t, m)
	defer m.CloseSession(s)
	h := func(x string) []byte {
		b, err := hex.DecodeString(x)
		must(t, err)
		return b
	}
	for i, step := range []struct {
		serial string
		want   int
		why    string
	}{
		{"05", 1, "content bytes, revoked"},
		{"020105", 0, "valid 0x020105 asked by content bytes: ambiguous with the DER of 05"},
		{"0203020105", 0, "its DER follow-up: 020105, not revoked"},
		{"07", 0, "valid 07, content bytes"},
		{"020107", 0, "its DER follow-up: 07, not revoked (though 020107 is)"},
		{"020107", 0, "revoked 0x020107 by content bytes: ambiguous, no opinion yet"},
		{"0203020107", 1, "its DER follow-up: 020107, revoked"},
		{"0203020107", 0, "the same DER INTEGER alone (a database certificate): short serial, ambiguous"},
		{"020105", 0, "DER of revoked 05 alone: short serial, ambiguous"},
		{"5a0b1c2d3e4f6071", 1, "long revoked serial, content bytes"},
		{"02085a0b1c2d3e4f6071", 1, "its DER INTEGER alone: >= 8 octets, revoked"},
		{"02085a0b1c2d3e4f6072", 0, "DER INTEGER of a valid long serial"},
	} {
		if got := len(findTrust(t, m, s, trustTemplate(name, h(step.serial)))); got != step.want {
			t.Errorf("step %d, serial %s (%s): %d trust objects, want %d", i, step.serial, step.why, got, step.want)
		}
	}
}
