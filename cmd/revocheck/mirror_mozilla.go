package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/revocheck/revocheck/core/httpget"
	"github.com/revocheck/revocheck/core/mirror"
)

const mirrorMozillaUsage = `usage: revocheck mirror mozilla --out DIR [flags]

Pull Mozilla's CRLite filters (Remote Settings collection cert-revocations:
the newest full filter and its chain of deltas) and the CA intermediates
(collection intermediates), verify every attachment's size and SHA-256, and
write a tree that revocheck fetch and upki clients sync from:
DIR/manifest.json + filters, DIR/intermediates/manifest.json + XX.pem.
The CT log list (collection ct-logs, for policy.ct) goes to
DIR/ctlogs/ctlogs.json + manifest.json; a server without it is skipped.

Exit status: 0 done; 1 error (bad records, integrity failure, local I/O);
75 temporary failure (network, server error): try again later.

flags:
`

// cmdMirrorMozilla is `revocheck mirror mozilla`; its exit statuses are
// fetch's (fetchExit): 75 for temporary failures, 1 otherwise.
func cmdMirrorMozilla(args []string, stdout, stderr io.Writer) error {
	err := runMirrorMozilla(args, stdout, stderr)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &exitError{code: fetchExit(err), err: fmt.Errorf("error: %w", err)}
}

func runMirrorMozilla(args []string, stdout, stderr io.Writer) error {
	fs := newFlagsText("mirror mozilla", mirrorMozillaUsage, stderr)
	var (
		out     = fs.String("out", "", "output tree (required)")
		base    = fs.String("base-url", mirror.DefaultBaseURL, "Remote Settings base URL (…/v1)")
		attURL  = fs.String("attachments-url", "", "attachments base URL (default: from the server's capabilities)")
		channel = fs.String("channel", "default", "cert-revocations channel")
		noInter = fs.Bool("no-intermediates", false, "skip the intermediates collection")
		noCT    = fs.Bool("no-ct-logs", false, "skip the ct-logs collection (the CT log list policy.ct checks SCTs against)")
		comment = fs.String("comment", "revocheck mirror", "manifest comment")
		legacy  = fs.Bool("filters-key", false, `write manifests with "filters" instead of "files" (older upki clients)`)
		dl      downloadFlags
	)
	dl.register(fs, 30*time.Minute, "give up after this long", "print nothing on success")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &httpget.Error{Err: err}
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return &httpget.Error{Err: errors.New("mirror: --out is required (and no arguments)")}
	}
	if err := dl.check("mirror"); err != nil {
		return err
	}
	ctx, stop := dl.context()
	defer stop()
	c := dl.client()
	log := stdout
	if dl.quiet {
		log = io.Discard
	}
	res, err := mirror.Mirror(ctx, mirror.Options{
		BaseURL: *base, AttachmentsURL: *attURL, OutDir: *out, Channel: *channel,
		Intermediates: !*noInter, Comment: *comment, Client: c, Log: log, FiltersKey: *legacy,
		NoCTLogs: *noCT,
	})
	if err != nil {
		return httpget.Typed(err)
	}
	fmt.Fprintf(log, "mirror: %d filters (%d downloaded)", len(res.Filters), res.Downloaded)
	if !*noInter {
		fmt.Fprintf(log, ", %d intermediates in %d buckets", res.Intermediates, res.Buckets)
	}
	if res.CTLogs > 0 {
		fmt.Fprintf(log, ", %d CT logs", res.CTLogs)
	}
	fmt.Fprintf(log, " -> %s\n", *out)
	return nil
}
