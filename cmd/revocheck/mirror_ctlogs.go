package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/revocheck/revocheck/core/ctlog"
	"github.com/revocheck/revocheck/core/mapped"
)

const mirrorCTLogsUsage = `usage: revocheck mirror ctlogs --out DIR LIST.json

Builds the Certificate Transparency log list that policy.ct (off, report,
enforce) checks embedded SCTs against, from a log list in Google's v3 shape
(operators[] {name, logs[] {description, log_id, key, url, mmd, state}}, as
https://www.gstatic.com/ct/log_list/v3/log_list.json) or a Remote Settings
ct-logs records listing ({"data": [...]}, Mozilla's). Every log is checked:
its log_id is the SHA-256 of its key, the key is ECDSA P-256 or RSA.

Writes DIR/ctlogs/ctlogs.json and DIR/ctlogs/manifest.json. Point DIR at a
mirror tree to publish (revocheck fetch syncs it), or at a cache directory
to use directly.

options:
`

// cmdMirrorCTLogs is `revocheck mirror ctlogs`.
func cmdMirrorCTLogs(args []string, stdout, stderr io.Writer) error {
	fs := newFlagsText("mirror ctlogs", mirrorCTLogsUsage, stderr)
	out := fs.String("out", "", "output `DIR` (mirror tree or cache directory)")
	quiet := fs.Bool("quiet", false, "print nothing on success")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 1 {
		fs.Usage()
		return errors.New("mirror ctlogs: --out and one LIST.json are required")
	}
	src := fs.Arg(0)
	data, _, err := mapped.ReadFile(src, ctlog.MaxUpstreamSize)
	if err != nil {
		return fmt.Errorf("mirror ctlogs: %w", err)
	}
	l, err := ctlog.ParseUpstream(data, src)
	if err != nil {
		return fmt.Errorf("mirror ctlogs: %s: %w", src, err)
	}
	path, err := ctlog.WriteTree(*out, l, time.Now())
	if err != nil {
		return fmt.Errorf("mirror ctlogs: %w", err)
	}
	if !*quiet {
		fmt.Fprintf(stdout, "wrote %s: %d logs of %d operators\n", path, len(l.Logs), l.Operators())
	}
	return nil
}
