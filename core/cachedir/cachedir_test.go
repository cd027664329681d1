package cachedir

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/clubcard"
	"github.com/revocheck/revocheck/core/index"
	"github.com/revocheck/revocheck/core/manifest"

	"github.com/stretchr/testify/require"
)

func fixture(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("../../testdata/fixtures/mozilla-20260624-1-default.filter.delta")
	require.NoError(t, err)
	return data
}

func readIndex(t *testing.T, dir string) *index.Index {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "index.bin"))
	require.NoError(t, err)
	ix, err := index.Parse(data)
	require.NoError(t, err)
	return ix
}

func readManifest(t *testing.T, dir string) *manifest.Manifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	require.NoError(t, err)
	m, err := manifest.Parse(data)
	require.NoError(t, err)
	return m
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Sys().(*syscall.Stat_t).Ino
}

func TestWrite(t *testing.T) {
	data := fixture(t)
	f, err := clubcard.Parse(data)
	require.NoError(t, err)
	cov := f.Coverage()
	dir := filepath.Join(t.TempDir(), "cache")
	at := time.Unix(1782000000, 0)
	files := []File{{"full.filter", data}, {"d1.delta", data}}
	require.NoError(t, Write(dir, files, Options{GeneratedAt: at, Comment: "c"}))
	ix := readIndex(t, dir)
	if !slices.Equal(ix.Filenames(), []string{"full.filter", "d1.delta"}) || ix.NumLogs() != len(cov) {
		t.Fatalf("index names %q logs %d (filter has %d)", ix.Filenames(), ix.NumLogs(), len(cov))
	}
	for _, c := range cov {
		got := ix.AppendCovering(nil, &c.LogID, c.Low)
		if !slices.Equal(got, []uint16{0, 1}) {
			t.Fatalf("log %x at %d covered by %v", c.LogID[:4], c.Low, got)
		}
		if c.High < ^uint64(0) {
			if got := ix.AppendCovering(nil, &c.LogID, c.High+1); len(got) != 0 {
				t.Fatalf("covered past high: %v", got)
			}
		}
	}
	m := readManifest(t, dir)
	sum := sha256.Sum256(data)
	if m.GeneratedAt != at.Unix() || m.Comment != "c" || len(m.Files) != 2 ||
		m.Files[0] != (manifest.File{Filename: "full.filter", Size: int64(len(data)), Hash: hex.EncodeToString(sum[:])}) {
		t.Fatalf("manifest %+v", m)
	}
	full := inode(t, filepath.Join(dir, "full.filter"))

	// Second generation: d1 goes, d2 arrives, full is unchanged (not
	// rewritten); files the cache never listed stay.
	keep := filepath.Join(dir, "crlsets")
	require.NoError(t, os.Mkdir(keep, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644))
	require.NoError(t, WriteFilters(dir, []File{{"full.filter", data}, {"d2.delta", data}}))
	if _, err := os.Stat(filepath.Join(dir, "d1.delta")); !os.IsNotExist(err) {
		t.Fatalf("d1.delta not removed: %v", err)
	}
	for _, n := range []string{"full.filter", "d2.delta", "crlsets", "notes.txt", "index.bin", "manifest.json"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	if inode(t, filepath.Join(dir, "full.filter")) != full {
		t.Fatal("unchanged filter was rewritten")
	}
	if got := readIndex(t, dir).Filenames(); !slices.Equal(got, []string{"full.filter", "d2.delta"}) {
		t.Fatalf("index names %q", got)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if len(e.Name()) > 5 && e.Name()[:5] == ".tmp-" {
			t.Fatalf("temporary file left: %s", e.Name())
		}
	}
}

func TestWriteRejects(t *testing.T) {
	data := fixture(t)
	dir := t.TempDir()
	cases := map[string][]File{
		"bad name":    {{"../x", data}},
		"long name":   {{"0123456789abcdef0123456789abcdef.delta", data}},
		"reserved":    {{"index.bin", data}},
		"manifest":    {{"manifest.json", data}},
		"duplicate":   {{"a", data}, {"a", data}},
		"not clubard": {{"a", []byte("junk")}},
		"truncated":   {{"a", data[:100]}},
	}
	for name, files := range cases {
		if err := WriteFilters(dir, files); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("rejected writes left %d files", len(ents))
	}
	// An empty set is a valid (empty) cache.
	require.NoError(t, WriteFilters(dir, nil))
	if ix := readIndex(t, dir); len(ix.Filenames()) != 0 || ix.NumLogs() != 0 {
		t.Fatal("empty cache index not empty")
	}
}

func TestSynthetic(t *testing.T) {
	spec := SyntheticSpec{Issuers: 8, FullSerials: 2000, Deltas: 3, DeltaSerials: 200, RevokedFraction: 0.1, Logs: 3, Seed: 42}
	a, b := t.TempDir(), t.TempDir()
	sa, err := Synthetic(a, spec)
	require.NoError(t, err)
	if _, err := Synthetic(b, spec); err != nil {
		t.Fatal(err)
	}
	ma, mb := readManifest(t, a), readManifest(t, b)
	if len(ma.Files) != 4 || !strings.HasSuffix(ma.Files[0].Filename, "-default.filter") {
		t.Fatalf("files %+v", ma.Files)
	}
	for i := range ma.Files {
		if ma.Files[i] != mb.Files[i] {
			t.Fatalf("same seed, different file %d: %+v vs %+v", i, ma.Files[i], mb.Files[i])
		}
		if i > 0 && !strings.HasSuffix(ma.Files[i].Filename, ".filter.delta") {
			t.Fatalf("delta named %s", ma.Files[i].Filename)
		}
	}
	// Every filter covers the full filter's certificates: all four are
	// covering filters for a not-revoked sample.
	ix := readIndex(t, a)
	in := sa.NotRevoked[0]
	var cov []uint16
	for _, s := range in.SCTs {
		cov = ix.AppendCovering(cov, &s.LogID, s.Timestamp)
	}
	if len(cov) != 4 {
		t.Fatalf("not-revoked sample covered by %v", cov)
	}
	for _, s := range sa.NotCovered[0].SCTs {
		if c := ix.AppendCovering(nil, &s.LogID, s.Timestamp); len(c) != 0 {
			t.Fatalf("not-covered sample covered by %v", c)
		}
	}
	if len(sa.Revoked) == 0 || len(sa.NotEnrolled) == 0 {
		t.Fatal("empty sample")
	}
	for _, bad := range []SyntheticSpec{{}, {Issuers: 1, FullSerials: 1, Logs: 1}, {Issuers: 1, FullSerials: 1, Logs: 2, RevokedFraction: 2}} {
		if _, err := Synthetic(t.TempDir(), bad); err == nil {
			t.Errorf("spec %+v accepted", bad)
		}
	}
}
