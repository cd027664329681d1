package fetch

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/revocheck/revocheck/core/cache"
	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/outcome"
)

const fixtureAnswers = "../../testdata/fixtures/mozilla-20260624-1-default.filter.delta.answers.json"

type vector struct {
	name string
	in   certinput.Input
	want outcome.Outcome
}

var (
	vectorsOnce sync.Once
	vectorsVal  []vector
	vectorsErr  error
)

// fixtureVectors are the explicit vectors of the fixture's answers file:
// one certificate this filter says is good, one it says is revoked.
func fixtureVectors() ([]vector, error) {
	vectorsOnce.Do(func() {
		raw, err := os.ReadFile(fixtureAnswers)
		if err != nil {
			vectorsErr = err
			return
		}
		var doc struct {
			Vectors []struct {
				Name   string `json:"name"`
				Issuer string `json:"issuer_spki_sha256"`
				Serial string `json:"serial"`
				SCTs   []struct {
					LogID     string `json:"log_id"`
					Timestamp uint64 `json:"timestamp"`
				} `json:"scts"`
				Answer string `json:"answer"`
			} `json:"vectors"`
		}
		if vectorsErr = json.Unmarshal(raw, &doc); vectorsErr != nil {
			return
		}
		for _, v := range doc.Vectors {
			var x vector
			x.name = v.Name
			iss, _ := base64.StdEncoding.DecodeString(v.Issuer)
			copy(x.in.IssuerSPKIHash[:], iss)
			x.in.Serial, _ = base64.StdEncoding.DecodeString(v.Serial)
			for _, s := range v.SCTs {
				var sct certinput.SCT
				id, _ := base64.StdEncoding.DecodeString(s.LogID)
				copy(sct.LogID[:], id)
				sct.Timestamp = s.Timestamp
				x.in.SCTs = append(x.in.SCTs, sct)
			}
			switch v.Answer {
			case "Revoked":
				x.want = outcome.Revoked
			case "Good":
				x.want = outcome.NotRevoked
			default:
				vectorsErr = fmt.Errorf("vector %q: answer %q", v.Name, v.Answer)
				return
			}
			vectorsVal = append(vectorsVal, x)
		}
		if len(vectorsVal) != 2 {
			vectorsErr = fmt.Errorf("%d vectors in %s, want 2", len(vectorsVal), fixtureAnswers)
		}
	})
	return vectorsVal, vectorsErr
}

// cacheCheck opens the cache as every adapter does (core/cache) and checks
// the fixture's vectors. Every generation these tests publish holds the
// real Mozilla delta under some name, so the revoked vector must come out
// revoked and the good one not revoked, whatever generation is visible.
func cacheCheck(dir string, _ []byte) error {
	vs, err := fixtureVectors()
	if err != nil {
		return err
	}
	c, err := cache.Open(dir, cache.Options{})
	if err != nil {
		return fmt.Errorf("cache.Open: %w", err)
	}
	defer c.Close()
	for _, v := range vs {
		o, err := c.Check(&v.in, nil)
		if err != nil {
			return fmt.Errorf("check %s: %w", v.name, err)
		}
		if o != v.want {
			return fmt.Errorf("check %s: %v, want %v", v.name, o, v.want)
		}
	}
	return nil
}
