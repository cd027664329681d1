package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

func cmdConfig(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("config", "[flags]\n\nPrints the effective configuration and where each value came from.", stderr)
	var cf configFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
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
	return tw.Flush()
}
