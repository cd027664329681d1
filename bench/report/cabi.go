package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// runKV runs a command and parses its "word key=value..." output lines
// into word → key → value.
func runKV(name string, args ...string) (map[string]map[string]string, error) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	res := map[string]map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		key := f[0]
		kv := map[string]string{}
		for _, p := range f[1:] {
			if k, v, ok := strings.Cut(p, "="); ok {
				kv[k] = v
			}
		}
		if k := kv["kind"]; k != "" {
			key += " " + k
		}
		res[key] = kv
	}
	return res, nil
}

func num(kv map[string]string, k string) float64 {
	v, err := strconv.ParseFloat(kv[k], 64)
	if err != nil {
		return -1
	}
	return v
}

// cmdCABI measures the C ABI with bench/report/cdriver/cabi_bench: the
// cold first check in fresh processes (dlopen, open, first check that
// opens the cache) with the resident memory it adds, warm checks of every
// kind through revocheck_check_input, revocheck_check_der on a real chain,
// and, under valgrind --tool=callgrind, the instructions per check.
func cmdCABI(args []string) error {
	fs := flag.NewFlagSet("cabi", flag.ContinueOnError)
	spec := specFlag(fs)
	rowsPath := fs.String("rows", "", "rows file (default $BENCH_ROWS)")
	driver := fs.String("driver", "", "the compiled cabi_bench")
	lib := fs.String("lib", "build/lib/librevocheck.so.0", "librevocheck.so to dlopen")
	quick := fs.Bool("quick", false, "fewer runs")
	derCache := fs.String("der-cache", "", "cache directory for the -leaf/-issuer chain")
	leaf := fs.String("leaf", "", "a leaf certificate (DER) covered by -der-cache")
	issuer := fs.String("issuer", "", "its issuer (DER)")
	callgrind := fs.Bool("callgrind", true, "count instructions per check with valgrind when installed")
	cmdline := fs.String("cmd", "", "reproduce command to show in the rows")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *driver == "" {
		return fmt.Errorf("-driver is required (bench/cabi-bench.sh compiles it)")
	}
	if err := emptyConfig(); err != nil {
		return err
	}
	libAbs, err := filepath.Abs(*lib)
	if err != nil {
		return err
	}
	dir, s, err := synthetic(*spec)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "revocheck-cabi-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	sample := filepath.Join(tmp, "sample.txt")
	if err := writeSample(sample, s); err != nil {
		return err
	}
	nfiles, total, err := cacheBytes(dir)
	if err != nil {
		return err
	}
	label := fmt.Sprintf("%s cache (%d filters, %.1f MB)", *spec, nfiles, float64(total)/1e6)
	if *cmdline == "" {
		*cmdline = "bench/cabi-bench.sh " + *spec
	}
	fmt.Printf("C ABI (%s), synthetic cache %q: %d filters, %d bytes\n", *lib, *spec, nfiles, total)

	// Cold: fresh processes, medians.
	runs := 15
	if *quick {
		runs = 5
	}
	var dl, op, first, tot, rss []float64
	for range runs {
		kv, err := runKV(*driver, libAbs, dir, sample, "0")
		if err != nil {
			return err
		}
		c := kv["cold"]
		dl = append(dl, num(c, "dlopen_ns"))
		op = append(op, num(c, "open_ns"))
		first = append(first, num(c, "first_check_ns"))
		tot = append(tot, num(c, "total_ns"))
		rss = append(rss, num(c, "rss_after_kb")-num(c, "rss_before_kb"))
	}
	if err := emit(*rowsPath, Row{"cold", fmt.Sprintf("C ABI cold first check, %s: dlopen + revocheck_open + first check (cache open), median of %d processes", label, runs),
		fmt.Sprintf("%s (dlopen+Go runtime %s, open %s, first check %s)", fmtNs(median(tot)), fmtNs(median(dl)), fmtNs(median(op)), fmtNs(median(first))),
		"—", info, *cmdline}); err != nil {
		return err
	}
	rssMB := median(rss) / 1024
	if err := emit(*rowsPath, Row{"cold", fmt.Sprintf("RSS a host process gains: dlopen + open + first check, %s", label),
		fmt.Sprintf("%.1f MB", rssMB), "≤ 10 MB", verdict(rssMB <= 10), *cmdline}); err != nil {
		return err
	}

	// Warm: one process, every kind.
	n := "300000"
	if *quick {
		n = "100000"
	}
	dargs := []string{libAbs, dir, sample, n}
	kv, err := runKV(*driver, dargs...)
	if err != nil {
		return err
	}
	for _, k := range kinds(s) {
		w := kv["warm "+k.name]
		if w == nil {
			return fmt.Errorf("driver printed no warm %s line", k.name)
		}
		ns, cpu := num(w, "ns"), num(w, "cpu_ns")
		if err := emit(*rowsPath, Row{"check", fmt.Sprintf("C ABI revocheck_check_input, %s, %s", label, k.name),
			fmt.Sprintf("%s (cpu %s)", fmtNs(ns), fmtNs(cpu)), "≤ 1 µs + a few 100 ns", verdict(ns <= 1300), *cmdline}); err != nil {
			return err
		}
	}
	if *leaf != "" {
		kv, err := runKV(*driver, libAbs, *derCache, sample, n, "none", *leaf, *issuer)
		if err != nil {
			return err
		}
		d := kv["der"]
		ns, cpu := num(d, "ns"), num(d, "cpu_ns")
		if err := emit(*rowsPath, Row{"check", fmt.Sprintf("C ABI revocheck_check_der, real chain, %s + test sites, %s", *spec, d["outcome"]),
			fmt.Sprintf("%s (cpu %s)", fmtNs(ns), fmtNs(cpu)), "≤ 1 µs + a few 100 ns", verdict(ns <= 1300), *cmdline}); err != nil {
			return err
		}
	}

	if _, err := exec.LookPath("valgrind"); err != nil || !*callgrind {
		return nil
	}
	// Instructions per check: the main thread's count for two loop lengths;
	// the difference removes start-up and the first check (cache open).
	// Asynchronous preemption is off: callgrind asserts on Go's SIGURG;
	// RDTSCP too: valgrind 3.19 cannot decode it (SIGILL when Go's locks spin).
	// Valgrind's CPU has no SHA-NI, so Go's SHA-256 runs its generic code
	// there: the count overstates the native cost of hashing.
	for _, kind := range []string{"not_revoked", "revoked", "not_covered"} {
		var ir [2]float64
		loops := [2]int{500, 1500}
		for i := range loops {
			out := filepath.Join(tmp, fmt.Sprintf("callgrind-%d.out", i))
			cmd := exec.Command("valgrind", "--tool=callgrind", "--separate-threads=yes", "--callgrind-out-file="+out,
				*driver, libAbs, dir, sample, strconv.Itoa(loops[i]), kind)
			cmd.Env = append(os.Environ(), "GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off")
			if b, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "report cabi: callgrind failed, skipping instruction counts: %v\n%s", err, tail(b, 800))
				return nil
			}
			v, err := callgrindTotal(out + "-01") // thread 1: main, the loop
			if err != nil {
				return err
			}
			ir[i] = v
		}
		per := (ir[1] - ir[0]) / float64(loops[1]-loops[0])
		if err := emit(*rowsPath, Row{"check", fmt.Sprintf("C ABI revocheck_check_input, %s, %s: instructions per check (callgrind; generic SHA-256, see text)", label, kind),
			fmt.Sprintf("%.0f instructions", per), "— (noise-free)", info,
			fmt.Sprintf("GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind --separate-threads=yes cabi_bench LIB CACHE SAMPLE N %s", kind)}); err != nil {
			return err
		}
	}
	return nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// callgrindTotal reads the "totals:" (or "summary:") line of a callgrind
// output file: instructions executed while collection was on.
func callgrindTotal(path string) (float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		for _, p := range []string{"totals:", "summary:"} {
			if v, ok := strings.CutPrefix(line, p); ok {
				f := strings.Fields(v)
				if len(f) > 0 {
					return strconv.ParseFloat(f[0], 64)
				}
			}
		}
	}
	return 0, fmt.Errorf("%s: no totals line", path)
}
