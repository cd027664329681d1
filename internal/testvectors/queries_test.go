package testvectors

import (
	"os"
	"testing"
)

// FuzzParseQueries: any bytes give queries or an error, never a panic;
// every query has its issuer, a serial and the asked number of answers.
func FuzzParseQueries(f *testing.F) {
	if data, err := os.ReadFile("../../testdata/fixtures/mozilla-builder/small.queries"); err == nil {
		f.Add(data[:min(len(data), 4096)])
	}
	f.Add([]byte("00 01 - r G G\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		qs, err := ParseQueries(data, 2)
		if err != nil {
			return
		}
		for _, q := range qs {
			if len(q.In.Serial) == 0 || len(q.Answers) != 2 {
				t.Fatalf("line %d: %+v", q.Line, q)
			}
		}
	})
}

func TestParseFixture(t *testing.T) {
	data, err := os.ReadFile("../../testdata/fixtures/mozilla-builder/small.queries")
	if err != nil {
		t.Fatal(err)
	}
	qs, err := ParseQueries(data, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 4000 {
		t.Fatalf("%d queries, want 4000", len(qs))
	}
}
