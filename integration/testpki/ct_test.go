package testpki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"os"
	"testing"
	"time"
)

// The SCTs GenerateCT makes are checked here with code that shares nothing
// with ct.go: the TBS is rebuilt with encoding/asn1, the signed struct is
// laid out by hand from RFC 6962 §3.2, and the signatures are verified with
// crypto/ecdsa and crypto/rsa directly.

type parsedSCT struct {
	logID [32]byte
	ts    uint64
	hash  byte
	alg   byte
	sig   []byte
}

func parseSCTList(t *testing.T, ext []byte) []parsedSCT {
	t.Helper()
	var list []byte
	if rest, err := asn1.Unmarshal(ext, &list); err != nil || len(rest) != 0 {
		t.Fatalf("SCT list extension is not one OCTET STRING: %v", err)
	}
	if len(list) < 2 || int(binary.BigEndian.Uint16(list)) != len(list)-2 {
		t.Fatalf("SCT list length prefix wrong")
	}
	list = list[2:]
	var out []parsedSCT
	for len(list) > 0 {
		n := int(binary.BigEndian.Uint16(list))
		s := list[2 : 2+n]
		list = list[2+n:]
		if s[0] != 0 {
			t.Fatalf("SCT version %d", s[0])
		}
		var p parsedSCT
		copy(p.logID[:], s[1:33])
		p.ts = binary.BigEndian.Uint64(s[33:41])
		if s[41] != 0 || s[42] != 0 {
			t.Fatalf("SCT extensions not empty")
		}
		p.hash, p.alg = s[43], s[44]
		sl := int(binary.BigEndian.Uint16(s[45:47]))
		p.sig = s[47:]
		if len(p.sig) != sl {
			t.Fatalf("signature length %d, have %d bytes", sl, len(p.sig))
		}
		out = append(out, p)
	}
	return out
}

// tbsMinus rebuilds the TBSCertificate of der without extension oid, with
// encoding/asn1 only.
func tbsMinus(t *testing.T, der []byte, oid asn1.ObjectIdentifier) []byte {
	t.Helper()
	var cert struct {
		TBS asn1.RawValue
		Alg asn1.RawValue
		Sig asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &cert); err != nil {
		t.Fatal(err)
	}
	var content []byte
	rest := cert.TBS.Bytes
	for len(rest) > 0 {
		var el asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &el); err != nil {
			t.Fatal(err)
		}
		if el.Class != asn1.ClassContextSpecific || el.Tag != 3 {
			content = append(content, el.FullBytes...)
			continue
		}
		var exts []asn1.RawValue
		if _, err := asn1.Unmarshal(el.Bytes, &exts); err != nil {
			t.Fatal(err)
		}
		var kept []byte
		for _, e := range exts {
			var ext struct {
				ID    asn1.ObjectIdentifier
				Rest  asn1.RawValue `asn1:"optional"`
				Rest2 asn1.RawValue `asn1:"optional"`
			}
			if _, err := asn1.Unmarshal(e.FullBytes, &ext); err != nil {
				t.Fatal(err)
			}
			if !ext.ID.Equal(oid) {
				kept = append(kept, e.FullBytes...)
			}
		}
		seq, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: kept})
		wrap, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 3, IsCompound: true, Bytes: seq})
		content = append(content, wrap...)
	}
	out, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: content})
	return out
}

func verifySCT(pub crypto.PublicKey, s parsedSCT, ikh [32]byte, tbs []byte) bool {
	var m bytes.Buffer
	m.Write([]byte{0, 0})
	binary.Write(&m, binary.BigEndian, s.ts)
	m.Write([]byte{0, 1})
	m.Write(ikh[:])
	m.Write([]byte{byte(len(tbs) >> 16), byte(len(tbs) >> 8), byte(len(tbs))})
	m.Write(tbs)
	m.Write([]byte{0, 0})
	d := sha256.Sum256(m.Bytes())
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return s.hash == 4 && s.alg == 3 && ecdsa.VerifyASN1(k, d[:], s.sig)
	case *rsa.PublicKey:
		return s.hash == 4 && s.alg == 1 && rsa.VerifyPKCS1v15(k, crypto.SHA256, d[:], s.sig) == nil
	}
	return false
}

func TestCTSCTsVerifyIndependently(t *testing.T) {
	p, err := Generate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ct, err := p.GenerateCT()
	if err != nil {
		t.Fatal(err)
	}
	// The log list as a client reads it: keys by id.
	raw, err := os.ReadFile(ct.LogList)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Operators []struct {
			Name string
			Logs []struct {
				LogID string `json:"log_id"`
				Key   string
				State map[string]struct{ Timestamp time.Time }
			}
		}
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	keys := map[[32]byte]crypto.PublicKey{}
	operator := map[[32]byte]string{}
	retired := map[[32]byte]time.Time{}
	for _, op := range list.Operators {
		for _, l := range op.Logs {
			spki, _ := base64.StdEncoding.DecodeString(l.Key)
			idb, _ := base64.StdEncoding.DecodeString(l.LogID)
			var id [32]byte
			copy(id[:], idb)
			if id != sha256.Sum256(spki) {
				t.Fatalf("log_id is not SHA-256 of the key")
			}
			pub, err := x509.ParsePKIXPublicKey(spki)
			if err != nil {
				t.Fatal(err)
			}
			keys[id], operator[id] = pub, op.Name
			if st, ok := l.State["retired"]; ok {
				retired[id] = st.Timestamp
			} else if _, ok := l.State["usable"]; !ok {
				t.Fatalf("log state %v", l.State)
			}
		}
	}
	if len(keys) != 4 || len(list.Operators) != 3 || len(retired) != 1 {
		t.Fatalf("want 4 logs of 3 operators, one retired: %d, %d, %d", len(keys), len(list.Operators), len(retired))
	}
	// Per site: how many SCTs verify, counting only logs not retired
	// before the SCT, and from how many operators.
	want := map[string][3]int{ // SCTs, valid and counting, operators
		"ct-logged": {2, 2, 2}, "ct-retired-early": {2, 2, 2}, "ct-revoked": {2, 2, 2},
		"ct-none": {0, 0, 0}, "ct-one-operator": {2, 2, 1}, "ct-forged": {2, 1, 1},
		"ct-missigned": {2, 1, 1}, "ct-retired-late": {2, 1, 1},
	}
	for _, name := range CTSiteNames {
		leaf := ct.Sites[name].Leaf.Cert
		if err := leaf.CheckSignatureFrom(ct.Int.Cert); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var sctExt []byte
		for _, e := range leaf.Extensions {
			if e.Id.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}) {
				sctExt = e.Value
			}
		}
		var scts []parsedSCT
		if sctExt != nil {
			scts = parseSCTList(t, sctExt)
		}
		tbs := tbsMinus(t, leaf.Raw, asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2})
		if pre := ct.Precerts[name]; pre != nil {
			pc, err := x509.ParseCertificate(pre)
			if err != nil {
				t.Fatal(err)
			}
			poisoned := false
			for _, e := range pc.Extensions {
				if e.Id.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 3}) {
					poisoned = e.Critical && bytes.Equal(e.Value, []byte{5, 0})
				}
			}
			if !poisoned {
				t.Errorf("%s: precert without a critical NULL poison", name)
			}
			if !bytes.Equal(tbsMinus(t, pre, asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 3}), tbs) {
				t.Errorf("%s: final TBS minus SCTs != precert TBS minus poison", name)
			}
		}
		ikh := sha256.Sum256(ct.Int.Cert.RawSubjectPublicKeyInfo)
		valid, ops := 0, map[string]bool{}
		for _, s := range scts {
			pub, ok := keys[s.logID]
			if !ok || !verifySCT(pub, s, ikh, tbs) {
				continue
			}
			if r, ok := retired[s.logID]; ok && int64(s.ts) >= r.UnixMilli() {
				continue
			}
			valid++
			ops[operator[s.logID]] = true
		}
		got := [3]int{len(scts), valid, len(ops)}
		if got != want[name] {
			t.Errorf("%s: SCTs, valid, operators = %v, want %v", name, got, want[name])
		}
		if ct.Compliant[name] != (valid >= 2 && len(ops) >= 2) {
			t.Errorf("%s: Compliant = %v disagrees with its SCTs", name, ct.Compliant[name])
		}
	}
}

// A mutated signature must not verify: the check above can fail.
func TestCTIndependentCheckRejectsTampering(t *testing.T) {
	p, err := Generate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, rsaKey := range []bool{false, true} {
		l, err := NewCTLog("op", "log", rsaKey, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		tbs := tbsMinus(t, p.Int.Cert.Raw, OIDSCTList)
		ikh := sha256.Sum256(p.Root.Cert.RawSubjectPublicKeyInfo)
		raw, err := l.SCT(time.Now(), ikh, tbs)
		if err != nil {
			t.Fatal(err)
		}
		ext, _ := SCTListExtension([][]byte{raw})
		s := parseSCTList(t, ext)[0]
		if s.logID != l.ID || !verifySCT(l.Key.Public(), s, ikh, tbs) {
			t.Fatalf("rsa=%v: a genuine SCT does not verify", rsaKey)
		}
		s.ts++
		if verifySCT(l.Key.Public(), s, ikh, tbs) {
			t.Fatalf("rsa=%v: an SCT with another timestamp verifies", rsaKey)
		}
	}
}
