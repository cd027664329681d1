package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"github.com/revocheck/revocheck/core/checkd"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/revocheck/revocheck/integration/harness"

	"github.com/stretchr/testify/require"
)

// runCLI runs the CLI in-process with stdin from a file.
func runCLI(t *testing.T, stdin []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if stdin != nil {
		f := filepath.Join(t.TempDir(), "stdin")
		os.WriteFile(f, stdin, 0o644)
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
		chain, _ := os.ReadFile(env.Sites[site].ChainPEM)
		code, out, errOut := runCLI(t, chain, "check", "--json", "--cache-dir", env.CacheDir)
		var res jsonCheck
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%s: %v\n%s%s", site, err, out, errOut)
		}
		if code != want.code || res.Outcome != want.outcome || res.Allowed != (want.code == 0) || res.Reason == "" {
			t.Errorf("%s: exit %d, %+v; want %+v", site, code, res, want)
		}
		if site == "good" && (len(res.Filters) != 1 || res.Filters[0].Result != "not_revoked") {
			t.Errorf("good: filters consulted %+v", res.Filters)
		}
	}
	// Deny by policy: exit 2.
	chain, _ := os.ReadFile(env.Sites["uncovered"].ChainPEM)
	if code, out, _ := runCLI(t, chain, "check", "--cache-dir", env.CacheDir, "--set", "policy.not-covered=deny"); code != 2 || !strings.HasPrefix(out, "not_covered:") {
		t.Errorf("not-covered=deny: exit %d, %q", code, out)
	}
	// Files as arguments, issuer found by name and signature.
	s := env.Sites["revoked"]
	if code, _, e := runCLI(t, nil, "check", "--cache-dir", env.CacheDir, env.PKI.Int.CertPEM, env.PKI.Sites["revoked"].Leaf.CertPEM); code != 1 || !strings.Contains(e, "issuer") {
		t.Errorf("issuer given first must not be taken as the end-entity: exit %d %s", code, e)
	}
	if code, _, _ := runCLI(t, nil, "check", "--cache-dir", env.CacheDir, s.ChainPEM); code != 2 {
		t.Errorf("revoked chain file: exit %d", code)
	}
	// An issuer with the right name but another key is refused.
	wrong := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: env.Sites["revoked"].Leaf})
	wrong = append(wrong, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: env.PKI.IntOther.Cert.Raw})...)
	if code, _, e := runCLI(t, wrong, "check", "--cache-dir", env.CacheDir); code != 1 || !strings.Contains(e, "not found") {
		t.Errorf("wrong issuer: exit %d %s", code, e)
	}
}

func TestCheckConnect(t *testing.T) {
	env := harness.New(t)
	code, out, e := runCLI(t, nil, "check", "--cache-dir", env.CacheDir, "--connect", strings.TrimSuffix(strings.TrimPrefix(env.Sites["revoked"].URL, "https://"), "/"), "--ca", env.RootPEM)
	if code != 2 || !strings.HasPrefix(out, "revoked:") {
		t.Errorf("connect revoked: exit %d %q %s", code, out, e)
	}
	code, _, e = runCLI(t, nil, "check", "--cache-dir", env.CacheDir, "--connect", strings.TrimSuffix(strings.TrimPrefix(env.Sites["good"].URL, "https://"), "/"))
	if code != 1 || !strings.Contains(e, "certificate") {
		t.Errorf("connect without the test root must fail verification: exit %d %s", code, e)
	}
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
			der, _ := base64.StdEncoding.DecodeString(c)
			chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
		}
		code, out, e := runCLI(t, chain, "check", "--json", "--cache-dir", filepath.Join(t.TempDir(), "none"))
		var res jsonCheck
		if err := json.Unmarshal([]byte(out), &res); err != nil || res.Input == nil {
			t.Fatalf("%s: %v %s %s", s.Label, err, out, e)
		}
		if code != 0 || res.Outcome != "no_data" && res.Outcome != "not_covered" {
			t.Errorf("%s: exit %d outcome %s", s.Label, code, res.Outcome)
		}
		if res.Input.Serial != b64hex(s.Detail.Serial) || res.Input.IssuerSPKISHA256 != b64hex(s.Detail.Issuer) || len(res.Input.SCTs) != len(s.Detail.SCTs) {
			t.Errorf("%s: input %+v differs from the recorded one", s.Label, res.Input)
			continue
		}
		for i, sct := range s.Detail.SCTs {
			if res.Input.SCTs[i].LogID != b64hex(sct.LogID) || res.Input.SCTs[i].Timestamp != sct.Timestamp {
				t.Errorf("%s: sct %d = %+v", s.Label, i, res.Input.SCTs[i])
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d sites with detail", n)
	}
}

func TestVerifyStatusConfig(t *testing.T) {
	env := harness.New(t)
	if code, out, e := runCLI(t, nil, "verify", "--cache-dir", env.CacheDir); code != 0 || !strings.HasPrefix(out, "ok:") {
		t.Fatalf("verify: %d %s %s", code, out, e)
	}
	if code, out, _ := runCLI(t, nil, "status", "--json", "--cache-dir", env.CacheDir); code != 0 || !strings.Contains(out, `"usable": true`) || !strings.Contains(out, `"enrolled_issuers": 3`) {
		t.Errorf("status: %d %s", code, out)
	}
	if code, out, _ := runCLI(t, nil, "config", "--cache-dir", "/x"); code != 0 || !strings.Contains(out, `cache-dir`) || !strings.Contains(out, "--cache-dir") {
		t.Errorf("config: %d %s", code, out)
	}
	// A flipped byte in the filter is caught.
	f := filepath.Join(env.CacheDir, "revocheck-test.filter")
	b, _ := os.ReadFile(f)
	b[len(b)/2] ^= 1
	os.WriteFile(f, b, 0o644)
	if code, out, _ := runCLI(t, nil, "verify", "--cache-dir", env.CacheDir); code != 1 || !strings.Contains(out, "sha256") {
		t.Errorf("verify after corruption: %d %s", code, out)
	}
}

func TestFilterBuild(t *testing.T) {
	env := harness.New(t)
	out := filepath.Join(t.TempDir(), "cache")
	code, o, e := runCLI(t, nil, "filter", "build", "--out", out,
		"--revoked", env.Sites["good"].ChainPEM, "--not-revoked", env.Sites["revoked"].ChainPEM)
	if code != 0 {
		t.Fatalf("build: %d %s %s", code, o, e)
	}
	// The statuses are swapped relative to the harness's cache: the new
	// cache must say so.
	chain, _ := os.ReadFile(env.Sites["good"].ChainPEM)
	if code, _, _ := runCLI(t, chain, "check", "--cache-dir", out); code != 2 {
		t.Errorf("good chain built as revoked: exit %d", code)
	}
	chain, _ = os.ReadFile(env.Sites["revoked"].ChainPEM)
	if code, _, _ := runCLI(t, chain, "check", "--cache-dir", out); code != 0 {
		t.Errorf("revoked chain built as not revoked: exit %d", code)
	}
	if code, _, e := runCLI(t, nil, "filter", "build", "--out", out, "--revoked", env.Sites["uncovered"].ChainPEM); code != 1 || !strings.Contains(e, "SCT") {
		t.Errorf("a chain without SCTs alone cannot give coverage: %d %s", code, e)
	}
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
	if out := status(); !strings.Contains(out, "daemon:   "+sock+": not running") {
		t.Errorf("no daemon: %s", out)
	}
	srv, err := checkd.New("", "cache-dir="+env.CacheDir, nil)
	require.NoError(t, err)
	defer srv.Close()
	ln, _, err := checkd.Listen(sock)
	require.NoError(t, err)
	go srv.Serve(ln)
	if out := status(); !strings.Contains(out, sock+": answering") {
		t.Errorf("daemon running: %s", out)
	}
	ln.Close()
	os.Chmod(dir, 0o777)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "check.sock"), nil, 0o644))
	if out := status(); !strings.Contains(out, "IGNORED by the adapters") {
		t.Errorf("untrusted directory: %s", out)
	}
}
