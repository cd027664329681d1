package cache

import (
	"fmt"
	"github.com/revocheck/revocheck/internal/testvectors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/outcome"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An upki cache of 11 v3 filters written by Mozilla's own builder, and the
// answers upki 1.0.0-beta.3 (Index::from_cache + Index::check) gave
// (testdata/fixtures/mozilla-builder/README.md).
const (
	builderCache   = "../../testdata/fixtures/mozilla-builder/cache-v3"
	builderQueries = "../../testdata/fixtures/mozilla-builder/cache-v3.queries"
)

type builderQuery struct {
	line  int
	text  string
	in    certinput.Input
	truth byte // how the query was drawn: r g u x z
	upki  byte // upki's answer: R, G or C
}

// loadBuilderQueries reads `ISSUER SERIAL SCTS TRUTH PORT_ANSWER UPKI_ANSWER`
// lines (hex issuer SPKI hash, hex serial, `-` or LOGID_HEX:TS,...).
func loadBuilderQueries(t testing.TB) []builderQuery {
	t.Helper()
	data, err := os.ReadFile(builderQueries)
	require.NoError(t, err)
	// Columns: Mozilla's reader (port), then upki.
	vs, err := testvectors.ParseQueries(data, 2)
	require.NoError(t, err)
	qs := make([]builderQuery, len(vs))
	for i, v := range vs {
		qs[i] = builderQuery{line: v.Line, text: v.Text, in: v.In, truth: v.Truth, upki: v.Answers[1]}
	}
	return qs
}

// upkiLetter maps an outcome to upki's answer: not_enrolled and
// not_covered are both NotCoveredByRevocationData.
func upkiLetter(o outcome.Outcome) byte {
	switch o {
	case outcome.Revoked:
		return 'R'
	case outcome.NotRevoked:
		return 'G'
	case outcome.NotCovered, outcome.NotEnrolled:
		return 'C'
	}
	return '?'
}

// copyBuilderCache copies the fixture cache into a temporary directory
// (the cache maps its files; the committed copy stays untouched), leaving
// out the named files.
func copyBuilderCache(t testing.TB, skip ...string) string {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir(builderCache)
	require.NoError(t, err)
	for _, e := range ents {
		if e.Name() == "README.md" || slices.Contains(skip, e.Name()) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(builderCache, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
	}
	return dir
}

// TestMozillaBuilderCache replays every whole-cache query against the upki
// cache and fails on any answer that differs from upki's, through both
// check paths (the masked warm path without Detail, the full one with it).
// The same directory without index.bin (served from manifest.json, the
// index built from each filter's coverage) must answer the same.
func TestMozillaBuilderCache(t *testing.T) {
	qs := loadBuilderQueries(t)
	require.Len(t, qs, 4000, "queries")
	for _, tc := range []struct {
		name string
		skip []string
	}{
		{"index.bin", nil},
		{"manifest only", []string{"index.bin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustOpen(t, copyBuilderCache(t, tc.skip...), Options{StatInterval: -1})
			g := c.Generation()
			require.NotNil(t, g)
			require.Len(t, g.Files, 11, "filters in the generation")
			var bad []string
			nbad := 0
			tally := map[string]int{}
			var d Detail
			for i := range qs {
				q := &qs[i]
				o, err := c.Check(&q.in, nil)
				od, errd := c.Check(&q.in, &d)
				got := upkiLetter(o)
				tally[string(q.truth)+o.String()]++
				if err != nil || errd != nil || got != q.upki || od != o {
					nbad++
					if len(bad) < 10 {
						bad = append(bad, fmt.Sprintf("  line %d: got %v (%v), with detail %v (%v); upki %c: %s",
							q.line, o, err, od, errd, q.upki, q.text))
					}
				}
			}
			if nbad > 0 {
				t.Fatalf("%d of %d queries disagree with upki; first %d:\n%s", nbad, len(qs), len(bad), strings.Join(bad, "\n"))
			}
			// Every kind of answer must occur, or the vectors prove little.
			for _, k := range []string{"rrevoked", "rnot_revoked", "gnot_revoked", "urevoked", "unot_revoked",
				"xnot_enrolled", "zrevoked", "znot_revoked", "gnot_covered"} {
				assert.NotZero(t, tally[k], "no query drawn %c answered %s (tally %v)", k[0], k[1:], tally)
			}
			t.Logf("%d queries agree with upki (truth+outcome: %v)", len(qs), tally)
		})
	}
}
