package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

const (
	beginMarker = "<!-- BEGIN GENERATED TABLES (bench/run-all.sh) -->"
	endMarker   = "<!-- END GENERATED TABLES -->"
)

func readRows(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []Row
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if sc.Text() == "" {
			continue
		}
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 6 {
			return nil, fmt.Errorf("%s:%d: %d fields, want 6", path, n, len(p))
		}
		rows = append(rows, Row{p[0], p[1], p[2], p[3], p[4], p[5]})
	}
	return rows, sc.Err()
}

func machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := ""
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(data))
	}
	load := ""
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	return fmt.Sprintf("%d × %s, Linux %s, %s, load average at the end %s", runtime.NumCPU(), cpu, kernel, runtime.Version(), load)
}

// render makes the generated part of docs/BENCHMARKS.md.
func render(rows []Row, mode string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", beginMarker)
	fmt.Fprintf(&b, "Measured %s by `bench/run-all.sh%s` on %s.\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), mode, machine())
	fmt.Fprintf(&b, "Every row of one table comes from the same run on the same machine. The machine is shared (2 cores, other engineers building at the same time): wall times are medians, CPU times and instruction counts are the steadier figures.\n\n")
	nMiss := 0
	for _, s := range sections {
		var rs []Row
		for _, r := range rows {
			if r.Section == s.key {
				rs = append(rs, r)
			}
		}
		if len(rs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "### %s\n\n| measurement | figure | goal | verdict | reproduce |\n|---|---|---|---|---|\n", s.title)
		for _, r := range rs {
			v := r.Verdict
			if v == misses {
				v = "**" + v + "**"
				nMiss++
			}
			cmd := r.Command
			if cmd != "" && cmd != info {
				cmd = "`" + cmd + "`"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.What, r.Figure, r.Goal, v, cmd)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%d figures miss their goal in this run.\n\n%s", nMiss, endMarker)
	return b.String()
}

// cmdRender replaces the text between the markers of the document with
// tables of the rows.
func cmdRender(args []string) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	rowsPath := fs.String("rows", "", "rows file")
	doc := fs.String("doc", "docs/BENCHMARKS.md", "document with the markers")
	quick := fs.Bool("quick", false, "the run was bench/run-all.sh --quick")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rows, err := readRows(*rowsPath)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(*doc)
	if err != nil {
		return err
	}
	text := string(data)
	i, j := strings.Index(text, beginMarker), strings.Index(text, endMarker)
	if i < 0 || j < i {
		return fmt.Errorf("%s: markers %q and %q not found", *doc, beginMarker, endMarker)
	}
	mode := ""
	if *quick {
		mode = " --quick"
	}
	out := text[:i] + render(rows, mode) + text[j+len(endMarker):]
	tmp := *doc + ".tmp"
	if err := os.WriteFile(tmp, []byte(out), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, *doc); err != nil {
		return err
	}
	fmt.Printf("wrote %d rows into %s\n", len(rows), *doc)
	return nil
}
