package manifest

import (
	"encoding/hex"
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
	assert.EqualValues(t, 1774181961, m.GeneratedAt)
	assert.Equal(t, "rustls/upki run 23402886033", m.Comment)
	require.Len(t, m.Files, 36, "1 full + 35 deltas")
	f := m.Files[0]
	assert.Equal(t, "20260304-1-default.filter", f.Filename)
	assert.EqualValues(t, 6126299, f.Size)
	assert.Equal(t, hashA, f.Hash)
	sum, ok := f.SHA256()
	require.True(t, ok, "SHA256 of the first file")
	assert.Equal(t, hashA, hex.EncodeToString(sum[:]))
	g, ok := m.Lookup("20260322-0-default.filter.delta")
	require.True(t, ok, "lookup of the last delta")
	assert.EqualValues(t, 161917, g.Size)

	// Writing uses "files"; reading it back gives the same manifest.
	out, err := m.Marshal()
	require.NoError(t, err)
	assert.Contains(t, string(out), `"files": [`)
	assert.NotContains(t, string(out), `"filters"`)
	m2, err := Parse(out)
	require.NoError(t, err)
	assert.Equal(t, m, m2, "round trip")
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
		_, err := Parse([]byte(s))
		assert.NoError(t, err, s)
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
		assert.ErrorIs(t, err, ErrInvalid, name)
		assert.Nil(t, m, name)
	}
}

func TestValidateName(t *testing.T) {
	for _, n := range []string{"a", "20260304-1-default.filter", "20260305-0-default.filter.delta", "é", strings.Repeat("x", 32), "crlset-00.bin"} {
		assert.NoError(t, ValidateName(n), "%q", n)
	}
	for _, n := range []string{"", ".", "..", "a..b", "a/b", "/a", "a\x00", strings.Repeat("x", 33), strings.Repeat("é", 17), "\xff"} {
		assert.Error(t, ValidateName(n), "%q", n)
	}
}

func TestMarshalRejectsInvalid(t *testing.T) {
	m := &Manifest{GeneratedAt: 1, Files: []File{{Filename: "a/b", Hash: hashA}}}
	_, err := m.Marshal()
	require.Error(t, err, "marshalled an invalid name")
	m = &Manifest{GeneratedAt: 1}
	out, err := m.Marshal()
	require.NoError(t, err)
	assert.Contains(t, string(out), `"files": []`)
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
			require.ErrorIs(t, err, ErrInvalid)
			require.Nil(t, m)
			return
		}
		out, err := m.Marshal()
		require.NoError(t, err, "marshal of a parsed manifest")
		m2, err := Parse(out)
		require.NoError(t, err, "reparse of %s", out)
		require.Equal(t, m, m2, "round trip")
	})
}
