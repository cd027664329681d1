package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestServeFlags(t *testing.T) {
	code, _, errOut := runCLI(t, nil, "serve", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, errOut, "usage: revocheck serve --dir DIR [--listen ADDR]")
	require.Contains(t, errOut, "-listen string")

	code, _, errOut = runCLI(t, nil, "serve")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "revocheck: error: serve: --dir is required (and no arguments)")

	code, _, errOut = runCLI(t, nil, "serve", "--dir", t.TempDir(), "--listen", "127.0.0.1:notaport")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "revocheck: error: serve: listen tcp")
}
