package main

import (
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/revocheck/revocheck/core/engine"
	"github.com/revocheck/revocheck/integration/harness"
)

// mirror intermediates writes upki's layout plus the index into a data
// directory, where status shows it and the engine completes from it.
func TestMirrorIntermediatesCommand(t *testing.T) {
	env := harness.New(t)
	site := env.Sites["good"]
	dir := t.TempDir()
	bundle := filepath.Join(dir, "cas.pem")
	require.NoError(t, os.WriteFile(bundle, append(
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: site.Issuer}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: site.Leaf})...), 0o644))

	_, out, _ := runCLI(t, nil, "status", "--cache-dir", env.CacheDir)
	require.Contains(t, out, "intermediates: none synced")

	code, out, errOut := runCLI(t, nil, "mirror", "intermediates", "--out", env.CacheDir, bundle)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "2 certificates in 2 buckets; index of 1 CA certificates")
	require.Contains(t, errOut, "not indexed", "the leaf is reported")
	for _, f := range []string{"manifest.json", "subjects.idx"} {
		_, err := os.Stat(filepath.Join(env.CacheDir, "intermediates", f))
		require.NoError(t, err)
	}

	_, out, _ = runCLI(t, nil, "status", "--cache-dir", env.CacheDir)
	require.Contains(t, out, "intermediates: 1 CA certificate(s), generated")
	require.Contains(t, out, "chain completion on")
	code, out, _ = runCLI(t, nil, "status", "--json", "--cache-dir", env.CacheDir)
	require.Equal(t, 0, code)
	var st struct {
		Intermediates statusIntermediates `json:"intermediates"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	require.True(t, st.Intermediates.Present && st.Intermediates.IndexCurrent && st.Intermediates.Complete)
	require.Equal(t, 1, st.Intermediates.Certificates)
	require.Positive(t, st.Intermediates.IndexBytes)

	c, err := engine.Open("", "cache-dir="+env.CacheDir)
	require.NoError(t, err)
	defer c.Close()
	got, err := c.FindIssuers(site.Leaf)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, site.Issuer, got[0])

	// Only leaves: an error, nothing to complete with.
	leaf := filepath.Join(dir, "leaf.pem")
	require.NoError(t, os.WriteFile(leaf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: site.Leaf}), 0o644))
	code, _, errOut = runCLI(t, nil, "mirror", "intermediates", "--out", t.TempDir(), leaf)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no CA certificate")
	code, _, _ = runCLI(t, nil, "mirror", "intermediates", "--out", dir)
	require.NotEqual(t, 0, code)
}
