package mirror

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/revocheck/revocheck/core/cache"
	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/clubcard"
	"github.com/revocheck/revocheck/core/fetch"
	"github.com/revocheck/revocheck/core/intermediates"
	"github.com/revocheck/revocheck/core/outcome"
	"github.com/revocheck/revocheck/core/serve"

	"github.com/stretchr/testify/require"
)

// TestEndToEnd: fake Remote Settings → mirror → serve → fetch into an
// empty cache → core/cache answers the fixture's vectors; a second fetch
// moves no filter byte.
func TestEndToEnd(t *testing.T) {
	fx, err := os.ReadFile(fixtureDelta)
	require.NoError(t, err)
	rs := newFakeRS(t)
	rs.addFilter("full", "", "default", "20260624-0-default.filter", 100, fx)
	rs.addFilter("d1", "full", "default", "20260624-1-default.filter.delta", 200, fx)
	// A small delta made with the project's builder: issuer 0xaa.., log
	// 0xbb.., timestamps 1000..2000; serial 01 02 revoked, 03 not.
	small, err := clubcard.Build(&clubcard.BuildInput{
		Coverage: []clubcard.CoverageEntry{{LogID: [32]byte{0xbb}, Low: 1000, High: 2000}},
		Issuers:  []clubcard.IssuerInput{{SPKIHash: [32]byte{0xaa}, Revoked: [][]byte{{1, 2}}, NotRevoked: [][]byte{{3}, {4}, {5}}}},
		Seed:     7,
	})
	require.NoError(t, err)
	rs.addFilter("d2", "d1", "default", "20260624-2-default.filter.delta", 300, small)
	rs.addIntermediate(t, "i1")

	tree := t.TempDir()
	_, err = run(t, rs, tree, true)
	require.NoError(t, err)

	h, err := serve.New(tree)
	require.NoError(t, err)
	defer h.Close()
	var filterBytes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "manifest.json") {
			w = countingWriter{w, &filterBytes}
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()

	cacheDir := filepath.Join(t.TempDir(), "cache")
	syncCache := func(intermediates bool) *fetch.Result {
		t.Helper()
		res, err := fetch.Sync(context.Background(), fetch.Options{URL: srv.URL + "/", CacheDir: cacheDir, Intermediates: intermediates, Out: io.Discard})
		require.NoError(t, err, "fetch")
		return res
	}
	syncCache(false)
	require.Equal(t, int64(2*len(fx)+len(small)), filterBytes.Load(), "bytes moved by the first fetch")

	c, err := cache.Open(cacheDir, cache.Options{})
	require.NoError(t, err)
	defer c.Close()
	for _, v := range answerVectors(t) {
		got, err := c.Check(&v.in, nil)
		require.NoError(t, err, v.name)
		require.Equal(t, v.want, got, v.name)
	}

	built := func(serial []byte, ts uint64) *certinput.Input {
		return &certinput.Input{IssuerSPKIHash: [32]byte{0xaa}, Serial: serial, SCTs: []certinput.SCT{{LogID: [32]byte{0xbb}, Timestamp: ts}}}
	}
	for _, tc := range []struct {
		in   *certinput.Input
		want outcome.Outcome
	}{
		{built([]byte{1, 2}, 1500), outcome.Revoked},
		{built([]byte{3}, 1500), outcome.NotRevoked},
		{built([]byte{3}, 5000), outcome.NotCovered},
	} {
		got, err := c.Check(tc.in, nil)
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "built filter: serial %x at %d", tc.in.Serial, tc.in.SCTs[0].Timestamp)
	}

	filterBytes.Store(0)
	res := syncCache(false)
	require.Zero(t, filterBytes.Load(), "filter bytes moved by the second fetch")
	require.True(t, res.Trees[0].Unchanged, "second fetch: up to date")

	// Opt-in: the intermediates tree, byte for byte as mirrored.
	syncCache(true)
	im := readManifest(t, filepath.Join(tree, IntermediatesDir, "manifest.json"))
	for _, f := range im.Files {
		a, err := os.ReadFile(filepath.Join(tree, IntermediatesDir, f.Filename))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(cacheDir, "intermediates", f.Filename))
		require.NoError(t, err, "intermediates/%s not synced", f.Filename)
		require.Equal(t, a, b, "intermediates/%s not synced", f.Filename)
	}
	// Both the tree and the cache hold the lookup index; the cache's is
	// built by fetch from what it synced.
	for _, d := range []string{filepath.Join(tree, IntermediatesDir), filepath.Join(cacheDir, "intermediates")} {
		s := intermediates.NewSet(d)
		info, ok, err := s.Info()
		s.Close()
		require.NoError(t, err)
		require.True(t, ok, "%s: no index", d)
		require.Equal(t, 1, info.Count, d)
		require.True(t, intermediates.IndexCurrent(d), d)
	}
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}

type answerVector struct {
	name string
	in   certinput.Input
	want outcome.Outcome
}

func answerVectors(t *testing.T) []answerVector {
	raw, err := os.ReadFile("../../testdata/fixtures/mozilla-20260624-1-default.filter.delta.answers.json")
	require.NoError(t, err)
	var doc struct {
		Vectors []struct {
			Name, Answer string
			Issuer       string `json:"issuer_spki_sha256"`
			Serial       string
			SCTs         []struct {
				LogID     string `json:"log_id"`
				Timestamp uint64
			} `json:"scts"`
		}
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	var vs []answerVector
	for _, v := range doc.Vectors {
		var a answerVector
		a.name = v.Name
		b, err := base64.StdEncoding.DecodeString(v.Issuer)
		require.NoError(t, err)
		require.Len(t, b, 32, "%s: issuer hash", v.Name)
		copy(a.in.IssuerSPKIHash[:], b)
		a.in.Serial, err = base64.StdEncoding.DecodeString(v.Serial)
		require.NoError(t, err)
		for _, s := range v.SCTs {
			var x certinput.SCT
			id, err := base64.StdEncoding.DecodeString(s.LogID)
			require.NoError(t, err)
			require.Len(t, id, 32, "%s: log id", v.Name)
			copy(x.LogID[:], id)
			x.Timestamp = s.Timestamp
			a.in.SCTs = append(a.in.SCTs, x)
		}
		var ok bool
		a.want, ok = map[string]outcome.Outcome{"Revoked": outcome.Revoked, "Good": outcome.NotRevoked}[v.Answer]
		require.True(t, ok, "%s: answer %q", v.Name, v.Answer)
		vs = append(vs, a)
	}
	require.Len(t, vs, 2, "vectors")
	require.NotEqual(t, vs[0].want, vs[1].want, "the two vectors have the same answer")
	return vs
}
