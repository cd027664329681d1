package crlset

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var (
	t0 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	t1 = t0.Add(7 * 24 * time.Hour)
)

type testIssuer struct {
	spki    [32]byte
	name    []byte
	serials [][]byte
}

func randSerial(r *rand.Rand) []byte {
	n := 8 + r.IntN(13)
	s := make([]byte, n)
	for i := range s {
		s[i] = byte(r.Uint32())
	}
	s[0] &= 0x7f
	if s[0] == 0 {
		s[0] = 1
	}
	return s
}

// buildTestSet makes nIssuers issuers with counts drawn up to maxPer; every
// third issuer shares its name with the previous one (key rollover).
func buildTestSet(t testing.TB, seed uint64, nIssuers, maxPer int) ([]byte, []testIssuer) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	var salt [16]byte
	binary.LittleEndian.PutUint64(salt[:], seed)
	b := NewBuilder(salt)
	var iss []testIssuer
	for i := 0; i < nIssuers; i++ {
		ti := testIssuer{spki: sha256.Sum256([]byte(fmt.Sprintf("key %d %d", seed, i)))}
		if i%3 == 2 {
			ti.name = iss[i-1].name
		} else {
			ti.name = []byte(fmt.Sprintf("0\x10CN=Test CA %04d", i))
		}
		if err := b.AddIssuer(ti.spki, ti.name, t0, t1); err != nil {
			t.Fatal(err)
		}
		n := r.IntN(maxPer + 1)
		for j := 0; j < n; j++ {
			s := randSerial(r)
			ti.serials = append(ti.serials, s)
			if err := b.AddSerial(ti.spki, s); err != nil {
				t.Fatal(err)
			}
		}
		iss = append(iss, ti)
	}
	data, err := b.Bytes(t0)
	if err != nil {
		t.Fatal(err)
	}
	return data, iss
}

func TestRoundTrip(t *testing.T) {
	data, iss := buildTestSet(t, 1, 50, 3000)
	s, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(); err != nil {
		t.Fatal(err)
	}
	if s.NumIssuers() != len(iss) {
		t.Fatalf("NumIssuers = %d, want %d", s.NumIssuers(), len(iss))
	}
	total := 0
	r := rand.New(rand.NewPCG(9, 9))
	for _, ti := range iss {
		total += len(ti.serials)
		for _, ser := range ti.serials {
			if c, rv := s.Lookup(&ti.spki, ser); !c || !rv {
				t.Fatalf("Lookup(%x, %x) = %v %v, want covered revoked", ti.spki[:4], ser, c, rv)
			}
			if c, rv := s.LookupName(ti.name, ser); !c || !rv {
				t.Fatalf("LookupName(%q, %x) = %v %v", ti.name, ser, c, rv)
			}
		}
		for k := 0; k < 200; k++ {
			if c, rv := s.Lookup(&ti.spki, randSerial(r)); !c || rv {
				t.Fatalf("random serial: covered=%v revoked=%v, want covered, not revoked", c, rv)
			}
		}
	}
	if s.NumEntries() != uint64(total) {
		t.Fatalf("NumEntries = %d, want %d", s.NumEntries(), total)
	}
	unknown := sha256.Sum256([]byte("nobody"))
	if c, rv := s.Lookup(&unknown, iss[0].serials[0]); c || rv {
		t.Fatal("unknown issuer reported covered")
	}
	if c, _ := s.LookupName([]byte("0\x03CN=nobody"), []byte{1}); c {
		t.Fatal("unknown name reported covered")
	}
	infos := s.Issuers()
	for i := 1; i < len(infos); i++ {
		if bytes.Compare(infos[i-1].SPKIHash[:], infos[i].SPKIHash[:]) >= 0 {
			t.Fatal("Issuers not sorted")
		}
	}
	if !infos[0].ThisUpdate.Equal(t0) || !infos[0].NextUpdate.Equal(t1) {
		t.Fatalf("dates %v %v", infos[0].ThisUpdate, infos[0].NextUpdate)
	}
}

// A serial revoked under one key of a shared name is revoked by name, but
// not by the other key.
func TestSharedName(t *testing.T) {
	var salt [16]byte
	b := NewBuilder(salt)
	k1, k2 := sha256.Sum256([]byte("k1")), sha256.Sum256([]byte("k2"))
	name := []byte("0\x07CN=Same")
	must(t, b.AddIssuer(k1, name, t0, t1))
	must(t, b.AddIssuer(k2, name, t0, time.Time{}))
	must(t, b.AddSerial(k2, []byte{0x42, 0x01}))
	data, err := b.Bytes(t0)
	must(t, err)
	s, err := Parse(data)
	must(t, err)
	if c, r := s.Lookup(&k1, []byte{0x42, 0x01}); !c || r {
		t.Fatal("k1 must be covered, not revoked")
	}
	if c, r := s.Lookup(&k2, []byte{0x42, 0x01}); !c || !r {
		t.Fatal("k2 must be revoked")
	}
	if c, r := s.LookupName(name, []byte{0x42, 0x01}); !c || !r {
		t.Fatal("name must be revoked")
	}
	if _, r := s.LookupName(name, []byte{0x02, 0x02, 0x42, 0x01}); r {
		t.Fatal("a DER INTEGER is not the content bytes: lookups are exact")
	}
	if !s.Issuers()[1].NextUpdate.IsZero() && !s.Issuers()[0].NextUpdate.IsZero() {
		t.Fatal("missing nextUpdate not kept as zero")
	}
}

func TestMergeAndNameConflict(t *testing.T) {
	b := NewBuilder([16]byte{})
	k := sha256.Sum256([]byte("k"))
	must(t, b.AddIssuer(k, []byte("0\x01A"), t0, t1))
	must(t, b.AddIssuer(k, []byte("0\x01A"), t0.Add(-time.Hour), t1.Add(-time.Hour)))
	if err := b.AddIssuer(k, []byte("0\x01B"), t0, t1); err == nil {
		t.Fatal("two names for one key accepted")
	}
	if err := b.AddSerial(sha256.Sum256([]byte("x")), []byte{1}); err == nil {
		t.Fatal("serial of an undeclared issuer accepted")
	}
	must(t, b.AddSerial(k, []byte{1}))
	must(t, b.AddSerial(k, []byte{1}))
	data, err := b.Bytes(t0)
	must(t, err)
	s, err := Parse(data)
	must(t, err)
	in := s.Issuers()[0]
	if in.Count != 1 || !in.ThisUpdate.Equal(t0.Add(-time.Hour)) || !in.NextUpdate.Equal(t1.Add(-time.Hour)) {
		t.Fatalf("merged issuer: %+v", in)
	}
}

func TestBucketBits(t *testing.T) {
	for _, n := range []int{0, 1, 64, 65, 128, 129, 1000, 1 << 20, maxCount} {
		b := bucketBits(n)
		if n > MaxBucketLoad<<b || (b > 0 && n <= MaxBucketLoad<<(b-1)) || b > maxBucketBits {
			t.Errorf("bucketBits(%d) = %d", n, b)
		}
	}
}

// Every strict prefix, and every single-byte change of the structure, is
// rejected or still parses to a set that answers without panicking.
func TestParseRejectsDamage(t *testing.T) {
	data, iss := buildTestSet(t, 3, 6, 200)
	for n := 0; n < len(data); n++ {
		if _, err := Parse(data[:n]); err == nil {
			t.Fatalf("prefix of %d/%d bytes accepted", n, len(data))
		}
	}
	if _, err := Parse(append(bytes.Clone(data), 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	var perr *Error
	_, err := Parse(append([]byte("XXCRLS\x00\x01"), data[8:]...))
	if !errors.As(err, &perr) {
		t.Fatalf("bad magic: %v", err)
	}
	for i := 0; i < len(data); i += 3 {
		d := bytes.Clone(data)
		d[i] ^= 0x5a
		if s, err := Parse(d); err == nil {
			for _, ti := range iss {
				s.Lookup(&ti.spki, []byte{1, 2, 3})
				s.LookupName(ti.name, []byte{1, 2, 3})
			}
			s.Issuers()
		}
	}
}

// Swapping two fingerprints of one bucket passes Parse (memory-safe) but
// not Verify.
func TestVerifyUnsorted(t *testing.T) {
	data, _ := buildTestSet(t, 5, 1, 40)
	s, err := Parse(data)
	must(t, err)
	if s.NumEntries() < 2 {
		t.Skip("seed gave fewer than two entries")
	}
	d := bytes.Clone(data)
	fps := d[len(d)-int(s.NumEntries())*fpBytes:] // one issuer, one bucket: its fingerprints end the file
	var tmp [fpBytes]byte
	copy(tmp[:], fps[:fpBytes])
	copy(fps[:fpBytes], fps[fpBytes:2*fpBytes])
	copy(fps[fpBytes:2*fpBytes], tmp[:])
	s2, err := Parse(d)
	must(t, err)
	if s2.Verify() == nil {
		t.Fatal("unsorted fingerprints verified")
	}
}

func TestLookupAllocs(t *testing.T) {
	data, iss := buildTestSet(t, 4, 10, 500)
	s, err := Parse(data)
	must(t, err)
	ti := iss[1]
	ser := []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16}
	if a := testing.AllocsPerRun(1000, func() {
		s.Lookup(&ti.spki, ser)
		s.LookupName(ti.name, ser)
	}); a != 0 {
		t.Fatalf("%v allocs per lookup", a)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	for seed := uint64(0); seed < 4; seed++ {
		data, _ := buildTestSet(f, seed, int(seed)*3, 150)
		f.Add(data, []byte("0\x10CN=Test CA 0000"), []byte{1, 2})
	}
	f.Fuzz(func(t *testing.T, data, name, serial []byte) {
		s, err := Parse(data)
		if err != nil {
			if s != nil {
				t.Fatal("non-nil set with an error")
			}
			return
		}
		s.Verify() // reads every fingerprint: must not panic either
		infos := s.Issuers()
		for _, in := range infos {
			c, _ := s.Lookup(&in.SPKIHash, serial)
			if !c {
				t.Fatal("listed issuer not covered")
			}
			if c, _ := s.LookupName(in.Name, serial); !c {
				t.Fatal("listed name not covered")
			}
		}
		s.LookupName(name, serial)
		total := uint64(0)
		for _, in := range infos {
			total += uint64(in.Count)
		}
		if len(infos) != s.NumIssuers() || total != s.NumEntries() {
			t.Fatal("issuer table disagrees with the totals")
		}
	})
}

func BenchmarkLookupName(b *testing.B) {
	data, iss := buildTestSet(b, 7, 300, 20000)
	s, err := Parse(data)
	must(b, err)
	ser := []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.LookupName(iss[i%len(iss)].name, ser)
	}
}
