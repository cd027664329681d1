package cachedir

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/clubcard"
	"github.com/revocheck/revocheck/core/index"
	"github.com/revocheck/revocheck/core/manifest"

	"github.com/stretchr/testify/assert"
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
	require.Equal(t, []string{"full.filter", "d1.delta"}, ix.Filenames())
	require.Equal(t, len(cov), ix.NumLogs(), "index logs, filter's coverage entries")
	for _, c := range cov {
		require.Equal(t, []uint16{0, 1}, ix.AppendCovering(nil, &c.LogID, c.Low), "log %x at its low bound %d", c.LogID[:4], c.Low)
		if c.High < ^uint64(0) {
			require.Empty(t, ix.AppendCovering(nil, &c.LogID, c.High+1), "log %x past its high bound", c.LogID[:4])
		}
	}
	m := readManifest(t, dir)
	sum := sha256.Sum256(data)
	assert.Equal(t, at.Unix(), m.GeneratedAt)
	assert.Equal(t, "c", m.Comment)
	require.Len(t, m.Files, 2)
	assert.Equal(t, manifest.File{Filename: "full.filter", Size: int64(len(data)), Hash: hex.EncodeToString(sum[:])}, m.Files[0])
	full := inode(t, filepath.Join(dir, "full.filter"))

	// Second generation: d1 goes, d2 arrives, full is unchanged (not
	// rewritten); files the cache never listed stay.
	keep := filepath.Join(dir, "crlsets")
	require.NoError(t, os.Mkdir(keep, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644))
	require.NoError(t, WriteFilters(dir, []File{{"full.filter", data}, {"d2.delta", data}}))
	require.NoFileExists(t, filepath.Join(dir, "d1.delta"), "d1.delta not removed")
	for _, n := range []string{"full.filter", "d2.delta", "crlsets", "notes.txt", "index.bin", "manifest.json"} {
		_, err := os.Stat(filepath.Join(dir, n))
		require.NoError(t, err)
	}
	require.Equal(t, full, inode(t, filepath.Join(dir, "full.filter")), "unchanged filter was rewritten")
	require.Equal(t, []string{"full.filter", "d2.delta"}, readIndex(t, dir).Filenames())
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range ents {
		assert.False(t, strings.HasPrefix(e.Name(), ".tmp-"), "temporary file left: %s", e.Name())
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
		assert.Error(t, WriteFilters(dir, files), name)
	}
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, ents, "files left by rejected writes")
	// An empty set is a valid (empty) cache.
	require.NoError(t, WriteFilters(dir, nil))
	ix := readIndex(t, dir)
	assert.Empty(t, ix.Filenames(), "empty cache's index")
	assert.Zero(t, ix.NumLogs(), "empty cache's index")
}

func TestSynthetic(t *testing.T) {
	spec := SyntheticSpec{Issuers: 8, FullSerials: 2000, Deltas: 3, DeltaSerials: 200, RevokedFraction: 0.1, Logs: 3, Seed: 42}
	a, b := t.TempDir(), t.TempDir()
	sa, err := Synthetic(a, spec)
	require.NoError(t, err)
	_, err = Synthetic(b, spec)
	require.NoError(t, err)
	ma, mb := readManifest(t, a), readManifest(t, b)
	require.Len(t, ma.Files, 4)
	assert.True(t, strings.HasSuffix(ma.Files[0].Filename, "-default.filter"), "full filter named %s", ma.Files[0].Filename)
	require.Equal(t, ma.Files, mb.Files, "same seed, different files")
	for _, f := range ma.Files[1:] {
		assert.True(t, strings.HasSuffix(f.Filename, ".filter.delta"), "delta named %s", f.Filename)
	}
	// Every filter covers the full filter's certificates: all four are
	// covering filters for a not-revoked sample.
	ix := readIndex(t, a)
	in := sa.NotRevoked[0]
	var cov []uint16
	for _, s := range in.SCTs {
		cov = ix.AppendCovering(cov, &s.LogID, s.Timestamp)
	}
	require.Len(t, cov, 4, "filters covering a not-revoked sample")
	for _, s := range sa.NotCovered[0].SCTs {
		require.Empty(t, ix.AppendCovering(nil, &s.LogID, s.Timestamp), "filters covering a not-covered sample")
	}
	require.NotEmpty(t, sa.Revoked, "revoked sample")
	require.NotEmpty(t, sa.NotEnrolled, "not-enrolled sample")
	for _, bad := range []SyntheticSpec{{}, {Issuers: 1, FullSerials: 1, Logs: 1}, {Issuers: 1, FullSerials: 1, Logs: 2, RevokedFraction: 2}} {
		_, err := Synthetic(t.TempDir(), bad)
		assert.Error(t, err, "spec %+v", bad)
	}
}
