package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInspectQuery: --query answers a raw key the way each format's reader
// does: the builder's v4 clubcard (issuer 11.. revokes 01 and 02, not
// 03..08; coverage log aa010203.. from 1.7e12 to 1.75e12 ms), a stash, and
// rust-cascade's real v1 cascade with its test's revoked and valid keys.
func TestInspectQuery(t *testing.T) {
	dir := inspectFiles(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	issuer := "11" + strings.Repeat("00", 31)
	logID := "aa010203" + strings.Repeat("00", 28)

	code, out, errOut := runCLI(t, nil, "inspect",
		"--query", issuer+":01", "--query", issuer+":03", "--query", "33"+strings.Repeat("00", 31)+":01",
		"--query", issuer+":02:"+logID+":1720000000000", "--query", issuer+":02:"+logID+":1800000000000",
		p("v4.filter"), p("x.stash"))
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{
		"query:       " + issuer + ":01: revoked (coverage not checked",
		"query:       " + issuer + ":03: not_revoked (coverage not checked",
		"query:       33" + strings.Repeat("00", 31) + ":01: not_enrolled (coverage not checked",
		"query:       " + issuer + ":02:" + logID + ":1720000000000: revoked\n",
		"query:       " + issuer + ":02:" + logID + ":1800000000000: not_covered\n",
		// The stash lists 05 and 010203 for issuer 11..; not 01.
		"query:       " + issuer + ":01: not_listed (a stash lists only",
	} {
		require.Contains(t, out, want)
	}

	// The stash's listed serials, as JSON.
	code, out, errOut = runCLI(t, nil, "inspect", "--json", "--query", issuer+":05", "--query", issuer+":010203", p("x.stash"))
	require.Equal(t, 0, code, errOut)
	var r inspectReport
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	require.Equal(t, []inspectAnswer{{Query: issuer + ":05", Answer: "revoked"}, {Query: issuer + ":010203", Answer: "revoked"}}, r.Queries)

	// rust-cascade's cascade_v1_murmur_from_file_bytes_test keys.
	mlbf := "../../testdata/fixtures/legacy-cascade/rust-cascade/test_v1_murmur_mlbf"
	revoked := "2eb2d5a860fe50e9c2423685529801" + "50e45db5321a5b005e26d676253a409bf5" + ":062df568a051310820d7ec4327e1bafd"
	valid := "99fc9d40f1adb1636561a61d683d9ea6" + "b460c57d0c75ea00c341b9dfb90b5f39" + ":0b7775f7af9ae54265c9cd325710778e"
	code, out, errOut = runCLI(t, nil, "inspect", "--query", revoked, "--query", valid, mlbf)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "query:       "+revoked+": revoked (exact only for a certificate the cascade was built over)")
	require.Contains(t, out, "query:       "+valid+": not_revoked (")

	for _, bad := range []string{"11:01", issuer, issuer + ":", issuer + ":zz", issuer + ":01:" + logID, issuer + ":01:" + logID + ":soon"} {
		code, _, errOut := runCLI(t, nil, "inspect", "--query", bad, p("v4.filter"))
		require.NotEqual(t, 0, code, bad)
		require.Contains(t, errOut, "--query", bad)
	}
}
