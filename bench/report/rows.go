package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// Sections, in the order the report shows them. A row's section must be
// one of these keys; render makes one table per section.
var sections = []struct{ key, title string }{
	{"check", "Check latency and allocations on a warm handle"},
	{"cold", "Cold open (first check in a fresh process) and memory"},
	{"process", "Whole-process overhead of real clients"},
	{"daemon", "The check daemon: round trip and load"},
	{"crlfile", "The alternative today: CRL files"},
	{"sync", "Sync cost against a local mirror"},
	{"build", "Filter build throughput and size"},
	{"upki", "Comparison with upki"},
}

// A Row is one line of a table: a figure against its goal, with the
// command that reproduces it.
type Row struct {
	Section, What, Figure, Goal, Verdict, Command string
}

// Verdicts.
const (
	meets  = "meets"
	misses = "MISSES"
	info   = "—"
)

func verdict(ok bool) string {
	if ok {
		return meets
	}
	return misses
}

func clean(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "|", "/").Replace(s)
}

// emit prints a row and appends it to the rows file (-rows or $BENCH_ROWS).
func emit(rowsPath string, r Row) error {
	fmt.Printf("  %-58s %-28s goal %-22s %s\n", r.What, r.Figure, r.Goal, r.Verdict)
	if rowsPath == "" {
		rowsPath = os.Getenv("BENCH_ROWS")
	}
	if rowsPath == "" {
		return nil
	}
	valid := false
	for _, s := range sections {
		valid = valid || s.key == r.Section
	}
	if !valid {
		return fmt.Errorf("unknown section %q", r.Section)
	}
	f, err := os.OpenFile(rowsPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\n", clean(r.Section), clean(r.What), clean(r.Figure),
		clean(r.Goal), clean(r.Verdict), clean(r.Command))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// cmdRow appends one row given on the command line (for the shell scripts):
// report row [-rows FILE] SECTION WHAT FIGURE GOAL VERDICT COMMAND.
func cmdRow(args []string) error {
	fs := flag.NewFlagSet("row", flag.ContinueOnError)
	rows := fs.String("rows", "", "rows file (default $BENCH_ROWS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a := fs.Args()
	if len(a) != 6 {
		return fmt.Errorf("want SECTION WHAT FIGURE GOAL VERDICT COMMAND, got %d arguments", len(a))
	}
	return emit(*rows, Row{a[0], a[1], a[2], a[3], a[4], a[5]})
}
