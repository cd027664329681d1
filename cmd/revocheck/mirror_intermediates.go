package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/revocheck/revocheck/core/crlcompile"
	"github.com/revocheck/revocheck/core/intermediates"
	"github.com/revocheck/revocheck/core/mirror"
)

const mirrorIntermediatesUsage = `usage: revocheck mirror intermediates --out DIR [options] CERT...

Publishes your own CA certificates (PEM bundles or DER files) as a set of
preloaded intermediates, the layout upki and revocheck fetch read:
DIR/intermediates/XX.pem buckets (XX = first byte of SHA-256(DER)),
DIR/intermediates/manifest.json, and the index revocheck's readers look
up, DIR/intermediates/subjects.idx. Only CA certificates (basicConstraints
cA = TRUE) are indexed; others are reported and left out of the index.

A TLS client whose server sends only its leaf then completes the chain
from this set, as Firefox does from Mozilla's: the certificates are
untrusted candidates, verified by the client as if the server had sent
them; trust still comes from the client's own roots.

Point DIR at a mirror tree to publish (clients sync it with revocheck
fetch --intermediates), or at a data directory (the cache, e.g.
/var/cache/revocheck/revocation) to use it directly. A cache whose
revocheck fetch also syncs intermediates gets the mirror's set instead.

options:
`

// cmdMirrorIntermediates is `revocheck mirror intermediates`.
func cmdMirrorIntermediates(args []string, stdout, stderr io.Writer) error {
	fs := newFlagsText("mirror intermediates", mirrorIntermediatesUsage, stderr)
	out := fs.String("out", "", "output `DIR` (mirror tree or data directory)")
	comment := fs.String("comment", "", "manifest comment")
	quiet := fs.Bool("quiet", false, "print nothing on success")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		fs.Usage()
		return errors.New("mirror intermediates: --out and at least one certificate file are required")
	}
	var ders [][]byte
	for _, f := range fs.Args() {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("mirror intermediates: %w", err)
		}
		certs, err := crlcompile.ParseCerts(data)
		if err != nil {
			return fmt.Errorf("mirror intermediates: %s: %w", f, err)
		}
		for _, c := range certs {
			ders = append(ders, c.Raw)
		}
	}
	start := time.Now()
	dir := filepath.Join(*out, intermediates.Dir)
	n, buckets, tree, err := mirror.WriteIntermediates(dir, ders, time.Now().Unix(), *comment, false)
	if err != nil {
		return err
	}
	for _, s := range tree.Skipped {
		fmt.Fprintf(stderr, "mirror intermediates: not indexed: certificate sha256 %x: %s\n", s.SHA256, s.Reason)
	}
	if tree.Certs == 0 {
		return errors.New("mirror intermediates: no CA certificate among them: nothing to complete chains with")
	}
	if !*quiet {
		fmt.Fprintf(stdout, "wrote %s: %d certificates in %d buckets; index of %d CA certificates, %d bytes, in %s\n",
			dir, n, buckets, tree.Certs, tree.Size, time.Since(start).Round(time.Millisecond))
	}
	return nil
}
