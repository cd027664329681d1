// Command report measures revocheck for docs/BENCHMARKS.md and renders the
// tables there. bench/run-all.sh drives it; each subcommand also runs alone:
//
//	report synth   -spec mozilla|sized [-with-sites CACHE -combined DIR] [-sample FILE]
//	report gocheck -spec mozilla|sized [-der LEAF.der ISSUER.der] [-quick]
//	report cabi    -spec mozilla|sized -driver BIN -lib librevocheck.so.0 [-quick]
//	report cold    -revocheck BIN -chain CHAIN.pem -cache NAME=DIR...
//	report sync    -revocheck BIN [-quick]
//	report render  -rows ROWS.tsv -doc docs/BENCHMARKS.md
//
// Measuring subcommands print what they measure and append table rows to
// the file named by -rows (or $BENCH_ROWS): tab-separated section, what,
// figure, goal, verdict, command. render groups the rows into one table
// per section between the markers of docs/BENCHMARKS.md.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

var commands = map[string]func(args []string) error{
	"synth":   cmdSynth,
	"gocheck": cmdGoCheck,
	"cabi":    cmdCABI,
	"cold":    cmdCold,
	"sync":    cmdSync,
	"render":  cmdRender,
	"row":     cmdRow,
}

func main() {
	if len(os.Args) < 2 || commands[os.Args[1]] == nil {
		var names []string
		for n := range commands {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: report {%s} [flags]\n", strings.Join(names, "|"))
		os.Exit(2)
	}
	if err := commands[os.Args[1]](os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "report %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
