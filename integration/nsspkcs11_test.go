package integration

// Drives build/lib/libnssrevocheck.so through github.com/miekg/pkcs11: the
// PKCS#11 conformance of what the module implements, its trust answers for
// the harness sites (both serial encodings), bad templates, concurrency,
// Finalize/re-Initialize, and the false-distrust bound (TestNSSFalseDistrust).

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/miekg/pkcs11"

	"github.com/revocheck/revocheck/core/cachedir"
	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/clubcard"
	"github.com/revocheck/revocheck/core/crlcompile"
	"github.com/revocheck/revocheck/core/crlset"
	"github.com/revocheck/revocheck/core/engine"
	"github.com/revocheck/revocheck/core/filterbuild"
	"github.com/revocheck/revocheck/core/outcome"
	"github.com/revocheck/revocheck/integration/harness"
)

// NSS vendor constants (pkcs11n.h).
const (
	ckoNSSTrust          = 0x80000000 | 0x4E534350 + 3
	ckaTrust             = 0x80000000 | 0x4E534350 + 0x2000
	ckaTrustServerAuth   = ckaTrust + 8
	ckaTrustClientAuth   = ckaTrust + 9
	ckaTrustCodeSigning  = ckaTrust + 10
	ckaTrustEmailProt    = ckaTrust + 11
	ckaTrustStepUp       = ckaTrust + 16
	ckaCertSHA1Hash      = ckaTrust + 100
	cktNSSNotTrusted     = 0x80000000 | 0x4E534350 + 10
	nssModuleLibraryName = "libnssrevocheck.so"
)

// nssModule loads the module and initializes it with params (the
// modutil -string / x-init-reserved string). Finalized at test end.
func nssModule(t *testing.T, build, params string) *pkcs11.Ctx {
	t.Helper()
	path := filepath.Join(build, "lib", nssModuleLibraryName)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s missing (run make): %v", path, err)
	}
	p := pkcs11.New(path)
	if p == nil {
		t.Fatalf("cannot load %s", path)
	}
	if err := nssInit(p, params); err != nil {
		t.Fatalf("C_Initialize(%q): %v", params, err)
	}
	t.Cleanup(func() {
		p.Finalize() // may already be finalized by the test
		p.Destroy()
	})
	return p
}

func nssInit(p *pkcs11.Ctx, params string) error {
	if params == "" {
		return p.Initialize()
	}
	buf := append([]byte(params), 0) // the module copies it during the call
	return p.Initialize(pkcs11.InitializeWithReserved(unsafe.Pointer(&buf[0])))
}

func ckrOf(err error) uint {
	var e pkcs11.Error
	if errors.As(err, &e) {
		return uint(e)
	}
	if err == nil {
		return pkcs11.CKR_OK
	}
	return ^uint(0)
}

// certIssuerSerial returns a certificate's issuer Name (DER) and its serial
// as DER INTEGER content bytes and as a complete DER INTEGER.
func certIssuerSerial(t *testing.T, der []byte) (issuer, content, full []byte) {
	t.Helper()
	var c certinput.Cert
	if err := certinput.ParseCert(der, &c); err != nil {
		t.Fatal(err)
	}
	return c.Issuer, c.Serial, derInteger(c.Serial)
}

func derInteger(content []byte) []byte {
	if len(content) < 0x80 {
		return append([]byte{0x02, byte(len(content))}, content...)
	}
	return append([]byte{0x02, 0x81, byte(len(content))}, content...)
}

// findTrust runs one trust search and returns the handles found.
func findTrust(t testing.TB, p *pkcs11.Ctx, s pkcs11.SessionHandle, tmpl []*pkcs11.Attribute) []pkcs11.ObjectHandle {
	t.Helper()
	if err := p.FindObjectsInit(s, tmpl); err != nil {
		t.Fatalf("C_FindObjectsInit: %v", err)
	}
	var all []pkcs11.ObjectHandle
	for {
		objs, _, err := p.FindObjects(s, 10)
		if err != nil {
			t.Fatalf("C_FindObjects: %v", err)
		}
		if len(objs) == 0 {
			break
		}
		all = append(all, objs...)
	}
	if err := p.FindObjectsFinal(s); err != nil {
		t.Fatalf("C_FindObjectsFinal: %v", err)
	}
	return all
}

func trustTemplate(issuer, serial []byte) []*pkcs11.Attribute {
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, uint(ckoNSSTrust)),
		pkcs11.NewAttribute(pkcs11.CKA_ISSUER, issuer),
		pkcs11.NewAttribute(pkcs11.CKA_SERIAL_NUMBER, serial),
	}
}

func openRO(t testing.TB, p *pkcs11.Ctx) pkcs11.SessionHandle {
	t.Helper()
	s, err := p.OpenSession(1, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		t.Fatalf("C_OpenSession: %v", err)
	}
	return s
}

func TestNSSModuleInfo(t *testing.T) {
	env := harness.New(t)
	p := nssModule(t, env.Build, "cache-dir="+env.CacheDir)

	info, err := p.GetInfo()
	if err != nil {
		t.Fatal(err)
	}
	version, _ := os.ReadFile(filepath.Join(env.Build, "..", "VERSION"))
	var major, minor int
	fmt.Sscanf(string(version), "%d.%d", &major, &minor)
	if info.CryptokiVersion.Major != 2 || info.CryptokiVersion.Minor != 40 ||
		info.ManufacturerID != "revocheck" || !strings.Contains(info.LibraryDescription, "revocheck") ||
		int(info.LibraryVersion.Major) != major || int(info.LibraryVersion.Minor) != minor {
		t.Fatalf("C_GetInfo: %+v (VERSION %q)", info, version)
	}
	slots, err := p.GetSlotList(true)
	if err != nil || len(slots) != 1 {
		t.Fatalf("C_GetSlotList: %v %v", slots, err)
	}
	si, err := p.GetSlotInfo(slots[0])
	if err != nil {
		t.Fatal(err)
	}
	if si.Flags&pkcs11.CKF_TOKEN_PRESENT == 0 || si.Flags&pkcs11.CKF_HW_SLOT != 0 {
		t.Fatalf("slot flags %#x: want TOKEN_PRESENT without HW_SLOT", si.Flags)
	}
	ti, err := p.GetTokenInfo(slots[0])
	if err != nil {
		t.Fatal(err)
	}
	want := uint(pkcs11.CKF_TOKEN_INITIALIZED | pkcs11.CKF_WRITE_PROTECTED)
	if ti.Flags&want != want || ti.Flags&pkcs11.CKF_LOGIN_REQUIRED != 0 {
		t.Fatalf("token flags %#x", ti.Flags)
	}
	if _, err := p.GetSlotInfo(2); ckrOf(err) != pkcs11.CKR_SLOT_ID_INVALID {
		t.Fatalf("slot 2: %v", err)
	}
	if mechs, err := p.GetMechanismList(slots[0]); err != nil || len(mechs) != 0 {
		t.Fatalf("mechanisms: %v %v", mechs, err)
	}
	if _, err := p.OpenSession(slots[0], pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION); ckrOf(err) != pkcs11.CKR_TOKEN_WRITE_PROTECTED {
		t.Fatalf("RW session: %v, want CKR_TOKEN_WRITE_PROTECTED", err)
	}
	if _, err := p.OpenSession(slots[0], 0); ckrOf(err) != pkcs11.CKR_SESSION_PARALLEL_NOT_SUPPORTED {
		t.Fatalf("session without CKF_SERIAL_SESSION: %v", err)
	}
	s := openRO(t, p)
	if sinfo, err := p.GetSessionInfo(s); err != nil || sinfo.State != pkcs11.CKS_RO_PUBLIC_SESSION || sinfo.SlotID != 1 {
		t.Fatalf("session info %+v %v", sinfo, err)
	}
	// Not implemented: exact code, no crash.
	if err := p.Login(s, pkcs11.CKU_USER, "1234"); ckrOf(err) != pkcs11.CKR_FUNCTION_NOT_SUPPORTED {
		t.Fatalf("C_Login: %v", err)
	}
	if _, err := p.GenerateRandom(s, 8); ckrOf(err) != pkcs11.CKR_FUNCTION_NOT_SUPPORTED {
		t.Fatalf("C_GenerateRandom: %v", err)
	}
	if err := p.CloseSession(s); err != nil {
		t.Fatal(err)
	}
	if err := p.CloseSession(s); ckrOf(err) != pkcs11.CKR_SESSION_HANDLE_INVALID {
		t.Fatalf("double close: %v", err)
	}
	if err := nssInit(p, ""); ckrOf(err) != pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
		t.Fatalf("second C_Initialize: %v", err)
	}
}

func TestNSSModuleTrustAnswers(t *testing.T) {
	env := harness.New(t)
	p := nssModule(t, env.Build, "cache-dir="+env.CacheDir)
	s := openRO(t, p)
	defer p.CloseSession(s)

	for _, tc := range []struct {
		site    string
		cert    func(*harness.Site) []byte
		revoked bool
	}{
		{"crl-revoked", leafOf, true},
		{"revoked", leafOf, true}, // also in the intermediate's CRL
		{"good", leafOf, false},
		{"uncovered", leafOf, false},
		{"unenrolled", leafOf, false},
		{"revoked-int", issuerOf, true}, // the intermediate, in the root's CRL
		{"revoked-int", leafOf, false},  // its leaf is not itself revoked
	} {
		site := env.Sites[tc.site]
		issuer, content, full := certIssuerSerial(t, tc.cert(site))
		for _, serial := range [][]byte{content, full} {
			objs := findTrust(t, p, s, trustTemplate(issuer, serial))
			if tc.revoked != (len(objs) == 1) || len(objs) > 1 {
				t.Errorf("%s (serial %x): %d trust objects, revoked=%v", tc.site, serial, len(objs), tc.revoked)
				continue
			}
			if !tc.revoked {
				continue
			}
			checkTrustObject(t, p, s, objs[0], issuer, serial)
		}
	}
}

func leafOf(s *harness.Site) []byte   { return s.Leaf }
func issuerOf(s *harness.Site) []byte { return s.Issuer }

// checkTrustObject reads every attribute NSS reads and some it must not find.
func checkTrustObject(t *testing.T, p *pkcs11.Ctx, s pkcs11.SessionHandle, o pkcs11.ObjectHandle, issuer, serial []byte) {
	t.Helper()
	attrs, err := p.GetAttributeValue(s, o, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, nil),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, nil),
		pkcs11.NewAttribute(pkcs11.CKA_ISSUER, nil),
		pkcs11.NewAttribute(pkcs11.CKA_SERIAL_NUMBER, nil),
		pkcs11.NewAttribute(ckaTrustServerAuth, nil),
		pkcs11.NewAttribute(ckaTrustClientAuth, nil),
		pkcs11.NewAttribute(ckaTrustEmailProt, nil),
		pkcs11.NewAttribute(ckaTrustCodeSigning, nil),
		pkcs11.NewAttribute(ckaTrustStepUp, nil),
	})
	if err != nil {
		t.Fatalf("C_GetAttributeValue: %v", err)
	}
	ulong := func(b []byte) uint64 {
		if len(b) != 8 {
			t.Fatalf("CK_ULONG of %d bytes", len(b))
		}
		return binary.NativeEndian.Uint64(b)
	}
	if ulong(attrs[0].Value) != ckoNSSTrust || !bytes.Equal(attrs[1].Value, []byte{1}) ||
		!bytes.Equal(attrs[2].Value, issuer) || !bytes.Equal(attrs[3].Value, serial) {
		t.Fatalf("trust object: class %x token %x issuer ok %v serial %x", attrs[0].Value, attrs[1].Value,
			bytes.Equal(attrs[2].Value, issuer), attrs[3].Value)
	}
	for _, a := range attrs[4:8] {
		if ulong(a.Value) != cktNSSNotTrusted {
			t.Fatalf("attribute %#x = %x, want CKT_NSS_NOT_TRUSTED", a.Type, a.Value)
		}
	}
	if !bytes.Equal(attrs[8].Value, []byte{0}) {
		t.Fatalf("CKA_TRUST_STEP_UP_APPROVED = %x", attrs[8].Value)
	}
	if _, err := p.GetAttributeValue(s, o, []*pkcs11.Attribute{pkcs11.NewAttribute(ckaCertSHA1Hash, nil)}); ckrOf(err) != pkcs11.CKR_ATTRIBUTE_TYPE_INVALID {
		t.Fatalf("CKA_CERT_SHA1_HASH: %v, want CKR_ATTRIBUTE_TYPE_INVALID", err)
	}
}

func TestNSSModuleBadTemplates(t *testing.T) {
	env := harness.New(t)
	p := nssModule(t, env.Build, "cache-dir="+env.CacheDir)
	s := openRO(t, p)
	defer p.CloseSession(s)
	issuer, serial, _ := certIssuerSerial(t, env.Sites["crl-revoked"].Leaf)

	none := func(name string, tmpl []*pkcs11.Attribute) {
		if objs := findTrust(t, p, s, tmpl); len(objs) != 0 {
			t.Errorf("%s: found %d objects", name, len(objs))
		}
	}
	none("empty template", nil)
	none("class only", []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, uint(ckoNSSTrust))})
	none("no serial", []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, uint(ckoNSSTrust)), pkcs11.NewAttribute(pkcs11.CKA_ISSUER, issuer)})
	none("certificate class", append(trustTemplate(issuer, serial)[1:], pkcs11.NewAttribute(pkcs11.CKA_CLASS, uint(pkcs11.CKO_CERTIFICATE))))
	none("with SHA1 hash", append(trustTemplate(issuer, serial), pkcs11.NewAttribute(ckaCertSHA1Hash, make([]byte, 20))))
	none("trusted server auth", append(trustTemplate(issuer, serial), pkcs11.NewAttribute(ckaTrustServerAuth, uint(cktNSSNotTrusted+1))))
	none("short class", []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, []byte{1}), pkcs11.NewAttribute(pkcs11.CKA_ISSUER, issuer), pkcs11.NewAttribute(pkcs11.CKA_SERIAL_NUMBER, serial)})
	none("garbage issuer", trustTemplate([]byte{0x30, 0x00}, serial))
	none("empty serial", trustTemplate(issuer, []byte{}))
	none("huge serial", trustTemplate(issuer, bytes.Repeat([]byte{1}, 4096)))
	// Matching extra attributes still match; no class matches too.
	if objs := findTrust(t, p, s, append(trustTemplate(issuer, serial), pkcs11.NewAttribute(ckaTrustServerAuth, uint(cktNSSNotTrusted)))); len(objs) != 1 {
		t.Errorf("template with matching trust attribute: %d objects", len(objs))
	}
	if objs := findTrust(t, p, s, trustTemplate(issuer, serial)[1:]); len(objs) != 1 {
		t.Errorf("template without class: %d objects", len(objs))
	}

	// Operation state errors.
	if err := p.FindObjectsInit(s, trustTemplate(issuer, serial)); err != nil {
		t.Fatal(err)
	}
	if err := p.FindObjectsInit(s, trustTemplate(issuer, serial)); ckrOf(err) != pkcs11.CKR_OPERATION_ACTIVE {
		t.Errorf("second FindObjectsInit: %v", err)
	}
	objs, _, err := p.FindObjects(s, 0)
	if err != nil || len(objs) != 0 {
		t.Errorf("FindObjects(max 0): %v %v", objs, err)
	}
	p.FindObjectsFinal(s)
	if _, _, err := p.FindObjects(s, 1); ckrOf(err) != pkcs11.CKR_OPERATION_NOT_INITIALIZED {
		t.Errorf("FindObjects without init: %v", err)
	}
	if err := p.FindObjectsFinal(s); ckrOf(err) != pkcs11.CKR_OPERATION_NOT_INITIALIZED {
		t.Errorf("FindObjectsFinal without init: %v", err)
	}
	if err := p.FindObjectsInit(pkcs11.SessionHandle(9999), trustTemplate(issuer, serial)); ckrOf(err) != pkcs11.CKR_SESSION_HANDLE_INVALID {
		t.Errorf("bad session: %v", err)
	}
	if _, err := p.GetAttributeValue(s, pkcs11.ObjectHandle(123456), []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, nil)}); ckrOf(err) != pkcs11.CKR_OBJECT_HANDLE_INVALID {
		t.Errorf("bad object: %v", err)
	}
	// An attribute the object does not have, next to one it has: the
	// known one is still filled (PKCS#11 §5.7).
	o := findTrust(t, p, s, trustTemplate(issuer, serial))
	if len(o) != 1 {
		t.Fatalf("%d objects", len(o))
	}
	if _, err := p.GetAttributeValue(s, o[0], []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil), pkcs11.NewAttribute(pkcs11.CKA_CLASS, nil)}); ckrOf(err) != pkcs11.CKR_ATTRIBUTE_TYPE_INVALID {
		t.Errorf("CKA_VALUE: %v", err)
	}
}

func TestNSSModuleConcurrency(t *testing.T) {
	env := harness.New(t)
	p := nssModule(t, env.Build, "cache-dir="+env.CacheDir)
	type query struct {
		issuer, serial []byte
		revoked        bool
	}
	var qs []query
	for _, name := range []string{"crl-revoked", "good", "uncovered", "revoked"} {
		issuer, content, full := certIssuerSerial(t, env.Sites[name].Leaf)
		rev := name == "crl-revoked" || name == "revoked"
		qs = append(qs, query{issuer, content, rev}, query{issuer, full, rev})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			s, err := p.OpenSession(1, pkcs11.CKF_SERIAL_SESSION)
			if err != nil {
				errs <- err
				return
			}
			defer p.CloseSession(s)
			for i := 0; i < 300; i++ {
				q := qs[(g+i)%len(qs)]
				if err := p.FindObjectsInit(s, trustTemplate(q.issuer, q.serial)); err != nil {
					errs <- err
					return
				}
				objs, _, err := p.FindObjects(s, 4)
				p.FindObjectsFinal(s)
				if err != nil {
					errs <- err
					return
				}
				if (len(objs) == 1) != q.revoked {
					errs <- fmt.Errorf("goroutine %d: %d objects for revoked=%v", g, len(objs), q.revoked)
					return
				}
				if q.revoked {
					a, err := p.GetAttributeValue(s, objs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_SERIAL_NUMBER, nil)})
					if err != nil || !bytes.Equal(a[0].Value, q.serial) {
						errs <- fmt.Errorf("goroutine %d: serial attribute: %v", g, err)
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestNSSModuleReinitialize(t *testing.T) {
	env := harness.New(t)
	p := nssModule(t, env.Build, "cache-dir="+env.CacheDir)
	issuer, serial, _ := certIssuerSerial(t, env.Sites["crl-revoked"].Leaf)
	for round := 0; round < 3; round++ {
		s := openRO(t, p)
		if objs := findTrust(t, p, s, trustTemplate(issuer, serial)); len(objs) != 1 {
			t.Fatalf("round %d: %d objects", round, len(objs))
		}
		if err := p.Finalize(); err != nil {
			t.Fatal(err)
		}
		if _, err := p.GetInfo(); ckrOf(err) != pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED {
			t.Fatalf("C_GetInfo after C_Finalize: %v", err)
		}
		if err := p.FindObjectsInit(s, trustTemplate(issuer, serial)); ckrOf(err) != pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED {
			t.Fatalf("search after C_Finalize: %v", err)
		}
		if err := p.Finalize(); ckrOf(err) != pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED {
			t.Fatalf("second C_Finalize: %v", err)
		}
		params := "cache-dir=" + env.CacheDir
		if round == 1 {
			// Without a cache the module answers nothing, and says so.
			params = `cache-dir="` + filepath.Join(t.TempDir(), "no cache") + `"`
		}
		if err := nssInit(p, params); err != nil {
			t.Fatalf("re-C_Initialize: %v", err)
		}
		if round == 1 {
			s := openRO(t, p)
			if objs := findTrust(t, p, s, trustTemplate(issuer, serial)); len(objs) != 0 {
				t.Fatalf("empty cache: %d objects", len(objs))
			}
			p.Finalize()
			if err := nssInit(p, "cache-dir="+env.CacheDir); err != nil {
				t.Fatal(err)
			}
		}
	}
	p.Finalize()
	if err := nssInit(p, "cache-dir"); ckrOf(err) != pkcs11.CKR_ARGUMENTS_BAD {
		t.Fatalf("malformed parameters: %v", err)
	}
	if err := nssInit(p, `cache-dir="unterminated`); ckrOf(err) != pkcs11.CKR_ARGUMENTS_BAD {
		t.Fatalf("unterminated quote: %v", err)
	}
	// NSS passes CKF_LIBRARY_CANT_CREATE_OS_THREADS; it must be accepted.
	if err := p.Initialize(pkcs11.InitializeWithFlags(pkcs11.CKF_OS_LOCKING_OK | pkcs11.CKF_LIBRARY_CANT_CREATE_OS_THREADS)); err != nil {
		t.Fatalf("C_Initialize after failed ones, with CKF_LIBRARY_CANT_CREATE_OS_THREADS: %v", err)
	}
}

// TestNSSFalseDistrust is the safety proof of docs/NSS.md: against a
// realistic cache — a CRL set of thousands of issuers and millions of
// revoked serials, next to a clubcard filter over the same issuers — one
// million random (issuer, serial) pairs that are NOT revoked must never be
// answered "revoked" by the path the NSS module uses (core/engine's
// CheckIssuerSerial, which the C ABI calls), and a sample also goes through
// the PKCS#11 module itself. Revoked pairs must all be found.
func TestNSSFalseDistrust(t *testing.T) {
	const (
		issuers  = 3000
		entries  = 2_000_000
		lookups  = 1_000_000
		viaPKCS  = 20_000
		positive = 2_000
	)
	start := time.Now()
	cache := t.TempDir()
	r := rand.New(rand.NewPCG(2026, 11))
	list := make([]struct {
		spki [32]byte
		name []byte
	}, issuers)
	for i := range list {
		list[i].spki = sha256.Sum256([]byte(fmt.Sprintf("spki %d", i)))
		// One key per name: a name under several keys is not answered by
		// name at all (TestNSSDistrustSharedName).
		n := pkix.Name{Country: []string{"US"}, Organization: []string{fmt.Sprintf("Org %d", i)},
			CommonName: fmt.Sprintf("Issuing CA %d", i)}
		der, err := asn1.Marshal(n.ToRDNSequence())
		if err != nil {
			t.Fatal(err)
		}
		list[i].name = der
	}
	var salt [16]byte
	binary.LittleEndian.PutUint64(salt[:], r.Uint64())
	b := crlset.NewBuilder(salt)
	for _, is := range list {
		if err := b.AddIssuer(is.spki, is.name, time.Now(), time.Now().Add(7*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	serial := func() []byte {
		s := make([]byte, 16+r.IntN(5))
		for i := range s {
			s[i] = byte(r.Uint32())
		}
		s[0] &= 0x7f
		if s[0] == 0 {
			s[0] = 1
		}
		return s
	}
	type pair struct {
		issuer int
		serial []byte
	}
	revoked := map[string]bool{}
	var sample []pair
	for k := 0; k < entries; k++ {
		i := int(float64(issuers) * r.Float64() * r.Float64()) // skewed, as in the Web PKI
		s := serial()
		if err := b.AddSerial(list[i].spki, s); err != nil {
			t.Fatal(err)
		}
		revoked[string(list[i].name)+string(s)] = true
		if len(sample) < positive && k%(entries/positive) == 0 {
			sample = append(sample, pair{i, s})
		}
	}
	if _, _, err := crlcompile.WriteSet(b, cache, "crls", time.Now()); err != nil {
		t.Fatal(err)
	}
	writeClubcardCache(t, cache, list[:issuers/10], r)
	t.Logf("cache: %d issuers, %d revoked serials (+ clubcard) built in %s", issuers, entries, time.Since(start).Round(time.Millisecond))

	chk := openEngine(t, cache)
	defer chk.close()
	// Half the queries name covered issuers (where a false positive could
	// happen), half names no CRL set knows.
	falseDistrust := 0
	ls := time.Now()
	for k := 0; k < lookups; k++ {
		var name []byte
		if k%2 == 0 {
			name = list[r.IntN(issuers)].name
		} else {
			name = []byte(fmt.Sprintf("0\x12CN=Unknown CA %05d", k%100000))
		}
		s := serial()
		if revoked[string(name)+string(s)] {
			continue // astronomically unlikely; never count a real revocation
		}
		if chk.revoked(t, name, s) {
			falseDistrust++
		}
	}
	el := time.Since(ls)
	t.Logf("%d random not-revoked lookups in %s: %d distrusted (measured rate %.1e; analytical bound %.1e per lookup)",
		lookups, el.Round(time.Millisecond), falseDistrust, float64(falseDistrust)/lookups,
		crlset.FalsePositiveBound)
	if falseDistrust != 0 {
		t.Fatalf("%d false distrusts in %d lookups", falseDistrust, lookups)
	}
	for _, pr := range sample {
		if !chk.revoked(t, list[pr.issuer].name, pr.serial) {
			t.Fatalf("revoked serial %x of issuer %d not found", pr.serial, pr.issuer)
		}
	}

	// The same through the PKCS#11 module: NSS's exact view.
	p := nssModule(t, harness.BuildDir(), "cache-dir="+cache)
	s := openRO(t, p)
	defer p.CloseSession(s)
	found := 0
	ps := time.Now()
	for k := 0; k < viaPKCS; k++ {
		name := list[r.IntN(issuers)].name
		ser := serial()
		if k%2 == 1 {
			ser = derInteger(ser)
		}
		found += len(findTrust(t, p, s, trustTemplate(name, ser)))
	}
	pe := time.Since(ps)
	if found != 0 {
		t.Fatalf("PKCS#11 module distrusted %d of %d random not-revoked certificates", found, viaPKCS)
	}
	// Revoked serials as NSS sends them: content bytes first, then (as for
	// a certificate read from a database) the DER INTEGER alone.
	for _, pr := range sample[:200] {
		for _, ser := range [][]byte{pr.serial, derInteger(pr.serial)} {
			if n := len(findTrust(t, p, s, trustTemplate(list[pr.issuer].name, ser))); n != 1 {
				t.Fatalf("PKCS#11 module: revoked serial %x not distrusted (%d objects)", ser, n)
			}
		}
	}
	t.Logf("PKCS#11 module: %d random not-revoked queries (%.1f µs per search: init + find + final), 0 distrusted; 200 revoked, all distrusted (content bytes and DER INTEGER)",
		viaPKCS, float64(pe.Microseconds())/viaPKCS)
}

// writeClubcardCache puts a clubcard filter (index.bin, manifest.json) over
// the given issuers into cache, ~10% of their certificates revoked, and
// measures what a naive module — one that asked the clubcard about
// certificates it cannot prove are inside the filter's universe — would
// distrust.
func writeClubcardCache(t *testing.T, cache string, list []struct {
	spki [32]byte
	name []byte
}, r *rand.Rand) {
	t.Helper()
	var logID [32]byte
	logID[0] = 0x4c
	ts := uint64(time.Now().Add(-24 * time.Hour).UnixMilli())
	var entries []filterbuild.Entry
	for _, is := range list {
		for k := 0; k < 100; k++ {
			s := make([]byte, 16)
			for i := range s {
				s[i] = byte(r.Uint32())
			}
			s[0] = s[0]&0x7f | 0x01
			entries = append(entries, filterbuild.Entry{
				Input:   certinput.Input{IssuerSPKIHash: is.spki, Serial: s, SCTs: []certinput.SCT{{LogID: logID, Timestamp: ts + uint64(k)}}},
				Revoked: k%10 == 0,
			})
		}
	}
	filter, err := filterbuild.Filter(entries, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := cachedir.WriteFilters(cache, []cachedir.File{{Name: "synthetic.filter", Data: filter}}); err != nil {
		t.Fatal(err)
	}
	f, err := clubcard.Parse(filter)
	if err != nil {
		t.Fatal(err)
	}
	const naive = 200_000
	wrong := 0
	in := certinput.Input{SCTs: []certinput.SCT{{LogID: logID, Timestamp: ts + 50}}}
	for k := 0; k < naive; k++ {
		in.IssuerSPKIHash = list[r.IntN(len(list))].spki
		in.Serial = make([]byte, 16)
		for i := range in.Serial {
			in.Serial[i] = byte(r.Uint32())
		}
		if f.Query(&in) == clubcard.Revoked {
			wrong++
		}
	}
	t.Logf("clubcard over %d certificates of %d issuers: a naive module querying it for fresh certificates outside its universe would distrust %d of %d (%.2e) — the module never asks it",
		len(entries), len(list), wrong, naive, float64(wrong)/naive)
}

type engineChecker struct{ c *engine.Checker }

func openEngine(t *testing.T, cache string) *engineChecker {
	t.Helper()
	c, err := engine.Open("", "cache-dir="+cache)
	if err != nil {
		t.Fatal(err)
	}
	return &engineChecker{c}
}

func (e *engineChecker) close() { e.c.Close() }

func (e *engineChecker) revoked(t *testing.T, name, serial []byte) bool {
	d, err := e.c.CheckIssuerSerial(name, serial)
	if err != nil {
		t.Fatal(err)
	}
	return d.Outcome == outcome.Revoked
}

// TestNSSModuleC runs the C conformance driver (nss-module/test_module.c):
// NSS-style C_Initialize arguments, mutex callbacks, short buffers and NULL
// arguments, which a Go binding cannot express.
func TestNSSModuleC(t *testing.T) {
	env := harness.New(t)
	driver := filepath.Join(env.Build, "test", "nss-module-test")
	if _, err := os.Stat(driver); err != nil {
		t.Fatalf("%s missing (run make test-drivers): %v", driver, err)
	}
	issuer, revoked, _ := certIssuerSerial(t, env.Sites["crl-revoked"].Leaf)
	issuerGood, good, _ := certIssuerSerial(t, env.Sites["good"].Leaf)
	if !bytes.Equal(issuer, issuerGood) {
		t.Fatal("harness: good and crl-revoked have different issuers")
	}
	out, err := env.Run(t, nil, driver, filepath.Join(env.Build, "lib", nssModuleLibraryName), env.CacheDir,
		fmt.Sprintf("%x", issuer), fmt.Sprintf("%x", revoked), fmt.Sprintf("%x", good))
	if err != nil || !strings.Contains(out, "ok: all checks passed") {
		t.Fatalf("nss-module-test: %v", err)
	}
}
