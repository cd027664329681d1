package main

import (
	"net"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMirrorMozillaFlagsAndExitCodes(t *testing.T) {
	code, _, errOut := runCLI(t, nil, "mirror", "mozilla", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, errOut, "usage: revocheck mirror mozilla --out DIR [flags]")
	require.Contains(t, errOut, "-filters-key")

	code, _, errOut = runCLI(t, nil, "mirror", "mozilla")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "revocheck: error: mirror: --out is required (and no arguments)")

	// Nothing listening: a temporary failure, 75.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	code, _, errOut = runCLI(t, nil, "mirror", "mozilla", "--out", filepath.Join(t.TempDir(), "tree"),
		"--base-url", "http://"+addr+"/v1", "--attempts", "1")
	require.Equal(t, 75, code, errOut)

	code, _, _ = runCLI(t, nil, "mirror", "nonsense")
	require.Equal(t, 1, code)
}
