package integration

// The trust lookup NSS makes for each certificate it decodes
// (nssToken_FindTrustForCertificate), made through github.com/miekg/pkcs11
// against the built libnssrevocheck.so: CKO_NSS_TRUST with the issuer Name
// and the serial as NSS holds it, a complete DER INTEGER.

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"

	"github.com/miekg/pkcs11"
	"github.com/stretchr/testify/require"

	"github.com/revocheck/revocheck/integration/harness"
)

func TestNSSModuleTrustLookupDER(t *testing.T) {
	env := harness.New(t)
	path := filepath.Join(env.Build, "lib", nssModuleLibraryName)
	require.FileExists(t, path, "run make all")
	p := pkcs11.New(path)
	require.NotNil(t, p, "dlopen %s", path)
	t.Cleanup(p.Destroy)

	// NSS passes module parameters in pReserved (modutil -string).
	params := append([]byte("cache-dir="+env.CacheDir), 0)
	require.NoError(t, p.Initialize(pkcs11.InitializeWithReserved(unsafe.Pointer(&params[0]))))
	runtime.KeepAlive(params)
	t.Cleanup(func() { require.NoError(t, p.Finalize()) })

	slots, err := p.GetSlotList(true)
	require.NoError(t, err)
	require.Len(t, slots, 1, "one token")
	s, err := p.OpenSession(slots[0], pkcs11.CKF_SERIAL_SESSION)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.CloseSession(s)) })

	search := func(t *testing.T, issuer, serial []byte) []pkcs11.ObjectHandle {
		t.Helper()
		require.NoError(t, p.FindObjectsInit(s, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, uint(ckoNSSTrust)),
			pkcs11.NewAttribute(pkcs11.CKA_ISSUER, issuer),
			pkcs11.NewAttribute(pkcs11.CKA_SERIAL_NUMBER, serial),
		}))
		objs, more, err := p.FindObjects(s, 4)
		require.NoError(t, err)
		require.False(t, more)
		require.NoError(t, p.FindObjectsFinal(s))
		return objs
	}
	ulong := func(t *testing.T, b []byte) uint64 {
		t.Helper()
		require.Len(t, b, 8, "CK_ULONG")
		return binary.NativeEndian.Uint64(b)
	}

	for _, tc := range []struct {
		name    string
		der     []byte
		revoked bool
	}{
		{"leaf in the intermediate's CRL", env.Sites["crl-revoked"].Leaf, true},
		{"intermediate in the root's CRL", env.Sites["revoked-int"].Issuer, true},
		{"good leaf", env.Sites["good"].Leaf, false},
		{"good intermediate", env.Sites["good"].Issuer, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, err := x509.ParseCertificate(tc.der)
			require.NoError(t, err)
			serial, err := asn1.Marshal(cert.SerialNumber)
			require.NoError(t, err)
			require.Equal(t, byte(0x02), serial[0], "DER INTEGER")

			objs := search(t, cert.RawIssuer, serial)
			if !tc.revoked {
				require.Empty(t, objs, "no trust object: NSS decides as without the module")
				return
			}
			require.Len(t, objs, 1)
			require.Equal(t, objs, search(t, cert.RawIssuer, serial), "the same object on a second search")

			attrs, err := p.GetAttributeValue(s, objs[0], []*pkcs11.Attribute{
				pkcs11.NewAttribute(pkcs11.CKA_CLASS, nil),
				pkcs11.NewAttribute(pkcs11.CKA_TOKEN, nil),
				pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, nil),
				pkcs11.NewAttribute(pkcs11.CKA_MODIFIABLE, nil),
				pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil),
				pkcs11.NewAttribute(pkcs11.CKA_ISSUER, nil),
				pkcs11.NewAttribute(pkcs11.CKA_SERIAL_NUMBER, nil),
				pkcs11.NewAttribute(ckaTrustServerAuth, nil),
				pkcs11.NewAttribute(ckaTrustClientAuth, nil),
				pkcs11.NewAttribute(ckaTrustEmailProt, nil),
				pkcs11.NewAttribute(ckaTrustCodeSigning, nil),
				pkcs11.NewAttribute(ckaTrustStepUp, nil),
			})
			require.NoError(t, err)
			require.EqualValues(t, ckoNSSTrust, ulong(t, attrs[0].Value), "CKA_CLASS")
			require.Equal(t, []byte{1}, attrs[1].Value, "CKA_TOKEN")
			require.Equal(t, []byte{0}, attrs[2].Value, "CKA_PRIVATE")
			require.Equal(t, []byte{0}, attrs[3].Value, "CKA_MODIFIABLE")
			require.Equal(t, "revocheck: revoked", string(attrs[4].Value), "CKA_LABEL")
			require.Equal(t, cert.RawIssuer, attrs[5].Value, "CKA_ISSUER")
			require.Equal(t, serial, attrs[6].Value, "CKA_SERIAL_NUMBER")
			for _, a := range attrs[7:11] {
				require.EqualValues(t, cktNSSNotTrusted, ulong(t, a.Value), "attribute %#x", a.Type)
			}
			require.Equal(t, []byte{0}, attrs[11].Value, "CKA_TRUST_STEP_UP_APPROVED")
			// Allowed absent for CKT_NSS_NOT_TRUSTED, and absent it is.
			_, err = p.GetAttributeValue(s, objs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(ckaCertSHA1Hash, nil)})
			require.ErrorIs(t, err, pkcs11.Error(pkcs11.CKR_ATTRIBUTE_TYPE_INVALID))
		})
	}
}
