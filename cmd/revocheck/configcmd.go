package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/revocheck/revocheck/core/config"
)

func cmdConfig(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("config", "[flags]\n\nPrints the effective configuration and where each value came from.", stderr)
	var cf configFlags
	cf.register(fs)
	cf.showsProblems = true
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	printConfigProblems(stdout, cfg, "")
	if len(cfg.Files) == 0 {
		fmt.Fprintln(stdout, "# no configuration file found; built-in defaults")
	}
	for _, f := range cfg.Files {
		fmt.Fprintf(stdout, "# read %s\n", f)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, e := range cfg.Effective() {
		fmt.Fprintf(tw, "%s\t= %q\t# %s\n", e.Key, e.Value, e.Source)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n := len(cfg.Problems); n > 0 {
		return fmt.Errorf("config: %d problem(s) in the configuration (listed first); those settings keep their defaults", n)
	}
	return nil
}

// printConfigProblems lists what the configuration could not set, first
// and loudly: each such setting silently keeps its default otherwise.
func printConfigProblems(w io.Writer, cfg *config.Config, indent string) {
	if len(cfg.Problems) == 0 {
		return
	}
	fmt.Fprintf(w, "%sCONFIGURATION PROBLEMS (those settings keep their built-in defaults; revocation checking stays on):\n", indent)
	for _, p := range cfg.Problems {
		fmt.Fprintf(w, "%s  %s\n", indent, p)
	}
}

func configProblemStrings(cfg *config.Config) []string {
	var out []string
	for _, p := range cfg.Problems {
		out = append(out, p.String())
	}
	return out
}
