package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/revocheck/revocheck/core/cachedir"
	"github.com/revocheck/revocheck/core/filterbuild"
)

const filterBuildUsage = `--out DIR [--revoked CHAIN.pem]... [--not-revoked CHAIN.pem]...
       revocheck filter build --out DIR --synthetic [--issuers N --serials N --deltas N ...]

Writes a complete revocation cache directory (a v4 clubcard filter, index.bin,
manifest.json) that any C2SP reader accepts. Each CHAIN.pem holds a
certificate followed by its issuer; the filter's coverage spans their SCTs.
--synthetic makes a realistic cache (random issuers and serials, one full
filter plus deltas) for benchmarks; --queries FILE also writes sample
queries with known answers in the format of ` + "`revocheck check --input`" + `,
the expected outcome as a fourth field (64 of each: revoked, not_revoked,
not_enrolled, not_covered).`

func cmdFilter(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "build" {
		fmt.Fprintf(stderr, "usage: revocheck filter build %s\n", filterBuildUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return fmt.Errorf("filter: expected the subcommand build")
	}
	fs := newFlags("filter build", filterBuildUsage, stderr)
	out := fs.String("out", "", "cache directory to write (created if missing)")
	var revoked, notRevoked multiFlag
	fs.Var(&revoked, "revoked", "chain (certificate, then issuer) whose certificate is revoked (repeatable)")
	fs.Var(&notRevoked, "not-revoked", "chain whose certificate is not revoked (repeatable)")
	name := fs.String("name", "", "filter file name (default revocheck-<unix time>.filter)")
	synthetic := fs.Bool("synthetic", false, "generate a synthetic Mozilla-shaped cache")
	queries := fs.String("queries", "", "synthetic: also write sample query lines with their expected outcome to this file")
	var spec cachedir.SyntheticSpec
	fs.IntVar(&spec.Issuers, "issuers", 1000, "synthetic: enrolled issuers")
	fs.IntVar(&spec.FullSerials, "serials", 2_000_000, "synthetic: certificates in the full filter's universe")
	fs.IntVar(&spec.Deltas, "deltas", 35, "synthetic: delta filters")
	fs.IntVar(&spec.DeltaSerials, "delta-serials", 60_000, "synthetic: certificates per delta")
	fs.Float64Var(&spec.RevokedFraction, "revoked-fraction", 0.02, "synthetic: fraction of revoked certificates")
	fs.IntVar(&spec.DeltaRevoked, "delta-revoked", 0, "synthetic: certificates each delta newly revokes (default: revoked-fraction of delta-serials)")
	fs.IntVar(&spec.Logs, "logs", 8, "synthetic: CT logs")
	fs.Int64Var(&spec.Seed, "seed", 1, "synthetic: random seed")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("filter build: --out is required")
	}
	if *synthetic {
		start := time.Now()
		sample, err := cachedir.Synthetic(*out, spec)
		if err != nil {
			return err
		}
		if *queries != "" {
			if err := writeSampleQueries(*queries, sample); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "wrote synthetic cache %s in %v\n", *out, time.Since(start).Round(time.Millisecond))
		return nil
	}
	if len(revoked)+len(notRevoked) == 0 {
		return fmt.Errorf("filter build: give at least one --revoked or --not-revoked chain")
	}
	var entries []filterbuild.Entry
	for _, set := range []struct {
		files   []string
		revoked bool
	}{{revoked, true}, {notRevoked, false}} {
		for _, f := range set.files {
			cert, issuer, err := filterbuild.ReadChainPEM(f)
			if err != nil {
				return err
			}
			e, err := filterbuild.FromChain(cert, issuer, set.revoked)
			if err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			entries = append(entries, e)
		}
	}
	now := time.Now()
	filter, err := filterbuild.Filter(entries, now)
	if err != nil {
		return err
	}
	if *name == "" {
		*name = fmt.Sprintf("revocheck-%d.filter", now.Unix())
	}
	if err := cachedir.WriteFilters(*out, []cachedir.File{{Name: *name, Data: filter}}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s/%s (%d bytes, %d revoked, %d not revoked), index.bin and manifest.json\n",
		*out, *name, len(filter), len(revoked), len(notRevoked))
	return nil
}

// writeSampleQueries writes a synthetic cache's sample inputs as
// `check --input` lines, each followed by the outcome it must get.
func writeSampleQueries(path string, s *cachedir.Sample) error {
	var b []byte
	for _, k := range s.Kinds() {
		for i := range k.Set {
			b = appendRawLine(b, &k.Set[i])
			b = append(b, ' ')
			b = append(b, k.Want.String()...)
			b = append(b, '\n')
		}
	}
	return os.WriteFile(path, b, 0o644)
}
