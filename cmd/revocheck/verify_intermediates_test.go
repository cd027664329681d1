package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/revocheck/revocheck/core/intermediates"
	"github.com/revocheck/revocheck/integration/harness"
)

// verify checks the preloaded intermediates: buckets against their
// manifest, and an index that is exactly the synced set's.
func TestVerifyIntermediates(t *testing.T) {
	env := harness.New(t)
	env.PreloadIntermediates(t, env.Sites["good"].Issuer, env.PKI.Root.Cert.Raw)
	verify := func() (int, string) {
		code, out, errOut := runCLI(t, nil, "verify", "--cache-dir", env.CacheDir)
		return code, out + errOut
	}
	code, out := verify()
	require.Equal(t, 0, code, out)

	dir := filepath.Join(env.CacheDir, intermediates.Dir)
	idx := filepath.Join(dir, intermediates.IndexFile)
	good, err := os.ReadFile(idx)
	require.NoError(t, err)
	// Another set's index (valid, but not this set's): reported.
	other, _, err := intermediates.Build([][]byte{env.Sites["good"].Issuer}, intermediates.Meta{})
	require.NoError(t, err)
	require.NoError(t, intermediates.WriteIndex(dir, other))
	code, out = verify()
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "not the index of the synced set")
	// Garbage: reported, not a crash.
	require.NoError(t, intermediates.WriteIndex(dir, []byte("rcinter1 but nothing else")))
	code, out = verify()
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "subjects.idx")
	// A missing index is a problem too (fetch rebuilds it).
	require.NoError(t, os.Remove(idx))
	code, out = verify()
	require.Equal(t, 1, code, out)
	require.NoError(t, intermediates.WriteIndex(dir, good))
	code, out = verify()
	require.Equal(t, 0, code, out)
}
