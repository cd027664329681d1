package intermediates

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func lookupAll(t *testing.T, ix *Index, cert []byte) [][]byte {
	t.Helper()
	var out [][]byte
	if _, err := ix.Candidates(cert, func(der []byte) bool {
		out = append(out, bytes.Clone(der))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func build(t *testing.T, ders ...[]byte) *Index {
	t.Helper()
	b, _, err := Build(ders, Meta{GeneratedAt: 1234})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestLookupNameAndSKI(t *testing.T) {
	root := issue(t, "Root", nil, true, nil, false)
	inter := issue(t, "Inter", root, true, nil, false)
	// Same subject Name, another key (a cross-sign or a re-key): the AKI
	// tells them apart.
	twin := issue(t, "Inter", root, true, nil, false)
	other := issue(t, "Other", root, true, nil, false)
	leaf := issue(t, "leaf.test", inter, false, nil, false)
	if len(leaf.cert.AuthorityKeyId) == 0 {
		t.Fatal("test leaf has no AKI")
	}
	ix := build(t, root.der, inter.der, twin.der, other.der)
	if ix.Count() != 4 || ix.Meta.GeneratedAt != 1234 {
		t.Fatalf("count %d meta %+v", ix.Count(), ix.Meta)
	}
	got := lookupAll(t, ix, leaf.der)
	if len(got) != 1 || !bytes.Equal(got[0], inter.der) {
		t.Fatalf("leaf: %d candidates, want exactly its issuer", len(got))
	}
	// The root is a candidate for the intermediates, never for the leaf.
	if got := lookupAll(t, ix, inter.der); len(got) != 1 || !bytes.Equal(got[0], root.der) {
		t.Fatalf("inter: %d candidates", len(got))
	}
	// Unknown issuer: none.
	stranger := issue(t, "Stranger", nil, true, nil, false)
	if got := lookupAll(t, ix, issue(t, "x", stranger, false, nil, false).der); len(got) != 0 {
		t.Fatalf("unknown issuer: %d candidates", len(got))
	}
}

func TestLookupNoSKIMatchesByName(t *testing.T) {
	root := issue(t, "Root", nil, true, nil, false)
	bare := issue(t, "Bare CA", root, true, nil, true) // no SKI
	if len(bare.cert.SubjectKeyId) != 0 || !bare.cert.IsCA {
		t.Fatalf("bare: ski %x ca %v", bare.cert.SubjectKeyId, bare.cert.IsCA)
	}
	// A leaf whose AKI names some key: the set's certificate without an
	// SKI still matches by name (the stack's signature check decides).
	leaf := issue(t, "leaf.test", bare, false, nil, false)
	ix := build(t, bare.der)
	if got := lookupAll(t, ix, leaf.der); len(got) != 1 || !bytes.Equal(got[0], bare.der) {
		t.Fatalf("%d candidates", len(got))
	}
}

func TestLookupAtMost16(t *testing.T) {
	root := issue(t, "Root", nil, true, nil, false)
	var ders [][]byte
	for i := 0; i < 20; i++ {
		ders = append(ders, issue(t, "Crowded", root, true, nil, true).der) // no SKI: all match
	}
	crowded := issue(t, "Crowded", root, true, nil, true)
	leaf := issue(t, "leaf.test", crowded, false, nil, false)
	ix := build(t, ders...)
	if got := lookupAll(t, ix, leaf.der); len(got) != MaxCandidates {
		t.Fatalf("%d candidates, want %d", len(got), MaxCandidates)
	}
	// fn returning false stops early.
	n, _ := ix.Candidates(leaf.der, func([]byte) bool { return false })
	if n != 1 {
		t.Fatalf("stopped after %d", n)
	}
}

func TestBuildKeepsCAsOnly(t *testing.T) {
	root := issue(t, "Root", nil, true, nil, false)
	inter := issue(t, "Inter", root, true, nil, false)
	notCA := issue(t, "Not a CA", root, false, nil, false)
	b, skipped, err := Build([][]byte{inter.der, notCA.der, inter.der, []byte("junk")}, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Count() != 1 || len(skipped) != 2 {
		t.Fatalf("count %d, skipped %v", ix.Count(), skipped)
	}
	// A certificate issued by the non-CA finds nothing.
	if got := lookupAll(t, ix, issue(t, "x", notCA, false, nil, false).der); len(got) != 0 {
		t.Fatalf("non-CA offered as issuer")
	}
}

func TestParseRejectsDamage(t *testing.T) {
	root := issue(t, "Root", nil, true, nil, false)
	good, _, err := Build([][]byte{root.der, issue(t, "I", root, true, nil, false).der}, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":     nil,
		"short":     good[:40],
		"magic":     append([]byte("xxxxxxxx"), good[8:]...),
		"truncated": good[:len(good)-1],
		"longer":    append(bytes.Clone(good), 0),
	}
	huge := bytes.Clone(good)
	binary.LittleEndian.PutUint32(huge[8:], 0xffffffff)
	cases["count"] = huge
	out := bytes.Clone(good)
	binary.LittleEndian.PutUint32(out[headerSize+40:], 1<<30)
	cases["offset"] = out
	swapped := bytes.Clone(good)
	e0, e1 := bytes.Clone(swapped[headerSize:headerSize+entrySize]), bytes.Clone(swapped[headerSize+entrySize:headerSize+2*entrySize])
	copy(swapped[headerSize:], e1)
	copy(swapped[headerSize+entrySize:], e0)
	cases["order"] = swapped
	for name, b := range cases {
		if _, err := Parse(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// A damaged index in the cache is an error from the Set, never a crash;
// no index is no candidates and no error.
func TestSetMissingAndGarbage(t *testing.T) {
	dir := t.TempDir()
	root := issue(t, "Root", nil, true, nil, false)
	inter := issue(t, "Inter", root, true, nil, false)
	leaf := issue(t, "leaf.test", inter, false, nil, false)

	s := NewSet(dir)
	if n, err := s.Find(leaf.der, func([]byte) bool { return true }); n != 0 || err != nil {
		t.Fatalf("no index: %d %v", n, err)
	}
	if _, err := s.Find([]byte("not a cert"), func([]byte) bool { return true }); err == nil {
		t.Fatal("bad certificate: no error")
	}
	s.Close()

	if err := os.WriteFile(filepath.Join(dir, IndexFile), []byte("rcinter1 garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	s = NewSet(dir)
	if n, err := s.Find(leaf.der, func([]byte) bool { return true }); n != 0 || err == nil {
		t.Fatalf("garbage index: %d %v", n, err)
	}
	s.Close()

	b, _, _ := Build([][]byte{inter.der}, Meta{})
	if err := WriteIndex(dir, b); err != nil {
		t.Fatal(err)
	}
	s = NewSet(dir)
	defer s.Close()
	var got []byte
	if n, err := s.Find(leaf.der, func(d []byte) bool { got = bytes.Clone(d); return true }); n != 1 || err != nil || !bytes.Equal(got, inter.der) {
		t.Fatalf("good index: %d %v", n, err)
	}
	info, ok, err := s.Info()
	if !ok || err != nil || info.Count != 1 || info.Size != len(b) {
		t.Fatalf("info %+v %v %v", info, ok, err)
	}
	s.Close()
	if n, err := s.Find(leaf.der, func([]byte) bool { return true }); n != 0 || err != nil {
		t.Fatalf("closed: %d %v", n, err)
	}
}

func FuzzParse(f *testing.F) {
	root := issue(f, "Root", nil, true, nil, false)
	inter := issue(f, "Inter", root, true, nil, false)
	bare := issue(f, "Inter", root, true, nil, true)
	leaf := issue(f, "leaf", inter, false, nil, false)
	good, _, _ := Build([][]byte{root.der, inter.der, bare.der}, Meta{GeneratedAt: 1})
	f.Add(good)
	f.Add(good[:headerSize])
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		ix, err := Parse(b)
		if err != nil {
			return
		}
		for i := 0; i < ix.Count(); i++ {
			_ = ix.Cert(i)
		}
		n := ix.Lookup(leaf.cert.RawIssuer, leaf.cert.AuthorityKeyId, func([]byte) bool { return true })
		if n > MaxCandidates {
			t.Fatal(fmt.Sprint(n))
		}
		_ = sha256.Sum256(b)
	})
}
