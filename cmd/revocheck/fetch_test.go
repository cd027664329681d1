package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/revocheck/revocheck/core/serve"

	"github.com/stretchr/testify/require"
)

// testMirror publishes generations under dir, served on 127.0.0.1.
type testMirror struct {
	dir string
	srv *httptest.Server
}

func newTestMirror(t *testing.T) *testMirror {
	t.Helper()
	m := &testMirror{dir: t.TempDir()}
	h, err := serve.New(m.dir)
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	m.srv = httptest.NewServer(h)
	t.Cleanup(m.srv.Close)
	return m
}

// publish writes files (name, bytes, name, bytes...) under sub, then the
// manifest.json listing them, dated at.
func (m *testMirror) publish(t *testing.T, sub string, at time.Time, files ...string) {
	t.Helper()
	dir := filepath.Join(m.dir, sub)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	list := []map[string]any{}
	for i := 0; i+1 < len(files); i += 2 {
		data := []byte(files[i+1])
		require.NoError(t, os.WriteFile(filepath.Join(dir, files[i]), data, 0o644))
		s := sha256.Sum256(data)
		list = append(list, map[string]any{"filename": files[i], "size": len(data), "hash": hex.EncodeToString(s[:])})
	}
	raw, err := json.Marshal(map[string]any{"generated_at": at.Unix(), "comment": "test", "files": list})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "manifest.json"), raw, 0o644))
}

func fixtureFilter(t *testing.T) string {
	b, err := os.ReadFile("../../testdata/fixtures/mozilla-20260624-1-default.filter.delta")
	require.NoError(t, err)
	return string(b)
}

func writeConfig(t *testing.T, text string) {
	p := filepath.Join(t.TempDir(), "config.toml")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	t.Setenv("REVOCHECK_CONFIG", p)
	t.Setenv("REVOCHECK_CACHE_DIR", "")
}

// The flags and the configuration reach the sync, and each kind of
// failure has its documented exit status.
func TestFetchFlagsConfigAndExitCodes(t *testing.T) {
	m := newTestMirror(t)
	m.publish(t, "", time.Now(), "a.filter", fixtureFilter(t))
	writeConfig(t, "[revocation]\nfetch-url = \""+m.srv.URL+"/\"\n")
	cache := t.TempDir()

	code, out, errOut := runCLI(t, nil, "fetch", "--cache-dir", cache, "--dry-run")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "download a.filter", "dry run")
	code, out, errOut = runCLI(t, nil, "fetch", "--cache-dir", cache)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "updated: 1 downloaded")
	code, out, _ = runCLI(t, nil, "fetch", "--cache-dir", cache)
	require.Equal(t, 0, code)
	require.Contains(t, out, "up to date")
	code, out, _ = runCLI(t, nil, "fetch", "--cache-dir", cache, "--quiet")
	require.Equal(t, 0, code)
	require.Empty(t, out, "--quiet")

	code, _, errOut = runCLI(t, nil, "fetch", "--cache-dir", cache, "--url", "ftp://x/")
	require.Equal(t, 1, code, "bad url: %s", errOut)
	require.Contains(t, errOut, "revocheck: error: fetch: url \"ftp://x/\"")
	code, _, _ = runCLI(t, nil, "fetch", "--cache-dir", cache, "--attempts", "0")
	require.Equal(t, 1, code, "--attempts 0")
	code, _, _ = runCLI(t, nil, "fetch", "extra")
	require.Equal(t, 1, code, "an argument")

	// An empty manifest newer than the cache's: refused (65), kept; --force
	// installs it and then the cache holds no data: 1, said loudly.
	m.publish(t, "", time.Now().Add(time.Minute))
	code, _, errOut = runCLI(t, nil, "fetch", "--cache-dir", cache)
	require.Equal(t, 65, code, errOut)
	require.Contains(t, errOut, "lists no files")
	code, _, errOut = runCLI(t, nil, "fetch", "--cache-dir", cache, "--force")
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "no revocation data")

	// Unreachable: temporary (75), with the absent data said on stderr.
	m.srv.Close()
	code, _, errOut = runCLI(t, nil, "fetch", "--cache-dir", t.TempDir(), "--attempts", "2", "--backoff", "1ms")
	require.Equal(t, 75, code, errOut)
	require.Contains(t, errOut, "revocheck: error: fetch: ")
	require.Contains(t, errOut, "no revocation data in ")

	code, _, errOut = runCLI(t, nil, "fetch", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, errOut, "usage: revocheck fetch [flags]")
	require.Contains(t, errOut, "75 temporary failure")
	require.Contains(t, errOut, "-allow-redirect-host value")
}

// upki's [intermediates] keys load, and enabled = true syncs them from
// their own url (upki's mirror keeps them beside revocation/, not below);
// the data lands in <cache-dir>/revocation.
func TestFetchUpkiIntermediatesConfig(t *testing.T) {
	m := newTestMirror(t)
	m.publish(t, "revocation", time.Now(), "a.filter", fixtureFilter(t))
	// A bucket that does not parse (an empty PEM block) is refused, as
	// a filter that does not parse is, and nothing of it is installed.
	m.publish(t, "intermediates", time.Now(), "00.pem", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
	parent := t.TempDir()
	writeConfig(t, "cache-dir = \""+parent+"\"\n\n[revocation]\nfetch-url = \""+m.srv.URL+"/revocation/\"\n\n"+
		"[intermediates]\nenabled = true\nfetch-url = \""+m.srv.URL+"/intermediates/\"\n")
	code, _, errOut := runCLI(t, nil, "fetch")
	require.Equal(t, 65, code, errOut)
	require.Contains(t, errOut, "not a DER certificate")
	_, err := os.Stat(filepath.Join(parent, "revocation/intermediates/00.pem"))
	require.True(t, os.IsNotExist(err), "refused bucket installed")

	caPEM, _ := testCA(t, t.TempDir())
	bucket, err := os.ReadFile(caPEM)
	require.NoError(t, err)
	m.publish(t, "intermediates", time.Now(), "00.pem", string(bucket))
	code, out, errOut := runCLI(t, nil, "fetch")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "intermediates: index rebuilt: 1 CA certificates (0 skipped)")
	for _, f := range []string{"revocation/a.filter", "revocation/intermediates/00.pem", "revocation/intermediates/subjects.idx"} {
		_, err := os.Stat(filepath.Join(parent, f))
		require.NoError(t, err)
	}
}
