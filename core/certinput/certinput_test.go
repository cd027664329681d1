package certinput

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tlv encodes one DER element with a minimal length.
func tlv(tag byte, parts ...[]byte) []byte {
	body := bytes.Join(parts, nil)
	n := len(body)
	var hdr []byte
	switch {
	case n < 0x80:
		hdr = []byte{tag, byte(n)}
	case n < 0x100:
		hdr = []byte{tag, 0x81, byte(n)}
	case n < 0x10000:
		hdr = []byte{tag, 0x82, byte(n >> 8), byte(n)}
	default:
		hdr = []byte{tag, 0x83, byte(n >> 16), byte(n >> 8), byte(n)}
	}
	return append(hdr, body...)
}

func TestReadElement(t *testing.T) {
	long := make([]byte, 200)
	tests := []struct {
		name string
		in   []byte
		ok   bool
		body int
	}{
		{"empty", nil, false, 0},
		{"tag only", []byte{0x30}, false, 0},
		{"short form", []byte{0x04, 0x02, 1, 2}, true, 2},
		{"zero length", []byte{0x05, 0x00}, true, 0},
		{"long form", append([]byte{0x04, 0x81, 200}, long...), true, 200},
		{"high tag number", []byte{0x1f, 0x01, 0x00}, false, 0},
		{"context high tag", []byte{0xbf, 0x81, 0x00, 0x00}, false, 0},
		{"indefinite length", []byte{0x30, 0x80, 0x04, 0x00, 0x00, 0x00}, false, 0},
		{"long form for short length", []byte{0x04, 0x81, 0x02, 1, 2}, false, 0},
		{"leading zero length octet", append([]byte{0x04, 0x82, 0x00, 200}, long...), false, 0},
		{"length beyond data", []byte{0x04, 0x05, 1, 2}, false, 0},
		{"long length beyond data", append([]byte{0x04, 0x82, 0x01, 0x00}, long...), false, 0},
		{"2**32 - 1 length", []byte{0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 0}, false, 0},
		{"2**64 - 1 length", []byte{0x04, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0}, false, 0},
		{"five length octets", []byte{0x04, 0x85, 0x01, 0, 0, 0, 0}, false, 0},
		{"truncated length octets", []byte{0x04, 0x82, 0x01}, false, 0},
		{"0x7f length octets", []byte{0x04, 0xff, 0x01}, false, 0},
	}
	for _, tt := range tests {
		s := cursor(tt.in)
		var tag byte
		var full, body []byte
		ok := s.readElement(&tag, &full, &body)
		if !assert.Equal(t, tt.ok, ok, "%s: ok", tt.name) {
			continue
		}
		if !ok {
			assert.Len(t, s, len(tt.in), "%s: cursor advanced on failure", tt.name)
			continue
		}
		assert.Len(t, body, tt.body, "%s: body", tt.name)
		assert.Equal(t, tt.in, full, "%s: full element", tt.name)
		assert.True(t, s.empty(), "%s: cursor not at the end", tt.name)
	}
}

// parts is a real certificate split into its tbsCertificate fields, so tests
// can reassemble hostile variants.
type parts struct {
	version, serial, sigAlg, issuer, validity, subject, spki []byte
	exts                                                     [][]byte // each a whole Extension
	outerSigAlg, sigValue                                    []byte
}

func splitCert(t *testing.T, der []byte) parts {
	t.Helper()
	var p parts
	in := cursor(der)
	var body, tbsBody, full []byte
	if !in.readTag(tagSequence, &body) {
		t.Fatal("split: outer")
	}
	c := cursor(body)
	var tag byte
	if !c.readTag(tagSequence, &tbsBody) || !c.readTagFull(tagSequence, &p.outerSigAlg, &full) || !c.readTagFull(tagBitString, &p.sigValue, &full) {
		t.Fatal("split: certificate")
	}
	tbs := cursor(tbsBody)
	for _, dst := range []*[]byte{&p.version, &p.serial, &p.sigAlg, &p.issuer, &p.validity, &p.subject, &p.spki} {
		if !tbs.readElement(&tag, dst, &full) {
			t.Fatal("split: tbs")
		}
	}
	var extsBody []byte
	if !tbs.readTag(tagExtensions, &extsBody) {
		t.Fatal("split: extensions")
	}
	e := cursor(extsBody)
	var seq []byte
	e.readTag(tagSequence, &seq)
	it := cursor(seq)
	for !it.empty() {
		var ext []byte
		if !it.readElement(&tag, &ext, &full) {
			t.Fatal("split: extension")
		}
		p.exts = append(p.exts, ext)
	}
	return p
}

func (p parts) build(tbsExtra ...[]byte) []byte {
	var exts []byte
	if p.exts != nil {
		exts = tlv(tagExtensions, tlv(tagSequence, p.exts...))
	}
	tbs := tlv(tagSequence, append([][]byte{p.version, p.serial, p.sigAlg, p.issuer, p.validity, p.subject, p.spki, exts}, tbsExtra...)...)
	return tlv(tagSequence, tbs, p.outerSigAlg, p.sigValue)
}

func sctExtension(list []byte) []byte {
	return tlv(tagSequence, tlv(tagOID, oidSCTList), tlv(tagOctetString, tlv(tagOctetString, list)))
}

// sctEntry builds one u16-prefixed SCT with the given version.
func sctEntry(version byte, logByte byte, ts uint64) []byte {
	b := []byte{version}
	b = append(b, bytes.Repeat([]byte{logByte}, 32)...)
	for i := 7; i >= 0; i-- {
		b = append(b, byte(ts>>(8*i)))
	}
	b = append(b, 0, 0)                   // no extensions
	b = append(b, 4, 3, 0, 2, 0xab, 0xcd) // sha256/ecdsa, 2-byte signature
	return append([]byte{byte(len(b) >> 8), byte(len(b))}, b...)
}

func u16list(entries ...[]byte) []byte {
	b := bytes.Join(entries, nil)
	return append([]byte{byte(len(b) >> 8), byte(len(b))}, b...)
}

func TestParseCertHostile(t *testing.T) {
	sites := loadSites(t)
	leaf := sites[0].leaf
	p := splitCert(t, leaf)
	require.Equal(t, leaf, p.build(), "split/build does not round-trip")
	var c Cert

	// Every proper prefix is truncated and must fail.
	for n := 0; n < len(leaf); n++ {
		if err := ParseCert(leaf[:n], &c); err == nil {
			t.Fatalf("prefix of %d bytes accepted", n)
		}
	}

	indefinite := append([]byte{0x30, 0x80}, leaf[4:]...)
	indefinite = append(indefinite, 0, 0)
	huge := append([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, leaf[4:]...)
	nonMinimal := append([]byte{0x30, 0x83, 0x00, leaf[2], leaf[3]}, leaf[4:]...)

	dupSCT := p
	dupSCT.exts = append(append([][]byte{}, p.exts...), sctExtension(u16list(sctEntry(0, 1, 1))))
	badCrit := p
	badCrit.exts = [][]byte{tlv(tagSequence, tlv(tagOID, []byte{0x55, 0x1d, 0x13}), []byte{tagBoolean, 1, 0x01}, tlv(tagOctetString))}
	noExts := p
	noExts.exts = nil
	emptyExts := p
	emptyExts.exts = [][]byte{}
	badVersion := p
	badVersion.version = tlv(tagVersion, tlv(tagInteger, []byte{3}))
	emptySerial := p
	emptySerial.serial = []byte{tagInteger, 0}
	badTime := p
	badTime.validity = tlv(tagSequence, tlv(tagUTCTime, []byte("250101000000Z")), tlv(tagOctetString, []byte("x")))

	tests := []struct {
		name string
		der  []byte
		want error // nil means: must succeed
	}{
		{"trailing byte", append(append([]byte{}, leaf...), 0), errTrailing},
		{"indefinite length", indefinite, errCert},
		{"2**32 - 1 length", huge, errCert},
		{"non-minimal length", nonMinimal, errCert},
		{"extra element in tbs", p.build(tlv(tagOctetString, []byte{1})), errTBSExtra},
		{"duplicate sct extension", dupSCT.build(), errDupSCT},
		{"critical not DER boolean", badCrit.build(), errExtensions},
		{"empty extensions sequence", emptyExts.build(), errExtensions},
		{"version 4", badVersion.build(), errVersion},
		{"empty serial", emptySerial.build(), errSerial},
		{"validity not a time", badTime.build(), errValidity},
		{"no extensions", noExts.build(), nil},
	}
	for _, tt := range tests {
		err := ParseCert(tt.der, &c)
		if tt.want == nil {
			assert.NoError(t, err, "%s", tt.name)
			continue
		}
		assert.ErrorIs(t, err, tt.want, tt.name)
		assert.True(t, IsError(err), "%s: error %T is not a certinput error", tt.name, err)
	}
	require.NoError(t, ParseCert(noExts.build(), &c), "no extensions")
	assert.Nil(t, c.Extensions, "no extensions: Extensions")
	assert.Nil(t, c.SCTList, "no extensions: SCTList")
	// A failed parse leaves no stale fields behind.
	require.Error(t, ParseCert(leaf[:10], &c), "a 10-byte prefix")
	assert.Nil(t, c.Serial, "failed parse left Serial set")
	assert.Nil(t, c.SCTList, "failed parse left SCTList set")
}

func TestSPKIHashHostile(t *testing.T) {
	sites := loadSites(t)
	issuer := sites[0].candidates[0]
	for n := 0; n < len(issuer); n++ {
		if _, err := SPKIHash(issuer[:n]); err == nil {
			t.Fatalf("SPKIHash accepted a prefix of %d bytes", n)
		}
	}
	_, err := SPKIHash(append(append([]byte{}, issuer...), 0))
	assert.ErrorIs(t, err, errTrailing, "trailing byte")
	// Extract names the issuer in its errors.
	var in Input
	err = Extract(sites[0].leaf, issuer[:40], &in)
	require.Error(t, err, "Extract with a broken issuer")
	assert.True(t, IsError(err), "%T is not a certinput error", err)
	assert.ErrorContains(t, err, "issuer")
}

func TestParseSCTList(t *testing.T) {
	one := sctEntry(0, 0x11, 1700000000000)
	two := sctEntry(0, 0x22, 1700000000001)
	v2 := sctEntry(1, 0x33, 5)
	wrap := func(list []byte) []byte { return tlv(tagOctetString, list) }
	trailing := append(append([]byte{}, one...), 0)
	trailing[1]++ // SCT length covers the extra byte
	shortLog := []byte{0, 10, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	zeroLen := []byte{0, 0}
	badExtLen := sctEntry(0, 0x44, 1)
	badExtLen[2+41+1] = 9 // extensions length past the end

	tests := []struct {
		name string
		ext  []byte
		want []byte // log id bytes of the SCTs expected, nil on error
		ok   bool
	}{
		{"one", wrap(u16list(one)), []byte{0x11}, true},
		{"two", wrap(u16list(one, two)), []byte{0x11, 0x22}, true},
		{"v2 skipped", wrap(u16list(v2, one)), []byte{0x11}, true},
		{"only v2", wrap(u16list(v2)), []byte{}, true},
		{"empty list", wrap(u16list()), []byte{}, true},
		{"list length short", wrap(append([]byte{0, byte(len(one) - 1)}, one...)), nil, false},
		{"list length long", wrap(append([]byte{0, byte(len(one) + 1)}, one...)), nil, false},
		{"sct length past list", wrap(u16list(one[:len(one)-1])), nil, false},
		{"zero-length sct", wrap(u16list(zeroLen)), nil, false},
		{"v1 truncated log id", wrap(u16list(shortLog)), nil, false},
		{"v1 trailing byte", wrap(u16list(trailing)), nil, false},
		{"v1 bad extensions length", wrap(u16list(badExtLen)), nil, false},
		{"not an octet string", tlv(tagSequence, u16list(one)), nil, false},
		{"trailing after octet string", append(wrap(u16list(one)), 0), nil, false},
		{"no list length", wrap([]byte{0}), nil, false},
		{"empty", nil, nil, false},
	}
	for _, tt := range tests {
		prefix := []SCT{{Timestamp: 42}}
		got, err := ParseSCTList(tt.ext, prefix)
		if tt.ok {
			if !assert.NoError(t, err, tt.name) {
				continue
			}
		} else if !assert.Error(t, err, tt.name) {
			continue
		}
		if !assert.NotEmpty(t, got, "%s: dst prefix dropped", tt.name) {
			continue
		}
		assert.EqualValues(t, 42, got[0].Timestamp, "%s: dst prefix clobbered", tt.name)
		if !tt.ok {
			assert.Len(t, got, 1, "%s: SCTs returned with the error", tt.name)
			continue
		}
		var ids [][32]byte
		for _, sct := range got[1:] {
			ids = append(ids, sct.LogID)
		}
		var want [][32]byte
		for _, b := range tt.want {
			want = append(want, [32]byte(bytes.Repeat([]byte{b}, 32)))
		}
		assert.Equal(t, want, ids, "%s: log ids", tt.name)
	}
	got, err := ParseSCTList(wrap(u16list(one)), nil)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.EqualValues(t, 1700000000000, got[0].Timestamp)
}

// TestExtractReusesSCTs checks that Extract appends into SCTs[:0].
func TestExtractReusesSCTs(t *testing.T) {
	sites := loadSites(t)
	buf := make([]SCT, 3, 16)
	buf[0].Timestamp = 99
	in := Input{SCTs: buf}
	require.NoError(t, Extract(sites[0].leaf, sites[0].candidates[0], &in))
	require.Len(t, in.SCTs, len(sites[0].scts))
	assert.Same(t, &buf[0], &in.SCTs[0], "SCTs not reused from index 0")
	assert.Equal(t, sites[0].scts, in.SCTs)
}

// TestExtractAllocs asserts the zero-allocation contract over every site.
func TestExtractAllocs(t *testing.T) {
	sites := loadSites(t)
	var buf [16]SCT
	in := Input{SCTs: buf[:0]}
	for _, s := range sites {
		issuer := s.candidates[0]
		allocs := testing.AllocsPerRun(20, func() {
			require.NoError(t, Extract(s.leaf, issuer, &in))
		})
		require.Zero(t, allocs, "%s: Extract allocations", s.name)
	}
	var c Cert
	assert.Zero(t, testing.AllocsPerRun(20, func() { _ = ParseCert(sites[0].leaf, &c) }), "ParseCert allocations")
	assert.Zero(t, testing.AllocsPerRun(20, func() { _, _ = SPKIHash(sites[0].candidates[0]) }), "SPKIHash allocations")
	// The common failure path does not allocate either.
	assert.Zero(t, testing.AllocsPerRun(20, func() { _ = ParseCert(sites[0].leaf[:100], &c) }), "ParseCert failure allocations")
}

// threeCertChain returns the leaf and issuer of the first fixture site whose
// chain has three certificates (leaf + two intermediates).
func threeCertChain(b testing.TB) (leaf, issuer []byte) {
	for _, s := range loadSites(b) {
		if len(s.candidates) == 2 {
			return s.leaf, s.candidates[0]
		}
	}
	b.Fatal("no three-certificate chain in the fixtures")
	return nil, nil
}

func BenchmarkExtract(b *testing.B) {
	leaf, issuer := threeCertChain(b)
	var buf [16]SCT
	in := Input{SCTs: buf[:0]}
	b.SetBytes(int64(len(leaf) + len(issuer)))
	b.ReportAllocs()
	for b.Loop() {
		require.NoError(b, Extract(leaf, issuer, &in))
	}
}

func BenchmarkParseCert(b *testing.B) {
	leaf, _ := threeCertChain(b)
	var c Cert
	b.ReportAllocs()
	for b.Loop() {
		require.NoError(b, ParseCert(leaf, &c))
	}
}

// fuzzSeeds returns every certificate in the fixtures.
func fuzzSeeds(t testing.TB) (certs [][]byte, pairs [][2][]byte) {
	for _, s := range loadSites(t) {
		certs = append(certs, s.leaf)
		certs = append(certs, s.candidates...)
		pairs = append(pairs, [2][]byte{s.leaf, s.candidates[0]})
	}
	ff := firefoxPEMs(t)
	for _, p := range ff {
		certs = append(certs, p.der)
		pairs = append(pairs, [2][]byte{p.der, ff[0].der})
	}
	if len(certs) == 0 {
		t.Fatal("no fuzz seeds")
	}
	return certs, pairs
}

func FuzzParseCert(f *testing.F) {
	certs, _ := fuzzSeeds(f)
	for _, c := range certs {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		var c Cert
		err := ParseCert(der, &c)
		if err != nil {
			if !IsError(err) || c.Raw != nil || c.Serial != nil {
				t.Fatalf("failure: %v, fields %+v", err, c)
			}
			return
		}
		if !bytes.Equal(c.Raw, der) {
			t.Fatal("Raw is not the whole input")
		}
		for _, fld := range [][]byte{c.TBS, c.Serial, c.Issuer, c.Subject, c.SPKI, c.NotBefore, c.NotAfter, c.Extensions, c.SCTList} {
			if !within(fld, der) {
				t.Fatal("field outside the input")
			}
		}
		if len(c.Serial) == 0 || len(c.Issuer) < 2 || len(c.SPKI) < 2 {
			t.Fatal("empty mandatory field")
		}
		h, err := SPKIHash(der)
		require.NoError(t, err, "ParseCert accepts what SPKIHash rejects")
		_ = h
		if c.SCTList != nil {
			if _, err := ParseSCTList(c.SCTList, nil); err != nil && !IsError(err) {
				t.Fatal(err)
			}
		}
	})
}

func FuzzExtract(f *testing.F) {
	_, pairs := fuzzSeeds(f)
	for _, p := range pairs {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, cert, issuer []byte) {
		var in Input
		err := Extract(cert, issuer, &in)
		if err != nil {
			if !IsError(err) {
				t.Fatalf("foreign error %T", err)
			}
			return
		}
		if len(in.Serial) == 0 || !within(in.Serial, cert) {
			t.Fatal("serial empty or outside the certificate")
		}
		if len(in.SCTs)*43 > len(cert) {
			t.Fatalf("%d SCTs from %d bytes", len(in.SCTs), len(cert))
		}
	})
}

func FuzzParseSCTList(f *testing.F) {
	certs, _ := fuzzSeeds(f)
	n := 0
	for _, der := range certs {
		var c Cert
		if ParseCert(der, &c) == nil && c.SCTList != nil {
			f.Add(c.SCTList)
			n++
		}
	}
	if n == 0 {
		f.Fatal("no SCT list seeds")
	}
	f.Fuzz(func(t *testing.T, ext []byte) {
		got, err := ParseSCTList(ext, nil)
		if err != nil {
			if len(got) != 0 || !IsError(err) {
				t.Fatalf("failure returned %d SCTs, %v", len(got), err)
			}
			return
		}
		want, ok := refSCTsOK(ext)
		if !ok {
			// The reference is laxer only about v1 SCT bodies, never
			// stricter; it must accept whatever ParseSCTList accepts.
			t.Fatalf("reference decoder rejects an accepted list %x", ext)
		}
		if len(got) != len(want) {
			t.Fatalf("%d SCTs, reference %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("sct %d differs from the reference", i)
			}
		}
	})
}
