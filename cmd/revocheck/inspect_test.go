package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/revocheck/revocheck/core/cascade"
	"github.com/revocheck/revocheck/core/clubcard"
)

// inspectFiles writes one file of each kind inspect knows (inspectData).
func inspectFiles(t *testing.T) string {
	dir := t.TempDir()
	for name, data := range inspectData(t) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	return dir
}

// inspectData is one file of each kind inspect knows, built here so the
// test needs no fixture: a v4 clubcard from the builder, a minimal v3
// written by hand, v1 and v2 cascades and a stash laid out as the formats
// say (core/cascade's package documentation), and some that are broken.
func inspectData(t require.TestingT) map[string][]byte {
	le := binary.LittleEndian
	logID := [32]byte{0xaa, 1, 2, 3}
	issuer := [32]byte{0x11}

	v4, err := clubcard.Build(&clubcard.BuildInput{
		Coverage: []clubcard.CoverageEntry{{LogID: logID, Low: 1_700_000_000_000, High: 1_750_000_000_000}},
		Issuers: []clubcard.IssuerInput{
			{SPKIHash: issuer, Revoked: [][]byte{{1}, {2}}, NotRevoked: [][]byte{{3}, {4}, {5}, {6}, {7}, {8}}},
			{SPKIHash: [32]byte{0x22}, Revoked: [][]byte{{9}}},
		},
		Seed: 1,
	})
	require.NoError(t, err)

	// v3: one coverage entry, one issuer with empty blocks, no columns.
	v3 := []byte{3, 0}
	v3 = le.AppendUint64(v3, 1)
	v3 = append(v3, logID[:]...)
	v3 = le.AppendUint64(le.AppendUint64(v3, 5), 6)
	v3 = le.AppendUint64(v3, 1)
	v3 = le.AppendUint64(v3, 32)
	v3 = append(v3, issuer[:]...)
	for range 5 {
		v3 = le.AppendUint64(v3, 0)
	}
	v3 = append(v3, 0)                              // not inverted
	v3 = le.AppendUint64(v3, 0)                     // no exceptions
	v3 = le.AppendUint64(le.AppendUint64(v3, 0), 0) // no approximate columns, empty exact column

	layer := func(b []byte, alg cascade.HashAlg, bits, hashes uint32, no uint8) []byte {
		b = append(b, byte(alg))
		b = le.AppendUint32(b, bits)
		b = le.AppendUint32(b, hashes)
		b = append(b, no)
		return append(b, bytes.Repeat([]byte{0x5a}, int(bits+7)/8)...)
	}
	mlbf1 := layer(layer([]byte{1, 0}, cascade.MurmurHash3, 1000, 6, 1), cascade.MurmurHash3, 100, 1, 2)
	mlbf2 := layer([]byte{2, 0, 1, 4, 'n', 'a', 'c', 'l'}, cascade.SHA256Ctr, 256, 3, 1)

	stashOf := func(blocks ...[][]byte) (b []byte) {
		for _, serials := range blocks {
			b = le.AppendUint32(b, uint32(len(serials)))
			b = append(append(b, 32), issuer[:]...)
			for _, s := range serials {
				b = append(append(b, byte(len(s))), s...)
			}
		}
		return b
	}
	stash := stashOf([][]byte{{5}}, [][]byte{{1, 2, 3}})
	// Starts [3 0 0 0]: a clubcard v3's version, which fails to parse.
	stash3 := stashOf([][]byte{{1}, {2}, {3}})

	return map[string][]byte{
		"v4.filter": v4, "v3.filter": v3, "v1.mlbf": mlbf1, "v2.mlbf": mlbf2, "x.stash": stash, "x3.stash": stash3,
		"garbage":    bytes.Repeat([]byte("not a filter "), 50),
		"short.mlbf": mlbf1[:len(mlbf1)-3],
		"empty":      {},
	}
}

func TestInspectFormats(t *testing.T) {
	dir := inspectFiles(t)
	p := func(name string) string { return filepath.Join(dir, name) }

	code, out, errOut := runCLI(t, nil, "inspect", p("v4.filter"), p("v3.filter"), p("v1.mlbf"), p("v2.mlbf"), p("x.stash"), p("x3.stash"))
	require.Equal(t, 0, code, errOut)
	require.Empty(t, errOut)
	for _, want := range []string{
		p("v4.filter") + ": clubcard v4\n", "issuers:     2 (1 inverted)", "coverage:    1 CT log(s)",
		"aa01020300000000000000000000000000000000000000000000000000000000  2023-11-14T22:13:20Z .. 2025-06-15T15:06:40Z",
		p("v3.filter") + ": clubcard v3\n", "issuers:     1 (0 inverted)",
		p("v1.mlbf") + ": legacy mlbf filter cascade v1\n", "hash mode:   murmurhash3", "layers:      2 (1100 bits)",
		"1: 1000 bits, 6 hash function(s)", "2: 100 bits, 1 hash function(s)",
		p("v2.mlbf") + ": legacy mlbf filter cascade v2\n", "hash mode:   sha256ctr", "inverted:    true",
		"salt:        4 bytes, 6e61636c",
		p("x.stash") + ": legacy crlite stash\n", "issuers:     1\n", "revoked:     2 serials",
		p("x3.stash") + ": legacy crlite stash\n", "revoked:     3 serials",
	} {
		require.Contains(t, out, want)
	}

	code, out, errOut = runCLI(t, nil, "inspect", "--json", p("v4.filter"), p("v1.mlbf"), p("x.stash"))
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	var reps [3]inspectReport
	for i, l := range lines {
		require.NoError(t, json.Unmarshal([]byte(l), &reps[i]), l)
	}
	require.Equal(t, "clubcard", reps[0].Format)
	require.Equal(t, 4, reps[0].Version)
	require.Equal(t, 2, *reps[0].Issuers)
	require.Equal(t, hex.EncodeToString([]byte{0xaa, 1, 2, 3})+strings.Repeat("00", 28), reps[0].Coverage[0].LogID)
	require.Equal(t, uint64(1_750_000_000_000), reps[0].Coverage[0].ToMs)
	require.Equal(t, "mlbf-cascade", reps[1].Format)
	require.Equal(t, "murmurhash3", reps[1].HashMode)
	require.Equal(t, []inspectLayer{{1000, 6}, {100, 1}}, reps[1].Layers)
	require.Equal(t, "stash", reps[2].Format)
	require.Equal(t, 2, *reps[2].RevokedSerials)
}

// TestInspectRefuses: garbage and truncated data, and paths that are not
// regular files (a fifo would block a plain open; /dev/zero never ends), or
// too large, each get a clear error and exit 1, without stopping the others.
func TestInspectRefuses(t *testing.T) {
	dir := inspectFiles(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	require.NoError(t, unix.Mkfifo(p("fifo"), 0o644))
	require.NoError(t, os.Symlink("/dev/zero", p("zero")))
	big, err := os.Create(p("big"))
	require.NoError(t, err)
	require.NoError(t, big.Truncate(maxInspectSize+1)) // sparse
	big.Close()

	for name, want := range map[string]string{
		"garbage":    "not a clubcard (v3, v4), legacy mlbf cascade or stash: its first bytes 6e6f7420 name no known version",
		"short.mlbf": "not a clubcard (v3, v4), legacy mlbf cascade or stash: cascade: truncated bits of layer 2",
		"empty":      "empty file",
		"fifo":       "fifo: not a regular file",
		"zero":       "zero: not a regular file",
		".":          "not a regular file",
		"big":        "1073741825 bytes, more than 1073741824",
		"missing":    "no such file or directory",
	} {
		code, out, errOut := runCLI(t, nil, "inspect", p(name), p("x.stash"))
		require.Equal(t, 1, code, "%s: %s", name, errOut)
		require.Contains(t, errOut, want, name)
		require.Contains(t, errOut, "inspect: 1 of 2 file(s) not identified", name)
		require.Contains(t, out, "legacy crlite stash", "%s: the next file is still inspected", name)
	}
	code, _, errOut := runCLI(t, nil, "inspect")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "usage: revocheck inspect [--json] [--query KEY]... FILE...")
}

// FuzzInspect: any bytes give a report or an error, never a panic.
func FuzzInspect(f *testing.F) {
	for _, data := range inspectData(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := identify("f", data)
		if err == nil {
			r.print(&bytes.Buffer{})
			_, err = json.Marshal(r)
			require.NoError(t, err)
		}
	})
}
