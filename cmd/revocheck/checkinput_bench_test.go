package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/revocheck/revocheck/core/cachedir"
	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/config"
	"github.com/revocheck/revocheck/core/engine"
)

// benchLines makes n query lines from a synthetic cache's sample: with mix
// false every line is an enrolled issuer covered by all 36 filters with a
// fresh random serial (a live certificate: the common case, and the most
// expensive answer); with mix true 10 % are revoked, not covered and not
// enrolled sample inputs (bench/check-input.sh draws the same).
func benchLines(s *cachedir.Sample, n int, mix bool) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b []byte
	var in certinput.Input
	var serial [16]byte
	for range n {
		set := s.NotRevoked
		if r := rng.Float64(); mix && r < 0.10 {
			switch {
			case r < 0.04:
				set = s.Revoked
			case r < 0.07:
				set = s.NotCovered
			default:
				set = s.NotEnrolled
			}
		}
		in = set[rng.IntN(len(set))]
		if mix && &set[0] != &s.NotRevoked[0] {
			b = appendRawLine(b, &in)
		} else {
			for i := range serial {
				serial[i] = byte(rng.Uint32())
			}
			serial[0] = serial[0]&0x7f | 0x01
			in.Serial = serial[:]
			b = appendRawLine(b, &in)
		}
		b = append(b, '\n')
	}
	return b
}

func benchChecker(b *testing.B) (*engine.Checker, *cachedir.Sample) {
	dir, s, err := cachedir.SyntheticCached(cachedir.MozillaShaped)
	if err != nil {
		b.Fatal(err)
	}
	cfg := config.Default()
	if err := cfg.Set("cache-dir", dir, "test"); err != nil {
		b.Fatal(err)
	}
	if err := cfg.Set("max-age", "0", "test"); err != nil {
		b.Fatal(err)
	}
	return engine.New(cfg), s
}

// BenchmarkCheckInputLines is `check --input` minus the process: read,
// parse, check, write, per line (ns/op is per line).
func BenchmarkCheckInputLines(b *testing.B) {
	chk, s := benchChecker(b)
	defer chk.Close()
	const n = 100_000
	for _, tc := range []struct {
		name string
		mix  bool
		json bool
	}{{"covered", false, false}, {"mix", true, false}, {"covered-json", false, true}} {
		data := benchLines(s, n, tc.mix)
		b.Run(tc.name, func(b *testing.B) {
			// Whole batches of n lines (buffers filled and flushed as in
			// a real run); ns/op is per batch, the metrics per line.
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := answerLines(chk, bytes.NewReader(data), "bench", tc.json, io.Discard, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			perLine := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / n
			b.ReportMetric(perLine, "ns/line")
			b.ReportMetric(1e3/perLine, "Mlines/s")
		})
	}
}

// BenchmarkRawLineParse is the parser alone on one covered line.
func BenchmarkRawLineParse(b *testing.B) {
	_, s := benchChecker(b)
	line := appendRawLine(nil, &s.NotRevoked[0])
	q := new(rawQuery)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if err := q.parse(line); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckInputParts splits a covered line's cost: parsing alone,
// checking alone (engine.Checker.Check on parsed lines), over the same
// 100 000 distinct lines as BenchmarkCheckInputLines/covered, one goroutine.
func BenchmarkCheckInputParts(b *testing.B) {
	chk, s := benchChecker(b)
	defer chk.Close()
	const n = 100_000
	data := benchLines(s, n, false)
	lines := bytes.Split(bytes.TrimSuffix(data, []byte{'\n'}), []byte{'\n'})
	parsed := make([]rawQuery, 0, 1000)
	for _, l := range lines[:1000] {
		parsed = append(parsed, rawQuery{})
		q := &parsed[len(parsed)-1]
		if err := q.parse(l); err != nil {
			b.Fatal(err)
		}
	}
	// Parsed copies keep In pointing into their own arrays.
	for i := range parsed {
		parsed[i].In.Serial = parsed[i].serial[:len(parsed[i].In.Serial)]
		parsed[i].In.SCTs = parsed[i].scts[:len(parsed[i].In.SCTs)]
	}
	b.Run("parse", func(b *testing.B) {
		q := new(rawQuery)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := q.parse(lines[i]); err != nil {
				b.Fatal(err)
			}
			if i++; i == len(lines) {
				i = 0
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			chk.Check(&parsed[i].In, nil)
			if i++; i == len(parsed) {
				i = 0
			}
		}
	})
}
