package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/revocheck/revocheck/core/cache"
	"github.com/revocheck/revocheck/core/certinput"
	"github.com/revocheck/revocheck/core/engine"
	"github.com/revocheck/revocheck/core/outcome"
)

// A measurement of a loop: medians over rounds.
type loopStat struct {
	ns, cpuNs, allocs float64
	n                 int // iterations per round
}

// threadCPU is the CPU time of the calling OS thread: on a shared machine
// wall time includes other engineers' builds, CPU time does not.
func threadCPU() int64 {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_THREAD, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// measure calibrates an iteration count that runs about target, then runs
// rounds rounds of it on a locked thread; it returns the medians.
func measure(target time.Duration, rounds int, body func(i int)) loopStat {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	n := 1
	for {
		start := time.Now()
		for i := range n {
			body(i)
		}
		d := time.Since(start)
		if d >= target/4 || n >= 1<<30 {
			n = max(1, int(float64(n)*float64(target)/float64(max(d, 1))))
			break
		}
		n *= 4
	}
	var ns, cpu, allocs []float64
	var ms runtime.MemStats
	for range rounds {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		m0 := ms.Mallocs
		c0, t0 := threadCPU(), time.Now()
		for i := range n {
			body(i)
		}
		d, c := time.Since(t0), threadCPU()-c0
		runtime.ReadMemStats(&ms)
		ns = append(ns, float64(d.Nanoseconds())/float64(n))
		cpu = append(cpu, float64(c)/float64(n))
		allocs = append(allocs, float64(ms.Mallocs-m0)/float64(n))
	}
	return loopStat{ns: median(ns), cpuNs: median(cpu), allocs: median(allocs), n: n}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e4:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

// emptyConfig points REVOCHECK_CONFIG at an empty file so no system or
// user configuration changes what is measured.
func emptyConfig() error {
	p := filepath.Join(os.TempDir(), "revocheck-bench-empty.toml")
	if err := os.WriteFile(p, []byte("# defaults only\n"), 0o644); err != nil {
		return err
	}
	return os.Setenv("REVOCHECK_CONFIG", p)
}

// cmdGoCheck measures checks in-process: cache.Check (the C2SP lookup
// itself) and engine.Check + Decide (what the C ABI runs: CRL sets, cache,
// policy) for each kind of sample input, cache.Open, and with -der
// engine.CheckDER on a real chain (DER walk + check).
func cmdGoCheck(args []string) error {
	fs := flag.NewFlagSet("gocheck", flag.ContinueOnError)
	spec := specFlag(fs)
	rowsPath := fs.String("rows", "", "rows file (default $BENCH_ROWS)")
	quick := fs.Bool("quick", false, "shorter rounds")
	derCache := fs.String("der-cache", "", "cache directory for the -leaf/-issuer chain (default: the synthetic cache)")
	leafPath := fs.String("leaf", "", "a leaf certificate (DER) covered by -der-cache")
	issuerPath := fs.String("issuer", "", "its issuer (DER)")
	cmdline := fs.String("cmd", "", "reproduce command to show in the rows")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := emptyConfig(); err != nil {
		return err
	}
	dir, s, err := synthetic(*spec)
	if err != nil {
		return err
	}
	target, rounds := 200*time.Millisecond, 7
	if *quick {
		target, rounds = 50*time.Millisecond, 3
	}
	if *cmdline == "" {
		*cmdline = fmt.Sprintf("go run ./bench/report gocheck -spec %s", *spec)
	}
	nfiles, total, err := cacheBytes(dir)
	if err != nil {
		return err
	}
	fmt.Printf("in-process Go, synthetic cache %q: %d filters, %d bytes (%s)\n", *spec, nfiles, total, dir)
	emitRow := func(what, figure, goal, v string) error {
		return emit(*rowsPath, Row{"check", what, figure, goal, v, *cmdline})
	}
	label := fmt.Sprintf("%s cache (%d filters, %.1f MB)", *spec, nfiles, float64(total)/1e6)

	c, err := cache.Open(dir, cache.Options{})
	if err != nil {
		return err
	}
	defer c.Close()
	for _, k := range kinds(s) {
		want, _ := outcome.Parse(k.name)
		var bad error
		st := measure(target, rounds, func(i int) {
			in := &k.set[i%len(k.set)]
			if o, err := c.Check(in, nil); o != want && bad == nil {
				bad = fmt.Errorf("cache.Check %s sample %d: got %v (%v)", k.name, i%len(k.set), o, err)
			}
		})
		if bad != nil {
			return bad
		}
		goal, ok := "≤ 1 µs, 0 allocs", st.ns <= 1000 && st.allocs == 0
		if err := emitRow(fmt.Sprintf("Go cache.Check, %s, %s", label, k.name),
			fmt.Sprintf("%s (cpu %s), %.0f allocs", fmtNs(st.ns), fmtNs(st.cpuNs), st.allocs), goal, verdict(ok)); err != nil {
			return err
		}
	}

	chk, err := engine.Open("", "cache-dir="+dir+";max-age=0")
	if err != nil {
		return err
	}
	defer chk.Close()
	for _, k := range kinds(s) {
		want, _ := outcome.Parse(k.name)
		var bad error
		st := measure(target, rounds, func(i int) {
			in := &k.set[i%len(k.set)]
			o, _ := chk.Check(in, nil)
			if d := chk.Decide(o); d.Outcome != want && bad == nil {
				bad = fmt.Errorf("engine.Check %s sample %d: got %v", k.name, i%len(k.set), d.Outcome)
			}
		})
		if bad != nil {
			return bad
		}
		ok := st.ns <= 1000 && st.allocs == 0
		if err := emitRow(fmt.Sprintf("Go engine.Check + Decide (CRL sets + cache + policy), %s, %s", label, k.name),
			fmt.Sprintf("%s (cpu %s), %.0f allocs", fmtNs(st.ns), fmtNs(st.cpuNs), st.allocs), "≤ 1 µs, 0 allocs", verdict(ok)); err != nil {
			return err
		}
	}

	// cache.Open: mmap and parse every filter, build the generation.
	var opens []float64
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m0 := ms.Mallocs
	nOpen := 9
	if *quick {
		nOpen = 3
	}
	for range nOpen {
		t0 := time.Now()
		oc, err := cache.Open(dir, cache.Options{StatInterval: -1})
		if err != nil {
			return err
		}
		opens = append(opens, float64(time.Since(t0).Nanoseconds()))
		oc.Close()
	}
	runtime.ReadMemStats(&ms)
	allocs := (ms.Mallocs - m0) / uint64(nOpen)
	// The Go heap an open generation keeps (parsed filter structures;
	// the filters themselves are mapped, not on the heap).
	runtime.GC()
	runtime.ReadMemStats(&ms)
	h0 := ms.HeapAlloc
	oc, err := cache.Open(dir, cache.Options{StatInterval: -1})
	if err != nil {
		return err
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heap := float64(ms.HeapAlloc) - float64(h0)
	oc.Close()
	if err := emit(*rowsPath, Row{"cold", fmt.Sprintf("Go cache.Open (map + parse all filters, warm page cache), %s", label),
		fmt.Sprintf("%s, %d allocs, %.1f MB of Go heap kept", fmtNs(median(opens)), allocs, heap/1e6), "part of cold open", info, *cmdline}); err != nil {
		return err
	}

	if *leafPath != "" {
		leaf, err := os.ReadFile(*leafPath)
		if err != nil {
			return err
		}
		issuer, err := os.ReadFile(*issuerPath)
		if err != nil {
			return err
		}
		cd := dir
		if *derCache != "" {
			cd = *derCache
		}
		dc, err := engine.Open("", "cache-dir="+cd+";max-age=0")
		if err != nil {
			return err
		}
		defer dc.Close()
		first, err := dc.CheckDER(leaf, issuer)
		if err != nil {
			return err
		}
		st := measure(target, rounds, func(int) { dc.CheckDER(leaf, issuer) })
		ok := st.ns <= 1000 && st.allocs == 0
		if err := emitRow(fmt.Sprintf("Go engine.CheckDER (DER walk + check), real chain, %s + test sites, %s", *spec, first.Outcome),
			fmt.Sprintf("%s (cpu %s), %.0f allocs", fmtNs(st.ns), fmtNs(st.cpuNs), st.allocs), "≤ 1 µs, 0 allocs", verdict(ok)); err != nil {
			return err
		}
		if *spec != "mozilla" {
			return nil // the DER walk does not depend on the cache
		}
		var in certinput.Input
		st = measure(target, rounds, func(int) { certinput.Extract(leaf, issuer, &in) })
		if err := emitRow("Go certinput.Extract alone (serial, issuer SPKI SHA-256, SCTs)",
			fmt.Sprintf("%s (cpu %s), %.0f allocs", fmtNs(st.ns), fmtNs(st.cpuNs), st.allocs), "part of the above", info); err != nil {
			return err
		}
	}
	return nil
}
