// Command testsummary turns `go test -json` into what a person reads: one
// line per package, the whole output of every failed test, one line per
// skipped test with its reason, and a closing line
//
//	N passed, N failed, N skipped
//
// counting every test and subtest. It exits non-zero on any failure.
//
//	go test -json ./... | testsummary
//	testsummary -run 'go test -json ./...' -run docker/run-tests.sh
//
// With -run it runs each command (sh -c) in turn, parses its standard output
// and passes its standard error through; a command that exits non-zero with
// no failed test counted is itself one failure (a build error, a crash). Lines
// that are not JSON are echoed; a line "NAME: N passed, N failed, N skipped"
// (docker/run-tests.sh prints one) adds its counts to the total.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// event is one line of test2json output (go doc cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output, build-fail
	Test       string
	Elapsed    float64
	Output     string
}

type key struct{ pkg, test string }

// Summary accumulates the results of one or more streams.
type Summary struct {
	out                     io.Writer
	Passed, Failed, Skipped int
	// Output of tests still running, by test (and of each package, test "").
	buf     map[key][]string
	running map[key]bool
	pkgN    map[string]int // tests finished per package
	build   map[string][]string
}

func newSummary(out io.Writer) *Summary {
	return &Summary{out: out, buf: map[key][]string{}, running: map[key]bool{},
		pkgN: map[string]int{}, build: map[string][]string{}}
}

// extra matches another runner's closing line (docker/run-tests.sh).
var extra = regexp.MustCompile(`^([A-Za-z0-9_.-]+): ([0-9]+) passed, ([0-9]+) failed(?:, ([0-9]+) skipped)?$`)

// Read consumes one stream to its end.
func (s *Summary) Read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		var e event
		if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &e) == nil && e.Action != "" {
			s.event(e)
			continue
		}
		fmt.Fprintln(s.out, line)
		if m := extra.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			p, _ := strconv.Atoi(m[2])
			f, _ := strconv.Atoi(m[3])
			k, _ := strconv.Atoi(m[4])
			s.Passed, s.Failed, s.Skipped = s.Passed+p, s.Failed+f, s.Skipped+k
		}
	}
	return sc.Err()
}

func (s *Summary) event(e event) {
	switch e.Action {
	case "build-output":
		s.build[e.ImportPath] = append(s.build[e.ImportPath], e.Output)
		return
	case "build-fail":
		fmt.Fprintf(s.out, "FAIL  build of %s\n%s", e.ImportPath, strings.Join(s.build[e.ImportPath], ""))
		delete(s.build, e.ImportPath)
		return
	}
	k := key{e.Package, e.Test}
	switch e.Action {
	case "run":
		s.running[k] = true
	case "output":
		s.buf[k] = append(s.buf[k], e.Output)
	case "pass", "fail", "skip":
		if e.Test == "" {
			s.endPackage(e)
			return
		}
		delete(s.running, k)
		s.pkgN[e.Package]++
		switch e.Action {
		case "pass":
			s.Passed++
		case "fail":
			s.Failed++
			fmt.Fprintf(s.out, "--- FAIL: %s %s (%.2fs)\n%s", e.Package, e.Test, e.Elapsed, indent(s.buf[k]))
		case "skip":
			s.Skipped++
			fmt.Fprintf(s.out, "SKIP  %s %s: %s\n", e.Package, e.Test, skipReason(s.buf[k]))
		}
		delete(s.buf, k)
	}
}

// endPackage prints the package's line; on a failed package (a panic, a
// timeout, a failing TestMain) its own output and every test that never
// finished are printed and counted as failed.
func (s *Summary) endPackage(e event) {
	pk := key{e.Package, ""}
	n := s.pkgN[e.Package]
	switch e.Action {
	case "skip":
		// no test files
	case "pass":
		fmt.Fprintf(s.out, "ok    %s (%d tests, %.1fs)\n", e.Package, n, e.Elapsed)
	case "fail":
		var unfinished []string
		for k := range s.running {
			if k.pkg == e.Package {
				unfinished = append(unfinished, k.test)
			}
		}
		sort.Strings(unfinished)
		for _, t := range unfinished {
			k := key{e.Package, t}
			s.Failed++
			fmt.Fprintf(s.out, "--- FAIL: %s %s (did not finish)\n%s", e.Package, t, indent(s.buf[k]))
			delete(s.running, k)
			delete(s.buf, k)
		}
		if n == 0 && len(unfinished) == 0 {
			s.Failed++ // the package failed without running a test: count it
		}
		fmt.Fprintf(s.out, "FAIL  %s (%.1fs)\n%s", e.Package, e.Elapsed, indent(s.buf[pk]))
	}
	delete(s.buf, pk)
	delete(s.pkgN, e.Package)
	for k := range s.buf { // subtests' leftovers
		if k.pkg == e.Package {
			delete(s.buf, k)
		}
	}
}

// skipReason is what the test said when it skipped (its t.Skip message).
func skipReason(lines []string) string {
	var why []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		why = append(why, t)
	}
	if len(why) == 0 {
		return "(no reason given)"
	}
	return strings.Join(why, " / ")
}

func indent(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		if strings.HasPrefix(l, "=== RUN") || strings.HasPrefix(l, "=== PAUSE") || strings.HasPrefix(l, "=== CONT") {
			continue
		}
		b.WriteString("    ")
		b.WriteString(l)
		if !strings.HasSuffix(l, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Line is the closing line.
func (s *Summary) Line() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", s.Passed, s.Failed, s.Skipped)
}

type cmdList []string

func (c *cmdList) String() string     { return strings.Join(*c, "; ") }
func (c *cmdList) Set(v string) error { *c = append(*c, v); return nil }

func main() {
	var cmds cmdList
	flag.Var(&cmds, "run", "command to run with sh -c and summarise (repeatable); without it, read standard input")
	flag.Parse()
	s := newSummary(os.Stdout)
	start := time.Now()
	if len(cmds) == 0 {
		if err := s.Read(os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, "testsummary:", err)
			s.Failed++
		}
	}
	for _, c := range cmds {
		before := s.Failed
		cmd := exec.Command("sh", "-c", c)
		cmd.Stdin, cmd.Stderr = os.Stdin, os.Stderr
		out, err := cmd.StdoutPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err == nil {
			rerr := s.Read(out)
			err = cmd.Wait()
			if err == nil {
				err = rerr
			}
		}
		if err != nil && s.Failed == before {
			fmt.Printf("FAIL  %s: %v\n", c, err)
			s.Failed++
		}
	}
	fmt.Printf("(%s)\n%s\n", time.Since(start).Round(time.Second), s.Line())
	if s.Failed > 0 {
		os.Exit(1)
	}
}
