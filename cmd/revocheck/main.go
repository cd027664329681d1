// Command revocheck is the command-line face of revocheck: check a
// certificate chain, inspect and verify the cache, build filters, sync the
// cache from a mirror, and run a mirror.
//
// Output rules: results go to stdout (one JSON object with --json),
// diagnostics to stderr prefixed "revocheck:", lowercase. Exit status is
// chosen in one place (main): 0 ok/allowed, 2 revoked or denied by policy,
// 1 error; fetch adds 65 (new data refused) and 75 (temporary failure).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/revocheck/revocheck/core/version"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"check":   {"check a certificate chain (PEM on stdin or files, or --connect host)", cmdCheck},
		"status":  {"show the cache, its coverage and freshness, and which adapters are active", cmdStatus},
		"verify":  {"verify the cache against its manifest, without network", cmdVerify},
		"inspect": {"identify a filter file (clubcard, legacy mlbf cascade or stash) and describe it", cmdInspect},
		"config":  {"print the effective configuration and where each value came from", cmdConfig},
		"filter":  {"build filters: `revocheck filter build --out DIR ...`", cmdFilter},
		"fetch":   {"sync the cache from a mirror", cmdFetch},
		"mirror":  {"build a mirror tree: `mirror mozilla` or `mirror crl`", cmdMirror},
		"serve":   {"serve a mirror tree over HTTP", cmdServe},
		"daemon":  {"answer the adapters' checks over a local socket (no Go runtime in each client)", cmdDaemon},
		"enable":  {"enable revocheck system-wide for a TLS stack: openssl, gnutls or nss", cmdEnable},
		"disable": {"undo `revocheck enable` for a TLS stack", cmdDisable},
		"version": {"print the version", func([]string, io.Writer, io.Writer) error { fmt.Println(version.Version); return nil }},
	}
}

// exitError carries an exit status other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// denied is the exit for "revoked, or denied by policy" (upki-compatible).
func denied() error { return &exitError{code: 2} }

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: revocheck <command> [flags]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\n`revocheck <command> --help` describes each command.\n")
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 1
		}
		return 0
	}
	if args[0] == "--version" {
		args[0] = "version"
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "revocheck: error: unknown command %q\n", args[0])
		usage(stderr)
		return 1
	}
	err := cmd.run(args[1:], stdout, stderr)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "revocheck: %s\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "revocheck: error: %s\n", err)
	return 1
}

// newFlags makes a FlagSet whose --help prints a usage line and the flags.
func newFlags(name, usageLine string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("revocheck "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: revocheck %s %s\n", name, usageLine)
		fs.PrintDefaults()
	}
	return fs
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// newFlagsText makes a FlagSet whose --help prints text (usage line,
// description, "flags:") and then the flags.
func newFlagsText(name, text string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("revocheck "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, text)
		fs.PrintDefaults()
	}
	return fs
}
