package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/revocheck/revocheck/core/cachedir"
	"github.com/revocheck/revocheck/core/certinput"
)

// specs are the synthetic caches the report measures. mozilla is the
// Mozilla-shaped cache (1 full filter, 35 deltas, 1000 issuers; every
// filter covers an old certificate, so a check consults all 36; 2 MB);
// sized has the same shape at the size of Mozilla's data (~6 MB full
// filter, 11 MB in all), the one the core's latency target is set on.
var specs = map[string]cachedir.SyntheticSpec{
	"mozilla": cachedir.MozillaShaped,
	"sized":   cachedir.MozillaSized,
	// The mirror one run before "mozilla": the same files minus the
	// newest delta (the generator is deterministic per seed), so syncing
	// from it to "mozilla" downloads exactly one new filter.
	"mozilla-prev": func() cachedir.SyntheticSpec {
		s := cachedir.MozillaShaped
		s.Deltas--
		return s
	}(),
}

func specFlag(fs *flag.FlagSet) *string {
	return fs.String("spec", "mozilla", "synthetic cache: mozilla, sized or mozilla-prev")
}

// synthetic returns the directory of the cache for a spec name, generating
// it under os.TempDir() on first use (cachedir.SyntheticCached, shared with
// the core benchmarks), and its sample inputs.
func synthetic(name string) (string, *cachedir.Sample, error) {
	spec, ok := specs[name]
	if !ok {
		return "", nil, fmt.Errorf("unknown spec %q", name)
	}
	start := time.Now()
	dir, s, err := cachedir.SyntheticCached(spec)
	if err != nil {
		return "", nil, err
	}
	if d := time.Since(start); d > time.Second {
		fmt.Fprintf(os.Stderr, "report: generated synthetic cache %s (%s) in %v\n", name, dir, d.Round(time.Second))
	}
	return dir, s, nil
}

// kinds pairs each sample set with the outcome every check of it must give.
func kinds(s *cachedir.Sample) []struct {
	name string
	set  []certinput.Input
} {
	return []struct {
		name string
		set  []certinput.Input
	}{
		{"not_revoked", s.NotRevoked},
		{"revoked", s.Revoked},
		{"not_enrolled", s.NotEnrolled},
		{"not_covered", s.NotCovered},
	}
}

func cacheBytes(dir string) (files int, total int64, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, err
	}
	for _, e := range ents {
		if n := e.Name(); strings.HasSuffix(n, ".filter") || strings.HasSuffix(n, ".delta") {
			fi, err := e.Info()
			if err != nil {
				return 0, 0, err
			}
			files++
			total += fi.Size()
		}
	}
	return files, total, nil
}

// cmdSynth prints the synthetic cache's directory; -sample writes its
// sample inputs for the C driver; -with-sites writes a cache to -combined
// holding the synthetic filters plus the test sites' filter and CRL sets,
// so real clients checking the test sites open a Mozilla-sized cache.
func cmdSynth(args []string) error {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	spec := specFlag(fs)
	samplePath := fs.String("sample", "", "write the sample inputs here (text, for the C driver)")
	sites := fs.String("with-sites", "", "test sites' cache directory to merge")
	combined := fs.String("combined", "", "with -with-sites: the merged cache directory to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, s, err := synthetic(*spec)
	if err != nil {
		return err
	}
	if *samplePath != "" {
		if err := writeSample(*samplePath, s); err != nil {
			return err
		}
	}
	if *sites != "" {
		if *combined == "" {
			return fmt.Errorf("-with-sites needs -combined")
		}
		if err := merge(*combined, dir, *sites); err != nil {
			return err
		}
		dir = *combined
	}
	fmt.Println(dir)
	return nil
}

// writeSample writes one input per line:
// OUTCOME ISSUER_SPKI_SHA256_HEX SERIAL_HEX N_SCTS LOGID_HEX:TIMESTAMP_MS...
func writeSample(path string, s *cachedir.Sample) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, k := range kinds(s) {
		for _, in := range k.set {
			fmt.Fprintf(w, "%s %x %x %d", k.name, in.IssuerSPKIHash, in.Serial, len(in.SCTs))
			for _, sct := range in.SCTs {
				fmt.Fprintf(w, " %x:%d", sct.LogID, sct.Timestamp)
			}
			w.WriteString("\n")
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// merge writes dst: every filter of synth (in its index order) then the
// filters of sites, with a fresh manifest, plus a copy of sites/crlsets.
func merge(dst, synth, sites string) error {
	var files []cachedir.File
	for _, dir := range []string{synth, sites} {
		names, err := filterNames(dir)
		if err != nil {
			return err
		}
		for _, n := range names {
			data, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil {
				return err
			}
			files = append(files, cachedir.File{Name: n, Data: data})
		}
	}
	if err := cachedir.Write(dst, files, cachedir.Options{Comment: "synthetic + test sites (bench/report)"}); err != nil {
		return err
	}
	src := filepath.Join(sites, "crlsets")
	ents, err := os.ReadDir(src)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dst, "crlsets"), 0o755); err != nil {
		return err
	}
	for _, e := range ents {
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, "crlsets", e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// filterNames lists a cache's filters: the full filter(s) first, then the
// deltas oldest first (names sort by run date, as Mozilla's do).
func filterNames(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var full, deltas []string
	for _, e := range ents {
		switch n := e.Name(); {
		case strings.HasSuffix(n, ".filter"):
			full = append(full, n)
		case strings.HasSuffix(n, ".delta"):
			deltas = append(deltas, n)
		}
	}
	slices.Sort(full)
	slices.Sort(deltas)
	if len(full)+len(deltas) == 0 {
		return nil, fmt.Errorf("%s: no filters", dir)
	}
	return append(full, deltas...), nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
