// Package testvectors reads the interoperability vectors of
// testdata/fixtures/mozilla-builder for the differential tests (one
// reader for every package that replays them). Tests only.
package testvectors

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/revocheck/revocheck/core/certinput"
)

// Query is one line of a .queries file: `ISSUER SERIAL SCTS TRUTH
// ANSWER...` (hex issuer SPKI hash, hex serial, `-` or LOGID_HEX:TS,...,
// how the key was drawn, then one reference reader's answer per column).
type Query struct {
	Line    int
	Text    string
	In      certinput.Input
	Truth   byte   // r g u x z
	Answers []byte // one letter per reference reader
}

// ParseQueries reads every line of data; each must carry nAnswers answers.
func ParseQueries(data []byte, nAnswers int) ([]Query, error) {
	var qs []Query
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<16)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) != 4+nAnswers {
			return nil, fmt.Errorf("line %d: %d fields, want %d", n, len(f), 4+nAnswers)
		}
		q := Query{Line: n, Text: sc.Text()}
		issuer, err := hex.DecodeString(f[0])
		if err != nil || len(issuer) != 32 {
			return nil, fmt.Errorf("line %d: issuer %q", n, f[0])
		}
		q.In.IssuerSPKIHash = [32]byte(issuer)
		if q.In.Serial, err = hex.DecodeString(f[1]); err != nil || len(q.In.Serial) == 0 {
			return nil, fmt.Errorf("line %d: serial %q", n, f[1])
		}
		if f[2] != "-" {
			for s := range strings.SplitSeq(f[2], ",") {
				id, ts, ok := strings.Cut(s, ":")
				logID, err1 := hex.DecodeString(id)
				tsv, err2 := strconv.ParseUint(ts, 10, 64)
				if !ok || err1 != nil || err2 != nil || len(logID) != 32 {
					return nil, fmt.Errorf("line %d: sct %q", n, s)
				}
				q.In.SCTs = append(q.In.SCTs, certinput.SCT{LogID: [32]byte(logID), Timestamp: tsv})
			}
		}
		if len(f[3]) != 1 || !strings.Contains("rguxz", f[3]) {
			return nil, fmt.Errorf("line %d: truth %q", n, f[3])
		}
		q.Truth = f[3][0]
		for _, a := range f[4:] {
			if len(a) != 1 {
				return nil, fmt.Errorf("line %d: answer %q", n, a)
			}
			q.Answers = append(q.Answers, a[0])
		}
		qs = append(qs, q)
	}
	return qs, sc.Err()
}
