package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The upki cache written by Mozilla's builder and upki's answers to 4000
// queries in the `check --input` line format
// (testdata/fixtures/mozilla-builder/README.md).
const (
	builderCache   = "../../testdata/fixtures/mozilla-builder/cache-v3"
	builderQueries = "../../testdata/fixtures/mozilla-builder/cache-v3.queries"
)

// builderCacheCopy copies the fixture cache to a temporary directory (the
// cache maps its files; the committed copy stays untouched) and isolates
// the configuration from the machine's.
func builderCacheCopy(t *testing.T) string {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "config.toml")
	require.NoError(t, os.WriteFile(conf, nil, 0o644))
	t.Setenv("REVOCHECK_CONFIG", conf)
	t.Setenv("REVOCHECK_CACHE_DIR", "")
	dir := t.TempDir()
	ents, err := os.ReadDir(builderCache)
	require.NoError(t, err)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(builderCache, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
	}
	return dir
}

// upkiAnswer maps an outcome name to upki's letter: not_enrolled and
// not_covered are both NotCoveredByRevocationData.
var upkiAnswer = map[string]string{"revoked": "R", "not_revoked": "G", "not_enrolled": "C", "not_covered": "C"}

// TestCheckInputMozillaBuilder replays upki's 4000 whole-cache queries
// through `check --input`, from a file and from stdin, as text and as
// JSON, and fails on any answer that differs from upki's.
func TestCheckInputMozillaBuilder(t *testing.T) {
	dir := builderCacheCopy(t)
	queries, err := os.ReadFile(builderQueries)
	require.NoError(t, err)
	var want []string
	for l := range strings.Lines(string(queries)) {
		f := strings.Fields(l)
		require.Len(t, f, 6)
		want = append(want, f[5])
	}
	require.Len(t, want, 4000)
	compare := func(name string, got []string) {
		t.Helper()
		require.Len(t, got, len(want), "%s: one answer per line", name)
		nbad := 0
		tally := map[string]int{}
		for i := range want {
			tally[got[i]]++
			if upkiAnswer[got[i]] != want[i] {
				if nbad++; nbad <= 10 {
					t.Errorf("%s: line %d: %s, upki %s: %s", name, i+1, got[i], want[i], strings.Fields(string(queries))[6*i:6*i+3])
				}
			}
		}
		if nbad > 0 {
			t.Fatalf("%s: %d of %d answers differ from upki's", name, nbad, len(want))
		}
		for _, o := range []string{"revoked", "not_revoked", "not_enrolled", "not_covered"} {
			assert.NotZero(t, tally[o], "%s: no %s answer (tally %v)", name, o, tally)
		}
		t.Logf("%s: %d answers agree with upki (%v)", name, len(got), tally)
	}
	// max-age=0: the fixture's data time is fixed, the test's clock is not.
	args := []string{"check", "--cache-dir", dir, "--set", "max-age=0", "--input"}

	code, out, errOut := runCLI(t, nil, append(args, builderQueries)...)
	require.Equal(t, 0, code, "exit status; stderr %s", errOut)
	assert.Empty(t, errOut)
	compare("file", strings.Split(strings.TrimSuffix(out, "\n"), "\n"))

	code, out, errOut = runCLI(t, queries, append(args, "-")...)
	require.Equal(t, 0, code, "stdin: exit status; stderr %s", errOut)
	compare("stdin", strings.Split(strings.TrimSuffix(out, "\n"), "\n"))

	code, out, errOut = runCLI(t, nil, append([]string{"check", "--json", "--cache-dir", dir, "--set", "max-age=0", "--input"}, builderQueries)...)
	require.Equal(t, 0, code, "json: exit status; stderr %s", errOut)
	var got []string
	for n, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var r struct {
			Line    int     `json:"line"`
			Outcome string  `json:"outcome"`
			Allowed *bool   `json:"allowed"`
			Error   *string `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &r), "json line %d: %s", n+1, l)
		require.Equal(t, n+1, r.Line)
		require.NotNil(t, r.Allowed)
		require.Nil(t, r.Error)
		assert.Equal(t, r.Outcome != "revoked", *r.Allowed, "line %d: allowed under the default policy", n+1)
		got = append(got, r.Outcome)
	}
	compare("json", got)
}

// TestCheckInputBadLines: a bad line is answered `error` in its place,
// named with its number on stderr, and the others are still answered;
// the exit status is 1 at the end.
func TestCheckInputBadLines(t *testing.T) {
	dir := builderCacheCopy(t)
	queries, err := os.ReadFile(builderQueries)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(queries), "\n")[:5]
	input := lines[0] + "not a query\n" + lines[1] + "\n" + lines[2] +
		strings.Replace(lines[3], " ", " 0", 1) + // the serial gets an odd length
		strings.Repeat("a", rawChunkSize+10) + "\n" + // too long, then resynchronised
		strings.TrimSuffix(lines[4], "\n") // no final newline
	code, out, errOut := runCLI(t, []byte(input), "check", "--cache-dir", dir, "--set", "max-age=0", "--input", "-")
	assert.Equal(t, 1, code, "exit status")
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, got, 8, "one answer per line: %q", got)
	for i, n := range map[int]int{0: 0, 2: 1, 4: 2, 7: 4} {
		assert.Equal(t, upkiAnswer[got[i]], strings.Fields(lines[n])[5], "line %d answered", i+1)
	}
	for _, i := range []int{1, 3, 5, 6} {
		assert.Equal(t, "error", got[i], "line %d", i+1)
	}
	for _, msg := range []string{
		"stdin:2: bad line: issuer: want 64 hex digits",
		"stdin:4: bad line: want 3 fields",
		"stdin:6: bad line: serial: want an even number of hex digits",
		fmt.Sprintf("stdin:7: bad line: line longer than %d bytes", rawChunkSize),
		"4 of 8 line(s) bad or not checked (the first: line 2)",
	} {
		assert.Contains(t, errOut, msg)
	}

	// JSON: the error is on the line too.
	code, out, _ = runCLI(t, []byte(lines[0]+"zz\n"), "check", "--json", "--cache-dir", dir, "--set", "max-age=0", "--input", "-")
	assert.Equal(t, 1, code)
	got = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, got, 2)
	assert.JSONEq(t, `{"line":2,"outcome":"error","allowed":true,"error":"want 3 fields: ISSUER_SPKI_SHA256_HEX SERIAL_HEX SCTS"}`, got[1])

	// Only the first 10 problems are described; all are counted.
	code, out, errOut = runCLI(t, []byte(strings.Repeat("x\n", 25)), "check", "--cache-dir", dir, "--input", "-")
	assert.Equal(t, 1, code)
	assert.Equal(t, strings.Repeat("error\n", 25), out)
	assert.Equal(t, 10, strings.Count(errOut, "bad line"), errOut)
	assert.Contains(t, errOut, "25 of 25 line(s) bad")

	// An empty input is no error; nor is a revoked answer.
	code, out, errOut = runCLI(t, []byte{}, "check", "--cache-dir", dir, "--input", "-")
	assert.Equal(t, 0, code, errOut)
	assert.Empty(t, out)
}

// TestCheckInputNotChecked: without a cache every line is no_data and the
// exit status says so; a directory or a missing file is refused; --input
// excludes certificates and --connect.
func TestCheckInputNotChecked(t *testing.T) {
	dir := builderCacheCopy(t)
	queries, err := os.ReadFile(builderQueries)
	require.NoError(t, err)
	first := strings.SplitAfter(string(queries), "\n")[0]
	code, out, errOut := runCLI(t, []byte(first), "check", "--cache-dir", t.TempDir(), "--input", "-")
	assert.Equal(t, 1, code)
	assert.Equal(t, "no_data\n", out)
	assert.Contains(t, errOut, "stdin:1: no_data:")

	code, _, errOut = runCLI(t, nil, "check", "--cache-dir", dir, "--input", t.TempDir())
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "not a regular file or a pipe")
	code, _, errOut = runCLI(t, nil, "check", "--cache-dir", dir, "--input", filepath.Join(t.TempDir(), "missing"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no such file")
	code, _, errOut = runCLI(t, nil, "check", "--cache-dir", dir, "--input", "-", "cert.pem")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "--input excludes")
}

// TestCheckInputInteractive: a program that writes one line into a pipe
// and waits for its answer gets it without closing the pipe.
func TestCheckInputInteractive(t *testing.T) {
	dir := builderCacheCopy(t)
	queries, err := os.ReadFile(builderQueries)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(queries), "\n")[:3]
	inR, inW, err := os.Pipe()
	require.NoError(t, err)
	outR, outW, err := os.Pipe()
	require.NoError(t, err)
	old := os.Stdin
	os.Stdin = inR
	defer func() { os.Stdin = old }()
	done := make(chan int, 1)
	go func() {
		var e bytes.Buffer
		done <- run([]string{"check", "--cache-dir", dir, "--set", "max-age=0", "--input", "-"}, outW, &e)
		outW.Close()
	}()
	answers := bufio.NewReader(outR)
	for i, l := range lines {
		_, err := io.WriteString(inW, l)
		require.NoError(t, err)
		got := make(chan string, 1)
		go func() { s, _ := answers.ReadString('\n'); got <- s }()
		select {
		case s := <-got:
			assert.Equal(t, strings.Fields(l)[5], upkiAnswer[strings.TrimSpace(s)], "line %d", i+1)
		case <-time.After(10 * time.Second):
			t.Fatalf("no answer to line %d while the input stays open", i+1)
		}
	}
	inW.Close()
	select {
	case code := <-done:
		assert.Equal(t, 0, code)
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after the input was closed")
	}
	inR.Close()
	outR.Close()
}

// failWriter fails every write, as a closed output would.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// TestCheckInputOutputFails: when the answers cannot be written, the
// command says so and returns although its input stays open and silent.
func TestCheckInputOutputFails(t *testing.T) {
	dir := builderCacheCopy(t)
	queries, err := os.ReadFile(builderQueries)
	require.NoError(t, err)
	inR, inW, err := os.Pipe()
	require.NoError(t, err)
	defer inR.Close()
	defer inW.Close()
	_, err = io.WriteString(inW, strings.SplitAfter(string(queries), "\n")[0])
	require.NoError(t, err)
	chk, err := (&configFlags{cacheDir: dir}).checker()
	require.NoError(t, err)
	defer chk.Close()
	done := make(chan error, 1)
	go func() { done <- answerLines(chk, inR, "pipe", false, failWriter{}, io.Discard) }()
	select {
	case err := <-done:
		require.Error(t, err)
		assert.Contains(t, err.Error(), "writing answers")
	case <-time.After(10 * time.Second):
		t.Fatal("answerLines did not return after its output failed")
	}
}
