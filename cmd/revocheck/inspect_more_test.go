package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/revocheck/revocheck/core/crlset"
)

// TestInspectCacheFiles: index.bin, a manifest and a CRL set are each
// recognised by their bytes and described; a damaged one is an error.
func TestInspectCacheFiles(t *testing.T) {
	cache := filepath.Join("..", "..", "testdata", "fixtures", "mozilla-builder", "cache-v3")
	dir := t.TempDir()

	b := crlset.NewBuilder([16]byte{1})
	issuer := [32]byte{0xab, 0xcd}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, b.AddIssuer(issuer, []byte{0x30, 0x00}, now, now.Add(7*24*time.Hour)))
	require.NoError(t, b.AddSerial(issuer, []byte{0x05}))
	require.NoError(t, b.AddSerial(issuer, []byte{0x02, 0x01}))
	set, err := b.Bytes(now)
	require.NoError(t, err)
	setPath := filepath.Join(dir, "crls-test.crlset")
	require.NoError(t, os.WriteFile(setPath, set, 0o644))

	code, out, errOut := runCLI(t, nil, "inspect", filepath.Join(cache, "index.bin"), filepath.Join(cache, "manifest.json"), setPath)
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{
		"index.bin (upkiidx1)", "filters:     11", "full.filter",
		"manifest.json: manifest", "files:       11",
		"crls-test.crlset: crl set", "issuers:     1, 2 revoked serials", "abcd0000",
	} {
		require.Contains(t, out, want)
	}

	code, out, errOut = runCLI(t, nil, "inspect", "--json", setPath)
	require.Equal(t, 0, code, errOut)
	var rep inspectReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, "crlset", rep.Format)
	require.NotNil(t, rep.CRLSet)
	require.Equal(t, uint64(2), rep.CRLSet.Entries)

	// Damaged: each format's own parser answers, with the file named.
	bad := filepath.Join(dir, "bad.crlset")
	require.NoError(t, os.WriteFile(bad, set[:len(set)-3], 0o644))
	badIdx := filepath.Join(dir, "index.bin")
	idx, err := os.ReadFile(filepath.Join(cache, "index.bin"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(badIdx, append(idx, 0), 0o644))
	badMan := filepath.Join(dir, "manifest.json")
	require.NoError(t, os.WriteFile(badMan, []byte(`{"files": 3}`), 0o644))
	for _, p := range []string{bad, badIdx, badMan} {
		code, _, errOut = runCLI(t, nil, "inspect", p)
		require.Equal(t, 1, code, p)
		require.Contains(t, errOut, p)
	}
}
