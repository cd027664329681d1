package clubcard

import (
	"fmt"
	"github.com/revocheck/revocheck/internal/testvectors"
	"strings"
	"testing"

	"github.com/revocheck/revocheck/core/certinput"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Filters written by Mozilla's own builder (clubcard-crlite 0.6.0), with the
// answers its reader gave (testdata/fixtures/mozilla-builder/README.md).
const builderDir = "../../testdata/fixtures/mozilla-builder/"

// builderQuery is one line of a .queries file.
type builderQuery struct {
	line    int
	text    string
	in      certinput.Input
	truth   byte   // how the query was drawn: r g u x z
	answers []byte // the reference readers' answers, one per column
}

// parseBuilderQueries reads `ISSUER SERIAL SCTS TRUTH ANSWER...` lines
// (hex issuer SPKI hash, hex serial, `-` or LOGID_HEX:TS,...).
func parseBuilderQueries(t testing.TB, data []byte, nAnswers int) []builderQuery {
	t.Helper()
	vs, err := testvectors.ParseQueries(data, nAnswers)
	require.NoError(t, err)
	qs := make([]builderQuery, len(vs))
	for i, v := range vs {
		qs[i] = builderQuery{line: v.Line, text: v.Text, in: v.In, truth: v.Truth, answers: v.Answers}
	}
	return qs
}

// builderLetter is the queries files' letter for a Result.
var builderLetter = map[Result]byte{Revoked: 'R', NotRevoked: 'G', NotEnrolled: 'E', NotCovered: 'C'}

// disagreements collects mismatches and reports the first few.
type disagreements struct {
	n     int
	first []string
}

func (d *disagreements) add(format string, args ...any) {
	d.n++
	if len(d.first) < 10 {
		d.first = append(d.first, fmt.Sprintf(format, args...))
	}
}

func (d *disagreements) report(t *testing.T, of int) {
	t.Helper()
	if d.n > 0 {
		t.Fatalf("%d of %d queries disagree with the reference; first %d:\n%s",
			d.n, of, len(d.first), strings.Join(d.first, "\n"))
	}
}

// TestMozillaBuilderFilters replays every query against the v3 and the v4
// encoding of each filter and fails on any answer that differs from
// Mozilla's reader (CRLiteClubcard::contains), including the random
// answers for serials outside the universe (truth `u`), which must match
// bit for bit. Contains (no coverage check) must agree with Query wherever
// the query is covered.
func TestMozillaBuilderFilters(t *testing.T) {
	for _, name := range []string{"small", "medium"} {
		t.Run(name, func(t *testing.T) {
			qs := parseBuilderQueries(t, readFixture(t, builderDir+name+".queries"), 2)
			require.Len(t, qs, 4000, "queries")
			for col, v := range []int{3, 4} {
				f, err := Parse(readFixture(t, fmt.Sprintf("%s%s.v%d.filter", builderDir, name, v)))
				require.NoError(t, err, "v%d", v)
				require.Equal(t, v, f.Version())
				var bad disagreements
				tally := map[string]int{}
				for i := range qs {
					q := &qs[i]
					got := builderLetter[f.Query(&q.in)]
					tally[string(q.truth)+string(got)]++
					if got != q.answers[col] {
						bad.add("  line %d: v%d got %c, reference %c: %s", q.line, v, got, q.answers[col], q.text)
						continue
					}
					if got == 'R' || got == 'G' || got == 'E' {
						enrolled, revoked := f.Contains(&q.in.IssuerSPKIHash, q.in.Serial)
						if enrolled != (got != 'E') || revoked != (got == 'R') {
							bad.add("  line %d: v%d Query %c but Contains enrolled=%v revoked=%v", q.line, v, got, enrolled, revoked)
						}
					}
				}
				bad.report(t, len(qs))
				// Every kind of answer must occur, or the vectors prove little.
				for _, k := range []string{"rR", "rG", "gG", "uR", "uG", "xE", "zR", "zG", "gC"} {
					assert.NotZero(t, tally[k], "v%d: no query drawn %c answered %c (tally %v)", v, k[0], k[1], tally)
				}
				t.Logf("v%d: %d issuers, %d queries agree (truth+answer: %v)", v, f.NumIssuers(), len(qs), tally)
			}
		})
	}
}
