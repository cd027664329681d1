package main

import (
	"flag"
	"fmt"
	"os/exec"
	"strings"
	"syscall" // only the *Rusage that os.ProcessState.SysUsage returns: a standard library type
	"time"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// cmdCold times `revocheck check` on a chain in fresh processes, one run
// per cache in turn (so load drift hits all alike), against
// `revocheck version` as the cost of starting the process at all.
func cmdCold(args []string) error {
	fs := flag.NewFlagSet("cold", flag.ContinueOnError)
	rowsPath := fs.String("rows", "", "rows file (default $BENCH_ROWS)")
	bin := fs.String("revocheck", "build/bin/revocheck", "the revocheck binary")
	chain := fs.String("chain", "", "chain (PEM, leaf first) to check")
	runs := fs.Int("runs", 21, "runs per variant")
	var caches multi
	fs.Var(&caches, "cache", "LABEL=DIR of a cache to check against (repeatable)")
	cmdline := fs.String("cmd", "", "reproduce command to show in the rows")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *chain == "" || len(caches) == 0 {
		return fmt.Errorf("-chain and at least one -cache are required")
	}
	if err := emptyConfig(); err != nil {
		return err
	}
	type variant struct {
		label string
		args  []string
		wall  []float64
		rss   []float64
	}
	vs := []*variant{{label: "revocheck version (process start only)", args: []string{"version"}}}
	for _, c := range caches {
		label, dir, ok := strings.Cut(c, "=")
		if !ok {
			return fmt.Errorf("-cache %q: want LABEL=DIR", c)
		}
		vs = append(vs, &variant{label: "revocheck check, " + label, args: []string{"check", "--cache-dir", dir, "--set", "max-age=0", *chain}})
	}
	for i := range *runs + 2 {
		for _, v := range vs {
			cmd := exec.Command(*bin, v.args...)
			t0 := time.Now()
			out, err := cmd.CombinedOutput()
			d := time.Since(t0)
			if err != nil {
				return fmt.Errorf("%s %s: %v\n%s", *bin, strings.Join(v.args, " "), err, out)
			}
			if i < 2 {
				continue // warm-up
			}
			v.wall = append(v.wall, float64(d.Nanoseconds()))
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				v.rss = append(v.rss, float64(ru.Maxrss))
			}
		}
	}
	if *cmdline == "" {
		*cmdline = "bench/run-all.sh (report cold)"
	}
	base := median(vs[0].wall)
	for _, v := range vs {
		fig := fmt.Sprintf("%s wall, peak RSS %.1f MB", fmtNs(median(v.wall)), median(v.rss)/1024)
		if v != vs[0] {
			fig += fmt.Sprintf(" (+%s over process start)", fmtNs(median(v.wall)-base))
		}
		if err := emit(*rowsPath, Row{"cold", fmt.Sprintf("%s, median of %d fresh processes", v.label, *runs), fig, "—", info, *cmdline}); err != nil {
			return err
		}
	}
	return nil
}
