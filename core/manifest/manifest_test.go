package manifest

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const hashA = "d2dfd3b4de4ee7b6479888af5ceaef82c5c59ac471b7ef488a59654a32089e26"

func TestLegacyFixture(t *testing.T) {
	data, err := os.ReadFile("../../testdata/fixtures/upki-manifest-legacy.json")
	require.NoError(t, err)
	m, err := Parse(data)
	require.NoError(t, err)
	if m.GeneratedAt != 1774181961 || m.Comment != "rustls/upki run 23402886033" {
		t.Fatalf("header: %d %q", m.GeneratedAt, m.Comment)
	}
	if len(m.Files) != 36 {
		t.Fatalf("%d files, want 36 (1 full + 35 deltas)", len(m.Files))
	}
	f := m.Files[0]
	if f.Filename != "20260304-1-default.filter" || f.Size != 6126299 || f.Hash != hashA {
		t.Fatalf("first file %+v", f)
	}
	sum, ok := f.SHA256()
	if !ok || sum[0] != 0xd2 || sum[31] != 0x26 {
		t.Fatalf("SHA256 %x %v", sum, ok)
	}
	if g, ok := m.Lookup("20260322-0-default.filter.delta"); !ok || g.Size != 161917 {
		t.Fatalf("lookup last delta: %+v %v", g, ok)
	}

	// Writing uses "files"; reading it back gives the same manifest.
	out, err := m.Marshal()
	require.NoError(t, err)
	if !strings.Contains(string(out), `"files": [`) || strings.Contains(string(out), `"filters"`) {
		t.Fatalf("marshal wrote %s", out[:80])
	}
	m2, err := Parse(out)
	require.NoError(t, err)
	if m2.GeneratedAt != m.GeneratedAt || m2.Comment != m.Comment || len(m2.Files) != len(m.Files) {
		t.Fatal("round trip changed the manifest")
	}
	for i := range m.Files {
		if m.Files[i] != m2.Files[i] {
			t.Fatalf("file %d: %+v vs %+v", i, m.Files[i], m2.Files[i])
		}
	}
}

func TestParseForms(t *testing.T) {
	ok := []string{
		`{"generated_at":1,"comment":"c","files":[]}`,
		`{"generated_at":1,"comment":"c","filters":[]}`,
		`{"generated_at":1,"files":[{"filename":"a.filter","size":3,"hash":"` + hashA + `"}]}`,
		`{"generated_at":1,"files":[],"future_key":{"x":[1,2]}}`,
		"  {\"generated_at\":0,\"files\":[]}\n\n",
	}
	for _, s := range ok {
		if _, err := Parse([]byte(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	file := func(name, size, hash string) string {
		return `{"generated_at":1,"files":[{"filename":` + name + `,"size":` + size + `,"hash":"` + hash + `"}]}`
	}
	cases := map[string]string{
		"empty":              ``,
		"not json":           `generated_at=1`,
		"array":              `[]`,
		"missing files":      `{"generated_at":1,"comment":"c"}`,
		"null files":         `{"generated_at":1,"files":null}`,
		"both keys":          `{"generated_at":1,"files":[],"filters":[]}`,
		"missing generated":  `{"files":[]}`,
		"negative generated": `{"generated_at":-5,"files":[]}`,
		"float generated":    `{"generated_at":1.5,"files":[]}`,
		"string generated":   `{"generated_at":"1","files":[]}`,
		"trailing object":    `{"generated_at":1,"files":[]}{}`,
		"trailing garbage":   `{"generated_at":1,"files":[]} x`,
		"uppercase hash":     file(`"a"`, "1", strings.ToUpper(hashA)),
		"short hash":         file(`"a"`, "1", hashA[:63]),
		"long hash":          file(`"a"`, "1", hashA+"0"),
		"non-hex hash":       file(`"a"`, "1", "g"+hashA[1:]),
		"negative size":      file(`"a"`, "-1", hashA),
		"slash":              file(`"../evil"`, "1", hashA),
		"dot-dot":            file(`".."`, "1", hashA),
		"empty name":         file(`""`, "1", hashA),
		"nul":                file(`"a\u0000b"`, "1", hashA),
		"33 bytes":           file(`"`+strings.Repeat("a", 33)+`"`, "1", hashA),
		"duplicate": `{"generated_at":1,"files":[{"filename":"a","size":1,"hash":"` + hashA +
			`"},{"filename":"a","size":1,"hash":"` + hashA + `"}]}`,
		"too big": `{"generated_at":1,"comment":"` + strings.Repeat("x", MaxSize) + `","files":[]}`,
	}
	for name, s := range cases {
		m, err := Parse([]byte(s))
		if err == nil || m != nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v does not wrap ErrInvalid", name, err)
		}
	}
}

func TestValidateName(t *testing.T) {
	for _, n := range []string{"a", "20260304-1-default.filter", "20260305-0-default.filter.delta", "é", strings.Repeat("x", 32), "crlset-00.bin"} {
		assert.NoError(t, ValidateName(n), "%q", n)
	}
	for _, n := range []string{"", ".", "..", "a..b", "a/b", "/a", "a\x00", strings.Repeat("x", 33), strings.Repeat("é", 17), "\xff"} {
		if ValidateName(n) == nil {
			t.Errorf("%q accepted", n)
		}
	}
}

func TestMarshalRejectsInvalid(t *testing.T) {
	m := &Manifest{GeneratedAt: 1, Files: []File{{Filename: "a/b", Hash: hashA}}}
	if _, err := m.Marshal(); err == nil {
		t.Fatal("marshalled an invalid name")
	}
	m = &Manifest{GeneratedAt: 1}
	out, err := m.Marshal()
	if err != nil || !strings.Contains(string(out), `"files": []`) {
		t.Fatalf("empty manifest: %s %v", out, err)
	}
}

// FuzzParse: never panic; failures wrap ErrInvalid and return nil; a parsed
// manifest re-marshals to one that parses to the same value.
func FuzzParse(f *testing.F) {
	data, err := os.ReadFile("../../testdata/fixtures/upki-manifest-legacy.json")
	require.NoError(f, err)
	f.Add(data)
	f.Add([]byte(`{"generated_at":1,"comment":"c","files":[{"filename":"a.filter","size":3,"hash":"` + hashA + `"}]}`))
	f.Add([]byte(`{"generated_at":1,"filters":[]}`))
	f.Add([]byte(`{"generated_at":1,"files":[],"filters":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			if m != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("failure returned %v, %v", m, err)
			}
			return
		}
		out, err := m.Marshal()
		require.NoError(t, err, "marshal of a parsed manifest")
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("reparse: %v\n%s", err, out)
		}
		if m2.GeneratedAt != m.GeneratedAt || m2.Comment != m.Comment || len(m2.Files) != len(m.Files) {
			t.Fatalf("round trip changed %+v to %+v", m, m2)
		}
		for i := range m.Files {
			if m.Files[i] != m2.Files[i] {
				t.Fatalf("file %d changed: %+v vs %+v", i, m.Files[i], m2.Files[i])
			}
		}
	})
}
