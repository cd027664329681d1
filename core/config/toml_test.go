package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// Whatever breaks, the lines around it apply, and each problem names the
// line it is on (the parser is go-toml's; the leniency is ours).
func TestParseTOMLLenient(t *testing.T) {
	for _, c := range []struct {
		doc  string
		want []kv
		bad  []int // lines reported
	}{
		{"[policy]\nstale = \"deny\"\n", []kv{{"policy.stale", "deny", 2}}, nil},
		{"a = 1\nb = [\n\"x\",\nc = \"y\"\n", []kv{{"a", "1", 1}, {"c", "y", 4}}, []int{2, 3}},
		{"a = 1\n# c\nb = \"unterminated\nc = true\n", []kv{{"a", "1", 1}, {"c", "true", 4}}, []int{3}},
		{"a = 0x1F\nb = 1_000\n'q.k' = 1\n\"x\" = \"\\u00e9\"\n", []kv{{"a", "31", 1}, {"b", "1000", 2}, {"x", "é", 4}}, []int{3}},
		{"a = 1\na = 2\n", []kv{{"a", "1", 1}}, []int{2}},
		{"a = 1.5\nb = 1979-05-27\nc = {d = 1}\n[[t]]\ne = 1\n[u]\nf = 'ok'\n", []kv{{"u.f", "ok", 7}}, []int{1, 2, 3, 4, 5}},
		{"[policy\nstale = \"deny\"\n[x]\ny = 1\nz\n", []kv{{"x.y", "1", 4}}, []int{1, 2, 5}},
		{"  [ revocation ]  # c\n  fetch-url = \"u\" # c\r\n", []kv{{"revocation.fetch-url", "u", 2}}, nil},
		{"a = '''multi\nline'''\nb = 2\n", []kv{{"a", "multi\nline", 1}, {"b", "2", 3}}, nil},
	} {
		kvs, bad := parseTOML([]byte(c.doc))
		var lines []int
		for _, b := range bad {
			lines = append(lines, b.line)
		}
		if !slices.Equal(kvs, c.want) || !slices.Equal(lines, c.bad) {
			t.Errorf("%q:\n got %v, problems %v\nwant %v, problems on lines %v", c.doc, kvs, bad, c.want, c.bad)
		}
	}
	// Many broken lines cost a bounded amount of work, and are said.
	doc := strings.Repeat("x\n", 10000) + "a = 1\n"
	start := time.Now()
	_, bad := parseTOML([]byte(doc))
	if len(bad) != maxBadLines || !strings.Contains(bad[len(bad)-1].msg, "the rest of the file is not read") || time.Since(start) > 5*time.Second {
		t.Errorf("10000 broken lines: %d problems in %v", len(bad), time.Since(start))
	}
}

// A config file at the size bound is read in bounded time.
func TestParseTOMLLargeFile(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < maxFileSize-64; i++ {
		b.WriteString("[s")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString("]\nk = \"v\"\n")
	}
	start := time.Now()
	kvs, _ := parseTOML([]byte(b.String()))
	if len(kvs) == 0 || time.Since(start) > 5*time.Second {
		t.Errorf("%d bytes: %d values in %v", b.Len(), len(kvs), time.Since(start))
	}
	if kvs[1].line != 4 {
		t.Errorf("line numbers: %+v", kvs[:2])
	}
}

var benchDoc = []byte("# revocheck\ncache-dir = \"/var/cache/revocheck\"\nmax-age = \"240h\"\n\n[revocation]\nfetch-url = \"https://mirror.example/\" # comment\n\n[policy]\nnot-covered = \"allow\"\nno-data = \"deny\"\nstale = 'deny'\n")

// A typical file: docs/BENCHMARKS.md has the figures beside the
// hand-written parser this replaced.
func BenchmarkParseTOML(b *testing.B) {
	for i := 0; i < b.N; i++ {
		kvs, bad := parseTOML(benchDoc)
		if len(kvs) != 6 || len(bad) != 0 {
			b.Fatal(kvs, bad)
		}
	}
}
