package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/revocheck/revocheck/core/checkd"
	"github.com/revocheck/revocheck/integration/harness"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runCLI runs the CLI in-process with stdin from a file.
func runCLI(t *testing.T, stdin []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if stdin != nil {
		f := filepath.Join(t.TempDir(), "stdin")
		require.NoError(t, os.WriteFile(f, stdin, 0o644))
		in, err := os.Open(f)
		require.NoError(t, err)
		defer in.Close()
		old := os.Stdin
		os.Stdin = in
		defer func() { os.Stdin = old }()
	}
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestCheckSitesFromStdin(t *testing.T) {
	env := harness.New(t)
	for site, want := range map[string]struct {
		code    int
		outcome string
	}{
		"good":        {0, "not_revoked"},
		"revoked":     {2, "revoked"},
		"uncovered":   {0, "not_covered"},
		"unenrolled":  {0, "not_enrolled"},
		"crl-revoked": {2, "revoked"},
	} {
		chain, err := os.ReadFile(env.Sites[site].ChainPEM)
		require.NoError(t, err)
		code, out, errOut := runCLI(t, chain, "check", "--json", "--cache-dir", env.CacheDir)
		var res jsonCheck
		require.NoError(t, json.Unmarshal([]byte(out), &res), "%s: stdout %s, stderr %s", site, out, errOut)
		assert.Equal(t, want.code, code, "%s: exit status", site)
		assert.Equal(t, want.outcome, res.Outcome, site)
		assert.Equal(t, want.code == 0, res.Allowed, "%s: allowed", site)
		assert.NotEmpty(t, res.Reason, "%s: reason", site)
		if site == "good" {
			require.Len(t, res.Filters, 1, "good: filters consulted")
			assert.Equal(t, "not_revoked", res.Filters[0].Result, "good: the filter's answer")
		}
	}
	// Deny by policy: exit 2.
	chain, err := os.ReadFile(env.Sites["uncovered"].ChainPEM)
	require.NoError(t, err)
	code, out, _ := runCLI(t, chain, "check", "--cache-dir", env.CacheDir, "--set", "policy.not-covered=deny")
	assert.Equal(t, 2, code, "not-covered=deny: exit status")
	assert.True(t, strings.HasPrefix(out, "not_covered:"), "not-covered=deny: %q", out)
	// Files as arguments, issuer found by name and signature.
	s := env.Sites["revoked"]
	code, _, e := runCLI(t, nil, "check", "--cache-dir", env.CacheDir, env.PKI.Int.CertPEM, env.PKI.Sites["revoked"].Leaf.CertPEM)
	assert.Equal(t, 1, code, "issuer given first must not be taken as the end-entity")
	assert.Contains(t, e, "issuer")
	code, _, _ = runCLI(t, nil, "check", "--cache-dir", env.CacheDir, s.ChainPEM)
	assert.Equal(t, 2, code, "revoked chain file: exit status")
	// An issuer with the right name but another key is refused.
	wrong := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: env.Sites["revoked"].Leaf})
	wrong = append(wrong, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: env.PKI.IntOther.Cert.Raw})...)
	code, _, e = runCLI(t, wrong, "check", "--cache-dir", env.CacheDir)
	assert.Equal(t, 1, code, "wrong issuer: exit status")
	assert.Contains(t, e, "not found", "wrong issuer")
}

func TestCheckConnect(t *testing.T) {
	env := harness.New(t)
	code, out, e := runCLI(t, nil, "check", "--cache-dir", env.CacheDir, "--connect", strings.TrimSuffix(strings.TrimPrefix(env.Sites["revoked"].URL, "https://"), "/"), "--ca", env.RootPEM)
	assert.Equal(t, 2, code, "connect revoked: exit status; stderr %s", e)
	assert.True(t, strings.HasPrefix(out, "revoked:"), "connect revoked: %q", out)
	code, _, e = runCLI(t, nil, "check", "--cache-dir", env.CacheDir, "--connect", strings.TrimSuffix(strings.TrimPrefix(env.Sites["good"].URL, "https://"), "/"))
	assert.Equal(t, 1, code, "connect without the test root must fail verification")
	assert.Contains(t, e, "certificate")
}

// TestFixtureInputs: for every real chain of test-sites.json, --json prints
// the inputs upki recorded (hex instead of base64), even without a cache.
func TestFixtureInputs(t *testing.T) {
	data, err := os.ReadFile("../../testdata/fixtures/test-sites.json")
	require.NoError(t, err, "fixtures")
	var f struct {
		Sites []struct {
			Label  string `json:"ca_label"`
			Detail *struct {
				EE     string   `json:"end_entity_cert"`
				Ints   []string `json:"intermediates"`
				Serial string   `json:"serial"`
				Issuer string   `json:"issuer_spki_sha256"`
				SCTs   []struct {
					LogID     string `json:"log_id"`
					Timestamp uint64 `json:"timestamp"`
				} `json:"scts"`
			} `json:"detail"`
		} `json:"sites"`
	}
	require.NoError(t, json.Unmarshal(data, &f))
	b64hex := func(s string) string {
		b, err := base64.StdEncoding.DecodeString(s)
		require.NoError(t, err)
		return hex.EncodeToString(b)
	}
	n := 0
	for _, s := range f.Sites {
		if s.Detail == nil {
			continue
		}
		n++
		var chain []byte
		for _, c := range append([]string{s.Detail.EE}, s.Detail.Ints...) {
			der, err := base64.StdEncoding.DecodeString(c)
			require.NoError(t, err)
			chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
		}
		code, out, e := runCLI(t, chain, "check", "--json", "--cache-dir", filepath.Join(t.TempDir(), "none"))
		var res jsonCheck
		require.NoError(t, json.Unmarshal([]byte(out), &res), "%s: stdout %s, stderr %s", s.Label, out, e)
		require.NotNil(t, res.Input, "%s: no input in %s", s.Label, out)
		assert.Equal(t, 0, code, "%s: exit status", s.Label)
		assert.Contains(t, []string{"no_data", "not_covered"}, res.Outcome, s.Label)
		want := jsonInput{Serial: b64hex(s.Detail.Serial), IssuerSPKISHA256: b64hex(s.Detail.Issuer)}
		for _, sct := range s.Detail.SCTs {
			want.SCTs = append(want.SCTs, jsonSCT{LogID: b64hex(sct.LogID), Timestamp: sct.Timestamp})
		}
		got := *res.Input
		if len(got.SCTs) == 0 {
			got.SCTs = nil // [] and null are the same empty list
		}
		assert.Equal(t, want, got, "%s: input differs from the one upki recorded", s.Label)
	}
	require.GreaterOrEqual(t, n, 100, "sites with detail")
}

func TestVerifyStatusConfig(t *testing.T) {
	env := harness.New(t)
	code, out, e := runCLI(t, nil, "verify", "--cache-dir", env.CacheDir)
	require.Equal(t, 0, code, "verify: %s %s", out, e)
	require.True(t, strings.HasPrefix(out, "ok:"), "verify: %s", out)
	code, out, _ = runCLI(t, nil, "status", "--json", "--cache-dir", env.CacheDir)
	assert.Equal(t, 0, code, "status")
	assert.Contains(t, out, `"usable": true`)
	assert.Contains(t, out, `"enrolled_issuers": 3`)
	code, out, _ = runCLI(t, nil, "config", "--cache-dir", "/x")
	assert.Equal(t, 0, code, "config")
	assert.Contains(t, out, "--cache-dir")
	// A flipped byte in the filter is caught.
	f := filepath.Join(env.CacheDir, "revocheck-test.filter")
	b, err := os.ReadFile(f)
	require.NoError(t, err)
	b[len(b)/2] ^= 1
	require.NoError(t, os.WriteFile(f, b, 0o644))
	code, out, _ = runCLI(t, nil, "verify", "--cache-dir", env.CacheDir)
	assert.Equal(t, 1, code, "verify after corruption: %s", out)
	assert.Contains(t, out, "sha256", "verify after corruption")
}

func TestFilterBuild(t *testing.T) {
	env := harness.New(t)
	out := filepath.Join(t.TempDir(), "cache")
	code, o, e := runCLI(t, nil, "filter", "build", "--out", out,
		"--revoked", env.Sites["good"].ChainPEM, "--not-revoked", env.Sites["revoked"].ChainPEM)
	require.Equal(t, 0, code, "build: %s %s", o, e)
	// The statuses are swapped relative to the harness's cache: the new
	// cache must say so.
	chain, err := os.ReadFile(env.Sites["good"].ChainPEM)
	require.NoError(t, err)
	code, _, _ = runCLI(t, chain, "check", "--cache-dir", out)
	assert.Equal(t, 2, code, "good chain built as revoked: exit status")
	chain, err = os.ReadFile(env.Sites["revoked"].ChainPEM)
	require.NoError(t, err)
	code, _, _ = runCLI(t, chain, "check", "--cache-dir", out)
	assert.Equal(t, 0, code, "revoked chain built as not revoked: exit status")
	code, _, e = runCLI(t, nil, "filter", "build", "--out", out, "--revoked", env.Sites["uncovered"].ChainPEM)
	assert.Equal(t, 1, code, "a chain without SCTs alone cannot give coverage")
	assert.Contains(t, e, "SCT")
}

func TestStatusDaemon(t *testing.T) {
	env := harness.New(t)
	dir := filepath.Join(t.TempDir(), "run")
	require.NoError(t, os.Mkdir(dir, 0o755))
	sock := filepath.Join(dir, "check.sock")
	t.Setenv("REVOCHECK_SOCKET", sock)
	status := func() string {
		_, out, _ := runCLI(t, nil, "status", "--cache-dir", env.CacheDir)
		return out
	}
	assert.Contains(t, status(), "daemon:   "+sock+": not running")
	srv, err := checkd.New("", "cache-dir="+env.CacheDir, nil)
	require.NoError(t, err)
	defer srv.Close()
	ln, _, err := checkd.Listen(sock)
	require.NoError(t, err)
	go srv.Serve(ln)
	assert.Contains(t, status(), sock+": answering")
	ln.Close()
	require.NoError(t, os.Chmod(dir, 0o777))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "check.sock"), nil, 0o644))
	assert.Contains(t, status(), "IGNORED by the adapters", "untrusted directory")
}
