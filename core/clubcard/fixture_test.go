package clubcard

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"

	"github.com/revocheck/revocheck/core/certinput"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	fixtureDir     = "../../testdata/fixtures/"
	fixtureFilter  = fixtureDir + "mozilla-20260624-1-default.filter.delta"
	fixtureAnswers = fixtureFilter + ".answers.json"
	fixtureSites   = fixtureDir + "test-sites.json"
)

type jsonSCT struct {
	LogID     string `json:"log_id"`
	Timestamp uint64 `json:"timestamp"`
}

type jsonInput struct {
	Serial string    `json:"serial"`
	Issuer string    `json:"issuer_spki_sha256"`
	SCTs   []jsonSCT `json:"scts"`
}

func readFixture(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err, "fixture missing (testdata/fixtures/ is part of the repository)")
	return b
}

func b64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err, "bad base64 %q", s)
	return b
}

func (j *jsonInput) input(t testing.TB) *certinput.Input {
	t.Helper()
	in := &certinput.Input{Serial: b64(t, j.Serial)}
	require.Len(t, b64(t, j.Issuer), 32, "issuer hash")
	copy(in.IssuerSPKIHash[:], b64(t, j.Issuer))
	for _, s := range j.SCTs {
		var sct certinput.SCT
		require.Len(t, b64(t, s.LogID), 32, "log id")
		copy(sct.LogID[:], b64(t, s.LogID))
		sct.Timestamp = s.Timestamp
		in.SCTs = append(in.SCTs, sct)
	}
	return in
}

// answerResult maps the fixture's answer names (clubcard-crlite's
// CRLiteStatus) to ours.
var answerResult = map[string]Result{
	"Good":        NotRevoked,
	"NotCovered":  NotCovered,
	"NotEnrolled": NotEnrolled,
	"Revoked":     Revoked,
}

type fixtureCase struct {
	name   string
	in     *certinput.Input
	answer Result
}

// loadFixtureCases pairs every test site that has recorded inputs with the
// answer file's entry of the same position, checking the labels agree.
func loadFixtureCases(t testing.TB) []fixtureCase {
	var sites struct {
		Sites []struct {
			Label  string     `json:"ca_label"`
			Detail *jsonInput `json:"detail"`
		} `json:"sites"`
	}
	require.NoError(t, json.Unmarshal(readFixture(t, fixtureSites), &sites))
	var answers struct {
		TestSites []struct {
			Label  string `json:"ca_label"`
			Answer string `json:"answer"`
		} `json:"test_sites"`
		Vectors []struct {
			Name string `json:"name"`
			jsonInput
			Answer string `json:"answer"`
		} `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(readFixture(t, fixtureAnswers), &answers))
	var cases []fixtureCase
	k := 0
	for _, s := range sites.Sites {
		if s.Detail == nil {
			continue
		}
		require.Less(t, k, len(answers.TestSites), "more test sites than answers")
		a := answers.TestSites[k]
		k++
		require.Equal(t, s.Label, a.Label, "answer %d is for another site", k-1)
		r, ok := answerResult[a.Answer]
		require.True(t, ok, "unknown answer %q", a.Answer)
		cases = append(cases, fixtureCase{s.Label, s.Detail.input(t), r})
	}
	require.Equal(t, len(answers.TestSites), k, "answers for test sites")
	for _, v := range answers.Vectors {
		r, ok := answerResult[v.Answer]
		require.True(t, ok, "unknown answer %q", v.Answer)
		cases = append(cases, fixtureCase{v.Name, v.jsonInput.input(t), r})
	}
	return cases
}

// TestMozillaFixture reproduces an independent implementation's answer for
// every recorded test site against a real Mozilla delta filter.
func TestMozillaFixture(t *testing.T) {
	f, err := Parse(readFixture(t, fixtureFilter))
	require.NoError(t, err)
	require.Equal(t, 4, f.Version())
	cases := loadFixtureCases(t)
	count := map[Result]int{}
	for _, c := range cases {
		got := f.Query(c.in)
		count[got]++
		assert.Equal(t, c.answer, got, c.name)
	}
	// The fixture's own tally: 74 Good and 41 NotCovered sites plus one Good
	// and one Revoked vector. A Revoked must be among them, or the test
	// proves little.
	assert.Equal(t, map[Result]int{Revoked: 1, NotRevoked: 75, NotCovered: 41}, count, "tally")
	t.Logf("issuers %d, coverage %d logs, answers %v", f.NumIssuers(), len(f.Coverage()), count)
}
